package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/agentproto"
)

// startAgent serves a real agent (it forks real programs) on a socket in
// a temporary folder, reaping on SIGCHLD as `agent idle` does. The test
// process is not PID 1, so its resets are refused: kill(-1) never runs.
func startAgent(t *testing.T, resetDirs ...string) (*agent, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "agent-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	a := newAgent("test-id", resetDirs)
	sock := filepath.Join(dir, "agent.sock")
	if err := a.listen(sock); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGCHLD)
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond) // signals may coalesce
		defer t.Stop()
		for {
			select {
			case <-sigs:
			case <-t.C:
			case <-stop:
				return
			}
			a.reap()
		}
	}()
	t.Cleanup(func() { signal.Stop(sigs); close(stop) })
	return a, sock
}

type result struct {
	reply          agentproto.Reply
	stdout, stderr string
	exit           *agentproto.ExitStatus
	exitAt         time.Time
}

// send sends lines and reads frames until the agent closes; after is
// called once the reply has arrived.
func send(t *testing.T, sock string, line string, after func(c net.Conn)) result {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, line+"\n")
	var r result
	br := bufio.NewReader(c)
	var buf []byte
	for {
		typ, p, err := agentproto.ReadFrame(br, &buf)
		if err != nil {
			if err != io.EOF {
				t.Fatalf("%s: %v", line, err)
			}
			return r
		}
		switch typ {
		case agentproto.FrameReply:
			json.Unmarshal(p, &r.reply)
			if after != nil {
				after(c)
			}
		case agentproto.FrameStdout:
			r.stdout += string(p)
		case agentproto.FrameStderr:
			r.stderr += string(p)
		case agentproto.FrameExit:
			r.exit = &agentproto.ExitStatus{}
			r.exitAt = time.Now()
			json.Unmarshal(p, r.exit)
		}
	}
}

func execLine(argv ...string) string {
	return strings.TrimSuffix(string(agentproto.Request{Op: agentproto.OpExec, Argv: argv, Dir: "/"}.Marshal()), "\n")
}

func TestExecOutputAndExit(t *testing.T) {
	_, sock := startAgent(t)
	r := send(t, sock, execLine("sh", "-c", "echo out; echo err >&2; printf 'a\\000b'; exit 3"), nil)
	if r.reply.Error != "" || r.reply.PID <= 0 {
		t.Fatalf("reply %+v", r.reply)
	}
	if r.stdout != "out\na\x00b" || r.stderr != "err\n" || r.exit == nil || r.exit.Code != 3 {
		t.Errorf("stdout %q stderr %q exit %+v", r.stdout, r.stderr, r.exit)
	}
	// A large output arrives whole, in frames.
	r = send(t, sock, execLine("sh", "-c", "head -c 300000 /dev/zero"), nil)
	if len(r.stdout) != 300000 || r.exit == nil || r.exit.Code != 0 {
		t.Errorf("got %d bytes, exit %+v", len(r.stdout), r.exit)
	}
}

func TestExecNotFound(t *testing.T) {
	_, sock := startAgent(t)
	for argv0, want := range map[string]string{"no-such-program": "executable file not found", "/no/such/program": "no such file or directory"} {
		r := send(t, sock, execLine(argv0), nil)
		if !strings.Contains(r.reply.Error, want) || r.exit != nil {
			t.Errorf("%s: reply %+v exit %+v", argv0, r.reply, r.exit)
		}
	}
}

func TestSignalOnTheExecConnection(t *testing.T) {
	_, sock := startAgent(t)
	start := time.Now()
	r := send(t, sock, execLine("sleep", "30"), func(c net.Conn) {
		c.Write([]byte("not json\n"))                      // ignored
		c.Write([]byte(`{"op":"signal","sig":19}` + "\n")) // SIGSTOP: refused
		c.Write(agentproto.Request{Op: agentproto.OpSignal, Sig: int(syscall.SIGTERM)}.Marshal())
	})
	if r.exit == nil || r.exit.Code != 143 || r.exit.Signal != 15 || time.Since(start) > 10*time.Second {
		t.Errorf("exit %+v after %s", r.exit, time.Since(start))
	}
	// A signal without an exec is refused.
	if r := send(t, sock, `{"op":"signal","sig":15}`, nil); r.reply.Error == "" {
		t.Error("a lone signal was accepted")
	}
}

// The client going away stops nothing: the program runs to its end.
func TestCloseDoesNotKill(t *testing.T) {
	_, sock := startAgent(t)
	dir, _ := os.MkdirTemp("", "agent-close-")
	os.Chmod(dir, 0o777) // the program may run as 65534
	defer os.RemoveAll(dir)
	mark := filepath.Join(dir, "done")
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, execLine("sh", "-c", "sleep 0.3; echo x > "+mark+"; echo lots; head -c 1000000 /dev/zero")+"\n")
	var buf []byte
	if typ, _, err := agentproto.ReadFrame(c, &buf); err != nil || typ != agentproto.FrameReply {
		t.Fatalf("%c %v", typ, err)
	}
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(mark); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the program did not finish after its connection closed")
}

