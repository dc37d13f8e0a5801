package netsim

import (
	"bytes"
	"container/heap"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/reference/rudp"
)

// DefaultMaxPending bounds the datagrams waiting inside the simulator
// (delayed, held back or queued by the rate limit), so memory stays
// bounded whatever the input rate: at 1472 bytes each, about 6 MB.
const DefaultMaxPending = 4096

// Sim is the deterministic core of the relay. It decides what happens to
// each datagram and keeps the copies waiting to leave. It has no sockets
// and no clock: callers pass the time since the relay started, so tests
// drive it with made-up times and get exact answers.
//
// Sim is not safe for concurrent use; the UDP relay calls it from one loop.
type Sim struct {
	cfg        Config
	seed       uint64
	maxPending int
	emit       func(*trace.Event)

	flows   map[int]*simFlow
	pending depHeap
	order   uint64
	due     []*Departure // reused by Due
	out     []*Departure // reused by Arrive
	ev      trace.Event  // reused for every event: emit must not keep it
	counts  [2]DirCounts
}

// DirCounts counts what happened in one direction.
type DirCounts struct {
	In, Dropped, Sent, Cancelled int64
}

// Departure is one copy of a datagram on its way out.
type Departure struct {
	At   time.Duration // when it may leave
	Flow int
	Dir  Dir
	Idx  uint64
	Copy int
	Data []byte // owned by this copy alone

	hdr   header
	note  string // how it was corrupted, for the release event
	own   time.Duration
	wait  int // reordering: later copies still to let pass
	order uint64
	index int
}

type simFlow struct {
	start    time.Duration
	fwdSeen  int                   // fwd datagrams so far
	marks    map[int]time.Duration // arrival time of the n-th fwd datagram, for Blackout.After
	pipes    [2]pipe
	ruleSeen []int
	pending  int
}

// pipe is the state of one flow in one direction.
type pipe struct {
	idx    uint64
	bad    bool // Gilbert-Elliott state
	rateQ  []time.Duration
	freeAt time.Duration
	held   []*Departure
}

// NewSim returns a simulator for cfg (normalised and validated by the
// caller). emit receives every trace event; it may be nil, and must not
// keep the pointer (the event is reused).
func NewSim(cfg Config, seed uint64, maxPending int, emit func(*trace.Event)) *Sim {
	if maxPending <= 0 {
		maxPending = DefaultMaxPending
	}
	if emit == nil {
		emit = func(*trace.Event) {}
	}
	return &Sim{cfg: cfg, seed: seed, maxPending: maxPending, emit: emit, flows: map[int]*simFlow{}}
}

// Counts returns the per-direction counters.
func (s *Sim) Counts() [2]DirCounts { return s.counts }

// Pending is the number of copies waiting to leave.
func (s *Sim) Pending() int { return len(s.pending) }

// FlowPending is the number of copies of one flow waiting to leave.
func (s *Sim) FlowPending(flow int) int {
	if f := s.flows[flow]; f != nil {
		return f.pending
	}
	return 0
}

// Forget drops the state of a flow that has nothing pending.
func (s *Sim) Forget(flow int) {
	if f := s.flows[flow]; f != nil && f.pending == 0 {
		delete(s.flows, flow)
	}
}

// NextDue returns when the earliest waiting copy may leave.
func (s *Sim) NextDue() (time.Duration, bool) {
	if len(s.pending) == 0 {
		return 0, false
	}
	return s.pending[0].At, true
}

