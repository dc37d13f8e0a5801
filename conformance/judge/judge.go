// Package judge turns what the programs of a cell did into a verdict with a
// reason a student can act on: the command that ran, its exit code, the last
// lines of its output, and what was seen on the wire.
package judge

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
	"github.com/interop-suite/interop/conformance/wirecheck"
	"github.com/interop-suite/interop/reference/hello"
)

// Observation is everything the runner saw of one cell.
type Observation struct {
	Cell                   cases.Cell
	ClientImpl, ServerImpl registry.Impl
	Dir                    string
	Client, Server         *results.Program
	Simulator              *results.Program
	SimIP                  string // the address servers see as their peer
	ServerNotListening     string // set when the server never bound its port
	// ServerStartError and ClientStartError are set when the program's
	// command cannot be started at all (not found, not executable).
	ServerStartError, ClientStartError string
	ServerStillRunning                 bool // after the client finished
	TracePath                          string
	// WireClientToServer and WireServerToClient are the Hello bytes each
	// side sent, from the simulator's TCP trace (nil when not captured).
	WireClientToServer, WireServerToClient []byte
	InputPath, InputSHA256                 string
	OutputDir                              string
	// OutputOverLimit is the size of the output folder when the runner
	// stopped the receiver for writing too much (MANIFEST-16); 0 if not.
	OutputOverLimit atomic.Int64

	// Hello probe cells only (spec/hello.md, "Cases"; probe.go).
	// ClientEnded is when the runner saw the client exit, on the wall
	// clock the simulator's trace is also on.
	ClientEnded time.Time
	// SecondClient is the second run of the reference client in the
	// second-client probe; nil when it did not run.
	SecondClient *results.Program
	// NotListeningAgain says why the second client did not run: the
	// server no longer listened after the first (second-client).
	NotListeningAgain string
	// SilentClients is the reference program that held the two silent
	// connections of the silent-client probe; SilentClientsError is set
	// when it could not open them.
	SilentClients      *results.Program
	SilentClientsError string
}

// verdict accumulates the outcome while checks run.
type verdict struct {
	r *results.Result
}

func (v verdict) fail(blame, format string, args ...any) {
	if v.r.Verdict == results.Fail {
		v.r.Reason += "\n" + fmt.Sprintf(format, args...)
		return
	}
	v.r.Verdict = results.Fail
	v.r.Blame = blame
	v.r.Reason = fmt.Sprintf(format, args...)
}

func (v verdict) lenient(why string) {
	for _, l := range v.r.Leniencies {
		if l == why {
			return
		}
	}
	v.r.Leniencies = append(v.r.Leniencies, why)
}

