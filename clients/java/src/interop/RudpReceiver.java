package interop;

import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reliable file receiver over UDP (spec/rudp.md).
 *
 * <pre>RudpReceiver [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d] [-o DIR]</pre>
 *
 * <p>One thread serves every sender: a datagram from a new source address that is a
 * {@code start} opens a transfer, and each transfer writes {@code <ip>.<port>.partial} in the
 * output directory (default: the working directory), renamed to {@code <ip>.<port>} when the
 * {@code end} packet has been written in order. Runs until killed.
 */
public final class RudpReceiver {
    static final int DEFAULT_PORT = 33122;
    /** Open transfers at most, so a flood of starts cannot exhaust file descriptors. */
    static final int MAX_TRANSFERS = 256;

    /** The state of one sender's transfer, keyed by its ip:port (RUDP-10). */
    private static final class Transfer {
        final Rudp.Packet start;
        final Path partial;
        final Path complete;
        OutputStream out; // null once the transfer is complete
        long next; // the next seqno to write, as acked
        /** Out-of-order packets inside the window, by seqno, ascending (RUDP-12, RUDP-31). */
        final TreeMap<Long, Rudp.Packet> held = new TreeMap<>(Long::compareUnsigned);
        long lastHeard;

        Transfer(Rudp.Packet start, Path dir, String name) throws IOException {
            this.start = start;
            this.next = start.seqno();
            this.partial = dir.resolve(name + ".partial");
            this.complete = dir.resolve(name);
            // Unbuffered: one write per packet is cheap, and the .partial file always holds
            // everything delivered so far.
            this.out = Files.newOutputStream(partial);
        }

        boolean isComplete() {
            return out == null;
        }

        /** A start with the same seqno and data as ours is a retransmission of it (RUDP-18). */
        boolean isSameStart(Rudp.Packet p) {
            return p.seqno() == start.seqno() && Arrays.equals(p.data(), start.data());
        }
    }

    private final Path dir;
    private final long timeoutNanos;
    private final boolean sack;
    private final boolean debug;
    private final Map<SocketAddress, Transfer> transfers = new HashMap<>();

    RudpReceiver(Path dir, long timeoutNanos, boolean sack, boolean debug) {
        this.dir = dir;
        this.timeoutNanos = timeoutNanos;
        this.sack = sack;
        this.debug = debug;
    }