// A program that leaves a child holding its stdout still gets its exit
// status reported soon after it exits.
func TestExitWithChildHoldingOutput(t *testing.T) {
	_, sock := startAgent(t)
	var r result
	start := time.Now()
	var exitAfter time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		r = send(t, sock, execLine("sh", "-c", "sleep 3 & echo parent"), nil)
	}()
	<-done
	if r.exit == nil || r.exit.Code != 0 || !strings.HasPrefix(r.stdout, "parent") {
		t.Fatalf("exit %+v stdout %q", r.exit, r.stdout)
	}
	exitAfter = r.exitAt.Sub(start)
	if exitAfter > 2500*time.Millisecond {
		t.Errorf("the exit came %s after the start: it waited for the child", exitAfter)
	}
}

func TestResetRules(t *testing.T) {
	_, sock := startAgent(t, "/tmp", "/out")
	if r := send(t, sock, `{"op":"reset","dirs":["/etc"]}`, nil); !strings.Contains(r.reply.Error, "not a folder this agent may empty") {
		t.Errorf("reset of /etc: %+v", r.reply)
	}
	// Allowed folders, but the test process is not PID 1: refused, and
	// nothing was killed (this test is still running).
	if r := send(t, sock, `{"op":"reset","dirs":["/tmp"]}`, nil); !strings.Contains(r.reply.Error, "not PID 1") {
		t.Errorf("reset outside a container: %+v", r.reply)
	}
	if r := send(t, sock, `{"op":"ping"}`, nil); r.reply.ID != "test-id" || r.reply.PID != os.Getpid() {
		t.Errorf("ping: %+v", r.reply)
	}
}

func TestRunsAsNobodyWhenRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	_, sock := startAgent(t)
	r := send(t, sock, execLine("id", "-u"), nil)
	if strings.TrimSpace(r.stdout) != "65534" {
		t.Errorf("a program of a root agent runs as %q", r.stdout)
	}
	if r := send(t, sock, `{"op":"ping"}`, nil); r.reply.UID != 65534 {
		t.Errorf("ping: %+v", r.reply)
	}
}

// Connections beyond the limit are closed at once; the agent serves again
// once they are gone. Idle connections are dropped after requestWithin.
func TestConnectionLimit(t *testing.T) {
	_, sock := startAgent(t)
	var conns []net.Conn
	for i := 0; i < maxConns+5; i++ {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(200 * time.Millisecond)
	c, _ := net.Dial("unix", sock)
	c.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(c, `{"op":"ping"}`+"\n")
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("a connection beyond the limit was served")
	}
	c.Close()
	for _, c := range conns {
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	if r := send(t, sock, `{"op":"ping"}`, nil); r.reply.ID != "test-id" {
		t.Errorf("after the flood: %+v", r.reply)
	}
}

// fakeSystem starts nothing and resets nothing: the fuzz test drives
// serve with any bytes at all.
type fakeSystem struct{ mu sync.Mutex }

func (f *fakeSystem) start(q agentproto.Request) (*child, error) {
	if q.Argv[0] == "fail" {
		return nil, os.ErrNotExist
	}
	ch := &child{pid: 42, stdout: io.NopCloser(strings.NewReader(strings.Join(q.Argv, " "))),
		stderr: io.NopCloser(strings.NewReader(q.Dir)), exited: make(chan syscall.WaitStatus, 1)}
	ch.signal = func(syscall.Signal) error { return nil }
	ch.exited <- syscall.WaitStatus(0)
	return ch, nil
}

func (f *fakeSystem) reset([]string) error { return nil }

// Any program in the container can write anything to the socket: serve
// must answer or hang up, never crash or hang, whatever it gets.
func FuzzServe(f *testing.F) {
	for _, s := range []string{`{"op":"ping"}`, `{"op":"exec","argv":["a","b"]}` + "\n" + `{"op":"signal","sig":9}`,
		`{"op":"reset","dirs":["/tmp"]}`, `{"op":"reset","dirs":["/etc"]}`, `{"op":"exec","argv":["fail"]}`, "\n\n", `{"op":"signal","sig":15}`} {
		f.Add([]byte(s + "\n"))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		a := newAgent("fuzz", []string{"/tmp"})
		a.sys = &fakeSystem{}
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		server, client := fileConn(t, fds[0]), fileConn(t, fds[1])
		served := make(chan struct{})
		go func() { defer close(served); a.serve(server) }()
		client.SetDeadline(time.Now().Add(5 * time.Second))
		go func() { client.Write(in); client.(*net.UnixConn).CloseWrite() }()
		var buf []byte
		for {
			if _, _, err := agentproto.ReadFrame(client, &buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("serve hung on %q", in)
				}
				break
			}
		}
		client.Close()
		select {
		case <-served:
		case <-time.After(5 * time.Second):
			t.Fatalf("serve did not return for %q", in)
		}
	})
}

func fileConn(t *testing.T, fd int) net.Conn {
	f := os.NewFile(uintptr(fd), "socket")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
