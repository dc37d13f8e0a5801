package judge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
)

func impl(name, lang string, needsIP bool) registry.Impl {
	return registry.Impl{Name: name, Manifest: registry.Manifest{Language: lang, Roles: map[registry.Role]registry.RoleConfig{
		registry.HelloClient: {Command: []string{"c"}, NeedsIP: needsIP}, registry.HelloServer: {Command: []string{"s"}},
		registry.RUDPSender: {Command: []string{"snd"}}, registry.RUDPReceiver: {Command: []string{"rcv"}},
	}}}
}

func code(n int) *int { return &n }

func helloObs(clientOut, serverOut string, serverRunning bool, serverExit *int) *Observation {
	return &Observation{
		Cell:       cases.Cell{Protocol: cases.Hello, Client: "py", Server: "rs", Scenario: "tcp-clean"},
		ClientImpl: impl("py", "Python", false), ServerImpl: impl("rs", "Rust", false),
		Client:             &results.Program{Impl: "py", Role: "hello-client", ExitCode: code(0), Stdout: clientOut, Command: []string{"python3", "hello.py", "sim", "9000"}},
		Server:             &results.Program{Impl: "rs", Role: "hello-server", Stdout: serverOut, ExitCode: serverExit},
		ServerStillRunning: serverRunning,
	}
}

func TestJudgeHello(t *testing.T) {
	tests := []struct {
		name   string
		obs    *Observation
		want   results.Verdict
		reason string
	}{
		{"strict", helloObs("Goodbye in Rust\n", "Hello in Python\n", true, nil), results.Pass, ""},
		{"server exits after one client", helloObs("Goodbye in Rust\n", "Hello in Python\n", false, code(0)), results.Lenient, "HELLO-13"},
		{"server crashes after", helloObs("Goodbye in Rust\n", "Hello in Python\n", false, code(2)), results.Fail, "exited with code 2"},
		{"whitespace on stdout is not the program's fault", helloObs("Goodbye in Rust \n", "Hello in Python\r\n", true, nil), results.Pass, ""},
		{"reply inside other text", helloObs("Server said: Goodbye in Rust\n", "Hello in Python\n", true, nil), results.Lenient, "HELLO-7"},
		{"wrong reply", helloObs("Goodbye in Rusty\n", "Hello in Python\n", true, nil), results.Fail, `did not print the server's reply "Goodbye in Rust"`},
		{"nothing printed by server", helloObs("Goodbye in Rust\n", "", true, nil), results.Fail, "nothing was printed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r results.Result
			Judge(tt.obs, &r)
			if r.Verdict != tt.want || !strings.Contains(r.Reason+strings.Join(r.Leniencies, ";"), tt.reason) {
				t.Fatalf("verdict %s, reason %q, leniencies %v; want %s containing %q", r.Verdict, r.Reason, r.Leniencies, tt.want, tt.reason)
			}
		})
	}
	// A client that exits non-zero fails, and the reason quotes its command and stderr.
	o := helloObs("", "Hello in Python\n", true, nil)
	o.Client.ExitCode, o.Client.Stderr = code(1), "ConnectionRefusedError: [Errno 111]\n"
	var r results.Result
	Judge(o, &r)
	if r.Verdict != results.Fail || r.Blame != "client" || !strings.Contains(r.Reason, "python3 hello.py sim 9000") || !strings.Contains(r.Reason, "Errno 111") {
		t.Fatalf("got %s blame %s: %s", r.Verdict, r.Blame, r.Reason)
	}
	// Exit 127 is "unsupported" (MANIFEST-13).
	o = helloObs("", "", true, nil)
	o.Client.ExitCode = code(127)
	r = results.Result{}
	Judge(o, &r)
	if r.Verdict != results.Unsupported {
		t.Fatalf("exit 127: got %s", r.Verdict)
	}
	// Server never listening fails the server.
	o = helloObs("", "", false, code(1))
	o.ServerNotListening = "never started listening on tcp port 123"
	r = results.Result{}
	Judge(o, &r)
	if r.Verdict != results.Fail || r.Blame != "server" {
		t.Fatalf("not listening: %s %s", r.Verdict, r.Blame)
	}
	// Wire bytes: a message without its newline is lenient, a wrong one fails.
	o = helloObs("Goodbye in Rust\n", "Hello in Python\n", true, nil)
	o.WireClientToServer, o.WireServerToClient = []byte("Hello in Python"), []byte("Goodbye in Rust\n")
	r = results.Result{}
	Judge(o, &r)
	if r.Verdict != results.Lenient || !strings.Contains(strings.Join(r.Leniencies, ";"), "client's message on the wire: no trailing newline") {
		t.Fatalf("wire without newline: %s %v", r.Verdict, r.Leniencies)
	}
	o.WireServerToClient = []byte("Goodbye in Go\n")
	r = results.Result{}
	Judge(o, &r)
	if r.Verdict != results.Fail || r.Blame != "server" {
		t.Fatalf("wrong reply on the wire: %s %s %s", r.Verdict, r.Blame, r.Reason)
	}
	// Needs IP: lenient, with the leniency named.
	o = helloObs("Goodbye in Rust\n", "Hello in Python\n", true, nil)
	o.ClientImpl = impl("py", "Python", true)
	r = results.Result{}
	Judge(o, &r)
	if r.Verdict != results.Lenient || !strings.Contains(r.Leniencies[0], "IP address") {
		t.Fatalf("needs ip: %s %v", r.Verdict, r.Leniencies)
	}
}

