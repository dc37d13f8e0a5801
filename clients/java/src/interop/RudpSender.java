package interop;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Reliable file sender over UDP (spec/rudp.md).
 *
 * <pre>RudpSender -a HOST -p PORT [-f FILE] [-k] [-d] [-g GIVE_UP_SECONDS]</pre>
 *
 * <p>One thread, one socket: send what the window allows, then wait for an ack until the
 * retransmission timer expires. Packets are numbered by index 0..n-1 internally; the seqno on
 * the wire is {@code first + index}.
 */
public final class RudpSender {
    /** By default, give up after this long without the cumulative ack moving (RUDP-44). */
    static final double GIVE_UP_SECONDS = 60;
    /** Fast retransmit on the 3rd duplicate ack, i.e. the 4th identical one (RUDP-42). */
    static final int DUP_ACK_THRESHOLD = 3;

    /** One packet of the transfer: its type and its slice of the file. */
    record Chunk(String type, int offset, int length) {}

    private final byte[] file;
    private final List<Chunk> chunks;
    private final long first;
    private final boolean sack;
    private final boolean debug;
    private final DatagramSocket socket;
    private final InetSocketAddress peer;
    private final long giveUpNanos;

    private final RtoEstimator rto = new RtoEstimator();
    private final long[] firstSentAt; // for RTT samples
    private final long[] lastSentAt; // for telling old losses from copies still on their way
    private final BitSet resent = new BitSet(); // ever retransmitted: Karn's rule
    private final BitSet sacked = new BitSet(); // held by the receiver out of order (RUDP-32)
    private boolean gotSacks; // with -k, whether the receiver does answer with sacks
    private int acked; // packets [0, acked) are cumulatively acked
    private int sent; // packets [0, sent) have been sent at least once
    private int dupAcks; // identical acks in a row after the first (RUDP-42)
    private boolean heardSinceTimeout; // any valid ack since the last timeout
    private long deadline; // retransmission timer, in System.nanoTime(); runs while acked < sent
    private long lastAckAt; // when the last valid ack arrived
    private long recheckAt = Long.MAX_VALUE; // when a suspect copy will be old enough to judge
    private boolean probed; // a tail loss probe was sent since the last progress
    private long lastProgress;
    private int transmissions;

    RudpSender(byte[] file, long first, boolean sack, boolean debug, DatagramSocket socket,
            InetSocketAddress peer, long giveUpNanos) {
        this.file = file;
        this.chunks = split(file.length, first);
        this.first = first;
        this.sack = sack;
        this.debug = debug;
        this.socket = socket;
        this.peer = peer;
        this.giveUpNanos = giveUpNanos;
        this.firstSentAt = new long[chunks.size()];
        this.lastSentAt = new long[chunks.size()];
    }

