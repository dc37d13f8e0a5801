package interop;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Hello Internet server (spec/hello.md).
 *
 * <pre>HelloServer PORT [--challenge]</pre>
 *
 * <p>Accepts connections forever (HELLO-13). Each one is served on a pool thread, with a read
 * deadline, so a silent client never holds up the others (HELLO-14).
 */
public final class HelloServer {
    /** A client that sends nothing for this long is dropped. */
    static final int READ_TIMEOUT_MILLIS = 10_000;
    /**
     * Clients served at once; more wait in the queue. Bounded because every thread counts
     * against the container's process limit (128, spec/manifest.md MANIFEST-15).
     */
    static final int WORKERS = 32;

    private final boolean challenge;

    HelloServer(boolean challenge) {
        this.challenge = challenge;
    }

    public static void main(String[] args) {
        boolean challenge = args.length == 2 && args[1].equals("--challenge");
        if (args.length != 1 && !challenge) {
            System.err.println("usage: HelloServer PORT [--challenge]");
            System.exit(2);
        }
        HelloServer server = new HelloServer(challenge);
        ServerSocket listener;
        try {
            listener = new ServerSocket();
            listener.setReuseAddress(true);
            listener.bind(new InetSocketAddress(Integer.parseInt(args[0])), 128); // all addresses (HELLO-10)
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("hello server: cannot listen on port " + args[0] + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
        while (true) {
            try {
                Socket client = listener.accept();
                workers.execute(() -> server.serve(client));
            } catch (IOException e) { // e.g. out of file descriptors: keep serving (HELLO-13)
                System.err.println("hello server: accept: " + e.getMessage());
                sleepQuietly(100);
            }
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads one message, prints it, replies and closes (HELLO-11, HELLO-12). */
    void serve(Socket client) {
        String peer = client.getInetAddress().getHostAddress();
        try (client) {
            String message = HelloProtocol.readMessage(client, READ_TIMEOUT_MILLIS);
            if (message == null) {
                System.err.println("hello server: " + peer + " closed without a message");
                return;
            }
            // Printed before replying, so it is on stdout once the client has its reply.
            synchronized (HelloProtocol.STDOUT) { // one client's lines stay together
                if (challenge) {
                    HelloProtocol.STDOUT.println(peer); // HELLO-21
                }
                HelloProtocol.STDOUT.println(HelloProtocol.text(message)); // HELLO-11, HELLO-15
            }
            String reply = challenge ? challengeReply(message) : "Goodbye in " + HelloProtocol.LANGUAGE; // HELLO-4
            client.getOutputStream().write((reply + "\n").getBytes(StandardCharsets.UTF_8));
            closeGently(client);
        } catch (SocketTimeoutException e) {
            System.err.println("hello server: " + peer + " sent nothing for " + READ_TIMEOUT_MILLIS / 1000 + " s");
        } catch (IOException e) {
            System.err.println("hello server: " + peer + ": " + e);
        }
    }

    /**
     * The challenge reply (HELLO-20): "Hello in Rust" gives "Goodbye Rust from Java". The
     * message is read leniently, as the reference does: runs of whitespace count as one space
     * and "Hello in" is matched ignoring case. Any other message is echoed whole, so a client
     * that says something else sees what it sent.
     */
    static String challengeReply(String message) {
        List<String> words = HelloProtocol.words(message);
        if (words.size() >= 3 && words.get(0).equalsIgnoreCase("Hello") && words.get(1).equalsIgnoreCase("in")) {
            words = words.subList(2, words.size());
        }
        String from = "from " + HelloProtocol.LANGUAGE;
        return words.isEmpty() ? "Goodbye " + from : "Goodbye " + String.join(" ", words) + " " + from;
    }

    /**
     * Sends FIN, then reads what the client may still send until it closes too (at most one
     * idle gap). Closing a socket with unread input makes the kernel send a reset, which can
     * destroy the reply before the client has read it.
     */
    private static void closeGently(Socket client) throws IOException {
        client.shutdownOutput();
        client.setSoTimeout(HelloProtocol.IDLE_GAP_MILLIS);
        InputStream in = client.getInputStream();
        byte[] sink = new byte[4096];
        try {
            while (in.read(sink) >= 0) {
                // discard
            }
        } catch (SocketTimeoutException e) {
            // the client keeps the connection open: close it anyway
        }
    }
}
