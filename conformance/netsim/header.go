package netsim

import (
	"bytes"
	"errors"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/reference/rudp"
)

// header is what the trace says about a datagram's RUDP header.
type header struct {
	typ     string
	seq     uint64
	hasSeq  bool
	sacks   []uint64
	csumOK  bool
	hasCsum bool
	err     string
	plen    int
}

// describe parses b with the reference codec. When the checksum fails,
// the codec returns no fields, but the trace still wants to say "a data
// packet with seqno 7 arrived corrupted", so the type and seqno are then
// read on a best-effort basis (peek) and marked unverified by csum_ok
// false.
func describe(b []byte) header {
	p, err := rudp.Parse(b)
	if err == nil {
		h := header{typ: p.Type, seq: p.Seq, hasSeq: true, sacks: p.Sacks, csumOK: true, hasCsum: true}
		switch p.Type {
		case rudp.TypeStart, rudp.TypeData, rudp.TypeEnd:
			h.plen = len(p.Data)
		}
		return h
	}
	var h header
	switch {
	case errors.Is(err, rudp.ErrTooLong):
		h.err = trace.ErrTooLong
	case errors.Is(err, rudp.ErrBadChecksum):
		h.err, h.hasCsum = trace.ErrBadChecksum, true
	case errors.Is(err, rudp.ErrUnknownType):
		h.err, h.hasCsum, h.csumOK = trace.ErrUnknownType, true, true
	case errors.Is(err, rudp.ErrBadSeqno):
		h.err, h.hasCsum, h.csumOK = trace.ErrBadSeqno, true, true
	case errors.Is(err, rudp.ErrBadSackField):
		h.err, h.hasCsum, h.csumOK = trace.ErrBadSack, true, true
	default:
		h.err = trace.ErrMalformed
	}
	h.typ, h.seq, h.hasSeq = peek(b)
	return h
}

// peek reads "<type>|<digits>" from the front of b, accepting only the
// protocol's type names, so garbage is never labelled with a type.
func peek(b []byte) (typ string, seq uint64, ok bool) {
	t, rest, found := bytes.Cut(b, []byte{'|'})
	if !found {
		return "", 0, false
	}
	switch string(t) {
	case rudp.TypeStart, rudp.TypeData, rudp.TypeEnd, rudp.TypeAck, rudp.TypeSack:
		typ = string(t)
	default:
		return "", 0, false
	}
	n := 0
	for n < len(rest) && n < 20 && rest[n] >= '0' && rest[n] <= '9' {
		seq = seq*10 + uint64(rest[n]-'0')
		n++
	}
	if n == 0 || n == 20 || (n < len(rest) && rest[n] != '|' && rest[n] != ';') {
		return typ, 0, false
	}
	return typ, seq, true
}

func (h *header) fill(e *trace.Event) {
	e.Type, e.Seq, e.HasSeq, e.Sacks = h.typ, h.seq, h.hasSeq, h.sacks
	e.CsumOK, e.HasCsum, e.Err, e.PLen = h.csumOK, h.hasCsum, h.err, h.plen
}

// valid reports whether the datagram parsed with a good checksum.
func (h *header) valid() bool { return h.err == "" && h.hasCsum && h.csumOK }