// Judge sets Verdict, Reason, Blame, Leniencies, Findings and Transfer.
func Judge(o *Observation, r *results.Result) {
	r.Verdict = results.Pass
	v := verdict{r}
	c := o.Cell
	if o.ServerStartError != "" {
		v.fail("server", "%s's %s command cannot be started (MANIFEST-5): %s\ncommand: %s", c.Server, c.ServerRole(), o.ServerStartError, argv(o.Server.Command))
		return
	}
	if o.ClientStartError != "" {
		v.fail("client", "%s's %s command cannot be started (MANIFEST-5): %s\ncommand: %s", c.Client, c.ClientRole(), o.ClientStartError, argv(o.Client.Command))
		return
	}
	if o.ServerNotListening != "" {
		v.fail("server", "%s's %s %s.\ncommand: %s\n%s", c.Server, c.ServerRole(), o.ServerNotListening, argv(o.Server.Command), tails(o.Server))
		return
	}
	if n := o.OutputOverLimit.Load(); n > 0 {
		v.fail("server", "%s's rudp-receiver wrote %d MiB into its output directory, more than the %d MiB a cell allows, and was stopped (MANIFEST-16; MANIFEST-11: one file per transfer).\nreceiver command: %s\n%s",
			c.Server, n>>20, OutputLimitMiB, argv(o.Server.Command), tails(o.Server))
		return
	}
	if p, ok := c.Probe(); ok {
		judgeProbe(o, v, p)
		if r.Verdict == results.Pass && len(r.Leniencies) > 0 {
			r.Verdict = results.Lenient
		}
		return
	}
	cl := o.Client
	switch {
	case c.Client == registry.ReferenceName && c.Server != registry.ReferenceName && (cl.TimedOut || cl.ExitCode != nil && *cl.ExitCode != 0):
		// The reference is the fixed point: when it fails against a
		// student's server, what it says is about that server.
		what := "was killed at its time limit"
		if !cl.TimedOut {
			what = fmt.Sprintf("exited with code %d", *cl.ExitCode)
		}
		v.fail("server", "the reference %s failed against %s's %s: it %s, saying what went wrong on its stderr below.\nserver command: %s\n%s\n%s",
			c.ClientRole(), c.Server, c.ServerRole(), what, argv(o.Server.Command), tails(cl), tails(o.Server))
	case cl.ExitCode != nil && *cl.ExitCode == 127 && !cl.TimedOut:
		r.Verdict = results.Unsupported
		r.Reason = fmt.Sprintf("%s's %s exited with code 127: it declares this scenario unsupported (MANIFEST-13)", c.Client, c.ClientRole())
		return
	case cl.TimedOut:
		v.fail("client", "%s's %s did not finish within its time limit and was killed.\ncommand: %s\n%s", c.Client, c.ClientRole(), argv(cl.Command), tails(cl))
	case cl.OOMKilled:
		v.fail("client", "%s's %s was killed for exceeding its memory limit.\ncommand: %s\n%s", c.Client, c.ClientRole(), argv(cl.Command), tails(cl))
	case cl.ExitCode != nil && *cl.ExitCode != 0:
		v.fail("client", "%s's %s exited with code %d (a client must exit 0 on success, HELLO-7/RUDP-45).\ncommand: %s\n%s", c.Client, c.ClientRole(), *cl.ExitCode, argv(cl.Command), tails(cl))
	}
	if o.ClientImpl.Manifest.Roles[c.ClientRole()].NeedsIP {
		v.lenient("client needs an IP address instead of a host name (MANIFEST-7)")
	}
	switch c.Protocol {
	case cases.Hello:
		judgeHello(o, v)
	case cases.RUDP:
		judgeRUDP(o, v)
	}
	if r.Verdict == results.Pass && len(r.Leniencies) > 0 {
		r.Verdict = results.Lenient
	}
}

func judgeHello(o *Observation, v verdict) { judgeHelloWith(o, v, true, true) }

// judgeHelloWith judges a Hello exchange; clientWire and serverWire say
// whose bytes on the wire are judged (a probe's reference peer deviates on
// purpose, and is not the program under test).
func judgeHelloWith(o *Observation, v verdict, clientWire, serverWire bool) {
	c := o.Cell
	loadHelloWire(o)
	clientLang, serverLang := o.ClientImpl.Manifest.Language, o.ServerImpl.Manifest.Language
	want := strings.TrimSuffix(hello.FormatHello(clientLang), "\n") // HELLO-3
	reply := strings.TrimSuffix(hello.FormatGoodbye(serverLang), "\n")
	if c.Feature == string(registry.Challenge) {
		reply = strings.TrimSuffix(hello.ChallengeReply(want, serverLang), "\n") // HELLO-20
	}
	if v.r.Verdict != results.Fail {
		switch cl := hello.ClassifyOutput(reply, []byte(o.Client.Stdout)); cl.Verdict {
		case hello.Strict:
		case hello.Lenient:
			v.lenient("client prints the reply with other text on the line (HELLO-7)")
		default:
			v.fail("pair", "%s's hello-client did not print the server's reply %q (HELLO-7): %s.\nclient command: %s\n%s\nserver: %s", c.Client, reply, cl.Reason, argv(o.Client.Command), tails(o.Client), tails(o.Server))
		}
	}
	switch cl := hello.ClassifyOutput(want, []byte(o.Server.Stdout)); cl.Verdict {
	case hello.Strict:
	case hello.Lenient:
		v.lenient("server prints the client's message with other text on the line (HELLO-11)")
	default:
		v.fail("pair", "%s's hello-server did not print the client's message %q (HELLO-11): %s.\nserver command: %s\n%s", c.Server, want, cl.Reason, argv(o.Server.Command), tails(o.Server))
	}
	if c.Feature == string(registry.Challenge) && o.SimIP != "" {
		if cl := hello.ClassifyOutput(o.SimIP, []byte(o.Server.Stdout)); cl.Verdict == hello.Mismatch {
			v.fail("server", "%s's challenge server did not print the client's IP address %s (HELLO-21): %s", c.Server, o.SimIP, cl.Reason)
		}
	}
	for _, w := range []struct {
		who, expected string
		raw           []byte
		judged        bool
	}{{"client", want, o.WireClientToServer, clientWire}, {"server", reply, o.WireServerToClient, serverWire}} {
		if w.raw == nil || !w.judged {
			continue // no wire capture for this cell
		}
		switch cl := hello.ClassifyWire(w.expected, w.raw); cl.Verdict {
		case hello.Strict:
		case hello.Lenient:
			for _, l := range cl.Leniencies {
				v.lenient(fmt.Sprintf("%s's message on the wire: %s (HELLO-1, HELLO-15)", w.who, l))
			}
		default:
			v.fail(w.who, "the %s sent %s on the wire, not %q: %s (HELLO-1, HELLO-3/4)", w.who, quoteOut(string(w.raw)), w.expected, cl.Reason)
		}
	}
	if !o.ServerStillRunning && o.Server.ExitCode != nil {
		if *o.Server.ExitCode == 0 {
			v.lenient("server exits after one client instead of serving forever (HELLO-13)")
		} else {
			v.fail("server", "%s's hello-server exited with code %d after the client (HELLO-13: serve forever).\n%s", c.Server, *o.Server.ExitCode, tails(o.Server))
		}
	}
}

