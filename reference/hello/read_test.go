package hello

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestReadMessageFraming covers the ways a message can end over real TCP
// (HELLO-1, HELLO-2, HELLO-15).
func TestReadMessageFraming(t *testing.T) {
	t.Parallel()
	const gap = 300 * time.Millisecond
	tests := []struct {
		name     string
		send     func(w *writer)
		want     string
		wantHow  Termination
		minDelay time.Duration // HELLO-2: a pause shorter than the gap never ends a message
	}{
		{"newline", func(w *writer) { w.write("Hello in Go\n") }, "Hello in Go\n", ByNewline, 0},
		{"CRLF", func(w *writer) { w.write("Hello in Go\r\n") }, "Hello in Go\r\n", ByNewline, 0},
		{"bytes after the newline are not part of the message",
			func(w *writer) { w.write("Hello in Go\nsecond line\n") }, "Hello in Go\n", ByNewline, 0},
		{"no newline, half-close", func(w *writer) { w.write("Hello in Go"); w.c.CloseWrite() }, "Hello in Go", ByClose, 0},
		{"no newline, close", func(w *writer) { w.write("Hello in Go"); w.c.Close() }, "Hello in Go", ByClose, 0},
		{"no newline, idle gap", func(w *writer) { w.write("Hello in Go") }, "Hello in Go", ByIdleGap, gap},
		{"one-byte segments with pauses, then newline", func(w *writer) { w.trickle("Hello in Go\n", 5*time.Millisecond) },
			"Hello in Go\n", ByNewline, 0},
		{"one-byte segments, no newline, then half-close", func(w *writer) {
			w.trickle("Hello in Go", 5*time.Millisecond)
			w.c.CloseWrite()
		}, "Hello in Go", ByClose, 0},
		{"pause shorter than the gap inside the message", func(w *writer) {
			w.write("Hello ")
			time.Sleep(gap / 3)
			w.write("in Go")
		}, "Hello in Go", ByIdleGap, gap + gap/3},
		{"exactly MaxMessage bytes", func(w *writer) { w.write(strings.Repeat("x", MaxMessage-1) + "\n") },
			strings.Repeat("x", MaxMessage-1) + "\n", ByNewline, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := tcpPair(t)
			go tc.send(&writer{t, a})
			start := time.Now()
			msg, how, err := ReadMessage(b, gap, start.Add(patience))
			if err != nil {
				t.Fatalf("ReadMessage: %v", err)
			}
			if msg != tc.want || how != tc.wantHow {
				t.Errorf("ReadMessage = %q, %v; want %q, %v", short(msg), how, short(tc.want), tc.wantHow)
			}
			if d := time.Since(start); d < tc.minDelay {
				t.Errorf("message ended after %v, before the idle gap of %v", d, tc.minDelay)
			}
		})
	}
}

// TestReadMessageErrors covers the ways reading fails (HELLO-1, HELLO-2).
func TestReadMessageErrors(t *testing.T) {
	t.Parallel()
	t.Run("longer than MaxMessage, no newline", func(t *testing.T) {
		t.Parallel()
		a, b := tcpPair(t)
		// A hostile peer: 8 MiB and no newline. Its writes fail once the
		// reader gives up and the test closes the connection.
		go a.Write(make([]byte, 8<<20))
		msg, _, err := ReadMessage(b, time.Second, time.Now().Add(patience))
		if !errors.Is(err, ErrTooLong) || msg != "" {
			t.Fatalf("ReadMessage = %q, %v; want ErrTooLong", short(msg), err)
		}
		if want := "message longer than 65536 bytes"; err.Error() != want {
			t.Errorf("error text %q, want %q", err, want)
		}
	})
	t.Run("MaxMessage+1 bytes with newline", func(t *testing.T) {
		t.Parallel()
		r := strings.NewReader(strings.Repeat("x", MaxMessage) + "\n")
		if _, _, err := ReadMessage(r, 0, time.Time{}); !errors.Is(err, ErrTooLong) {
			t.Fatalf("err = %v, want ErrTooLong", err)
		}
	})
	t.Run("close before any byte", func(t *testing.T) {
		t.Parallel()
		a, b := tcpPair(t)
		a.CloseWrite()
		if _, _, err := ReadMessage(b, time.Second, time.Now().Add(patience)); !errors.Is(err, ErrNoMessage) {
			t.Fatalf("err = %v, want ErrNoMessage", err)
		}
	})
	t.Run("silent peer: the idle gap does not start before the first byte", func(t *testing.T) {
		t.Parallel()
		_, b := tcpPair(t)
		start := time.Now()
		deadline := start.Add(600 * time.Millisecond)
		_, _, err := ReadMessage(b, 100*time.Millisecond, deadline)
		if !isTimeout(err) {
			t.Fatalf("err = %v, want a deadline error", err)
		}
		if time.Now().Before(deadline) {
			t.Errorf("gave up after %v, before the deadline", time.Since(start))
		}
	})
	t.Run("reset after the message", func(t *testing.T) {
		t.Parallel()
		a, b := tcpPair(t)
		a.Write([]byte("Goodbye in C"))
		a.SetLinger(0) // Close now sends RST instead of FIN
		a.Close()
		msg, how, err := ReadMessage(b, patience, time.Now().Add(patience))
		if err != nil || msg != "Goodbye in C" || how != ByReset {
			t.Fatalf("ReadMessage = %q, %v, %v; want the message ended by reset", msg, how, err)
		}
	})
	t.Run("deadline with a partial message", func(t *testing.T) {
		t.Parallel()
		s := &script{steps: []step{{data: "Hello in"}, {err: errTimeout}}}
		msg, _, err := ReadMessage(s, time.Second, time.Now().Add(-time.Second))
		if !isTimeout(err) || msg != "Hello in" {
			t.Fatalf("ReadMessage = %q, %v; want the partial message and a deadline error", msg, err)
		}
	})
	t.Run("reader that makes no progress", func(t *testing.T) {
		t.Parallel()
		s := &script{steps: make([]step, 200)}
		if _, _, err := ReadMessage(s, 0, time.Time{}); !errors.Is(err, io.ErrNoProgress) {
			t.Fatalf("err = %v, want io.ErrNoProgress", err)
		}
	})
}

