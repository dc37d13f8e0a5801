package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/interop-suite/interop/conformance/results"
)

// Options tune a report. The zero value is a sensible report of the run
// alone.
type Options struct {
	// Previous is an earlier run to compare with: the per-implementation
	// summary and a "changes" section show what broke and what got fixed.
	Previous *results.Run
	// ArtifactsDir is where the cells' folders are (result.Artifacts is
	// relative to it): traces are read from it and the HTML links into it.
	// Empty: the results folder itself.
	ArtifactsDir string
	// SpecDir is the spec/ folder with the requirement texts (FindSpecDir
	// finds it). Empty: requirement ids are shown without their text.
	SpecDir string
	// SpecURL, when set, makes the requirement ids in report.md links to
	// the spec on the web, e.g. https://github.com/ORG/REPO/blob/SHA/spec/
	SpecURL string
	// DetailBudget caps the bytes of report.html spent on rich cell
	// details (whole logs, every finding, the plot). Cells are served
	// worst first; the others get compact details with links to their
	// files. 0: DefaultDetailBudget.
	DetailBudget int
	// MarkdownFailures caps the failing cells that get a paragraph in
	// report.md (GitHub cuts job summaries at 1 MiB). 0: 100.
	MarkdownFailures int
}

// DefaultDetailBudget keeps a 15-implementation full matrix at a few MB
// while a course-sized run gets every detail.
const DefaultDetailBudget = 2 << 20

// File names written into the results folder.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
)

// Render writes report.md and report.html into resultsDir. Traces are
// read from opts.ArtifactsDir, or resultsDir when that is empty. Each file
// is replaced atomically, so a reader never sees half a report.
func Render(run *results.Run, resultsDir string, opts Options) error {
	if opts.ArtifactsDir == "" {
		opts.ArtifactsDir = resultsDir
	}
	m, err := Build(run, opts)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(resultsDir, opts.ArtifactsDir); err == nil {
		m.b.linkBase = filepath.ToSlash(rel)
	} else if abs, err := filepath.Abs(opts.ArtifactsDir); err == nil {
		m.b.linkBase = "file://" + filepath.ToSlash(abs)
	}
	if err := os.MkdirAll(resultsDir, 0o755); err != nil {
		return err
	}
	var md, html bytes.Buffer
	if err := m.WriteMarkdown(&md); err != nil {
		return fmt.Errorf("report.md: %w", err)
	}
	if err := m.WriteHTML(&html); err != nil {
		return fmt.Errorf("report.html: %w", err)
	}
	if err := writeAtomic(filepath.Join(resultsDir, MarkdownFile), md.Bytes()); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(resultsDir, HTMLFile), html.Bytes())
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
