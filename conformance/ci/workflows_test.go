package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is two folders up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestWorkflowsPassActionlint lints .github/workflows (and, through them,
// the local composite actions) with actionlint, built from its Go module
// (go.mod's tool directive), so a broken expression or a wrong input name
// fails here rather than on GitHub.
func TestWorkflowsPassActionlint(t *testing.T) {
	root := repoRoot(t)
	cmd := exec.Command("go", "tool", "actionlint", "-no-color")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
}

var (
	usesRE   = regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*(\S+)`)
	pinnedRE = regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
)

// TestWorkflowsAreSafeForForks checks the rules that make running student
// pull requests safe: no pull_request_target, read-only permissions, no
// secrets, and every third-party action pinned to a full commit SHA.
func TestWorkflowsAreSafeForForks(t *testing.T) {
	root := repoRoot(t)
	var files []string
	for _, pattern := range []string{".github/workflows/*.yml", ".github/actions/*/action.yml"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 4 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := withoutComments(string(b))
		name, _ := filepath.Rel(root, f)
		if strings.Contains(text, "pull_request_target") {
			t.Errorf("%s: uses pull_request_target, which runs with the base repository's token", name)
		}
		if strings.Contains(text, "secrets.") {
			t.Errorf("%s: refers to secrets; jobs that run student code must hold none", name)
		}
		if strings.Contains(text, ": write") || strings.Contains(text, "write-all") {
			t.Errorf("%s: asks for write permissions", name)
		}
		if strings.Contains(name, "workflows") && !strings.Contains(text, "permissions:\n  contents: read") {
			t.Errorf("%s: must set top-level permissions to contents: read", name)
		}
		for _, m := range usesRE.FindAllStringSubmatch(text, -1) {
			ref := m[1]
			if strings.HasPrefix(ref, "./") {
				continue
			}
			if !pinnedRE.MatchString(ref) {
				t.Errorf("%s: action %s is not pinned to a commit SHA", name, ref)
			}
		}
	}
}

// withoutComments drops YAML comments (whole lines and " # ..." tails), so
// a comment that explains a rule does not break it.
func withoutComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
