package rudp

import (
	"bytes"
	"errors"
	"math"
	"net"
	"slices"
	"strings"
	"time"
)

// Window is the receive window and the sender's in-flight limit, in
// packets: the receiver buffers next-expected .. next-expected+4 (RUDP-12)
// and a sender never sends a seqno >= cumulative ack + 5 (RUDP-40).
const Window = 5

// Transfer is the receiver's state for one transfer: a pure, deterministic
// state machine with no I/O and no clock, so that the vectors in
// spec/vectors/receiver.json can drive it directly.
type Transfer struct {
	first     uint64 // seqno of the start packet
	startData []byte // data of the start packet, to tell a retransmitted start from a new one (RUDP-18)
	next      uint64 // next expected seqno: everything below it is delivered
	done      bool   // end was delivered in order (RUDP-14)
	sack      bool   // answer with sack instead of ack (RUDP-31)
	slot      [Window]struct {
		ok bool
		p  Packet
	} // out-of-order packets, slot seq%Window (RUDP-12)
}

// NewTransfer returns the state of a transfer begun by start, which the
// caller then passes to Handle like any other packet. With sack set the
// transfer answers with sack packets (RUDP-30, RUDP-31).
func NewTransfer(start Packet, sack bool) *Transfer {
	return &Transfer{
		first:     start.Seq,
		startData: slices.Clone(start.Data),
		next:      start.Seq,
		sack:      sack,
	}
}

// First returns the seqno of the transfer's start packet.
func (t *Transfer) First() uint64 { return t.first }

// Next returns the next expected seqno, the value every ack carries (RUDP-13).
func (t *Transfer) Next() uint64 { return t.next }

// Done reports whether end has been delivered in order (RUDP-14).
func (t *Transfer) Done() bool { return t.done }

// Handle processes one valid start, data or end packet of this transfer.
// It returns the acknowledgement to send (always: RUDP-13, RUDP-17), the
// bytes that became deliverable in order (nil if none), and completed,
// which is true only for the packet that delivered end. The caller must
// write deliver, and on completed finish the output, before sending ack
// (RUDP-14).
func (t *Transfer) Handle(p Packet) (ack Packet, deliver []byte, completed bool) {
	// RUDP-12: only next .. next+4 is buffered; the rest is dropped (but
	// still acked, RUDP-13). After completion nothing more is accepted
	// (RUDP-17). Seqno 2^64-1 can never be delivered, since the ack after
	// it would not fit in 64 bits (RUDP-3), so it is outside every window.
	if !t.done && p.Seq >= t.next && p.Seq-t.next < Window && p.Seq != math.MaxUint64 {
		s := &t.slot[p.Seq%Window]
		if !s.ok { // a duplicate of a buffered packet changes nothing
			s.ok, s.p = true, p
		}
		for s := &t.slot[t.next%Window]; s.ok && s.p.Seq == t.next; s = &t.slot[t.next%Window] {
			q := s.p
			s.ok, s.p = false, Packet{}
			if deliver == nil {
				deliver = q.Data[:len(q.Data):len(q.Data)]
			} else {
				deliver = append(deliver, q.Data...)
			}
			t.next++
			if q.Type == TypeEnd { // RUDP-14: complete; nothing follows end (RUDP-7)
				t.done, completed = true, true
				t.slot = [Window]struct {
					ok bool
					p  Packet
				}{}
				break
			}
		}
	}
	return t.Ack(), deliver, completed
}

// Ack returns the acknowledgement for the current state: the cumulative
// next-expected seqno (RUDP-13), and in SACK mode the buffered out-of-order
// seqnos in ascending order (RUDP-31).
func (t *Transfer) Ack() Packet {
	if !t.sack {
		return Packet{Type: TypeAck, Seq: t.next}
	}
	a := Packet{Type: TypeSack, Seq: t.next}
	for i := uint64(1); i < Window; i++ {
		if s := t.slot[(t.next+i)%Window]; s.ok && s.p.Seq == t.next+i {
			a.Sacks = append(a.Sacks, s.p.Seq)
		}
	}
	return a
}

// sameStart reports whether p is a retransmission of this transfer's start.
func (t *Transfer) sameStart(p Packet) bool {
	return p.Seq == t.first && bytes.Equal(p.Data, t.startData)
}

// Reasons a valid datagram is dropped without an ack; reported in
// Step.Err for logs and tests.
var (
	ErrNoTransfer   = errors.New("no transfer from this address (RUDP-11)")
	ErrNotForUs     = errors.New("ack or sack sent to a receiver")
	ErrTooManyPeers = errors.New("too many concurrent transfers")
)

// DefaultIdleTimeout is how long a transfer may stay silent before the
// receiver drops it (RUDP-15).
const DefaultIdleTimeout = 10 * time.Second

// DefaultMaxTransfers bounds the transfers (open files) a receiver keeps at
// once, so a flood of start packets from many addresses cannot exhaust
// file descriptors. Completed transfers count until they expire.
const DefaultMaxTransfers = 256

