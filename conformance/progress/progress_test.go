package progress

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Ginkgo's processes record at once: every event arrives whole.
func TestRecordConcurrent(t *testing.T) {
	dir := t.TempDir()
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				Record(dir, Finished(fmt.Sprintf("rudp/p%d-x-reference/loss-10/1m/seed-%d", w, i), "pass", false, false, time.Second))
			}
		}()
	}
	wg.Wait()
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || !ev.Done {
			t.Fatalf("line %d is not a whole event: %q", n+1, sc.Text())
		}
		n++
	}
	if n != writers*each {
		t.Errorf("%d events, want %d", n, writers*each)
	}
}

func TestRecordNeverFails(t *testing.T) {
	Record(filepath.Join(t.TempDir(), "missing", "folder"), Started("x")) // no panic, no error to handle
}

func TestLine(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := newState(10)
	if got := s.line(t0, 0); got != "cells 0/10 (0%) · waiting for the first cell" {
		t.Errorf("at the start: %q", got)
	}
	s.apply(Event{Cell: "a", Time: t0})
	s.apply(Event{Cell: "b", Time: t0.Add(10 * time.Second)})
	for i, c := range []string{"c", "d", "e", "f"} {
		s.apply(Event{Cell: c, Time: t0})
		s.apply(Event{Cell: c, Done: true, Failed: i == 0, Unexpected: i == 0, Time: t0.Add(20 * time.Second)})
	}
	s.apply(Event{Cell: "d", Done: true, Failed: true}) // repeated: counted once
	now := t0.Add(40 * time.Second)
	want := "cells 4/10 (40%) · 1 failed (1 unexpected) · 2 running, slowest a 40s · ~1m00s left"
	if got := s.line(now, 0); got != want {
		t.Errorf("line:\n got %q\nwant %q", got, want)
	}
	if got := s.line(now, 60); len([]rune(got)) > 59 || !strings.HasSuffix(got, "left") || !strings.HasPrefix(got, "cells 4/10") {
		t.Errorf("in 60 columns: %q (%d)", got, len([]rune(got)))
	}
	for _, c := range []string{"a", "b", "g", "h", "i", "j"} {
		s.apply(Event{Cell: c, Done: true})
	}
	if got := s.line(t0.Add(90*time.Second), 0); got != "cells 10/10 (100%) · 1 failed (1 unexpected) · done in 1m30s" {
		t.Errorf("at the end: %q", got)
	}
}

// The printer tails the file across partial writes and prints a final
// line that ends with a newline.
func TestPrinter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	os.WriteFile(path, nil, 0o644)
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	p := newPrinter(path, 3, &out, func() time.Time { return now })
	Record(dir, Event{Cell: "a", Time: now})
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"cell":"a","done":true,"fail`) // half a line: not yet an event
	p.poll()
	if got := p.st.line(now, 0); !strings.HasPrefix(got, "cells 0/3") || !strings.Contains(got, "1 running") {
		t.Errorf("after a half-written line: %q", got)
	}
	f.WriteString(`ed":true,"t":"2026-01-01T12:00:00Z"}` + "\n")
	f.Close()
	stop := p.run(time.Hour)
	stop()
	stop() // idempotent
	lines := strings.Split(out.String(), "\r")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "cells 1/3 (33%) · 1 failed") || !strings.HasSuffix(last, "\x1b[K\n") {
		t.Errorf("final line %q", last)
	}
}

// Start empties the events of an earlier run; without a terminal it
// prints nothing and stop returns at once.
func TestStartResets(t *testing.T) {
	dir := t.TempDir()
	Record(dir, Started("old"))
	t.Setenv("INTEROP_PROGRESS", "0")
	stop := Start(dir, 5)
	stop()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil || len(b) != 0 {
		t.Errorf("progress file after Start: %q, %v", b, err)
	}
}
