package report_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/results"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// specDir is the repository's spec folder, for requirement texts.
var specDir = report.FindSpecDir(".")

// realFixture unpacks testdata/real (a run of the reference, c, node,
// python and a deliberately naive implementation through the real
// simulator and judge, made by testdata/fixturegen) into a temporary
// results folder: results.json plus every cell's logs and trace.
func realFixture(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/real/results.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	untar(t, "testdata/real/cells.tar.gz", dir)
	return dir
}

func untar(t testing.TB, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !filepath.IsLocal(h.Name) {
			t.Fatalf("%s: entry %q leaves the folder", archive, h.Name)
		}
		p := filepath.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o755)
			out, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(out, tr); err != nil {
				t.Fatal(err)
			}
			out.Close()
		}
	}
}

func readRun(t testing.TB, path string) *results.Run {
	t.Helper()
	run, err := report.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// countArrivals counts the datagrams of a trace the plain way, line by
// line, independently of the report's reader: what the plot must show.
func countArrivals(t testing.TB, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, trace.MaxLine)
	for sc.Scan() {
		for _, a := range []string{trace.Forwarded, trace.Dropped, trace.Duplicated, trace.Corrupted, trace.Reordered, trace.Delayed} {
			if strings.Contains(sc.Text(), `"action":"`+a+`"`) {
				n++
			}
		}
	}
	return n
}

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