func rudpObs(t *testing.T, input []byte, outputs map[string][]byte, senderExit int) *Observation {
	dir := t.TempDir()
	in := filepath.Join(dir, "input.bin")
	os.WriteFile(in, input, 0o644)
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	for name, b := range outputs {
		os.WriteFile(filepath.Join(out, name), b, 0o644)
	}
	sum, _ := SHA256File(in)
	return &Observation{
		Cell:       cases.Cell{Protocol: cases.RUDP, Client: "py", Server: "rs", Scenario: "clean", Size: cases.Size{Name: "x", Bytes: len(input)}},
		ClientImpl: impl("py", "Python", false), ServerImpl: impl("rs", "Rust", false),
		Client: &results.Program{Impl: "py", ExitCode: code(senderExit)}, Server: &results.Program{Impl: "rs"},
		InputPath: in, InputSHA256: sum, OutputDir: out, ServerStillRunning: true,
	}
}

func TestJudgeRUDP(t *testing.T) {
	data := []byte("a|b\x00c\xffd")
	tests := []struct {
		name    string
		outputs map[string][]byte
		exit    int
		want    results.Verdict
		reason  string
	}{
		{"identical", map[string][]byte{"172.18.0.3.4000": data}, 0, results.Pass, ""},
		{"identical, partial of an older transfer ignored", map[string][]byte{"f": data, "g.partial": []byte("x")}, 0, results.Pass, ""},
		{"one wrong byte", map[string][]byte{"f": []byte("a|b\x00C\xffd")}, 0, results.Fail, "first difference at byte 4 (sent 0x63, received 0x43)"},
		{"truncated", map[string][]byte{"f": data[:3]}, 0, results.Fail, "received only the first 3 of 7 bytes"},
		{"too long", map[string][]byte{"f": append(append([]byte{}, data...), 'x')}, 0, results.Fail, "1 bytes more"},
		{"no file", map[string][]byte{"f.partial": data}, 0, results.Fail, "wrote no complete file"},
		{"two files", map[string][]byte{"f": data, "g": data}, 0, results.Fail, "wrote 2 files"},
		{"sender failed", map[string][]byte{}, 1, results.Fail, "exited with code 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r results.Result
			Judge(rudpObs(t, data, tt.outputs, tt.exit), &r)
			if r.Verdict != tt.want || !strings.Contains(r.Reason, tt.reason) {
				t.Fatalf("verdict %s reason %q; want %s containing %q", r.Verdict, r.Reason, tt.want, tt.reason)
			}
		})
	}
}

