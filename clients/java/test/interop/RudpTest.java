package interop;

import static interop.Check.equal;
import static interop.Check.isTrue;
import static interop.Check.test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Tests of the codec, the packet split, the receiver's logic and a lossy transfer. */
final class RudpTest {
    private RudpTest() {}

    static void run() {
        test("checksum is zlib's crc32", () -> {
            // The standard CRC-32 check value, and the worked examples of spec/rudp.md (RUDP-4).
            equal(0xCBF43926L, Rudp.checksum(ascii("123456789"), 9), "crc32(123456789)");
            equal("start|0|hello|1374653333", text(Rudp.encode(Rudp.START, 0, ascii("hello"), 0, 5)), "start");
            equal("ack|1|2195368786", text(Rudp.encodeAck(1)), "ack above 2^31, printed unsigned");
            equal("sack|3;5,6|2211952226", text(Rudp.encodeSack(3, List.of(5L, 6L))), "sack");
        });

        test("data may contain '|', NUL and high bytes", () -> {
            byte[] data = {'a', '|', 'b', '|', 0, (byte) 0xff, '|'};
            byte[] datagram = Rudp.encode(Rudp.DATA, 7, data, 0, data.length);
            Rudp.Packet p = Rudp.parse(datagram, datagram.length);
            equal(Rudp.DATA, p.type(), "type");
            equal(7L, p.seqno(), "seqno");
            equal(data, p.data(), "data");
        });

        test("empty data and 64-bit seqnos", () -> {
            byte[] datagram = Rudp.encode(Rudp.END, -1L, new byte[0], 0, 0); // 2^64-1
            isTrue(text(datagram).startsWith("end|18446744073709551615||"), text(datagram));
            Rudp.Packet p = Rudp.parse(datagram, datagram.length);
            equal(-1L, p.seqno(), "seqno");
            equal(0, p.data().length, "data length");
        });

        test("sack round trip", () -> {
            byte[] datagram = Rudp.encodeSack(10, List.of(12L, 14L));
            isTrue(text(datagram).startsWith("sack|10;12,14|"), text(datagram));
            Rudp.Packet p = Rudp.parse(datagram, datagram.length);
            equal(10L, p.seqno(), "cum");
            equal(List.of(12L, 14L), p.sacks(), "sacks");
            equal(List.of(), parse(Rudp.encodeSack(3, List.of())).sacks(), "empty list");
        });

        test("bad datagrams are refused", () -> {
            refused("ack|5|3870715479", "wrong checksum");
            refused(withSum("data|-1|x|"), "signed seqno");
            refused(withSum("data| 1|x|"), "space in seqno");
            refused(withSum("data||x|"), "empty seqno");
            refused(withSum("data|1|"), "missing data field");
            refused(withSum("nack|1|"), "unknown type");
            refused(withSum("data|18446744073709551616|x|"), "seqno beyond 64 bits");
            refused(withSum("sack|1;2,|"), "trailing comma");
            refused("ack|5|03870715478", "checksum with a leading zero");
            refused("ack|5", "no checksum");
            refused("no bars at all", "no '|'");
            byte[] big = new byte[Rudp.MAX_DATAGRAM];
            byte[] tooLong = Rudp.encode(Rudp.DATA, 1, big, 0, big.length);
            isTrue(tooLong.length > Rudp.MAX_DATAGRAM, "test datagram is too long");
            try {
                Rudp.parse(tooLong, tooLong.length);
                throw new AssertionError("accepted a datagram of " + tooLong.length + " bytes");
            } catch (Rudp.BadDatagram expected) {
                // good
            }
        });

        test("RTO: 500 ms, then SRTT + 4 RTTVAR within 200 ms..1 s, backoff", () -> {
            RtoEstimator rto = new RtoEstimator();
            equal(500L, rto.rto() / 1_000_000, "initial");
            rto.backoff();
            equal(1000L, rto.rto() / 1_000_000, "doubled");
            rto.sample(100_000_000L); // 100 ms: SRTT 100, RTTVAR 50
            equal(300L, rto.rto() / 1_000_000, "after one sample");
            rto.sample(2_000_000L); // RTTVAR (3*50 + 98)/4 = 62, SRTT (700 + 2)/8 = 87.75
            equal(87L + 4 * 62, rto.rto() / 1_000_000, "after two samples");
            for (int i = 0; i < 50; i++) {
                rto.sample(1_000_000L);
            }
            equal(200L, rto.rto() / 1_000_000, "floor");
            rto.backoff();
            rto.backoff();
            rto.backoff();
            equal(1000L, rto.rto() / 1_000_000, "ceiling");
            rto.resetBackoff();
            equal(200L, rto.rto() / 1_000_000, "progress ends the backoff");
        });

        test("split: start first, end last, every datagram fits", () -> {
            for (int size : new int[] {0, 1, 1455, 1456, 1457, 3000, 100_000}) {
                List<RudpSender.Chunk> chunks = RudpSender.split(size, 999_999_998L);
                equal(Rudp.START, chunks.get(0).type(), size + ": first type");
                equal(Rudp.END, chunks.get(chunks.size() - 1).type(), size + ": last type");
                int covered = 0;
                for (int i = 0; i < chunks.size(); i++) {
                    RudpSender.Chunk c = chunks.get(i);
                    equal(covered, c.offset(), size + ": offset of packet " + i);
                    covered += c.length();
                    byte[] d = Rudp.encode(c.type(), 999_999_998L + i, new byte[size], c.offset(), c.length());
                    isTrue(d.length <= Rudp.MAX_DATAGRAM, size + ": packet " + i + " has " + d.length + " bytes");
                    if (i > 0 && i < chunks.size() - 1) {
                        equal(Rudp.DATA, c.type(), size + ": middle type");
                        isTrue(d.length >= Rudp.MAX_DATAGRAM - 9, "data packet of only " + d.length + " bytes");
                    }
                }
                equal(size, covered, size + ": bytes covered");
            }
            equal(2, RudpSender.split(0, 0).size(), "an empty file is start + end");
            equal(0, RudpSender.split(0, 0).get(1).length(), "empty end");
        });

        test("receiver: window, acks, order, completion", () -> {
            Path dir = Files.createTempDirectory("rudp-test");
            RudpReceiver receiver = new RudpReceiver(dir, 10_000_000_000L, true, false);
            InetSocketAddress from = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000);
            equal(null, handle(receiver, from, Rudp.DATA, 100, "x"), "data before start is not acked");
            equal("sack|101;", ack(handle(receiver, from, Rudp.START, 100, "a|")), "start");
            equal("sack|101;103", ack(handle(receiver, from, Rudp.DATA, 103, "d")), "held 103");
            equal("sack|101;103", ack(handle(receiver, from, Rudp.DATA, 106, "z")), "106 is outside");
            equal("sack|101;102,103", ack(handle(receiver, from, Rudp.DATA, 102, "c")), "held 102");
            equal("sack|101;102,103,104", ack(handle(receiver, from, Rudp.END, 104, "")), "end held");
            byte[] corrupt = Rudp.encode(Rudp.DATA, 101, ascii("b"), 0, 1);
            corrupt[corrupt.length - 1] ^= 1;
            equal(null, receiver.handle(from, corrupt, corrupt.length, System.nanoTime()), "a corrupt datagram is not acked");
            isTrue(Files.exists(dir.resolve("127.0.0.1.40000.partial")), ".partial while in progress");
            equal("sack|105;", ack(handle(receiver, from, Rudp.DATA, 101, "b")), "all delivered");
            equal("a|bcd", Files.readString(dir.resolve("127.0.0.1.40000")), "file");
            isTrue(!Files.exists(dir.resolve("127.0.0.1.40000.partial")), ".partial renamed");
            equal("sack|105;", ack(handle(receiver, from, Rudp.DATA, 102, "c")), "acks after completion");
            equal("sack|105;", ack(handle(receiver, from, Rudp.START, 100, "a|")), "start retransmitted");
            equal("sack|8;", ack(handle(receiver, from, Rudp.START, 7, "new")), "a new start");
            equal("sack|8;9", ack(handle(receiver, from, Rudp.DATA, 9, "x")), "new transfer holds 9");
            equal("sack|8;", ack(handle(receiver, from, Rudp.START, 7, "other")), "same seqno, other data");
            equal("sack|8;9", ack(handle(receiver, from, Rudp.DATA, 9, "x")), "it is a new transfer");
            InetSocketAddress other = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40001);
            equal("sack|1;", ack(handle(receiver, other, Rudp.START, 0, "")), "transfers stay apart");
            equal(null, handle(receiver, from, Rudp.ACK, 9, ""), "acks are not for receivers");
        });

        test("receiver: idle transfers are dropped, .partial stays", () -> {
            Path dir = Files.createTempDirectory("rudp-test");
            RudpReceiver receiver = new RudpReceiver(dir, 1_000_000L, false, false); // 1 ms
            InetSocketAddress from = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000);
            equal("ack|6", ack(handle(receiver, from, Rudp.START, 5, "abc")), "start");
            Thread.sleep(20);
            receiver.dropIdle(System.nanoTime());
            equal(null, handle(receiver, from, Rudp.DATA, 6, "d"), "no ack after the timeout");
            equal("abc", Files.readString(dir.resolve("127.0.0.1.40000.partial")), "partial output");
        });

        for (boolean sack : new boolean[] {false, true}) {
            test("transfer through a lossy relay" + (sack ? " with SACK" : ""), () -> {
                byte[] file = new byte[200_000];
                new Random(1).nextBytes(file);
                equal(file, transfer(file, sack, 0.10), "received file");
            });
        }

        test("sender gives up when nothing comes back", () -> {
            try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                    DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                RudpSender sender = new RudpSender(new byte[10], 0, false, false, socket,
                        (InetSocketAddress) silent.getLocalSocketAddress(), 1_000_000_000L);
                long start = System.nanoTime();
                isTrue(!sender.run(), "the sender claims success");
                long millis = (System.nanoTime() - start) / 1_000_000;
                isTrue(millis >= 1000 && millis < 6000, "gave up after " + millis + " ms");
            }
        });
    }

    /** Sends {@code file} through a relay that loses {@code loss} and returns what arrived. */
    private static byte[] transfer(byte[] file, boolean sack, double loss) throws Exception {
        Path dir = Files.createTempDirectory("rudp-test");
        try (DatagramSocket receiverSocket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket relay = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket senderSocket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            daemon(() -> new RudpReceiver(dir, 10_000_000_000L, sack, false).serve(receiverSocket));
            daemon(() -> relay(relay, (InetSocketAddress) receiverSocket.getLocalSocketAddress(), new Random(2), loss));
            RudpSender sender = new RudpSender(file, 42, sack, false, senderSocket,
                    (InetSocketAddress) relay.getLocalSocketAddress(), 60_000_000_000L);
            isTrue(sender.run(), "sender gave up");
            // The receiver sees the relay's address, so the file is named after it.
            return Files.readAllBytes(dir.resolve("127.0.0.1." + relay.getLocalPort()));
        }
    }

    /**
     * Forwards datagrams between one sender and the receiver, dropping {@code loss} of them,
     * and corrupting and duplicating 5 % each, in both directions.
     */
    private static void relay(DatagramSocket socket, InetSocketAddress receiver, Random random,
            double loss) throws Exception {
        InetSocketAddress sender = null;
        byte[] buffer = new byte[2048];
        while (true) {
            DatagramPacket in = new DatagramPacket(buffer, buffer.length);
            socket.receive(in);
            InetSocketAddress from = (InetSocketAddress) in.getSocketAddress();
            if (!from.equals(receiver)) {
                sender = from;
            }
            InetSocketAddress to = from.equals(receiver) ? sender : receiver;
            double dice = random.nextDouble();
            if (to == null || dice < loss) {
                continue;
            }
            byte[] copy = Arrays.copyOf(buffer, in.getLength());
            if (dice < loss + 0.05) {
                copy[random.nextInt(copy.length)] ^= 0x20;
            }
            socket.send(new DatagramPacket(copy, copy.length, to));
            if (dice > 0.95) {
                socket.send(new DatagramPacket(copy, copy.length, to));
            }
        }
    }

    private static void daemon(Check.Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Exception e) {
                // the socket was closed at the end of the test
            }
        });
        t.setDaemon(true);
        t.start();
    }

    private static byte[] handle(RudpReceiver r, InetSocketAddress from, String type, long seqno, String data) {
        byte[] d = ascii(data);
        byte[] datagram = Rudp.encode(type, seqno, d, 0, d.length);
        return r.handle(from, datagram, datagram.length, System.nanoTime());
    }

    /** The ack without its checksum, after checking that it parses. */
    private static String ack(byte[] datagram) throws Rudp.BadDatagram {
        isTrue(datagram != null, "no ack");
        parse(datagram);
        String s = text(datagram);
        return s.substring(0, s.lastIndexOf('|'));
    }

    private static Rudp.Packet parse(byte[] datagram) throws Rudp.BadDatagram {
        return Rudp.parse(datagram, datagram.length);
    }

    private static void refused(String datagram, String why) {
        byte[] b = ascii(datagram);
        try {
            Rudp.Packet p = Rudp.parse(b, b.length);
            throw new AssertionError("accepted " + why + ": " + datagram + " as " + p);
        } catch (Rudp.BadDatagram expected) {
            // good
        }
    }

    /** {@code head} followed by its correct checksum. */
    static String withSum(String head) {
        return head + Rudp.checksum(ascii(head), head.length());
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