// Arrive decides the fate of a datagram read at now, records it, and
// returns the copies to send at once (the slice is reused by the next
// call); later copies come out of Due. A non-empty forceDrop drops the
// datagram for that reason (the relay uses it when it cannot send), still
// counting it in the packet index. Arrive takes ownership of data.
func (s *Sim) Arrive(now time.Duration, flow int, d Dir, data []byte, forceDrop string) []*Departure {
	f := s.flows[flow]
	if f == nil {
		f = &simFlow{start: now, ruleSeen: make([]int, len(s.cfg.Rules))}
		s.flows[flow] = f
	}
	p := &f.pipes[d]
	idx := p.idx
	p.idx++
	s.counts[d].In++
	if d == Fwd {
		f.fwdSeen++
		s.mark(f, now)
	}

	h := describe(data)
	ev := &s.ev
	*ev = trace.Event{T: trace.Millis(now), Flow: flow, Dir: d.String(), Idx: idx, Size: len(data)}
	h.fill(ev)
	dc := newDice(s.seed, flow, d, idx)
	l := s.cfg.Link(d)

	// Every stateful model steps on every datagram, dropped or not, so its
	// state is a function of the packet index alone.
	burstLost := p.burstStep(l, dc)
	reason := s.ruleDrop(f, &h)
	if forceDrop != "" {
		reason = forceDrop
	}
	switch {
	case reason != "":
	case f.blackedOut(l.Blackouts, now):
		reason = "blackout"
	case burstLost:
		reason = "burst loss"
	case dc.chance(streamLoss, 0, l.Loss):
		reason = "loss"
	}
	if reason != "" {
		s.counts[d].Dropped++
		ev.Action, ev.Detail = trace.Dropped, reason
		s.emit(ev)
		return nil
	}

	copies := 1
	if dc.chance(streamDup, 0, l.Dup) {
		copies = 2
	}
	// Clone before anything is changed: a copy never shares bytes with
	// another, so corrupting one leaves the other as the peer sent it.
	var depsArr [2]*Departure
	deps := depsArr[:copies]
	for c := range deps {
		buf := data
		if c > 0 {
			buf = bytes.Clone(data)
		}
		deps[c] = &Departure{Flow: flow, Dir: d, Idx: idx, Copy: c + 1, Data: buf, hdr: h}
	}

	var notes []string
	if copies > 1 {
		notes = append(notes, "2 copies")
	}
	survivors, corrupted, held, late := 0, false, false, false
	for _, dep := range deps {
		k := uint64(dep.Copy)
		prefix := ""
		if copies > 1 {
			prefix = "copy " + strconv.Itoa(dep.Copy) + " "
		}
		if dc.chance(streamCorrupt, k, l.Corrupt) {
			if note := corrupt(dep.Data, l.CorruptParts, dc, k); note != "" {
				dep.note = note
				dep.hdr = describe(dep.Data)
				notes = append(notes, prefix+"corrupted: "+note)
			}
		}
		at := now
		if l.Rate > 0 {
			var ok bool
			if at, ok = p.admit(now, len(dep.Data), l); !ok {
				notes = append(notes, prefix+"dropped: rate queue full")
				dep.Data = nil
				continue
			}
		}
		if j := jitter(l, dc, k); j != 0 || l.Delay > 0 {
			at = max(at, at+l.Delay.D()+j)
		}
		dep.own = at
		if dc.chance(streamReorder, k, l.Reorder) {
			dep.wait = 1 + dc.intn(streamReorderDepth, k, max(l.ReorderDepth, 1))
			at = max(at, now+l.ReorderHold.D())
			notes = append(notes, fmt.Sprintf("%sheld behind %d later", prefix, dep.wait))
		}
		if at > now && len(s.pending) >= s.maxPending {
			notes = append(notes, prefix+"dropped: relay queue full")
			dep.Data = nil
			continue
		}
		if at > now && dep.wait == 0 {
			notes = append(notes, prefix+"leaves after "+fmtDur(at-now))
		}
		dep.At = at
		// The action names what happened to the copies that leave.
		survivors++
		corrupted = corrupted || dep.note != ""
		held = held || dep.wait > 0
		late = late || at > now
	}

	ev.Detail = strings.Join(notes, "; ")
	switch {
	case survivors == 0:
		ev.Action = trace.Dropped
	case survivors > 1:
		ev.Action = trace.Duplicated
	case corrupted:
		ev.Action = trace.Corrupted
	case held:
		ev.Action = trace.Reordered
	case late:
		ev.Action = trace.Delayed
	default:
		ev.Action = trace.Forwarded
	}
	if survivors == 0 {
		s.counts[d].Dropped++
	}
	s.emit(ev)

	out := s.out[:0]
	var heldNow []*Departure
	for _, dep := range deps {
		if dep.Data == nil {
			continue
		}
		if dep.At <= now && dep.wait == 0 {
			s.counts[d].Sent++
			if ev.Action != trace.Forwarded {
				s.release(now, dep)
			}
			out = append(out, dep)
		} else {
			s.push(f, dep)
		}
		// Copies held back earlier count this one as passing them once it
		// is queued, so that at equal times they leave after it.
		if dep.wait == 0 {
			s.passHeld(p, dep.At)
		} else {
			heldNow = append(heldNow, dep)
		}
	}
	p.held = append(p.held, heldNow...)
	s.out = out
	return out
}

