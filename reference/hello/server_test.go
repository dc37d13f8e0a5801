package hello

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServerSilentClientDoesNotBlock: a client that connects and says nothing
// never delays another (HELLO-14). The server's per-connection timeout is far
// longer than the second client's, so a server that served connections one
// at a time would fail this test.
func TestServerSilentClientDoesNotBlock(t *testing.T) {
	t.Parallel()
	addr := startServer(t, &Server{Timeout: time.Hour})
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// A client that sent half a message and went quiet is no better.
	half, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	io.WriteString(half, "Hel")

	reply, _ := exchange(t, &Client{Timeout: 10 * time.Second}, addr)
	if reply != "Goodbye in Go\n" {
		t.Errorf("reply %q", reply)
	}
}

// TestServerConcurrentClients: every client is served and printed, one whole
// line each (HELLO-11, HELLO-13, HELLO-14).
func TestServerConcurrentClients(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	addr := startServer(t, &Server{Lang: "Go", Out: &out})
	const n = 30
	var wg sync.WaitGroup
	var want []string
	for i := range n {
		lang := fmt.Sprintf("Lang%d", i)
		want = append(want, "Hello in "+lang)
		wg.Go(func() {
			reply, _, err := (&Client{Lang: lang, Timeout: patience}).Exchange(context.Background(), addr)
			if err != nil || reply != "Goodbye in Go\n" {
				t.Errorf("client %s: %q, %v", lang, reply, err)
			}
		})
	}
	wg.Wait()
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("server printed %q, want %q", got, want)
	}
}

// TestServerPrintsBeforeReplying: by the time a client has its reply, the
// message is on the server's stdout (HELLO-11), so the suite can read it
// right after the client exits.
func TestServerPrintsBeforeReplying(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	addr := startServer(t, &Server{Out: &out})
	for i := range 20 {
		exchange(t, &Client{Lang: fmt.Sprint(i)}, addr)
		if want := fmt.Sprintf("Hello in %d\n", i); !strings.HasSuffix(out.String(), want) {
			t.Fatalf("after the reply the server had printed %q, want it to end with %q", out.String(), want)
		}
	}
}

// TestServerMessages: what the server prints and replies for each framing and
// mode (HELLO-2, HELLO-4, HELLO-11, HELLO-15, HELLO-20, HELLO-21).
func TestServerMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		s         *Server
		send      string
		halfClose bool
		wantOut   string
		wantReply string
	}{
		{"strict", &Server{}, "Hello in Go\n", false, "Hello in Go\n", "Goodbye in Go\n"},
		{"lang", &Server{Lang: "Scala"}, "Hello in Go\n", false, "Hello in Go\n", "Goodbye in Scala\n"},
		{"CRLF and spaces are not printed", &Server{}, "  Hello in Go \r\n", false, "Hello in Go\n", "Goodbye in Go\n"},
		{"C buffer with NULs", &Server{}, "Hello in C\x00\x00\x00\x00", true, "Hello in C\n", "Goodbye in Go\n"},
		{"no newline, half-close", &Server{}, "Hello in Go", true, "Hello in Go\n", "Goodbye in Go\n"},
		{"no newline, idle gap", &Server{IdleGap: 200 * time.Millisecond}, "Hello in Go", false, "Hello in Go\n", "Goodbye in Go\n"},
		{"only the first line counts", &Server{}, "Hello in Go\nHello in Rust\n", false, "Hello in Go\n", "Goodbye in Go\n"},
		{"challenge", &Server{Challenge: true, Lang: "Swift"}, "Hello in Rust\n", false, "127.0.0.1\nHello in Rust\n", "Goodbye Rust from Swift\n"},
		{"challenge, not Hello in X", &Server{Challenge: true}, "Hi!\n", false, "127.0.0.1\nHi!\n", "Goodbye Hi! from Go\n"},
		{"probe: reply without newline", &Server{OmitNewline: true}, "Hello in Go\n", false, "Hello in Go\n", "Goodbye in Go"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out syncBuffer
			tc.s.Out = &out
			c, err := net.Dial("tcp", startServer(t, tc.s))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, tc.send)
			if tc.halfClose {
				c.(*net.TCPConn).CloseWrite()
			}
			c.SetReadDeadline(time.Now().Add(patience))
			// The server closes after replying (HELLO-12): read to EOF.
			reply, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("reading the reply: %v", err)
			}
			if string(reply) != tc.wantReply {
				t.Errorf("reply %q, want %q", reply, tc.wantReply)
			}
			if got := out.String(); got != tc.wantOut {
				t.Errorf("printed %q, want %q", got, tc.wantOut)
			}
		})
	}
}

