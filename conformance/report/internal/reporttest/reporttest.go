// Package reporttest holds the report tests' shared fixtures. It is a
// package of its own so that the browser test (conformance/report/browser)
// can use them without living in the report package: its chromedp
// dependency, instrumented for coverage in the report package's fuzz
// runs, slowed FuzzReadSeries from thousands of executions a second to
// none.
package reporttest

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/results"
)

// RealFixture unpacks testdata/real (a run of the reference, c, node,
// python and a deliberately naive implementation through the real
// simulator and judge, made by testdata/fixturegen) into a temporary
// results folder: results.json plus every cell's logs and trace.
// testdata is the report package's testdata folder.
func RealFixture(t testing.TB, testdata string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(testdata, "real", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	Untar(t, filepath.Join(testdata, "real", "cells.tar.gz"), dir)
	return dir
}

// Untar unpacks a .tar.gz into dir, refusing entries that leave it.
func Untar(t testing.TB, archive, dir string) {
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

// ReadRun reads a results.json (or a folder holding one).
func ReadRun(t testing.TB, path string) *results.Run {
	t.Helper()
	run, err := report.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// CountArrivals counts the datagrams of a trace the plain way, line by
// line, independently of the report's reader: what the plot must show.
func CountArrivals(t testing.TB, path string) int {
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

// FindGroup returns the group (matrix cell) with the given id, or fails.
func FindGroup(t testing.TB, m *report.Model, id string) *report.Group {
	t.Helper()
	for _, g := range m.Groups {
		if g.ID == id {
			return g
		}
	}
	t.Fatalf("no group %q", id)
	return nil
}
