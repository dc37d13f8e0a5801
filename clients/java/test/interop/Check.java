package interop;

import java.util.Arrays;
import java.util.Objects;

/**
 * A tiny test harness, because the base image has no JUnit: {@link #test} runs one named
 * case and records a failure instead of stopping, {@link #exit} ends with status 1 if any
 * case failed.
 */
final class Check {
    interface Body {
        void run() throws Exception;
    }

    private static int passed;
    private static int failed;

    private Check() {}

    static void test(String name, Body body) {
        long start = System.nanoTime();
        try {
            body.run();
            passed++;
            System.err.printf("ok   %s (%d ms)%n", name, (System.nanoTime() - start) / 1_000_000);
        } catch (Throwable e) {
            failed++;
            System.err.println("FAIL " + name + ": " + e);
        }
    }

    static void equal(Object want, Object got, String what) {
        boolean same = want instanceof byte[] w && got instanceof byte[] g
                ? Arrays.equals(w, g)
                : Objects.equals(want, got);
        if (!same) {
            throw new AssertionError(what + ": want " + show(want) + ", got " + show(got));
        }
    }

    static void isTrue(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    static void exit(String suite) {
        System.err.printf("%s: %d passed, %d failed%n", suite, passed, failed);
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }

    private static String show(Object o) {
        return o instanceof byte[] b ? Arrays.toString(b) : String.valueOf(o);
    }
}
