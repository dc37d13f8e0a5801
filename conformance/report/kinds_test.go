package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/conformance/results"
)

// Names that break markup if anything is left unescaped: HTML, attribute
// quotes, Markdown tables, links and emphasis.
const (
	evilImpl = `<img src=x onerror=alert(1)>&"'`
	mdImpl   = "|pipe*_[md](javascript:alert(1))`"
)

// tenMB is what the 10 MB cell's client wrote; results.json keeps the
// first and last 32 KiB, as the suite does.
const tenMB = 10 << 20

// kindsRun is the hand-made fixture testdata/kinds/results.json: every
// verdict and outcome, a multi-seed cell with mixed results, a program
// that wrote 10 MB, a synthetic trace with every kind of plot mark, and
// implementations whose names are markup.
func kindsRun() *results.Run {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	code := func(n int) *int { return &n }
	hello := func(client, server, scenario string) cases.Cell {
		return cases.Cell{Protocol: cases.Hello, Client: client, Server: server, Scenario: scenario, Seed: 1, Seeds: 1}
	}
	rudp := func(client, server, scenario string, size cases.Size, seed int64, seeds int) cases.Cell {
		return cases.Cell{Protocol: cases.RUDP, Client: client, Server: server, Scenario: scenario, Size: size, Seed: seed, Seeds: seeds}
	}
	prog := func(impl, role string, exit *int, stdout, stderr string) *results.Program {
		return &results.Program{Impl: impl, Role: role, Command: []string{"/app/" + role, "-p", "9000"}, ExitCode: exit,
			Stdout: stdout, Stderr: stderr, StdoutBytes: int64(len(stdout)), StderrBytes: int64(len(stderr)), DurationMS: 120}
	}
	res := func(c cases.Cell, v results.Verdict, o results.Outcome) results.Result {
		r := results.Result{ID: c.ID(), Group: c.Group(), Cell: c, Verdict: v, Outcome: o,
			Reproduce: fmt.Sprintf("INTEROP_CELL='%s' go tool ginkgo ./conformance", c.ID()), Started: t0, WallMS: 1500}
		if v != results.Unsupported {
			r.Artifacts = "cells/" + c.ID()
			r.Client = prog(c.Client, string(c.ClientRole()), code(0), "Goodbye in Go\n", "")
			r.Server = prog(c.Server, string(c.ServerRole()), nil, "Hello in Go\n", "listening\n")
		}
		return r
	}
	var rs []results.Result

	rs = append(rs, res(hello("reference", "reference", "tcp-clean"), results.Pass, results.Expected))

	r := res(hello("reference", evilImpl, "tcp-clean"), results.Lenient, results.Expected)
	r.Leniencies = []string{"server exits after one client instead of serving forever (HELLO-13)", `client's message on the wire: <u>no trailing newline</u> (HELLO-1, HELLO-15)`}
	rs = append(rs, r)

	r = res(hello(evilImpl, "reference", "tcp-clean"), results.Fail, results.UnexpectedFail)
	r.Blame = "client"
	r.Reason = evilImpl + "'s hello-client did not print the server's reply \"Goodbye in Go\" (HELLO-7): got `<script>alert(\"reason\")</script>` and ``` fences ```.\ncommand: /app/hello-client sim 9000\n  last lines of stderr:\n    | </pre><script>alert(2)</script>"
	r.Client.ExitCode = code(1)
	r.Client.Stderr = "</pre><script>alert(2)</script>\n"
	rs = append(rs, r)

	r = res(hello(mdImpl, "reference", "tcp-clean"), results.Fail, results.KnownFailure)
	r.Blame = "client"
	r.Reason = "the client sent \"Hello in md\" on the wire, not \"Hello in Markdown\": wrong language name (HELLO-1, HELLO-3/4)"
	r.Expected = []results.Verdict{results.Fail}
	r.Bug = "javascript:alert('bug')"
	rs = append(rs, r)

	r = res(hello("reference", mdImpl, "tcp-clean"), results.Pass, results.UnexpectedPass)
	r.Expected = []results.Verdict{results.Fail}
	r.Bug = "https://github.com/interop-suite/interop/issues/6"
	rs = append(rs, r)

	r = res(hello(mdImpl, evilImpl, "tcp-clean"), results.InfraError, results.UnexpectedInfra)
	r.Reason = "the suite could not run this cell (not the implementations' fault): container \"sim\" was removed from outside"
	rs = append(rs, r)

	r = res(rudp("reference", evilImpl, "clean", cases.SizeOnePacket, 1, 1), results.Unsupported, results.Expected)
	r.Reason = evilImpl + " does not declare the rudp-receiver role"
	rs = append(rs, r)

	// A multi-seed RUDP cell: seed 1 passes with the synthetic trace, seed 2
	// fails, seed 3 passes; and the reference pair to compare with.
	for seed := int64(1); seed <= 3; seed++ {
		for _, client := range []string{"reference", evilImpl} {
			c := rudp(client, "reference", "loss-10", cases.Size256K, seed, 3)
			r := res(c, results.Pass, results.Expected)
			ms := 400.0 + 10*float64(seed)
			if client != "reference" {
				ms *= 2.5
			}
			r.Transfer = &results.Transfer{InputBytes: 262144, InputSHA256: "aa", OutputBytes: 262144, OutputSHA256: "aa", OutputFile: "127.0.0.1.5000",
				DurationMS: ms, GoodputBps: 262144 / (ms / 1000), Packets: 200, Unique: 182, TxPerPacket: 1.1, Retransmits: 18, MaxInFlight: 5}
			r.Findings = []results.Finding{
				{Property: "window", Requirement: "RUDP-40", Grade: "pass", Detail: "at most 5 packets in flight beyond the last ack"},
				{Property: "retransmit-timer", Requirement: "RUDP-41", Grade: "pass", Detail: "median wait 506 ms"},
			}
			if client != "reference" && seed == 2 {
				r.Verdict, r.Outcome, r.Blame = results.Fail, results.UnexpectedFail, "client"
				r.Reason = "wire checker: window (RUDP-40): 9 packets in flight beyond the last cumulative ack <then> some"
				r.Findings[0].Grade, r.Findings[0].Detail = "fail", "9 packets in flight beyond the last cumulative ack (RUDP-40, RUDP-12)"
				r.Transfer.DurationMS = 0
			}
			if client != "reference" && seed == 3 {
				// The program that wrote 10 MB: results.json keeps its
				// first and last 32 KiB.
				r.Client.Stdout = bigLog()
				r.Client.StdoutBytes = tenMB
			}
			rs = append(rs, r)
		}
	}
	run := &results.Run{Schema: results.SchemaVersion, SuiteVersion: "v1.2.3-4-gabcdef", ExpectationsHash: "0123456789abcdef",
		RunID: "20260102T030405Z-42", Depth: "standard", Started: t0, Finished: t0.Add(5 * time.Minute), Results: rs,
		Impls: []results.ImplInfo{
			{Name: "reference", Language: "Go", Roles: []string{"hello-client", "hello-server", "rudp-receiver", "rudp-sender"}},
			{Name: evilImpl, Language: "<Evil> & \"Co\"", Roles: []string{"hello-client", "hello-server", "rudp-sender"}},
			{Name: mdImpl, Language: "Markdown*", Roles: []string{"hello-client", "hello-server"}, Error: "build failed: <no space left>"},
		}}
	run.Sort()
	return run
}

