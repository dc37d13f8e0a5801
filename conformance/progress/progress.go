// Package progress shows a long run's progress to a person watching it:
// cells done of the total, failures so far, the slowest cell still
// running and an estimate of the time left, on one line that rewrites
// itself on the terminal.
//
// A Ginkgo run has several processes, and only process #1 may print the
// line. So every process appends one JSON line per event to
// RESULTS/progress.jsonl (Record: one open, one O_APPEND write, one close;
// nothing to coordinate), and process #1 runs one printer (Start) that
// tails the file. The printer writes to /dev/tty, not to stdout: Ginkgo's
// output stays as it is, and where there is no terminal (CI) it prints
// nothing at all, so logs stay readable.
package progress

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// FileName is the events file in the results folder.
const FileName = "progress.jsonl"

// Event is one line of progress.jsonl.
type Event struct {
	Cell string `json:"cell"`
	// Done is false when the cell starts and true when it has a verdict.
	Done       bool      `json:"done,omitempty"`
	Verdict    string    `json:"verdict,omitempty"`
	Failed     bool      `json:"failed,omitempty"`     // a failure or an infrastructure error
	Unexpected bool      `json:"unexpected,omitempty"` // fails the run
	DurationMS int64     `json:"ms,omitempty"`
	Time       time.Time `json:"t"`
}

// Started is the event of a cell starting.
func Started(cell string) Event { return Event{Cell: cell, Time: time.Now()} }

// Finished is the event of a cell judged.
func Finished(cell, verdict string, failed, unexpected bool, took time.Duration) Event {
	return Event{Cell: cell, Done: true, Verdict: verdict, Failed: failed, Unexpected: unexpected,
		DurationMS: took.Milliseconds(), Time: time.Now()}
}

// Record appends ev to resultsDir's progress file. It is safe from any
// number of processes at once: each event is one write of one line to a
// file opened with O_APPEND, which the kernel places at the end whole.
// Progress is a courtesy, so a failure to write is ignored: it must never
// fail a cell.
func Record(resultsDir string, ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(resultsDir, FileName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	f.Write(append(b, '\n'))
	f.Close()
}

// Start begins a run of total cells: it empties the progress file and,
// when a terminal is attached, starts the printer. Call it once, on
// Ginkgo's process #1, before any cell runs (ReportBeforeSuite knows how
// many will: Report.PreRunStats.SpecsThatWillRun); call stop at the end of
// the suite, which prints the final line and returns once the printer is
// done. Rates and the estimate count from the first cell, so the time
// spent building images does not skew them. Without a terminal, stop does
// nothing.
func Start(resultsDir string, total int) (stop func()) {
	path := filepath.Join(resultsDir, FileName)
	os.MkdirAll(resultsDir, 0o755)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return func() {}
	}
	if os.Getenv("INTEROP_PROGRESS") == "0" {
		return func() {}
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return func() {} // no controlling terminal: CI, a pipe, a service
	}
	p := newPrinter(path, total, tty, time.Now)
	p.width = func() int { return termWidth(tty) }
	stopPrinter := p.run(time.Second)
	return func() {
		stopPrinter()
		tty.Close()
	}
}