// TestOutputOverLimit: a receiver the runner stopped for filling its output
// folder fails, blamed on it, even though the sender failed too (it lost
// its receiver) and even if a correct file is also there (MANIFEST-16).
func TestOutputOverLimit(t *testing.T) {
	data := []byte("payload")
	for _, senderExit := range []int{0, 1} {
		o := rudpObs(t, data, map[string][]byte{"f": data}, senderExit)
		o.OutputOverLimit.Store(70 << 20)
		var r results.Result
		Judge(o, &r)
		if r.Verdict != results.Fail || r.Blame != "server" || !strings.Contains(r.Reason, "wrote 70 MiB into its output directory, more than the 64 MiB") {
			t.Fatalf("sender exit %d: %s blamed on %q: %s", senderExit, r.Verdict, r.Blame, r.Reason)
		}
	}
	if n := DirBytes(t.TempDir()); n != 0 {
		t.Fatalf("empty folder: %d bytes", n)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "a"), make([]byte, 10), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "b"), make([]byte, 5), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "link"))
	if n := DirBytes(dir); n != 15 {
		t.Fatalf("DirBytes = %d, want 15 (files below, links not followed)", n)
	}
}

// TestReferenceClientFailsAgainstServer: the reference client's failure
// against a student's server is told as the server's problem, with what
// the reference said (a server that sends 100 MB without a newline).
func TestReferenceClientFailsAgainstServer(t *testing.T) {
	o := helloObs("", "", true, nil)
	o.Cell.Client, o.ClientImpl = registry.ReferenceName, impl(registry.ReferenceName, "Go", false)
	o.Client.Impl, o.Client.ExitCode = registry.ReferenceName, code(1)
	o.Client.Stderr = "hello client: reply from sim:9000: message longer than 65536 bytes\n"
	var r results.Result
	Judge(o, &r)
	if r.Verdict != results.Fail || r.Blame != "server" ||
		!strings.Contains(r.Reason, "the reference hello-client failed against rs's hello-server: it exited with code 1") ||
		!strings.Contains(r.Reason, "message longer than 65536 bytes") {
		t.Fatalf("%s blamed on %q: %s", r.Verdict, r.Blame, r.Reason)
	}
}

// TestSenderExitsZeroWithoutTransfer: a sender that exits 0 having sent
// nothing is told so, not the reference receiver (RUDP-45).
func TestSenderExitsZeroWithoutTransfer(t *testing.T) {
	o := rudpObs(t, []byte("data"), nil, 0)
	o.Cell.Server, o.ServerImpl = registry.ReferenceName, impl(registry.ReferenceName, "Go", false)
	var r results.Result
	Judge(o, &r)
	if r.Verdict != results.Fail || r.Blame != "client" || !strings.Contains(r.Reason, "py's rudp-sender exited 0, but the reference receiver completed no transfer") {
		t.Fatalf("%s blamed on %q: %s", r.Verdict, r.Blame, r.Reason)
	}
}

// A program that hit its process limit says so in every reason that
// describes it (MANIFEST-16): "did not finish" alone hides the cause.
func TestTailsNameTheProcessLimit(t *testing.T) {
	code := 143
	p := &results.Program{Impl: "bomb", Role: "hello-client", ExitCode: &code, ForkRefusals: 59, Stderr: "fork failed\n"}
	got := tails(p)
	if !strings.Contains(got, "it hit its process limit: the kernel refused it 59 new processes (MANIFEST-16)") {
		t.Fatalf("tails does not name the process limit:\n%s", got)
	}
	p.ForkRefusals = 0
	if strings.Contains(tails(p), "process limit") {
		t.Fatalf("a program with no refused fork is said to have hit the limit:\n%s", tails(p))
	}
}