// bigLog is the first and last 32 KiB of a 10 MB log.
func bigLog() string {
	var head, tail strings.Builder
	for i := 0; head.Len() < 32<<10; i++ {
		fmt.Fprintf(&head, "progress: sent packet %d of 7282 <ok>\n", i)
	}
	for i := 7000; tail.Len() < 32<<10; i++ {
		fmt.Fprintf(&tail, "progress: sent packet %d of 7282 <ok>\n", i)
	}
	return head.String()[:32<<10] + tail.String()[tail.Len()-32<<10:]
}

// kindsTrace is a synthetic trace with every kind of plot mark: a start,
// data sent once, lost (and sent again), damaged, acks let through, lost
// and damaged, a datagram that does not parse, an end delayed, releases
// (not marks), and a footer.
func kindsTrace() []byte {
	var b bytes.Buffer
	tw, err := trace.NewWriter(&b, trace.Header{V: trace.Version, Kind: "header", Mode: "udp", Seed: 1, Scenario: "loss-10", Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		panic(err)
	}
	const base = 1 << 60 // beyond 2^53: the page must not lose digits
	ev := func(t float64, dir string, idx uint64, action, typ string, seq uint64, size int) {
		e := trace.Event{T: t, Dir: dir, Idx: idx, Action: action, Type: typ, Seq: seq, HasSeq: typ != "", Size: size, CsumOK: true, HasCsum: typ != ""}
		if typ == "" {
			e.Err = trace.ErrMalformed
		}
		tw.Event(&e)
	}
	ev(1, trace.Fwd, 0, trace.Forwarded, "start", base, 1472)
	ev(2, trace.Rev, 0, trace.Forwarded, "ack", base+1, 25)
	ev(3, trace.Fwd, 1, trace.Forwarded, "data", base+1, 1472)
	ev(3.5, trace.Fwd, 2, trace.Dropped, "data", base+2, 1472)
	ev(4, trace.Fwd, 3, trace.Corrupted, "data", base+3, 1472)
	ev(4.2, trace.Fwd, 3, trace.Release, "data", base+3, 1472)
	ev(5, trace.Rev, 1, trace.Dropped, "ack", base+2, 25)
	ev(6, trace.Rev, 2, trace.Corrupted, "ack", base+2, 25)
	ev(7, trace.Fwd, 4, trace.Forwarded, "", 0, 3)
	ev(505, trace.Fwd, 5, trace.Forwarded, "data", base+2, 1472)
	ev(506, trace.Fwd, 6, trace.Delayed, "end", base+4, 1000)
	ev(526, trace.Fwd, 6, trace.Release, "end", base+4, 1000)
	ev(527, trace.Rev, 3, trace.Forwarded, "ack", base+5, 25)
	if err := tw.Close(trace.Footer{Kind: "footer", T: 600}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// kindsPlotMarks is the number of arrivals in kindsTrace.
const kindsPlotMarks = 11

func kindsFixture(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/kinds/results.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644)
	id := "rudp/" + evilImpl + "-x-reference/loss-10/256k/seed-1"
	p := filepath.Join(dir, "cells", filepath.FromSlash(id), "trace", "trace.jsonl")
	os.MkdirAll(filepath.Dir(p), 0o755)
	tr, err := os.ReadFile("testdata/kinds/trace.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, tr, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestKindsFixture keeps testdata/kinds in step with kindsRun.
func TestKindsFixture(t *testing.T) {
	b, err := json.MarshalIndent(kindsRun(), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "kinds/results.json", b)
	golden(t, "kinds/trace.jsonl", kindsTrace())
}