// TestServerClosesGracefully: a client that sent more than the first line
// still gets a clean close after the reply, not a reset that could destroy
// the reply (HELLO-12).
func TestServerClosesGracefully(t *testing.T) {
	t.Parallel()
	addr := startServer(t, &Server{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The server reads up to the newline; the rest stays unread in its
	// socket. Closing such a socket outright would send a reset.
	io.WriteString(c, "Hello in Go\n"+strings.Repeat("junk ", 2000))
	c.SetReadDeadline(time.Now().Add(patience))
	reply, err := io.ReadAll(c)
	if err != nil || string(reply) != "Goodbye in Go\n" {
		t.Fatalf("ReadAll = %q, %v; want the reply and a clean EOF", reply, err)
	}
	// Linux keeps a reply that a reset follows (other stacks drop it), and
	// reads after EOF do not report a reset; a write does.
	time.Sleep(300 * time.Millisecond)
	if _, err := io.WriteString(c, "more junk"); err != nil {
		t.Errorf("write after the reply: %v; the server reset the connection instead of draining it", err)
	}
}

// TestServerRejects: no reply to a client that sends nothing, too much, or
// closes first; the server keeps serving (HELLO-1, HELLO-13).
func TestServerRejects(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	var logs syncBuffer
	addr := startServer(t, &Server{Out: &out, Log: log.New(&logs, "", 0), Timeout: time.Second})
	tests := []struct {
		name string
		send func(c *net.TCPConn)
		log  string
	}{
		{"too long", func(c *net.TCPConn) { c.Write(bytes.Repeat([]byte("x"), MaxMessage+1)) }, "message longer than 65536 bytes"},
		{"closes at once", func(c *net.TCPConn) { c.CloseWrite() }, "connection closed before any byte"},
		{"silent", func(c *net.TCPConn) {}, "i/o timeout"},
	}
	for _, tc := range tests {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		tc.send(c.(*net.TCPConn))
		c.SetReadDeadline(time.Now().Add(patience))
		reply, _ := io.ReadAll(c)
		c.Close()
		if len(reply) != 0 {
			t.Errorf("%s: got reply %q", tc.name, reply)
		}
		if !strings.Contains(logs.String(), tc.log) {
			t.Errorf("%s: log %q lacks %q", tc.name, logs.String(), tc.log)
		}
	}
	if reply, _ := exchange(t, &Client{}, addr); reply != "Goodbye in Go\n" {
		t.Errorf("after the rejects: reply %q", reply)
	}
	if out.String() != "Hello in Go\n" {
		t.Errorf("printed %q, want only the last client's message", out.String())
	}
}

// TestServeStops: cancelling the context stops Serve promptly, closing the
// listener and the connections of clients that are still silent.
func TestServeStops(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Server{Timeout: time.Hour}).Serve(ctx, ln) }()
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	exchange(t, &Client{}, ln.Addr().String()) // the server is up and accepting
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(patience):
		t.Fatal("Serve did not return after cancel")
	}
	silent.SetReadDeadline(time.Now().Add(patience))
	if n, err := silent.Read(make([]byte, 1)); n != 0 || err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("silent client read %d, %v; want its connection closed", n, err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("listener still accepting after Serve returned")
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.3"), Port: 5}, "10.0.0.3"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.0.0.3"), Port: 5}, "10.0.0.3"},
		{&net.TCPAddr{IP: net.ParseIP("fd00::3"), Port: 5}, "fd00::3"},
		{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, "/tmp/x"},
	}
	for _, tc := range tests {
		if got := clientIP(tc.addr); got != tc.want {
			t.Errorf("clientIP(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
