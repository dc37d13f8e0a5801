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
	sum, err := parseUint(b[last+1:], 32)
	if err != nil {
		return Packet{}, fmt.Errorf("%w: checksum field %q", ErrMalformed, b[last+1:])
	}
	if uint32(sum) != Checksum(b[:last+1]) {
		return Packet{}, ErrBadChecksum
	}
	first := bytes.IndexByte(b, '|')
	p := Packet{Type: string(b[:first])}
	rest := b[first+1 : last+1] // "<seq>|<data>|" or "<seq>|" for acks
	switch p.Type {
	case TypeAck:
		if p.Seq, err = parseUint(rest[:len(rest)-1], 64); err != nil {
			return Packet{}, ErrBadSeqno
		}
		return p, nil
	case TypeSack:
		return parseSack(rest[:len(rest)-1])
	case TypeStart, TypeData, TypeEnd:
	default:
		return Packet{}, fmt.Errorf("%w %q", ErrUnknownType, p.Type)
	}
	second := bytes.IndexByte(rest, '|')
	if first+1+second == last {
		// only "<type>|<seq>|<checksum>": the data field is missing.
		return Packet{}, fmt.Errorf("%w: missing data field", ErrMalformed)
	}
	if p.Seq, err = parseUint(rest[:second], 64); err != nil {
		return Packet{}, ErrBadSeqno
	}
	p.Data = append([]byte{}, rest[second+1:len(rest)-1]...)
	return p, nil
}

func parseSack(field []byte) (Packet, error) {
	p := Packet{Type: TypeSack}
	cum, list, _ := bytes.Cut(field, []byte{';'})
	var err error
	if p.Seq, err = parseUint(cum, 64); err != nil {
		return Packet{}, ErrBadSeqno
	}
	if len(list) == 0 {
		return p, nil
	}
	for _, s := range bytes.Split(list, []byte{','}) {
		n, err := parseUint(s, 64)
		if err != nil {
			return Packet{}, ErrBadSackField
		}
		p.Sacks = append(p.Sacks, n)
	}
	return p, nil
}

// parseUint accepts only ASCII decimal digits: no sign, no spaces, no
// empty string (RUDP-3).
func parseUint(b []byte, bits int) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, ErrBadSeqno
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, ErrBadSeqno
		}
	}
	return strconv.ParseUint(string(b), 10, bits)
}
