package vectors

import "strings"

// Source addresses used by the scripts, and the file names the reference
// receiver derives from them.
const (
	addrA = "10.0.0.1:5000"
	addrB = "10.0.0.2:5000"
	addrC = "[2001:db8::1]:6000"
	fileA = "10.0.0.1.5000"
	fileB = "10.0.0.2.5000"
	fileC = "2001_db8__1.6000"
)

const defaultIdleMs = 10000

// script builds one ReceiverVector step by step.
type script struct {
	v  ReceiverVector
	at int64
}

func newScript(name string, sack bool, reqs ...string) *script {
	return &script{v: ReceiverVector{Name: name, Requirements: reqs, Sack: sack, IdleTimeoutMs: defaultIdleMs}}
}

// in adds a datagram from src and the ack it must cause (nil: none).
func (s *script) in(src string, dg, want []byte, note ...string) *script {
	st := Step{AtMs: s.at, From: src, Datagram: NewBlob(dg), Ack: blobp(want)}
	if len(note) > 0 {
		st.Note = note[0]
	}
	s.v.Steps = append(s.v.Steps, st)
	return s
}

// wait advances the clock.
func (s *script) wait(ms int64) *script { s.at += ms; return s }

func (s *script) transfer(src, first string, complete bool, output string) *script {
	s.v.Transfers = append(s.v.Transfers, Transfer{From: src, StartSeqno: first, Complete: complete, Output: NewBlob([]byte(output))})
	return s
}

func (s *script) file(name, content string) *script {
	s.v.Files = append(s.v.Files, File{Name: name, Content: NewBlob([]byte(content))})
	return s
}

func (s *script) note(n string) *script { s.v.Note = n; return s }

// corrupt flips one bit in the middle of a datagram: the checksum no
// longer matches (CRC-32 detects every single-bit error).
func corrupt(dg []byte) []byte {
	c := append([]byte{}, dg...)
	c[len(c)/2] ^= 0x04
	return c
}