func judgeRUDP(o *Observation, v verdict) {
	c := o.Cell
	tr := &results.Transfer{InputBytes: int64(c.Size.Bytes), InputSHA256: o.InputSHA256}
	v.r.Transfer = tr
	defer checkWire(o, v)
	if v.r.Verdict == results.Fail {
		// The sender failed; say what the receiver had by then.
		if files, partial := outputs(o.OutputDir); len(files)+len(partial) > 0 {
			v.r.Reason += fmt.Sprintf("\nreceiver output folder: %s", strings.Join(append(files, partial...), ", "))
		}
		return
	}
	files, partial := outputs(o.OutputDir)
	switch {
	case len(files) == 0 && c.Server == registry.ReferenceName && c.Client != registry.ReferenceName:
		// The reference receiver is the fixed point: a sender that exits 0
		// without a transfer completing there stopped before end was acked.
		v.fail("client", "%s's rudp-sender exited 0, but the reference receiver completed no transfer from it: a sender may exit 0 only after its end was acknowledged (RUDP-45)%s.\nsender command: %s\n%s",
			c.Client, partialNote(partial), argv(o.Client.Command), tails(o.Client))
		return
	case len(files) == 0:
		v.fail("server", "the sender finished, but %s's rudp-receiver wrote no complete file into its output directory (RUDP-14, MANIFEST-11)%s.\nreceiver command: %s\n%s",
			c.Server, partialNote(partial), argv(o.Server.Command), tails(o.Server))
		return
	case len(files) > 1:
		v.fail("server", "%s's rudp-receiver wrote %d files for one transfer: %s (MANIFEST-11: one file per transfer)", c.Server, len(files), strings.Join(files, ", "))
		return
	}
	tr.OutputFile = files[0]
	got, err := os.ReadFile(filepath.Join(o.OutputDir, files[0]))
	if err != nil {
		v.fail("server", "cannot read the receiver's output %s: %v", files[0], err)
		return
	}
	sum := sha256.Sum256(got)
	tr.OutputBytes, tr.OutputSHA256 = int64(len(got)), hex.EncodeToString(sum[:])
	if tr.OutputSHA256 != o.InputSHA256 {
		want, _ := os.ReadFile(o.InputPath)
		v.fail("pair", "the received file differs from the one sent: %s (RUDP-14). Sender %s, receiver %s.", diffAt(want, got), c.Client, c.Server)
	}
}

// checkWire runs the wire checker on the simulator's trace: its findings go
// into the result, its stats into the transfer, a failed property fails
// the cell (a MUST was broken on the wire) and a non-strict one makes a pass
// lenient, named.
func checkWire(o *Observation, v verdict) {
	f, err := os.Open(o.TracePath)
	if err != nil {
		return // no trace (the cell ended before the simulator ran)
	}
	defer f.Close()
	rep, err := wirecheck.Analyze(f)
	if err != nil {
		v.r.Findings = append(v.r.Findings, results.Finding{Property: "trace", Grade: string(wirecheck.NonStrict), Detail: "the trace could not be analysed: " + err.Error()})
		return
	}
	st := rep.Stats
	tr := v.r.Transfer
	tr.DurationMS, tr.GoodputBps, tr.Packets, tr.Unique = st.DurationMS, st.GoodputBps, st.PacketsSent, st.UniqueData
	tr.TxPerPacket, tr.Retransmits, tr.MaxInFlight = st.TxPerDelivered, st.Retransmissions, st.MaxInFlight
	for _, p := range rep.Properties {
		v.r.Findings = append(v.r.Findings, results.Finding{Property: p.Name, Requirement: p.Req, Grade: string(p.Grade), Detail: p.Detail})
		if !p.Exercised && p.Grade == wirecheck.Pass {
			continue
		}
		switch p.Grade {
		case wirecheck.Fail:
			if v.r.Verdict != results.Fail {
				v.fail(blameFor(p.Req), "wire checker: %s (%s): %s", p.Name, p.Req, p.Detail)
			} else {
				v.r.Reason += fmt.Sprintf("\nwire checker: %s (%s): %s", p.Name, p.Req, p.Detail)
			}
		case wirecheck.NonStrict:
			v.lenient(fmt.Sprintf("%s (%s): %s", p.Name, p.Req, p.Detail))
		}
	}
}

