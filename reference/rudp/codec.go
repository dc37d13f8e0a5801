// Package rudp is the Go reference for the course's reliable file transfer over
// UDP (spec/rudp.md): the datagram codec, a receiver and a sender.
//
// Every protocol decision cites its requirement number in spec/rudp.md.
package rudp

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
)

// MaxDatagram is the largest datagram either side may send (RUDP-2).
const MaxDatagram = 1472

// Packet types (RUDP-1).
const (
	TypeStart = "start"
	TypeData  = "data"
	TypeEnd   = "end"
	TypeAck   = "ack"
	TypeSack  = "sack"
)

// Packet is one decoded datagram. Data is nil for ack and sack packets.
// For sack packets Sacks holds the out-of-order seqnos listed (RUDP-30).
type Packet struct {
	Type  string
	Seq   uint64
	Data  []byte
	Sacks []uint64
}

// Parse errors. Callers drop such datagrams silently (RUDP-8), but the
// wire checker and the tests want to know why.
var (
	ErrTooLong      = errors.New("datagram longer than 1472 bytes")
	ErrMalformed    = errors.New("malformed datagram")
	ErrBadChecksum  = errors.New("checksum mismatch")
	ErrUnknownType  = errors.New("unknown packet type")
	ErrBadSeqno     = errors.New("seqno is not a non-negative decimal integer")
	ErrBadSackField = errors.New("malformed sack list")
)

// Checksum returns the CRC-32 (IEEE) of b, the checksum the protocol puts
// after the last '|' (RUDP-4).
func Checksum(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// Encode returns the datagram for p: "<type>|<seq>|<data>|<checksum>" for
// start/data/end, "ack|<seq>|<checksum>" and "sack|<seq>;<s1>,<s2>|<checksum>"
// for acknowledgements (RUDP-1, RUDP-3, RUDP-30).
func Encode(p Packet) []byte {
	b := make([]byte, 0, len(p.Data)+32)
	b = append(b, p.Type...)
	b = append(b, '|')
	b = strconv.AppendUint(b, p.Seq, 10)
	switch p.Type {
	case TypeAck:
	case TypeSack:
		b = append(b, ';')
		for i, s := range p.Sacks {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, s, 10)
		}
	default:
		b = append(b, '|')
		b = append(b, p.Data...)
	}
	b = append(b, '|')
	return strconv.AppendUint(b, uint64(Checksum(b)), 10)
}

// Parse decodes one datagram. It splits as RUDP-5 says: the type runs to the
// first '|', the seqno to the second, the checksum follows the last '|', and
// data is everything in between, so data may itself contain '|'. Parse
// never keeps a reference to b: Data is a copy.
func Parse(b []byte) (Packet, error) {
	if len(b) > MaxDatagram {
		return Packet{}, ErrTooLong
	}
	last := bytes.LastIndexByte(b, '|')
	if last < 0 {
		return Packet{}, fmt.Errorf("%w: no '|'", ErrMalformed)
	}
	if err := checkChecksum(b[:last+1], b[last+1:]); err != nil {
		return Packet{}, err
	}
	first := bytes.IndexByte(b, '|')
	if first == last {
		// "<type>|<checksum>": not even a seqno field (RUDP-1, RUDP-6).
		return Packet{}, fmt.Errorf("%w: only one '|'", ErrMalformed)
	}
	p := Packet{Type: string(b[:first])}
	rest := b[first+1 : last] // "<seq>|<data>" for start/data/end, "<seq>" for ack, "<cum>;<list>" for sack
	var err error
	switch p.Type {
	case TypeAck:
		if bytes.IndexByte(rest, '|') >= 0 {
			return Packet{}, fmt.Errorf("%w: ack with more than two '|'", ErrMalformed)
		}
		if p.Seq, err = parseUint(rest); err != nil {
			return Packet{}, err
		}
		return p, nil
	case TypeSack:
		if bytes.IndexByte(rest, '|') >= 0 {
			return Packet{}, fmt.Errorf("%w: sack with more than two '|'", ErrMalformed)
		}
		return parseSack(rest)
	case TypeStart, TypeData, TypeEnd:
	default:
		return Packet{}, fmt.Errorf("%w %q", ErrUnknownType, p.Type)
	}
	seq, data, ok := bytes.Cut(rest, []byte{'|'})
	if !ok {
		// only "<type>|<seq>|<checksum>": the data field is missing.
		return Packet{}, fmt.Errorf("%w: missing data field", ErrMalformed)
	}
	if p.Seq, err = parseUint(seq); err != nil {
		return Packet{}, err
	}
	p.Data = append([]byte{}, data...)
	return p, nil
}

// checkChecksum compares the checksum field with the CRC-32 of everything up
// to and including the last '|'. The field must be the canonical decimal
// text (no sign, no leading zeros), because the course receiver compares
// strings: a sender writing "0042" would fail against it (RUDP-4).
func checkChecksum(covered, field []byte) error {
	if len(field) == 0 {
		return fmt.Errorf("%w: empty checksum field", ErrMalformed)
	}
	for _, c := range field {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: checksum field %q", ErrMalformed, field)
		}
	}
	var want [10]byte
	if !bytes.Equal(field, strconv.AppendUint(want[:0], uint64(Checksum(covered)), 10)) {
		return ErrBadChecksum
	}
	return nil
}

func parseSack(field []byte) (Packet, error) {
	p := Packet{Type: TypeSack}
	// A missing ';' is accepted as an empty list; Encode always writes it (RUDP-30).
	cum, list, _ := bytes.Cut(field, []byte{';'})
	var err error
	if p.Seq, err = parseUint(cum); err != nil {
		return Packet{}, err
	}
	if len(list) == 0 {
		return p, nil
	}
	for s := range bytes.SplitSeq(list, []byte{','}) {
		n, err := parseUint(s)
		if err != nil {
			return Packet{}, fmt.Errorf("%w: %q", ErrBadSackField, list)
		}
		p.Sacks = append(p.Sacks, n)
	}
	return p, nil
}

// parseUint accepts 1 to 20 ASCII decimal digits whose value fits in 64
// bits: no sign, no spaces, no empty string (RUDP-3). Leading zeros are
// accepted on input (the course receiver's int() does so); Encode never
// writes them.
func parseUint(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, fmt.Errorf("%w: %q", ErrBadSeqno, b)
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q", ErrBadSeqno, b)
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, fmt.Errorf("%w: %q overflows 64 bits", ErrBadSeqno, b)
		}
		n = n*10 + d
	}
	return n, nil
}

// MaxPayload is the largest data field a packet of type typ with seqno seq
// can carry while its datagram stays within MaxDatagram whatever its
// checksum (up to 10 digits) turns out to be (RUDP-2, RUDP-46).
func MaxPayload(typ string, seq uint64) int {
	return MaxDatagram - len(typ) - digits(seq) - len("|||") - len("4294967295")
}

func digits(n uint64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}
