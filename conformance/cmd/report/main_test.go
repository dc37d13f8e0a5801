package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/results"
)

// shardDir writes a results folder holding the given seeds of one RUDP
// cell, with a trace file per cell, as one shard of a run would.
func shardDir(t *testing.T, shard string, version string, seeds ...int64) string {
	t.Helper()
	dir := t.TempDir()
	run := &results.Run{Schema: results.SchemaVersion, SuiteVersion: version, ExpectationsHash: "h", RunID: "run-" + shard,
		Depth: "smoke", Shard: shard, Started: time.Unix(0, 0).UTC(), Finished: time.Unix(60, 0).UTC()}
	trace := `{"v":1,"kind":"header","mode":"udp","seed":1,"scenario":"loss-10","start":"2026-01-01T00:00:00Z"}` + "\n" +
		`{"t":1,"flow":0,"dir":"fwd","idx":0,"action":"forwarded","size":10,"type":"start","seq":7,"csum_ok":true}` + "\n"
	for _, s := range seeds {
		c := cases.Cell{Protocol: cases.RUDP, Client: "reference", Server: "reference", Scenario: "loss-10", Size: cases.Size256K, Seed: s, Seeds: 3}
		r := results.Result{ID: c.ID(), Group: c.Group(), Cell: c, Verdict: results.Pass, Outcome: results.Expected, Artifacts: "cells/" + c.ID(),
			Reproduce: fmt.Sprintf("INTEROP_CELL='%s' go tool ginkgo ./conformance", c.ID())}
		run.Results = append(run.Results, r)
		p := filepath.Join(dir, "cells", filepath.FromSlash(c.ID()), "trace", "trace.jsonl")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(trace), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := run.Write(filepath.Join(dir, "results.json")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRender(t *testing.T) {
	in := shardDir(t, "", "v1", 1, 2, 3)
	out := t.TempDir()
	if err := run([]string{"-in", in, "-out", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{report.MarkdownFile, report.HTMLFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	page, _ := os.ReadFile(filepath.Join(out, report.HTMLFile))
	// Cell details travel gzip-compressed in the page (report/html.go):
	// look at the page and its inflated details together.
	html := string(page) + inflateDetails(t, string(page))
	// The report is elsewhere: its links must reach the input's cells.
	rel, _ := filepath.Rel(out, in)
	if !strings.Contains(html, filepath.ToSlash(rel)+"/cells/rudp/") {
		t.Error("report.html in another folder does not link back to the cells")
	}
	if !strings.Contains(html, `class="plot"`) {
		t.Error("no plot: the trace was not read from -in")
	}
}

func TestRenderOnly(t *testing.T) {
	in := shardDir(t, "", "v1", 1, 2, 3)
	if err := run([]string{"-in", in, "-only", "rudp/reference-x-reference/loss-10/*/seed-2"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(in, report.MarkdownFile))
	if !strings.Contains(string(md), "1 cells (1 runs)") {
		t.Errorf("-only kept more than one run:\n%s", md[:min(len(md), 400)])
	}
	if err := run([]string{"-in", in, "-only", "hello/*"}, io.Discard); err == nil {
		t.Error("-only matching nothing rendered an empty report")
	}
}

func TestMerge(t *testing.T) {
	a, b := shardDir(t, "1/2", "v1", 1, 3), shardDir(t, "2/2", "v1", 2)
	out := filepath.Join(t.TempDir(), "merged")
	if err := run([]string{"merge", "-out", out, a, filepath.Join(b, "results.json")}, io.Discard); err != nil {
		t.Fatal(err)
	}
	m, err := report.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Results) != 3 || m.Shard != "" {
		t.Errorf("merged %d results, shard %q; want 3 and a whole run", len(m.Results), m.Shard)
	}
	for _, r := range m.Results {
		if _, err := os.Stat(filepath.Join(out, r.Artifacts, "trace", "trace.jsonl")); err != nil {
			t.Errorf("%s: the cell folder was not brought: %v", r.ID, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, report.HTMLFile)); err != nil {
		t.Error(err)
	}
}

func TestMergeRefusesVersions(t *testing.T) {
	a, b := shardDir(t, "1/2", "v1", 1), shardDir(t, "2/2", "v2-dirty", 2)
	err := run([]string{"merge", "-out", t.TempDir(), a, b}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "suite version") || !strings.Contains(err.Error(), "v2-dirty") {
		t.Errorf("got %v, want a refusal naming the versions", err)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"merge"}, {"merge", "-out", "x"}, {"-in", "a", "extra"}} {
		var ue usageError
		if err := run(args, io.Discard); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func TestMatches(t *testing.T) {
	id := "rudp/python-x-reference/loss-10/1m/seed-2"
	for pattern, want := range map[string]bool{
		"rudp/python-x-*":                      true,
		"python-x-reference":                   true,
		"rudp/*/loss-10/*/seed-2":              true,
		"rudp/python-x-reference/loss-10/1m":   true,
		"hello/*":                              false,
		"rudp/python-x-reference/loss-30/*/*/": false,
	} {
		if got := matches(id, pattern); got != want {
			t.Errorf("matches(%q) = %v, want %v", pattern, got, want)
		}
	}
}

// inflateDetails decodes the page's <script id="details-gz"> block.
func inflateDetails(t *testing.T, page string) string {
	t.Helper()
	const open = `id="details-gz">`
	i := strings.Index(page, open)
	if i < 0 {
		t.Fatal("report.html has no details block")
	}
	rest := page[i+len(open):]
	j := strings.Index(rest, "</script>")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(rest[:j]))
	if err != nil {
		t.Fatalf("details block is not base64url: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("details block is not gzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("inflate details: %v", err)
	}
	return string(b)
}
