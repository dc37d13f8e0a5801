package wirecheck

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/reference/rudp"
)

// Property names, in report order.
const (
	PropSenderFormat    = "sender-format"
	PropSequence        = "sequence"
	PropWindow          = "window"
	PropRetransmitAcked = "retransmit-acked"
	PropTimer           = "retransmit-timer"
	PropFastRetransmit  = "fast-retransmit"
	PropPayloadSize     = "payload-size"
	PropReceiverFormat  = "receiver-format"
	PropAckNextExpected = "ack-next-expected"
	PropAckCorrupt      = "ack-corrupt"
	PropSackList        = "sack-list"
	PropComplete        = "transfer-complete"
)

var propReqs = []struct{ name, req string }{
	{PropSenderFormat, "RUDP-1"},
	{PropSequence, "RUDP-7"},
	{PropWindow, "RUDP-40"},
	{PropRetransmitAcked, "RUDP-43"},
	{PropTimer, "RUDP-41"},
	{PropFastRetransmit, "RUDP-42"},
	{PropPayloadSize, "RUDP-46"},
	{PropReceiverFormat, "RUDP-6"},
	{PropAckNextExpected, "RUDP-13"},
	{PropAckCorrupt, "RUDP-8"},
	{PropSackList, "RUDP-31"},
	{PropComplete, "RUDP-14"},
}

type seqInfo struct {
	typ  string
	tx   []float64 // times of valid transmissions (arrivals at netsim)
	plen int
	size int
}

type ackAt struct {
	t   float64
	cum uint64
}

// timerRetx is a retransmission the timer (not an ack) triggered.
type timerRetx struct {
	t, wait   float64 // when, and how long since the packet's previous transmission
	beforeAck bool    // no ack had reached the sender yet
}

type fastOpp struct {
	seq         uint64
	first, dup3 float64 // first of the identical acks, and the 4th
}

// flow is the analysis state of one client address.
type flow struct {
	id  int
	end float64 // trace end, ms

	props map[string]*Property

	// What the sender sent.
	sent, validTx int
	seqs          map[uint64]*seqInfo
	seenValid     bool
	start, endSeq uint64
	hasStart      bool
	hasEnd        bool
	startT        float64
	maxSent       uint64
	hasMaxSent    bool
	maxInFlight   int
	proven        uint64 // the sender provably knew every seqno below this was acked
	hasProven     bool
	txTimes       []float64 // every valid transmission, in order
	newTxTimes    []float64 // first transmissions of each seqno, in order
	ackTimes      []float64 // acks advancing the cumulative ack, as they reach the sender
	lastRetxT     float64
	burst         map[uint64]bool // seqnos in the current retransmission burst
	timerRetx     []timerRetx
	rtts          []float64
	retxAcked     map[uint64]int
	retxAckedT    map[uint64]float64
	retxSacked    map[uint64]int
	retxSackedT   map[uint64]float64
	afterEnd      int
	afterEndT     float64

	// What the sender knew: acks released to it.
	cum        uint64
	hasCum     bool
	cumHist    []ackAt
	identVal   uint64
	identical  int
	identStart float64
	oppTaken   bool               // the current cum value already had its fast-retransmit chance
	sacked     map[uint64]float64 // seqno -> when a sack listing it first reached the sender
	lastDupT   map[uint64]float64
	fastOpps   []fastOpp
	endAcked   bool
	endAckT    float64

	// The receiver, modelled from the data released to it.
	rStarted      bool
	rStart, ne    uint64
	rbuf          map[uint64]bool
	hist          []uint64 // next-expected after each intact delivery
	match         int      // index in hist of the last ack's match
	intact        int
	corrupt       int
	corruptSeqs   map[uint64]bool
	delivered     map[uint64]int // seqno -> data length, intact deliveries
	lastIntactSeq uint64
	acks          int
	sacks         int
	revSent       int

	stats Stats

	// lag is how late the relay got the CPU at worst (footer
	// sched_lag_max_us): its timestamps can be off by as much, so timing
	// judgements allow for it and a loaded machine is not blamed on a program.
	lag float64
}

