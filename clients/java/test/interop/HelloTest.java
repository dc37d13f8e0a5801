package interop;

import static interop.Check.equal;
import static interop.Check.isTrue;
import static interop.Check.test;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Tests of the lenient message reader and the challenge reply. */
final class HelloTest {
    private HelloTest() {}

    static void run() {
        test("a line ends at '\\n', the rest is ignored", () ->
                equal("Hello in C\r", exchange("Hello in C\r\nextra", false, 0), "message"));
        test("text drops whitespace, CR and NUL padding", () -> {
            equal("Hello in C", HelloProtocol.text(" Hello in C\r"), "CR");
            equal("Hello in C", HelloProtocol.text("Hello in C\0\0\0"), "NUL");
            equal("Hello  in Go", HelloProtocol.text("\tHello  in Go \n"), "inner spaces stay");
        });
        test("no newline: ended by half-close", () ->
                equal("Hello in Rust", exchange("Hello in Rust", true, 0), "message"));
        test("no newline: ended by an idle gap", () -> {
            long start = System.nanoTime();
            equal("Hello in Go", exchange("Hello in Go", false, 0), "message");
            long millis = (System.nanoTime() - start) / 1_000_000;
            isTrue(millis >= 900 && millis < 6000, "idle gap took " + millis + " ms");
        });
        test("UTF-8 survives", () -> equal("Hello in C♯", exchange("Hello in C♯\n", false, 0), "message"));
        test("empty line is a message, a bare close is not", () -> {
            equal("", exchange("\n", false, 0), "empty line");
            equal(null, exchange("", true, 0), "bare close");
        });
        test("a silent peer times out", () -> {
            try {
                exchange("", false, 300);
                throw new AssertionError("no timeout");
            } catch (SocketTimeoutException expected) {
                // good
            }
        });
        test("challenge reply names the client's language", () -> {
            equal("Goodbye Rust from Java", HelloServer.challengeReply("Hello in Rust"), "plain");
            equal("Goodbye C++ from Java", HelloServer.challengeReply("  hello  IN C++ \0\r"), "lenient");
            equal("Goodbye Visual Basic from Java", HelloServer.challengeReply("Hello in Visual Basic"), "two words");
            equal("Goodbye Bonjour from Java", HelloServer.challengeReply(" Bonjour "), "no match");
            equal("Goodbye from Java", HelloServer.challengeReply(" "), "empty");
        });
    }

    /**
     * Sends {@code text} from a loopback client (then half-closes if asked) and returns what
     * {@link HelloProtocol#readMessage} makes of it on the server side.
     */
    private static String exchange(String text, boolean halfClose, long timeoutMillis) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket client = new Socket(listener.getInetAddress(), listener.getLocalPort());
                Socket server = listener.accept()) {
            OutputStream out = client.getOutputStream();
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
            if (halfClose) {
                client.shutdownOutput();
            }
            return HelloProtocol.readMessage(server, timeoutMillis > 0 ? timeoutMillis : 5000);
        }
    }
}
