package rudp_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/interop-suite/interop/reference/rudp"
	"github.com/interop-suite/interop/reference/rudp/internal/baseline"
	"github.com/interop-suite/interop/reference/rudp/internal/relay"
)

// Benchmark setup, also documented in README.md: every run moves the same
// random file through its own relay and receiver on loopback. The relay
// drops each datagram with probability p in both directions (data and
// acks) and delays every datagram by benchDelay each way, so the RTT is
// about 2*benchDelay: without a delay the course's fixed 500 ms timeout
// would be compared with a loopback RTT of some microseconds, which says
// nothing. Figures are sums over several seeds.
const (
	benchDelay = 5 * time.Millisecond
	benchSize  = 256 << 10
	benchSeeds = 5
)

type benchRun struct {
	dur  time.Duration
	tx   int64
	pkts int64
}

// BenchmarkSender compares the reference sender (with and without SACK)
// with the course-style Go-Back-N baseline over the same seeded lossy
// relays, and reports:
//
//	speedup, speedup-sack: baseline completion time / reference time
//	tx/bound, tx/bound-sack, base-tx/bound: transmissions per delivered
//	  packet divided by 1/(1-p), the expected transmissions when exactly
//	  the lost packets are sent again
func BenchmarkSender(b *testing.B) {
	for _, p := range []float64{0, 0.10, 0.30} {
		b.Run(fmt.Sprintf("loss=%.0f%%", 100*p), func(b *testing.B) {
			var ref, sack, base benchRun
			for b.Loop() {
				// The three senders of one seed run at once (each on its
				// own relay and receiver); seeds run one after another so
				// that few transfers compete for the CPU.
				for seed := range uint64(benchSeeds) {
					cfg := relay.Config{Seed: seed, Loss: p, AckLoss: p, Delay: benchDelay}
					data := randomBytes(100+seed, benchSize)
					var mu sync.Mutex
					var wg sync.WaitGroup
					for kind, acc := range []*benchRun{&ref, &sack, &base} {
						wg.Go(func() {
							r := runBench(b, cfg, data, kind)
							mu.Lock()
							acc.dur += r.dur
							acc.tx += r.tx
							acc.pkts += r.pkts
							mu.Unlock()
						})
					}
					wg.Wait()
				}
			}
			bound := 1 / (1 - p)
			b.ReportMetric(float64(base.dur)/float64(ref.dur), "speedup")
			b.ReportMetric(float64(base.dur)/float64(sack.dur), "speedup-sack")
			b.ReportMetric(float64(ref.tx)/float64(ref.pkts)/bound, "tx/bound")
			b.ReportMetric(float64(sack.tx)/float64(sack.pkts)/bound, "tx/bound-sack")
			b.ReportMetric(float64(base.tx)/float64(base.pkts)/bound, "base-tx/bound")
			b.ReportMetric(ref.dur.Seconds()/float64(b.N*benchSeeds), "ref-s/run")
			b.ReportMetric(sack.dur.Seconds()/float64(b.N*benchSeeds), "sack-s/run")
			b.ReportMetric(base.dur.Seconds()/float64(b.N*benchSeeds), "base-s/run")
		})
	}
}

// runBench moves data once: kind 0 is the reference sender, 1 the
// reference sender with SACK, 2 the baseline.
func runBench(b *testing.B, cfg relay.Config, data []byte, kind int) benchRun {
	rcv := startReceiver(b, kind == 1, 0)
	rl := startRelay(b, rcv.addr, cfg)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var r benchRun
	if kind == 2 {
		st, err := baseline.Send(ctx, conn, rl.Addr(), data, 0)
		if err != nil {
			b.Fatal(err)
		}
		r = benchRun{st.Duration, st.Transmissions, st.Packets}
	} else {
		st, err := rudp.Send(ctx, conn, rl.Addr(), bytes.NewReader(data), rudp.Options{SACK: kind == 1})
		if err != nil {
			b.Fatal(err)
		}
		r = benchRun{st.Duration, st.Transmissions, st.Packets}
	}
	assertFiles(b, rcv.dir, data)
	return r
}
