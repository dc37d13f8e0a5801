package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/netsim"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
)

// Group is one matrix cell: a planned cell across its seeds.
type Group struct {
	ID    string // the results' group: the id without the seed
	Index int    // position in Model.Groups; names the cell in the HTML
	Key   MatrixKey
	// Client and Server are the implementations (the row and the column).
	Client, Server string
	Results        []*results.Result // ordered by seed
	Class          Class             // the worst class of its results
	Passed         int               // results whose verdict is a pass
}

// Runs is how many seeds ran.
func (g *Group) Runs() int { return len(g.Results) }

// MultiSeed reports whether the group is a multi-seed cell, which shows
// its pass rate.
func (g *Group) MultiSeed() bool {
	return len(g.Results) > 1 || (len(g.Results) == 1 && g.Results[0].Cell.Seeds > 1)
}

// Rate is the pass rate as "passed/ran".
func (g *Group) Rate() string { return fmt.Sprintf("%d/%d", g.Passed, len(g.Results)) }

// AllPassed reports whether every seed passed.
func (g *Group) AllPassed() bool { return g.Passed == len(g.Results) && len(g.Results) > 0 }

// MatrixKey names one matrix: a protocol under one scenario (with its
// feature and file size for RUDP).
type MatrixKey struct {
	Protocol string
	Scenario string
	Feature  string
	Size     cases.Size
}

// Title is the matrix heading, e.g. "RUDP · loss-10 + sack · 256k".
func (k MatrixKey) Title() string {
	s := protocolTitle(k.Protocol) + " · " + k.Scenario
	if k.Feature != "" {
		s += " + " + k.Feature
	}
	if k.Size.Name != "" {
		s += " · " + k.Size.Name
	}
	return s
}

// Slug is the key as one token, for filters and anchors.
func (k MatrixKey) Slug() string {
	s := k.Protocol + "-" + k.Scenario
	if k.Feature != "" {
		s += "-" + k.Feature
	}
	if k.Size.Name != "" {
		s += "-" + k.Size.Name
	}
	return s
}

func protocolTitle(p string) string {
	switch p {
	case string(cases.Hello):
		return "Hello"
	case string(cases.RUDP):
		return "RUDP"
	}
	return p
}

// Matrix is one client×server table.
type Matrix struct {
	Key         MatrixKey
	Description string // the scenario in words, from the simulator's library
	Clients     []string
	Servers     []string
	Cells       [][]*Group // [client][server]; nil where no cell ran
	Groups      int
	Counts      [numClasses]int
}

// Pair is an overview cell: everything a client and a server did together
// under one protocol.
type Pair struct {
	Protocol, Client, Server string
	Groups                   []*Group
	Class                    Class // worst over the supported groups
	Passed, Supported        int   // groups all of whose seeds passed; groups not unsupported
}

// Overview is the per-protocol pair matrix.
type Overview struct {
	Protocol string
	Clients  []string
	Servers  []string
	Cells    [][]*Pair
}

// scenarioOrder is the simulator library's order (clean first, then
// growing trouble), so matrices read from easy to hard.
var scenarioOrder = func() map[string]int {
	m := map[string]int{}
	for i, s := range netsim.Scenarios() {
		m[s.Name] = i
	}
	return m
}()

func scenarioDescription(name string) string {
	if p, ok := cases.ProbeScenario(name); ok {
		return "Hello probe (" + p.Requirements + "): " + p.Description
	}
	for _, s := range netsim.Scenarios() {
		if s.Name == name {
			return s.Description
		}
	}
	return ""
}

func compareKeys(a, b MatrixKey) int {
	if c := cmp.Compare(protocolRank(a.Protocol), protocolRank(b.Protocol)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Protocol, b.Protocol); c != 0 {
		return c
	}
	ra, oka := scenarioOrder[a.Scenario]
	rb, okb := scenarioOrder[b.Scenario]
	switch {
	case oka && !okb:
		return -1
	case !oka && okb:
		return 1
	case oka && okb && ra != rb:
		return cmp.Compare(ra, rb)
	}
	if c := cmp.Compare(a.Scenario, b.Scenario); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Feature, b.Feature); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Size.Bytes, b.Size.Bytes); c != 0 {
		return c
	}
	return cmp.Compare(a.Size.Name, b.Size.Name)
}

func protocolRank(p string) int {
	switch p {
	case string(cases.Hello):
		return 0
	case string(cases.RUDP):
		return 1
	}
	return 2
}

// compareImpls puts the reference first, then the others by name: every
// matrix starts with the row and column students compare against.
func compareImpls(a, b string) int {
	ra, rb := a == registry.ReferenceName, b == registry.ReferenceName
	switch {
	case ra && !rb:
		return -1
	case rb && !ra:
		return 1
	}
	return cmp.Compare(a, b)
}

// groupID is the result's group, derived from its cell when the field is
// missing (older or hand-written files).
func groupID(r *results.Result) string {
	if r.Group != "" {
		return r.Group
	}
	if i := strings.LastIndex(r.ID, "/seed-"); i > 0 {
		return r.ID[:i]
	}
	return r.Cell.Group()
}

