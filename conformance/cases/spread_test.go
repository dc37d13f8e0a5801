package cases

import (
	"fmt"
	"testing"

	"github.com/interop-suite/interop/conformance/registry"
)

// In the full plan of 14 implementations, every window of ten cells in
// run order (ten Ginkgo processes) holds at most three cells involving any
// one implementation other than the reference, and every cell is kept
// exactly once. In ID order a window held ten cells of one implementation.
func TestSpreadKeepsHeavyImplementationsApart(t *testing.T) {
	all := impls("c", "cpp", "csharp", "java", "jupyter", "lua", "node", "perl", "python", "ruby", "rust", "scala", "swift")
	cells, err := Plan(all, library, Options{Depth: Full})
	if err != nil {
		t.Fatal(err)
	}
	worst := func(order []Cell, window int) (string, int) {
		name, most := "", 0
		for i := 0; i+window <= len(order); i++ {
			count := map[string]int{}
			for _, c := range order[i : i+window] {
				count[c.Client]++
				if c.Server != c.Client {
					count[c.Server]++
				}
			}
			for n, k := range count {
				if n != registry.ReferenceName && k > most {
					name, most = n, k
				}
			}
		}
		return name, most
	}
	if n, k := worst(cells, 10); k < 10 {
		t.Fatalf("the test's premise: ID order should put 10 cells of one implementation together, got %d (%s)", k, n)
	}
	spread := Spread(cells)
	if n, k := worst(spread, 10); k > 3 {
		t.Errorf("after Spread, a window of 10 cells holds %d involving %s", k, n)
	}
	if len(spread) != len(cells) {
		t.Fatalf("Spread returned %d cells of %d", len(spread), len(cells))
	}
	seen := map[string]bool{}
	for _, c := range spread {
		if seen[c.ID()] {
			t.Fatalf("%s twice", c.ID())
		}
		seen[c.ID()] = true
	}
	if fmt.Sprint(Spread(cells)) != fmt.Sprint(spread) {
		t.Error("Spread is not deterministic")
	}
}
