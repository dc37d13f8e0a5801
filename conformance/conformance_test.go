// The conformance matrix: `go tool ginkgo -p ./conformance` (README.md).
//
// Flow, top-down: discover implementations and plan the cells while the spec
// tree is built (every process derives the same sorted list); build images
// once on process #1 in SynchronizedBeforeSuite; run each cell as one spec;
// judge it against the expectations file; write results.json and the
// reports once, in ReportAfterSuite.
package conformance_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/containers"
	"github.com/interop-suite/interop/conformance/images"
	"github.com/interop-suite/interop/conformance/progress"
	"github.com/interop-suite/interop/conformance/registry"
	reports "github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/results"
	"github.com/interop-suite/interop/conformance/runner"
	"github.com/interop-suite/interop/conformance/suite"
)

var (
	cfg          suite.Config
	impls        []registry.Impl
	cells        []cases.Cell
	planErr      error
	expectations *results.Expectations
	built        suite.Built
	env          *runner.Env
)

// plan discovers and plans once. It runs while the spec tree is built
// (package initialisation, before TestConformance), because Ginkgo needs
// the table's entries then (ginkgo#1361: not from BeforeSuite data).
var plan = sync.OnceFunc(func() {
	cfg, planErr = suite.FromEnv()
	if planErr == nil {
		impls, cells, planErr = suite.Plan(cfg)
	}
	if planErr == nil {
		expectations, planErr = results.LoadExpectations(cfg.Expectations)
	}
})

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	plan()
	if planErr != nil {
		t.Fatalf("cannot plan the matrix: %v", planErr)
	}
	if len(cells) == 0 {
		t.Fatalf("the plan has no cells (depth %s, INTEROP_ONLY=%q, INTEROP_SCENARIOS=%q, shard %d/%d): nothing would be tested",
			cfg.Depth, os.Getenv("INTEROP_ONLY"), os.Getenv("INTEROP_SCENARIOS"), cfg.ShardIndex, cfg.ShardCount)
	}
	RunSpecs(t, "Conformance matrix")
}

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	Expect(os.MkdirAll(cfg.ResultsDir, 0o755)).To(Succeed())
	runID := fmt.Sprintf("%s-%d", time.Now().UTC().Format("20060102T150405Z"), os.Getpid())
	eng, err := containers.New(ctx, runID)
	Expect(err).NotTo(HaveOccurred(), "Docker is required to run the conformance matrix")
	defer eng.Close()
	Expect(eng.MarkRunning(ctx)).To(Succeed())
	if nc, nn, err := eng.Sweep(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "sweep of leftovers of killed runs failed (they stay on the engine; remove them by hand): %v\n", err)
	} else if nc+nn > 0 {
		fmt.Fprintf(os.Stderr, "removed %d containers and %d networks left by an earlier run that was killed\n", nc, nn)
	}
	used := map[string]bool{}
	for _, c := range cells {
		used[c.Client], used[c.Server] = true, true
	}
	fmt.Fprintf(os.Stderr, "building images for %d implementations (cached by content hash)...\n", len(used))
	b, err := suite.BuildImages(ctx, cfg, impls, used, os.Stderr)
	Expect(err).NotTo(HaveOccurred())
	b.RunID, b.Started = runID, time.Now().UTC()
	var names []string
	for n := range used {
		names = append(names, n)
	}
	fmt.Fprintf(os.Stderr, "preflight: starting each server and receiver once...\n")
	pre := &runner.Env{Engine: eng, Impls: implsByName(), Images: b.Images, ResultsDir: cfg.ResultsDir, Limits: containers.DefaultLimits}
	for key, msg := range pre.Preflight(ctx, names) {
		b.Errors[key] = msg
		fmt.Fprintf(os.Stderr, "preflight FAILED for %s: %s\n", key, msg)
	}
	data, err := json.Marshal(b)
	Expect(err).NotTo(HaveOccurred())
	return data
}, func(ctx SpecContext, data []byte) {
	Expect(json.Unmarshal(data, &built)).To(Succeed())
	eng, err := containers.New(ctx, built.RunID)
	Expect(err).NotTo(HaveOccurred())
	env = &runner.Env{
		Engine: eng, Impls: implsByName(), Images: built.Images, ImageErrors: built.Errors, ImageInfraErrors: built.InfraErrors,
		ResultsDir: cfg.ResultsDir, Limits: containers.DefaultLimits,
		Reproduce: func(c cases.Cell) string {
			return fmt.Sprintf("INTEROP_CELL='%s' go tool ginkgo ./conformance", c.ID())
		},
	}
	if cfg.Executor == "exec" {
		env.Pool = env.NewPool(filepath.Join(cfg.ResultsDir, "pool", fmt.Sprint(GinkgoParallelProcess())), built.Agent)
	}
}, NodeTimeout(60*time.Minute))

