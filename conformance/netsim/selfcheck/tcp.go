package selfcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/interop-suite/interop/conformance/netsim"
	"github.com/interop-suite/interop/conformance/netsim/trace"
)

// tcpMessage is what the probe client sends: a Hello-sized line and then
// some, so that segmentation shows.
var tcpMessage = bytes.Repeat([]byte("Hello in Selfcheck; "), 10)

// runTCP sends a message through the relay to an upstream that reads to
// EOF, then echoes the message and closes, like a Hello server.
func runTCP(ctx context.Context, name string, cfg netsim.Config, o Options) ([]Metric, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	type served struct {
		msg      []byte
		reads    int
		firstAt  time.Time
		eofAt    time.Time
		err      error
		replyErr error
	}
	res := make(chan served, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- served{err: err}
			return
		}
		defer c.Close()
		var s served
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if s.reads == 0 {
					s.firstAt = time.Now()
				}
				s.reads++
				s.msg = append(s.msg, buf[:n]...)
			}
			if errors.Is(err, io.EOF) {
				s.eofAt = time.Now()
				break
			}
			if err != nil {
				s.err = err
				break
			}
		}
		_, s.replyErr = c.Write(s.msg)
		res <- s
	}()

	addr, stop, err := startRelay(ctx, name, cfg, o.Seed, ln.Addr().String())
	if err != nil {
		return nil, err
	}
	defer stop()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	deadline := time.Now().Add(30 * time.Second)
	conn.SetDeadline(deadline)
	sentAt := time.Now()
	if _, err := conn.Write(tcpMessage); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	closedAt := time.Now()
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		return nil, fmt.Errorf("half-close: %w", err)
	}
	reply, err := io.ReadAll(conn)
	if err != nil {
		return nil, fmt.Errorf("read the reply: %w", err)
	}
	var s served
	select {
	case s = <-res:
	case <-time.After(time.Until(deadline)):
		return nil, errors.New("the upstream never finished reading")
	}
	if s.err != nil {
		return nil, fmt.Errorf("upstream: %w", s.err)
	}
	traceJS, err := stop()
	if err != nil {
		return nil, err
	}

	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	intact := bytes.Equal(s.msg, tcpMessage) && bytes.Equal(reply, tcpMessage)
	out := []Metric{{Name: "bytes intact both ways", Configured: 1, Measured: b2f(intact), OK: intact}}

	// Segmentation, from the trace: every chunk within SegMin..SegMax.
	segs, maxSeg, minSeg, err := segments(traceJS)
	if err != nil {
		return nil, err
	}
	l := &cfg.Fwd
	if l.SegMax > 0 {
		ok := maxSeg <= l.SegMax && (minSeg >= max(l.SegMin, 1) || minSeg == 0)
		out = append(out, Metric{Name: "fwd chunk size (max)", Configured: float64(l.SegMax), Measured: float64(maxSeg), Unit: "bytes",
			OK: ok, Note: fmt.Sprintf("%d chunks, %d..%d bytes; the upstream needed %d reads", segs, minSeg, maxSeg, s.reads)})
	} else {
		out = append(out, Metric{Name: "fwd chunks", Configured: 0, Measured: float64(segs), Unit: "chunks", OK: true,
			Note: fmt.Sprintf("unchanged segmentation; the upstream needed %d reads", s.reads)})
	}
	if l.Delay > 0 {
		first := s.firstAt.Sub(sentAt)
		lo := (l.Delay - l.Jitter).D()
		out = append(out, Metric{Name: "fwd first byte delay", Configured: ms(l.Delay.D()), Measured: ms(first), Unit: "ms",
			OK: first >= lo, Note: fmt.Sprintf("at least %.0f ms", ms(lo))})
	}
	if l.CloseDelay > 0 {
		late := s.eofAt.Sub(closedAt)
		hi := l.CloseDelay.D() + time.Duration(len(tcpMessage))*(l.Delay+l.Jitter).D() + time.Second
		out = append(out, Metric{Name: "fwd half-close delay", Configured: ms(l.CloseDelay.D()), Measured: ms(late), Unit: "ms",
			OK: late >= l.CloseDelay.D(), Warn: late > hi, Note: fmt.Sprintf("want %.0f..%.0f ms", ms(l.CloseDelay.D()), ms(hi))})
	}
	return out, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// segments counts the fwd chunks in a TCP trace and their size range.
func segments(js []byte) (n, maxSize, minSize int, err error) {
	tr, err := trace.NewReader(bytes.NewReader(js))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("relay trace: %w", err)
	}
	for {
		e, err := tr.Next()
		if err == io.EOF {
			return n, maxSize, minSize, nil
		}
		if err != nil {
			return 0, 0, 0, fmt.Errorf("relay trace: %w", err)
		}
		if e.Action == trace.Segment && e.Dir == trace.Fwd {
			n++
			maxSize = max(maxSize, e.Size)
			if minSize == 0 || e.Size < minSize {
				minSize = e.Size
			}
		}
	}
}
