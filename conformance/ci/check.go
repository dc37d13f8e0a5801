package ci

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/results"
)

// Check is the verdict of a whole (possibly merged) run: it passes when
// every planned cell has exactly one result and no outcome is unexpected
// (spec/results.md: a run fails only on unexpected results). A shard that
// crashed or whose artifact never arrived shows up as missing cells, so a
// lost shard can never make a run look green.
type Check struct {
	Cells      int
	Missing    []string // planned, no result
	Extra      []string // a result for a cell that was not planned
	Unexpected []results.Result
}

// OK reports whether the run passes.
func (c Check) OK() bool { return len(c.Missing) == 0 && len(c.Extra) == 0 && len(c.Unexpected) == 0 }

// CheckRun compares a run with its plan. planned nil skips the
// completeness check (a run whose plan cannot be recomputed here).
func CheckRun(run *results.Run, planned []cases.Cell) Check {
	c := Check{Cells: len(run.Results)}
	got := map[string]bool{}
	for _, r := range run.Results {
		got[r.ID] = true
		if r.Outcome.Unexpected() {
			c.Unexpected = append(c.Unexpected, r)
		}
	}
	if planned != nil {
		want := map[string]bool{}
		for _, cell := range planned {
			want[cell.ID()] = true
			if !got[cell.ID()] {
				c.Missing = append(c.Missing, cell.ID())
			}
		}
		for id := range got {
			if !want[id] {
				c.Extra = append(c.Extra, id)
			}
		}
		slices.Sort(c.Extra)
	}
	return c
}

// Write explains the check for a job log: one line per problem, capped so
// a broken run does not flood the log (the report has every cell).
func (c Check) Write(w io.Writer) {
	const maxLines = 40
	list := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "%s (%d):\n", title, len(items))
		for i, s := range items {
			if i == maxLines {
				fmt.Fprintf(w, "  ... and %d more\n", len(items)-maxLines)
				break
			}
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	var unexpected []string
	for _, r := range c.Unexpected {
		line := fmt.Sprintf("%s: %s, %s", r.ID, r.Outcome, r.Verdict)
		if r.Reason != "" {
			line += ": " + firstLine(r.Reason)
		}
		unexpected = append(unexpected, line)
	}
	list("unexpected results", unexpected)
	list("planned cells without a result (a shard failed or its results were lost)", c.Missing)
	list("results for cells that were not planned (shards of different plans?)", c.Extra)
	if c.OK() {
		fmt.Fprintf(w, "all %d cells have a result and every outcome is as expected\n", c.Cells)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
