package interop;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The RUDP datagram codec (spec/rudp.md): checksum, encoding and parsing.
 *
 * <p>Seqnos are unsigned 64-bit numbers (RUDP-3). Java's {@code long} is signed, so they are
 * printed with {@link Long#toUnsignedString} and compared with {@link Long#compareUnsigned}.
 */
final class Rudp {
    /** The largest datagram either side may send (RUDP-2). */
    static final int MAX_DATAGRAM = 1472;
    /** Window size of both sides (RUDP-12, RUDP-40). */
    static final int WINDOW = 5;

    static final String START = "start", DATA = "data", END = "end", ACK = "ack", SACK = "sack";

    /**
     * One decoded datagram. {@code data} is empty for acks; {@code sacks} is empty unless the
     * type is {@code sack} (RUDP-30).
     */
    record Packet(String type, long seqno, byte[] data, List<Long> sacks) {}

    /**
     * Thrown by {@link #parse} for datagrams that must be dropped silently (RUDP-8). The kind
     * is one of the error classes of spec/vectors/README.md: too_long, malformed, checksum,
     * type, seqno, sack.
     */
    static final class BadDatagram extends Exception {
        private static final long serialVersionUID = 1L;

        final String kind;

        BadDatagram(String kind, String reason) {
            super(kind + ": " + reason);
            this.kind = kind;
        }
    }

    private Rudp() {}

    /** Decimal unsigned CRC-32/IEEE (zlib's crc32) of {@code b[0..len)} (RUDP-4). */
    static long checksum(byte[] b, int len) {
        CRC32 crc = new CRC32();
        crc.update(b, 0, len);
        return crc.getValue();
    }

    /** {@code <type>|<seqno>|<data>|<checksum>} for start, data and end (RUDP-1). */
    static byte[] encode(String type, long seqno, byte[] data, int offset, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(length + 40);
        out.writeBytes(ascii(type + "|" + Long.toUnsignedString(seqno) + "|"));
        out.write(data, offset, length);
        out.write('|');
        return withChecksum(out);
    }

    /** {@code ack|<seqno>|<checksum>}: the next expected seqno (RUDP-6, RUDP-13). */
    static byte[] encodeAck(long next) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(32);
        out.writeBytes(ascii(ACK + "|" + Long.toUnsignedString(next) + "|"));
        return withChecksum(out);
    }

    /** {@code sack|<cum>;<s1>,<s2>,...|<checksum>}, seqnos in the given order (RUDP-30). */
    static byte[] encodeSack(long next, Collection<Long> held) {
        StringBuilder s = new StringBuilder(SACK).append('|').append(Long.toUnsignedString(next));
        s.append(';');
        String sep = "";
        for (long seqno : held) {
            s.append(sep).append(Long.toUnsignedString(seqno));
            sep = ",";
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() + 12);
        out.writeBytes(ascii(s.append('|').toString()));
        return withChecksum(out);
    }

    /** Bytes taken by everything but the data in a datagram of this type and seqno (RUDP-46). */
    static int overhead(String type, long seqno) {
        // "<type>|<seqno>|" + "|" + up to 10 checksum digits (4294967295).
        return type.length() + 1 + Long.toUnsignedString(seqno).length() + 1 + 1 + 10;
    }

    /**
     * Decodes the first {@code len} bytes of {@code b} as RUDP-5 says: the type runs to the
     * first '|', the seqno to the second, the checksum follows the LAST '|', and the data is
     * everything in between, so it may itself contain '|' or any other byte.
     */
    static Packet parse(byte[] b, int len) throws BadDatagram {
        if (len > MAX_DATAGRAM) {
            throw new BadDatagram("too_long", len + " bytes, more than " + MAX_DATAGRAM);
        }
        int last = lastIndexOf(b, 0, len, (byte) '|');
        if (last < 0) {
            throw new BadDatagram("malformed", "no '|'");
        }
        // The checksum must be the canonical decimal text, no leading zeros: the course
        // receiver compares strings (RUDP-4).
        String sum = new String(b, last + 1, len - last - 1, StandardCharsets.ISO_8859_1);
        if (sum.isEmpty() || !sum.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new BadDatagram("malformed", "checksum field '" + sum + "'");
        }
        if (!sum.equals(Long.toString(checksum(b, last + 1)))) {
            throw new BadDatagram("checksum", "checksum mismatch");
        }
        int first = indexOf(b, 0, len, (byte) '|');
        if (first == last) {
            throw new BadDatagram("malformed", "only one '|'");
        }
        String type = new String(b, 0, first, StandardCharsets.ISO_8859_1);
        switch (type) {
            case ACK, SACK: // "ack|<seqno>|<checksum>", "sack|<cum>;<list>|<checksum>" (RUDP-6, RUDP-30)
                if (indexOf(b, first + 1, last, (byte) '|') >= 0) {
                    throw new BadDatagram("malformed", type + " with more than two '|'");
                }
                return type.equals(ACK)
                        ? new Packet(ACK, parseDecimal(b, first + 1, last, "seqno"), new byte[0], List.of())
                        : parseSack(b, first + 1, last);
            case START, DATA, END:
                break;
            default:
                throw new BadDatagram("type", "unknown type '" + type + "'");
        }
        int second = indexOf(b, first + 1, last, (byte) '|');
        if (second < 0) {
            throw new BadDatagram("malformed", "no data field");
        }
        long seqno = parseDecimal(b, first + 1, second, "seqno");
        return new Packet(type, seqno, Arrays.copyOfRange(b, second + 1, last), List.of());
    }

    /**
     * {@code <cum>;<s1>,<s2>,...} between {@code from} and {@code to}. The list may be empty,
     * and a missing ';' is accepted as an empty list (RUDP-30).
     */
    private static Packet parseSack(byte[] b, int from, int to) throws BadDatagram {
        int semi = indexOf(b, from, to, (byte) ';');
        long cum = parseDecimal(b, from, semi < 0 ? to : semi, "seqno");
        List<Long> sacks = new ArrayList<>();
        if (semi >= 0 && semi + 1 < to) {
            for (int i = semi + 1; ; ) {
                int comma = indexOf(b, i, to, (byte) ',');
                sacks.add(parseDecimal(b, i, comma < 0 ? to : comma, "sack"));
                if (comma < 0) {
                    break;
                }
                i = comma + 1;
            }
        }
        return new Packet(SACK, cum, new byte[0], List.copyOf(sacks));
    }

    /**
     * 1 to 20 ASCII decimal digits with a value below 2^64: no sign, no spaces (RUDP-3).
     * Leading zeros are accepted. {@code kind} is the error class when it is not.
     */
    private static long parseDecimal(byte[] b, int from, int to, String kind) throws BadDatagram {
        String digits = new String(b, from, Math.max(0, to - from), StandardCharsets.ISO_8859_1);
        if (digits.isEmpty() || digits.length() > 20 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new BadDatagram(kind, "'" + digits + "' is not a decimal number");
        }
        try {
            return Long.parseUnsignedLong(digits);
        } catch (NumberFormatException e) {
            throw new BadDatagram(kind, digits + " does not fit in 64 bits");
        }
    }

    private static byte[] withChecksum(ByteArrayOutputStream out) {
        byte[] head = out.toByteArray();
        out.writeBytes(ascii(Long.toString(checksum(head, head.length))));
        return out.toByteArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static int indexOf(byte[] b, int from, int to, byte c) {
        for (int i = from; i < to; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    private static int lastIndexOf(byte[] b, int from, int to, byte c) {
        for (int i = to - 1; i >= from; i--) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }
}
