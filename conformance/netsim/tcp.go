package netsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/interop-suite/interop/conformance/netsim/trace"
)

// TCP mode. TCP hides loss and reordering from applications, so what can
// break a Hello program is how the bytes are cut up and timed: a message
// split over many reads, late bytes, a late close. The relay accepts a
// client, dials the upstream, and copies each direction in seeded chunks
// (each written on its own with TCP_NODELAY, after a seeded delay), and
// passes EOF on as a half-close after CloseDelay.

// DialTimeout is how long a TCP connection waits for the upstream to
// accept before the client is turned away.
const DialTimeout = 10 * time.Second

type tcpRelay struct {
	*Relay
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	up    atomic.Pointer[string] // resolved "ip:port", once known

	accepted, segments, bytes, errs atomic.Int64
}

func (r *Relay) runTCP(ctx context.Context) map[string]int64 {
	t := &tcpRelay{Relay: r, conns: map[net.Conn]struct{}{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for id := 0; ; {
			c, err := r.tcp.AcceptTCP()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
				continue
			}
			t.accepted.Add(1)
			t.wg.Add(1)
			go t.serve(ctx, id, c)
			id++
		}
	}()
	<-ctx.Done()
	r.tcp.Close()
	<-done
	t.mu.Lock()
	for c := range t.conns {
		c.Close()
	}
	t.conns = nil // connections that come in late are closed by track
	t.mu.Unlock()
	t.wg.Wait()
	return map[string]int64{
		"connections": t.accepted.Load(), "segments": t.segments.Load(),
		"bytes": t.bytes.Load(), "errors": t.errs.Load(),
	}
}

func (t *tcpRelay) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conns == nil {
		c.Close()
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *tcpRelay) untrack(c net.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	c.Close()
}

func (t *tcpRelay) event(flow int, d Dir, idx uint64, action string, size int, detail string) {
	t.emit(&trace.Event{T: t.now(), Flow: flow, Dir: d.String(), Idx: idx, Action: action, Size: size, Detail: detail})
}

// segmentEvent records a forwarded chunk with its first bytes (spec/trace.md
// "data"); the event is written before buf is reused.
func (t *tcpRelay) segmentEvent(flow int, d Dir, idx uint64, size int, detail string, wire []byte) {
	t.emit(&trace.Event{T: t.now(), Flow: flow, Dir: d.String(), Idx: idx, Action: trace.Segment, Size: size, Detail: detail, Data: wire})
}

func (t *tcpRelay) serve(ctx context.Context, id int, client *net.TCPConn) {
	defer t.wg.Done()
	if !t.track(client) {
		return
	}
	defer t.untrack(client)
	up, attempts, err := t.dial(ctx)
	if err != nil {
		t.errs.Add(1)
		t.event(id, Fwd, 0, trace.Error, 0, fmt.Sprintf("client %s: upstream %s: %v", client.RemoteAddr(), t.opts.Upstream, err))
		return
	}
	if !t.track(up) {
		return
	}
	defer t.untrack(up)
	t.event(id, Fwd, 0, trace.Accept, 0, fmt.Sprintf("client %s, upstream %s (%d attempts)", client.RemoteAddr(), up.RemoteAddr(), attempts))
	for _, c := range []*net.TCPConn{client, up} {
		_ = c.SetNoDelay(true) // each chunk its own segment
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); t.pump(ctx, id, Fwd, client, up) }()
	go func() { defer wg.Done(); t.pump(ctx, id, Rev, up, client) }()
	wg.Wait()
	t.event(id, Fwd, 0, trace.Close, 0, "")
}

// dial connects to the upstream, retrying while it is not up yet.
func (t *tcpRelay) dial(ctx context.Context) (*net.TCPConn, int, error) {
	ctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	var d net.Dialer
	for attempt := 1; ; attempt++ {
		addr := t.opts.Upstream
		if p := t.up.Load(); p != nil {
			addr = *p
		}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			s := c.RemoteAddr().String()
			t.up.Store(&s)
			return c.(*net.TCPConn), attempt, nil
		}
		select {
		case <-ctx.Done():
			return nil, attempt, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pump copies src to dst in seeded chunks until EOF, which it passes on
// as a half-close. On an error it closes both sides, so the other pump
// ends too.
func (t *tcpRelay) pump(ctx context.Context, flow int, d Dir, src, dst *net.TCPConn) {
	l := t.opts.Config.Link(d)
	buf := make([]byte, 32<<10)
	var idx uint64
	captured := 0 // bytes of this direction already in the trace (trace.WireCapture)
	fail := func(err error) {
		t.errs.Add(1)
		t.event(flow, d, idx, trace.Error, 0, err.Error())
		src.Close()
		dst.Close()
	}
	for {
		n, err := src.Read(buf)
		for data := buf[:n]; len(data) > 0; idx++ {
			dc := newDice(t.opts.Seed, flow, d, idx)
			size := len(data)
			if l.SegMax > 0 {
				lo := max(l.SegMin, 1)
				size = min(size, lo+dc.intn(streamSegment, 0, l.SegMax-lo+1))
			}
			delay := max(0, l.Delay.D()+jitter(l, dc, 0))
			if !sleep(ctx, delay) {
				return
			}
			if _, werr := dst.Write(data[:size]); werr != nil {
				fail(fmt.Errorf("write: %w", werr))
				return
			}
			t.segments.Add(1)
			t.bytes.Add(int64(size))
			detail := ""
			if delay > 0 {
				detail = "after " + fmtDur(delay)
			}
			var wire []byte
			if keep := min(size, trace.WireCapture-captured); keep > 0 {
				wire = data[:keep:keep]
				captured += keep
			}
			t.segmentEvent(flow, d, idx, size, detail, wire)
			data = data[size:]
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			cd := l.CloseDelay.D()
			if !sleep(ctx, cd) {
				return
			}
			if cerr := dst.CloseWrite(); cerr != nil {
				fail(fmt.Errorf("half-close: %w", cerr))
				return
			}
			detail := ""
			if cd > 0 {
				detail = "after " + fmtDur(cd)
			}
			t.event(flow, d, idx, trace.HalfClose, 0, detail)
			return
		default:
			if !errors.Is(err, net.ErrClosed) {
				fail(fmt.Errorf("read: %w", err))
			}
			return
		}
	}
}

// sleep waits d, or returns false if ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}