// passHeld counts one more copy leaving at t past the copies held back
// in p; those that have let enough pass leave right after it.
func (s *Sim) passHeld(p *pipe, t time.Duration) {
	kept := p.held[:0]
	for _, h := range p.held {
		if h.index < 0 { // already left on its hold timeout
			continue
		}
		h.wait--
		if h.wait > 0 {
			kept = append(kept, h)
			continue
		}
		// It leaves right after the copy that let it go, unless its hold
		// timeout comes first.
		if at := max(h.own, t); at <= h.At {
			h.At = at
			s.order++
			h.order = s.order
			heap.Fix(&s.pending, h.index)
		}
	}
	clear(p.held[len(kept):])
	p.held = kept
}

func (s *Sim) push(f *simFlow, dep *Departure) {
	s.order++
	dep.order = s.order
	f.pending++
	heap.Push(&s.pending, dep)
}

// Due removes and returns the copies that may leave at now, in order, and
// records their release. The slice is reused by the next call.
func (s *Sim) Due(now time.Duration) []*Departure {
	s.due = s.due[:0]
	for len(s.pending) > 0 && s.pending[0].At <= now {
		dep := heap.Pop(&s.pending).(*Departure)
		s.flows[dep.Flow].pending--
		dep.wait = 0
		s.counts[dep.Dir].Sent++
		s.release(now, dep)
		s.due = append(s.due, dep)
	}
	return s.due
}

// Cancel empties the queue, recording every copy that never left.
func (s *Sim) Cancel(now time.Duration) {
	for len(s.pending) > 0 {
		dep := heap.Pop(&s.pending).(*Departure)
		s.flows[dep.Flow].pending--
		s.counts[dep.Dir].Cancelled++
		ev := s.copyEvent(now, dep, trace.Cancelled)
		ev.Detail = "netsim stopped before it was due"
		s.emit(ev)
	}
	for _, f := range s.flows {
		for i := range f.pipes {
			f.pipes[i].held = nil
		}
	}
}

func (s *Sim) release(now time.Duration, dep *Departure) {
	ev := s.copyEvent(now, dep, trace.Release)
	if dep.note != "" {
		ev.Detail = "corrupted: " + dep.note
	}
	s.emit(ev)
}

func (s *Sim) copyEvent(now time.Duration, dep *Departure, action string) *trace.Event {
	ev := &s.ev
	*ev = trace.Event{T: trace.Millis(now), Flow: dep.Flow, Dir: dep.Dir.String(), Idx: dep.Idx,
		Action: action, Copy: dep.Copy, Size: len(dep.Data)}
	dep.hdr.fill(ev)
	return ev
}

// burstStep moves the Gilbert-Elliott chain one datagram on and reports
// whether it loses this one.
func (p *pipe) burstStep(l *Link, dc dice) bool {
	g := l.Burst
	if g == nil {
		return false
	}
	if p.bad {
		p.bad = !dc.chance(streamBurstMove, 0, g.R)
	} else {
		p.bad = dc.chance(streamBurstMove, 0, g.P)
	}
	loss := g.LossGood
	if p.bad {
		loss = g.LossBad
	}
	return dc.chance(streamBurstLoss, 0, loss)
}

// admit puts a datagram of size bytes on the rate-limited link: it leaves
// when the link has sent everything before it, unless Queue datagrams are
// already waiting (tail drop).
func (p *pipe) admit(now time.Duration, size int, l *Link) (time.Duration, bool) {
	n := 0
	for n < len(p.rateQ) && p.rateQ[n] <= now {
		n++
	}
	p.rateQ = append(p.rateQ[:0], p.rateQ[n:]...)
	if len(p.rateQ) >= max(l.Queue, 1) {
		return 0, false
	}
	tx := time.Duration(int64(size) * int64(time.Second) / l.Rate)
	p.freeAt = max(p.freeAt, now) + tx
	p.rateQ = append(p.rateQ, p.freeAt)
	return p.freeAt, true
}

func jitter(l *Link, dc dice, k uint64) time.Duration {
	if l.Jitter <= 0 {
		return 0
	}
	j := l.Jitter.D()
	return time.Duration(dc.float(streamJitter, k)*float64(2*j)) - j
}

// mark remembers when the flow's n-th fwd datagram came, for every n a
// blackout counts from.
func (s *Sim) mark(f *simFlow, now time.Duration) {
	for _, l := range []*Link{&s.cfg.Fwd, &s.cfg.Rev} {
		for _, b := range l.Blackouts {
			if b.After == f.fwdSeen {
				if f.marks == nil {
					f.marks = map[int]time.Duration{}
				}
				f.marks[b.After] = now
			}
		}
	}
}

