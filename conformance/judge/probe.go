package judge

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
	"github.com/interop-suite/interop/reference/hello"
)

// The Hello probes (spec/hello.md, "Cases" and "Timing"): one side is the
// implementation under test, the other the reference as a deliberately
// unusual peer, so every failure here is the tested program's.

// Limits of spec/hello.md's "Timing" table for the probes.
const (
	// GiveUpStrict and GiveUpLenient: a client that cannot connect or gets
	// no reply gives up within 15 s of its start (strict) or 30 s (lenient
	// "gives up late"); the suite kills it at 30 s (HELLO-8).
	GiveUpStrict  = 15 * time.Second
	GiveUpLenient = 30 * time.Second
	// SilentClientReply: in silent-client the reply comes within 5 s of the
	// message while two other connections stay silent (HELLO-14).
	SilentClientReply = 5 * time.Second
	// ReplyEnded: in reply-no-newline the client has the reply and exits
	// within 5 s of the reply's last byte (HELLO-2, HELLO-6).
	ReplyEnded = 5 * time.Second
	// CloseHeld is how long the relay holds the reference server's close
	// in reply-no-newline (the runner passes it to the simulator).
	CloseHeld = 10 * time.Second
)

func judgeProbe(o *Observation, v verdict, p cases.Probe) {
	c := o.Cell
	if p.Tests == cases.ClientSide && o.ClientImpl.Manifest.Roles[c.ClientRole()].NeedsIP {
		v.lenient("client needs an IP address instead of a host name (MANIFEST-7)")
	}
	// The other side is the reference: a failure is the tested program's.
	defer func() {
		if v.r.Verdict == results.Fail {
			v.r.Blame = string(p.Tests)
		}
	}()
	switch p.Name {
	case "no-newline-eof", "no-newline-idle", "half-close":
		if referenceClientFailed(o, v, o.Client, p, serverProbeHint[p.Name]) {
			return
		}
		judgeHelloWith(o, v, false, true)
	case "second-client":
		judgeSecondClient(o, v, p)
	case "silent-client":
		judgeSilentClient(o, v, p)
	case "reply-no-newline":
		judgeReplyNoNewline(o, v, p)
	case "refused", "silent-server":
		judgeGivingUp(o, v, p)
	default:
		v.fail("pair", "the suite has no judgement for probe %q (a bug in the suite)", p.Name)
	}
}

// serverProbeHint says, for a server probe whose reference client got no
// reply, what the probe did and what the server must do.
var serverProbeHint = map[string]string{
	// HELLO-2, HELLO-12
	"no-newline-eof": `the reference client sent "Hello in Go" without a newline and half-closed at once (the server reads EOF right after the message), and got no proper reply. ` +
		`A server must take the bytes before the EOF as the whole message and still reply (HELLO-2, HELLO-12): read until '\n', EOF or 1 s of silence, not only until '\n', and do not take EOF for "client gone"`,
	// HELLO-2
	"no-newline-idle": `the reference client sent "Hello in Go" without a newline and kept the connection open, and got no proper reply: the server hangs waiting for a newline the peer never sends. ` +
		`A server must end a message after 1 s without new bytes (the idle gap) and reply (HELLO-2)`,
	// HELLO-12
	"half-close": `the reference client sent "Hello in Go\n" and half-closed right away (it shut down only its sending side), and got no proper reply. ` +
		`A half-close only ends the client's sending side: the server must still reply on that connection (HELLO-12)`,
	// HELLO-4, HELLO-12
	"second-client": `the reference client got no proper reply to its first message (HELLO-4, HELLO-12)`,
}

