package report

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/interop-suite/interop/conformance/results"
)

// Merge combines the runs of several shards or machines into one run. It
// refuses runs that must not be mixed, naming both sides: another schema,
// another suite version (different code judged them), other expectations
// (the same verdict would have another outcome), another depth, an
// implementation that differs, or a cell present twice.
//
// The merged run starts at the earliest start and finishes at the latest
// finish; its RunID joins the shards' ids; Shard is empty when the inputs
// are all n shards of one plan, and otherwise lists the shards it holds.
// Blame is assigned again over all results: a shard may not have had the
// reference cells that decide it.
func Merge(runs ...*results.Run) (*results.Run, error) {
	if len(runs) == 0 {
		return nil, errors.New("merge: no runs")
	}
	first := runs[0]
	name := func(i int) string {
		r := runs[i]
		s := fmt.Sprintf("run %d (%s", i+1, r.RunID)
		if r.Shard != "" {
			s += ", shard " + r.Shard
		}
		return s + ")"
	}
	for i, r := range runs {
		if r == nil {
			return nil, fmt.Errorf("merge: run %d is missing", i+1)
		}
		if err := Validate(r); err != nil {
			return nil, fmt.Errorf("merge: %s: %w", name(i), err)
		}
		if i == 0 {
			continue
		}
		for _, f := range []struct{ what, a, b, why string }{
			{"suite version", first.SuiteVersion, r.SuiteVersion, "different code judged them; rerun the shards from one commit"},
			{"expectations hash", first.ExpectationsHash, r.ExpectationsHash, "they ran with different conformance/expectations.yaml files, so the same verdict has different outcomes"},
			{"depth", first.Depth, r.Depth, "they planned different matrices"},
		} {
			if f.a != f.b {
				return nil, fmt.Errorf("merge: %s has %s %q but %s has %q: %s", name(0), f.what, f.a, name(i), f.b, f.why)
			}
		}
	}

	out := &results.Run{
		Schema: first.Schema, SuiteVersion: first.SuiteVersion, ExpectationsHash: first.ExpectationsHash,
		Depth: first.Depth, Started: first.Started, Finished: first.Finished, Command: first.Command,
	}
	owner := map[string]int{}     // cell id -> run index
	implOwner := map[string]int{} // implementation -> first run listing it
	impls := map[string]int{}     // implementation -> index into out.Impls
	var ids []string
	for i, r := range runs {
		ids = append(ids, r.RunID)
		if r.Started.Before(out.Started) || out.Started.IsZero() {
			out.Started = r.Started
		}
		if r.Finished.After(out.Finished) {
			out.Finished = r.Finished
		}
		if r.Command != out.Command {
			out.Command = ""
		}
		for _, im := range r.Impls {
			j, ok := impls[im.Name]
			if !ok {
				impls[im.Name], implOwner[im.Name] = len(out.Impls), i
				out.Impls = append(out.Impls, im)
				continue
			}
			have := &out.Impls[j]
			if have.Language != im.Language || !slices.Equal(sorted(have.Roles), sorted(im.Roles)) || !slices.Equal(sorted(have.Features), sorted(im.Features)) {
				return nil, fmt.Errorf("merge: implementation %q differs between the runs (language, roles or features): %s says %s %v %v, %s says %s %v %v",
					im.Name, name(implOwner[im.Name]), have.Language, have.Roles, have.Features, name(i), im.Language, im.Roles, im.Features)
			}
			// A build that failed on one machine failed: keep the error.
			if have.Error == "" && im.Error != "" {
				have.Error = im.Error
			}
			have.BuildMS = max(have.BuildMS, im.BuildMS)
		}
		for _, res := range r.Results {
			if j, dup := owner[res.ID]; dup {
				return nil, fmt.Errorf("merge: cell %s is in %s and in %s: merge each shard once", res.ID, name(j), name(i))
			}
			owner[res.ID] = i
			out.Results = append(out.Results, res)
		}
	}
	slices.Sort(ids)
	out.RunID = strings.Join(slices.Compact(ids), "+")
	out.Shard = mergedShard(runs)
	results.AssignBlame(out.Results)
	out.Sort()
	return out, nil
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// mergedShard is "" when the runs are exactly the shards 1..n of n (or
// none was a shard), else the sorted list of what they hold ("1/4,3/4").
func mergedShard(runs []*results.Run) string {
	var shards []string
	n, whole := 0, true
	have := map[int]bool{}
	for _, r := range runs {
		if r.Shard == "" {
			whole = false
			continue
		}
		shards = append(shards, r.Shard)
		i, m, ok := parseShard(r.Shard)
		if !ok || (n != 0 && m != n) || have[i] {
			whole = false
			continue
		}
		n, have[i] = m, true
	}
	if len(shards) == 0 {
		return ""
	}
	if whole && len(have) == n {
		return ""
	}
	slices.SortFunc(shards, func(a, b string) int {
		ia, _, _ := parseShard(a)
		ib, _, _ := parseShard(b)
		return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a, b))
	})
	return strings.Join(slices.Compact(shards), ",")
}

func parseShard(s string) (i, n int, ok bool) {
	a, b, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	return i, n, err1 == nil && err2 == nil && i >= 1 && i <= n
}
