package selfcheck

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"time"

	"github.com/interop-suite/interop/conformance/netsim"
	"github.com/interop-suite/interop/conformance/netsim/trace"
)

// udpRun is one probe run: the client sends probes through the relay to
// an upstream that answers each datagram it gets with a numbered echo.
type udpRun struct {
	cfg     netsim.Config
	o       Options
	sent    []time.Time // probe i left the client
	fwd     *seen       // probes at the upstream
	rev     *seen       // echoes at the client
	echoMu  sync.Mutex
	echoAt  []time.Time // echo k left the upstream
	traceJS []byte
}

func runUDP(ctx context.Context, name string, cfg netsim.Config, o Options) ([]Metric, error) {
	o.Probes = max(o.Probes, probesToCover(&cfg, o.PPS))
	up, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	defer up.Close()
	_ = up.SetReadBuffer(4 << 20)
	u := &udpRun{cfg: cfg, o: o, sent: make([]time.Time, o.Probes), fwd: newSeen(), rev: newSeen()}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65536)
		for {
			n, from, err := up.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			u.fwd.add(buf[:n], time.Now())
			u.echoMu.Lock()
			k := uint64(len(u.echoAt))
			u.echoAt = append(u.echoAt, time.Now())
			u.echoMu.Unlock()
			up.WriteToUDPAddrPort(echo(k), from)
		}
	}()

	addr, stop, err := startRelay(ctx, name, cfg, o.Seed, up.LocalAddr().String())
	if err != nil {
		return nil, err
	}
	cli, err := net.DialUDP("udp", nil, addr.(*net.UDPAddr))
	if err != nil {
		stop()
		return nil, err
	}
	defer cli.Close()
	_ = cli.SetReadBuffer(4 << 20)
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65536)
		for {
			n, err := cli.Read(buf)
			if err != nil {
				return
			}
			u.rev.add(buf[:n], time.Now())
		}
	}()

	// Paced, so the measured loss is netsim's and not the kernel's.
	interval := time.Second / time.Duration(o.PPS)
	start := time.Now()
	for i := range o.Probes {
		if i%10 == 0 {
			if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		if ctx.Err() != nil {
			stop()
			return nil, ctx.Err()
		}
		u.sent[i] = time.Now()
		if _, err := cli.Write(probe(i, o.Probes)); err != nil {
			stop()
			return nil, fmt.Errorf("send probe %d: %w", i, err)
		}
	}
	// Wait until everything delayed or held could have arrived. The
	// quiet second is for a loaded host: with 300 ms, a relay that did
	// not get the CPU for that long had its last echoes counted as lost
	// (a run of the unit tests beside a conformance run measured 2.75 %
	// ack loss where 0 was configured).
	quiet := time.Second + slowest(&cfg.Fwd) + slowest(&cfg.Rev)
	for {
		last := u.sent[len(u.sent)-1]
		for _, t := range []time.Time{u.fwd.lastArrival(), u.rev.lastArrival()} {
			if t.After(last) {
				last = t
			}
		}
		if time.Since(last) > quiet || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	u.traceJS, err = stop()
	up.Close()
	cli.Close()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if u.fwd.total() == 0 && !blackedOutFromStart(&cfg) {
		return nil, errNoTraffic
	}
	return u.metrics()
}

// probesToCover is how many probes it takes, at pps, to run past the end
// of every blackout (two periods of a repeating one) and 500 ms more, so
// the check sees the network come back. At most 30 s worth.
func probesToCover(c *netsim.Config, pps int) int {
	var end time.Duration
	for _, l := range []*netsim.Link{&c.Fwd, &c.Rev} {
		for _, b := range l.Blackouts {
			e := time.Duration(b.After)*time.Second/time.Duration(pps) + b.At.D() + b.For.D() + b.Every.D()
			end = max(end, e)
		}
	}
	if end == 0 {
		return 0
	}
	end = min(end+500*time.Millisecond, 30*time.Second)
	return int(end.Seconds() * float64(pps))
}

// slowest is the longest a datagram may wait inside netsim on l.
func slowest(l *netsim.Link) time.Duration {
	d := l.Delay.D() + l.Jitter.D() + l.ReorderHold.D()
	if l.Rate > 0 {
		d += time.Duration(int64(max(l.Queue, 1)) * 1500 * int64(time.Second) / l.Rate)
	}
	return d
}

func blackedOutFromStart(c *netsim.Config) bool {
	for _, b := range c.Fwd.Blackouts {
		if b.At == 0 && b.After <= 1 {
			return true
		}
	}
	return false
}

func (u *udpRun) metrics() ([]Metric, error) {
	var out []Metric
	u.echoMu.Lock()
	echoAt := u.echoAt
	u.echoMu.Unlock()
	fwdDrops, revDrops := u.ruleDrops(len(echoAt))
	out = append(out, u.direction(netsim.Fwd, &u.cfg.Fwd, u.fwd, u.sent, fwdDrops)...)
	out = append(out, u.direction(netsim.Rev, &u.cfg.Rev, u.rev, echoAt, revDrops)...)
	out = append(out, u.ruleMetrics(fwdDrops, revDrops)...)
	agree, err := u.traceAgrees()
	if err != nil {
		return nil, err
	}
	return append(out, agree...), nil
}

// ruleDrops lists, per direction, the datagram numbers the rules must
// drop: the probes are start, data..., end with seqno = number, and the
// echoes are sacks in the order the relay sees them.
func (u *udpRun) ruleDrops(echoes int) (fwd, rev map[uint64]string) {
	fwd, rev = map[uint64]string{}, map[uint64]string{}
	n := uint64(len(u.sent))
	for _, r := range u.cfg.Rules {
		switch r.Drop {
		case "start":
			fwd[0] = r.String()
		case "end":
			fwd[n-1] = r.String()
		case "seq":
			if r.Seq < n {
				fwd[r.Seq] = r.String()
			}
		case "ack":
			for k := 0; k < r.Count && k < echoes; k++ {
				rev[uint64(k)] = r.String()
			}
		case "every-ack":
			for k := r.N - 1; k < echoes; k += r.N {
				rev[uint64(k)] = r.String()
			}
		}
	}
	return fwd, rev
}

// direction measures one direction: n datagrams went in at times in.
func (u *udpRun) direction(d netsim.Dir, l *netsim.Link, got *seen, in []time.Time, ruled map[uint64]string) []Metric {
	n := len(in)
	name := d.String() + " "
	sig := u.o.Sigmas
	var out []Metric
	if n == 0 {
		return []Metric{{Name: name + "datagrams", Note: "nothing to measure: no datagram went this way", OK: true}}
	}

	// Loss: configured random and burst loss, plus what blackouts and
	// rules must drop on this schedule.
	p, vif := l.Loss, 1.0
	if g := l.Burst; g != nil {
		p = 1 - (1-p)*(1-g.Mean())
		if rho := 1 - g.P - g.R; rho < 1 {
			vif = (1 + rho) / (1 - rho)
		}
	}
	inBlackout, edge := u.blackoutSchedule(l, in)
	expectLost := 0.0
	for i := range n {
		switch {
		case inBlackout[i]:
			expectLost++
		case ruled[uint64(i)] != "":
			expectLost++
		default:
			expectLost += p
		}
	}
	got.mu.Lock()
	distinct := len(got.first)
	datagrams, corrupt, late, bytesIn := got.datagrams-got.unknown, got.corrupt, got.late, got.bytes
	firstAt, lastAt := got.firstAt, got.lastAt
	var delays []float64
	for id, at := range got.first {
		if int(id) < n {
			delays = append(delays, float64(at.Sub(in[id]))/float64(time.Millisecond))
		}
	}
	got.mu.Unlock()

	loss := rateMetric(name+"loss", expectLost/float64(n), 1-float64(distinct)/float64(n), n, vif, sig)
	loss.Tolerance += float64(edge) / float64(n)
	loss.OK = math.Abs(loss.Measured-loss.Configured) <= loss.Tolerance
	if l.Rate > 0 {
		loss.OK, loss.Note = true, "includes drops at the rate queue: not compared"
	}
	out = append(out, loss)
	if distinct == 0 {
		return out
	}
	out = append(out, rateMetric(name+"duplicates per datagram", l.Dup, float64(datagrams-distinct)/float64(distinct), distinct, 1, sig))
	out = append(out, rateMetric(name+"corrupted", l.Corrupt, float64(corrupt)/float64(max(datagrams, 1)), datagrams, 1, sig))
	reorder := rateMetric(name+"reordered", l.Reorder, float64(late)/float64(distinct), distinct, 1, sig)
	if l.Jitter > 0 || l.Rate > 0 {
		reorder.OK, reorder.Note = true, "jitter and rate queues reorder too: not compared"
	}
	out = append(out, reorder)
	if l.Delay > 0 || l.Jitter > 0 {
		// Median: the relay never sends early, and a loaded host adds
		// some; the upper bound is generous for that.
		med := median(delays)
		lo := (l.Delay - l.Jitter/2).D()
		hi := (l.Delay + l.Jitter).D() + 50*time.Millisecond
		ms := func(t time.Duration) float64 { return float64(t) / float64(time.Millisecond) }
		out = append(out, Metric{Name: name + "median delay", Configured: ms(l.Delay.D()), Measured: med, Unit: "ms",
			Tolerance: ms(hi - l.Delay.D()), OK: med >= ms(lo)-1, Warn: med > ms(hi),
			Note: fmt.Sprintf("want %.0f..%.0f ms", ms(lo), ms(hi))})
	}
	if l.Rate > 0 && lastAt.After(firstAt) {
		rate := float64(bytesIn) / lastAt.Sub(firstAt).Seconds()
		offered := float64(len(probe(0, 1))) * float64(u.o.PPS)
		// Never faster than the rate. Not much slower either, but the
		// probes come in bursts on a busy host and a short queue idles
		// the link between them, so the lower bound is loose.
		lo := 0.5 * min(float64(l.Rate), offered)
		out = append(out, Metric{Name: name + "throughput", Configured: float64(l.Rate), Measured: rate, Unit: "B/s",
			Tolerance: 0.05 * float64(l.Rate), OK: rate <= 1.05*float64(l.Rate), Warn: rate < lo,
			Note: fmt.Sprintf("want %.0f..%.0f B/s (offered %.0f)", lo, 1.05*float64(l.Rate), offered)})
	}
	return out
}

// blackoutSchedule says which of the datagrams sent at times in fall in
// a blackout of l, timed as the relay times it (from the first datagram,
// or from the After-th probe), and how many are too near an edge to say.
func (u *udpRun) blackoutSchedule(l *netsim.Link, in []time.Time) (out []bool, edge int) {
	out = make([]bool, len(in))
	const margin = 10 * time.Millisecond
	for _, b := range l.Blackouts {
		base := u.sent[0]
		if b.After > 0 {
			if b.After > len(u.sent) {
				continue
			}
			base = u.sent[b.After-1]
		}
		for i, t := range in {
			off := t.Sub(base) - b.At.D()
			if off < -margin {
				continue
			}
			if b.Every > 0 && off > 0 {
				off %= b.Every.D()
			}
			if off >= 0 && off < b.For.D() {
				out[i] = true
			}
			if off.Abs() < margin || (off-b.For.D()).Abs() < margin {
				edge++
			}
		}
	}
	return out, edge
}

// ruleMetrics checks that every datagram a rule targets went missing.
func (u *udpRun) ruleMetrics(fwd, rev map[uint64]string) []Metric {
	var out []Metric
	for _, dir := range []struct {
		name  string
		drops map[uint64]string
		got   *seen
	}{{"fwd", fwd, u.fwd}, {"rev", rev, u.rev}} {
		byRule := map[string][2]int{} // rule -> {targeted, missing}
		dir.got.mu.Lock()
		for id, rule := range dir.drops {
			c := byRule[rule]
			c[0]++
			if dir.got.count[id] == 0 {
				c[1]++
			}
			byRule[rule] = c
		}
		dir.got.mu.Unlock()
		for rule, c := range byRule {
			out = append(out, Metric{Name: dir.name + " rule: " + rule, Configured: float64(c[0]), Measured: float64(c[1]),
				Unit: "dropped", OK: c[0] == c[1]})
		}
	}
	return out
}

// traceAgrees compares the relay's trace with the wire: every copy the
// trace says left must have arrived. A difference means the kernel lost
// datagrams on loopback, and the other figures are not netsim's alone.
func (u *udpRun) traceAgrees() ([]Metric, error) {
	tr, err := trace.NewReader(bytes.NewReader(u.traceJS))
	if err != nil {
		return nil, fmt.Errorf("relay trace: %w", err)
	}
	var left [2]int
	for {
		e, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("relay trace: %w", err)
		}
		if e.Action == trace.Forwarded || e.Action == trace.Release {
			if e.Dir == trace.Rev {
				left[1]++
			} else {
				left[0]++
			}
		}
	}
	var out []Metric
	for i, s := range []*seen{u.fwd, u.rev} {
		name := netsim.Dir(i).String()
		m := Metric{Name: name + " trace vs wire", Configured: float64(left[i]), Measured: float64(s.total()), Unit: "datagrams"}
		m.OK = m.Configured == m.Measured
		if !m.OK {
			m.Note = "the trace and the wire disagree: datagrams lost outside netsim (host overloaded?)"
		}
		out = append(out, m)
	}
	return out, nil
}
