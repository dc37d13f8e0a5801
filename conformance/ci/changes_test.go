package ci

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	present := map[string]bool{
		"clients/rust": true, "clients/rust/interop.json": true,
		"clients/c": true, "clients/c/interop.json": true,
		"clients/wip": true, // a folder without a manifest
	}
	exists := func(p string) bool { return present[p] }
	for _, tc := range []struct {
		name     string
		changed  []string
		run      bool
		only     []string
		problems int
	}{
		{"one client", []string{"clients/rust/src/main.rs"}, true, []string{"rust"}, 0},
		{"two clients", []string{"clients/rust/Dockerfile", "clients/c/hello.c", "clients/c/README.md"}, true, []string{"c", "rust"}, 0},
		{"suite", []string{"conformance/runner/runner.go"}, true, nil, 0},
		{"suite and a client", []string{"clients/rust/x", "spec/rudp.md"}, true, nil, 0},
		{"go.sum", []string{"go.sum"}, true, nil, 0},
		{"base image list", []string{"docker/toolchains/rust.list"}, true, nil, 0},
		{"docs only", []string{"README.md", "clients/README.md"}, false, nil, 0},
		{"nothing", nil, false, nil, 0},
		{"removed client", []string{"clients/gone/interop.json"}, false, nil, 0},
		{"folder without manifest", []string{"clients/wip/main.go"}, false, nil, 1},
		{"without manifest plus a good one", []string{"clients/wip/main.go", "clients/c/x.c"}, true, []string{"c"}, 1},
		{"a path that only looks like the suite", []string{"conformance.md", "clients/spec/", "docs/spec/x"}, false, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.changed, exists)
			if d.Run != tc.run || !slices.Equal(d.Only, tc.only) || len(d.Problems) != tc.problems {
				t.Fatalf("Decide(%v) = run %v only %v problems %v, want run %v only %v problems %d (why: %v)",
					tc.changed, d.Run, d.Only, d.Problems, tc.run, tc.only, tc.problems, d.Why)
			}
			if d.Run && d.Depth != "standard" {
				t.Fatalf("depth %q, want standard", d.Depth)
			}
			if len(d.Why)+len(d.Problems) == 0 {
				t.Fatal("a decision must say why")
			}
		})
	}
}

func TestLabelFilter(t *testing.T) {
	if got := (Decision{Only: []string{"c", "rust"}}).LabelFilter(); got != "impl:c || impl:rust" {
		t.Fatalf("got %q", got)
	}
}

// TestChangedFilesInRealHistories makes a repository with a main branch and
// one pull-request branch per case, as GitHub would check them out, and
// runs the planner on each: git's own view of the changes decides.
func TestChangedFilesInRealHistories(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required")
	}
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(p, s string) {
		t.Helper()
		full := filepath.Join(repo, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	for _, p := range []string{"clients/rust/interop.json", "clients/rust/src/main.rs", "clients/c/interop.json",
		"conformance/runner/runner.go", "README.md", "go.mod"} {
		write(p, "v1 "+p)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "base")
	base := git("rev-parse", "HEAD")

	branch := func(name string, change func()) {
		git("checkout", "-q", "-b", name, base)
		change()
		git("add", "-A")
		git("commit", "-q", "-m", name)
	}
	branch("client", func() { write("clients/rust/src/main.rs", "v2") })
	branch("suite", func() { write("conformance/runner/runner.go", "v2") })
	branch("outside", func() { write("README.md", "v2") })
	// main moves on after the branches forked: its change must not count
	// as the pull request's (three-dot diff from the merge base).
	git("checkout", "-q", "main")
	write("conformance/cases/new.go", "later on main")
	git("add", "-A")
	git("commit", "-q", "-m", "main moves on")

	for _, tc := range []struct {
		branch string
		run    bool
		only   []string
	}{
		{"client", true, []string{"rust"}},
		{"suite", true, nil},
		{"outside", false, nil},
	} {
		t.Run(tc.branch, func(t *testing.T) {
			git("checkout", "-q", tc.branch)
			files, err := ChangedFiles(context.Background(), repo, "main", "HEAD")
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 1 {
				t.Fatalf("changed files %v: want only the branch's own change", files)
			}
			d := Decide(files, ExistsIn(repo))
			if d.Run != tc.run || !slices.Equal(d.Only, tc.only) {
				t.Fatalf("branch %s: run %v only %v, want run %v only %v (%v)", tc.branch, d.Run, d.Only, tc.run, tc.only, d.Why)
			}
		})
	}
	if _, err := ChangedFiles(context.Background(), repo, "no-such-ref", "HEAD"); err == nil || !strings.Contains(err.Error(), "fetch-depth") {
		t.Fatalf("an unknown base must be an error that hints at the shallow clone, got %v", err)
	}
}
