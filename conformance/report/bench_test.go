package report_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/netsim"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/results"
)

// benchImpls are 15 implementations, the reference included: a large
// course at full depth.
var benchImpls = benchImplsAll[:benchN()]

var benchImplsAll = []string{"reference", "c", "cpp", "csharp", "dart", "elixir", "go-student", "haskell", "java",
	"javascript", "kotlin", "python", "ruby", "rust", "swift"}

// library is the simulator's scenarios as the planner sees them (as
// suite.Library does; the suite package is not imported here because it
// pulls in Docker).
func library() []cases.Scenario {
	var out []cases.Scenario
	for _, s := range netsim.Scenarios() {
		random := false
		for _, l := range []netsim.Link{s.Config.Fwd, s.Config.Rev} {
			random = random || l.Loss > 0 || l.Burst != nil || l.Dup > 0 || l.Reorder > 0 || l.Corrupt > 0 || l.Jitter > 0
		}
		out = append(out, cases.Scenario{Name: s.Name, TCP: s.Config.Mode == netsim.ModeTCP, Lossy: random})
	}
	return out
}

// fullMatrix is a full-depth run of benchImpls: the planner's cells, each
// a copy of a real result of the same kind from testdata/real (passes,
// lenient passes and failures with their logs, findings and transfer
// figures), with a real trace hard-linked into every RUDP cell's folder.
func fullMatrix(b *testing.B) (*results.Run, string) {
	src := realFixture(b)
	real := readRun(b, src)
	byID := map[string]*results.Result{}
	for i := range real.Results {
		byID[real.Results[i].ID] = &real.Results[i]
	}
	tmpl := func(id string) *results.Result {
		r, ok := byID[id]
		if !ok {
			b.Fatalf("no %s in the real fixture", id)
		}
		return r
	}
	var (
		helloPass = tmpl("hello/python-x-reference/tcp-clean/seed-1")
		helloFail = tmpl("hello/naive-x-c/tcp-clean/seed-1")
		rudpPass  = tmpl("rudp/python-x-reference/mixed/256k/seed-2")
		rudpLen   = tmpl("rudp/naive-x-reference/mixed/256k/seed-1")
		clean     = tmpl("rudp/c-x-python/clean/one-packet/seed-1")
	)
	var impls []registry.Impl
	for _, n := range benchImpls {
		im := registry.Reference()
		im.Name = n
		impls = append(impls, im)
	}
	cells, err := cases.Plan(impls, library(), cases.Options{Depth: cases.Full, Seeds: 3})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	run := &results.Run{Schema: results.SchemaVersion, SuiteVersion: "bench", ExpectationsHash: "none", RunID: "bench", Depth: "full",
		Started: real.Started, Finished: real.Finished}
	for _, n := range benchImpls {
		run.Impls = append(run.Impls, results.ImplInfo{Name: n, Language: n})
	}
	for i, c := range cells {
		var t *results.Result
		switch {
		case c.Protocol == cases.Hello && i%17 == 0:
			t = helloFail
		case c.Protocol == cases.Hello:
			t = helloPass
		case c.Scenario == "clean":
			t = clean
		case i%5 == 0:
			t = rudpLen
		default:
			t = rudpPass
		}
		r := *t
		r.ID, r.Group, r.Cell, r.Artifacts = c.ID(), c.Group(), c, "cells/"+c.ID()
		r.Reproduce = fmt.Sprintf("INTEROP_CELL='%s' go tool ginkgo ./conformance", c.ID())
		run.Results = append(run.Results, r)
		if c.Protocol == cases.RUDP {
			to := filepath.Join(dir, "cells", filepath.FromSlash(c.ID()), "trace", "trace.jsonl")
			os.MkdirAll(filepath.Dir(to), 0o755)
			if err := os.Link(filepath.Join(src, t.Artifacts, "trace", "trace.jsonl"), to); err != nil {
				b.Fatal(err)
			}
		}
	}
	run.Sort()
	return run, dir
}

// BenchmarkRenderFullMatrix renders both reports of a 15-implementation
// full matrix; the budget is under a second and an HTML file of a
// few MB (figures in README.md).
func BenchmarkRenderFullMatrix(b *testing.B) {
	run, dir := fullMatrix(b)
	opts := report.Options{SpecDir: specDir}
	cpu0 := cpuTime()
	for b.Loop() {
		if err := report.Render(run, dir, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/1e9/float64(b.N), "cpu-s/op")
	html, _ := os.Stat(filepath.Join(dir, report.HTMLFile))
	md, _ := os.Stat(filepath.Join(dir, report.MarkdownFile))
	b.ReportMetric(float64(len(run.Results)), "runs")
	b.ReportMetric(float64(html.Size())/(1<<20), "html-MiB")
	b.ReportMetric(float64(md.Size())/(1<<10), "md-KiB")
}

func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_IMPLS")); err == nil && n > 0 && n <= 15 {
		return n
	}
	return 15
}

// BenchmarkReadSeries reads one real 256 KiB transfer under "mixed" into
// its plot: the cost of each plot in a report.
func BenchmarkReadSeries(b *testing.B) {
	dir := realFixture(b)
	data, err := os.ReadFile(filepath.Join(dir, "cells/rudp/naive-x-reference/mixed/256k/seed-1/trace/trace.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := report.ReadSeries(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
