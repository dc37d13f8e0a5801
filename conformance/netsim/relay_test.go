package netsim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/reference/rudp"
)

// syncBuffer is a trace destination safe to read while the relay runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRelay runs a relay until the test ends (or stop is called) and
// returns its address and a function that stops it and returns the trace.
func startRelay(t *testing.T, cfg Config, upstream string) (addr string, stop func() *trace.Reader) {
	t.Helper()
	addr, _, stop = startRelayBuf(t, cfg, upstream)
	return addr, stop
}

// startRelayBuf is startRelay that also returns the trace as it is written
// (flushed every 100 ms).
func startRelayBuf(t *testing.T, cfg Config, upstream string) (addr string, buf *syncBuffer, stop func() *trace.Reader) {
	t.Helper()
	buf = &syncBuffer{}
	r, err := Listen(Options{Listen: "127.0.0.1:0", Upstream: upstream, Scenario: "test", Config: cfg, Seed: 1, Trace: buf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	var tr *trace.Reader
	stop = func() *trace.Reader {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("relay did not stop within 10 s of cancel")
			}
			if tr, err = trace.NewReader(strings.NewReader(buf.String())); err != nil {
				t.Fatal(err)
			}
		})
		return tr
	}
	t.Cleanup(func() { stop() })
	return r.Addr().String(), buf, stop
}

