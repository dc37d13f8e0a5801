// Command ci is what the GitHub Actions workflows call: each decision is
// one subcommand, so the YAML only wires steps together and every decision
// is Go with unit tests (conformance/ci).
//
//	ci changes -base SHA -head SHA     what a pull request runs
//	ci shards [-n N | -target 20m]     the shard matrix of a full run
//	ci check -in DIR [-complete]       a run's verdict: complete, nothing unexpected
//
// On GitHub Actions, outputs go to $GITHUB_OUTPUT and the Markdown report to
// $GITHUB_STEP_SUMMARY; elsewhere they are printed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/ci"
	"github.com/interop-suite/interop/conformance/results"
	"github.com/interop-suite/interop/conformance/suite"
)

const usage = `usage:
  ci changes -base REF [-head REF] [-repo DIR]
      decide what a pull request runs from the files it changes; outputs
      run, depth, only, label_filter
  ci shards [-n N] [-target DURATION -parallel P -max M]
      the shard matrix of the planned run (INTEROP_* environment), balanced
      by INTEROP_SHARD_COSTS when set; outputs count, matrix
  ci check -in DIR [-complete]
      exit 1 unless every outcome in DIR/results.json is as expected (and,
      with -complete, every cell the INTEROP_* environment plans has a result);
      appends DIR/report.md to $GITHUB_STEP_SUMMARY
`

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprint(os.Stderr, usage)
		fmt.Fprintf(os.Stderr, "ci: %v\n", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "ci: %v\n", err)
		os.Exit(1)
	}
}

type usageError struct{ error }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand")}
	}
	switch args[0] {
	case "changes":
		return changes(ctx, args[1:], stdout)
	case "shards":
		return shards(args[1:], stdout)
	case "check":
		return check(args[1:], stdout)
	}
	return usageError{fmt.Errorf("unknown subcommand %q", args[0])}
}

func changes(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("changes", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	base := fs.String("base", "", "base revision (the pull request's target branch)")
	head := fs.String("head", "HEAD", "head revision (the pull request)")
	repo := fs.String("repo", ".", "repository checkout (at head)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *base == "" {
		return usageError{errors.New("changes needs -base")}
	}
	files, err := ci.ChangedFiles(ctx, *repo, *base, *head)
	if err != nil {
		return err
	}
	d := ci.Decide(files, ci.ExistsIn(*repo))
	fmt.Fprintf(stdout, "%d files changed between %s and %s\n", len(files), *base, *head)
	for _, w := range d.Why {
		fmt.Fprintf(stdout, "- %s\n", w)
	}
	for _, p := range d.Problems {
		fmt.Fprintf(stdout, "- PROBLEM: %s\n", p)
	}
	if err := output(stdout, map[string]string{
		"run":          fmt.Sprint(d.Run),
		"depth":        d.Depth,
		"only":         strings.Join(d.Only, ","),
		"label_filter": d.LabelFilter(),
	}); err != nil {
		return err
	}
	if len(d.Problems) > 0 {
		return fmt.Errorf("%d change(s) the suite cannot test", len(d.Problems))
	}
	return nil
}

func shards(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("shards", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n := fs.Int("n", 0, "shard count (0: from -target)")
	target := fs.Duration("target", 20*time.Minute, "estimated wall time per shard to aim for")
	parallel := fs.Int("parallel", 4, "cells one runner runs at once (Ginkgo --procs)")
	most := fs.Int("max", 16, "most shards")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	cfg, err := suite.FromEnv()
	if err != nil {
		return err
	}
	cfg.ShardIndex, cfg.ShardCount = 0, 0 // plan the whole matrix
	_, cells, err := suite.Plan(cfg)
	if err != nil {
		return err
	}
	costs, err := suite.LoadCosts(cfg.ShardCosts, cells)
	if err != nil {
		return err
	}
	var total time.Duration
	for _, c := range cells {
		total += costs.Of(c)
	}
	count := *n
	if count <= 0 {
		count = ci.ShardCount(total, *parallel, *target, *most)
	}
	fmt.Fprintf(stdout, "%d cells, estimated %s of cell time (%d of them measured); %d shard(s):\n",
		len(cells), total.Round(time.Second), costs.Measured, count)
	plan := cases.Deal(cells, count, costs)
	for i, load := range cases.ShardLoads(plan, costs) {
		fmt.Fprintf(stdout, "  shard %d/%d: %d cells, about %s at %d at once\n", i+1, count,
			len(plan[i]), (load / time.Duration(*parallel)).Round(time.Second), *parallel)
	}
	matrix, err := json.Marshal(ci.ShardList(count))
	if err != nil {
		return err
	}
	return output(stdout, map[string]string{"count": fmt.Sprint(count), "matrix": string(matrix)})
}

func check(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	in := fs.String("in", "results", "results folder (results.json, report.md)")
	complete := fs.Bool("complete", false, "also require a result for every cell the INTEROP_* environment plans")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	runRes, err := results.Read(filepath.Join(*in, "results.json"))
	if err != nil {
		return fmt.Errorf("no results to check (did every shard fail before writing results.json?): %w", err)
	}
	var planned []cases.Cell
	if *complete {
		cfg, err := suite.FromEnv()
		if err != nil {
			return err
		}
		cfg.ShardIndex, cfg.ShardCount = 0, 0
		if _, planned, err = suite.Plan(cfg); err != nil {
			return err
		}
	}
	c := ci.CheckRun(runRes, planned)
	c.Write(stdout)
	if err := summary(filepath.Join(*in, "report.md"), c); err != nil {
		return err
	}
	if !c.OK() {
		return fmt.Errorf("the run failed: %d unexpected, %d missing, %d unplanned", len(c.Unexpected), len(c.Missing), len(c.Extra))
	}
	return nil
}