// Machine is the receiver logic for every source address: one Transfer per
// address (RUDP-10), created by start (RUDP-11), replaced by a new start
// (RUDP-18) and dropped when idle (RUDP-15). Like Transfer it does no I/O
// and reads no clock: the caller passes the time, so runs are reproducible.
// A Machine is not safe for concurrent use.
type Machine struct {
	sack         bool
	idle         time.Duration
	maxTransfers int
	peers        map[string]*peer
}

type peer struct {
	t    *Transfer
	last time.Time // last valid packet of the transfer (RUDP-15)
}

// NewMachine returns a Machine. idle <= 0 means DefaultIdleTimeout;
// maxTransfers <= 0 means DefaultMaxTransfers.
func NewMachine(sack bool, idle time.Duration, maxTransfers int) *Machine {
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	if maxTransfers <= 0 {
		maxTransfers = DefaultMaxTransfers
	}
	return &Machine{sack: sack, idle: idle, maxTransfers: maxTransfers, peers: map[string]*peer{}}
}

// Step is what the caller must do about one datagram, in this order:
// on Begin start a fresh output for the source (abandoning any open one),
// append Deliver, on Complete finish the output, then send Ack.
type Step struct {
	Packet   Packet // the parsed datagram, valid when Err is nil or ErrNoTransfer, ErrNotForUs, ErrTooManyPeers
	Err      error  // why the datagram was dropped: a parse error (RUDP-8) or ErrNoTransfer, ErrNotForUs, ErrTooManyPeers
	Begin    bool   // this start began a new transfer (RUDP-11, RUDP-18)
	Deliver  []byte // bytes to append, in order, to the source's output (RUDP-14)
	Complete bool   // end was delivered: the output is complete (RUDP-14)
	Ack      []byte // datagram to send back to the source; nil when dropped
	First    uint64 // start seqno of the source's transfer, when there is one
}

// Handle processes one datagram from src (any stable text naming the
// source, e.g. "172.18.0.3:40000") received at now.
func (m *Machine) Handle(now time.Time, src string, datagram []byte) Step {
	p, err := Parse(datagram)
	if err != nil {
		return Step{Err: err} // RUDP-8: silently dropped, never acked
	}
	st := Step{Packet: p}
	cur := m.peers[src]
	switch p.Type {
	case TypeAck, TypeSack:
		st.Err = ErrNotForUs
		return st
	case TypeStart:
		if cur == nil || !cur.t.sameStart(p) {
			// RUDP-11 / RUDP-18: a start with a new seqno (or new data)
			// begins a new transfer, replacing the one from this address.
			if cur == nil && len(m.peers) >= m.maxTransfers {
				st.Err = ErrTooManyPeers
				return st
			}
			cur = &peer{t: NewTransfer(p, m.sack)}
			m.peers[src] = cur
			st.Begin = true
		}
	default:
		if cur == nil {
			st.Err = ErrNoTransfer // RUDP-11
			return st
		}
	}
	cur.last = now
	ack, deliver, completed := cur.t.Handle(p)
	st.Deliver, st.Complete, st.Ack, st.First = deliver, completed, Encode(ack), cur.t.first
	return st
}

// Expire drops every transfer idle for at least the idle timeout at now
// (RUDP-15) and returns their sources, sorted. Completed transfers are kept
// until then so that retransmissions are still acked (RUDP-17).
func (m *Machine) Expire(now time.Time) []string {
	var gone []string
	for src, pr := range m.peers {
		if now.Sub(pr.last) >= m.idle {
			gone = append(gone, src)
			delete(m.peers, src)
		}
	}
	slices.Sort(gone)
	return gone
}

// Forget drops the transfer from src at once, e.g. when its output failed.
// Later packets from src other than start are dropped (RUDP-11).
func (m *Machine) Forget(src string) { delete(m.peers, src) }

// Transfer returns the current transfer from src, or nil.
func (m *Machine) Transfer(src string) *Transfer {
	if pr := m.peers[src]; pr != nil {
		return pr.t
	}
	return nil
}

// OutputName returns the file name for transfers from src ("host:port",
// as net.Addr.String gives it): "<host>.<port>", the course receiver's
// name, with every byte outside [A-Za-z0-9.-] replaced by '_' so that the
// result is always one plain file name inside the output directory
// (RUDP-16), e.g. "172.18.0.3.40000" or "__1.40000" for [::1]:40000.
func OutputName(src string) string {
	name := src
	if host, port, err := net.SplitHostPort(src); err == nil {
		name = host + "." + port
	}
	b := []byte(name)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	name = string(b)
	// A leading '.' would make a hidden file, or "." / ".."; an empty name
	// is no file at all.
	if name == "" || name[0] == '.' {
		name = "_" + name
	}
	if strings.HasSuffix(name, PartialSuffix) {
		name += "_" // never mistaken for an incomplete transfer
	}
	if len(name) > 200 {
		name = name[:200]
	}
	return name
}

// PartialSuffix marks an output file whose transfer has not completed
// (RUDP-15, spec/manifest.md MANIFEST-11).
const PartialSuffix = ".partial"
