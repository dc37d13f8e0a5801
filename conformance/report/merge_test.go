package report_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/results"
)

// shards splits a run the way INTEROP_SHARD does: every cell in exactly
// one of n runs, each with its own id and times.
func shards(run *results.Run, n int) []*results.Run {
	out := make([]*results.Run, n)
	for i := range out {
		s := *run
		s.RunID = fmt.Sprintf("%s-shard%d", run.RunID, i+1)
		s.Shard = fmt.Sprintf("%d/%d", i+1, n)
		s.Results = nil
		out[i] = &s
	}
	for i, r := range run.Results {
		r.Blame = "" // each shard judged blame with what it had
		out[i%n].Results = append(out[i%n].Results, r)
	}
	return out
}

func TestMergeShards(t *testing.T) {
	run := readRun(t, realFixture(t))
	merged, err := report.Merge(shards(run, 3)...)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Shard != "" {
		t.Errorf("all 3 shards merged, Shard = %q", merged.Shard)
	}
	if len(merged.Results) != len(run.Results) {
		t.Fatalf("%d results, want %d", len(merged.Results), len(run.Results))
	}
	for i := range run.Results {
		a, b := run.Results[i], merged.Results[i]
		if a.ID != b.ID || a.Verdict != b.Verdict || a.Blame != b.Blame {
			t.Errorf("result %d: %s %s %q, want %s %s %q", i, b.ID, b.Verdict, b.Blame, a.ID, a.Verdict, a.Blame)
		}
	}
	if !strings.Contains(merged.RunID, "shard1") || !strings.Contains(merged.RunID, "shard3") {
		t.Errorf("RunID %q does not name the shards", merged.RunID)
	}
	if len(merged.Impls) != len(run.Impls) {
		t.Errorf("%d implementations, want %d", len(merged.Impls), len(run.Impls))
	}

	part, err := report.Merge(shards(run, 3)[0], shards(run, 3)[2])
	if err != nil {
		t.Fatal(err)
	}
	if part.Shard != "1/3,3/3" {
		t.Errorf("two of three shards: Shard = %q", part.Shard)
	}
}

func TestMergeRefuses(t *testing.T) {
	run := readRun(t, kindsFixture(t))
	for _, c := range []struct {
		name   string
		change func(a, b *results.Run)
		want   []string
	}{
		{"suite version", func(a, b *results.Run) { b.SuiteVersion = "v9-dirty" }, []string{"suite version", "v1.2.3-4-gabcdef", "v9-dirty"}},
		{"expectations", func(a, b *results.Run) { b.ExpectationsHash = "ffff" }, []string{"expectations hash", "expectations.yaml"}},
		{"schema", func(a, b *results.Run) { b.Schema = 2 }, []string{"schema 2"}},
		{"depth", func(a, b *results.Run) { b.Depth = "full" }, []string{"depth", "full"}},
		{"duplicate cell", func(a, b *results.Run) { b.Results = append(b.Results, a.Results[0]) }, []string{a0(run), "run 1", "run 2"}},
		{"implementation", func(a, b *results.Run) {
			b.Impls = slices.Clone(b.Impls)
			b.Impls[0].Language = "Go 2"
		}, []string{"differs", "Go 2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ss := shards(run, 2)
			c.change(ss[0], ss[1])
			_, err := report.Merge(ss...)
			if err == nil {
				t.Fatal("merged")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := report.Merge(); err == nil {
		t.Error("merged nothing")
	}
}

func a0(run *results.Run) string { return run.Results[0].ID }

func TestMergeKeepsBuildErrors(t *testing.T) {
	run := readRun(t, kindsFixture(t))
	ss := shards(run, 2)
	ss[0].Impls = slices.Clone(ss[0].Impls)
	for i := range ss[0].Impls {
		ss[0].Impls[i].Error = ""
	}
	m, err := report.Merge(ss...)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, im := range m.Impls {
		found = found || im.Error != ""
	}
	if !found {
		t.Error("a build that failed on one machine is no longer reported")
	}
}
