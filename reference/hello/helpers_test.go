package hello

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// The machine these tests run on is shared and noisy: tests assert outcomes,
// and every wait is bounded generously.
const patience = 20 * time.Second

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (a, b *net.TCPConn) {
	t.Helper()
	ln := listen(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// startServer runs s on a loopback listener until the test ends and returns
// its address.
func startServer(t testing.TB, s *Server) string {
	t.Helper()
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(patience):
			t.Errorf("Serve did not return after cancel")
		}
	})
	return ln.Addr().String()
}

// fakeServer accepts connections on a loopback listener and runs handle for
// each, in its own goroutine, until the test ends; then it closes the
// connections still open and waits for the handlers.
func fakeServer(t testing.TB, handle func(c *net.TCPConn)) string {
	t.Helper()
	ln := listen(t)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c.(*net.TCPConn))
			})
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// holdOpen keeps c open, reading and discarding, until the peer closes it
// or the test ends.
func holdOpen(c *net.TCPConn) { io.Copy(io.Discard, c) }

// relay is the impairment the suite puts between peers, in miniature: it
// forwards each direction one byte per TCP segment (Go sets TCP_NODELAY),
// pausing between bytes, and passes a half-close on only after closeDelay.
// It returns the address to dial instead of target.
func relay(t testing.TB, target string, pause, closeDelay time.Duration) string {
	t.Helper()
	return fakeServer(t, func(in *net.TCPConn) {
		c, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		out := c.(*net.TCPConn)
		defer out.Close()
		var wg sync.WaitGroup
		pipe := func(dst, src *net.TCPConn) {
			defer wg.Done()
			b := make([]byte, 1)
			for {
				if _, err := src.Read(b); err != nil {
					break
				}
				if _, err := dst.Write(b); err != nil {
					return
				}
				time.Sleep(pause)
			}
			time.Sleep(closeDelay)
			dst.CloseWrite()
		}
		wg.Add(2)
		go pipe(out, in)
		go pipe(in, out)
		wg.Wait()
	})
}

// script is a fake connection for ReadMessage: each step is either bytes to
// return from one Read or an error. It records read deadlines, so tests of
// the idle gap need no clock.
type script struct {
	steps     []step
	deadlines []time.Time
}

type step struct {
	data string
	err  error
}

var errTimeout = os.ErrDeadlineExceeded

func (s *script) Read(p []byte) (int, error) {
	if len(s.steps) == 0 {
		return 0, io.EOF
	}
	st := &s.steps[0]
	n := copy(p, st.data)
	st.data = st.data[n:]
	if st.data == "" {
		s.steps = s.steps[1:]
		return n, st.err
	}
	return n, nil
}

func (s *script) SetReadDeadline(t time.Time) error {
	s.deadlines = append(s.deadlines, t)
	return nil
}

// isTimeout reports whether err is a deadline error, as net.Conn returns.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