func newFlow(id int, end float64) *flow {
	f := &flow{
		id: id, end: end, props: map[string]*Property{}, seqs: map[uint64]*seqInfo{},
		retxAcked: map[uint64]int{}, retxAckedT: map[uint64]float64{},
		retxSacked: map[uint64]int{}, retxSackedT: map[uint64]float64{}, lastDupT: map[uint64]float64{},
		rbuf: map[uint64]bool{}, sacked: map[uint64]float64{}, corruptSeqs: map[uint64]bool{}, delivered: map[uint64]int{},
		lastRetxT: -1e18, burst: map[uint64]bool{},
	}
	for _, p := range propReqs {
		f.props[p.name] = &Property{Name: p.name, Req: p.req, Grade: Pass}
	}
	return f
}

// violate records a violation of property name.
func (f *flow) violate(name, req string, g Grade, t float64, format string, a ...any) {
	p := f.props[name]
	p.Grade = Worse(p.Grade, g)
	p.Exercised = true
	p.Count++
	if len(p.Violations) < MaxViolations {
		p.Violations = append(p.Violations, Violation{Req: req, Flow: f.id, T: t, Detail: fmt.Sprintf(format, a...) + " (" + req + ")"})
	}
}

func (f *flow) observe(e *trace.Event) {
	// A "forwarded" event is both: the peer sent it, and it went on at once.
	if arrival(e) {
		if e.Dir == trace.Fwd {
			f.senderSent(e)
		} else {
			f.receiverSent(e)
		}
		if e.Action == trace.Dropped {
			if e.Dir == trace.Fwd {
				f.stats.FwdDropped++
			} else {
				f.stats.RevDropped++
			}
		}
	}
	if delivery(e) {
		if e.Dir == trace.Fwd {
			f.receiverGot(e)
		} else {
			f.senderGot(e)
		}
	}
	if e.Action == trace.Release && strings.HasPrefix(e.Detail, "corrupted") {
		if e.Dir == trace.Fwd {
			f.stats.FwdCorrupted++
		} else {
			f.stats.RevCorrupted++
		}
	}
}

// parseProblem names a datagram's parse error for a student.
func parseProblem(e *trace.Event) (req, what string) {
	switch e.Err {
	case trace.ErrTooLong:
		return "RUDP-2", fmt.Sprintf("is %d bytes, more than 1472", e.Size)
	case trace.ErrBadChecksum:
		return "RUDP-4", "has a checksum that is not the CRC-32 of the bytes up to the last '|'"
	case trace.ErrBadSeqno:
		return "RUDP-3", "has a seqno that is not plain decimal digits"
	case trace.ErrUnknownType:
		return "RUDP-1", "has an unknown packet type"
	case trace.ErrBadSack:
		return "RUDP-30", "has a malformed sack list"
	case "":
		if !e.HasCsum {
			return "RUDP-5", "has no checksum field"
		}
	}
	return "RUDP-5", "does not parse as <type>|<seqno>|<data>|<checksum>"
}