// referenceClientFailed fails the cell when the probe's reference client
// did not get its reply, explaining the probe; its own stderr says what
// went wrong ("no reply within 10s", "server closed the connection
// without replying").
func referenceClientFailed(o *Observation, v verdict, cl *results.Program, p cases.Probe, hint string) bool {
	if cl == nil || (!cl.TimedOut && cl.ExitCode != nil && *cl.ExitCode == 0) {
		return false
	}
	what := "was killed at its time limit"
	if !cl.TimedOut && cl.ExitCode != nil {
		what = fmt.Sprintf("exited with code %d", *cl.ExitCode)
	}
	v.fail("server", "%s's hello-server fails the %s probe (%s): %s. The reference client %s; its stderr below says why.\nreference client: %s\nserver command: %s\n%s\n%s",
		o.Cell.Server, p.Name, p.Requirements, hint, what, argv(cl.Command), argv(o.Server.Command), tails(cl), tails(o.Server))
	return true
}

// judgeSecondClient: two runs of the reference client, one after the other;
// both get the reply (HELLO-13). A server that no longer listens after the
// first is lenient "server exits after one client"; one that listens but
// does not answer the second fails.
func judgeSecondClient(o *Observation, v verdict, p cases.Probe) {
	if referenceClientFailed(o, v, o.Client, p, serverProbeHint[p.Name]) {
		return
	}
	judgeHelloWith(o, v, false, true) // notes an exit after the client (HELLO-13)
	if v.r.Verdict == results.Fail {
		return
	}
	if o.NotListeningAgain != "" {
		if o.ServerStillRunning {
			v.lenient(string(hello.StopsListening) + " instead of serving until it is stopped (HELLO-13)")
		} else if o.Server.ExitCode == nil {
			v.lenient(string(hello.ExitsAfterOneClient) + " instead of serving forever (HELLO-13)")
		}
		return
	}
	cl2 := o.SecondClient
	if cl2 == nil {
		return
	}
	if referenceClientFailed(o, v, cl2, p, "the server answered the first run of the reference client and was still listening, but the second run got no proper reply. "+
		"A server serves one client after another until it is stopped (HELLO-13) and replies to every message (HELLO-12): after a client, go back to accept() with the listening socket still open") {
		return
	}
	reply := strings.TrimSuffix(hello.FormatGoodbye(o.ServerImpl.Manifest.Language), "\n")
	if cl := hello.ClassifyOutput(reply, []byte(cl2.Stdout)); cl.Verdict == hello.Mismatch {
		v.fail("server", "%s's hello-server answered the second client with something else than %q (HELLO-4, HELLO-13): %s.\n%s", o.Cell.Server, reply, cl.Reason, tails(cl2))
	}
}

// judgeSilentClient: while the suite holds two connections that never
// finish a message, the reference client's reply comes within 5 s of its
// message (strict); later, or not at all, is lenient "a silent client
// blocks other clients" (HELLO-14, a SHOULD).
func judgeSilentClient(o *Observation, v verdict, p cases.Probe) {
	if o.SilentClientsError != "" {
		v.r.Verdict = results.InfraError
		v.r.Reason = "the suite could not open the silent connections of the silent-client probe (not the implementation's fault): " + o.SilentClientsError + "\n" + tails(o.SilentClients)
		return
	}
	cl := o.Client
	gotReply := !cl.TimedOut && cl.ExitCode != nil && *cl.ExitCode == 0
	blocked := string(hello.SilentClientBlocks) + " (HELLO-14): "
	if !gotReply {
		why := fmt.Sprintf("no reply to the reference client (it gave up after %.1f s; it waits at most 25 s) while two other connections stayed open without finishing a message (one sent nothing, one sent \"Hel\"); serve each connection in its own thread, task or coroutine, or with an event loop", float64(cl.DurationMS)/1000)
		if o.Server.ExitCode != nil {
			why += fmt.Sprintf("; the server had exited with code %d by the end", *o.Server.ExitCode)
		}
		v.lenient(blocked + why)
		return
	}
	judgeHelloWith(o, v, false, true)
	if v.r.Verdict == results.Fail {
		return
	}
	latency, ok := replyLatency(o.TracePath)
	if !ok {
		// No trace to time the reply on: the client's run time bounds it.
		latency = time.Duration(cl.DurationMS) * time.Millisecond
	}
	if latency > SilentClientReply {
		v.lenient(fmt.Sprintf("%sthe reply came %.1f s after the message, more than %s, while two other connections stayed open without finishing a message; serve each connection in its own thread, task or coroutine, or with an event loop",
			blocked, latency.Seconds(), secs(SilentClientReply)))
	}
}

