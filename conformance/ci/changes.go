// Package ci holds every decision the GitHub Actions workflows make, so they
// are unit-tested Go rather than shell in YAML: which implementations and
// which depth a pull request runs (this file), how many shards a full
// matrix needs (shards.go) and whether a merged run is complete and
// as expected (merge.go). Each is one subcommand of conformance/cmd/ci.
package ci

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// suitePaths are the folders and files whose change can alter any cell's
// verdict: the suite, the reference, the specs, the base images, the
// workflows and the Go module. A change there runs the standard matrix.
var suitePaths = []string{"conformance/", "reference/", "spec/", "docker/", ".github/", ".ci/", "go.mod", "go.sum"}

// Decision is what a pull request runs.
type Decision struct {
	Run   bool
	Depth string   // matrix depth (cases.Depth)
	Only  []string // implementations whose cells run (INTEROP_ONLY); empty: all
	// Why lists one line per reason, for the job log and summary.
	Why []string
	// Problems are changes the suite cannot test (e.g. a new folder under
	// clients/ without a manifest): the job fails with them.
	Problems []string
}

// LabelFilter is the Ginkgo label filter equivalent to Only, for people who
// run the suite by hand: "impl:a || impl:b".
func (d Decision) LabelFilter() string {
	var parts []string
	for _, n := range d.Only {
		parts = append(parts, "impl:"+n)
	}
	return strings.Join(parts, " || ")
}

// Decide maps changed paths (relative to the repository root, slash
// separated) to what runs. exists reports whether a repository path exists
// in the head revision (the checkout being tested).
//
//   - A change under one of suitePaths runs the standard matrix of everyone:
//     it can change any verdict.
//   - Otherwise a change under clients/NAME/ runs NAME against every other
//     implementation and the reference (standard depth, INTEROP_ONLY).
//   - Anything else (documentation at the top, clients/README.md) runs
//     nothing, and says so.
func Decide(changed []string, exists func(string) bool) Decision {
	d := Decision{Depth: "standard"}
	var suite []string
	impls := map[string]bool{}
	for _, p := range changed {
		switch {
		case isSuitePath(p):
			suite = append(suite, p)
		case strings.HasPrefix(p, "clients/") && strings.Count(p, "/") >= 2:
			impls[strings.Split(p, "/")[1]] = true
		}
	}
	names := sortedKeys(impls)
	var testable []string
	for _, n := range names {
		dir := "clients/" + n
		switch {
		case !exists(dir):
			d.Why = append(d.Why, fmt.Sprintf("%s was removed: nothing of it left to test", dir))
		case !exists(dir + "/interop.json"):
			d.Problems = append(d.Problems, fmt.Sprintf("%s has no interop.json, so the suite cannot discover it (spec/manifest.md): add the manifest", dir))
		default:
			testable = append(testable, n)
		}
	}
	switch {
	case len(suite) > 0:
		d.Run = true
		d.Why = append(d.Why, fmt.Sprintf("the suite, reference, specs, base images or workflows changed (%s): standard matrix of every implementation", summarize(suite)))
	case len(testable) > 0:
		d.Run = true
		d.Only = testable
		d.Why = append(d.Why, fmt.Sprintf("implementation folders changed: %s against every other implementation and the reference", strings.Join(testable, ", ")))
	case len(d.Problems) == 0:
		d.Why = append(d.Why, "no change under clients/*/ or the suite's paths: nothing to run")
	}
	return d
}

func isSuitePath(p string) bool {
	for _, s := range suitePaths {
		if p == s || (strings.HasSuffix(s, "/") && strings.HasPrefix(p, s)) {
			return true
		}
	}
	return false
}

// summarize names up to three paths and counts the rest.
func summarize(paths []string) string {
	if len(paths) <= 3 {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(paths[:3], ", "), len(paths)-3)
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ChangedFiles lists the paths a pull request changes: the difference
// between the merge base of base and head, and head (what GitHub shows as
// the pull request's files). Renames count as a removal and an addition, so
// both folders are considered.
func ChangedFiles(ctx context.Context, repo, base, head string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "git", "-C", repo, "diff", "--no-renames", "--name-only", "-z", base+"..."+head)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git diff %s...%s: %w: %s (is the history fetched? the workflow checks out with fetch-depth: 0)", base, head, err, strings.TrimSpace(stderr.String()))
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, path.Clean(f))
		}
	}
	return files, nil
}

// ExistsIn reports whether a slash-separated repository path exists in the
// working tree at root (the checked-out head).
func ExistsIn(root string) func(string) bool {
	return func(p string) bool {
		_, err := os.Stat(filepath.Join(root, filepath.FromSlash(p)))
		return err == nil
	}
}