func (f *simFlow) blackedOut(bs []Blackout, now time.Duration) bool {
	for _, b := range bs {
		base := f.start
		if b.After > 0 {
			var ok bool
			if base, ok = f.marks[b.After]; !ok {
				continue
			}
		}
		if b.active(now - base) {
			return true
		}
	}
	return false
}

// ruleDrop counts the datagram against every rule it matches and returns
// why the first rule that fires drops it. Only datagrams that parse are
// matched: a rule is about a protocol event, not about garbage.
func (s *Sim) ruleDrop(f *simFlow, h *header) string {
	if len(s.cfg.Rules) == 0 || !h.valid() {
		return ""
	}
	reason := ""
	for i, r := range s.cfg.Rules {
		var match bool
		switch r.Drop {
		case "start":
			match = h.typ == rudp.TypeStart
		case "end":
			match = h.typ == rudp.TypeEnd
		case "ack", "every-ack":
			match = h.typ == rudp.TypeAck || h.typ == rudp.TypeSack
		case "seq":
			match = h.seq == r.Seq && (h.typ == rudp.TypeStart || h.typ == rudp.TypeData || h.typ == rudp.TypeEnd)
		}
		if !match {
			continue
		}
		f.ruleSeen[i]++
		n := f.ruleSeen[i]
		fire := n <= r.Count
		if r.Drop == "every-ack" {
			fire = n%r.N == 0
		}
		if fire && reason == "" {
			reason = "rule: " + r.String()
		}
	}
	return reason
}

// corrupt flips 1 to 3 distinct bits of b inside one of parts (chosen by
// the dice among the parts b has) and says which. Distinct bits guarantee
// the bytes really change; CRC-32 catches every such change in a datagram
// this short, so a corrupted datagram never passes as valid.
func corrupt(b []byte, parts []string, dc dice, k uint64) string {
	type region struct {
		name   string
		lo, hi int
	}
	var regions []region
	first, last := bytes.IndexByte(b, '|'), bytes.LastIndexByte(b, '|')
	if first < 0 {
		regions = append(regions, region{"datagram", 0, len(b)})
	} else {
		hdrEnd := last
		if i := bytes.IndexByte(b[first+1:], '|'); i >= 0 && first+1+i < last {
			hdrEnd = first + 1 + i
		}
		for _, p := range parts {
			r := region{name: p}
			switch p {
			case PartHeader:
				r.lo, r.hi = 0, hdrEnd
			case PartData:
				r.lo, r.hi = hdrEnd+1, last
			case PartChecksum:
				r.lo, r.hi = last+1, len(b)
			}
			if r.hi > r.lo {
				regions = append(regions, r)
			}
		}
		if len(regions) == 0 { // e.g. only "data" asked for, and this is an ack
			regions = append(regions, region{"datagram", 0, len(b)})
		}
	}
	r := regions[dc.intn(streamCorruptPart, k, len(regions))]
	if r.hi <= r.lo {
		return ""
	}
	nbits := (r.hi - r.lo) * 8
	want := min(1+dc.intn(streamCorruptBits, k<<8, 3), nbits)
	var flipped []int
	var sb strings.Builder
	sb.WriteString(r.name)
	for i := uint64(1); len(flipped) < want; i++ {
		bit := r.lo*8 + int(dc.u64(streamCorruptBits, k<<8+i)%uint64(nbits))
		dup := false
		for _, f := range flipped {
			dup = dup || f == bit
		}
		if dup {
			continue
		}
		flipped = append(flipped, bit)
		b[bit/8] ^= 1 << (bit % 8)
		sep := ", "
		if len(flipped) == 1 {
			sep = ": "
		}
		fmt.Fprintf(&sb, "%sbit %d of byte %d", sep, bit%8, bit/8)
	}
	return sb.String()
}

func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(trace.Millis(d), 'f', 1, 64) + "ms"
}

// depHeap orders departures by time, then by the order they were queued.
type depHeap []*Departure

func (h depHeap) Len() int { return len(h) }
func (h depHeap) Less(i, j int) bool {
	if h[i].At != h[j].At {
		return h[i].At < h[j].At
	}
	return h[i].order < h[j].order
}
func (h depHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *depHeap) Push(x any) {
	d := x.(*Departure)
	d.index = len(*h)
	*h = append(*h, d)
}
func (h *depHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	d.index = -1
	*h = old[:len(old)-1]
	return d
}