// judgeReplyNoNewline: the reference server's reply has no newline and its
// close reaches the client 10 s after the reply's last byte. A client that
// prints it and exits within 5 s of that byte ended it by the idle gap
// (strict); one that ends only at the close is lenient; one that never
// does fails (HELLO-2, HELLO-6).
func judgeReplyNoNewline(o *Observation, v verdict, p cases.Probe) {
	c, cl := o.Cell, o.Client
	reply := strings.TrimSuffix(hello.FormatGoodbye(o.ServerImpl.Manifest.Language), "\n")
	lastByte, closed, traced := replyTimes(o.TracePath)
	replied := !traced || !lastByte.IsZero() // without a record, assume the reply came
	switch {
	case cl.ExitCode != nil && *cl.ExitCode == 127 && !cl.TimedOut:
		unsupportedExit(o, v)
		return
	case !replied && (cl.TimedOut || cl.ExitCode != nil && *cl.ExitCode != 0):
		// It never got as far as the probe: no reply crossed the relay.
		what := "did not finish within its time limit and was killed"
		if !cl.TimedOut {
			what = fmt.Sprintf("exited with code %d", *cl.ExitCode)
		}
		v.fail("client", "%s's hello-client %s before the server replied: the relay saw no reply to it, so the probe did not get as far as the reply without a newline (HELLO-7, HELLO-8).\ncommand: %s\n%s",
			c.Client, what, argv(cl.Command), tails(cl))
		return
	case cl.TimedOut:
		startup, declared := clientStartup(o)
		v.fail("client", "%s's hello-client hangs waiting for a newline the peer never sends (HELLO-2, HELLO-6): the server replied %q without a newline, its close reached the client %s later, and the client was still running after %s%s and was killed. "+
			"End the reply at '\\n', at the close, or after 1 s without new bytes (the idle gap).\ncommand: %s\n%s", c.Client, reply, secs(CloseHeld), secs(GiveUpLenient+startup), declared, argv(cl.Command), tails(cl))
		return
	case cl.OOMKilled:
		v.fail("client", "%s's hello-client was killed for exceeding its memory limit.\ncommand: %s\n%s", c.Client, argv(cl.Command), tails(cl))
		return
	case cl.ExitCode != nil && *cl.ExitCode != 0:
		v.fail("client", "%s's hello-client exited with code %d when the reply %q came without a newline (HELLO-2, HELLO-7): a reply ended by the close or by 1 s without new bytes is a whole reply; print it and exit 0.\ncommand: %s\n%s",
			c.Client, *cl.ExitCode, reply, argv(cl.Command), tails(cl))
		return
	}
	judgeHelloWith(o, v, true, false) // the reply printed, the client's own message
	if v.r.Verdict == results.Fail {
		return
	}
	if !replied || lastByte.IsZero() || o.ClientEnded.IsZero() {
		// No trace to time it on: a client that ran longer than the hold
		// cannot have ended the reply before the close.
		if time.Duration(cl.DurationMS)*time.Millisecond >= CloseHeld {
			v.lenient(fmt.Sprintf("%s (HELLO-6): it ran %.1f s, longer than the %s the server's close was held; end a reply after 1 s without new bytes (HELLO-2)", hello.EndsReplyAtClose, float64(cl.DurationMS)/1000, secs(CloseHeld)))
		}
		return
	}
	after := o.ClientEnded.Sub(lastByte)
	switch {
	case after <= ReplyEnded:
	case !closed.IsZero() && !o.ClientEnded.Before(closed):
		v.lenient(fmt.Sprintf("%s (HELLO-6): the client exited %.1f s after the reply's last byte, once the server's close reached it (held %s); end a reply after 1 s without new bytes (HELLO-2)", hello.EndsReplyAtClose, after.Seconds(), secs(CloseHeld)))
	default:
		v.lenient(fmt.Sprintf("%s (HELLO-2: an idle gap of 1 s, at most 2 s): the client exited %.1f s after the reply's last byte, before the server's close reached it", hello.EndsReplyLate, after.Seconds()))
	}
}

