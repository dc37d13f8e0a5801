package progress

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// state is what the events so far say about the run.
type state struct {
	total int
	start time.Time // when the first cell started (zero before); rates count from it, not from the images' build
	// running are the cells started and not finished, with their start.
	running    map[string]time.Time
	done       map[string]bool
	failed     int
	unexpected int
}

func newState(total int) *state {
	return &state{total: total, running: map[string]time.Time{}, done: map[string]bool{}}
}

// apply takes one event. A cell counts once, whatever is repeated.
func (s *state) apply(ev Event) {
	if !ev.Time.IsZero() && (s.start.IsZero() || ev.Time.Before(s.start)) {
		s.start = ev.Time
	}
	if !ev.Done {
		if !s.done[ev.Cell] {
			s.running[ev.Cell] = ev.Time
		}
		return
	}
	delete(s.running, ev.Cell)
	if s.done[ev.Cell] {
		return
	}
	s.done[ev.Cell] = true
	if ev.Failed {
		s.failed++
	}
	if ev.Unexpected {
		s.unexpected++
	}
}

// slowest is the cell running the longest, with how long.
func (s *state) slowest(now time.Time) (string, time.Duration) {
	var cell string
	var since time.Time
	for c, t := range s.running {
		if cell == "" || t.Before(since) || (t.Equal(since) && c < cell) {
			cell, since = c, t
		}
	}
	if cell == "" {
		return "", 0
	}
	return cell, now.Sub(since)
}

// left estimates the time left from the rate so far, which already
// accounts for the parallel processes. Nothing is said before a few cells
// are done: the first cells include image pulls and warm-up.
func (s *state) left(now time.Time) (time.Duration, bool) {
	n := len(s.done)
	elapsed := now.Sub(s.start)
	if s.start.IsZero() || n < 3 || elapsed < 5*time.Second || n >= s.total {
		return 0, false
	}
	return time.Duration(float64(elapsed) / float64(n) * float64(s.total-n)), true
}

// line is the status, fitted to width columns (0: no limit) by
// shortening the slowest cell's name, the part a person needs least.
func (s *state) line(now time.Time, width int) string {
	n := len(s.done)
	pct := 0
	if s.total > 0 {
		pct = 100 * n / s.total
	}
	head := fmt.Sprintf("cells %d/%d (%d%%)", n, s.total, pct)
	if s.failed > 0 {
		head += fmt.Sprintf(" · %d failed", s.failed)
		if s.unexpected > 0 {
			head += fmt.Sprintf(" (%d unexpected)", s.unexpected)
		}
	}
	tail := ""
	if d, ok := s.left(now); ok {
		tail = " · ~" + roundDuration(d) + " left"
	}
	switch {
	case n >= s.total && s.total > 0 && !s.start.IsZero():
		tail = " · done in " + roundDuration(now.Sub(s.start))
	case s.start.IsZero():
		tail = " · waiting for the first cell"
	}
	mid := ""
	if cell, d := s.slowest(now); cell != "" {
		mid = fmt.Sprintf(" · %d running, slowest %s %s", len(s.running), cell, roundDuration(d))
		if width > 0 {
			room := width - 1 - utf8.RuneCountInString(head+tail)
			if utf8.RuneCountInString(mid) > room {
				mid = shorten(mid, room)
			}
		}
	}
	return head + mid + tail
}

// shorten cuts s to n runes, marking the cut with an ellipsis in the
// middle, where a cell id has its least telling part.
func shorten(s string, n int) string {
	r := []rune(s)
	if n <= 1 {
		return ""
	}
	if len(r) <= n {
		return s
	}
	keep := n - 1
	return string(r[:keep/2]) + "…" + string(r[len(r)-(keep-keep/2):])
}

// roundDuration prints 41s, 6m12s, 1h03m.
func roundDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	d = d.Round(time.Minute)
	return strings.TrimSpace(fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute)))
}
