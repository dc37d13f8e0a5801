package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/interop-suite/interop/conformance/ci"
)

// output writes step outputs: to $GITHUB_OUTPUT on Actions, and always to
// stdout so a log shows what was decided.
func output(stdout io.Writer, kv map[string]string) error {
	var keys []string
	for k := range kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		if strings.ContainsAny(kv[k], "\r\n") {
			return fmt.Errorf("output %s has a line break", k)
		}
		fmt.Fprintf(&b, "%s=%s\n", k, kv[k])
	}
	fmt.Fprint(stdout, b.String())
	if path := os.Getenv("GITHUB_OUTPUT"); path != "" {
		return appendFile(path, b.String())
	}
	return nil
}

// summaryLimit is below GitHub's 1 MiB cap on one step's summary; a larger
// report is cut with a pointer to the uploaded artifact.
const summaryLimit = 1000 << 10

// summary appends the run's Markdown report to $GITHUB_STEP_SUMMARY, and
// the check's problems before it, where they are seen first.
func summary(reportPath string, c ci.Check) error {
	path := os.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	var b strings.Builder
	if !c.OK() {
		b.WriteString("## The run failed\n\n```\n")
		c.Write(&b)
		b.WriteString("```\n\n")
	}
	report, err := os.ReadFile(reportPath)
	if err != nil {
		b.WriteString(fmt.Sprintf("(no report.md: %v)\n", err))
	} else {
		b.Write(report)
	}
	s := b.String()
	if len(s) > summaryLimit {
		s = strings.ToValidUTF8(s[:summaryLimit], "") + "\n\n… cut at GitHub's summary limit: the full report is in the run's artifacts (report.html, report.md).\n"
	}
	return appendFile(path, s)
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
