package interop;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Timer;
import java.util.TimerTask;

/**
 * Hello Internet client (spec/hello.md).
 *
 * <pre>HelloClient HOST PORT</pre>
 *
 * <p>Connects, sends {@code Hello in Java\n}, prints the server's reply and exits 0; on any
 * failure it prints what went wrong on stderr and exits 1 (HELLO-8).
 */
public final class HelloClient {
    /** Connecting plus the whole exchange must fit in this (HELLO-8). */
    static final int TIMEOUT_MILLIS = 10_000;
    /**
     * When to half-close if no reply has begun: a conforming server answers within its idle
     * gap (at most 2 s, HELLO-2), so this only ever rescues servers that wait for EOF.
     */
    static final int HALF_CLOSE_DELAY_MILLIS = 3_000;

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: HelloClient HOST PORT");
            System.exit(2);
        }
        String host = args[0];
        String where = host + ":" + args[1];
        long deadline = System.nanoTime() + TIMEOUT_MILLIS * 1_000_000L;
        try (Socket socket = new Socket()) {
            // A host name is resolved here, not only IP addresses (HELLO-5).
            InetSocketAddress server = new InetSocketAddress(host, Integer.parseInt(args[1]));
            if (server.isUnresolved()) {
                fail("could not resolve host " + host);
            }
            try {
                socket.connect(server, TIMEOUT_MILLIS);
            } catch (SocketTimeoutException e) {
                fail("could not connect to " + where + " within " + TIMEOUT_MILLIS / 1000 + " s");
            }
            // Strict: exactly one line ending in '\n', written at once (HELLO-1, HELLO-3).
            OutputStream out = socket.getOutputStream();
            out.write(("Hello in " + HelloProtocol.LANGUAGE + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            // Lenient: the reply may end with '\n', the server's close or a pause (HELLO-6).
            Timer halfClose = new Timer("half-close", true);
            halfClose.schedule(shutdownOutput(socket), HALF_CLOSE_DELAY_MILLIS);
            String reply;
            try {
                reply = HelloProtocol.readMessage(socket, (deadline - System.nanoTime()) / 1_000_000);
            } finally {
                halfClose.cancel();
            }
            if (reply == null) {
                fail("server " + where + " closed the connection without replying");
            }
            HelloProtocol.STDOUT.println(HelloProtocol.text(reply)); // HELLO-7, HELLO-15
        } catch (IllegalArgumentException e) { // not a number, or not in 0..65535
            fail("bad port " + args[1] + ": " + e.getMessage());
        } catch (ConnectException e) {
            fail("could not connect to " + where + ": " + e.getMessage());
        } catch (SocketTimeoutException e) {
            fail("no reply from " + where + " within " + TIMEOUT_MILLIS / 1000 + " s");
        } catch (IOException e) {
            fail("talking to " + where + ": " + e);
        }
        System.exit(0);
    }

    /**
     * A TCP half-close: the server reads EOF, and can still reply. Not done at once, because
     * some servers take EOF for "client gone" and skip the reply.
     */
    private static TimerTask shutdownOutput(Socket socket) {
        return new TimerTask() {
            @Override
            public void run() {
                try {
                    socket.shutdownOutput();
                } catch (IOException e) {
                    // the connection is already closing: nothing to rescue
                }
            }
        };
    }

    private static void fail(String message) {
        System.err.println("hello client: " + message);
        System.exit(1);
    }
}
