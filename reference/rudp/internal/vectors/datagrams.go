package vectors

import (
	"hash/crc32"
	"strconv"
	"strings"
)

func valid(name string, reqs []string, dg []byte, canonical bool, typ, seq string, data *string, sacks ...string) DatagramVector {
	p := &Packet{Type: typ, Seqno: seq, Sacks: sacks}
	if data != nil {
		b := NewBlob([]byte(*data))
		p.Data = &b
	}
	return DatagramVector{Name: name, Requirements: reqs, Datagram: NewBlob(dg), Valid: true, Canonical: canonical, Packet: p}
}

func invalid(name string, reqs []string, dg []byte, class, note string) DatagramVector {
	return DatagramVector{Name: name, Requirements: reqs, Datagram: NewBlob(dg), Error: class, Note: note}
}

func str(s string) *string { return &s }

func r(ids ...string) []string { return ids }

func datagramVectors() []DatagramVector {
	binary := "\x00\xff\xfe|\r\n\x80 \x7f\\"
	// A datagram of exactly 1472 bytes, and one of 1473 (RUDP-2).
	max1472, over1473 := sized(12345, 1472, 'x'), sized(12345, 1473, 'x')
	// A checksum of 2^31 or more, written as a signed 32-bit number, as
	// Java's int or C's int32_t would print it.
	signed := func() (string, int64) {
		c := crc32.ChecksumIEEE([]byte("ack|1|"))
		if c < 1<<31 {
			panic("pick another datagram for the signed checksum vector")
		}
		return "ack|1|", int64(c) - 1<<32
	}
	sCovered, sValue := signed()
	wrong := func(b []byte) []byte { // the checksum plus one, still decimal
		i := strings.LastIndexByte(string(b), '|')
		n, _ := strconv.ParseUint(string(b[i+1:]), 10, 64)
		return append(append([]byte{}, b[:i+1]...), strconv.FormatUint((n+1)%(1<<32), 10)...)
	}
	crcOf := func(s string) string { return strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(s))), 10) }

	return []DatagramVector{
		// Valid sender packets.
		valid("start with data", r("RUDP-1", "RUDP-4", "RUDP-5"), pkt("start", 0, "hello"), true, "start", "0", str("hello")),
		valid("data", r("RUDP-1", "RUDP-5"), pkt("data", 1, "world"), true, "data", "1", str("world")),
		valid("end with data", r("RUDP-1", "RUDP-7"), pkt("end", 2, "bye"), true, "end", "2", str("bye")),
		valid("end with empty data", r("RUDP-1", "RUDP-7"), pkt("end", 3, ""), true, "end", "3", str("")),
		valid("start with empty data", r("RUDP-1", "RUDP-7"), pkt("start", 99, ""), true, "start", "99", str("")),
		valid("data containing one pipe", r("RUDP-5"), pkt("data", 7, "a|b"), true, "data", "7", str("a|b")),
		valid("data that is a single pipe", r("RUDP-5"), pkt("data", 8, "|"), true, "data", "8", str("|")),
		valid("data ending with a pipe and digits", r("RUDP-5"), pkt("data", 9, "x|123|"), true, "data", "9", str("x|123|")),
		valid("data that looks like a whole packet", r("RUDP-5"), pkt("data", 10, "end|11||0"), true, "data", "10", str("end|11||0")),
		valid("binary data: NUL, 0xff, CR LF, pipe, backslash", r("RUDP-5"), pkt("data", 11, binary), true, "data", "11", str(binary)),
		valid("non-UTF-8 data", r("RUDP-5"), pkt("data", 12, "\xc3\x28\xa0\xa1\xf0\x28\x8c\xbc"), true, "data", "12", str("\xc3\x28\xa0\xa1\xf0\x28\x8c\xbc")),
		valid("largest seqno (2^64-1)", r("RUDP-3"), pkt("data", 18446744073709551615, "z"), true, "data", "18446744073709551615", str("z")),
		valid("seqno with leading zeros is accepted", r("RUDP-3"), sum("data|007|z|"), false, "data", "7", str("z")),
		valid("datagram of exactly 1472 bytes", r("RUDP-2"), pkt("data", 12345, max1472), true, "data", "12345", str(max1472)),

		// Valid acknowledgements.
		valid("ack", r("RUDP-6"), ack(1), true, "ack", "1", nil),
		valid("ack 0", r("RUDP-6"), ack(0), true, "ack", "0", nil),
		valid("ack with the largest seqno", r("RUDP-6", "RUDP-3"), ack(18446744073709551615), true, "ack", "18446744073709551615", nil),
		valid("sack with an empty list", r("RUDP-30"), sack(5), true, "sack", "5", nil),
		valid("sack with a list", r("RUDP-30"), sack(3, 5, 6), true, "sack", "3", nil, "5", "6"),
		valid("sack without ';' is read as an empty list", r("RUDP-30"), sum("sack|5|"), false, "sack", "5", nil),

		// Checksum (RUDP-4, RUDP-8).
		invalid("wrong checksum", r("RUDP-4", "RUDP-8"), wrong(pkt("start", 0, "hello")), ClassChecksum, "the checksum of the right datagram plus one"),
		invalid("one data bit flipped", r("RUDP-4", "RUDP-8"), append([]byte("start|0|hellp|"), crcOf("start|0|hello|")...), ClassChecksum, "'o' became 'p' in transit"),
		invalid("checksum without the last '|'", r("RUDP-4"), []byte("start|0|hello|"+crcOf("start|0|hello")), ClassChecksum, "a common bug: the CRC must cover the last '|' too"),
		invalid("checksum of the data only", r("RUDP-4"), []byte("data|1|x|"+crcOf("x")), ClassChecksum, "the CRC covers type, seqno and data with their '|'"),
		invalid("checksum with a leading zero", r("RUDP-4"), append([]byte("start|0|hello|0"), crcOf("start|0|hello|")...), ClassChecksum, "only the canonical decimal text is valid: the course receiver compares strings"),
		invalid("checksum as a signed 32-bit number", r("RUDP-4"), []byte(sCovered+strconv.FormatInt(sValue, 10)), ClassMalformed, "the CRC is unsigned: "+crcOf(sCovered)+", not "+strconv.FormatInt(sValue, 10)),
		invalid("checksum in hex", r("RUDP-4"), []byte("start|0|hello|"+strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte("start|0|hello|"))), 16)), ClassMalformed, "decimal only"),
		invalid("newline after the checksum", r("RUDP-4"), append(pkt("start", 0, "hello"), '\n'), ClassMalformed, "nothing may follow the checksum"),
		invalid("empty checksum", r("RUDP-4"), []byte("start|0|hello|"), ClassMalformed, ""),
		invalid("checksum too large for 32 bits", r("RUDP-4"), []byte("start|0|hello|4294967296"), ClassChecksum, "2^32: digits, but not the checksum"),

		// Structure (RUDP-1, RUDP-5, RUDP-6).
		invalid("no '|' at all", r("RUDP-1", "RUDP-8"), []byte("hello"), ClassMalformed, ""),
		invalid("empty datagram", r("RUDP-1", "RUDP-8"), []byte{}, ClassMalformed, ""),
		invalid("type and checksum only", r("RUDP-1"), sum("start|"), ClassMalformed, ""),
		invalid("missing data field", r("RUDP-1"), sum("data|5|"), ClassMalformed, "start, data and end have four fields, even when data is empty"),
		invalid("ack with a data field", r("RUDP-6"), sum("ack|1|x|"), ClassMalformed, ""),
		invalid("ack with an empty seqno", r("RUDP-6", "RUDP-3"), sum("ack||"), ClassSeqno, ""),

		// Seqno (RUDP-3).
		invalid("empty seqno", r("RUDP-3"), sum("data||x|"), ClassSeqno, ""),
		invalid("negative seqno", r("RUDP-3"), sum("data|-1|x|"), ClassSeqno, ""),
		invalid("seqno with a plus sign", r("RUDP-3"), sum("data|+1|x|"), ClassSeqno, ""),
		invalid("seqno with a space", r("RUDP-3"), sum("data| 1|x|"), ClassSeqno, ""),
		invalid("seqno with a trailing space", r("RUDP-3"), sum("data|1 |x|"), ClassSeqno, ""),
		invalid("seqno in hex", r("RUDP-3"), sum("data|0x1|x|"), ClassSeqno, ""),
		invalid("seqno with a decimal point", r("RUDP-3"), sum("data|1.0|x|"), ClassSeqno, ""),
		invalid("seqno with a non-ASCII digit", r("RUDP-3"), sum("data|\u0661|x|"), ClassSeqno, "ARABIC-INDIC DIGIT ONE: Python's int() accepts it, the protocol does not"),
		invalid("seqno 2^64", r("RUDP-3"), sum("data|18446744073709551616|x|"), ClassSeqno, "does not fit in 64 bits"),
		invalid("seqno of 21 digits", r("RUDP-3"), sum("data|000000000000000000001|x|"), ClassSeqno, "at most 20 digits"),

		// Type (RUDP-1).
		invalid("unknown type", r("RUDP-1"), sum("syn|1|x|"), ClassType, ""),
		invalid("type in upper case", r("RUDP-1"), sum("DATA|1|x|"), ClassType, "types are lower case"),
		invalid("empty type", r("RUDP-1"), sum("|1|x|"), ClassType, ""),

		// Sack list (RUDP-30).
		invalid("sack with an empty element", r("RUDP-30"), sum("sack|5;6,,8|"), ClassSack, ""),
		invalid("sack with a non-number", r("RUDP-30"), sum("sack|5;x|"), ClassSack, ""),
		invalid("sack with a trailing comma", r("RUDP-30"), sum("sack|5;6,|"), ClassSack, ""),
		invalid("sack with an empty cumulative seqno", r("RUDP-30"), sum("sack|;6|"), ClassSeqno, ""),

		// Size (RUDP-2).
		invalid("datagram of 1473 bytes", r("RUDP-2"), pkt("data", 12345, over1473), ClassTooLong, "valid in every other way"),
	}
}
