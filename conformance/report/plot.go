package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/interop-suite/interop/conformance/netsim/trace"
)

// Mark kinds of the sequence/time plot. Every datagram the simulator read
// (every arrival event of the trace) is exactly one mark; releases and
// cancellations are not marks, they are what became of one.
const (
	MarkTx         = iota // a data datagram sent for the first time and let through
	MarkRetx              // a data datagram sent again (its seqno was sent before) and let through
	MarkDrop              // a data datagram the network lost
	MarkCorrupt           // a data datagram that arrived damaged
	MarkAck               // an ack (or sack) let through
	MarkAckDrop           // an ack the network lost
	MarkAckCorrupt        // an ack that arrived damaged
	MarkOther             // a datagram that did not parse (no seqno): drawn on the bottom row
	numMarks
)

// markNames are the legend's words, indexed by kind.
var markNames = [numMarks]string{"transmission", "retransmission", "lost", "corrupted", "ack", "ack lost", "ack corrupted", "unparsable"}

// Series is a trace reduced to what the plot draws: one entry per arrival,
// in trace order, in columns so it is small in the page (about 20 bytes a
// packet) and drawn by the page's script.
type Series struct {
	Base  string   `json:"base"` // seqno of the first start (decimal: it may exceed 2^53)
	T     []int64  `json:"t"`    // time, in tenths of a millisecond since the trace start
	Y     []int64  `json:"y"`    // seqno minus Base (acks: the next expected seqno); 0 for MarkOther
	K     []int    `json:"k"`    // mark kind
	S     []int    `json:"s"`    // datagram size in bytes
	Flow  []int    `json:"f,omitempty"`
	Names []string `json:"names"` // markNames, so the script needs no copy
	// Cut is set when the trace had more packets than the plot keeps.
	Cut bool `json:"cut,omitempty"`
	// Skipped counts lines that did not parse and are not drawn.
	Skipped int `json:"skipped,omitempty"`
}

// Len is the number of marks.
func (s *Series) Len() int { return len(s.K) }

// Count returns how many marks have kind k.
func (s *Series) Count(k int) int {
	n := 0
	for _, x := range s.K {
		if x == k {
			n++
		}
	}
	return n
}

// MaxPlotPackets caps one plot: a 1 MB transfer under heavy loss stays
// well under it; a trace far larger is a runaway sender, and its first
// packets tell the story.
const MaxPlotPackets = 20000

// isArrival reports whether the event is a datagram netsim read (as
// opposed to a release or a cancellation of a copy).
func isArrival(action string) bool {
	switch action {
	case trace.Forwarded, trace.Dropped, trace.Duplicated, trace.Corrupted, trace.Reordered, trace.Delayed:
		return true
	}
	return false
}

// ReadSeries reads a UDP trace into a plot series. A trace cut short is
// plotted as far as it goes, and a line that does not parse is left out
// (counted in Skipped): the plot shows what can be shown, the wire checker
// judges the trace. A TCP trace gives an error: Hello cells have no
// sequence plot.
//
// It reads lines itself rather than with trace.Reader so that it can pass
// over releases and cancellations without decoding them: they are half
// the lines of a trace with delays, and a report reads hundreds of traces.
func ReadSeries(r io.Reader) (*Series, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), trace.MaxLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("trace header: %w", err)
		}
		return nil, errors.New("trace header: empty trace")
	}
	var h trace.Header
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
		return nil, fmt.Errorf("trace header: %w", err)
	}
	switch {
	case h.Kind != "header" || h.V != trace.Version:
		return nil, fmt.Errorf("trace header: kind %q version %d, want a version %d header", h.Kind, h.V, trace.Version)
	case h.Mode != "udp":
		return nil, fmt.Errorf("a %s trace has no sequence plot", h.Mode)
	}
	var pkts []plotPacket
	base := map[int]uint64{} // per flow: seqno of its first start, else its lowest seqno
	hasStart := map[int]bool{}
	sent := map[[2]uint64]bool{} // (flow, seqno) of data already sent once
	multiFlow, skipped := false, 0
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || bytes.Contains(line, []byte(`"action":"release"`)) || bytes.Contains(line, []byte(`"action":"cancelled"`)) {
			continue
		}
		if bytes.Contains(line, []byte(`"kind"`)) && bytes.Contains(line, []byte(`"footer"`)) {
			continue
		}
		e, err := trace.ParseEvent(line)
		if err != nil {
			skipped++
			continue
		}
		if !isArrival(e.Action) {
			continue
		}
		if len(pkts) == MaxPlotPackets {
			s := finish(base, pkts, true, multiFlow)
			s.Skipped = skipped
			return s, nil
		}
		p := plotPacket{t: e.T, seq: e.Seq, hasSeq: e.HasSeq && e.Type != "", size: e.Size, flow: e.Flow}
		if e.Flow != 0 {
			multiFlow = true
		}
		lost, damaged := e.Action == trace.Dropped, e.Action == trace.Corrupted
		switch {
		case !p.hasSeq:
			p.kind = MarkOther
		case e.Dir == trace.Rev:
			p.kind = pick(lost, damaged, MarkAckDrop, MarkAckCorrupt, MarkAck)
		default:
			k := [2]uint64{uint64(e.Flow), e.Seq}
			again := sent[k]
			sent[k] = true
			p.kind = pick(lost, damaged, MarkDrop, MarkCorrupt, MarkTx)
			if p.kind == MarkTx && again {
				p.kind = MarkRetx
			}
			if e.Type == "start" && !hasStart[e.Flow] {
				base[e.Flow], hasStart[e.Flow] = e.Seq, true
			} else if b, ok := base[e.Flow]; !hasStart[e.Flow] && (!ok || e.Seq < b) {
				base[e.Flow] = e.Seq
			}
		}
		pkts = append(pkts, p)
	}
	// A scanner error (a line over trace.MaxLine) ends the plot there, as
	// a cut trace does.
	s := finish(base, pkts, sc.Err() != nil, multiFlow)
	s.Skipped = skipped
	return s, nil
}

// plotPacket is one arrival on its way to the columns of a Series.
type plotPacket struct {
	t      float64
	seq    uint64
	hasSeq bool
	kind   int
	size   int
	flow   int
}

func pick(lost, damaged bool, ifLost, ifDamaged, otherwise int) int {
	switch {
	case lost:
		return ifLost
	case damaged:
		return ifDamaged
	}
	return otherwise
}

// finish turns packets into columns. Seqnos become offsets from their
// flow's base, clamped so that a stray huge seqno (a corrupt sender) does
// not flatten the plot or overflow the script's numbers.
func finish(base map[int]uint64, pkts []plotPacket, cut, multiFlow bool) *Series {
	s := &Series{Cut: cut, Names: markNames[:]}
	if b, ok := base[0]; ok {
		s.Base = strconv.FormatUint(b, 10)
	}
	const clamp = 1 << 40
	for _, p := range pkts {
		var y int64
		if p.hasSeq {
			b := base[p.flow]
			switch {
			case p.seq >= b && p.seq-b < clamp:
				y = int64(p.seq - b)
			case p.seq >= b:
				y = clamp
			case b-p.seq < clamp:
				y = -int64(b - p.seq)
			default:
				y = -clamp
			}
		}
		s.T = append(s.T, int64(math.Round(min(p.t, 1e12)*10))) // a trace time of 1e308 parses; keep it an int
		s.Y = append(s.Y, y)
		s.K = append(s.K, p.kind)
		s.S = append(s.S, p.size)
		if multiFlow {
			s.Flow = append(s.Flow, p.flow)
		}
	}
	return s
}
