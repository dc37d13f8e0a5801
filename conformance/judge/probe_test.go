package judge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
)

// Hand-made observations of the Hello probes (spec/hello.md, "Cases" and
// "Timing"): each verdict, leniency and reason a student would see.

func reference() registry.Impl { return impl(registry.ReferenceName, "Go", false) }

// clientProbeObs: the implementation "py" (Python) as the client of a
// client probe against the reference.
func clientProbeObs(probe string, exit *int, took time.Duration, stdout, stderr string) *Observation {
	return &Observation{
		Cell:       cases.Cell{Protocol: cases.Hello, Client: "py", Server: registry.ReferenceName, Scenario: cases.ProbePrefix + probe, Seed: 1, Seeds: 1},
		ClientImpl: impl("py", "Python", false), ServerImpl: reference(),
		Client: &results.Program{Impl: "py", Role: "hello-client", ExitCode: exit, Stdout: stdout, Stderr: stderr,
			DurationMS: took.Milliseconds(), Command: []string{"python3", "hello.py", "sim", "9000"}},
	}
}

// serverProbeObs: the implementation "rs" (Rust) as the server of a server
// probe, with the reference client.
func serverProbeObs(probe string, clientExit *int, clientOut, clientErr, serverOut string) *Observation {
	return &Observation{
		Cell:       cases.Cell{Protocol: cases.Hello, Client: registry.ReferenceName, Server: "rs", Scenario: cases.ProbePrefix + probe, Seed: 1, Seeds: 1},
		ClientImpl: reference(), ServerImpl: impl("rs", "Rust", false),
		Client: &results.Program{Impl: registry.ReferenceName, Role: "hello-client", ExitCode: clientExit, Stdout: clientOut, Stderr: clientErr,
			DurationMS: 1200, Command: []string{"/hello", "client", "sim", "9000", "--no-newline"}},
		Server:             &results.Program{Impl: "rs", Role: "hello-server", Stdout: serverOut, Command: []string{"/app/server", "4000"}},
		ServerStillRunning: true,
	}
}

type probeCase struct {
	name string
	obs  *Observation
	want results.Verdict
	text string // in the reason or a leniency
}

func runProbeCases(t *testing.T, tests []probeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r results.Result
			Judge(tt.obs, &r)
			all := r.Reason + " | " + strings.Join(r.Leniencies, " | ")
			if r.Verdict != tt.want || !strings.Contains(all, tt.text) {
				t.Fatalf("verdict %s: %s\nwant %s containing %q", r.Verdict, all, tt.want, tt.text)
			}
			if r.Verdict == results.Fail {
				p, _ := tt.obs.Cell.Probe()
				if want := string(p.Tests); r.Blame != want {
					t.Errorf("blame %q, want %q: a probe's failure is the tested program's", r.Blame, want)
				}
				if !strings.Contains(r.Reason, "HELLO-") {
					t.Errorf("reason names no requirement: %s", r.Reason)
				}
			}
		})
	}
}

// refused and silent-server: non-zero exit and a message on stderr within
// 15 s strict, 30 s lenient; killed, exit 0 or a silent exit fail (HELLO-8).
func TestJudgeProbeGivingUp(t *testing.T) {
	withNeedsIP := clientProbeObs("refused", code(1), time.Second, "", "could not connect\n")
	withNeedsIP.ClientImpl = impl("py", "Python", true)
	timedOut := clientProbeObs("silent-server", nil, 30*time.Second, "", "")
	timedOut.Client.TimedOut, timedOut.Client.ExitCode = true, code(137)
	// A notebook client declares 30 s to start (MANIFEST-12): the limits
	// move by as much, and the reason says so.
	slowStart := func(took time.Duration, timedOut bool) *Observation {
		o := clientProbeObs("silent-server", code(1), took, "", "timed out\n")
		role := o.ClientImpl.Manifest.Roles[registry.HelloClient]
		role.StartupSeconds = 30
		o.ClientImpl.Manifest.Roles[registry.HelloClient] = role
		if timedOut {
			o.Client.TimedOut, o.Client.ExitCode = true, code(137)
		}
		return o
	}
	runProbeCases(t, []probeCase{
		{"declared slow start, gives up 10 s after a 25 s start", slowStart(35*time.Second, false), results.Pass, ""},
		{"declared slow start, gives up late", slowStart(50*time.Second, false), results.Lenient, "more than 45 s (its declared startup_seconds of 30 s included)"},
		{"declared slow start, hangs", slowStart(60*time.Second, true), results.Fail, "still running after 60 s (its declared startup_seconds of 30 s included)"},
		{"refused at once", clientProbeObs("refused", code(1), 300*time.Millisecond, "", "ConnectionRefusedError: [Errno 111] Connection refused\n"), results.Pass, ""},
		{"silent server, gives up after 10 s", clientProbeObs("silent-server", code(2), 10500*time.Millisecond, "", "timed out\n"), results.Pass, ""},
		{"gives up after 20 s", clientProbeObs("silent-server", code(1), 20*time.Second, "", "timed out\n"), results.Lenient, "gives up late (HELLO-8)"},
		{"needs an IP", withNeedsIP, results.Lenient, "MANIFEST-7"},
		{"hangs", timedOut, results.Fail, "client hangs when the server does not reply (HELLO-8)"},
		{"exit 0 when refused", clientProbeObs("refused", code(0), time.Second, "", "oops\n"), results.Fail, "exited 0 although nothing listened"},
		{"message on stdout", clientProbeObs("refused", code(1), time.Second, "Error: connection refused\n", ""), results.Fail, `wrote nothing on stderr (it wrote on stdout instead: "Error: connection refused")`},
		{"unsupported", clientProbeObs("refused", code(127), time.Second, "", ""), results.Unsupported, "MANIFEST-13"},
	})
}