// lines counts the trace lines (header included) that contain s.
func (s *syncBuffer) lines(sub string) int {
	n := 0
	for l := range strings.Lines(s.String()) {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

func events(t *testing.T, tr *trace.Reader) []trace.Event {
	t.Helper()
	var out []trace.Event
	for {
		e, err := tr.Next()
		if err == io.EOF {
			if tr.Footer == nil {
				t.Error("trace has no footer after a clean stop")
			}
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
}

// ackServer answers every valid datagram with an ack for seq+1, like a
// receiver, and records what it saw and from where.
type ackServer struct {
	conn  *net.UDPConn
	mu    sync.Mutex
	got   [][]byte
	froms map[string]bool
}

func newAckServer(t *testing.T, addr string) *ackServer {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp", a)
	if err != nil {
		t.Fatal(err)
	}
	s := &ackServer{conn: c, froms: map[string]bool{}}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 70000)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.got = append(s.got, bytes.Clone(buf[:n]))
			s.froms[from.String()] = true
			s.mu.Unlock()
			if p, err := rudp.Parse(buf[:n]); err == nil {
				c.WriteToUDP(rudp.Encode(rudp.Packet{Type: rudp.TypeAck, Seq: p.Seq + 1}), from)
			}
		}
	}()
	return s
}

func (s *ackServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// waitFor polls cond for up to 10 s: generous, because the machine is
// shared; tests assert outcomes, never how fast they came.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dial(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	a, _ := net.ResolveUDPAddr("udp", addr)
	c, err := net.DialUDP("udp", nil, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAcks reads acks until n arrived or 10 s passed.
func readAcks(t *testing.T, c *net.UDPConn, n int) []rudp.Packet {
	t.Helper()
	var out []rudp.Packet
	buf := make([]byte, 2000)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(out) < n {
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %d of %d acks: %v", len(out), n, err)
		}
		p, err := rudp.Parse(buf[:k])
		if err != nil {
			t.Fatalf("bad ack %q: %v", buf[:k], err)
		}
		out = append(out, p)
	}
	return out
}

func TestRelayCleanBothWays(t *testing.T) {
	srv := newAckServer(t, "127.0.0.1:0")
	addr, stop := startRelay(t, Config{}, srv.conn.LocalAddr().String())
	c := dial(t, addr)
	pkts := dataPkts(50)
	for _, p := range pkts {
		c.Write(p)
		time.Sleep(time.Millisecond) // stay far below any socket buffer
	}
	acks := readAcks(t, c, len(pkts))
	seen := map[uint64]bool{}
	for _, a := range acks {
		seen[a.Seq] = true
	}
	if len(seen) != len(pkts) {
		t.Fatalf("%d distinct acks, want %d", len(seen), len(pkts))
	}
	evs := events(t, stop())
	var fwd, rev int
	for _, e := range evs {
		if e.Action != trace.Forwarded || !e.Valid() {
			t.Fatalf("unexpected event %+v", e)
		}
		if e.Dir == trace.Fwd {
			if e.Type != string(pkts[e.Idx][:bytes.IndexByte(pkts[e.Idx], '|')]) || e.Seq != e.Idx {
				t.Fatalf("fwd event %+v does not describe packet %d", e, e.Idx)
			}
			fwd++
		} else {
			rev++
		}
	}
	if fwd != len(pkts) || rev != len(pkts) {
		t.Fatalf("%d fwd and %d rev events, want %d each", fwd, rev, len(pkts))
	}
}

func TestRelayOneUpstreamSocketPerClient(t *testing.T) {
	srv := newAckServer(t, "127.0.0.1:0")
	addr, stop := startRelay(t, Config{}, srv.conn.LocalAddr().String())
	a, b := dial(t, addr), dial(t, addr)
	p := dataPkts(1)[0]
	a.Write(p)
	b.Write(p)
	readAcks(t, a, 1)
	readAcks(t, b, 1)
	srv.mu.Lock()
	n := len(srv.froms)
	srv.mu.Unlock()
	if n != 2 {
		t.Fatalf("upstream saw %d source addresses, want 2 (one per client)", n)
	}
	flows := map[int]bool{}
	for _, e := range events(t, stop()) {
		flows[e.Flow] = true
	}
	if len(flows) != 2 || !flows[0] || !flows[1] {
		t.Fatalf("flows in the trace: %v, want 0 and 1", flows)
	}
}

// Anything may arrive: empty datagrams, garbage, the largest UDP payload.
// The relay passes it on and labels it, and never falls over.
func TestRelaySurvivesAnyInput(t *testing.T) {
	srv := newAckServer(t, "127.0.0.1:0")
	addr, stop := startRelay(t, Config{Mode: ModeUDP, Fwd: Link{Corrupt: 0.5, Dup: 0.5}}, srv.conn.LocalAddr().String())
	c := dial(t, addr)
	inputs := [][]byte{{}, []byte("|"), []byte("||||"), []byte("ack|"), []byte("start|99999999999999999999999|x|1"),
		bytes.Repeat([]byte{0xff}, 1473), bytes.Repeat([]byte("|"), 60000), []byte("sack|1;2,3,|0")}
	for _, in := range inputs {
		if _, err := c.Write(in); err != nil {
			t.Fatalf("write %d bytes: %v", len(in), err)
		}
	}
	good := dataPkts(1)[0]
	c.Write(good)
	waitFor(t, "the good datagram after the garbage", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		for _, g := range srv.got {
			if len(g) == len(good) {
				return true
			}
		}
		return false
	})
	evs := events(t, stop())
	errs := map[string]int{}
	for _, e := range evs {
		if e.Dir == trace.Fwd && e.Action != trace.Release {
			errs[e.Err]++
		}
	}
	if errs[trace.ErrTooLong] != 2 || errs[trace.ErrMalformed] < 3 {
		t.Fatalf("parse errors in the trace: %v", errs)
	}
}

func TestRelayUpstreamNotListeningYet(t *testing.T) {
	// Reserve a port, free it: the relay starts before its receiver.
	tmp, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	upAddr := tmp.LocalAddr().String()
	tmp.Close()
	addr, stop := startRelay(t, Config{}, upAddr)
	c := dial(t, addr)
	for range 5 { // lost to the void; ICMP errors must not stop the relay
		c.Write(dataPkts(1)[0])
		time.Sleep(5 * time.Millisecond)
	}
	srv := newAckServer(t, upAddr)
	buf := make([]byte, 2000)
	waitFor(t, "an ack once the receiver is up", func() bool {
		c.Write(dataPkts(1)[0])
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, err := c.Read(buf)
		_, perr := rudp.Parse(buf[:n])
		return err == nil && perr == nil
	})
	if srv.count() == 0 {
		t.Fatal("receiver saw nothing")
	}
	// An ICMP refusal reported on a later write must not cost that write.
	tr := stop()
	events(t, tr)
	if n := tr.Footer.Counts["send_errors"]; n != 0 {
		t.Fatalf("%d send errors: datagrams traced as sent were not", n)
	}
}

func TestRelayUnresolvableUpstreamDropsAndStopsCleanly(t *testing.T) {
	addr, buf, stop := startRelayBuf(t, Config{}, "no-such-host.invalid:9")
	c := dial(t, addr)
	for range 3 {
		c.Write(dataPkts(1)[0])
	}
	waitFor(t, "three traced drops", func() bool { return buf.lines(`"dropped"`) == 3 })
	evs := events(t, stop())
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3: %+v", len(evs), evs)
	}
	for _, e := range evs {
		if e.Action != trace.Dropped || !strings.Contains(e.Detail, "not resolved") {
			t.Fatalf("event %+v", e)
		}
	}
}