// Cleanup: each process removes what it created (also on Ctrl-C, when
// cells are cut short); process #1, last, removes whatever is left of the
// run, its marker, and older image tags unless another run is alive.
var _ = SynchronizedAfterSuite(func(ctx SpecContext) {
	if env == nil {
		return
	}
	if env.Pool != nil {
		env.Pool.Close(ctx)
	}
	if nc, nn, err := env.Engine.RemoveOwned(ctx); err != nil || nc+nn > 0 {
		GinkgoWriter.Printf("removed %d containers, %d networks left by this process (%v)\n", nc, nn, err)
	}
}, func(ctx SpecContext) {
	if built.RunID == "" {
		return
	}
	eng, err := containers.New(ctx, built.RunID)
	if err != nil {
		return
	}
	defer eng.Close()
	if nc, nn, err := eng.RemoveRun(ctx); err != nil || nc > 0 {
		fmt.Fprintf(os.Stderr, "end of run: removed %d containers, %d networks (%v)\n", nc, nn, err)
	}
	// Sweep again: a killed run's last container creations can reach the
	// engine after this run's first sweep (seen: 14 containers created 12 s
	// after the kill -9, on a loaded engine).
	if nc, nn, err := eng.Sweep(ctx); err == nil && nc+nn > 0 {
		fmt.Fprintf(os.Stderr, "end of run: removed %d containers and %d networks left by an earlier run that was killed\n", nc, nn)
	}
	if alive, err := eng.OtherRunsAlive(ctx); err == nil && !alive {
		var tags []string
		for _, t := range built.Images {
			tags = append(tags, t)
		}
		images.PruneExcept(ctx, tags)
	}
}, NodeTimeout(5*time.Minute))

func implsByName() map[string]registry.Impl {
	byName := map[string]registry.Impl{}
	for _, i := range impls {
		byName[i.Name] = i
	}
	return byName
}

func entries() []TableEntry {
	plan()
	var out []TableEntry
	for i, c := range cells {
		// Ginkgo runs a table's entries sorted by their text, not in the
		// order given: the text starts with the cell's place in the run
		// order of cases.Spread, so that order holds.
		text := fmt.Sprintf("%05d %s", i+1, c.ID())
		// Programs have their own, shorter limits (runner); this one also
		// covers starting a process's host containers on first use, which
		// a loaded Docker Engine has been seen to take over a minute for.
		out = append(out, Entry(text, c, Label(c.Labels()...), SpecTimeout(5*time.Minute)))
	}
	return out
}

// stopProgress ends the live progress line (process #1, terminals only).
var stopProgress func()

var _ = ReportBeforeSuite(func(r Report) {
	stopProgress = progress.Start(cfg.ResultsDir, r.PreRunStats.SpecsThatWillRun)
})

var _ = DescribeTable("cell", func(ctx SpecContext, c cases.Cell) {
	progress.Record(cfg.ResultsDir, progress.Started(c.ID()))
	r := env.Run(ctx, c)
	expectations.Apply(&r)
	progress.Record(cfg.ResultsDir, progress.Finished(r.ID, string(r.Verdict),
		r.Verdict == results.Fail || r.Verdict == results.InfraError, r.Outcome.Unexpected(),
		time.Duration(r.WallMS)*time.Millisecond))
	data, err := json.Marshal(r)
	Expect(err).NotTo(HaveOccurred())
	// Saved per cell as soon as it is judged: nothing is lost if the run
	// is killed later.
	dir := filepath.Join(cfg.ResultsDir, "cells", filepath.FromSlash(c.ID()))
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "result.json"), data, 0o644)
	AddReportEntry("result", string(data), ReportEntryVisibilityNever)
	line := fmt.Sprintf("%s: %s", r.Verdict, r.ID)
	if len(r.Leniencies) > 0 {
		line += " (" + strings.Join(r.Leniencies, "; ") + ")"
	}
	GinkgoWriter.Println(line)
	if r.Outcome.Unexpected() {
		Fail(fmt.Sprintf("%s (%s)\n%s\nreproduce: %s", r.Verdict, r.Outcome, r.Reason, r.Reproduce))
	}
}, entries())

var _ = ReportAfterSuite("results.json", func(report Report) {
	if stopProgress != nil {
		stopProgress()
	}
	run := results.Run{
		Schema: results.SchemaVersion, SuiteVersion: suite.Version(cfg.Root), ExpectationsHash: expectations.Hash,
		RunID: built.RunID, Depth: string(cfg.Depth), Started: report.StartTime, Finished: report.EndTime, Impls: built.Impls,
	}
	if cfg.ShardCount > 1 {
		run.Shard = fmt.Sprintf("%d/%d", cfg.ShardIndex, cfg.ShardCount)
	}
	for _, sr := range report.SpecReports {
		for _, e := range sr.ReportEntries {
			if e.Name != "result" {
				continue
			}
			var r results.Result
			if err := json.Unmarshal([]byte(e.Value.String()), &r); err == nil {
				run.Results = append(run.Results, r)
			}
		}
	}
	results.AssignBlame(run.Results)
	os.MkdirAll(cfg.ResultsDir, 0o755)
	path := filepath.Join(cfg.ResultsDir, "results.json")
	if err := run.Write(path); err != nil {
		fmt.Fprintf(os.Stderr, "cannot write %s: %v\n", path, err)
		return
	}
	if err := reports.Render(&run, cfg.ResultsDir, reports.Options{SpecDir: filepath.Join(cfg.Root, "spec")}); err != nil {
		fmt.Fprintf(os.Stderr, "cannot render the reports: %v\n", err)
	}
	fmt.Fprintf(os.Stderr, "\n%s\nwrote %s, report.md and report.html\n", suite.Summary(&run), path)
})
