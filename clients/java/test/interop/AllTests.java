package interop;

import java.nio.file.Path;

/**
 * Runs every test; exits 1 if one fails. Run at image build time (see the Dockerfile).
 *
 * <pre>AllTests [VECTORS_DIR]</pre>
 *
 * <p>VECTORS_DIR holds the suite's datagrams.json and receiver.json: {@code test/vectors}
 * (copies, the default) or {@code ../../spec/vectors} (the originals).
 */
public final class AllTests {
    private AllTests() {}

    public static void main(String[] args) {
        RudpTest.run();
        VectorsTest.run(Path.of(args.length > 0 ? args[0] : "test/vectors"));
        HelloTest.run();
        Check.exit("java tests");
    }
}
