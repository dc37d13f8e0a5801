package netsim

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/reference/rudp"
)

// recorder collects the events a Sim emits.
type recorder struct{ events []trace.Event }

func (r *recorder) emit(e *trace.Event) { r.events = append(r.events, *e) }

func (r *recorder) arrivals(action string) []trace.Event {
	var out []trace.Event
	for _, e := range r.events {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

type sent struct {
	at  time.Duration
	dep *Departure
}

// drive feeds datagrams to s at the given times (Fwd, flow 0), letting due
// copies out before each arrival, and returns every copy that left, in
// order, with the time it left.
func drive(s *Sim, times []time.Duration, pkts [][]byte) []sent {
	var out []sent
	flush := func(now time.Duration) {
		for {
			next, ok := s.NextDue()
			if !ok || next > now {
				return
			}
			for _, d := range s.Due(next) {
				out = append(out, sent{next, d})
			}
		}
	}
	for i, p := range pkts {
		flush(times[i])
		for _, d := range s.Arrive(times[i], 0, Fwd, p, "") {
			out = append(out, sent{times[i], d})
		}
		flush(times[i])
	}
	flush(time.Duration(math.MaxInt64))
	return out
}

func dataPkts(n int) [][]byte {
	pkts := make([][]byte, n)
	for i := range pkts {
		typ := rudp.TypeData
		switch i {
		case 0:
			typ = rudp.TypeStart
		case n - 1:
			typ = rudp.TypeEnd
		}
		pkts[i] = rudp.Encode(rudp.Packet{Type: typ, Seq: uint64(i), Data: []byte(fmt.Sprintf("payload %d|with a bar", i))})
	}
	return pkts
}

func every(n int, step time.Duration) []time.Duration {
	t := make([]time.Duration, n)
	for i := range t {
		t[i] = time.Duration(i) * step
	}
	return t
}

func newTestSim(t *testing.T, cfg Config, seed uint64) (*Sim, *recorder) {
	t.Helper()
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	return NewSim(cfg, seed, 0, rec.emit), rec
}

func encodeAll(events []trace.Event) string {
	var b []byte
	for i := range events {
		b = trace.AppendEvent(b, &events[i])
		b = append(b, '\n')
	}
	return string(b)
}

func mixedConfig() Config {
	l := Link{Loss: 0.1, Burst: &GilbertElliott{P: 0.05, R: 0.3, LossBad: 1}, Dup: 0.1, Reorder: 0.1,
		Corrupt: 0.1, Delay: ms(20), Jitter: ms(10), Rate: 1_000_000, Queue: 8,
		Blackouts: []Blackout{{At: ms(500), For: ms(100), Every: ms(1000)}}}
	return Config{Mode: ModeUDP, Fwd: l, Rev: l, Rules: []Rule{{Drop: "every-ack", N: 3}}}
}

func TestSameSeedSameDecisions(t *testing.T) {
	run := func(seed uint64) string {
		s, rec := newTestSim(t, mixedConfig(), seed)
		drive(s, every(2000, time.Millisecond), dataPkts(2000))
		return encodeAll(rec.events)
	}
	a, b, c := run(42), run(42), run(43)
	if a != b {
		t.Fatal("same seed and packets gave different traces")
	}
	if a == c {
		t.Fatal("seeds 42 and 43 gave the same trace")
	}
	if !strings.Contains(a, `"action":"dropped"`) || !strings.Contains(a, `"action":"duplicated"`) ||
		!strings.Contains(a, `"action":"corrupted"`) || !strings.Contains(a, `"action":"reordered"`) {
		t.Fatal("mixed config did not exercise every impairment")
	}
}

// Decisions are per packet, not per draw: adding duplication must not
// change which packets are lost.
func TestDecisionsIndependentOfOtherImpairments(t *testing.T) {
	lost := func(cfg Config) []uint64 {
		s, rec := newTestSim(t, cfg, 7)
		drive(s, every(3000, time.Millisecond), dataPkts(3000))
		var idx []uint64
		for _, e := range rec.arrivals(trace.Dropped) {
			idx = append(idx, e.Idx)
		}
		return idx
	}
	base := lost(Config{Mode: ModeUDP, Fwd: Link{Loss: 0.2}})
	more := lost(Config{Mode: ModeUDP, Fwd: Link{Loss: 0.2, Dup: 0.3, Delay: ms(5), Jitter: ms(5)}})
	if fmt.Sprint(base) != fmt.Sprint(more) {
		t.Fatalf("adding dup and jitter changed the lost packets:\n%v\n%v", base, more)
	}
}

// within checks a measured rate against p with a binomial tolerance of
// four standard deviations (inflated by vif for correlated losses).
func within(t *testing.T, what string, got, p float64, n int, vif float64) {
	t.Helper()
	tol := 4 * math.Sqrt(p*(1-p)*vif/float64(n))
	if math.Abs(got-p) > tol {
		t.Errorf("%s: %.4f, want %.4f ± %.4f (n=%d)", what, got, p, tol, n)
	}
}

func TestLossRate(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		s, rec := newTestSim(t, Config{Mode: ModeUDP, Fwd: Link{Loss: 0.3}}, seed)
		const n = 20000
		out := drive(s, every(n, time.Microsecond), dataPkts(n))
		within(t, "loss", 1-float64(len(out))/n, 0.3, n, 1)
		if got := len(rec.arrivals(trace.Dropped)) + len(rec.arrivals(trace.Forwarded)); got != n {
			t.Errorf("%d arrival events, want %d", got, n)
		}
	}
}

func TestBurstLoss(t *testing.T) {
	g := GilbertElliott{P: 0.05, R: 0.25, LossBad: 1}
	s, rec := newTestSim(t, Config{Mode: ModeUDP, Fwd: Link{Burst: &g}}, 11)
	const n = 50000
	drive(s, every(n, time.Microsecond), dataPkts(n))
	lost := make([]bool, n)
	for _, e := range rec.arrivals(trace.Dropped) {
		lost[e.Idx] = true
		if e.Detail != "burst loss" {
			t.Fatalf("detail %q", e.Detail)
		}
	}
	var losses, bursts int
	for i, l := range lost {
		if l {
			losses++
			if i == 0 || !lost[i-1] {
				bursts++
			}
		}
	}
	// Variance inflation of a two-state chain: (1+rho)/(1-rho), rho = 1-P-R.
	rho := 1 - g.P - g.R
	within(t, "burst loss rate", float64(losses)/n, g.Mean(), n, (1+rho)/(1-rho))
	if mean := float64(losses) / float64(bursts); math.Abs(mean-1/g.R) > 0.5 {
		t.Errorf("mean burst length %.2f, want about %.2f", mean, 1/g.R)
	}
}

func TestDuplicatesAreIndependentCopies(t *testing.T) {
	s, rec := newTestSim(t, Config{Mode: ModeUDP, Fwd: Link{Dup: 1, Corrupt: 0.5}}, 5)
	pkts := dataPkts(400)
	orig := make([][]byte, len(pkts))
	for i, p := range pkts {
		orig[i] = bytes.Clone(p)
	}
	out := drive(s, every(len(pkts), time.Millisecond), pkts)
	if len(out) != 2*len(pkts) {
		t.Fatalf("%d copies out, want %d", len(out), 2*len(pkts))
	}
	byIdx := map[uint64][]*Departure{}
	for _, o := range out {
		byIdx[o.dep.Idx] = append(byIdx[o.dep.Idx], o.dep)
	}
	oneCorrupted := 0
	for idx, deps := range byIdx {
		a, b := deps[0], deps[1]
		if &a.Data[0] == &b.Data[0] {
			t.Fatalf("packet %d: copies share a buffer", idx)
		}
		ca, cb := !bytes.Equal(a.Data, orig[idx]), !bytes.Equal(b.Data, orig[idx])
		if ca != (a.note != "") || cb != (b.note != "") {
			t.Fatalf("packet %d: bytes changed without a corruption note or the reverse", idx)
		}
		if ca != cb {
			oneCorrupted++
		}
	}
	if oneCorrupted < 100 {
		t.Errorf("only %d packets had exactly one corrupted copy: copies are not independent", oneCorrupted)
	}
	if got := len(rec.arrivals(trace.Duplicated)); got != len(pkts) {
		t.Errorf("%d duplicated events, want %d", got, len(pkts))
	}
}

func TestCorruptionIsDetectedAndConfined(t *testing.T) {
	for _, part := range []string{PartHeader, PartData, PartChecksum} {
		t.Run(part, func(t *testing.T) {
			s, rec := newTestSim(t, Config{Mode: ModeUDP, Fwd: Link{Corrupt: 1, CorruptParts: []string{part}}}, 9)
			pkts := dataPkts(500)
			orig := make([][]byte, len(pkts))
			for i, p := range pkts {
				orig[i] = bytes.Clone(p)
			}
			out := drive(s, every(len(pkts), time.Millisecond), pkts)
			for _, o := range out {
				before, after := orig[o.dep.Idx], o.dep.Data
				if bytes.Equal(before, after) {
					t.Fatalf("packet %d not changed", o.dep.Idx)
				}
				if _, err := rudp.Parse(after); err == nil {
					t.Fatalf("packet %d: corrupted datagram still parses: %q", o.dep.Idx, after)
				}
				first := bytes.IndexByte(before, '|')
				second := first + 1 + bytes.IndexByte(before[first+1:], '|')
				last := bytes.LastIndexByte(before, '|')
				r := map[string][2]int{PartHeader: {0, second}, PartData: {second + 1, last}, PartChecksum: {last + 1, len(before)}}[part]
				lo, hi := r[0], r[1]
				for i := range before {
					if before[i] != after[i] && (i < lo || i >= hi) {
						t.Fatalf("packet %d: byte %d changed, outside %s [%d,%d)", o.dep.Idx, i, part, lo, hi)
					}
				}
			}
			rel := rec.arrivals(trace.Release)
			if len(rel) != len(pkts) {
				t.Fatalf("%d release events, want %d", len(rel), len(pkts))
			}
			for _, e := range rel {
				if e.Valid() || !strings.HasPrefix(e.Detail, "corrupted: "+part) {
					t.Fatalf("release event %+v does not show the corruption", e)
				}
			}
		})
	}
}

func TestReorderHoldsBehindLaterPackets(t *testing.T) {
	cfg := Config{Mode: ModeUDP, Fwd: Link{Reorder: 0.2, ReorderDepth: 3, ReorderHold: ms(500)}}
	s, rec := newTestSim(t, cfg, 3)
	const n = 3000
	out := drive(s, every(n, time.Millisecond), dataPkts(n))
	if len(out) != n {
		t.Fatalf("%d out, want %d", len(out), n)
	}
	pos := map[uint64]int{}
	for i, o := range out {
		pos[o.dep.Idx] = i
	}
	held := rec.arrivals(trace.Reordered)
	within(t, "reorder rate", float64(len(held))/n, 0.2, n, 1)
	overtaken := 0
	for _, e := range held {
		// Some later packet must have left before it, unless it was among
		// the last packets and the hold ran out. (It waits for up to 3
		// later copies that are not held themselves, so look further.)
		for later := e.Idx + 1; later < n && later <= e.Idx+20; later++ {
			if pos[later] < pos[e.Idx] {
				overtaken++
				break
			}
		}
	}
	if overtaken < len(held)-3 {
		t.Errorf("only %d of %d held packets were overtaken", overtaken, len(held))
	}
}

func TestDelayJitterBounds(t *testing.T) {
	cfg := Config{Mode: ModeUDP, Fwd: Link{Delay: ms(50), Jitter: ms(20)}}
	s, _ := newTestSim(t, cfg, 4)
	const n = 2000
	times := every(n, time.Millisecond)
	out := drive(s, times, dataPkts(n))
	var lo, hi int
	for _, o := range out {
		d := o.at - times[o.dep.Idx]
		if d < 30*time.Millisecond || d > 70*time.Millisecond {
			t.Fatalf("packet %d delayed %v, want 50ms ± 20ms", o.dep.Idx, d)
		}
		if d < 40*time.Millisecond {
			lo++
		}
		if d > 60*time.Millisecond {
			hi++
		}
	}
	within(t, "share below 40ms", float64(lo)/n, 0.25, n, 1)
	within(t, "share above 60ms", float64(hi)/n, 0.25, n, 1)
}

func TestRateLimitQueueAndTailDrop(t *testing.T) {
	cfg := Config{Mode: ModeUDP, Fwd: Link{Rate: 10_000, Queue: 3}}
	s, rec := newTestSim(t, cfg, 1)
	pkts := make([][]byte, 10)
	for i := range pkts {
		pkts[i] = bytes.Repeat([]byte{'x'}, 1000) // 100 ms each at 10 kB/s
	}
	out := drive(s, make([]time.Duration, 10), pkts) // all at t=0
	if len(out) != 3 {
		t.Fatalf("%d left, want 3 (queue of 3)", len(out))
	}
	for i, o := range out {
		if want := time.Duration(i+1) * 100 * time.Millisecond; o.at != want {
			t.Errorf("copy %d left at %v, want %v", i, o.at, want)
		}
	}
	drops := rec.arrivals(trace.Dropped)
	if len(drops) != 7 || !strings.Contains(drops[0].Detail, "rate queue full") {
		t.Fatalf("drops: %+v", drops)
	}
	// Once the queue drained, the link takes datagrams again.
	if got := s.Arrive(10*time.Second, 0, Fwd, pkts[0], ""); len(got) != 0 || s.Pending() != 1 {
		t.Fatalf("after draining: %d now, %d pending; want 0 and 1", len(got), s.Pending())
	}
}

// The arrival's action describes the copies that leave: a corrupted copy
// that the rate queue then drops does not make the datagram "corrupted".
func TestActionNamesSurvivingCopies(t *testing.T) {
	cfg := Config{Mode: ModeUDP, Fwd: Link{Dup: 1, Corrupt: 0.5, Rate: 1_000_000, Queue: 1}}
	s, rec := newTestSim(t, cfg, 2)
	drive(s, every(400, time.Second), dataPkts(400)) // the queue is empty at each arrival
	checked := 0
	for _, e := range rec.events {
		if e.Action == trace.Release || !strings.Contains(e.Detail, "copy 2 dropped: rate queue full") {
			continue
		}
		want := trace.Delayed // copy 1 waits for the link
		if strings.Contains(e.Detail, "copy 1 corrupted") {
			want = trace.Corrupted
		}
		if e.Action != want {
			t.Fatalf("%s for %q, want %s", e.Action, e.Detail, want)
		}
		if strings.Contains(e.Detail, "copy 2 corrupted") && want == trace.Delayed {
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("only %d arrivals had a corrupted copy 2 dropped and a clean copy 1", checked)
	}
}

func TestBlackoutOnceAndRepeating(t *testing.T) {
	cfg := Config{Mode: ModeUDP, Fwd: Link{Blackouts: []Blackout{{At: ms(100), For: ms(50), Every: ms(200)}}}}
	s, rec := newTestSim(t, cfg, 1)
	const n = 1000
	drive(s, every(n, time.Millisecond), dataPkts(n))
	for _, e := range rec.events {
		tm := time.Duration(e.T * float64(time.Millisecond))
		in := tm >= 100*time.Millisecond && (tm-100*time.Millisecond)%(200*time.Millisecond) < 50*time.Millisecond
		if in != (e.Action == trace.Dropped) {
			t.Fatalf("at %v: action %s, blackout %v", tm, e.Action, in)
		}
	}
	if got := len(rec.arrivals(trace.Dropped)); got != 5*50-50+50 { // windows at 100,300,500,700,900
		t.Errorf("%d dropped, want 250", got)
	}
}

func TestBlackoutAfterNthDatagram(t *testing.T) {
	b := []Blackout{{After: 5, At: ms(1), For: ms(10)}}
	s, rec := newTestSim(t, Config{Mode: ModeUDP, Fwd: Link{Blackouts: b}, Rev: Link{Blackouts: b}}, 1)
	// fwd datagrams every ms from t=100ms: the 5th comes at 104 ms, so
	// both directions are dead from 105 ms to 115 ms.
	for i := range 30 {
		now := 100*time.Millisecond + time.Duration(i)*time.Millisecond
		s.Arrive(now, 0, Fwd, dataPkts(1)[0], "")
		s.Arrive(now, 0, Rev, dataPkts(1)[0], "")
	}
	for _, e := range rec.events {
		in := e.T >= 105 && e.T < 115
		if in != (e.Action == trace.Dropped) {
			t.Fatalf("%s at %v ms: %s", e.Dir, e.T, e.Action)
		}
	}
}

func TestProtocolRules(t *testing.T) {
	rules := []Rule{{Drop: "start"}, {Drop: "end"}, {Drop: "ack"}, {Drop: "every-ack", N: 4}, {Drop: "seq", Seq: 3}}
	s, rec := newTestSim(t, Config{Mode: ModeUDP, Rules: rules}, 1)
	send := func(d Dir, p rudp.Packet) bool {
		return len(s.Arrive(0, 0, d, rudp.Encode(p), "")) == 1
	}
	start := rudp.Packet{Type: rudp.TypeStart, Seq: 1, Data: []byte("a")}
	end := rudp.Packet{Type: rudp.TypeEnd, Seq: 5, Data: nil}
	checks := []struct {
		d    Dir
		p    rudp.Packet
		pass bool
	}{
		{Fwd, start, false}, {Fwd, start, true}, // first start only
		{Fwd, rudp.Packet{Type: rudp.TypeData, Seq: 3, Data: []byte("c")}, false},
		{Fwd, rudp.Packet{Type: rudp.TypeData, Seq: 3, Data: []byte("c")}, true},
		{Fwd, end, false}, {Fwd, end, true},
		{Rev, rudp.Packet{Type: rudp.TypeAck, Seq: 2}, false}, // first ack
		{Rev, rudp.Packet{Type: rudp.TypeAck, Seq: 2}, true},
		{Rev, rudp.Packet{Type: rudp.TypeAck, Seq: 2}, true},
		{Rev, rudp.Packet{Type: rudp.TypeSack, Seq: 2}, false}, // 4th ack
		{Rev, rudp.Packet{Type: rudp.TypeAck, Seq: 3}, true},
	}
	for i, c := range checks {
		if got := send(c.d, c.p); got != c.pass {
			t.Errorf("step %d (%s %s %d): passed %v, want %v", i, c.d, c.p.Type, c.p.Seq, got, c.pass)
		}
	}
	// Garbage never matches a rule, and a corrupt start does not count as
	// the first start.
	if len(s.Arrive(0, 1, Fwd, []byte("start|1|x|123"), "")) != 1 {
		t.Error("a bad-checksum start was dropped by a rule")
	}
	if len(s.Arrive(0, 1, Fwd, rudp.Encode(start), "")) != 0 {
		t.Error("flow 1's first valid start was not dropped: rules must count per flow")
	}
	for _, e := range rec.arrivals(trace.Dropped) {
		if !strings.HasPrefix(e.Detail, "rule: ") {
			t.Errorf("drop reason %q", e.Detail)
		}
	}
}

func TestPendingIsBounded(t *testing.T) {
	cfg := Config{Mode: ModeUDP, Fwd: Link{Delay: Duration(time.Second)}}
	cfg.Normalize()
	rec := &recorder{}
	s := NewSim(cfg, 1, 100, rec.emit)
	p := dataPkts(1)[0]
	for range 10000 {
		s.Arrive(0, 0, Fwd, bytes.Clone(p), "")
	}
	if s.Pending() != 100 {
		t.Fatalf("pending %d, want the bound 100", s.Pending())
	}
	drops := rec.arrivals(trace.Dropped)
	if len(drops) != 9900 || drops[0].Detail != "dropped: relay queue full" {
		t.Fatalf("%d drops, first %+v", len(drops), drops[0])
	}
	s.Cancel(time.Millisecond)
	if got := len(rec.arrivals(trace.Cancelled)); got != 100 || s.Pending() != 0 {
		t.Fatalf("cancelled %d, pending %d", got, s.Pending())
	}
}

// The trace's promise: one arrival event per datagram, and exactly one
// forwarded-or-release event per copy that left.
func TestTraceAccountsForEveryCopy(t *testing.T) {
	s, rec := newTestSim(t, mixedConfig(), 99)
	const n = 5000
	out := drive(s, every(n, 200*time.Microsecond), dataPkts(n))
	arrivals, delivered := 0, 0
	for _, e := range rec.events {
		switch e.Action {
		case trace.Release:
			delivered++
		case trace.Forwarded:
			delivered++
			arrivals++
		case trace.Cancelled:
			t.Fatal("cancelled without Cancel")
		default:
			arrivals++
		}
	}
	if arrivals != n || delivered != len(out) || int64(delivered) != s.Counts()[Fwd].Sent {
		t.Fatalf("arrivals %d (want %d), delivered %d, out %d, counted %d", arrivals, n, delivered, len(out), s.Counts()[Fwd].Sent)
	}
}
