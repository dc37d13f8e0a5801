// Package trace is the netsim trace format (spec/trace.md): JSON Lines, one
// header line, one line per datagram decision or release, and a footer
// written on a clean stop.
//
// The relay writes events with a hand-rolled encoder because it runs on the
// packet path (the benchmark budget is 50,000 packets/s with tracing on);
// readers use encoding/json, so the two are checked against each other by
// round-trip tests and a fuzz target.
package trace

import (
	"encoding/json"
	"time"
)

// Version is the value of the header's "v" field. It changes only when a
// field changes meaning or is removed; new optional fields keep it.
const Version = 1

// Directions. Fwd is from the relay's clients (the peers that send to
// -listen: the RUDP sender, the Hello client) to -upstream (the RUDP
// receiver, the Hello server); Rev is the way back.
const (
	Fwd = "fwd"
	Rev = "rev"
)

// Actions. Every datagram netsim reads gets exactly one arrival event with
// one of the first six actions. A datagram reaches its destination once
// per "forwarded" arrival and once per "release" event, never otherwise.
const (
	Forwarded  = "forwarded"  // sent on at once, unchanged, one copy
	Dropped    = "dropped"    // never sent; Detail says why
	Duplicated = "duplicated" // sent as several copies (each has a release)
	Corrupted  = "corrupted"  // its copy has changed bytes (see the release)
	Reordered  = "reordered"  // held back until later datagrams passed it
	Delayed    = "delayed"    // sent later (delay, jitter or rate queue)
	Release    = "release"    // one copy leaving netsim
	Cancelled  = "cancelled"  // a held or delayed copy never sent: netsim stopped

	// TCP mode.
	Accept    = "accept"     // a client connected (Detail: the upstream dial)
	Segment   = "segment"    // one chunk written to the other side
	HalfClose = "half-close" // EOF forwarded as a TCP half-close
	Close     = "close"      // both sides done, connection closed
	Error     = "error"      // dial or I/O error; Detail says which
)

// Parse error codes for Event.Err: stable short names for the codec's
// errors, so consumers need not match message texts.
const (
	ErrTooLong     = "too-long"
	ErrMalformed   = "malformed"
	ErrBadChecksum = "bad-checksum"
	ErrUnknownType = "unknown-type"
	ErrBadSeqno    = "bad-seqno"
	ErrBadSack     = "bad-sack"
)

// Header is the first line of a trace. Config is netsim's effective
// configuration, kept raw here so this package does not depend on netsim.
type Header struct {
	V        int             `json:"v"`
	Kind     string          `json:"kind"` // always "header"
	Mode     string          `json:"mode"` // "udp" or "tcp"
	Seed     uint64          `json:"seed"`
	Scenario string          `json:"scenario"`
	Start    time.Time       `json:"start"`
	Listen   string          `json:"listen,omitempty"`
	Upstream string          `json:"upstream,omitempty"`
	Args     []string        `json:"args,omitempty"`
	Config   json.RawMessage `json:"config,omitempty"`
}

// Footer is the last line of a trace written by a relay that stopped
// cleanly. A trace without one was cut short.
type Footer struct {
	Kind   string           `json:"kind"` // always "footer"
	T      float64          `json:"t"`
	Counts map[string]int64 `json:"counts,omitempty"`
}

// Event is one line between header and footer. Zero-valued optional
// fields are omitted on the wire; the Has* flags say whether Seq and
// CsumOK were present.
type Event struct {
	T      float64 // ms since Header.Start
	Flow   int     // per relay, in order of first appearance; -1: no flow
	Dir    string  // Fwd or Rev
	Idx    uint64  // per flow and direction, from 0, in arrival order
	Action string
	Detail string
	Copy   int // release/cancelled: which copy, from 1
	Size   int // datagram (or TCP chunk) length in bytes

	// RUDP header of the datagram as it was at this point (the arrival
	// event describes what the peer sent, a release what netsim sent).
	Type    string
	Seq     uint64
	HasSeq  bool
	Sacks   []uint64
	CsumOK  bool // the checksum matches
	HasCsum bool // a checksum field was found and checked
	Err     string
	PLen    int // data field length of a valid start/data/end

	// Data is a TCP chunk's bytes (segment events, the first WireCapture
	// bytes of each connection and direction), so Hello messages can be
	// judged as they were on the wire.
	Data []byte
}

// WireCapture is how many bytes of each TCP connection and direction a
// trace keeps: far more than any Hello message, and a bound on what a
// flooding program can put into the trace.
const WireCapture = 16 << 10

// Valid reports whether the datagram parsed completely with a good
// checksum: the receiver must accept it (or a sender must act on it).
func (e *Event) Valid() bool { return e.HasCsum && e.CsumOK && e.Err == "" && e.Type != "" }

// Time is T as a duration.
func (e *Event) Time() time.Duration { return time.Duration(e.T * float64(time.Millisecond)) }

// Millis converts a duration since the trace start to the "t" value.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