// senderSent handles a datagram the sender sent (a fwd arrival).
func (f *flow) senderSent(e *trace.Event) {
	f.sent++
	if f.endAcked && e.T-f.endAckT > 1000 {
		if f.afterEnd == 0 {
			f.afterEndT = e.T
		}
		f.afterEnd++
	}
	if !e.Valid() {
		req, what := parseProblem(e)
		f.violate(PropSenderFormat, req, Fail, e.T, "datagram #%d from the sender (%d bytes) %s", e.Idx, e.Size, what)
		return
	}
	switch e.Type {
	case rudp.TypeStart, rudp.TypeData, rudp.TypeEnd:
	default:
		f.violate(PropSenderFormat, "RUDP-1", Fail, e.T, "the sender sent a %s packet; a sender sends only start, data and end", e.Type)
		return
	}
	s := e.Seq
	if !f.seenValid {
		f.seenValid = true
		if e.Type != rudp.TypeStart {
			f.violate(PropSequence, "RUDP-7", Fail, e.T, "the first packet was %s %d, not start", e.Type, s)
		}
	}
	switch e.Type {
	case rudp.TypeStart:
		if !f.hasStart {
			f.hasStart, f.start, f.startT = true, s, e.T
		} else if s != f.start {
			f.violate(PropSequence, "RUDP-7", Fail, e.T, "a second start with seqno %d (the first had %d)", s, f.start)
		}
	case rudp.TypeEnd:
		if !f.hasEnd {
			f.hasEnd, f.endSeq = true, s
			if f.hasMaxSent && f.maxSent > s {
				f.violate(PropSequence, "RUDP-7", Fail, e.T, "end has seqno %d, but seqno %d was sent before it: end must be last", s, f.maxSent)
			}
		} else if s != f.endSeq {
			f.violate(PropSequence, "RUDP-7", Fail, e.T, "a second end with seqno %d (the first had %d)", s, f.endSeq)
		}
	}
	switch {
	case f.hasStart && s < f.start:
		f.violate(PropSequence, "RUDP-7", Fail, e.T, "seqno %d is below the start seqno %d", s, f.start)
	case f.hasEnd && s > f.endSeq:
		f.violate(PropSequence, "RUDP-7", Fail, e.T, "%s %d sent after end (seqno %d): nothing may follow end", e.Type, s, f.endSeq)
	case f.hasMaxSent && s > f.maxSent+1:
		f.violate(PropSequence, "RUDP-7", Fail, e.T, "seqno jumped from %d to %d: each packet's seqno is the previous one + 1", f.maxSent, s)
	}
	info := f.seqs[s]
	if info == nil {
		info = &seqInfo{typ: e.Type, plen: e.PLen, size: e.Size}
		f.seqs[s] = info
	} else {
		if info.typ != e.Type {
			f.violate(PropSequence, "RUDP-7", Fail, e.T, "seqno %d was sent as %s, then as %s", s, info.typ, e.Type)
		}
		if info.plen != e.PLen {
			f.violate(PropSequence, "RUDP-7", Fail, e.T, "seqno %d was resent with %d data bytes, first sent with %d: a retransmission must repeat the packet", s, e.PLen, info.plen)
		}
		f.retransmission(e, s, info)
	}
	if len(info.tx) == 0 && s+1 >= Window {
		// A new packet s goes out only once the sender's ack is above
		// s-Window (RUDP-40): proof of what it had read.
		if p := s + 1 - Window; !f.hasProven || p > f.proven {
			f.proven, f.hasProven = p, true
		}
	}
	if len(info.tx) == 0 {
		f.newTxTimes = append(f.newTxTimes, e.T)
	}
	info.tx = append(info.tx, e.T)
	f.txTimes = append(f.txTimes, e.T)
	f.validTx++
	if !f.hasMaxSent || s > f.maxSent {
		f.maxSent, f.hasMaxSent = s, true
	}

	// The sender's base is at most the highest cumulative ack released to
	// it, so this in-flight count is a lower bound: never a false alarm.
	base := s
	switch {
	case f.hasCum:
		base = f.cum
	case f.hasStart:
		base = f.start
	}
	if f.maxSent >= base {
		f.maxInFlight = max(f.maxInFlight, int(min(f.maxSent-base+1, 1<<30)))
	}
	if s >= base && s-base >= Window {
		f.violate(PropWindow, "RUDP-40", Fail, e.T,
			"sent seqno %d while the highest ack it had received was %d: %d packets in flight, the window is %d", s, base, s-base+1, Window)
	}
}

// retransmission judges a repeated transmission of s at e.T.
func (f *flow) retransmission(e *trace.Event, s uint64, info *seqInfo) {
	// The sender knew s was acked if it had sent a packet its window
	// allowed only after that ack, or if the ack reached it long ago.
	proven := f.hasProven && s < f.proven
	if t, ok := f.ackedAt(s); ok && (proven || e.T-t >= Grace) {
		if f.retxAcked[s] == 0 {
			f.retxAckedT[s] = t
		}
		f.retxAcked[s]++
	} else if t, ok := f.sacked[s]; ok && e.T-t >= Grace {
		if f.retxSacked[s] == 0 {
			f.retxSackedT[s] = t
		}
		f.retxSacked[s]++
	}
	ackTriggered := false
	if t, ok := f.lastDupT[s]; ok && e.T-t <= FastWindow {
		ackTriggered = true
	}
	// A burst is a run of retransmissions of different packets less than
	// BurstGap apart; the same packet again starts a new one.
	leader := e.T-f.lastRetxT > BurstGap || f.burst[s]
	if leader {
		clear(f.burst)
	}
	f.burst[s] = true
	f.lastRetxT = e.T
	if leader && !ackTriggered {
		f.timerRetx = append(f.timerRetx, timerRetx{t: e.T, wait: e.T - info.tx[len(info.tx)-1], beforeAck: !f.hasCum})
	}
}

