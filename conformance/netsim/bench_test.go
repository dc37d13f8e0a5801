package netsim

import (
	"bufio"
	"net"
	"runtime"
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

// cpuTime is the CPU time this process has used: on a host shared with
// other work it measures cost where wall time measures luck.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
