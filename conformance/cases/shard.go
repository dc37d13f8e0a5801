package cases

import (
	"cmp"
	"slices"
	"time"
)

// Costs estimates how long each cell takes, from a previous run's measured
// wall times, so shards can be balanced by time rather than by count: an
// RUDP 1 MiB cell under heavy loss costs many Hello cells.
type Costs struct {
	byID     map[string]time.Duration
	byKind   map[string]avg // protocol/scenario/size: cells of the same kind cost alike
	byProto  map[Protocol]avg
	Measured int // cells of the plan with a measured time
}

type avg struct {
	sum time.Duration
	n   int
}

func (a avg) mean() time.Duration { return a.sum / time.Duration(a.n) }

// NewCosts builds the estimate from measured wall times by cell id.
func NewCosts(measured map[string]time.Duration, cells []Cell) *Costs {
	c := &Costs{byID: measured, byKind: map[string]avg{}, byProto: map[Protocol]avg{}}
	for _, cell := range cells {
		d, ok := measured[cell.ID()]
		if !ok {
			continue
		}
		c.Measured++
		k := kind(cell)
		a := c.byKind[k]
		c.byKind[k] = avg{a.sum + d, a.n + 1}
		p := c.byProto[cell.Protocol]
		c.byProto[cell.Protocol] = avg{p.sum + d, p.n + 1}
	}
	return c
}

func kind(c Cell) string { return string(c.Protocol) + "/" + c.Scenario + "/" + c.Size.Name }

// Of estimates one cell: its own measured time, else the mean of measured
// cells of its kind, else of its protocol, else a fixed guess. Cells new
// since the previous run (a new implementation, a new scenario) thus get a
// sensible weight instead of zero.
func (c *Costs) Of(cell Cell) time.Duration {
	if c != nil {
		if d, ok := c.byID[cell.ID()]; ok {
			return d
		}
		if a, ok := c.byKind[kind(cell)]; ok {
			return a.mean()
		}
		if a, ok := c.byProto[cell.Protocol]; ok {
			return a.mean()
		}
	}
	return guess(cell)
}

// guess is the cost of a cell nothing was measured for.
func guess(c Cell) time.Duration {
	if p, ok := c.Probe(); ok {
		return probeGuess[p.Name]
	}
	if c.Protocol == Hello {
		return 3 * time.Second
	}
	if c.Size.Bytes >= Size1M.Bytes {
		return 20 * time.Second
	}
	return 8 * time.Second
}

// Deal splits the cells into n shards, dealing whole groups (all seeds of
// a cell stay together, so a pass rate is computed in one place) by
// estimated cost: the costliest group first, each to the shard with the
// least work so far (longest-processing-time first). The deal is
// deterministic: every shard job computes the same plan from the same cells
// and costs, so every cell lands in exactly one shard. Cells keep their
// order within a shard.
func Deal(cells []Cell, n int, costs *Costs) [][]Cell {
	type group struct {
		name string
		cost time.Duration
	}
	var groups []*group
	byName := map[string]*group{}
	for _, c := range cells {
		g, ok := byName[c.Group()]
		if !ok {
			g = &group{name: c.Group()}
			byName[g.name] = g
			groups = append(groups, g)
		}
		g.cost += costs.Of(c)
	}
	slices.SortFunc(groups, func(a, b *group) int {
		if d := cmp.Compare(b.cost, a.cost); d != 0 {
			return d
		}
		return cmp.Compare(a.name, b.name)
	})
	load := make([]time.Duration, n)
	shardOf := map[string]int{}
	for _, g := range groups {
		least := 0
		for s := 1; s < n; s++ {
			if load[s] < load[least] {
				least = s
			}
		}
		load[least] += g.cost
		shardOf[g.name] = least
	}
	shards := make([][]Cell, n)
	for _, c := range cells {
		s := shardOf[c.Group()]
		shards[s] = append(shards[s], c)
	}
	return shards
}

// Shard returns the cells of shard i (1-based) of n in Deal's plan.
func Shard(cells []Cell, i, n int, costs *Costs) []Cell {
	return Deal(cells, n, costs)[i-1]
}

// ShardLoads is the estimated work of each shard of Deal's plan, for
// printing it.
func ShardLoads(shards [][]Cell, costs *Costs) []time.Duration {
	loads := make([]time.Duration, len(shards))
	for i, shard := range shards {
		for _, c := range shard {
			loads[i] += costs.Of(c)
		}
	}
	return loads
}

// probeGuess is what each Hello probe costs with a conforming program: the
// silent-server probe waits for the client to give up (the reference: 10 s),
// reply-no-newline for its idle gap, silent-client and second-client run
// three and two programs.
var probeGuess = map[string]time.Duration{
	"no-newline-eof": 3 * time.Second, "no-newline-idle": 4 * time.Second, "half-close": 3 * time.Second,
	"second-client": 5 * time.Second, "silent-client": 6 * time.Second,
	"reply-no-newline": 5 * time.Second, "refused": 3 * time.Second, "silent-server": 13 * time.Second,
}