// TestReadMessageDeadlines checks, without a clock, how ReadMessage moves the
// read deadline: the caller's deadline until the first byte, then the idle
// gap capped by the caller's deadline, and the caller's deadline on return.
func TestReadMessageDeadlines(t *testing.T) {
	t.Parallel()
	far := time.Now().Add(time.Hour)
	s := &script{steps: []step{{data: "Hel"}, {data: "lo"}, {err: errTimeout}}}
	msg, how, err := ReadMessage(s, time.Second, far)
	if err != nil || msg != "Hello" || how != ByIdleGap {
		t.Fatalf("ReadMessage = %q, %v, %v; want \"Hello\" ended by idle gap", msg, how, err)
	}
	d := s.deadlines
	if len(d) != 4 || !d[0].Equal(far) || !d[3].Equal(far) {
		t.Fatalf("deadlines %v: want the caller's first and last", d)
	}
	for _, x := range d[1:3] {
		if until := time.Until(x); until > time.Second || until < 0 {
			t.Errorf("idle deadline %v from now, want within the idle gap of 1s", until)
		}
	}

	near := time.Now().Add(time.Millisecond)
	s = &script{steps: []step{{data: "Hel"}, {data: "lo\n"}}}
	if _, _, err := ReadMessage(s, time.Hour, near); err != nil {
		t.Fatal(err)
	}
	for _, x := range s.deadlines {
		if !x.Equal(near) {
			t.Errorf("deadline %v, want the caller's %v: the idle gap never extends it", x, near)
		}
	}
}

// TestReadMessagePlainReader: without deadlines, a message ends at '\n' or
// EOF, whatever the chunking.
func TestReadMessagePlainReader(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"Hello in Go\n", "Hello in Go", "Hello in Go\r\nrest"} {
		msg, how, err := ReadMessage(iotest.OneByteReader(strings.NewReader(in)), time.Second, time.Time{})
		want, wantHow := in, ByClose
		if i := strings.IndexByte(in, '\n'); i >= 0 {
			want, wantHow = in[:i+1], ByNewline
		}
		if err != nil || msg != want || how != wantHow {
			t.Errorf("ReadMessage(%q) = %q, %v, %v; want %q, %v", in, msg, how, err, want, wantHow)
		}
	}
	msg, how, err := ReadMessage(iotest.DataErrReader(strings.NewReader("Hello")), time.Second, time.Time{})
	if err != nil || msg != "Hello" || how != ByClose {
		t.Errorf("data with EOF in one Read: %q, %v, %v", msg, how, err)
	}
}

type writer struct {
	t testing.TB
	c interface {
		Write([]byte) (int, error)
		CloseWrite() error
		Close() error
	}
}

func (w *writer) write(s string) {
	if _, err := w.c.Write([]byte(s)); err != nil {
		w.t.Errorf("write: %v", err)
	}
}

// trickle writes s one byte per segment with a pause between bytes.
func (w *writer) trickle(s string, pause time.Duration) {
	for i := range len(s) {
		w.write(s[i : i+1])
		time.Sleep(pause)
	}
}

func short(s string) string {
	if len(s) > 40 {
		return s[:20] + "..." + s[len(s)-10:]
	}
	return s
}

// endless is a hostile peer: bytes without a newline, forever.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.n += len(p)
	return len(p), nil
}

// TestReadMessageBoundedMemory: a peer that never sends '\n' costs the
// receiver MaxMessage bytes, not what it sends (HELLO-1). Not parallel, so
// the allocation count is this test's own.
func TestReadMessageBoundedMemory(t *testing.T) {
	e := &endless{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := ReadMessage(e, 0, time.Time{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
	if e.n > MaxMessage+512 {
		t.Errorf("read %d bytes, want at most MaxMessage plus one buffer", e.n)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*MaxMessage { // growing a slice to MaxMessage costs a few times it
		t.Errorf("allocated %d bytes for a %d-byte limit", alloc, MaxMessage)
	}
}
