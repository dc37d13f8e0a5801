package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/interop-suite/interop/conformance/report"
)

func TestReadRunRefuses(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{"schema": 1, "suite_version": "v", "expectations_hash": "h", "results": []any{
			map[string]any{"id": "hello/a-x-b/tcp-clean/seed-1", "group": "hello/a-x-b/tcp-clean", "verdict": "pass", "outcome": "expected",
				"cell": map[string]any{"protocol": "hello", "client": "a", "server": "b", "scenario": "tcp-clean", "seed": 1, "seeds": 1}},
		}}
	}
	result := func(m map[string]any) map[string]any { return m["results"].([]any)[0].(map[string]any) }
	for _, c := range []struct {
		name   string
		change func(m map[string]any)
		want   string
	}{
		{"schema", func(m map[string]any) { m["schema"] = 2 }, "schema 2"},
		{"verdict", func(m map[string]any) { result(m)["verdict"] = "passed" }, `unknown verdict "passed"`},
		{"outcome", func(m map[string]any) { result(m)["outcome"] = "fine" }, `unknown outcome "fine"`},
		{"protocol", func(m map[string]any) { result(m)["cell"].(map[string]any)["protocol"] = "quic" }, "unknown protocol"},
		{"no id", func(m map[string]any) { result(m)["id"] = "" }, "no id"},
		{"group", func(m map[string]any) { result(m)["group"] = "rudp/x" }, "not a prefix"},
		{"artifacts up", func(m map[string]any) { result(m)["artifacts"] = "../../etc" }, "inside the results folder"},
		{"artifacts absolute", func(m map[string]any) { result(m)["artifacts"] = "/etc" }, "inside the results folder"},
		{"duplicate", func(m map[string]any) { m["results"] = append(m["results"].([]any), result(m)) }, "appears twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := valid()
			c.change(m)
			b, _ := json.Marshal(m)
			_, err := report.ReadRun(strings.NewReader(string(b)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error about %q", err, c.want)
			}
		})
	}
	b, _ := json.Marshal(valid())
	if _, err := report.ReadRun(strings.NewReader(string(b))); err != nil {
		t.Errorf("the valid run: %v", err)
	}
	if _, err := report.ReadRun(strings.NewReader(string(b) + "{}")); err == nil {
		t.Error("accepted data after the object")
	}
}

// A run killed before results.json is written is still reported from the
// result.json each cell saved.
func TestLoadDirFromCells(t *testing.T) {
	dir := kindsFixture(t)
	run := readRun(t, dir)
	os.Remove(filepath.Join(dir, "results.json"))
	for _, r := range run.Results {
		p := filepath.Join(dir, "cells", filepath.FromSlash(r.ID), "result.json")
		os.MkdirAll(filepath.Dir(p), 0o755)
		b, _ := json.Marshal(r)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := report.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != len(run.Results) {
		t.Errorf("%d results from the cells, want %d", len(got.Results), len(run.Results))
	}
	if _, err := report.LoadDir(t.TempDir()); err == nil {
		t.Error("an empty folder loaded")
	}
}