// writeProbeTrace writes a TCP trace starting at start with the events.
func writeProbeTrace(t *testing.T, start time.Time, events ...trace.Event) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw, err := trace.NewWriter(f, trace.Header{Mode: "tcp", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		tw.Event(&events[i])
	}
	if err := tw.Close(trace.Footer{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func seg(ms float64, flow int, dir, data string) trace.Event {
	return trace.Event{T: ms, Flow: flow, Dir: dir, Action: trace.Segment, Size: len(data), Data: []byte(data)}
}

// reply-no-newline: the reference server's "Goodbye in Go" without a
// newline, its last byte at 1.01 s, its close passed on 10 s later.
func TestJudgeProbeReplyNoNewline(t *testing.T) {
	start := time.Now().Add(-time.Minute)
	obs := func(t *testing.T, endedAfterStart time.Duration, exit *int, stdout string) *Observation {
		o := clientProbeObs("reply-no-newline", exit, endedAfterStart, stdout, "")
		o.Server = &results.Program{Impl: registry.ReferenceName, Role: "hello-server", Stdout: "Hello in Python\n", Command: []string{"/hello", "server", "4000", "--no-newline"}}
		o.ServerStillRunning = true
		o.TracePath = writeProbeTrace(t, start,
			seg(900, 0, trace.Fwd, "Hello in Python\n"),
			seg(1000, 0, trace.Rev, "Goodbye"), seg(1010, 0, trace.Rev, " in Go"),
			trace.Event{T: 11010, Flow: 0, Dir: trace.Rev, Action: trace.HalfClose})
		o.ClientEnded = start.Add(endedAfterStart)
		return o
	}
	hung := obs(t, 30*time.Second, code(137), "")
	hung.Client.TimedOut = true
	wrongWire := obs(t, 2500*time.Millisecond, code(0), "Goodbye in Go\n")
	wrongWire.TracePath = writeProbeTrace(t, start, seg(900, 0, trace.Fwd, "Hello in Python"), seg(1010, 0, trace.Rev, "Goodbye in Go"))
	crashed := obs(t, 500*time.Millisecond, code(2), "")
	crashed.TracePath = writeProbeTrace(t, start)
	crashed.Client.Stderr = "python3: can't open file '/app/hello.py'\n"
	runProbeCases(t, []probeCase{
		{"crashes before the exchange", crashed, results.Fail, "before the server replied: the relay saw no reply to it"},
		{"ends by the idle gap", obs(t, 2500*time.Millisecond, code(0), "Goodbye in Go\n"), results.Pass, ""},
		{"ends at the close", obs(t, 11300*time.Millisecond, code(0), "Goodbye in Go\n"), results.Lenient, "ends the reply only at the close (HELLO-6)"},
		{"ends after a long pause", obs(t, 8*time.Second, code(0), "Goodbye in Go\n"), results.Lenient, "long pause (HELLO-2"},
		{"hangs", hung, results.Fail, "hangs waiting for a newline the peer never sends (HELLO-2, HELLO-6)"},
		{"error on a reply without newline", obs(t, 2*time.Second, code(1), ""), results.Fail, "exited with code 1 when the reply \"Goodbye in Go\" came without a newline"},
		{"prints only the start", obs(t, 2*time.Second, code(0), "Goodb\n"), results.Fail, "HELLO-7"},
		// The reference server's own missing newline is not the client's
		// deviation; the client's missing newline is.
		{"the client's own wire is judged", wrongWire, results.Lenient, "client's message on the wire: no trailing newline"},
		{"unsupported", obs(t, time.Second, code(127), ""), results.Unsupported, "MANIFEST-13"},
	})
}

// The three framing probes of a server: the reference client's deliberate
// missing newline is never held against the server; no reply fails with
// what the probe did and what to change.
func TestJudgeProbeServerFraming(t *testing.T) {
	ok := serverProbeObs("no-newline-idle", code(0), "Goodbye in Rust\n", "hello client: note: the reply ended by newline\n", "Hello in Go\n")
	ok.TracePath = writeProbeTrace(t, time.Now(), seg(10, 0, trace.Fwd, "Hello in Go"), seg(1100, 0, trace.Rev, "Goodbye in Rust\n"))
	noNL := serverProbeObs("no-newline-eof", code(0), "Goodbye in Rust\n", "", "Hello in Go\n")
	noNL.TracePath = writeProbeTrace(t, time.Now(), seg(10, 0, trace.Fwd, "Hello in Go"), seg(30, 0, trace.Rev, "Goodbye in Rust"))
	exitsAfter := serverProbeObs("half-close", code(0), "Goodbye in Rust\n", "", "Hello in Go\n")
	exitsAfter.ServerStillRunning, exitsAfter.Server.ExitCode = false, code(0)
	runProbeCases(t, []probeCase{
		{"idle gap honoured", ok, results.Pass, ""},
		{"the server's own wire is judged", noNL, results.Lenient, "server's message on the wire: no trailing newline"},
		{"hangs for a newline", serverProbeObs("no-newline-idle", code(1), "", "hello client: no reply from sim:9000 within 10s\n", ""), results.Fail, "1 s without new bytes (the idle gap) and reply (HELLO-2)"},
		{"EOF taken for client gone", serverProbeObs("no-newline-eof", code(1), "", "hello client: server sim:9000 closed the connection without replying\n", "Hello in Go\n"), results.Fail, "closed the connection without replying"},
		{"no reply after a half-close", serverProbeObs("half-close", code(1), "", "no reply\n", "Hello in Go\n"), results.Fail, "the server must still reply on that connection (HELLO-12)"},
		{"exits after the client", exitsAfter, results.Lenient, "HELLO-13"},
	})
}

func TestJudgeProbeSecondClient(t *testing.T) {
	both := serverProbeObs("second-client", code(0), "Goodbye in Rust\n", "", "Hello in Go\nHello in Go\n")
	both.SecondClient = &results.Program{Impl: registry.ReferenceName, Role: "hello-client", ExitCode: code(0), Stdout: "Goodbye in Rust\n"}
	gone := serverProbeObs("second-client", code(0), "Goodbye in Rust\n", "", "Hello in Go\n")
	gone.NotListeningAgain = "the program exited with code 0 before listening"
	gone.ServerStillRunning, gone.Server.ExitCode = false, code(0)
	deaf := serverProbeObs("second-client", code(0), "Goodbye in Rust\n", "", "Hello in Go\n")
	deaf.NotListeningAgain = "never started listening on tcp port 4000 within 5s"
	ignored := serverProbeObs("second-client", code(0), "Goodbye in Rust\n", "", "Hello in Go\n")
	ignored.SecondClient = &results.Program{Impl: registry.ReferenceName, Role: "hello-client", ExitCode: code(1), Stderr: "hello client: no reply from sim:9000 within 10s\n"}
	runProbeCases(t, []probeCase{
		{"both served", both, results.Pass, ""},
		{"exits after one client", gone, results.Lenient, "server exits after one client instead of serving forever (HELLO-13)"},
		{"stops listening", deaf, results.Lenient, "stops listening after one client"},
		{"listens but ignores the second", ignored, results.Fail, "the second run got no proper reply"},
		{"first not served", serverProbeObs("second-client", code(1), "", "no reply\n", ""), results.Fail, "first message (HELLO-4, HELLO-12)"},
	})
}

func TestJudgeProbeSilentClient(t *testing.T) {
	timed := func(t *testing.T, replyAfterMS float64) *Observation {
		o := serverProbeObs("silent-client", code(0), "Goodbye in Rust\n", "", "Hel\nHello in Go\n")
		o.TracePath = writeProbeTrace(t, time.Now(), seg(50, 0, trace.Fwd, "Hello in Go\n"), seg(50+replyAfterMS, 0, trace.Rev, "Goodbye in Rust\n"))
		return o
	}
	none := serverProbeObs("silent-client", code(1), "", "hello client: no reply from sim:9000 within 25s\n", "")
	broken := serverProbeObs("silent-client", nil, "", "", "")
	broken.SilentClientsError = "hello client: silent: could not connect to 10.0.0.2:4000: i/o timeout"
	runProbeCases(t, []probeCase{
		{"served at once", timed(t, 40), results.Pass, ""},
		{"served after the silent ones", timed(t, 9000), results.Lenient, "a silent client blocks other clients (HELLO-14): the reply came 9.0 s after the message"},
		{"never served", none, results.Lenient, "a silent client blocks other clients (HELLO-14): no reply"},
		{"wrong reply", serverProbeObs("silent-client", code(0), "Goodbye in Go\n", "", "Hello in Go\n"), results.Fail, "HELLO-7"},
		{"the suite failed", broken, results.InfraError, "could not open the silent connections"},
	})
}
