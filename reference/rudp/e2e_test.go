package rudp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/interop-suite/interop/reference/rudp"
	"github.com/interop-suite/interop/reference/rudp/internal/relay"
)

// Generous bounds: the machine is shared and slow at times. Tests assert
// outcomes (bytes equal, errors), never durations.
const transferTimeout = 2 * time.Minute

// receiver runs Serve on a fresh loopback socket and directory until the
// test ends, and fails the test if Serve fails.
type receiver struct {
	addr *net.UDPAddr
	dir  string
}

func startReceiver(t testing.TB, sack bool, idle time.Duration) receiver {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- rudp.Serve(ctx, conn, rudp.ReceiverOptions{Dir: dir, SACK: sack, IdleTimeout: idle})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
		conn.Close()
	})
	return receiver{addr: conn.LocalAddr().(*net.UDPAddr), dir: dir}
}

func startRelay(t testing.TB, target *net.UDPAddr, cfg relay.Config) *relay.Relay {
	t.Helper()
	r, err := relay.Start(target, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func send(t testing.TB, to *net.UDPAddr, data []byte, opts rudp.Options) (rudp.Stats, error) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), transferTimeout)
	defer cancel()
	return rudp.Send(ctx, conn, to, bytes.NewReader(data), opts)
}

func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), 1}).Read(b)
	return b
}

// completeFiles returns the contents of the complete (non-.partial) files
// in dir, sorted, and fails if anything else than regular files is there.
func completeFiles(t testing.TB, dir string) [][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, e := range ents {
		if !e.Type().IsRegular() {
			t.Fatalf("%s is not a regular file", e.Name())
		}
		if strings.HasSuffix(e.Name(), rudp.PartialSuffix) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	slices.SortFunc(out, bytes.Compare)
	return out
}

func assertFiles(t testing.TB, dir string, want ...[]byte) {
	t.Helper()
	got := completeFiles(t, dir)
	want = slices.Clone(want)
	slices.SortFunc(want, bytes.Compare)
	if len(got) != len(want) {
		t.Fatalf("%d complete files in the output directory, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("output file differs from the input: %d bytes, want %d (first difference at %d)",
				len(got[i]), len(want[i]), firstDiff(got[i], want[i]))
		}
	}
}

