package containers

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// agentHost runs the real agent (conformance/cmd/agent) as a child of the
// test, not in a container, and returns a Host that talks to it with no
// Docker Engine behind it.
func agentHost(t *testing.T) (*Host, *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "agent")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/agent").CombinedOutput(); err != nil {
		t.Fatalf("build the agent: %v\n%s", err, out)
	}
	ctl := filepath.Join(dir, "ctl")
	os.Mkdir(ctl, 0o700)
	id := newAgentID()
	cmd := exec.Command(bin, "idle", "-ctl", ctl, "-id", id, "-reset-dirs", "/tmp")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	a, err := connectAgent(context.Background(), filepath.Join(ctl, "agent.sock"), cmd.Process.Pid, id, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{Container: &Container{Spec: Spec{Image: "test-image"}}, initPID: cmd.Process.Pid, agent: a}
	return h, cmd
}

func TestHostThroughAgent(t *testing.T) {
	h, _ := agentHost(t)
	ctx := context.Background()

	p, err := h.Exec(ctx, []string{"sh", "-c", `echo "$GREETING $HOME"; pwd; echo oops >&2; exit 7`}, "/tmp", map[string]string{"GREETING": "hi"})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := p.Wait(ctx, 10*time.Second)
	if err != nil || ex.Code != 7 || ex.TimedOut || p.Running(ctx) {
		t.Fatalf("exit %+v, %v", ex, err)
	}
	out, errOut := p.Output()
	if string(out.Bytes()) != "hi /tmp\n/tmp\n" || string(errOut.Bytes()) != "oops\n" {
		t.Errorf("stdout %q stderr %q", out.Bytes(), errOut.Bytes())
	}

	// The capture stays bounded whatever the program writes.
	p, _ = h.Exec(ctx, []string{"sh", "-c", "head -c 5000000 /dev/zero"}, "/", nil)
	if ex, err := p.Wait(ctx, 20*time.Second); err != nil || ex.Code != 0 {
		t.Fatalf("flood: %+v %v", ex, err)
	}
	out, _ = p.Output()
	if out.Total != 5000000 || len(out.Head)+len(out.Tail) > 2*Keep {
		t.Errorf("flood: total %d, kept %d", out.Total, len(out.Head)+len(out.Tail))
	}

	// A command that cannot run is the implementation's fault, as with
	// docker exec and with a container of its own.
	for _, argv0 := range []string{"no-such-program", "/no/such/file"} {
		if _, err := h.Exec(ctx, []string{argv0}, "/", nil); !IsCommandError(err) {
			t.Errorf("%s: %v is not a command error", argv0, err)
		}
	}
}

func TestStopAndTimeoutThroughAgent(t *testing.T) {
	h, _ := agentHost(t)
	ctx := context.Background()
	p, err := h.Exec(ctx, []string{"sleep", "30"}, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Running(ctx) {
		t.Fatal("not running")
	}
	start := time.Now()
	ex, err := p.Stop(ctx, 2*time.Second)
	if err != nil || ex.Code != 143 || time.Since(start) > 2*time.Second {
		t.Errorf("stop: %+v %v after %s", ex, err, time.Since(start))
	}
	// A program that ignores SIGTERM is killed after the grace.
	p, _ = h.Exec(ctx, []string{"sh", "-c", "trap '' TERM; sleep 30"}, "/", nil)
	time.Sleep(200 * time.Millisecond) // let the trap be set
	ex, err = p.Stop(ctx, 300*time.Millisecond)
	if err != nil || ex.Code != 137 || ex.OOMKilled {
		t.Errorf("stop of a TERM-ignoring program: %+v %v", ex, err)
	}
	// Wait's limit.
	p, _ = h.Exec(ctx, []string{"sleep", "30"}, "/", nil)
	ex, err = p.Wait(ctx, 300*time.Millisecond)
	if err != nil || !ex.TimedOut {
		t.Errorf("wait past the limit: %+v %v", ex, err)
	}
	if !h.Alive(ctx) {
		t.Error("the agent does not answer")
	}
}

// The agent going away mid-program (its container removed) is the
// suite's trouble, never an exit status of the program.
func TestAgentGoneMidProgram(t *testing.T) {
	h, cmd := agentHost(t)
	ctx := context.Background()
	p, err := h.Exec(ctx, []string{"sleep", "3"}, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Outside a container the agent's death does not take its programs
	// along; the socket closing is what the suite sees.
	syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
	_, err = p.Wait(ctx, 10*time.Second)
	if !errors.Is(err, ErrHostGone) {
		t.Errorf("got %v, want ErrHostGone", err)
	}
}

// Someone else listening on the socket's path (a program in the host may
// delete the socket and listen there) is refused: it is not the
// container's init.
func TestImpostorRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 100)) // the request
			c.Write([]byte("r\x00\x00\x00\x02{}"))
			c.Close()
		}
	}()
	_, err = connectAgent(context.Background(), path, os.Getpid()+1, "x", 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not by the container's init") {
		t.Errorf("got %v", err)
	}
	// The right pid but the wrong id (a reused pid) is refused too.
	_, err = connectAgent(context.Background(), path, os.Getpid(), "x", 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not as this host's agent") {
		t.Errorf("got %v", err)
	}
}
