package netsim

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/reference/rudp"
)

// BenchmarkSimArrive is the simulator's cost per datagram without
// sockets: parse, decide, encode the trace line.
func BenchmarkSimArrive(b *testing.B) {
	for _, sc := range []string{"clean", "mixed"} {
		b.Run(sc, func(b *testing.B) {
			s, _ := Lookup(sc)
			w, err := trace.NewWriter(bufio.NewWriter(discard{}), trace.Header{})
			if err != nil {
				b.Fatal(err)
			}
			sim := NewSim(s.Config, 1, 0, w.Event)
			pkt := rudp.Encode(rudp.Packet{Type: rudp.TypeData, Seq: 12345, Data: make([]byte, 1440)})
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			now := time.Duration(0)
			for i := range b.N {
				now += 10 * time.Microsecond
				buf := getBuf(len(pkt)) // as the relay's readers do
				copy(buf, pkt)
				for _, d := range sim.Arrive(now, 0, Dir(i&1), buf, "") {
					putBuf(d.Data) // as the relay does once a copy is sent
				}
				for _, d := range sim.Due(now) {
					putBuf(d.Data)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
			b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// window is how many datagrams the benchmark keeps in flight: enough to
// keep every stage busy, few enough never to overflow a socket buffer.
const window = 64

// pump sends n datagrams of size bytes to addr and waits until sink has
// received them, keeping at most window in flight: the sink hands back a
// credit per datagram. A datagram the kernel drops is given up on after
// 200 ms, so a loss cannot stall the run.
func pump(b *testing.B, addr net.Addr, sink *net.UDPConn, n, size int) (time.Duration, int) {
	credit := make(chan struct{}, window)
	for range window {
		credit <- struct{}{}
	}
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		sink.SetReadDeadline(time.Time{})
		for {
			if _, err := sink.Read(buf); err != nil {
				return // the deadline set below: the run is over
			}
			got.Add(1)
			select {
			case credit <- struct{}{}:
			default: // a duplicate's extra credit
			}
		}
	}()
	c, err := net.DialUDP("udp", nil, addr.(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.SetWriteBuffer(4 << 20)
	pkt := rudp.Encode(rudp.Packet{Type: rudp.TypeData, Seq: 1, Data: make([]byte, size)})
	timeout := time.NewTimer(time.Hour)
	start := time.Now()
	for range n {
		timeout.Reset(200 * time.Millisecond)
		select {
		case <-credit:
		case <-timeout.C: // one in flight was lost: carry on
		}
		c.Write(pkt)
	}
	// Wait for the window to drain (duplicates count too, so this may end
	// a little early: the error is under 1 %).
	for deadline := time.Now().Add(2 * time.Second); got.Load() < int64(n) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	sink.SetReadDeadline(time.Now())
	<-done
	return elapsed, max(0, n-int(got.Load()))
}

// plainRelay is the baseline: the least a UDP relay can do, one client,
// no decisions, no trace.
func plainRelay(b *testing.B, upstream *net.UDPAddr) (net.Addr, func()) {
	ln, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	up, err := net.DialUDP("udp", nil, upstream)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []*net.UDPConn{ln, up} {
		c.SetReadBuffer(4 << 20)
		c.SetWriteBuffer(4 << 20)
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := ln.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			up.Write(buf[:n])
		}
	}()
	return ln.LocalAddr(), func() { ln.Close(); up.Close() }
}

func newSink(b *testing.B) *net.UDPConn {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	sink.SetReadBuffer(4 << 20)
	return sink
}

// cpuTime is the CPU time this process has used: on a host shared with
// other work it measures cost where wall time measures luck.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRelay measures datagrams per second through netsim on
// loopback with the trace written to a file, and the same traffic through
// a plain relay (read, write, nothing else), and reports their ratio. The
// two alternate in rounds, so a change in the host's load hits both.
// Sender and sink run in this process too, so cpu-us/pkt is the whole
// path's CPU time per datagram; the difference is netsim's.
func BenchmarkRelay(b *testing.B) {
	for _, sc := range []string{"clean", "impaired"} {
		b.Run(sc, func(b *testing.B) {
			const size, rounds = 1400, 10
			per := max(b.N/rounds, 500)

			sink := newSink(b)
			defer sink.Close()
			plainAddr, stop := plainRelay(b, sink.LocalAddr().(*net.UDPAddr))
			defer stop()

			var cfg Config
			if sc == "impaired" {
				// Duplicates, corruption, reordering: work on every
				// datagram. No loss, which would eat the pump's credits,
				// and no delay, which would only measure the window.
				l := Link{Dup: 0.05, Corrupt: 0.02, Reorder: 0.05}
				cfg = Config{Mode: ModeUDP, Fwd: l, Rev: l}
			}
			f, err := os.Create(filepath.Join(b.TempDir(), "trace.jsonl"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			r, err := Listen(Options{Listen: "127.0.0.1:0", Upstream: sink.LocalAddr().String(), Config: cfg, Seed: 1, Trace: f})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()

			var plainWall, simWall, plainCPU, simCPU time.Duration
			var simLost int
			b.ResetTimer()
			for range rounds {
				c0 := cpuTime()
				d, _ := pump(b, plainAddr, sink, per, size)
				c1 := cpuTime()
				plainWall, plainCPU = plainWall+d, plainCPU+c1-c0
				d, lost := pump(b, r.Addr(), sink, per, size)
				simWall, simCPU, simLost = simWall+d, simCPU+cpuTime()-c1, simLost+lost
			}
			b.StopTimer()
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			n := float64(per * rounds)
			simPPS := (n - float64(simLost)) / simWall.Seconds()
			plainPPS := n / plainWall.Seconds()
			b.ReportMetric(simPPS, "pkts/s")
			b.ReportMetric(plainPPS, "plain-pkts/s")
			b.ReportMetric(simPPS/plainPPS, "ratio")
			b.ReportMetric(float64(simCPU.Microseconds())/n, "cpu-us/pkt")
			b.ReportMetric(float64(plainCPU.Microseconds())/n, "plain-cpu-us/pkt")
		})
	}
}

// A flood of datagrams that must all wait (a 10 s delay) fills the
// relay's bounded queue and no more: the heap stays far below what
// keeping them all would take.
func TestRelayMemoryBoundedUnderFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("floods loopback")
	}
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	cfg := Config{Mode: ModeUDP, Fwd: Link{Delay: Duration(10 * time.Second)}}
	addr, buf, stop := startRelayBuf(t, cfg, sink.LocalAddr().String())
	c := dial(t, addr)
	const n, size = 60_000, 1400 // 84 MB if all were kept
	pkt := make([]byte, size)
	// Live heap after a collection: what the relay keeps, not garbage a
	// busy machine has not collected yet (which made this test flaky).
	var peak uint64
	live := func() {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	for i := range n {
		c.Write(pkt)
		if i%5000 == 0 {
			live()
		}
	}
	waitFor(t, "the relay to read the flood", func() bool {
		live()
		return buf.lines(`relay queue full`) > 0 && buf.lines(`"delayed"`) == DefaultMaxPending
	})
	live()
	stop()
	// The queue holds DefaultMaxPending datagrams (about 6 MB); the trace
	// buffer here grows with the flood (about 150 bytes a datagram, 9 MB),
	// which a trace file would not. 40 MB is well under the 84 MB of an
	// unbounded queue.
	if peak > 40<<20 {
		t.Fatalf("heap peaked at %d MB", peak>>20)
	}
	t.Logf("heap peak %d MB for %d datagrams of %d bytes", peak>>20, n, size)
}