// packetsFor is the number of packets for size bytes from seqno first
// when every payload is as large as MaxPayload allows and the last one
// rides in end (RUDP-7, RUDP-46).
func packetsFor(size int, first uint64) int64 {
	size -= min(size, rudp.MaxPayload(rudp.TypeStart, first))
	n := int64(1)
	for seq := first + 1; ; seq++ {
		n++
		if size <= rudp.MaxPayload(rudp.TypeData, seq) {
			return n
		}
		size -= rudp.MaxPayload(rudp.TypeData, seq)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

var (
	clean = relay.Config{}
	lossy = relay.Config{Loss: 0.10, AckLoss: 0.10, Duplicate: 0.05, Reorder: 0.05, Corrupt: 0.03, Delay: time.Millisecond}
	mild  = relay.Config{Loss: 0.02, AckLoss: 0.02, Duplicate: 0.01, Reorder: 0.01, Corrupt: 0.01}
)

// TestEndToEnd moves random binary files through a lossy relay and checks
// that the receiver's file equals the input byte for byte (RUDP-14,
// RUDP-40..46, RUDP-30..32).
func TestEndToEnd(t *testing.T) {
	s0 := rudp.MaxPayload(rudp.TypeStart, 0)
	s1 := rudp.MaxPayload(rudp.TypeData, 1)
	type tc struct {
		net  string
		cfg  relay.Config
		size int
		big  bool // skipped in -short mode
	}
	var cases []tc
	for _, n := range []int{0, 1, s0 - 1, s0, s0 + 1, s0 + s1, s0 + 3*s1 + 7, 100 << 10, 1 << 20} {
		cases = append(cases, tc{"clean", clean, n, false})
	}
	for _, n := range []int{0, 1, s0, s0 + s1, 50 << 10, 300 << 10} {
		cases = append(cases, tc{"lossy", lossy, n, false})
	}
	cases = append(cases, tc{"lossy", lossy, 1 << 20, true}, tc{"clean", clean, 10 << 20, true}, tc{"mild", mild, 10 << 20, true})
	for _, sack := range []bool{false, true} {
		for i, c := range cases {
			t.Run(fmt.Sprintf("%s/sack=%v/%d", c.net, sack, c.size), func(t *testing.T) {
				if c.big && testing.Short() {
					t.Skip("large transfer skipped in -short mode")
				}
				t.Parallel()
				rcv := startReceiver(t, sack, 0)
				cfg := c.cfg
				cfg.Seed = uint64(i)
				rl := startRelay(t, rcv.addr, cfg)
				data := randomBytes(uint64(c.size), c.size)
				st, err := send(t, rl.Addr(), data, rudp.Options{SACK: sack, FirstSeq: uint64(i) * 1000})
				if err != nil {
					t.Fatalf("Send: %v (stats %+v, relay %+v)", err, st, rl.Stats())
				}
				assertFiles(t, rcv.dir, data)
				if want := packetsFor(c.size, uint64(i)*1000); st.Packets != want {
					t.Errorf("%d packets for %d bytes, want %d: payloads are not maximal (RUDP-46)", st.Packets, c.size, want)
				}
				rs := rl.Stats()
				if c.net == "lossy" && c.size >= 300<<10 && (rs.Dropped == 0 || rs.Duplicated == 0 || rs.Reordered == 0 || rs.Corrupted == 0 || st.FastRetransmits == 0) {
					// Guard against a relay that silently stopped impairing.
					t.Errorf("the lossy path did not impair every way: relay %+v, sender %+v", rs, st)
				}
				t.Logf("stats %+v relay %+v", st, rs)
			})
		}
	}
}

// TestBlackout cuts the path in both directions for 3 s in the middle of
// a transfer: the sender must back off, keep probing and finish (RUDP-44).
func TestBlackout(t *testing.T) {
	for _, sack := range []bool{false, true} {
		t.Run(fmt.Sprintf("sack=%v", sack), func(t *testing.T) {
			t.Parallel()
			rcv := startReceiver(t, sack, 0)
			rl := startRelay(t, rcv.addr, relay.Config{Seed: 3, Loss: 0.05, AckLoss: 0.05, Delay: 2 * time.Millisecond,
				BlackoutAfter: 60, Blackout: 3 * time.Second})
			data := randomBytes(11, 200<<10)
			st, err := send(t, rl.Addr(), data, rudp.Options{SACK: sack})
			if err != nil {
				t.Fatalf("Send: %v (%+v)", err, st)
			}
			assertFiles(t, rcv.dir, data)
			if rl.Stats().BlackedOut == 0 || st.Timeouts == 0 {
				t.Errorf("the blackout did not happen during the transfer: relay %+v, sender %+v", rl.Stats(), st)
			}
		})
	}
}

// TestConcurrentTransfers runs two senders at once through one relay into
// one receiver: the transfers must stay apart (RUDP-10).
func TestConcurrentTransfers(t *testing.T) {
	for _, sack := range []bool{false, true} {
		t.Run(fmt.Sprintf("sack=%v", sack), func(t *testing.T) {
			t.Parallel()
			rcv := startReceiver(t, sack, 0)
			cfg := lossy
			cfg.Seed = 5
			rl := startRelay(t, rcv.addr, cfg)
			a, b := randomBytes(1, 200<<10), randomBytes(2, 150<<10+3)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, d := range [][]byte{a, b} {
				wg.Go(func() {
					// Same start seqno on purpose: only the address tells them apart.
					_, errs[i] = send(t, rl.Addr(), d, rudp.Options{SACK: sack, FirstSeq: 42})
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			assertFiles(t, rcv.dir, a, b)
			if got := rl.Stats().Clients; got != 2 {
				t.Errorf("relay saw %d clients, want 2", got)
			}
		})
	}
}

// TestSendReader feeds the sender through readers that return short reads,
// as a pipe on stdin does.
func TestSendReader(t *testing.T) {
	rcv := startReceiver(t, false, 0)
	data := randomBytes(9, 20<<10+5)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), transferTimeout)
	defer cancel()
	if _, err := rudp.Send(ctx, conn, rcv.addr, iotest.HalfReader(iotest.OneByteReader(bytes.NewReader(data))), rudp.Options{}); err != nil {
		t.Fatal(err)
	}
	assertFiles(t, rcv.dir, data)

	_, err = rudp.Send(ctx, conn, rcv.addr, iotest.ErrReader(errors.New("disk on fire")), rudp.Options{})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Send with a failing reader: %v, want the reader's error", err)
	}
}

// TestSendGivesUp sends to a socket that never answers: Send must fail
// with ErrGaveUp after the configured time, not hang (RUDP-44, RUDP-45).
func TestSendGivesUp(t *testing.T) {
	t.Parallel()
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	st, err := send(t, sink.LocalAddr().(*net.UDPAddr), []byte("hello"), rudp.Options{GiveUp: 1500 * time.Millisecond})
	if !errors.Is(err, rudp.ErrGaveUp) {
		t.Fatalf("Send to a silent peer: %v, want ErrGaveUp", err)
	}
	if st.Timeouts == 0 || st.Transmissions < 2 {
		t.Errorf("the sender did not retransmit before giving up: %+v", st)
	}
}

// TestSendContext cancels a transfer to a silent peer.
func TestSendContext(t *testing.T) {
	t.Parallel()
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = rudp.Send(ctx, conn, sink.LocalAddr(), bytes.NewReader([]byte("x")), rudp.Options{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send: %v, want context.DeadlineExceeded", err)
	}
	// conn is usable again: Send restored its read deadline.
	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := conn.ReadFrom(make([]byte, 10)); err == nil || !os.IsTimeout(err) {
		t.Fatalf("conn after Send: %v, want a timeout from our own deadline", err)
	}
}
