package cases

import (
	"slices"
	"testing"
	"time"
)

func TestShardCoversEveryCellOnceAndKeepsGroupsTogether(t *testing.T) {
	cells, _ := Plan(impls("a", "b", "c", "d"), library, Options{Depth: Full, Seeds: 3})
	for _, costs := range []*Costs{nil, NewCosts(map[string]time.Duration{cells[0].ID(): time.Hour}, cells)} {
		for n := 1; n <= 5; n++ {
			count := map[string]int{}
			shardOfGroup := map[string]int{}
			for i := 1; i <= n; i++ {
				for _, c := range Shard(cells, i, n, costs) {
					count[c.ID()]++
					if s, ok := shardOfGroup[c.Group()]; ok && s != i {
						t.Fatalf("n=%d: group %s split over shards %d and %d", n, c.Group(), s, i)
					}
					shardOfGroup[c.Group()] = i
				}
			}
			for _, c := range cells {
				if count[c.ID()] != 1 {
					t.Fatalf("n=%d: cell %s in %d shards", n, c.ID(), count[c.ID()])
				}
			}
		}
	}
}

func TestShardBalancesMeasuredCost(t *testing.T) {
	cells, _ := Plan(impls("a", "b", "c"), library, Options{Depth: Standard, Seeds: 2})
	// Make every "a" cell ten times as costly as the others: a count-based
	// deal would give one shard far more time than the rest.
	measured := map[string]time.Duration{}
	var total time.Duration
	for _, c := range cells {
		d := 2 * time.Second
		if c.Client == "a" {
			d = 20 * time.Second
		}
		measured[c.ID()] = d
		total += d
	}
	costs := NewCosts(measured, cells)
	if costs.Measured != len(cells) {
		t.Fatalf("measured %d of %d cells", costs.Measured, len(cells))
	}
	const n = 3
	loads := ShardLoads(Deal(cells, n, costs), costs)
	var biggestGroup time.Duration
	groupCost := map[string]time.Duration{}
	for _, c := range cells {
		groupCost[c.Group()] += measured[c.ID()]
		biggestGroup = max(biggestGroup, groupCost[c.Group()])
	}
	// Longest-processing-time first is within one group of the ideal.
	ideal := total / n
	if m := slices.Max(loads); m > ideal+biggestGroup {
		t.Fatalf("largest shard %v, ideal %v, biggest group %v: loads %v", m, ideal, biggestGroup, loads)
	}
	if m := slices.Min(loads); m < ideal-biggestGroup {
		t.Fatalf("smallest shard %v, ideal %v: loads %v", m, ideal, loads)
	}
}

func TestShardIsDeterministic(t *testing.T) {
	cells, _ := Plan(impls("a", "b", "c"), library, Options{Depth: Standard, Seeds: 3})
	reversed := slices.Clone(cells)
	slices.Reverse(reversed)
	for i := 1; i <= 4; i++ {
		a, b := ids(Shard(cells, i, 4, nil)), ids(Shard(reversed, i, 4, nil))
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("shard %d/4 depends on the order cells are listed in", i)
		}
	}
}

func TestCostsEstimateUnmeasuredCells(t *testing.T) {
	old := Cell{Protocol: RUDP, Client: "a", Server: "b", Scenario: "loss-10", Size: Size1M, Seed: 1}
	sameKind := Cell{Protocol: RUDP, Client: "new", Server: "b", Scenario: "loss-10", Size: Size1M, Seed: 1}
	sameProto := Cell{Protocol: RUDP, Client: "new", Server: "b", Scenario: "clean", Size: SizeEmpty, Seed: 1}
	hello := Cell{Protocol: Hello, Client: "new", Server: "b", Scenario: "tcp-clean", Seed: 1}
	costs := NewCosts(map[string]time.Duration{old.ID(): 40 * time.Second}, []Cell{old})
	for _, tc := range []struct {
		c    Cell
		want time.Duration
	}{{old, 40 * time.Second}, {sameKind, 40 * time.Second}, {sameProto, 40 * time.Second}, {hello, guess(hello)}} {
		if got := costs.Of(tc.c); got != tc.want {
			t.Errorf("cost of %s = %v, want %v", tc.c.ID(), got, tc.want)
		}
	}
}

func ids(cells []Cell) []string {
	var out []string
	for _, c := range cells {
		out = append(out, c.ID())
	}
	return out
}

func TestEveryProbeHasAGuess(t *testing.T) {
	for _, p := range Probes {
		if probeGuess[p.Name] <= 0 {
			t.Errorf("probe %s has no cost guess", p.Name)
		}
	}
}
