// The RUDP datagram codec shared by the sender and the receiver (spec/rudp.md).
//
// Every datagram is <type>|<seqno>|<data>|<checksum> (RUDP-1); acks are
// ack|<seqno>|<checksum> (RUDP-6) and selective acks
// sack|<cum>;<s1>,<s2>,...|<checksum> (RUDP-30).
//
// Everything here works on byte arrays, never on strings: the data of a
// transfer may contain '|', NUL or any byte >= 0x80, and decoding it as text
// would change it (RUDP-5).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace Interop.Rudp
{
    /// <summary>Why a datagram was rejected: the error classes of spec/vectors/README.md.</summary>
    public enum DatagramError { TooLong, Malformed, Checksum, Type, Seqno, Sack }

    /// <summary>A datagram that does not parse or fails its checksum (RUDP-8).</summary>
    public sealed class MalformedDatagramException : Exception
    {
        public DatagramError Error { get; }

        public MalformedDatagramException(DatagramError error, string detail)
            : base(error + ": " + detail)
        {
            Error = error;
        }
    }

    /// <summary>
    /// One decoded datagram. For ack and sack, <see cref="Seqno"/> is the next
    /// seqno the receiver expects and <see cref="Sacks"/> lists the
    /// out-of-order seqnos it holds.
    /// </summary>
    public sealed class Packet
    {
        public string Type { get; }
        public ulong Seqno { get; }
        public byte[] Data { get; }
        public IReadOnlyList<ulong> Sacks { get; }

        public Packet(string type, ulong seqno, byte[] data, IReadOnlyList<ulong> sacks)
        {
            Type = type;
            Seqno = seqno;
            Data = data;
            Sacks = sacks;
        }

        public bool IsAck => Type == "ack" || Type == "sack";
    }

    /// <summary>
    /// The CRC-32 of RUDP-4: IEEE 802.3, reflected polynomial 0xEDB88320, as in
    /// zlib and Go's hash/crc32. Mono's class library has none, so here is the
    /// classic table-driven one.
    /// </summary>
    public static class Crc32
    {
        static readonly uint[] Table = MakeTable();

        static uint[] MakeTable()
        {
            var table = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                uint c = n;
                for (int k = 0; k < 8; k++)
                    c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                table[n] = c;
            }
            return table;
        }

        public static uint Compute(byte[] bytes, int offset, int count)
        {
            uint crc = 0xFFFFFFFFu;
            for (int i = offset; i < offset + count; i++)
                crc = Table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
            return crc ^ 0xFFFFFFFFu;
        }

        public static uint Compute(byte[] bytes) => Compute(bytes, 0, bytes.Length);
    }

    public static class Datagram
    {
        public const int MaxSize = 1472;      // RUDP-2: a 1500-byte Ethernet MTU less 20 (IPv4) and 8 (UDP)
        public const int Window = 5;          // RUDP-12 and RUDP-40: the receive window, and packets in flight
        public const int ChecksumDigits = 10; // the longest checksum: uint.MaxValue has 10 digits

        static readonly string[] SenderTypes = { "start", "data", "end" }; // RUDP-1
        const byte Pipe = (byte)'|';

        static string Decimal(ulong n) => n.ToString(CultureInfo.InvariantCulture);

        /// <summary>A start, data or end datagram carrying data[offset..offset+count).</summary>
        public static byte[] Encode(string type, ulong seqno, byte[] data, int offset, int count)
        {
            var head = new MemoryStream(MaxSize);
            Write(head, type + "|" + Decimal(seqno) + "|");
            head.Write(data, offset, count);
            head.WriteByte(Pipe);
            return Seal(head);
        }

        public static byte[] Encode(string type, ulong seqno, byte[] data) => Encode(type, seqno, data, 0, data.Length);

        /// <summary>
        /// ack|next| or, when <paramref name="sacks"/> is given (even empty),
        /// sack|next;s1,s2,...| followed by the checksum (RUDP-6, RUDP-30).
        /// </summary>
        public static byte[] EncodeAck(ulong next, IEnumerable<ulong> sacks = null)
        {
            var head = new MemoryStream(64);
            if (sacks == null)
                Write(head, "ack|" + Decimal(next) + "|");
            else
                Write(head, "sack|" + Decimal(next) + ";" + string.Join(",", sacks.Select(Decimal)) + "|");
            return Seal(head);
        }

        /// <summary>
        /// The most data a datagram of this type and seqno can carry and still
        /// fit in MaxSize whatever its checksum (RUDP-2, RUDP-46).
        /// </summary>
        public static int MaxPayload(string type, ulong seqno) =>
            MaxSize - (type.Length + Decimal(seqno).Length + 3) - ChecksumDigits;

        static void Write(MemoryStream stream, string ascii)
        {
            var bytes = Encoding.ASCII.GetBytes(ascii);
            stream.Write(bytes, 0, bytes.Length);
        }

        // RUDP-4: appends the unsigned decimal CRC-32 of everything so far,
        // which ends in '|'. uint prints unsigned; an int would print negative.
        static byte[] Seal(MemoryStream head)
        {
            var sum = Crc32.Compute(head.GetBuffer(), 0, (int)head.Length);
            Write(head, Decimal(sum));
            return head.ToArray();
        }

        /// <summary>
        /// Decodes one datagram, or throws MalformedDatagramException saying why.
        /// RUDP-5: the type runs to the first '|', the seqno to the second, the
        /// checksum follows the LAST '|', and the data is everything in between,
        /// so data may itself contain '|'. The checks come in the order of
        /// spec/vectors/README.md, so errors are classed as the vectors expect.
        /// </summary>
        public static Packet Parse(byte[] datagram, int length)
        {
            if (length > MaxSize)
                throw new MalformedDatagramException(DatagramError.TooLong, $"{length} bytes, over {MaxSize}");

            int last = length == 0 ? -1 : Array.LastIndexOf(datagram, Pipe, length - 1, length);
            if (last < 0)
                throw new MalformedDatagramException(DatagramError.Malformed, "no '|'");
            string sum = Ascii(datagram, last + 1, length - last - 1);
            if (!IsDigits(sum))
                throw new MalformedDatagramException(DatagramError.Malformed, "checksum is not decimal");
            int first = Array.IndexOf(datagram, Pipe, 0, length);
            if (first == last)
                throw new MalformedDatagramException(DatagramError.Malformed, "only one '|'");

            string type = Ascii(datagram, 0, first);
            // start/data/end: "<seqno>|<data>" lies between the first and the last '|'
            int second = Array.IndexOf(datagram, Pipe, first + 1, last - first - 1);
            bool isSenderType = Array.IndexOf(SenderTypes, type) >= 0;
            if (isSenderType && second < 0)
                throw new MalformedDatagramException(DatagramError.Malformed, "no data field");
            if ((type == "ack" || type == "sack") && second >= 0)
                throw new MalformedDatagramException(DatagramError.Malformed, "an ack has no data field");
            // Compared as text, as the course's receiver does: "0123" is not 123.
            if (sum != Decimal(Crc32.Compute(datagram, 0, last + 1)))
                throw new MalformedDatagramException(DatagramError.Checksum, "checksum mismatch");

            if (type == "ack")
                return new Packet(type, ParseNumber(Ascii(datagram, first + 1, last - first - 1)), new byte[0], new ulong[0]);
            if (type == "sack")
                return ParseSack(Ascii(datagram, first + 1, last - first - 1));
            if (!isSenderType)
                throw new MalformedDatagramException(DatagramError.Type, "unknown packet type " + Quote(type));

            ulong seqno = ParseNumber(Ascii(datagram, first + 1, second - first - 1));
            var data = new byte[last - second - 1];
            Array.Copy(datagram, second + 1, data, 0, data.Length);
            return new Packet(type, seqno, data, new ulong[0]);
        }

        public static Packet Parse(byte[] datagram) => Parse(datagram, datagram.Length);

        // "<cum>;<s1>,<s2>,..." or just "<cum>" (RUDP-30).
        static Packet ParseSack(string fields)
        {
            int semicolon = fields.IndexOf(';');
            string cum = semicolon < 0 ? fields : fields.Substring(0, semicolon);
            string list = semicolon < 0 ? "" : fields.Substring(semicolon + 1);
            // Split keeps empty elements, so "6,,8" and "6," are caught.
            var sacks = list.Length == 0
                ? new ulong[0]
                : list.Split(',').Select(s => ParseNumber(s, DatagramError.Sack)).ToArray();
            return new Packet("sack", ParseNumber(cum), new byte[0], sacks);
        }

        /// <summary>
        /// RUDP-3: 1 to 20 ASCII digits (no sign, no space, no other digits)
        /// below 2^64. ulong.Parse would also take " 7" or "+7" with some styles.
        /// </summary>
        public static ulong ParseNumber(string field, DatagramError error = DatagramError.Seqno)
        {
            ulong value = 0;
            bool ok = field.Length >= 1 && field.Length <= 20 && IsDigits(field);
            foreach (char c in ok ? field : "")
            {
                uint digit = (uint)(c - '0');
                if (value > (ulong.MaxValue - digit) / 10) { ok = false; break; }
                value = value * 10 + digit;
            }
            if (!ok)
                throw new MalformedDatagramException(error, "not a decimal seqno: " + Quote(field));
            return value;
        }

        static bool IsDigits(string s) => s.Length > 0 && s.All(c => c >= '0' && c <= '9');

        // Latin-1 maps each byte to one char, so no byte is lost or merged.
        static string Ascii(byte[] bytes, int offset, int count)
        {
            var chars = new char[count];
            for (int i = 0; i < count; i++)
                chars[i] = (char)bytes[offset + i];
            return new string(chars);
        }

        static string Quote(string s) => "\"" + (s.Length > 24 ? s.Substring(0, 24) + "..." : s) + "\"";
    }
}