func receiverVectors() []ReceiverVector {
	var out []ReceiverVector
	add := func(s *script) { out = append(out, s.v) }

	add(newScript("in order", false, "RUDP-13", "RUDP-14").
		in(addrA, pkt("start", 0, "Hel"), ack(1)).
		in(addrA, pkt("data", 1, "lo "), ack(2)).
		in(addrA, pkt("end", 2, "world"), ack(3)).
		transfer(addrA, "0", true, "Hello world").
		file(fileA, "Hello world"))

	add(newScript("empty file: start and end both empty", false, "RUDP-7", "RUDP-14").
		in(addrA, pkt("start", 5, ""), ack(6)).
		in(addrA, pkt("end", 6, ""), ack(7)).
		transfer(addrA, "5", true, "").
		file(fileA, ""))

	add(newScript("one-packet file: start carries it, end is empty", false, "RUDP-7", "RUDP-14").
		in(addrA, pkt("start", 0, "only"), ack(1)).
		in(addrA, pkt("end", 1, ""), ack(2)).
		transfer(addrA, "0", true, "only").
		file(fileA, "only"))

	add(newScript("empty start, end carries everything", false, "RUDP-7", "RUDP-14").
		in(addrA, pkt("start", 0, ""), ack(1)).
		in(addrA, pkt("end", 1, "all of it"), ack(2)).
		transfer(addrA, "0", true, "all of it").
		file(fileA, "all of it"))

	add(newScript("binary data with pipes and NUL", false, "RUDP-5", "RUDP-14").
		in(addrA, pkt("start", 1000, "a|b\x00"), ack(1001)).
		in(addrA, pkt("data", 1001, "|"), ack(1002)).
		in(addrA, pkt("end", 1002, "\xff\xfe|0|"), ack(1003)).
		transfer(addrA, "1000", true, "a|b\x00|\xff\xfe|0|").
		file(fileA, "a|b\x00|\xff\xfe|0|"))

	add(newScript("out of order inside the window", false, "RUDP-12", "RUDP-13", "RUDP-14").
		in(addrA, pkt("start", 10, "a"), ack(11)).
		in(addrA, pkt("data", 12, "c"), ack(11), "buffered; still acks the next expected").
		in(addrA, pkt("data", 13, "d"), ack(11)).
		in(addrA, pkt("data", 11, "b"), ack(14), "fills the hole: b, c, d are delivered").
		in(addrA, pkt("end", 14, "e"), ack(15)).
		transfer(addrA, "10", true, "abcde").
		file(fileA, "abcde"))

	add(newScript("end arrives before the data it follows", false, "RUDP-12", "RUDP-14").
		in(addrA, pkt("start", 0, "1"), ack(1)).
		in(addrA, pkt("end", 3, "4"), ack(1), "buffered: the transfer is not complete until end is delivered in order").
		in(addrA, pkt("data", 2, "3"), ack(1)).
		in(addrA, pkt("data", 1, "2"), ack(4)).
		transfer(addrA, "0", true, "1234").
		file(fileA, "1234"))

	add(newScript("outside the window: dropped, still acked", false, "RUDP-12", "RUDP-13").
		in(addrA, pkt("start", 0, "a"), ack(1)).
		in(addrA, pkt("data", 6, "g"), ack(1), "window is 1..5: 6 is dropped").
		in(addrA, pkt("data", 5, "f"), ack(1), "5 is the window's last slot: buffered").
		in(addrA, pkt("data", 1, "b"), ack(2)).
		in(addrA, pkt("data", 2, "c"), ack(3)).
		in(addrA, pkt("data", 3, "d"), ack(4)).
		in(addrA, pkt("data", 4, "e"), ack(6), "delivers e and f; 6 was not kept, so the ack is 6, not 7").
		in(addrA, pkt("data", 6, "g"), ack(7)).
		in(addrA, pkt("end", 7, ""), ack(8)).
		in(addrA, pkt("data", 100, "z"), ack(8), "far beyond the window after completion: acked, ignored").
		transfer(addrA, "0", true, "abcdefg").
		file(fileA, "abcdefg"))

	add(newScript("duplicates, also after completion", false, "RUDP-13", "RUDP-17").
		in(addrA, pkt("start", 0, "x"), ack(1)).
		in(addrA, pkt("data", 1, "y"), ack(2)).
		in(addrA, pkt("data", 1, "y"), ack(2), "duplicate: acked again, written once").
		in(addrA, pkt("start", 0, "x"), ack(2), "retransmitted start (same seqno, same data): a duplicate").
		in(addrA, pkt("end", 2, "z"), ack(3)).
		in(addrA, pkt("end", 2, "z"), ack(3), "retransmitted end after completion: acked (its ack may have been lost)").
		in(addrA, pkt("data", 1, "y"), ack(3)).
		in(addrA, pkt("start", 0, "x"), ack(3), "a stale start after completion is a duplicate, not a new transfer").
		transfer(addrA, "0", true, "xyz").
		file(fileA, "xyz"))

	add(newScript("corrupt and unparsable datagrams are dropped silently", false, "RUDP-8").
		in(addrA, pkt("start", 0, "ok"), ack(1)).
		in(addrA, corrupt(pkt("data", 1, "DATA")), nil, "bad checksum: no ack").
		in(addrA, pkt("data", 1, "DATA")[:8], nil, "truncated: no ack").
		in(addrA, []byte("garbage"), nil).
		in(addrA, sum("data|-1|x|"), nil, "valid checksum, bad seqno").
		in(addrA, sum("push|1|x|"), nil, "unknown type").
		in(addrA, pkt("data", 1, "DATA"), ack(2)).
		in(addrA, corrupt(pkt("end", 2, "!")), nil).
		in(addrA, pkt("end", 2, "!"), ack(3)).
		transfer(addrA, "0", true, "okDATA!").
		file(fileA, "okDATA!"))

	add(newScript("no transfer without start", false, "RUDP-11").
		in(addrA, pkt("data", 1, "early"), nil, "no transfer from this address: dropped, no ack").
		in(addrA, pkt("end", 2, ""), nil).
		in(addrA, ack(1), nil, "acks and sacks sent to a receiver are ignored").
		in(addrA, sack(1, 3), nil).
		in(addrA, pkt("start", 0, "s"), ack(1)).
		in(addrA, pkt("data", 1, "early"), ack(2), "now part of the transfer").
		in(addrA, pkt("end", 2, ""), ack(3)).
		transfer(addrA, "0", true, "searly").
		file(fileA, "searly"))

	add(newScript("new start mid-transfer replaces the transfer", false, "RUDP-18", "RUDP-13").
		in(addrA, pkt("start", 0, "old"), ack(1)).
		in(addrA, pkt("data", 1, "stale"), ack(2)).
		in(addrA, pkt("data", 3, "held"), ack(2)).
		in(addrA, pkt("start", 100, "new"), ack(101), "a different seqno: a new transfer; the old one is abandoned").
		in(addrA, pkt("data", 2, "late"), ack(101), "a packet of the old transfer is outside the new window: acked with the new next-expected").
		in(addrA, pkt("end", 101, "!"), ack(102)).
		transfer(addrA, "0", false, "oldstale").
		transfer(addrA, "100", true, "new!").
		file(fileA, "new!").
		note("The reference truncates the abandoned transfer's .partial file when the new one begins, since both have the same name."))

	add(newScript("start with the same seqno but new data is a new transfer", false, "RUDP-18").
		in(addrA, pkt("start", 0, "a"), ack(1)).
		in(addrA, pkt("data", 1, "b"), ack(2)).
		in(addrA, pkt("start", 0, "Z"), ack(1), "same seqno, different data: not a retransmission").
		in(addrA, pkt("end", 1, ""), ack(2)).
		transfer(addrA, "0", false, "ab").
		transfer(addrA, "0", true, "Z").
		file(fileA, "Z"))

	add(newScript("new transfer after completion", false, "RUDP-18", "RUDP-17").
		in(addrA, pkt("start", 0, "a"), ack(1)).
		in(addrA, pkt("end", 1, "b"), ack(2)).
		in(addrA, pkt("start", 50, "c"), ack(51), "a new start seqno: a new transfer").
		in(addrA, pkt("end", 1, "b"), ack(51), "the old end now belongs to no window").
		in(addrA, pkt("end", 51, "d"), ack(52)).
		transfer(addrA, "0", true, "ab").
		transfer(addrA, "50", true, "cd").
		file(fileA, "cd").
		note("Both transfers complete; the second replaces the first's file, since the name depends on the address only."))

	add(newScript("two senders at once, same seqnos", false, "RUDP-10").
		in(addrA, pkt("start", 0, "A0"), ack(1)).
		in(addrB, pkt("start", 0, "B0"), ack(1)).
		in(addrB, pkt("data", 2, "B2"), ack(1)).
		in(addrA, pkt("data", 1, "A1"), ack(2)).
		in(addrC, pkt("data", 1, "C1"), nil, "a third address without start").
		in(addrB, pkt("data", 1, "B1"), ack(3)).
		in(addrA, pkt("end", 2, "A2"), ack(3)).
		in(addrC, pkt("start", 7, "C7"), ack(8)).
		in(addrB, pkt("end", 3, ""), ack(4)).
		transfer(addrA, "0", true, "A0A1A2").
		transfer(addrB, "0", true, "B0B1B2").
		transfer(addrC, "7", false, "C7").
		file(fileA, "A0A1A2").
		file(fileB, "B0B1B2").
		file(fileC+".partial", "C7"))

	idle := newScript("idle timeout", false, "RUDP-15", "RUDP-11", "RUDP-17")
	idle.v.IdleTimeoutMs = 1000
	add(idle.
		in(addrA, pkt("start", 0, "a"), ack(1)).
		in(addrB, pkt("start", 0, "p"), ack(1)).
		in(addrB, pkt("end", 1, "q"), ack(2)).
		wait(600).
		in(addrA, pkt("data", 1, "b"), ack(2), "idle 600 ms < 1000 ms: alive").
		wait(900).
		in(addrA, pkt("data", 2, "c"), ack(3), "idle 900 ms: alive").
		wait(600).
		in(addrB, pkt("end", 1, "q"), nil, "B completed 2100 ms ago and has expired: no transfer, no ack").
		wait(1400).
		in(addrA, pkt("data", 3, "d"), nil, "A idle 2000 ms: dropped, its output stays .partial").
		in(addrA, pkt("end", 4, ""), nil).
		transfer(addrA, "0", false, "abc").
		transfer(addrB, "0", true, "pq").
		file(fileA+".partial", "abc").
		file(fileB, "pq"))

	add(newScript("restart after an idle timeout", false, "RUDP-15", "RUDP-18").
		in(addrA, pkt("start", 0, "a"), ack(1)).
		wait(11000).
		in(addrA, pkt("data", 1, "b"), nil, "expired").
		in(addrA, pkt("start", 0, "a"), ack(1), "the same start again begins a new transfer").
		in(addrA, pkt("end", 1, "b"), ack(2)).
		transfer(addrA, "0", false, "a").
		transfer(addrA, "0", true, "ab").
		file(fileA, "ab"))

	add(newScript("sack", true, "RUDP-30", "RUDP-31", "RUDP-12", "RUDP-14").
		in(addrA, pkt("start", 0, "0"), sack(1)).
		in(addrA, pkt("data", 2, "2"), sack(1, 2)).
		in(addrA, pkt("data", 4, "4"), sack(1, 2, 4)).
		in(addrA, pkt("data", 5, "5"), sack(1, 2, 4, 5), "5 = 1+4: the last slot of the window").
		in(addrA, pkt("data", 6, "6"), sack(1, 2, 4, 5), "outside the window: dropped, not listed").
		in(addrA, pkt("data", 4, "4"), sack(1, 2, 4, 5), "duplicate of a held packet").
		in(addrA, corrupt(pkt("data", 1, "1")), nil).
		in(addrA, pkt("data", 1, "1"), sack(3, 4, 5)).
		in(addrA, pkt("data", 3, "3"), sack(6)).
		in(addrA, pkt("end", 7, "7"), sack(6, 7)).
		in(addrA, pkt("data", 6, "6"), sack(8)).
		in(addrA, pkt("end", 7, "7"), sack(8), "after completion").
		transfer(addrA, "0", true, "01234567").
		file(fileA, "01234567"))

	full, over := sized(1, 1472, 0), sized(1, 1473, 0xff)
	add(newScript("largest datagram accepted, oversize dropped", false, "RUDP-2", "RUDP-8").
		in(addrA, pkt("start", 0, ""), ack(1)).
		in(addrA, pkt("data", 1, over), nil, "1473 bytes: too long, no ack").
		in(addrA, pkt("data", 1, full), ack(2), "exactly 1472 bytes").
		in(addrA, pkt("end", 2, ""), ack(3)).
		transfer(addrA, "0", true, full).
		file(fileA, full))

	return out
}

// sized returns data for which the data packet with seqno seq is exactly
// size bytes: fill bytes from fill on, in the largest length that works.
func sized(seq uint64, size int, fill byte) string {
	for b := int(fill); b < int(fill)+256; b++ {
		for n := size - len("data|||"); n > 0; n-- {
			d := strings.Repeat(string([]byte{byte(b)}), n)
			if len(pkt("data", seq, d)) == size {
				return d
			}
		}
	}
	panic("no payload gives the size")
}
