package results

import (
	"fmt"

	"github.com/interop-suite/interop/conformance/cases"
)

const reference = "reference"

// AssignBlame decides, for every failing cell, whose bug it is, by looking
// at the same protocol, scenario, feature and size against the reference:
// a client that also fails against the reference server has its own bug; a
// pair whose members both pass against the reference has a pair issue
// (they disagree on something the spec leaves open, or one is lenient in
// a way the other is not).
func AssignBlame(rs []Result) {
	type key struct {
		proto                             cases.Protocol
		client, server, scenario, feature string
		size                              string
	}
	k := func(c cases.Cell, client, server string) key {
		return key{c.Protocol, client, server, c.Scenario, c.Feature, c.Size.Name}
	}
	// passed[k] is true when every seed passed, false when any failed.
	passed := map[key]bool{}
	for _, r := range rs {
		kk := k(r.Cell, r.Cell.Client, r.Cell.Server)
		ok := r.Verdict.Passed()
		if prev, seen := passed[kk]; seen {
			ok = ok && prev
		}
		if r.Verdict == Fail || r.Verdict.Passed() {
			passed[kk] = ok
		}
	}
	for i := range rs {
		r := &rs[i]
		if r.Verdict != Fail {
			continue
		}
		c := r.Cell
		switch {
		case c.Client == reference && c.Server == reference:
			r.Blame = "reference"
			r.Reason += "\nblame: the reference fails against itself: a bug in the suite or the reference, not in any student's code."
			continue
		case c.Client == reference:
			r.Blame = "server"
			continue
		case c.Server == reference:
			r.Blame = "client"
			continue
		}
		clientOK, cKnown := passed[k(c, c.Client, reference)]
		serverOK, sKnown := passed[k(c, reference, c.Server)]
		if !cKnown || !sKnown {
			continue // not measured against the reference in this run: keep the judge's view
		}
		switch {
		case !clientOK && !serverOK:
			r.Blame = "both"
			r.Reason += fmt.Sprintf("\nblame: both: %s also fails as %s against the reference, and %s also fails as %s against the reference.", c.Client, c.ClientRole(), c.Server, c.ServerRole())
		case !clientOK:
			r.Blame = "client"
			r.Reason += fmt.Sprintf("\nblame: %s: its %s also fails against the reference in this scenario; %s passes against the reference.", c.Client, c.ClientRole(), c.Server)
		case !serverOK:
			r.Blame = "server"
			r.Reason += fmt.Sprintf("\nblame: %s: its %s also fails against the reference in this scenario; %s passes against the reference.", c.Server, c.ServerRole(), c.Client)
		default:
			r.Blame = "pair"
			r.Reason += fmt.Sprintf("\nblame: pair: %s and %s each pass against the reference here, but not with each other.", c.Client, c.Server)
		}
	}
}
