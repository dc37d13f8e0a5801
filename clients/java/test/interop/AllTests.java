package interop;

/** Runs every test; exits 1 if one fails. Run at image build time (see the Dockerfile). */
public final class AllTests {
    private AllTests() {}

    public static void main(String[] args) {
        RudpTest.run();
        HelloTest.run();
        Check.exit("java tests");
    }
}
