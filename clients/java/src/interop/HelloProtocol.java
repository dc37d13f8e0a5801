package interop;

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** What the Hello client and server share (spec/hello.md). */
final class HelloProtocol {
    static final String LANGUAGE = "Java";
    /** The peer may pause this long after its last byte before its message counts as ended. */
    static final int IDLE_GAP_MILLIS = 1000;
    /** Longer messages are cut here: nobody's language is 64 KiB long. */
    static final int MAX_MESSAGE = 64 * 1024;

    /**
     * Standard output in UTF-8 with a flush on every println. Java 17 would otherwise encode
     * with the locale, which in a container is ASCII and turns "Hello in C♯" into "C?".
     */
    static final PrintStream STDOUT =
            new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);

    private HelloProtocol() {}

    /**
     * Reads one message leniently (HELLO-2, HELLO-6): up to the first '\n', or until the peer
     * half-closes, or until it has sent something and then paused for {@link #IDLE_GAP_MILLIS}.
     * Returns the message as received, without its '\n', or null if the peer closed without
     * sending anything; {@link #text} trims it.
     *
     * @throws SocketTimeoutException if nothing at all arrived within {@code timeoutMillis}
     */
    static String readMessage(Socket socket, long timeoutMillis) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        byte[] chunk = new byte[4096];
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        boolean received = false;
        while (message.size() < MAX_MESSAGE) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                if (!received) {
                    throw new SocketTimeoutException("no message within " + timeoutMillis + " ms");
                }
                break;
            }
            // Before the first byte wait for the whole timeout, afterwards only for the gap.
            socket.setSoTimeout((int) Math.max(1, received ? Math.min(left, IDLE_GAP_MILLIS) : left));
            int n;
            try {
                n = in.read(chunk, 0, Math.min(chunk.length, MAX_MESSAGE - message.size()));
            } catch (SocketTimeoutException e) {
                if (!received) {
                    throw e;
                }
                break; // idle gap after some bytes: the message is complete
            } catch (SocketException e) {
                if (!received) {
                    throw e;
                }
                // A peer that closes with unread input resets the connection; what it sent
                // before the reset is intact.
                break;
            }
            if (n < 0) {
                break; // end of stream: the peer half-closed or closed
            }
            received = true;
            int newline = indexOf(chunk, n, (byte) '\n');
            if (newline >= 0) {
                message.write(chunk, 0, newline);
                break;
            }
            message.write(chunk, 0, n);
        }
        if (!received) {
            return null;
        }
        return message.toString(StandardCharsets.UTF_8);
    }

    /**
     * The text of a message: without leading and trailing whitespace, '\r' and NUL bytes,
     * which receivers tolerate (HELLO-15). C programs that send their whole buffer pad the
     * message with NULs.
     */
    static String text(String raw) {
        int from = 0;
        int to = raw.length();
        while (from < to && isBlank(raw.charAt(from))) {
            from++;
        }
        while (to > from && isBlank(raw.charAt(to - 1))) {
            to--;
        }
        return raw.substring(from, to);
    }

    /** The words of a message, split at runs of whitespace and NUL bytes. */
    static List<String> words(String raw) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (char c : (raw + " ").toCharArray()) {
            if (!isBlank(c)) {
                word.append(c);
            } else if (word.length() > 0) {
                words.add(word.toString());
                word.setLength(0);
            }
        }
        return words;
    }

    private static boolean isBlank(char c) {
        return c == 0 || Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    private static int indexOf(byte[] b, int length, byte c) {
        for (int i = 0; i < length; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }
}
