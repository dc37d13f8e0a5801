package hello

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// exchange runs c against addr and fails the test on error.
func exchange(t testing.TB, c *Client, addr string) (string, Termination) {
	t.Helper()
	reply, how, err := c.Exchange(context.Background(), addr)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return reply, how
}

// received is what a fake server read from one client.
type received struct {
	msg string
	how Termination
	err error
}

func TestClientAgainstReferenceServer(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	addr := startServer(t, &Server{Lang: "Rust", Out: &out})
	reply, how := exchange(t, &Client{Lang: "C++"}, addr)
	if reply != "Goodbye in Rust\n" || how != ByNewline { // HELLO-4, HELLO-6
		t.Errorf("reply %q by %v", reply, how)
	}
	if got := out.String(); got != "Hello in C++\n" { // HELLO-3, HELLO-11
		t.Errorf("server printed %q", got)
	}
}

// TestClientSendsStrictLine: the zero Client sends exactly "Hello in Go\n"
// (HELLO-1, HELLO-3) and, with OmitNewline, the probe forms (HELLO-2).
func TestClientSendsStrictLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c       Client
		want    string
		wantHow Termination
	}{
		{Client{}, "Hello in Go\n", ByNewline},
		{Client{Lang: "Swift"}, "Hello in Swift\n", ByNewline},
		{Client{OmitNewline: true, HalfClose: HalfCloseNow}, "Hello in Go", ByClose},
		{Client{OmitNewline: true, HalfClose: HalfCloseNever}, "Hello in Go", ByIdleGap},
	}
	for _, tc := range tests {
		t.Run(tc.want+" "+tc.c.HalfClose.String(), func(t *testing.T) {
			t.Parallel()
			got := make(chan received, 1)
			addr := fakeServer(t, func(c *net.TCPConn) {
				msg, how, err := ReadMessage(c, DefaultIdleGap, time.Now().Add(patience))
				got <- received{msg, how, err}
				io.WriteString(c, "Goodbye in Go\n")
			})
			exchange(t, &tc.c, addr)
			r := <-got
			if r.err != nil || r.msg != tc.want || r.how != tc.wantHow {
				t.Errorf("server read %q by %v (%v); want %q by %v", r.msg, r.how, r.err, tc.want, tc.wantHow)
			}
		})
	}
}

// TestClientReplyFraming: the client accepts a reply ended by newline, close,
// idle gap or reset (HELLO-2, HELLO-6).
func TestClientReplyFraming(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		serve   func(c *net.TCPConn)
		want    string
		wantHow Termination
	}{
		{"newline, connection left open", func(c *net.TCPConn) {
			io.WriteString(c, "Goodbye in Go\n")
			holdOpen(c)
		}, "Goodbye in Go\n", ByNewline},
		{"CRLF", func(c *net.TCPConn) { io.WriteString(c, "Goodbye in Go\r\n") }, "Goodbye in Go\r\n", ByNewline},
		{"no newline, then close", func(c *net.TCPConn) { io.WriteString(c, "Goodbye in Go") }, "Goodbye in Go", ByClose},
		{"no newline, connection left open", func(c *net.TCPConn) {
			io.WriteString(c, "Goodbye in Go")
			holdOpen(c)
		}, "Goodbye in Go", ByIdleGap},
		{"no newline, then reset", func(c *net.TCPConn) {
			io.WriteString(c, "Goodbye in Go")
			c.SetLinger(0)
		}, "Goodbye in Go", ByReset},
		{"one byte at a time", func(c *net.TCPConn) {
			for _, b := range []byte("Goodbye in Go\n") {
				c.Write([]byte{b})
				time.Sleep(5 * time.Millisecond)
			}
		}, "Goodbye in Go\n", ByNewline},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := fakeServer(t, func(c *net.TCPConn) {
				c.Read(make([]byte, 100))
				tc.serve(c)
			})
			reply, how := exchange(t, &Client{}, addr)
			if reply != tc.want || how != tc.wantHow {
				t.Errorf("reply %q by %v; want %q by %v", reply, how, tc.want, tc.wantHow)
			}
		})
	}
}

// TestClientHalfClose shows why the default half-close is delayed (HELLO-6):
// it reaches both a server that waits for EOF and a server that treats EOF
// as "client gone"; each of the other policies loses one of them.
func TestClientHalfClose(t *testing.T) {
	t.Parallel()
	// Reads until EOF, then replies.
	readsToEOF := func(c *net.TCPConn) {
		io.Copy(io.Discard, c)
		io.WriteString(c, "Goodbye in Java\n")
	}
	// Reads the line, works a little, and gives up on a client that has
	// half-closed meanwhile (as a Node socket with allowHalfOpen=false does
	// before an asynchronous reply).
	eofMeansGone := func(c *net.TCPConn) {
		ReadMessage(c, DefaultIdleGap, time.Now().Add(patience))
		time.Sleep(300 * time.Millisecond)
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
			return
		}
		io.WriteString(c, "Goodbye in JavaScript\n")
	}
	tests := []struct {
		name    string
		serve   func(c *net.TCPConn)
		policy  HalfClose
		wantErr string // empty: the reply arrives
	}{
		{"server reads to EOF, delayed", readsToEOF, HalfCloseDelayed, ""},
		{"server reads to EOF, now", readsToEOF, HalfCloseNow, ""},
		{"server reads to EOF, never", readsToEOF, HalfCloseNever, "no reply"},
		{"server takes EOF as gone, delayed", eofMeansGone, HalfCloseDelayed, ""},
		{"server takes EOF as gone, never", eofMeansGone, HalfCloseNever, ""},
		{"server takes EOF as gone, now", eofMeansGone, HalfCloseNow, "closed the connection without replying"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := fakeServer(t, tc.serve)
			// Long enough for the delayed half-close, short enough to
			// fail fast when nothing is coming.
			c := &Client{HalfClose: tc.policy, Timeout: HalfCloseDelay + 3*time.Second}
			reply, _, err := c.Exchange(context.Background(), addr)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Exchange: %v", err)
			case tc.wantErr == "" && !strings.HasPrefix(reply, "Goodbye in "):
				t.Errorf("reply %q", reply)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Exchange = %q, %v; want an error with %q", reply, err, tc.wantErr)
			}
		})
	}
}

