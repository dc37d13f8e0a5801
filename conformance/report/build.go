package report

import (
	"errors"
	"io/fs"
	"os"
	"path"

	"github.com/interop-suite/interop/conformance/results"
)

// Model is a run laid out for reading: the groups (matrix cells), the
// matrices, the summaries and the comparisons. Both writers render it;
// tests inspect it.
type Model struct {
	Run          *results.Run
	Groups       []*Group // sorted by id; Group.Index is the position
	Matrices     []*Matrix
	Overviews    []*Overview
	Impls        []ImplSummary
	Leaderboard  *Leaderboard
	Changes      *Changes        // nil without a previous run
	Counts       [numClasses]int // groups per class
	Requirements map[string]Requirement

	opts Options
	b    *builder
}

// builder holds what the writers need beyond the model: where the cells'
// files are, and the reference results to compare with.
type builder struct {
	artifacts string // folder the cells' Artifacts paths are relative to
	linkBase  string // how the page reaches that folder ("." when it is next to it)
	refs      map[refKey]*results.Result
}

// Build lays out a run. It reads nothing but the spec texts; traces are
// read when the HTML is written.
func Build(run *results.Run, opts Options) (*Model, error) {
	if run == nil {
		return nil, errors.New("report: no run")
	}
	if err := Validate(run); err != nil {
		return nil, err
	}
	groups := buildGroups(run)
	m := &Model{Run: run, Groups: groups, opts: opts, Requirements: LoadRequirements(opts.SpecDir)}
	m.Matrices, m.Overviews = buildMatrices(groups)
	var prev []*Group
	if opts.Previous != nil {
		if err := Validate(opts.Previous); err != nil {
			return nil, errors.New("previous run: " + err.Error())
		}
		prev = buildGroups(opts.Previous)
		m.Changes = buildChanges(groups, prev)
	}
	m.Impls = buildSummaries(run, groups, prev)
	for _, g := range groups {
		m.Counts[g.Class]++
	}
	m.b = &builder{artifacts: opts.ArtifactsDir, linkBase: ".", refs: referenceResults(groups)}
	m.Leaderboard = buildLeaderboard(groups, m.b.refs)
	return m, nil
}

// Unexpected counts the groups that fail the run.
func (m *Model) Unexpected() int {
	return m.Counts[ClassUnexpectedFail] + m.Counts[ClassUnexpectedPass] + m.Counts[ClassInfra]
}

// series reads a cell's trace for its plot: nil when the cell has none.
// The trace is opened through an os.Root on the artifacts folder, so a
// results.json from elsewhere cannot make the report read outside it.
func (b *builder) series(r *results.Result) (*Series, error) {
	if b.artifacts == "" || r.Artifacts == "" {
		return nil, nil
	}
	root, err := os.OpenRoot(b.artifacts)
	if err != nil {
		return nil, nil
	}
	defer root.Close()
	f, err := root.Open(path.Join(r.Artifacts, "trace", "trace.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadSeries(f)
}