// ackedAt returns when the sender first got an ack covering s.
func (f *flow) ackedAt(s uint64) (float64, bool) {
	i := sort.Search(len(f.cumHist), func(i int) bool { return f.cumHist[i].cum > s })
	if i == len(f.cumHist) {
		return 0, false
	}
	return f.cumHist[i].t, true
}

// senderGot handles a datagram released to the sender (a rev delivery).
func (f *flow) senderGot(e *trace.Event) {
	if !e.Valid() || (e.Type != rudp.TypeAck && e.Type != rudp.TypeSack) {
		return
	}
	a := e.Seq
	switch {
	case !f.hasCum || a > f.cum:
		f.ackTimes = append(f.ackTimes, e.T)
		f.sampleRTT(e.T, a)
		f.cum, f.hasCum = a, true
		f.cumHist = append(f.cumHist, ackAt{e.T, a})
		f.identVal, f.identical, f.identStart, f.oppTaken = a, 1, e.T, false
	case a == f.identVal:
		f.identical++
		f.lastDupT[a] = e.T
	}
	// The evidence that a is lost (RUDP-42): with plain acks, the 3rd
	// duplicate; with sacks, 3 packets above it sacked (RFC 6675), since
	// a sack sender rightly ignores duplicates that say nothing new (those
	// of a duplicated packet).
	evidence := f.identical - 1
	if e.Type == rudp.TypeSack {
		evidence = 0
		for _, q := range e.Sacks {
			if q > a && q-a < Window {
				evidence++
			}
		}
		if len(e.Sacks) > 0 {
			top := slices.Max(e.Sacks)
			for h := a; h < top && h < a+2*Window; h++ {
				if !slices.Contains(e.Sacks, h) {
					f.lastDupT[h] = e.T // a hole: resending it is ack-triggered
				}
			}
		}
		for _, q := range e.Sacks {
			if _, ok := f.sacked[q]; !ok {
				f.sacked[q] = e.T
			}
		}
	}
	if evidence >= 3 && a == f.identVal && !f.oppTaken && f.hasMaxSent && a <= f.maxSent && !(f.hasEnd && a > f.endSeq) {
		f.oppTaken = true
		f.fastOpps = append(f.fastOpps, fastOpp{seq: a, first: f.identStart, dup3: e.T})
	}
	if f.hasEnd && a > f.endSeq && !f.endAcked {
		f.endAcked, f.endAckT = true, e.T
	}
}

// sampleRTT takes a round-trip sample from an ack advancing the
// cumulative ack to a at t, as Karn's rule allows: only when every seqno
// it newly covers was sent once, so no retransmission (or a hole it
// filled) made the ack late. It measures from the newest of them, the
// lowest estimate, so a timer is never judged faster than a fake RTT.
func (f *flow) sampleRTT(t float64, a uint64) {
	from := a - 1
	if f.hasCum {
		from = f.cum
	}
	if a == 0 || a-from > 2*Window {
		return
	}
	for s := from; s < a; s++ {
		if info := f.seqs[s]; info == nil || len(info.tx) != 1 {
			return
		}
	}
	f.rtts = append(f.rtts, t-f.seqs[a-1].tx[0])
}

// receiverGot handles a datagram released to the receiver (a fwd
// delivery) and moves the model receiver (RUDP-11, RUDP-12, RUDP-18).
func (f *flow) receiverGot(e *trace.Event) {
	if !e.Valid() || (e.Type != rudp.TypeStart && e.Type != rudp.TypeData && e.Type != rudp.TypeEnd) {
		f.corrupt++
		if e.HasSeq {
			f.corruptSeqs[e.Seq] = true
		}
		return
	}
	f.intact++
	s := e.Seq
	if _, ok := f.delivered[s]; !ok {
		f.delivered[s] = e.PLen
	}
	f.lastIntactSeq = s
	switch {
	case !f.rStarted:
		if e.Type != rudp.TypeStart {
			return // no transfer yet: dropped, not acked (RUDP-11)
		}
		f.rStarted, f.rStart, f.ne = true, s, s+1
	case e.Type == rudp.TypeStart && s != f.rStart:
		f.rStart, f.ne = s, s+1 // a new transfer (RUDP-18)
		clear(f.rbuf)
	case s == f.ne:
		f.ne++
		for f.rbuf[f.ne] {
			delete(f.rbuf, f.ne)
			f.ne++
		}
	case s > f.ne && s-f.ne < Window:
		f.rbuf[s] = true
	}
	f.hist = append(f.hist, f.ne)
}