// TestClientErrors: every failure is an error that says what happened
// (HELLO-5, HELLO-8).
func TestClientErrors(t *testing.T) {
	t.Parallel()
	closed := listen(t).Addr().String()
	// An address where nothing listens any more.
	ln := listen(t)
	refused := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		addr func(t *testing.T) string
		want []string
	}{
		{"connection refused", func(t *testing.T) string { return refused },
			[]string{"could not connect to " + refused, "refused"}},
		{"host name that does not resolve", func(t *testing.T) string { return "no-such-host.invalid:4000" },
			[]string{`could not resolve host "no-such-host.invalid"`}},
		{"server accepts and stays silent", func(t *testing.T) string {
			return fakeServer(t, holdOpen)
		}, []string{"no reply from", "within 1s"}},
		{"listener never accepts (backlog) and stays silent", func(t *testing.T) string { return closed },
			[]string{"no reply from", "within 1s"}},
		{"server closes without replying", func(t *testing.T) string {
			return fakeServer(t, func(c *net.TCPConn) { c.Read(make([]byte, 100)) })
		}, []string{"closed the connection without replying"}},
		{"server trickles a reply that never ends", func(t *testing.T) string {
			return fakeServer(t, func(c *net.TCPConn) {
				for range 100 {
					if _, err := c.Write([]byte("G")); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			})
		}, []string{"incomplete within 1s"}},
		{"reply longer than MaxMessage", func(t *testing.T) string {
			return fakeServer(t, func(c *net.TCPConn) { c.Write(make([]byte, 2*MaxMessage)) })
		}, []string{"message longer than 65536 bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Client{Timeout: time.Second}
			if tc.name == "host name that does not resolve" {
				c.Timeout = patience // a slow resolver must not turn this into a timeout
			}
			reply, _, err := c.Exchange(context.Background(), tc.addr(t))
			if err == nil {
				t.Fatalf("Exchange succeeded with %q", reply)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestClientCancel(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, holdOpen)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := (&Client{Timeout: patience}).Exchange(ctx, addr)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > patience/2 {
		t.Errorf("cancel took %v", d)
	}
}

// TestClientAgainstOneShotServer: a server that exits after its first client
// (a lenient pass, HELLO-13) serves that client normally; the next one gets a
// clear error.
func TestClientAgainstOneShotServer(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	go func() {
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		c.Read(make([]byte, 100))
		io.WriteString(c, "Goodbye in Ruby\n")
	}()
	reply, _ := exchange(t, &Client{}, ln.Addr().String())
	if reply != "Goodbye in Ruby\n" {
		t.Errorf("reply %q", reply)
	}
	_, _, err := (&Client{Timeout: patience}).Exchange(context.Background(), ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "could not connect") {
		t.Errorf("second client: %v, want could not connect", err)
	}
}

// TestThroughRelay runs the reference client and server through the
// impairment in miniature: one byte per segment, pauses, a delayed close.
func TestThroughRelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		c       Client
		s       *Server
		wantOut string
		wantHow Termination
	}{
		{"strict", Client{Lang: "Perl"}, &Server{Lang: "Lua"}, "Hello in Perl\n", ByNewline},
		{"client omits the newline, server ends it by idle gap",
			Client{Lang: "Perl", OmitNewline: true, HalfClose: HalfCloseNever}, &Server{Lang: "Lua"}, "Hello in Perl\n", ByNewline},
		{"server omits the newline, client ends it by idle gap before the delayed close",
			Client{Lang: "Perl"}, &Server{Lang: "Lua", OmitNewline: true}, "Hello in Perl\n", ByIdleGap},
		{"challenge", Client{Lang: "Perl"}, &Server{Lang: "Lua", Challenge: true}, "127.0.0.1\nHello in Perl\n", ByNewline},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out syncBuffer
			tc.s.Out = &out
			addr := relay(t, startServer(t, tc.s), 2*time.Millisecond, 3*time.Second)
			tc.c.Timeout = patience
			reply, how := exchange(t, &tc.c, addr)
			want := "Goodbye in Lua"
			if tc.s.Challenge {
				want = "Goodbye Perl from Lua"
			}
			if Text(reply) != want || how != tc.wantHow {
				t.Errorf("reply %q by %v; want %q by %v", reply, how, want, tc.wantHow)
			}
			if got := out.String(); got != tc.wantOut {
				t.Errorf("server printed %q, want %q", got, tc.wantOut)
			}
		})
	}
}

// syncBuffer is a strings.Builder safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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