func TestRelayStopCancelsPendingAndWritesFooter(t *testing.T) {
	srv := newAckServer(t, "127.0.0.1:0")
	cfg := Config{Mode: ModeUDP, Fwd: Link{Delay: Duration(time.Hour)}}
	addr, buf, stop := startRelayBuf(t, cfg, srv.conn.LocalAddr().String())
	c := dial(t, addr)
	for _, p := range dataPkts(10) {
		c.Write(p)
	}
	waitFor(t, "ten delayed datagrams", func() bool { return buf.lines(`"delayed"`) == 10 })
	tr := stop()
	evs := events(t, tr)
	delayed, cancelled := 0, 0
	for _, e := range evs {
		switch e.Action {
		case trace.Delayed:
			delayed++
		case trace.Cancelled:
			cancelled++
		}
	}
	if delayed != 10 || cancelled != 10 || tr.Footer.Counts["fwd_cancelled"] != int64(cancelled) {
		t.Fatalf("delayed %d, cancelled %d, footer %v", delayed, cancelled, tr.Footer.Counts)
	}
	if srv.count() != 0 {
		t.Fatal("a datagram delayed by an hour arrived")
	}
}

func TestRelayTCPTinySegmentsAndSlowClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		msg   []byte
		reads int
		err   error
	}
	res := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- result{err: err}
			return
		}
		defer c.Close()
		var r result
		buf := make([]byte, 100)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				r.reads++
				r.msg = append(r.msg, buf[:n]...)
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					r.err = err
				}
				break
			}
		}
		c.Write([]byte("Goodbye in Go\n"))
		res <- r
	}()
	cfg := Config{Mode: ModeTCP, Fwd: Link{SegMin: 1, SegMax: 3, Delay: ms(1), CloseDelay: ms(300)}}
	addr, stop := startRelay(t, cfg, ln.Addr().String())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte("Hello in Go, over many tiny segments\n")
	c.Write(msg)
	c.(*net.TCPConn).CloseWrite()
	reply, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil || !bytes.Equal(r.msg, msg) || string(reply) != "Goodbye in Go\n" {
		t.Fatalf("server got %q (err %v), client got %q", r.msg, r.err, reply)
	}
	evs := events(t, stop())
	var segs, maxSeg, halfCloses int
	wire := map[string][]byte{} // the bytes the trace says crossed, per direction
	for _, e := range evs {
		if e.Action == trace.Segment {
			if len(e.Data) != e.Size {
				t.Errorf("segment of %d bytes carries %d bytes of data", e.Size, len(e.Data))
			}
			wire[e.Dir] = append(wire[e.Dir], e.Data...)
		}
		switch {
		case e.Action == trace.Segment && e.Dir == trace.Fwd:
			segs++
			maxSeg = max(maxSeg, e.Size)
		case e.Action == trace.HalfClose:
			halfCloses++
			if e.Dir == trace.Fwd && e.Detail != "after 300.0ms" {
				t.Errorf("half-close detail %q", e.Detail)
			}
		}
	}
	if maxSeg > 3 || segs < len(msg)/3 || halfCloses != 2 {
		t.Fatalf("%d fwd segments (max %d bytes), %d half-closes", segs, maxSeg, halfCloses)
	}
	if !bytes.Equal(wire[trace.Fwd], msg) || string(wire[trace.Rev]) != "Goodbye in Go\n" {
		t.Fatalf("the trace's wire bytes are %q and %q", wire[trace.Fwd], wire[trace.Rev])
	}
	t.Logf("the server read %d bytes in %d reads", len(r.msg), r.reads)
}

// A program that floods its connection puts at most trace.WireCapture of
// its bytes into the trace, the first ones, whatever it sends.
func TestRelayTCPWireCaptureIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	addr, stop := startRelay(t, Config{Mode: ModeTCP}, ln.Addr().String())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	flood := make([]byte, 3*trace.WireCapture)
	for i := range flood {
		flood[i] = byte(i * 7)
	}
	c.Write(flood)
	c.(*net.TCPConn).CloseWrite()
	io.ReadAll(c)
	c.Close()
	var wire []byte
	var sent int
	for _, e := range events(t, stop()) {
		if e.Action == trace.Segment && e.Dir == trace.Fwd {
			wire = append(wire, e.Data...)
			sent += e.Size
		}
	}
	if sent != len(flood) || !bytes.Equal(wire, flood[:trace.WireCapture]) {
		t.Fatalf("forwarded %d bytes, captured %d: want all %d forwarded and the first %d captured", sent, len(wire), len(flood), trace.WireCapture)
	}
}