    public static void main(String[] args) {
        int port = DEFAULT_PORT;
        double timeout = 10;
        boolean sack = false, debug = false;
        Path dir = Path.of("");
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "-p" -> port = Integer.parseInt(args[++i]);
                    case "-t" -> timeout = Double.parseDouble(args[++i]);
                    case "-k" -> sack = true;
                    case "-d" -> debug = true;
                    case "-o" -> dir = Path.of(args[++i]);
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (port < 0 || port > 65535 || !(timeout > 0)) {
                throw new IllegalArgumentException("bad port or timeout");
            }
        } catch (RuntimeException e) { // bad number, missing value, unknown option
            System.err.println("usage: RudpReceiver [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d] [-o DIR]: "
                    + e.getMessage());
            System.exit(2);
        }
        // Binds all addresses (RUDP-61).
        try (DatagramSocket socket = new DatagramSocket(port)) {
            // Stopped by SIGTERM or SIGINT, a receiver exits 0 (RUDP-61); the JVM would say
            // 143 or 130, "killed by a signal". Nothing needs saving: every packet is written
            // to its .partial file as it is delivered.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> Runtime.getRuntime().halt(0)));
            new RudpReceiver(dir, (long) (timeout * 1e9), sack, debug).serve(socket);
        } catch (IOException e) {
            System.err.println("rudp receiver: " + e);
            Runtime.getRuntime().halt(1); // not System.exit: the shutdown hook would make it 0
        }
    }

    /** Receives and answers datagrams forever. */
    void serve(DatagramSocket socket) throws IOException {
        byte[] buffer = new byte[65536]; // any datagram fits, so oversized ones can be refused
        socket.setSoTimeout(200); // wake up now and then to drop idle transfers
        while (true) {
            DatagramPacket datagram = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(datagram);
            } catch (SocketTimeoutException e) {
                dropIdle(System.nanoTime());
                continue;
            }
            long now = System.nanoTime();
            dropIdle(now); // first, so that no packet reaches an overdue transfer (RUDP-15)
            byte[] ack = handle(datagram.getSocketAddress(), buffer, datagram.getLength(), now);
            if (ack != null) {
                try {
                    socket.send(new DatagramPacket(ack, ack.length, datagram.getSocketAddress()));
                } catch (IOException e) { // like a lost ack: the sender retransmits
                    log("send failed: %s", e);
                }
            }
        }
    }

    /**
     * Handles one datagram from {@code from} that arrived at {@code now} (System.nanoTime);
     * returns the ack to send back, or null.
     */
    byte[] handle(SocketAddress from, byte[] buffer, int length, long now) {
        Rudp.Packet p;
        try {
            p = Rudp.parse(buffer, length);
        } catch (Rudp.BadDatagram e) { // dropped silently, never acked (RUDP-8)
            log("drop datagram from %s: %s", show(from), e.getMessage());
            return null;
        }
        if (p.type().equals(Rudp.ACK) || p.type().equals(Rudp.SACK)) {
            log("drop %s from %s: a receiver takes no acks", p.type(), show(from));
            return null;
        }
        Transfer t = transfers.get(from);
        try {
            if (p.type().equals(Rudp.START) && (t == null || !t.isSameStart(p))) {
                // A start with a new seqno or new data begins a new transfer, replacing this
                // address's old one, complete or not (RUDP-11, RUDP-18).
                if (t == null && transfers.size() >= MAX_TRANSFERS) {
                    log("drop start from %s: already %d transfers", show(from), MAX_TRANSFERS);
                    return null;
                }
                if (t != null && !t.isComplete()) {
                    t.out.close(); // abandoned; the new transfer truncates the .partial
                }
                t = new Transfer(p, dir, fileName(from));
                transfers.put(from, t);
                log("%s: new transfer from seqno %s", show(from), Long.toUnsignedString(p.seqno()));
            }
            if (t == null) { // a transfer begins with start (RUDP-11)
                log("drop %s|%s from %s: no transfer", p.type(), Long.toUnsignedString(p.seqno()), show(from));
                return null;
            }
            t.lastHeard = now;
            if (!t.isComplete()) {
                accept(t, p);
            }
        } catch (IOException e) {
            System.err.println("rudp receiver: " + show(from) + ": cannot write output, transfer dropped: " + e);
            transfers.remove(from);
            return null;
        }
        // Every valid packet of a transfer is answered with the next expected seqno (RUDP-13),
        // also after completion (RUDP-17); with SACK, the held seqnos too (RUDP-31).
        return sack ? Rudp.encodeSack(t.next, t.held.keySet()) : Rudp.encodeAck(t.next);
    }

    /** Writes {@code p} if it is next, holds it if it is inside the window (RUDP-12, RUDP-14). */
    private void accept(Transfer t, Rudp.Packet p) throws IOException {
        long ahead = p.seqno() - t.next; // unsigned distance from the next expected seqno
        if (p.seqno() == -1L) {
            // 2^64-1 can never be delivered: the ack after it would not fit in 64 bits (RUDP-3).
            log("drop seqno 2^64-1");
        } else if (ahead == 0) {
            write(t, p);
            for (Rudp.Packet q; !t.isComplete() && (q = t.held.remove(t.next)) != null; ) {
                write(t, q);
            }
        } else if (Long.compareUnsigned(ahead, Rudp.WINDOW) < 0) {
            t.held.putIfAbsent(p.seqno(), p);
        } else {
            log("drop %s|%s: outside window from %s", p.type(), Long.toUnsignedString(p.seqno()),
                    Long.toUnsignedString(t.next));
        }
    }

    /** Writes the next packet; after {@code end}, the file is closed and renamed BEFORE the ack. */
    private void write(Transfer t, Rudp.Packet p) throws IOException {
        t.out.write(p.data());
        t.next++;
        if (p.type().equals(Rudp.END)) {
            t.out.close();
            t.out = null;
            t.held.clear();
            Files.move(t.partial, t.complete, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            log("complete: %s", t.complete);
        }
    }

    /** Forgets transfers idle for the timeout; unfinished ones stay as .partial (RUDP-15). */
    void dropIdle(long now) {
        for (Iterator<Map.Entry<SocketAddress, Transfer>> it = transfers.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<SocketAddress, Transfer> e = it.next();
            Transfer t = e.getValue();
            if (now - t.lastHeard < timeoutNanos) {
                continue;
            }
            it.remove();
            if (!t.isComplete()) {
                try {
                    t.out.close();
                } catch (IOException ignored) {
                    // the .partial file is incomplete anyway
                }
                System.err.println("rudp receiver: " + show(e.getKey()) + ": idle, transfer dropped, left " + t.partial);
            }
        }
    }

    /**
     * {@code <ip>.<port>} like the course receiver, e.g. {@code 172.18.0.3.40000}: built only
     * from the source address, never from packet content, so nothing on the wire can name a
     * file (RUDP-16). IPv6 colons become '_'.
     */
    static String fileName(SocketAddress from) {
        InetSocketAddress a = (InetSocketAddress) from;
        String name = a.getAddress().getHostAddress() + "." + a.getPort();
        return name.replaceAll("[^A-Za-z0-9.-]", "_");
    }

    /** "172.18.0.3:40000", for messages. */
    private static String show(SocketAddress from) {
        InetSocketAddress a = (InetSocketAddress) from;
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    private void log(String format, Object... args) {
        if (debug) {
            System.err.printf("rudp receiver: " + format + "%n", args);
        }
    }
}
