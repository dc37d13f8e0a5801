package cases

import (
	"sort"
	"strings"
	"testing"

	"github.com/interop-suite/interop/conformance/registry"
)

var library = []Scenario{
	{Name: "clean"}, {Name: "loss-10", Lossy: true}, {Name: "mixed", Lossy: true}, {Name: "blackout"},
	{Name: "tcp-clean", TCP: true}, {Name: "tcp-tiny-segments", TCP: true, Lossy: true},
}

func impls(names ...string) []registry.Impl {
	out := []registry.Impl{registry.Reference()}
	for _, n := range names {
		out = append(out, registry.Impl{Name: n})
	}
	return out
}

func TestPlanSmoke(t *testing.T) {
	cells, err := Plan(impls("c", "rust"), library, Options{Depth: Smoke})
	if err != nil {
		t.Fatal(err)
	}
	// 5 pairs (ref-ref, c-ref, ref-c, rust-ref, ref-rust) x (hello + 3 clean sizes + 2 seeds of loss-10)
	if len(cells) != 5*(1+3+2) {
		t.Fatalf("got %d cells", len(cells))
	}
	for _, c := range cells {
		if c.Client != registry.ReferenceName && c.Server != registry.ReferenceName {
			t.Errorf("smoke must only pair with the reference: %s", c.ID())
		}
	}
	if !sort.SliceIsSorted(cells, func(a, b int) bool { return cells[a].ID() < cells[b].ID() }) {
		t.Error("cells must be sorted")
	}
}

func TestPlanStandardAndFull(t *testing.T) {
	std, err := Plan(impls("a", "b", "c"), library, Options{Depth: Standard, Seeds: 3})
	if err != nil {
		t.Fatal(err)
	}
	full, err := Plan(impls("a", "b", "c"), library, Options{Depth: Full, Seeds: 3})
	if err != nil {
		t.Fatal(err)
	}
	has := func(cells []Cell, id string) bool {
		for _, c := range cells {
			if c.ID() == id {
				return true
			}
		}
		return false
	}
	for _, id := range []string{
		"rudp/a-x-b/clean/1m/seed-1", "rudp/a-x-b/mixed/256k/seed-3", "hello/b-x-a/tcp-clean/seed-1",
		"rudp/a-x-reference/blackout/256k/seed-1", "hello/reference-x-c/tcp-tiny-segments/seed-2",
		"rudp/reference-x-b/loss-10+sack/256k/seed-1", "hello/a-x-reference/tcp-clean+challenge/seed-1",
	} {
		if !has(std, id) {
			t.Errorf("standard lacks %s", id)
		}
	}
	if has(std, "rudp/a-x-b/blackout/256k/seed-1") {
		t.Error("standard must not run every scenario for non-reference pairs")
	}
	if !has(full, "rudp/a-x-b/blackout/256k/seed-1") || len(full) <= len(std) {
		t.Error("full must run every pair in every scenario")
	}
	seen := map[string]bool{}
	for _, c := range full {
		if seen[c.ID()] {
			t.Fatalf("duplicate cell %s", c.ID())
		}
		seen[c.ID()] = true
		for _, l := range c.Labels() {
			if strings.ContainsAny(l, "&|!,()/") {
				t.Fatalf("label %q has a character Ginkgo forbids", l)
			}
		}
	}
}

func TestPlanRejectsUnknownScenario(t *testing.T) {
	if _, err := Plan(impls(), library, Options{Depth: Smoke, Scenarios: []string{"nope"}}); err == nil {
		t.Fatal("unknown scenario must be an error")
	}
	if _, err := ParseDepth("deep"); err == nil {
		t.Fatal("unknown depth must be an error")
	}
}

func TestPortIsStablePerGroup(t *testing.T) {
	a := Cell{Protocol: RUDP, Client: "a", Server: "b", Scenario: "clean", Size: Size1M, Seed: 1}
	b := a
	b.Seed = 2
	if a.Port() != b.Port() || a.Port() < 20000 || a.Port() >= 40000 {
		t.Fatalf("ports %d %d", a.Port(), b.Port())
	}
}

// "Me against everyone" keeps the cells of the named implementations and
// the reference's own impaired RUDP cells, the speed table's baseline.
func TestFilterKeepsTheSpeedBaseline(t *testing.T) {
	cells, err := Plan(impls("c", "rust"), library, Options{Depth: Standard, Seeds: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range Filter(cells, []string{"c"}) {
		got[c.ID()] = true
		if c.Client != "c" && c.Server != "c" && !c.speedBaseline() {
			t.Errorf("%s involves neither c nor is it the speed baseline", c.ID())
		}
	}
	for _, id := range []string{
		"rudp/c-x-rust/clean/1m/seed-1",
		"rudp/reference-x-c/loss-10/1m/seed-2",
		"rudp/reference-x-reference/loss-10/1m/seed-1",
		"rudp/reference-x-reference/blackout/256k/seed-1",
	} {
		if !got[id] {
			t.Errorf("missing %s", id)
		}
	}
	for _, id := range []string{
		"rudp/reference-x-reference/clean/1m/seed-1",
		"hello/reference-x-reference/tcp-clean/seed-1",
		"rudp/rust-x-reference/loss-10/1m/seed-1",
	} {
		if got[id] {
			t.Errorf("%s should not be in c's run", id)
		}
	}
	if n := len(Filter(cells, nil)); n != len(cells) {
		t.Errorf("no filter kept %d of %d cells", n, len(cells))
	}
}
