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

// The Hello probes (spec/hello.md, "Cases") run at standard and full, once
// per implementation and probe against the reference (server probes with the
// reference client, client probes with the reference server or none), plus
// reference against itself; never at smoke, never between two students.
func TestPlanProbes(t *testing.T) {
	probeCellsOf := func(cells []Cell) map[string]Cell {
		out := map[string]Cell{}
		for _, c := range cells {
			if _, ok := c.Probe(); ok {
				out[c.ID()] = c
			}
		}
		return out
	}
	smoke, err := Plan(impls("a", "b"), library, Options{Depth: Smoke})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(probeCellsOf(smoke)); n != 0 {
		t.Errorf("smoke has %d probe cells, want none (CI runs it on every pull request)", n)
	}
	for _, d := range []Depth{Standard, Full} {
		cells, err := Plan(impls("a", "b"), library, Options{Depth: d})
		if err != nil {
			t.Fatal(err)
		}
		got := probeCellsOf(cells)
		if want := 3 * len(Probes); len(got) != want {
			t.Errorf("%s: %d probe cells, want %d (8 probes x a, b and the reference)", d, len(got), want)
		}
		for _, id := range []string{
			"hello/reference-x-a/probe-no-newline-eof/seed-1", "hello/reference-x-b/probe-silent-client/seed-1",
			"hello/a-x-reference/probe-refused/seed-1", "hello/b-x-reference/probe-reply-no-newline/seed-1",
			"hello/reference-x-reference/probe-second-client/seed-1", "hello/reference-x-reference/probe-silent-server/seed-1",
		} {
			if _, ok := got[id]; !ok {
				t.Errorf("%s lacks %s", d, id)
			}
		}
		for id, c := range got {
			p, _ := c.Probe()
			other := c.Client
			if p.Tests == ClientSide {
				other = c.Server
			}
			if other != registry.ReferenceName {
				t.Errorf("%s: the %s probe %s must run against the reference, not %s", id, p.Tests, p.Name, other)
			}
			if c.Seeds != 1 || c.Seed != 1 || c.Feature != "" {
				t.Errorf("%s: seeds %d, seed %d, feature %q; want one seed, no feature", id, c.Seeds, c.Seed, c.Feature)
			}
			labels := strings.Join(c.Labels(), " ")
			if !strings.Contains(labels, "probe:"+p.Name) || strings.Contains(labels, "net:") || !strings.Contains(labels, "vs-reference") {
				t.Errorf("%s: labels %q", id, labels)
			}
		}
	}
	// INTEROP_SCENARIOS selects probes by their scenario name, and only then.
	only, err := Plan(impls("a"), library, Options{Depth: Standard, Scenarios: []string{"probe-refused", "tcp-clean"}})
	if err != nil {
		t.Fatal(err)
	}
	got := probeCellsOf(only)
	if len(got) != 2 || got["hello/a-x-reference/probe-refused/seed-1"].Client != "a" || got["hello/reference-x-reference/probe-refused/seed-1"].Client != registry.ReferenceName {
		t.Errorf("INTEROP_SCENARIOS=probe-refused,tcp-clean: probe cells %v", got)
	}
	if _, err := Plan(impls(), library, Options{Depth: Standard, Scenarios: []string{"probe-nope"}}); err == nil {
		t.Error("an unknown probe must be an unknown scenario")
	}
}

func TestProbeCellsAreHelloOnly(t *testing.T) {
	c := Cell{Protocol: RUDP, Client: "a", Server: "reference", Scenario: "probe-refused"}
	if _, ok := c.Probe(); ok {
		t.Error("an RUDP cell is never a probe")
	}
	c.Protocol = Hello
	if p, ok := c.Probe(); !ok || p.Tests != ClientSide {
		t.Errorf("probe-refused: %+v %v", p, ok)
	}
}
