package ci

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/results"
)

func TestCheckRun(t *testing.T) {
	a := cases.Cell{Protocol: cases.Hello, Client: "a", Server: "b", Scenario: "tcp-clean", Seed: 1}
	b := a
	b.Client = "c"
	lost := a
	lost.Client = "lost"
	run := &results.Run{Results: []results.Result{
		{ID: a.ID(), Verdict: results.Pass, Outcome: results.Expected},
		{ID: b.ID(), Verdict: results.Fail, Outcome: results.UnexpectedFail, Reason: "client exited 1\nmore"},
	}}
	c := CheckRun(run, []cases.Cell{a, b, lost})
	if c.OK() || len(c.Unexpected) != 1 || len(c.Missing) != 1 || c.Missing[0] != lost.ID() {
		t.Fatalf("check = %+v", c)
	}
	var out bytes.Buffer
	c.Write(&out)
	for _, want := range []string{b.ID(), "client exited 1", lost.ID(), "a shard failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explanation lacks %q:\n%s", want, out.String())
		}
	}
	run.Results[1].Outcome = results.KnownFailure
	if c := CheckRun(run, []cases.Cell{a, b}); !c.OK() {
		t.Fatalf("known failures and passes must pass the run: %+v", c)
	}
	if c := CheckRun(run, []cases.Cell{a}); c.OK() || len(c.Extra) != 1 {
		t.Fatalf("an unplanned result must fail the run: %+v", c)
	}
	if c := CheckRun(run, nil); !c.OK() {
		t.Fatalf("without a plan only outcomes count: %+v", c)
	}
}

func TestShardCount(t *testing.T) {
	for _, tc := range []struct {
		total    time.Duration
		parallel int
		target   time.Duration
		most     int
		want     int
	}{
		{0, 4, 20 * time.Minute, 16, 1},
		{80 * time.Minute, 4, 20 * time.Minute, 16, 1},
		{81 * time.Minute, 4, 20 * time.Minute, 16, 2},
		{10 * time.Hour, 4, 20 * time.Minute, 16, 8},
		{100 * time.Hour, 4, 20 * time.Minute, 16, 16},
		{time.Hour, 0, 0, 16, 1},
	} {
		if got := ShardCount(tc.total, tc.parallel, tc.target, tc.most); got != tc.want {
			t.Errorf("ShardCount(%v, %d, %v, %d) = %d, want %d", tc.total, tc.parallel, tc.target, tc.most, got, tc.want)
		}
	}
	if got := strings.Join(ShardList(3), ","); got != "1/3,2/3,3/3" {
		t.Fatalf("ShardList(3) = %s", got)
	}
}
