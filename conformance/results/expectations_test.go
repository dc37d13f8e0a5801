package results

import (
	"strings"
	"testing"

	"github.com/interop-suite/interop/conformance/cases"
)

const doc = `
expectations:
  - client: node
    server: "*"
    scenario: "loss-*"
    expected: [fail]
    reason: gives up after 5 s of loss
    bug: https://example.org/1
  - protocol: hello
    server: c
    expected: [pass, fail]
    reason: intermittent accept race
`

func TestApplyOutcomes(t *testing.T) {
	x, err := ParseExpectations([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cell := func(p cases.Protocol, client, server, sc string) cases.Cell {
		return cases.Cell{Protocol: p, Client: client, Server: server, Scenario: sc}
	}
	tests := []struct {
		c    cases.Cell
		v    Verdict
		want Outcome
	}{
		{cell("rudp", "node", "rust", "loss-30"), Fail, KnownFailure},
		{cell("rudp", "node", "rust", "loss-30"), Pass, UnexpectedPass},
		{cell("rudp", "node", "rust", "clean"), Fail, UnexpectedFail},
		{cell("rudp", "rust", "node", "clean"), Pass, Expected},
		{cell("rudp", "rust", "node", "clean"), Lenient, Expected},
		{cell("rudp", "rust", "node", "clean"), Unsupported, Expected},
		{cell("rudp", "rust", "node", "clean"), InfraError, UnexpectedInfra},
		{cell("hello", "rust", "c", "tcp-clean"), Fail, KnownFailure},
		{cell("hello", "rust", "c", "tcp-clean"), Pass, Expected},
		{cell("hello", "rust", "c", "tcp-clean"), Lenient, Expected},
		{cell("hello", "rust", "c", "tcp-clean"), InfraError, UnexpectedInfra},
	}
	for _, tt := range tests {
		r := Result{Cell: tt.c, Verdict: tt.v}
		x.Apply(&r)
		if r.Outcome != tt.want {
			t.Errorf("%+v %s: outcome %s, want %s", tt.c, tt.v, r.Outcome, tt.want)
		}
		if r.Outcome.Unexpected() != (tt.want == UnexpectedFail || tt.want == UnexpectedPass || tt.want == UnexpectedInfra) {
			t.Errorf("Unexpected() wrong for %s", r.Outcome)
		}
	}
}

func TestParseExpectationsRejects(t *testing.T) {
	for name, y := range map[string]string{
		"no reason":       "expectations:\n  - client: a\n    expected: [fail]\n",
		"no verdicts":     "expectations:\n  - client: a\n    reason: x\n",
		"unknown verdict": "expectations:\n  - client: a\n    expected: [flaky]\n    reason: x\n",
		"unknown field":   "expectations:\n  - clinet: a\n    expected: [fail]\n    reason: x\n",
		"bad glob":        "expectations:\n  - client: \"[\"\n    expected: [fail]\n    reason: x\n",
	} {
		if _, err := ParseExpectations([]byte(y)); err == nil {
			t.Errorf("%s: accepted %q", name, y)
		}
	}
	x, err := ParseExpectations([]byte(""))
	if err != nil || len(x.Entries) != 0 {
		t.Fatalf("empty file: %v", err)
	}
	if a, _ := ParseExpectations([]byte(doc)); !strings.EqualFold(a.Hash, a.Hash) || a.Hash == x.Hash {
		t.Error("different files must hash differently")
	}
}
