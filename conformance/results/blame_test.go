package results

import (
	"strings"
	"testing"

	"github.com/interop-suite/interop/conformance/cases"
)

func res(client, server string, v Verdict) Result {
	return Result{Cell: cases.Cell{Protocol: cases.RUDP, Client: client, Server: server, Scenario: "loss-10", Size: cases.Size1M}, Verdict: v, Reason: "x"}
}

func TestAssignBlame(t *testing.T) {
	rs := []Result{
		res("a", "reference", Pass), res("reference", "a", Pass),
		res("b", "reference", Fail), res("reference", "b", Pass),
		res("c", "reference", Pass), res("reference", "c", Fail),
		res("b", "a", Fail), // b's sender is broken
		res("b", "c", Fail), // both broken
		res("a", "c", Fail), // c's receiver is broken
		res("a", "b", Fail), // a's sender and b's receiver pass against the reference: pair issue
		res("reference", "reference", Fail),
		res("x", "y", Fail), // never measured against the reference
	}
	AssignBlame(rs)
	want := []string{"", "", "client", "", "", "server", "client", "both", "server", "pair", "reference", ""}
	for i, r := range rs {
		if r.Blame != want[i] {
			t.Errorf("%s-x-%s: blame %q, want %q (%s)", r.Cell.Client, r.Cell.Server, r.Blame, want[i], r.Reason)
		}
	}
	if !strings.Contains(rs[6].Reason, "blame: b: its rudp-sender also fails against the reference") {
		t.Errorf("reason must explain the blame: %q", rs[6].Reason)
	}
}
