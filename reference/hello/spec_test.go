package hello

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestRequirementIDs: spec/hello.md defines exactly the HELLO numbers of
// spec/REQUIREMENT-IDS.md, in order, and the reference cites no other.
func TestRequirementIDs(t *testing.T) {
	t.Parallel()
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	all := func(re, text string) []string {
		var ids []string
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(text, -1) {
			ids = append(ids, m[1])
		}
		return ids
	}
	index := all(`(?m)^\| (HELLO-\d+) \|`, read("../../spec/REQUIREMENT-IDS.md"))
	defined := all(`(?m)^\*\*(HELLO-\d+)\*\*`, read("../../spec/hello.md"))
	if len(index) == 0 || !slices.Equal(defined, index) {
		t.Errorf("spec/hello.md defines %v, the index has %v", defined, index)
	}

	files, _ := filepath.Glob("*.go")
	cmd, _ := filepath.Glob("../cmd/hello/*.go")
	cited := map[string]bool{}
	for _, f := range append(files, cmd...) {
		for _, id := range all(`(HELLO-\d+)`, read(f)) {
			cited[id] = true
			if !slices.Contains(index, id) {
				t.Errorf("%s cites %s, which the index does not have", f, id)
			}
		}
	}
	if len(cited) < 10 {
		t.Errorf("only %d requirements cited", len(cited))
	}
}