    public static void main(String[] args) {
        String host = null, path = null;
        int port = -1;
        boolean sack = false, debug = false;
        double giveUp = GIVE_UP_SECONDS;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "-a" -> host = args[++i];
                    case "-p" -> port = Integer.parseInt(args[++i]);
                    case "-f" -> path = args[++i];
                    case "-k" -> sack = true;
                    case "-d" -> debug = true;
                    case "-g" -> giveUp = Double.parseDouble(args[++i]);
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (host == null || port < 1 || port > 65535 || !(giveUp > 0)) {
                throw new IllegalArgumentException("need -a HOST and -p PORT");
            }
        } catch (RuntimeException e) { // bad number, missing value, unknown option
            System.err.println("usage: RudpSender -a HOST -p PORT [-f FILE] [-k] [-d] [-g GIVE_UP_SECONDS]: "
                    + e.getMessage());
            System.exit(2);
        }
        byte[] data = null;
        try {
            // The file comes from -f or stdin (RUDP-60); it is read whole, which is fine for
            // the files of a course (a 512 MiB container holds a few hundred MiB).
            data = path == null ? System.in.readAllBytes() : Files.readAllBytes(Path.of(path));
        } catch (IOException e) {
            System.err.println("rudp sender: cannot read " + (path == null ? "stdin" : path) + ": " + e);
            System.exit(1);
        }
        try {
            InetSocketAddress peer = new InetSocketAddress(InetAddress.getByName(host), port);
            // The sender picks the first seqno (RUDP-7); a random one keeps a restarted
            // transfer apart from a stale one. Small enough never to wrap.
            long first = new SecureRandom().nextInt(1 << 30);
            try (DatagramSocket socket = new DatagramSocket()) {
                RudpSender sender = new RudpSender(data, first, sack, debug, socket, peer, (long) (giveUp * 1e9));
                System.exit(sender.run() ? 0 : 1);
            }
        } catch (UnknownHostException e) {
            System.err.println("rudp sender: could not resolve host " + host);
        } catch (IOException e) {
            System.err.println("rudp sender: " + e);
        }
        System.exit(1);
    }

    /**
     * Cuts the file into packets as large as a 1472-byte datagram allows (RUDP-2, RUDP-46):
     * {@code start} first with the first chunk, then {@code data}, and {@code end} last with
     * whatever is left, possibly nothing (RUDP-7). An empty file is an empty start and an
     * empty end.
     */
    static List<Chunk> split(int size, long first) {
        List<Chunk> chunks = new ArrayList<>();
        int offset = Math.min(size, Rudp.MAX_DATAGRAM - Rudp.overhead(Rudp.START, first));
        chunks.add(new Chunk(Rudp.START, 0, offset));
        while (true) {
            long seqno = first + chunks.size();
            int left = size - offset;
            if (left <= Rudp.MAX_DATAGRAM - Rudp.overhead(Rudp.END, seqno)) {
                chunks.add(new Chunk(Rudp.END, offset, left));
                return chunks;
            }
            int length = Rudp.MAX_DATAGRAM - Rudp.overhead(Rudp.DATA, seqno);
            chunks.add(new Chunk(Rudp.DATA, offset, length));
            offset += length;
        }
    }

    /** Runs the transfer; true once {@code end} is acked (RUDP-45), false after giving up. */
    boolean run() throws IOException {
        int n = chunks.size();
        lastProgress = System.nanoTime();
        byte[] buffer = new byte[2048]; // longer than any valid datagram, so those are seen
        while (acked < n) {
            // Never more than WINDOW packets at or beyond the cumulative ack (RUDP-40). Start
            // goes alone: a receiver drops whatever arrives before it (RUDP-11).
            int window = acked == 0 ? 1 : Rudp.WINDOW;
            while (sent < n && sent < acked + window) {
                boolean idle = acked == sent;
                transmit(sent, "new");
                firstSentAt[sent] = lastSentAt[sent];
                sent++;
                if (idle) { // the first packet in flight starts the timer (RFC 6298 5.1)
                    deadline = System.nanoTime() + rto.rto();
                }
            }
            long now = System.nanoTime();
            if (now - lastProgress > giveUpNanos) { // RUDP-44
                System.err.printf("rudp sender: giving up: no ack progress for %.0f s (%d of %d packets acked)%n",
                        giveUpNanos / 1e9, acked, n);
                return false;
            }
            if (now >= deadline) {
                onTimeout();
                continue;
            }
            if (now >= recheckAt) {
                recheckAt = Long.MAX_VALUE;
                repairFromAcks();
                continue;
            }
            long probeAt = probeAt();
            if (now >= probeAt) {
                probed = true;
                retransmit(acked, "tail loss probe");
                continue;
            }
            long wake = Math.min(deadline, Math.min(recheckAt, probeAt));
            socket.setSoTimeout((int) Math.max(1, (wake - now) / 1_000_000));
            DatagramPacket datagram = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(datagram);
            } catch (SocketTimeoutException e) {
                continue;
            }
            if (!datagram.getSocketAddress().equals(peer)) {
                log("ignore datagram from %s", datagram.getSocketAddress());
                continue;
            }
            try {
                onAck(Rudp.parse(buffer, datagram.getLength()));
            } catch (Rudp.BadDatagram e) { // dropped, like any corrupt datagram (RUDP-8)
                log("drop datagram: %s", e.getMessage());
            }
        }
        log("done: %d packets, %d transmissions, srtt %.1f ms, rto %d ms", n, transmissions,
                rto.srtt() / 1e6, rto.rto() / 1_000_000);
        return true;
    }

    private void onAck(Rudp.Packet p) {
        if (!p.type().equals(Rudp.ACK) && !p.type().equals(Rudp.SACK)) {
            return;
        }
        // The ack carries the next seqno the receiver expects (RUDP-13). One below our
        // cumulative ack is stale (reordered); one beyond what we sent is bogus.
        long index = p.seqno() - first;
        if (Long.compareUnsigned(p.seqno(), first) < 0 || index < acked || index > sent) {
            log("ignore %s|%s", p.type(), Long.toUnsignedString(p.seqno()));
            return;
        }
        heardSinceTimeout = true;
        lastAckAt = System.nanoTime();
        if (index > acked) {
            onProgress((int) index);
        } else if (acked < sent) {
            dupAcks++;
        }
        if (acked == chunks.size()) {
            return; // end is acked (RUDP-45)
        }
        if (sack && p.type().equals(Rudp.SACK)) {
            gotSacks = true;
            for (long seqno : p.sacks()) {
                long i = seqno - first;
                if (Long.compareUnsigned(seqno, first) >= 0 && i > acked && i < sent) {
                    sacked.set((int) i);
                }
            }
        }
        repairFromAcks();
    }

    /**
     * Resends what the acks show to be lost, without waiting for the timer. The evidence for
     * a packet is the packets above it known to have arrived: with SACK the held ones below
     * which it is a hole (RUDP-32); otherwise, for the oldest unacked packet, the duplicate
     * acks (also with -k if the receiver sends plain acks, RUDP-30). Held packets are never
     * resent.
     */
    private void repairFromAcks() {
        if (!gotSacks) {
            if (dupAcks > 0) {
                repairIfLost(acked, dupAcks, dupAcks + " duplicate acks");
            }
            return;
        }
        int heldAbove = 0;
        for (int i = sent - 1; i >= acked; i--) {
            if (sacked.get(i)) {
                heldAbove++;
            } else if (heldAbove > 0) {
                repairIfLost(i, heldAbove, "hole below " + heldAbove + " held");
            }
        }
    }

    /** The cumulative ack moved from {@code acked} to {@code cum}. */
    private void onProgress(int cum) {
        long now = System.nanoTime();
        // Karn's rule: no sample if any newly acked packet was ever retransmitted. Timing the
        // oldest of them errs on the long side, the safe side for a timeout.
        int firstResent = resent.nextSetBit(acked);
        if (firstResent < 0 || firstResent >= cum) {
            rto.sample(now - firstSentAt[acked]);
        } else {
            rto.resetBackoff();
        }
        acked = cum;
        dupAcks = 0;
        probed = false;
        recheckAt = Long.MAX_VALUE;
        lastProgress = now;
        deadline = now + rto.rto(); // restart the timer for what is still in flight (RFC 6298 5.3)
        log("ack %d: %d of %d acked, rto %d ms", first + cum, cum, chunks.size(), rto.rto() / 1_000_000);
    }

    /**
     * Resends packet {@code i}, which has {@code evidence} packets above it known to have
     * arrived, if that shows it is lost:
     * <ul>
     *   <li>3 of them, and {@code i} was sent only once: the classic fast retransmit (RUDP-42);
     *   <li>or any, once its last copy has been out for longer than a round trip plus a little
     *       for reordering, so it should have arrived by now (RACK, RFC 8985, which RUDP-42
     *       allows). This also repairs packets lost twice, and losses whose duplicate acks
     *       were lost too.
     * </ul>
     * A copy younger than that may still arrive: acks caused by packets sent before it say
     * nothing about it. It is judged again when it is old enough ({@code recheckAt}), once.
     */
    private void repairIfLost(int i, int evidence, String why) {
        long srtt = rto.srtt();
        long oldEnough = lastSentAt[i] + srtt + Math.max(srtt / 4, 2_000_000L);
        if ((evidence >= DUP_ACK_THRESHOLD && !resent.get(i)) || System.nanoTime() > oldEnough) {
            retransmit(i, why);
        } else {
            recheckAt = Math.min(recheckAt, oldEnough + 1);
        }
    }

    /**
     * When to send a tail loss probe (after RFC 8985): when nothing at all has come back for
     * two round trips since the oldest unacked packet was last sent, resend it once, rather
     * than wait for the timer, whose 200 ms floor is a hundred round trips on a LAN. With a
     * window of 5, a lost packet at the end of the window, or a lost repair, leaves no later
     * packet to cause the duplicate acks that would reveal it. Not before the first RTT sample.
     */
    private long probeAt() {
        if (probed || acked == sent || rto.srtt() == 0) {
            return Long.MAX_VALUE;
        }
        long delay = Math.max(2 * rto.srtt(), 10_000_000L); // at least 10 ms, for busy machines
        return Math.max(lastSentAt[acked], lastAckAt) + delay;
    }

    /**
     * The timer expired. Back off (RUDP-41), but only if no ack at all came since the last
     * expiry: a silent path (a blackout, or no receiver) needs ever rarer probes, while acks
     * that come mean random loss, where doubling would only stretch every later wait. Then
     * resend every packet in flight that the receiver lacks, as the course's Go-Back-N sender
     * does: at most 5, and under heavy random loss each of them gets another chance at once.
     * With SACK, held packets are skipped (RUDP-32); acked ones never are resent (RUDP-43).
     */
    private void onTimeout() {
        if (!heardSinceTimeout) {
            rto.backoff();
        }
        heardSinceTimeout = false;
        dupAcks = 0;
        for (int i = acked; i < sent; i++) {
            if (!sacked.get(i)) {
                retransmit(i, "timeout, rto now " + rto.rto() / 1_000_000 + " ms");
            }
        }
    }

    /** Resends packet {@code index}; the oldest unacked one gets a full timeout again. */
    private void retransmit(int index, String why) {
        resent.set(index);
        transmit(index, why);
        if (index == acked) {
            deadline = System.nanoTime() + rto.rto();
        }
    }

    private void transmit(int index, String why) {
        Chunk c = chunks.get(index);
        byte[] datagram = Rudp.encode(c.type(), first + index, file, c.offset(), c.length());
        log("send %s|%d (%d bytes): %s", c.type(), first + index, datagram.length, why);
        transmissions++;
        try {
            socket.send(new DatagramPacket(datagram, datagram.length, peer));
        } catch (IOException e) { // e.g. no route yet: same as a lost packet
            log("send failed: %s", e);
        }
        lastSentAt[index] = System.nanoTime(); // after the send: the first one loads classes
    }

    private void log(String format, Object... args) {
        if (debug) {
            System.err.printf("rudp sender: " + format + "%n", args);
        }
    }
}
