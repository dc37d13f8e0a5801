package report_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/report/internal/reporttest"
	"github.com/interop-suite/interop/conformance/results"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// specDir is the repository's spec folder, for requirement texts.
var specDir = report.FindSpecDir(".")

func realFixture(t testing.TB) string { return reporttest.RealFixture(t, "testdata") }

func readRun(t testing.TB, path string) *results.Run { return reporttest.ReadRun(t, path) }

func countArrivals(t testing.TB, path string) int { return reporttest.CountArrivals(t, path) }

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the rendering (go test -update rewrites it); first difference at byte %d", path, firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// pageDetails inflates the cells' details of a report.html, as its
// script does.
func pageDetails(t testing.TB, page []byte) string {
	t.Helper()
	const open = `<script type="application/gzip" id="details-gz">`
	i := bytes.Index(page, []byte(open))
	if i < 0 {
		t.Fatal("no details in the page")
	}
	rest := page[i+len(open):]
	raw, err := base64.RawURLEncoding.DecodeString(string(rest[:bytes.Index(rest, []byte("</script>"))]))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