// judgeGivingUp: refused (nothing listens) and silent-server (accepts,
// reads, never replies nor closes). The client exits non-zero with a
// message on stderr within 15 s (strict) or 30 s (lenient "gives up
// late"); a client still running at 30 s is killed and fails; exit 0
// fails (HELLO-7, HELLO-8).
func judgeGivingUp(o *Observation, v verdict, p cases.Probe) {
	c, cl := o.Cell, o.Client
	situation, hangs := "nothing listened on the port it was given (connection refused)", "client hangs when it cannot connect"
	if p.Name == "silent-server" {
		situation, hangs = "the server accepted the connection and read the message, but never replied nor closed", "client hangs when the server does not reply"
	}
	took := time.Duration(cl.DurationMS) * time.Millisecond
	startup, declared := clientStartup(o)
	strict, lenient := GiveUpStrict+startup, GiveUpLenient+startup
	switch {
	case cl.ExitCode != nil && *cl.ExitCode == 127 && !cl.TimedOut:
		unsupportedExit(o, v)
	case cl.TimedOut:
		v.fail("client", "%s's hello-client: %s (HELLO-8): %s, and the client was still running after %s%s and was killed. "+
			"Give up with a non-zero exit status and a message on stderr: set a timeout on connecting and on reading the reply (10 s is the usual choice).\ncommand: %s\n%s",
			c.Client, hangs, situation, secs(lenient), declared, argv(cl.Command), tails(cl))
	case cl.OOMKilled:
		v.fail("client", "%s's hello-client was killed for exceeding its memory limit.\ncommand: %s\n%s", c.Client, argv(cl.Command), tails(cl))
	case cl.ExitCode != nil && *cl.ExitCode == 0:
		v.fail("client", "%s's hello-client exited 0 although %s: a client that gets no reply must exit with a non-zero status and say why on stderr (HELLO-7, HELLO-8).\ncommand: %s\n%s",
			c.Client, situation, argv(cl.Command), tails(cl))
	case strings.TrimSpace(cl.Stderr) == "":
		where := "nothing on stdout either"
		if strings.TrimSpace(cl.Stdout) != "" {
			where = "it wrote on stdout instead: " + quoteOut(cl.Stdout)
		}
		v.fail("client", "%s's hello-client exited with code %d when %s, but wrote nothing on stderr (%s): say there what went wrong, e.g. \"could not connect to HOST:PORT: connection refused\" or \"no reply within 10 s\" (HELLO-8, MANIFEST-14).\ncommand: %s",
			c.Client, *cl.ExitCode, situation, where, argv(cl.Command))
	case took > strict:
		// Beyond the lenient limit only by the suite's own start-up and
		// wait overheads: the client exited before its kill.
		v.lenient(fmt.Sprintf("%s (HELLO-8): %s, and the client gave up after %.1f s, more than %s%s; give up 10 s after starting to wait", hello.GivesUpLate, situation, took.Seconds(), secs(strict), declared))
	}
}

// clientStartup is the hello-client's declared startup_seconds, which
// the probes' limits add to their own (MANIFEST-12), and how a reason
// says so ("" when none is declared).
func clientStartup(o *Observation) (time.Duration, string) {
	n := o.ClientImpl.Manifest.Roles[registry.HelloClient].StartupSeconds
	if n == 0 {
		return 0, ""
	}
	return time.Duration(n) * time.Second, fmt.Sprintf(" (its declared startup_seconds of %d s included)", n)
}