// receiverSent checks an ack the receiver sent (a rev arrival).
func (f *flow) receiverSent(e *trace.Event) {
	f.revSent++
	if !e.Valid() {
		req, what := parseProblem(e)
		if req == "RUDP-5" || req == "RUDP-1" {
			req = "RUDP-6"
		}
		f.violate(PropReceiverFormat, req, Fail, e.T, "datagram #%d from the receiver (%d bytes) %s", e.Idx, e.Size, what)
		return
	}
	if e.Type != rudp.TypeAck && e.Type != rudp.TypeSack {
		f.violate(PropReceiverFormat, "RUDP-6", Fail, e.T, "the receiver sent a %s packet; a receiver sends only acks", e.Type)
		return
	}
	f.acks++
	a := e.Seq
	if e.Type == rudp.TypeSack {
		f.sacks++
		f.checkSack(e)
	}
	if !f.rStarted {
		f.violate(PropAckNextExpected, "RUDP-11", Fail, e.T, "ack %d sent before any intact start reached the receiver", a)
		return
	}
	matched := false
	for j := f.match; j < len(f.hist) && !matched; j++ {
		if f.hist[j] == a {
			f.match, matched = j, true
		}
	}
	if !matched {
		f.classifyBadAck(e.T, a)
		return
	}
	// The value is right; is the ack an answer to something valid?
	if f.acks > f.intact {
		if f.corrupt > 0 {
			f.violate(PropAckCorrupt, "RUDP-8", Fail, e.T,
				"ack %d is the receiver's ack #%d, but only %d intact packets had reached it (and %d corrupt ones): it answers datagrams that fail the checksum",
				a, f.acks, f.intact, f.corrupt)
		} else {
			f.violate(PropAckNextExpected, "RUDP-13", NonStrict, e.T,
				"ack %d is the receiver's ack #%d, but only %d packets had reached it: one ack per valid packet", a, f.acks, f.intact)
		}
	}
}

