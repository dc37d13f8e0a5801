package hello

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// counting wraps a script and counts the bytes ReadMessage consumed.
type counting struct {
	*script
	n int
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.script.Read(p)
	c.n += n
	return n, err
}

// fuzzScript cuts data into reads as chunking says: each byte of chunking
// is the size of the next read, or, when it is 0, a read deadline expiring
// (an idle gap) instead.
func fuzzScript(data, chunking []byte) *script {
	s := &script{}
	for _, c := range chunking {
		if len(data) == 0 {
			break
		}
		if c == 0 {
			s.steps = append(s.steps, step{err: errTimeout})
			continue
		}
		n := min(int(c), len(data))
		s.steps = append(s.steps, step{data: string(data[:n])})
		data = data[n:]
	}
	if len(data) > 0 {
		s.steps = append(s.steps, step{data: string(data)})
	}
	return s
}

// FuzzReadMessage feeds ReadMessage every framing, cut into reads every way,
// with idle gaps anywhere. pad puts 2*pad bytes of 'x' before data, so
// messages reach and pass MaxMessage while corpus entries stay small (the
// fuzzer spends up to a minute minimizing each new large entry).
func FuzzReadMessage(f *testing.F) {
	f.Add([]byte("Hello in Go\n"), []byte{}, uint16(0))
	f.Add([]byte("Hello in Go\r\nrest"), []byte{1, 1, 1}, uint16(0))
	f.Add([]byte("Hello in Go"), []byte{3, 0, 4}, uint16(0))
	f.Add([]byte("Hello in C\x00\x00\x00"), []byte{0, 5}, uint16(0))
	f.Add([]byte(""), []byte{0}, uint16(0))
	f.Add([]byte("\n"), []byte{}, uint16(0))
	f.Add([]byte("x\n"), []byte{}, uint16(MaxMessage/2-1))  // MaxMessage bytes: accepted
	f.Add([]byte("xx\n"), []byte{}, uint16(MaxMessage/2-1)) // MaxMessage+1 bytes: too long
	f.Add([]byte("tail"), []byte{255, 0}, uint16(MaxMessage/2+5))
	f.Fuzz(func(t *testing.T, data, chunking []byte, pad uint16) {
		data = append(bytes.Repeat([]byte("x"), 2*int(pad)), data...)
		r := &counting{script: fuzzScript(data, chunking)}
		msg, how, err := ReadMessage(r, time.Second, time.Time{})

		// Bounded memory: whatever arrives, ReadMessage keeps at most
		// MaxMessage bytes and reads at most one buffer beyond them.
		if len(msg) > MaxMessage || r.n > MaxMessage+512 {
			t.Fatalf("kept %d bytes, read %d", len(msg), r.n)
		}
		if !bytes.HasPrefix(data, []byte(msg)) {
			t.Fatalf("msg %q is not a prefix of the input", msg)
		}
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		switch {
		case errors.Is(err, ErrTooLong):
			if len(line) <= MaxMessage || msg != "" {
				t.Fatalf("ErrTooLong for a first line of %d bytes (msg %d bytes)", len(line), len(msg))
			}
		case errors.Is(err, ErrNoMessage):
			if len(data) != 0 {
				t.Fatalf("ErrNoMessage with %d bytes of input", len(data))
			}
		case err != nil:
			// Only the scripted idle gap before the first byte fails.
			if !isTimeout(err) || msg != "" {
				t.Fatalf("ReadMessage = %q, %v", msg, err)
			}
		case how == ByNewline:
			if msg != string(line) || !strings.HasSuffix(msg, "\n") {
				t.Fatalf("ended by newline: %q, first line %q", msg, line)
			}
		case how == ByClose:
			if msg != string(data) || strings.Contains(msg, "\n") {
				t.Fatalf("ended by close: %q of %q", msg, data)
			}
		case how == ByIdleGap:
			if msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("ended by idle gap: %q", msg)
			}
		default:
			t.Fatalf("ReadMessage = %q, %v, nil", msg, how)
		}
		if err == nil {
			checkInvariants(t, "Hello in Go", ClassifyWire("Hello in Go", []byte(msg)))
			checkInvariants(t, Text(msg), ClassifyOutput(Text(msg), []byte(msg)))
		}
	})
}

func FuzzClassify(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Expected, v.raw(f))
	}
	f.Fuzz(func(t *testing.T, expected string, raw []byte) {
		wire := ClassifyWire(expected, raw)
		out := ClassifyOutput(expected, raw)
		checkInvariants(t, expected, wire)
		checkInvariants(t, expected, out)
		if (wire.Verdict == Strict) != (string(raw) == expected+"\n" && badExpected(expected) == "") {
			t.Fatalf("ClassifyWire(%q, %q) = %v", expected, raw, wire)
		}
		// What a conforming receiver accepts on the wire, a program that
		// printed those bytes has printed (HELLO-7, HELLO-11).
		if wire.Verdict != Mismatch && out.Verdict != Strict {
			t.Fatalf("wire %v but output %v for %q in %q", wire, out, expected, raw)
		}
		if len(wire.Reason) > 600 || len(out.Reason) > 600 {
			t.Fatalf("reason too long: %d, %d bytes", len(wire.Reason), len(out.Reason))
		}
	})
}
