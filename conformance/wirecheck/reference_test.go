package wirecheck

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/netsim"
	"github.com/interop-suite/interop/reference/rudp"
)

// lockedBuffer lets the relay write while nothing reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// transferThrough sends size random bytes with the reference sender to
// the reference receiver through netsim running scenario, and returns the
// analysis of the trace.
func transferThrough(t *testing.T, scenario string, seed uint64, size int, sack bool) Report {
	t.Helper()
	sc, err := netsim.Lookup(scenario)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	dir := t.TempDir()
	rconn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rconn.Close()
	rctx, stopReceiver := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rudp.Serve(rctx, rconn, rudp.ReceiverOptions{Dir: dir, SACK: sack})
	}()
	defer func() { stopReceiver(); wg.Wait() }()

	var tr lockedBuffer
	relay, err := netsim.Listen(netsim.Options{Listen: "127.0.0.1:0", Upstream: rconn.LocalAddr().String(),
		Scenario: scenario, Config: sc.Config, Seed: seed, Trace: &tr})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stopRelay := context.WithCancel(ctx)
	relayDone := make(chan error, 1)
	go func() { relayDone <- relay.Run(sctx) }()

	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sconn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sconn.Close()
	if _, err := rudp.Send(ctx, sconn, relay.Addr(), bytes.NewReader(data), rudp.Options{SACK: sack}); err != nil {
		t.Fatalf("%s: reference send: %v", scenario, err)
	}
	stopRelay()
	if err := <-relayDone; err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 {
		t.Fatalf("%s: receiver wrote %v", scenario, files)
	}
	if got, _ := os.ReadFile(files[0]); !bytes.Equal(got, data) {
		t.Fatalf("%s: file differs", scenario)
	}
	rep, err := Analyze(bytes.NewReader(tr.b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if bad := notPass(rep); len(bad) > 0 {
		// Keep the evidence: netsim analyze FILE replays the verdict.
		if f, err := os.CreateTemp("", "wirecheck-"+scenario+"-*.jsonl"); err == nil {
			f.Write(tr.b.Bytes())
			f.Close()
			t.Logf("trace kept in %s", f.Name())
		}
	}
	return rep
}

// The reference implementation is the suite's fixed point: through every
// UDP scenario, the checker must find nothing wrong with it. A failure
// here is a bug in the checker, the reference or the simulator.
func TestReferenceThroughEveryScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("runs transfers over loopback")
	}
	for _, sc := range netsim.Scenarios() {
		if sc.Config.Mode != netsim.ModeUDP {
			continue
		}
		for _, sack := range []bool{false, true} {
			name := sc.Name
			if sack {
				name += "/sack"
			}
			t.Run(name, func(t *testing.T) {
				size := 150_000 // ~100 packets
				if sc.Config.Fwd.Loss >= 0.3 {
					size = 30_000 // heavy loss is slow: every loss of the head costs a timeout
				}
				rep := transferThrough(t, sc.Name, 7, size, sack)
				if bad := notPass(rep); len(bad) > 0 || !rep.Complete || !rep.Stats.EndAcked {
					var buf bytes.Buffer
					rep.WriteText(&buf)
					t.Fatalf("reference judged %s:\n%s", rep.Grade, buf.String())
				}
				if rep.Stats.Delivered != rep.Stats.UniqueData || rep.Stats.GoodputBps <= 0 {
					t.Fatalf("stats %+v", rep.Stats)
				}
				t.Logf("%s: %.0f ms, %d sent for %d packets, max in flight %d", name,
					rep.Stats.DurationMS, rep.Stats.PacketsSent, rep.Stats.UniqueData, rep.Stats.MaxInFlight)
			})
		}
	}
}