// classifyBadAck explains an ack that is not a next-expected seqno the
// receiver had at any moment since its previous ack.
func (f *flow) classifyBadAck(t float64, a uint64) {
	last, prev := f.hist[len(f.hist)-1], f.hist[f.match]
	allIntact := func(lo, hi uint64) bool {
		if hi-lo > 64 {
			return false
		}
		for s := lo; s < hi; s++ {
			if _, ok := f.delivered[s]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case a > last:
		for s := last; s < a && s-last < 64; s++ {
			if _, ok := f.delivered[s]; !ok && f.corruptSeqs[s] {
				f.violate(PropAckCorrupt, "RUDP-8", Fail, t,
					"ack %d acknowledges seqno %d, which had reached the receiver only corrupted", a, s)
				return
			}
		}
		if allIntact(last, a) {
			f.violate(PropAckNextExpected, "RUDP-12", Fail, t,
				"ack %d: the receiver kept packets beyond its window of %d (it expected %d, so only %d..%d may be kept)", a, Window, last, last, last+Window-1)
			return
		}
		f.violate(PropAckNextExpected, "RUDP-13", Fail, t,
			"ack %d acknowledges packets that never reached the receiver intact: it had everything below %d", a, last)
	case a == f.lastIntactSeq && a+1 <= last:
		f.violate(PropAckNextExpected, "RUDP-13", Fail, t,
			"ack %d names the seqno just received; an ack carries the next expected seqno (%d)", a, last)
	case a < prev:
		f.violate(PropAckNextExpected, "RUDP-13", Fail, t,
			"ack %d goes back: the receiver had already acked %d, and acks are cumulative", a, prev)
	case allIntact(a, last):
		f.violate(PropAckNextExpected, "RUDP-12", Fail, t,
			"ack %d: seqnos %d..%d had reached the receiver intact, but it did not keep out-of-order packets within its window of %d", a, a, last-1, Window)
	default:
		f.violate(PropAckNextExpected, "RUDP-13", Fail, t,
			"ack %d is not the next expected seqno (%d)", a, last)
	}
}

// checkSack checks a sack's list (RUDP-31): ascending, inside the window
// above the cumulative ack, and only seqnos that reached the receiver.
func (f *flow) checkSack(e *trace.Event) {
	a := e.Seq
	for i, s := range e.Sacks {
		switch {
		case i > 0 && s <= e.Sacks[i-1]:
			f.violate(PropSackList, "RUDP-31", Fail, e.T, "sack %d lists %s: not in ascending order", a, seqs(e.Sacks))
			return
		case s <= a || s-a >= Window:
			f.violate(PropSackList, "RUDP-31", Fail, e.T, "sack %d lists %d, outside the window %d..%d", a, s, a+1, a+Window-1)
			return
		}
		if _, ok := f.delivered[s]; !ok {
			f.violate(PropSackList, "RUDP-31", Fail, e.T, "sack %d lists %d, which had not reached the receiver intact", a, s)
			return
		}
	}
}

// report finishes the analysis.
func (f *flow) report() FlowReport {
	f.judgeRetransmitAcked()
	f.judgeTimer()
	f.judgeFastRetransmit()
	f.judgePayloadSize()
	f.judgeComplete()
	f.summarise()

	fr := FlowReport{Flow: f.id, Grade: Pass}
	for _, p := range propReqs {
		prop := *f.props[p.name]
		fr.Grade = Worse(fr.Grade, prop.Grade)
		fr.Properties = append(fr.Properties, prop)
	}
	s := &f.stats
	s.PacketsSent = f.sent
	s.UniqueData = len(f.seqs)
	s.Delivered = len(f.delivered)
	s.Retransmissions = f.validTx - len(f.seqs)
	s.MaxInFlight = f.maxInFlight
	s.EndAcked = f.endAcked
	s.AcksSent = f.acks
	for _, n := range f.delivered {
		s.PayloadBytes += int64(n)
	}
	if s.Delivered > 0 {
		s.TxPerDelivered = float64(s.PacketsSent) / float64(s.Delivered)
	}
	if f.hasStart {
		endT := f.end
		if f.endAcked {
			endT = f.endAckT
		}
		s.DurationMS = endT - f.startT
	}
	if s.DurationMS > 0 {
		s.GoodputBps = float64(s.PayloadBytes) / (s.DurationMS / 1000)
	}
	fr.Stats = *s
	return fr
}

func (f *flow) judgeRetransmitAcked() {
	p := f.props[PropRetransmitAcked]
	p.Exercised = p.Exercised || f.hasCum
	total := 0
	report := func(counts map[uint64]int, since map[uint64]float64, req, how string) {
		keys := slices.Collect(maps.Keys(counts))
		slices.SortFunc(keys, func(a, b uint64) int { return cmp.Compare(since[a], since[b]) })
		for _, s := range keys {
			total += counts[s]
			f.violate(PropRetransmitAcked, req, NonStrict, since[s], "seqno %d was retransmitted %d times after %s", s, counts[s], how)
		}
	}
	report(f.retxAcked, f.retxAckedT, "RUDP-43", "it was acked")
	report(f.retxSacked, f.retxSackedT, "RUDP-32", "a sack listed it as received")
	if total > 0 {
		p.Detail = fmt.Sprintf("%d retransmissions of packets the sender already had (s)acks for", total)
	} else if p.Exercised {
		p.Detail = "no packet was retransmitted after its ack reached the sender"
	}
}

func (f *flow) judgeTimer() {
	p := f.props[PropTimer]
	keys := slices.Sorted(maps.Keys(f.seqs))
	for _, s := range keys {
		info := f.seqs[s]
		if _, ok := f.delivered[s]; ok || (f.hasCum && f.cum > s) || (f.hasEnd && s > f.endSeq) {
			continue
		}
		lastTx := info.tx[len(info.tx)-1]
		if f.end-lastTx >= LostWait {
			f.violate(PropTimer, "RUDP-41", Fail, lastTx,
				"seqno %d was lost (sent %d times, last at %.0f ms) and never sent again in the %.1f s the trace went on: the retransmission timer did not fire",
				s, len(info.tx), lastTx, (f.end-lastTx)/1000)
		}
	}
	n := len(f.timerRetx)
	if n == 0 {
		return
	}
	p.Exercised = true
	waits := make([]float64, n)
	for i, r := range f.timerRetx {
		waits[i] = r.wait
	}
	slices.Sort(waits)
	median := waits[n/2]
	p.Detail = fmt.Sprintf("%d timer retransmissions; median wait %.0f ms since the packet's previous transmission (min %.0f, max %.0f)",
		n, median, waits[0], waits[n-1])
	if first := f.timerRetx[0]; first.beforeAck && first.wait < InitialRTO-f.lag {
		f.violate(PropTimer, "RUDP-41", NonStrict, first.t,
			"the first retransmission came %.0f ms after the first transmission, before any ack: the timer starts at 500 ms", first.wait)
	}
	if len(f.rtts) > 0 {
		rtts := slices.Sorted(slices.Values(f.rtts))
		rtt := rtts[len(rtts)/2]
		p.Detail += fmt.Sprintf("; round-trip time %.1f ms (median of %d)", rtt, len(rtts))
		if median+f.lag < rtt && len(rtts) >= minRTTSamples {
			f.violate(PropTimer, "RUDP-41", NonStrict, 0,
				"the timer fires before acks can come back: median wait %.0f ms, round-trip time %.0f ms; it should adapt to the RTT", median, rtt)
		}
	}
}

// reactionTime is how long this sender takes to send a new packet after an
// ack opens its window (the 90th percentile over the transfer): its own speed,
// which on a loaded machine includes waiting for a CPU. Timing judgements
// allow for it, so a sender slowed by the machine is not graded as one
// that ignores acks.
func (f *flow) reactionTime() float64 {
	var samples []float64
	j := 0
	for i, a := range f.ackTimes {
		for j < len(f.newTxTimes) && f.newTxTimes[j] <= a {
			j++
		}
		if j == len(f.newTxTimes) {
			break
		}
		if i+1 < len(f.ackTimes) && f.newTxTimes[j] > f.ackTimes[i+1] {
			continue // it had nothing new to send yet: no reaction to this one
		}
		samples = append(samples, f.newTxTimes[j]-a)
	}
	if len(samples) == 0 {
		return 0
	}
	slices.Sort(samples)
	return samples[len(samples)*9/10]
}

func (f *flow) judgeFastRetransmit() {
	p := f.props[PropFastRetransmit]
	honoured, judged := 0, 0
	// The window grows with the sender's measured reaction time: on an
	// idle machine it is FastWindow, well under the 500 ms timer.
	window := FastWindow + 3*f.reactionTime() + f.lag
	for _, o := range f.fastOpps {
		// Only a packet sent once so far counts: one already resent is in
		// recovery, and a sender resends it once per episode (RFC 6582,
		// RFC 6675), then waits for its timer.
		info := f.seqs[o.seq]
		if info == nil {
			continue // never sent at all: the sequence property says so
		}
		tx := info.tx
		if n, _ := slices.BinarySearch(tx, o.dup3+1e-9); n != 1 {
			continue
		}
		var next float64 = -1
		for _, t := range tx {
			if t > o.first {
				next = t
				break
			}
		}
		if next >= 0 && next <= o.dup3+window {
			honoured++
			judged++
			continue
		}
		// If an ack covering the packet came before the sender sent
		// anything at all after the 3rd duplicate, it may not have read
		// the duplicates in time, and then had no reason to resend.
		if covered, ok := f.ackedAt(o.seq); ok {
			i, _ := slices.BinarySearch(f.txTimes, o.dup3)
			for i < len(f.txTimes) && f.txTimes[i] <= o.dup3 {
				i++
			}
			if i == len(f.txTimes) || f.txTimes[i] > covered {
				continue
			}
		}
		judged++
		when := "never resent it"
		if next >= 0 {
			when = fmt.Sprintf("resent it only %.0f ms later (its timer?)", next-o.dup3)
		}
		f.violate(PropFastRetransmit, "RUDP-42", NonStrict, o.dup3,
			"3 duplicate acks for seqno %d reached the sender by %.0f ms, but it %s", o.seq, o.dup3, when)
	}
	if judged > 0 {
		p.Exercised = true
		p.Detail = fmt.Sprintf("%d of %d runs of 3 duplicate acks answered by a retransmission within %.0f ms", honoured, judged, window)
	}
}

func (f *flow) judgePayloadSize() {
	p := f.props[PropPayloadSize]
	keys := slices.Sorted(maps.Keys(f.seqs))
	// The last two packets may be short: the file's tail, and end.
	if len(keys) > 2 {
		keys = keys[:len(keys)-2]
	} else {
		keys = nil
	}
	var sizes []int
	for _, s := range keys {
		if t := f.seqs[s].typ; t == rudp.TypeStart || t == rudp.TypeData {
			sizes = append(sizes, f.seqs[s].size)
		}
	}
	if len(sizes) == 0 {
		return
	}
	p.Exercised = true
	slices.Sort(sizes)
	median := sizes[len(sizes)/2]
	p.Detail = fmt.Sprintf("data datagrams are %d bytes (median of %d)", median, len(sizes))
	if median < FullDatagram {
		f.violate(PropPayloadSize, "RUDP-46", NonStrict, 0,
			"data datagrams are %d bytes; up to 1472 are allowed, and fuller packets need fewer round trips", median)
	}
}

func (f *flow) judgeComplete() {
	p := f.props[PropComplete]
	p.Exercised = true
	switch {
	case f.sent == 0:
		f.violate(PropComplete, "RUDP-14", Fail, 0, "the sender sent nothing")
	case !f.hasEnd:
		f.violate(PropComplete, "RUDP-7", Fail, f.end, "the sender never sent end (highest seqno sent: %d)", f.maxSent)
	case !f.endAcked:
		acked := "no ack reached the sender"
		if f.hasCum {
			acked = fmt.Sprintf("the highest ack that reached the sender was %d", f.cum)
		}
		f.violate(PropComplete, "RUDP-14", Fail, f.end, "end (seqno %d) was never acked to the sender: %s", f.endSeq, acked)
	default:
		p.Detail = fmt.Sprintf("end (seqno %d) acked to the sender at %.0f ms", f.endSeq, f.endAckT)
	}
	if f.afterEnd > 0 {
		f.violate(PropComplete, "RUDP-45", NonStrict, f.afterEndT,
			"the sender sent %d more datagrams over 1 s after end was acked; it should exit", f.afterEnd)
	}
}

// summarise writes the Detail of properties that have violations or
// nothing to say yet.
func (f *flow) summarise() {
	pass := map[string]string{
		PropSenderFormat:    fmt.Sprintf("all %d datagrams from the sender parsed, checksums valid", f.sent),
		PropSequence:        "start first, seqnos +1 per packet, end last",
		PropWindow:          fmt.Sprintf("at most %d packets in flight beyond the last ack", f.maxInFlight),
		PropReceiverFormat:  fmt.Sprintf("all %d datagrams from the receiver parsed, checksums valid", f.revSent),
		PropAckNextExpected: fmt.Sprintf("all %d acks carried the next expected seqno", f.acks),
		PropAckCorrupt:      fmt.Sprintf("%d corrupt datagrams reached the receiver; none was acked", f.corrupt),
		PropSackList:        fmt.Sprintf("%d sacks, lists valid", f.sacks),
	}
	exercised := map[string]bool{
		PropSenderFormat: f.sent > 0, PropSequence: f.validTx > 0, PropWindow: f.validTx > 0,
		PropReceiverFormat: f.revSent > 0, PropAckNextExpected: f.acks > 0, PropAckCorrupt: f.corrupt > 0,
		PropSackList: f.sacks > 0,
	}
	for name, p := range f.props {
		if ex, ok := exercised[name]; ok {
			p.Exercised = p.Exercised || ex
		}
		if p.Count > 0 {
			// The first violation, which a student can act on; then the
			// judge's context, if any.
			d := p.Violations[0].Detail
			if p.Count > 1 {
				d = fmt.Sprintf("%s; %d violations in all", d, p.Count)
			}
			if p.Detail != "" {
				d += "; " + p.Detail
			}
			p.Detail = d
			continue
		}
		if p.Detail == "" {
			if !p.Exercised {
				p.Detail = "not exercised by this trace"
			} else {
				p.Detail = pass[name]
			}
		}
	}
}