// secs writes a duration as a student reads it: "15 s".
func secs(d time.Duration) string { return fmt.Sprintf("%g s", d.Seconds()) }

func unsupportedExit(o *Observation, v verdict) {
	v.r.Verdict = results.Unsupported
	v.r.Reason = fmt.Sprintf("%s's %s exited with code 127: it declares this scenario unsupported (MANIFEST-13)", o.Cell.Client, o.Cell.ClientRole())
}

// tcpFlow is what the relay's trace says of one connection, in
// milliseconds since the trace's start; -1 when it did not happen.
type tcpFlow struct {
	firstFwd, firstRev, lastRev, revHalfClose float64
}

// readTCPFlows reads the simulator's TCP trace.
func readTCPFlows(path string) (start time.Time, flows map[int]*tcpFlow, ok bool) {
	if path == "" {
		return time.Time{}, nil, false
	}
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, nil, false
	}
	defer f.Close()
	tr, err := trace.NewReader(f)
	if err != nil {
		return time.Time{}, nil, false
	}
	flows = map[int]*tcpFlow{}
	for {
		e, err := tr.Next()
		if errors.Is(err, io.EOF) || errors.Is(err, trace.ErrTruncated) {
			break
		}
		if err != nil {
			return time.Time{}, nil, false
		}
		fl := flows[e.Flow]
		if fl == nil {
			fl = &tcpFlow{-1, -1, -1, -1}
			flows[e.Flow] = fl
		}
		switch {
		case e.Action == trace.Segment && e.Size > 0 && e.Dir == trace.Fwd:
			if fl.firstFwd < 0 {
				fl.firstFwd = e.T
			}
		case e.Action == trace.Segment && e.Size > 0 && e.Dir == trace.Rev:
			if fl.firstRev < 0 {
				fl.firstRev = e.T
			}
			fl.lastRev = e.T
		case e.Action == trace.HalfClose && e.Dir == trace.Rev:
			fl.revHalfClose = e.T
		}
	}
	return tr.Header.Start, flows, true
}

// firstClientFlow is the first connection that carried the client's bytes:
// the probe's client (silent connections do not cross the relay).
func firstClientFlow(flows map[int]*tcpFlow) *tcpFlow {
	best := -1
	for id, fl := range flows {
		if fl.firstFwd >= 0 && (best < 0 || id < best) {
			best = id
		}
	}
	if best < 0 {
		return nil
	}
	return flows[best]
}

// replyLatency is the time from the client's first byte to the server's
// first byte on the client's connection, from the trace.
func replyLatency(path string) (time.Duration, bool) {
	_, flows, ok := readTCPFlows(path)
	if !ok {
		return 0, false
	}
	fl := firstClientFlow(flows)
	if fl == nil || fl.firstRev < 0 {
		return 0, false
	}
	return time.Duration((fl.firstRev - fl.firstFwd) * float64(time.Millisecond)), true
}

// replyTimes are when the reply's last byte and the server's close left the
// relay for the client, on the wall clock; traced is false without a
// readable trace. lastByte is zero when no reply crossed the relay, closed
// when the close was never passed on (the relay stopped first).
func replyTimes(path string) (lastByte, closed time.Time, traced bool) {
	start, flows, ok := readTCPFlows(path)
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	fl := firstClientFlow(flows)
	if fl == nil || fl.lastRev < 0 {
		return time.Time{}, time.Time{}, true
	}
	at := func(ms float64) time.Time { return start.Add(time.Duration(ms * float64(time.Millisecond))) }
	lastByte = at(fl.lastRev)
	if fl.revHalfClose >= 0 {
		closed = at(fl.revHalfClose)
	}
	return lastByte, closed, true
}
