package cases

import "sort"

// Spread orders cells for running so that the cells that run at the same
// time involve different implementations. Ginkgo hands specs to its
// processes in order (sorted by text: the suite prefixes each cell's
// text with its place in this order); in ID order all ten processes got
// "hello/jupyter-x-..." cells at once, ten notebook kernels on 2 cores,
// and notebook clients that need 3 CPU-seconds took 25-30 s and ran into
// their 30 s limit. Spread takes one cell of every pair in turn (a pair
// keeps its own cells in ID order), and orders the pairs by the distance
// between their two implementations in the sorted list of names, so that
// neighbouring pairs share no implementation: (a,a) (b,b) ... (a,b) (b,c)
// ... It returns a new slice; the result is a pure function of the cells.
func Spread(cells []Cell) []Cell {
	type pair struct{ client, server string }
	groups := map[pair][]Cell{}
	names := map[string]bool{}
	for _, c := range cells {
		p := pair{c.Client, c.Server}
		groups[p] = append(groups[p], c)
		names[c.Client], names[c.Server] = true, true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	index := map[string]int{}
	for i, n := range sorted {
		index[n] = i
	}
	n := len(sorted)
	pairs := make([]pair, 0, len(groups))
	for p, g := range groups {
		sort.SliceStable(g, func(a, b int) bool { return g[a].ID() < g[b].ID() })
		pairs = append(pairs, p)
	}
	distance := func(p pair) int { return ((index[p.server]-index[p.client])%n + n) % n }
	sort.Slice(pairs, func(a, b int) bool {
		da, db := distance(pairs[a]), distance(pairs[b])
		if da != db {
			return da < db
		}
		return index[pairs[a].client] < index[pairs[b].client]
	})
	out := make([]Cell, 0, len(cells))
	for round := 0; len(out) < len(cells); round++ {
		for _, p := range pairs {
			if g := groups[p]; round < len(g) {
				out = append(out, g[round])
			}
		}
	}
	return out
}
