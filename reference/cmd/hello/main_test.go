package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/interop-suite/interop/reference/hello"
)

const patience = 20 * time.Second

// The test binary doubles as the command, for the tests that need a process.
func TestMain(m *testing.M) {
	if os.Getenv("HELLO_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    string
		role    string
		pos     string
		lang    string
		chall   bool
		half    hello.HalfClose
		noNL    bool
		timeout time.Duration
	}{
		{args: "client server 4000", role: "client", pos: "server 4000", lang: "Go"},
		{args: "--lang Rust client server 4000", role: "client", pos: "server 4000", lang: "Rust"},
		{args: "client --lang Rust server 4000", role: "client", pos: "server 4000", lang: "Rust"},
		{args: "client server 4000 --lang=Rust", role: "client", pos: "server 4000", lang: "Rust"},
		{args: "-lang Rust client -half-close now -no-newline server 4000", role: "client", pos: "server 4000", lang: "Rust", half: hello.HalfCloseNow, noNL: true},
		{args: "client --timeout 3s 10.0.0.2 4000", role: "client", pos: "10.0.0.2 4000", lang: "Go", timeout: 3 * time.Second},
		{args: "server 4000", role: "server", pos: "4000", lang: "Go"},
		{args: "--challenge server 4000", role: "server", pos: "4000", lang: "Go", chall: true},
		{args: "server --challenge --lang C++ 4000", role: "server", pos: "4000", lang: "C++", chall: true},
		{args: "server 4000 --challenge", role: "server", pos: "4000", lang: "Go", chall: true},
		{args: "server 0", role: "server", pos: "0", lang: "Go"},
		{args: "client -- -host 4000", role: "client", pos: "-host 4000", lang: "Go"},
	}
	for _, tc := range tests {
		var stderr bytes.Buffer
		o, err := parse(strings.Fields(tc.args), &stderr)
		if err != nil {
			t.Errorf("parse(%q): %v\n%s", tc.args, err, stderr.String())
			continue
		}
		if tc.timeout == 0 {
			tc.timeout = hello.DefaultTimeout
		}
		if o.role != tc.role || strings.Join(o.args, " ") != tc.pos || o.lang != tc.lang || o.challenge != tc.chall ||
			o.halfClose != tc.half || o.noNewline != tc.noNL || o.timeout != tc.timeout || o.idleGap != hello.DefaultIdleGap {
			t.Errorf("parse(%q) = %+v", tc.args, o)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ args, want string }{
		{"", "missing role"},
		{"talk 4000", `unknown role "talk"`},
		{"client server", "client takes HOST PORT, got 1 arguments"},
		{"client server 4000 extra", "client takes HOST PORT, got 3 arguments"},
		{"server", "server takes PORT, got 0 arguments"},
		{"server 4000 4001", "server takes PORT, got 2 arguments"},
		{"client --challenge server 4000", "--challenge applies to the server only"},
		{"server --half-close now 4000", "--half-close applies to the client only"},
		{"client --half-close later server 4000", `unknown half-close policy "later"`},
		{"client server http", `bad port "http"`},
		{"client server 0", `bad port "0"`},
		{"server 65536", `bad port "65536"`},
		{"server -1", "flag provided but not defined: -1"},
		{"--lang= server 4000", "--lang must not be empty"},
		{"--timeout 0s server 4000", "must be positive"},
		{"--colour server 4000", "flag provided but not defined: -colour"},
		{"--silent --no-newline client server 4000", "--silent cannot be combined"},
		{"server --silent --challenge 4000", "--silent cannot be combined"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), strings.Fields(tc.args), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) || !strings.Contains(stderr.String(), "usage:") {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and %q with the usage", tc.args, code, stderr.String(), tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("run(%q) wrote %q on stdout", tc.args, stdout.String())
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, io.Discard, &stderr); code != 0 || !strings.Contains(stderr.String(), "hello [flags] client HOST PORT") {
		t.Errorf("-h: %d, %q", code, stderr.String())
	}
}

// server runs "hello ARGS server 0" in-process until the test ends and
// returns its port and stdout.
func server(t *testing.T, args ...string) (port string, stdout *syncBuffer) {
	t.Helper()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- run(ctx, append(args, "server", "0"), stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case c := <-code:
			if c != 0 {
				t.Errorf("server exited %d; stderr:\n%s", c, stderr.String())
			}
		case <-time.After(patience):
			t.Errorf("server did not stop")
		}
	})
	for start := time.Now(); time.Since(start) < patience; time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], stdout
		}
	}
	t.Fatalf("server did not start; stderr:\n%s", stderr.String())
	return "", nil
}

var listening = regexp.MustCompile(`hello server: listening on \S*:(\d+)\n`)