// buildGroups collects results into groups, sorted by id; results within a
// group are sorted by seed, then id.
func buildGroups(run *results.Run) []*Group {
	byID := map[string]*Group{}
	var groups []*Group
	for i := range run.Results {
		r := &run.Results[i]
		id := groupID(r)
		g, ok := byID[id]
		if !ok {
			c := r.Cell
			g = &Group{ID: id, Client: c.Client, Server: c.Server,
				Key: MatrixKey{Protocol: string(c.Protocol), Scenario: c.Scenario, Feature: c.Feature, Size: c.Size}}
			byID[id] = g
			groups = append(groups, g)
		}
		g.Results = append(g.Results, r)
	}
	slices.SortFunc(groups, func(a, b *Group) int { return cmp.Compare(a.ID, b.ID) })
	for i, g := range groups {
		g.Index = i
		slices.SortFunc(g.Results, func(a, b *results.Result) int {
			if c := cmp.Compare(a.Cell.Seed, b.Cell.Seed); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		for _, r := range g.Results {
			c := ClassOf(r)
			g.Class = max(g.Class, c)
			if r.Verdict.Passed() {
				g.Passed++
			}
		}
	}
	return groups
}

// buildMatrices lays the groups out, one matrix per key. All matrices of a
// protocol share their axes (every client and server seen under that
// protocol), so rows line up from one matrix to the next.
func buildMatrices(groups []*Group) ([]*Matrix, []*Overview) {
	type axes struct{ clients, servers map[string]bool }
	perProto := map[string]*axes{}
	byKey := map[MatrixKey][]*Group{}
	for _, g := range groups {
		ax := perProto[g.Key.Protocol]
		if ax == nil {
			ax = &axes{map[string]bool{}, map[string]bool{}}
			perProto[g.Key.Protocol] = ax
		}
		ax.clients[g.Client], ax.servers[g.Server] = true, true
		byKey[g.Key] = append(byKey[g.Key], g)
	}
	sorted := func(m map[string]bool) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.SortFunc(out, compareImpls)
		return out
	}
	var keys []MatrixKey
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)

	var matrices []*Matrix
	for _, k := range keys {
		ax := perProto[k.Protocol]
		m := &Matrix{Key: k, Description: scenarioDescription(k.Scenario), Clients: sorted(ax.clients), Servers: sorted(ax.servers)}
		m.Cells = grid[*Group](m.Clients, m.Servers, byKey[k], func(g *Group) (string, string) { return g.Client, g.Server })
		for _, g := range byKey[k] {
			m.Groups++
			m.Counts[g.Class]++
		}
		matrices = append(matrices, m)
	}

	var protos []string
	for p := range perProto {
		protos = append(protos, p)
	}
	slices.SortFunc(protos, func(a, b string) int {
		return cmp.Or(cmp.Compare(protocolRank(a), protocolRank(b)), cmp.Compare(a, b))
	})
	var overviews []*Overview
	for _, p := range protos {
		ax := perProto[p]
		pairs := map[[2]string]*Pair{}
		var list []*Pair
		for _, g := range groups {
			if g.Key.Protocol != p {
				continue
			}
			k := [2]string{g.Client, g.Server}
			pr := pairs[k]
			if pr == nil {
				pr = &Pair{Protocol: p, Client: g.Client, Server: g.Server, Class: ClassUnsupported}
				pairs[k] = pr
				list = append(list, pr)
			}
			pr.Groups = append(pr.Groups, g)
		}
		for _, pr := range list {
			worst := Class(-1)
			for _, g := range pr.Groups {
				if g.Class == ClassUnsupported {
					continue
				}
				pr.Supported++
				if g.AllPassed() {
					pr.Passed++
				}
				worst = max(worst, g.Class)
			}
			if worst >= 0 {
				pr.Class = worst
			}
		}
		o := &Overview{Protocol: p, Clients: sorted(ax.clients), Servers: sorted(ax.servers)}
		o.Cells = grid[*Pair](o.Clients, o.Servers, list, func(p *Pair) (string, string) { return p.Client, p.Server })
		overviews = append(overviews, o)
	}
	return matrices, overviews
}

// grid places items at [client][server].
func grid[T any](clients, servers []string, items []T, at func(T) (string, string)) [][]T {
	ci, si := index(clients), index(servers)
	out := make([][]T, len(clients))
	for i := range out {
		out[i] = make([]T, len(servers))
	}
	for _, it := range items {
		c, s := at(it)
		out[ci[c]][si[s]] = it
	}
	return out
}

func index(names []string) map[string]int {
	m := make(map[string]int, len(names))
	for i, n := range names {
		m[n] = i
	}
	return m
}

// MatrixRow is one client's row of a matrix.
type MatrixRow struct {
	Client string
	Cells  []*Group
}

// Rows lists the matrix by client, for templates.
func (m *Matrix) Rows() []MatrixRow {
	out := make([]MatrixRow, len(m.Clients))
	for i, c := range m.Clients {
		out[i] = MatrixRow{c, m.Cells[i]}
	}
	return out
}

// OverviewRow is one client's row of an overview.
type OverviewRow struct {
	Client string
	Cells  []*Pair
}

// Rows lists the overview by client, for templates.
func (o *Overview) Rows() []OverviewRow {
	out := make([]OverviewRow, len(o.Clients))
	for i, c := range o.Clients {
		out[i] = OverviewRow{c, o.Cells[i]}
	}
	return out
}

// Failing names the pair's matrices whose cells did not all pass.
func (p *Pair) Failing() []string {
	var out []string
	for _, g := range p.Groups {
		if g.Class != ClassUnsupported && !g.AllPassed() {
			out = append(out, g.Key.Title())
		}
	}
	return out
}
