package report

import (
	"cmp"
	"slices"

	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
)

// roleOrder is the order roles are listed in summaries.
var roleOrder = []registry.Role{registry.HelloClient, registry.HelloServer, registry.RUDPSender, registry.RUDPReceiver}

// RoleResult is how one implementation's role did against the reference:
// the question a group asks first ("does my sender work?").
type RoleResult struct {
	Role   string
	Class  Class // worst over the supported groups against the reference
	Passed int   // groups against the reference all of whose seeds passed
	Total  int   // supported groups against the reference
	Ran    bool  // any group against the reference exists
}

// ImplSummary is one row of the per-implementation table.
type ImplSummary struct {
	Name, Language string
	Error          string // broken manifest or failed build
	Roles          []RoleResult
	// Pairs counts (protocol, client, server) combinations the
	// implementation is part of and that have a supported cell; a pair
	// passes when every seed of every supported cell passes.
	PairsPassed, Pairs   int
	GroupsPassed, Groups int
	Prev                 *ImplPrev // nil without a previous run
}

// ImplPrev is the same implementation in the previous run.
type ImplPrev struct {
	PairsPassed, Pairs   int
	GroupsPassed, Groups int
	Fixed, Broken        int // groups that now pass / now fail
}

// DeltaPairs is the change in passed pairs since the previous run.
func (s ImplSummary) DeltaPairs() int {
	if s.Prev == nil {
		return 0
	}
	return s.PairsPassed - s.Prev.PairsPassed
}

func implNames(run *results.Run, groups []*Group) []string {
	seen := map[string]bool{}
	for _, im := range run.Impls {
		seen[im.Name] = true
	}
	for _, g := range groups {
		seen[g.Client], seen[g.Server] = true, true
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	slices.SortFunc(out, compareImpls)
	return out
}

// countPairs counts the pairs name takes part in and how many passed.
func countPairs(name string, groups []*Group) (passed, total, gPassed, gTotal int) {
	type pk struct{ proto, client, server string }
	ok := map[pk]bool{}
	for _, g := range groups {
		if (g.Client != name && g.Server != name) || g.Class == ClassUnsupported {
			continue
		}
		k := pk{g.Key.Protocol, g.Client, g.Server}
		prev, seen := ok[k]
		ok[k] = (prev || !seen) && g.AllPassed()
		gTotal++
		if g.AllPassed() {
			gPassed++
		}
	}
	for _, v := range ok {
		if v {
			passed++
		}
	}
	return passed, len(ok), gPassed, gTotal
}

func roleResults(name string, groups []*Group) []RoleResult {
	ref := registry.ReferenceName
	var out []RoleResult
	for _, role := range roleOrder {
		rr := RoleResult{Role: string(role), Class: ClassUnsupported}
		worst := Class(-1)
		for _, g := range groups {
			if !groupHasRole(g, name, ref, role) {
				continue
			}
			rr.Ran = true
			if g.Class == ClassUnsupported {
				continue
			}
			rr.Total++
			if g.AllPassed() {
				rr.Passed++
			}
			worst = max(worst, g.Class)
		}
		if worst >= 0 {
			rr.Class = worst
		}
		out = append(out, rr)
	}
	return out
}

// groupHasRole reports whether g is name playing role against the reference.
func groupHasRole(g *Group, name, ref string, role registry.Role) bool {
	var proto, me, other string
	switch role {
	case registry.HelloClient:
		proto, me, other = "hello", g.Client, g.Server
	case registry.HelloServer:
		proto, me, other = "hello", g.Server, g.Client
	case registry.RUDPSender:
		proto, me, other = "rudp", g.Client, g.Server
	case registry.RUDPReceiver:
		proto, me, other = "rudp", g.Server, g.Client
	}
	return g.Key.Protocol == proto && me == name && other == ref
}

func buildSummaries(run *results.Run, groups []*Group, prev []*Group) []ImplSummary {
	info := map[string]results.ImplInfo{}
	for _, im := range run.Impls {
		info[im.Name] = im
	}
	prevByID := map[string]*Group{}
	for _, g := range prev {
		prevByID[g.ID] = g
	}
	var out []ImplSummary
	for _, name := range implNames(run, groups) {
		s := ImplSummary{Name: name, Language: info[name].Language, Error: info[name].Error, Roles: roleResults(name, groups)}
		s.PairsPassed, s.Pairs, s.GroupsPassed, s.Groups = countPairs(name, groups)
		if prev != nil {
			p := &ImplPrev{}
			p.PairsPassed, p.Pairs, p.GroupsPassed, p.Groups = countPairs(name, prev)
			for _, g := range groups {
				if g.Client != name && g.Server != name {
					continue
				}
				switch changeOf(prevByID[g.ID], g) {
				case changeFixed:
					p.Fixed++
				case changeBroken:
					p.Broken++
				}
			}
			s.Prev = p
		}
		out = append(out, s)
	}
	return out
}

// Change is one group whose class differs from the previous run's.
type Change struct {
	Group  *Group
	Before Class
}

// Changes compares the run with the previous one, group by group.
type Changes struct {
	Broken  []Change // passed before, fails now
	Fixed   []Change // failed before, passes now
	Changed []Change // another change of class (e.g. strict to lenient)
	Added   []*Group // not in the previous run
	Removed []string // in the previous run only
}

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	return len(c.Broken)+len(c.Fixed)+len(c.Changed)+len(c.Added)+len(c.Removed) == 0
}

type changeKind int

const (
	changeNone changeKind = iota
	changeAdded
	changeBroken
	changeFixed
	changeOther
)

func changeOf(before, now *Group) changeKind {
	switch {
	case before == nil:
		return changeAdded
	case before.Class == now.Class:
		return changeNone
	case before.AllPassed() && !now.AllPassed() && now.Class != ClassUnsupported:
		return changeBroken
	case !before.AllPassed() && before.Class != ClassUnsupported && now.AllPassed():
		return changeFixed
	}
	return changeOther
}

func buildChanges(groups, prev []*Group) *Changes {
	c := &Changes{}
	prevByID := map[string]*Group{}
	for _, g := range prev {
		prevByID[g.ID] = g
	}
	seen := map[string]bool{}
	for _, g := range groups {
		seen[g.ID] = true
		b := prevByID[g.ID]
		switch changeOf(b, g) {
		case changeAdded:
			c.Added = append(c.Added, g)
		case changeBroken:
			c.Broken = append(c.Broken, Change{g, b.Class})
		case changeFixed:
			c.Fixed = append(c.Fixed, Change{g, b.Class})
		case changeOther:
			c.Changed = append(c.Changed, Change{g, b.Class})
		}
	}
	for _, g := range prev {
		if !seen[g.ID] {
			c.Removed = append(c.Removed, g.ID)
		}
	}
	slices.SortFunc(c.Removed, cmp.Compare)
	return c
}