// blameFor says which side a requirement binds: RUDP-40 and up are the
// sender's, RUDP-10..39 the receiver's.
func blameFor(req string) string {
	var n int
	if _, err := fmt.Sscanf(req, "RUDP-%d", &n); err != nil {
		return "pair"
	}
	switch {
	case n >= 40:
		return "client"
	case n >= 10:
		return "server"
	}
	return "pair"
}

// outputs lists the complete files and the .partial files in dir.
func outputs(dir string) (files, partial []string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			if e.Type()&os.ModeSymlink != 0 || e.IsDir() {
				files = append(files, e.Name()+" (not a regular file)")
			}
			continue
		}
		if strings.HasSuffix(e.Name(), ".partial") {
			partial = append(partial, e.Name())
		} else {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	sort.Strings(partial)
	return files, partial
}

// OutputLimitMiB is the runner's limit on a receiver's output folder, for
// the reason given when it is exceeded (MANIFEST-16).
const OutputLimitMiB = 64

// DirBytes is the total size of the regular files directly in dir and
// below it (a receiver may make folders); links are not followed.
func DirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// HasOutput reports whether a complete output file exists yet.
func HasOutput(dir string) bool {
	files, _ := outputs(dir)
	return len(files) > 0
}

func partialNote(partial []string) string {
	if len(partial) == 0 {
		return ""
	}
	return "; it left " + strings.Join(partial, ", ")
}

func diffAt(want, got []byte) string {
	n := min(len(want), len(got))
	for i := 0; i < n; i++ {
		if want[i] != got[i] {
			return fmt.Sprintf("first difference at byte %d (sent 0x%02x, received 0x%02x); sent %d bytes, received %d", i, want[i], got[i], len(want), len(got))
		}
	}
	if len(got) < len(want) {
		return fmt.Sprintf("received only the first %d of %d bytes", len(got), len(want))
	}
	return fmt.Sprintf("received %d bytes more than the %d sent", len(got)-len(want), len(want))
}

func argv(a []string) string {
	var b strings.Builder
	for i, s := range a {
		if i > 0 {
			b.WriteByte(' ')
		}
		if s == "" || strings.ContainsAny(s, " \t\n'\"\\$;|&<>*?") {
			b.WriteString("'" + strings.ReplaceAll(s, "'", `'\''`) + "'")
		} else {
			b.WriteString(s)
		}
	}
	return b.String()
}

// Tail is how many lines of each stream a reason quotes.
const Tail = 8

func tails(p *results.Program) string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	code := "still running"
	if p.ExitCode != nil {
		code = fmt.Sprintf("exit code %d", *p.ExitCode)
	}
	fmt.Fprintf(&b, "%s %s (%s)", p.Impl, p.Role, code)
	if p.ForkRefusals > 0 {
		fmt.Fprintf(&b, "; it hit its process limit: the kernel refused it %d new processes (MANIFEST-16)", p.ForkRefusals)
	}
	for _, s := range []struct{ name, text string }{{"stdout", p.Stdout}, {"stderr", p.Stderr}} {
		t := lastN(s.text, Tail)
		if t == "" {
			fmt.Fprintf(&b, "; %s empty", s.name)
			continue
		}
		fmt.Fprintf(&b, "\n  last lines of %s:\n%s", s.name, indent(t))
	}
	return b.String()
}

func lastN(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 300 {
			lines[i] = l[:300] + "…"
		}
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string { return "    | " + strings.ReplaceAll(s, "\n", "\n    | ") }

func quoteOut(s string) string {
	if strings.TrimSpace(s) == "" {
		return "nothing"
	}
	t := lastN(s, 3)
	return fmt.Sprintf("%q", t)
}

// SHA256File hashes a file (used by tests and reports).
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
