package interop;

import static interop.Check.equal;
import static interop.Check.isTrue;
import static interop.Check.test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the suite's language-neutral RUDP vectors (spec/vectors/README.md): every datagram of
 * datagrams.json through the codec, every script of receiver.json through the receiver.
 */
final class VectorsTest {
    private VectorsTest() {}

    static void run(Path dir) {
        test("vectors are readable in " + dir, () -> {
            isTrue(Files.isRegularFile(dir.resolve("datagrams.json")), "no datagrams.json");
            isTrue(Files.isRegularFile(dir.resolve("receiver.json")), "no receiver.json");
        });
        if (!Files.isRegularFile(dir.resolve("datagrams.json")) || !Files.isRegularFile(dir.resolve("receiver.json"))) {
            return;
        }
        for (Map<String, Object> v : vectors(dir.resolve("datagrams.json"))) {
            test("datagrams.json: " + v.get("name"), () -> datagram(v));
        }
        for (Map<String, Object> v : vectors(dir.resolve("receiver.json"))) {
            test("receiver.json: " + v.get("name"), () -> script(v));
        }
    }

    /** One datagram: accepted and decoded exactly, or refused for the given reason. */
    private static void datagram(Map<String, Object> v) throws Exception {
        byte[] datagram = bytes(v.get("datagram"));
        if (!(Boolean) v.get("valid")) {
            try {
                Rudp.Packet p = Rudp.parse(datagram, datagram.length);
                throw new AssertionError("accepted, as " + p.type() + " " + Long.toUnsignedString(p.seqno()));
            } catch (Rudp.BadDatagram e) {
                equal(v.get("error"), e.kind, "error class (" + e.getMessage() + ")");
                return;
            }
        }
        Map<String, Object> want = map(v.get("packet"));
        Rudp.Packet p = Rudp.parse(datagram, datagram.length);
        equal(want.get("type"), p.type(), "type");
        equal(want.get("seqno"), Long.toUnsignedString(p.seqno()), "seqno");
        if (want.containsKey("data")) {
            equal(bytes(want.get("data")), p.data(), "data");
        }
        List<String> sacks = new ArrayList<>();
        p.sacks().forEach(s -> sacks.add(Long.toUnsignedString(s)));
        equal(want.getOrDefault("sacks", List.of()), sacks, "sacks");
        if (Boolean.TRUE.equals(v.get("canonical"))) {
            byte[] encoded = switch (p.type()) {
                case Rudp.ACK -> Rudp.encodeAck(p.seqno());
                case Rudp.SACK -> Rudp.encodeSack(p.seqno(), p.sacks());
                default -> Rudp.encode(p.type(), p.seqno(), p.data(), 0, p.data().length);
            };
            equal(datagram, encoded, "encoding");
        }
    }

    /**
     * One receiver script, on a fake clock: each step's ack byte for byte, then the files left
     * behind. A source's file holds the output of its last transfer, renamed without .partial
     * once complete.
     */
    private static void script(Map<String, Object> v) throws Exception {
        Path out = Files.createTempDirectory("rudp-vectors");
        long timeout = (long) (double) (Double) v.get("idle_timeout_ms") * 1_000_000L;
        RudpReceiver receiver = new RudpReceiver(out, timeout, (Boolean) v.get("sack"), false);
        long start = System.nanoTime();
        int i = 0;
        for (Object o : (List<?>) v.get("steps")) {
            Map<String, Object> step = map(o);
            long now = start + (long) (double) (Double) step.get("at_ms") * 1_000_000L;
            byte[] datagram = bytes(step.get("datagram"));
            receiver.dropIdle(now);
            byte[] ack = receiver.handle(address((String) step.get("from")), datagram, datagram.length, now);
            Object want = step.get("ack");
            equal(want == null ? null : bytes(want), ack,
                    "ack of step " + i++ + " (" + step.getOrDefault("note", "") + ")");
        }
        Map<String, byte[]> files = new HashMap<>();
        for (Object o : (List<?>) v.get("transfers")) {
            Map<String, Object> t = map(o);
            String name = RudpReceiver.fileName(address((String) t.get("from")));
            files.remove(name);
            files.remove(name + ".partial");
            files.put((Boolean) t.get("complete") ? name : name + ".partial", bytes(t.get("output")));
        }
        try (var listing = Files.list(out)) {
            equal(files.keySet().stream().sorted().toList(),
                    listing.map(p -> p.getFileName().toString()).sorted().toList(), "files");
        }
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            equal(f.getValue(), Files.readAllBytes(out.resolve(f.getKey())), "content of " + f.getKey());
        }
    }

    /** "10.0.0.1:5000" or "[2001:db8::1]:6000", without name lookups. */
    private static InetSocketAddress address(String s) throws Exception {
        int colon = s.lastIndexOf(':');
        String host = s.substring(0, colon).replace("[", "").replace("]", "");
        return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(s.substring(colon + 1)));
    }

    private static List<Map<String, Object>> vectors(Path file) {
        try {
            List<Map<String, Object>> list = new ArrayList<>();
            for (Object o : (List<?>) map(Json.parse(Files.readString(file))).get("vectors")) {
                list.add(map(o));
            }
            return list;
        } catch (Exception e) {
            throw new IllegalStateException("reading " + file + ": " + e, e);
        }
    }

    /** A byte string of the vectors: an object whose "base64" field holds the bytes. */
    private static byte[] bytes(Object byteString) {
        return Base64.getDecoder().decode((String) map(byteString).get("base64"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }
}
