package report_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/interop-suite/interop/conformance/report"
)

// FuzzReadRun feeds results.json files as CI artifacts might deliver them:
// whatever ReadRun accepts must render to both formats without an error
// or a panic, and merge with itself only when it has no cells.
func FuzzReadRun(f *testing.F) {
	for _, p := range []string{"testdata/kinds/results.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schema":1,"results":[{"id":"rudp/a-x-b/clean/1m/seed-1","verdict":"fail","outcome":"unexpected-fail","artifacts":"cells/x",` +
		`"cell":{"protocol":"rudp","client":"a","server":"b","scenario":"clean","size":{"Name":"1m","Bytes":1},"seed":1,"seeds":3},` +
		`"transfer":{"duration_ms":1e308},"client":{"impl":"a","role":"r","stdout":"\u0000\u001b[31mred","stdout_bytes":-5,"exit_code":-1},` +
		`"findings":[{"property":"p","requirement":"RUDP-999999999999999999","grade":"x","detail":"<b>"}]}]}`))
	f.Add([]byte(`{"schema":1,"results":[{"id":"hello/a-x-a/s/seed-1","group":"hello/a-x-a/s","verdict":"lenient","leniencies":["HELLO-1"],"cell":{"protocol":"hello","client":"a","server":"a"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := report.ReadRun(bytes.NewReader(data))
		if err != nil {
			return
		}
		m, err := report.Build(run, report.Options{ArtifactsDir: "testdata/kinds", DetailBudget: 1 << 16})
		if err != nil {
			t.Fatalf("ReadRun accepted a run Build refuses: %v", err)
		}
		if err := m.WriteMarkdown(io.Discard); err != nil {
			t.Fatal(err)
		}
		if err := m.WriteHTML(io.Discard); err != nil {
			t.Fatal(err)
		}
		_, err = report.Merge(run, run)
		if (err == nil) != (len(run.Results) == 0) {
			t.Fatalf("merging a run with itself: %v, with %d cells", err, len(run.Results))
		}
	})
}

// FuzzReadSeries feeds traces to the plot reader: no panic, and one mark
// per arrival it accepted.
func FuzzReadSeries(f *testing.F) {
	b, err := os.ReadFile("testdata/kinds/trace.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := report.ReadSeries(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(s.T) != s.Len() || len(s.Y) != s.Len() || len(s.S) != s.Len() {
			t.Fatalf("columns of different lengths: %d %d %d %d", len(s.T), len(s.Y), len(s.S), s.Len())
		}
	})
}
