package selfcheck

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/netsim"
)

func TestEveryScenarioMeasuresAsConfigured(t *testing.T) {
	if testing.Short() {
		t.Skip("sends probes over loopback")
	}
	for _, sc := range netsim.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := Run(ctx, sc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			res.WriteText(&buf)
			// Rates decided by the seeded dice (loss, duplicates,
			// corruption) and the trace-vs-wire counts must match. Delays
			// and throughput depend on how busy this shared machine is:
			// they are measured by `netsim selfcheck` and the benchmarks,
			// and only logged here (no timed assertions in unit tests).
			// Blackouts and rate limits act on time, so how many
			// datagrams they drop depends on the machine's speed too.
			timed := false
			for _, l := range []netsim.Link{sc.Config.Fwd, sc.Config.Rev} {
				timed = timed || len(l.Blackouts) > 0 || l.Rate > 0
			}
			for _, m := range res.Metrics {
				if !m.OK && !timing(m.Name) && !(timed && strings.Contains(m.Name, "loss")) {
					t.Fatalf("metric %q out of tolerance:\n%s", m.Name, buf.String())
				}
			}
			t.Logf("\n%s", buf.String())
		})
	}
}

func timing(name string) bool {
	return strings.Contains(name, "delay") || strings.Contains(name, "throughput")
}

// The comparison must be able to fail: a relay that lost nothing where 20 %
// loss was configured, or duplicated where none was, is caught.
func TestMetricsCatchAMismatch(t *testing.T) {
	const n = 1000
	u := &udpRun{cfg: netsim.Config{Mode: netsim.ModeUDP, Fwd: netsim.Link{Loss: 0.2}}, o: Options{Sigmas: 4, PPS: 2000},
		sent: make([]time.Time, n), fwd: newSeen()}
	t0 := time.Now()
	for i := range n {
		u.sent[i] = t0.Add(time.Duration(i) * time.Millisecond)
		u.fwd.add(probe(i, n), u.sent[i])
		if i%10 == 0 {
			u.fwd.add(probe(i, n), u.sent[i]) // a stray duplicate
		}
	}
	ms := u.direction(netsim.Fwd, &u.cfg.Fwd, u.fwd, u.sent, nil)
	byName := map[string]Metric{}
	for _, m := range ms {
		byName[m.Name] = m
	}
	if m := byName["fwd loss"]; m.OK || m.Measured != 0 || math.Abs(m.Configured-0.2) > 1e-9 {
		t.Errorf("loss: %+v", m)
	}
	if m := byName["fwd duplicates per datagram"]; m.OK || m.Measured != 0.1 {
		t.Errorf("dup: %+v", m)
	}
	if m := byName["fwd corrupted"]; !m.OK {
		t.Errorf("corrupt: %+v", m)
	}
}

func TestIdSurvivesCorruption(t *testing.T) {
	for i := range 200 {
		b := probe(i*37, 10000)
		for j := range 3 { // flip 3 bits anywhere
			pos := (i*131 + j*977) % (len(b) * 8)
			b[pos/8] ^= 1 << (pos % 8)
		}
		if id, ok := idOf(b); !ok || id != uint64(i*37) {
			t.Fatalf("probe %d read as %d (%v): %q", i*37, id, ok, b)
		}
	}
	if id, ok := idOf(echo(12345)); !ok || id != 12345 {
		t.Fatalf("echo read as %d", id)
	}
}

// A delay longer than configured may be the host's doing (warn); a
// shorter one is the simulator's (fail).
func TestDelayBoundsWarnOrFail(t *testing.T) {
	measure := func(oneWay time.Duration) Metric {
		const n = 100
		cfg := netsim.Config{Mode: netsim.ModeUDP, Fwd: netsim.Link{Delay: netsim.Duration(50 * time.Millisecond)}}
		u := &udpRun{cfg: cfg, o: Options{Sigmas: 4, PPS: 2000}, sent: make([]time.Time, n), fwd: newSeen()}
		t0 := time.Now()
		for i := range n {
			u.sent[i] = t0.Add(time.Duration(i) * time.Millisecond)
			u.fwd.add(probe(i, n), u.sent[i].Add(oneWay))
		}
		for _, m := range u.direction(netsim.Fwd, &u.cfg.Fwd, u.fwd, u.sent, nil) {
			if m.Name == "fwd median delay" {
				return m
			}
		}
		t.Fatal("no delay metric")
		return Metric{}
	}
	if m := measure(51 * time.Millisecond); !m.OK || m.Warn {
		t.Errorf("on time: %+v", m)
	}
	if m := measure(300 * time.Millisecond); !m.OK || !m.Warn {
		t.Errorf("late: %+v", m)
	}
	if m := measure(5 * time.Millisecond); m.OK {
		t.Errorf("early: %+v", m)
	}
}