func client(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(context.Background(), append([]string{"client"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func TestClientServer(t *testing.T) {
	t.Parallel()
	port, out := server(t, "--lang", "Rust")
	// HELLO-5: a host name is resolved; HELLO-10: the server listens on all
	// addresses, so loopback v4 and v6 both reach it.
	hosts := []string{"localhost", "127.0.0.1"}
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil { // some containers have no IPv6
		ln.Close()
		hosts = append(hosts, "::1")
	}
	for _, host := range hosts {
		code, stdout, stderr := client("--lang", "Perl", host, port)
		if code != 0 || stdout != "Goodbye in Rust\n" || stderr != "" { // HELLO-7
			t.Errorf("client %s: %d, stdout %q, stderr %q", host, code, stdout, stderr)
		}
	}
	if got := out.String(); got != strings.Repeat("Hello in Perl\n", len(hosts)) { // HELLO-11
		t.Errorf("server stdout %q", got)
	}
}

func TestChallenge(t *testing.T) {
	t.Parallel()
	port, out := server(t, "--challenge", "--lang", "Swift")
	code, stdout, _ := client("--lang", "Lua", "127.0.0.1", port)
	if code != 0 || stdout != "Goodbye Lua from Swift\n" { // HELLO-20
		t.Errorf("client: %d, %q", code, stdout)
	}
	if got := out.String(); got != "127.0.0.1\nHello in Lua\n" { // HELLO-21
		t.Errorf("server stdout %q", got)
	}
}

// TestProbes: the non-conforming framings the suite uses to test other
// programs work end to end (HELLO-2).
func TestProbes(t *testing.T) {
	t.Parallel()
	port, out := server(t, "--no-newline", "--idle-gap", "300ms")
	for _, hc := range []string{"now", "never"} {
		code, stdout, stderr := client("--no-newline", "--half-close", hc, "127.0.0.1", port)
		if code != 0 || stdout != "Goodbye in Go\n" || !strings.Contains(stderr, "the reply ended by close, not by a newline") {
			t.Errorf("client --half-close %s: %d, stdout %q, stderr %q", hc, code, stdout, stderr)
		}
	}
	if got := out.String(); got != "Hello in Go\nHello in Go\n" {
		t.Errorf("server stdout %q", got)
	}
}

// TestSilentServer: the probe peer of the client probe silent-server reads
// the message and then neither replies nor closes, even after the client
// half-closed; the reference client gives up with exit 1 and a message
// (HELLO-8).
func TestSilentServer(t *testing.T) {
	t.Parallel()
	port, out := server(t, "--silent")
	code, stdout, stderr := client("--timeout", "1s", "127.0.0.1", port)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "no reply from 127.0.0.1:"+port+" within 1s") {
		t.Errorf("client against the silent server: %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "Hello in C\n")
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	n, err := c.Read(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("silent server after a half-close: read %d bytes, %v; want nothing and no close", n, err)
	}
	if out.String() != "" {
		t.Errorf("silent server printed %q on stdout", out.String())
	}
}

// TestSilentClient: the probe peer of the server probe silent-client opens
// two connections (nothing, and "Hel"), says so on stderr, keeps them open
// until its timeout while other clients are served, and exits 0.
func TestSilentClient(t *testing.T) {
	t.Parallel()
	port, out := server(t, "--idle-gap", "300ms")
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"--silent", "--timeout", "2s", "client", "127.0.0.1", port}, io.Discard, &stderr)
	}()
	for start := time.Now(); !strings.Contains(stderr.String(), SilentReady); time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > patience {
			t.Fatalf("no %q on stderr: %q", SilentReady, stderr.String())
		}
	}
	if code, reply, _ := client("127.0.0.1", port); code != 0 || reply != "Goodbye in Go\n" {
		t.Errorf("client beside the silent connections: %d, %q", code, reply)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("silent client exited %d: %s", code, stderr.String())
		}
	case <-time.After(patience):
		t.Fatal("silent client did not end at its timeout")
	}
	// The reference server ended "Hel" by the idle gap and answered it.
	if !strings.Contains(stderr.String(), `connection 2 got "Goodbye in Go\n"`) || !strings.Contains(out.String(), "Hel\n") {
		t.Errorf("silent client stderr %q, server stdout %q", stderr.String(), out.String())
	}
}

// TestClientFailures: exit 1 with the reason on stderr, nothing on stdout
// (HELLO-8).
func TestClientFailures(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closedPort, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	_, silentPort, _ := net.SplitHostPort(silent.Addr().String())

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"127.0.0.1", closedPort}, "hello client: could not connect to 127.0.0.1:" + closedPort},
		{[]string{"--timeout", "1s", "127.0.0.1", silentPort}, "hello client: no reply from 127.0.0.1:" + silentPort + " within 1s"},
		{[]string{"no-such-host.invalid", "4000"}, `hello client: could not resolve host "no-such-host.invalid"`},
	}
	for _, tc := range tests {
		code, stdout, stderr := client(tc.args...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("client %q: %d, stdout %q, stderr %q; want 1 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// TestServerProcess runs the command as a process: it prints each message
// as it comes (stdout is not buffered, HELLO-11) and exits 0 on SIGTERM
// (HELLO-13).
func TestServerProcess(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "server", "0")
	cmd.Env = append(os.Environ(), "HELLO_TEST_RUN_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	errLines := bufio.NewReader(stderr)
	line, err := errLines.ReadString('\n')
	m := listening.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first stderr line %q, %v", line, err)
	}
	go io.Copy(io.Discard, errLines)

	outLines := bufio.NewReader(stdout)
	for _, lang := range []string{"Go", "C"} {
		if code, reply, _ := client("--lang", lang, "127.0.0.1", m[1]); code != 0 || reply != "Goodbye in Go\n" {
			t.Fatalf("client: %d, %q", code, reply)
		}
		// The line is there while the server still runs.
		line, err := outLines.ReadString('\n')
		if line != "Hello in "+lang+"\n" || err != nil {
			t.Fatalf("server stdout line %q, %v", line, err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(patience):
		t.Fatal("server did not exit on SIGTERM")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
