package containers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/interop-suite/interop/conformance/agentproto"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// AgentPath is where the agent binary (conformance/cmd/agent) is mounted
// in every host container.
const AgentPath = "/.interop-agent"

// Host is a long-lived container whose programs are started by its agent
// (PID 1) on request over a Unix socket, or with docker exec where that
// socket cannot be used: one container start amortised over every cell a
// Ginkgo process runs for that implementation, instead of one per program.
type Host struct {
	*Container
	resetDirs []string
	// resetMu runs one agent reset at a time: a reset kills every other
	// process in the host, so two at once (a program's Stop and the end of
	// the cell) killed each other (exit 137, an infrastructure error).
	resetMu sync.Mutex
	// base holds the container's kernel counters after the last reset:
	// an OOM kill count above it means a program of this cell was
	// OOM-killed; the CPU time and refused forks since are the cell's
	// (UsageSinceReset).
	base cgroupCounters
	// cgMu guards cg, the container's counter files, resolved once its
	// init's pid is known.
	cgMu       sync.Mutex
	cg         cgroupFiles
	cgResolved bool
	initPID    int          // the agent's pid on the Docker host (0: unknown)
	agent      *agentClient // nil: programs start with docker exec
}

// agentStartup bounds how long a new host's agent may take to listen.
const agentStartup = 10 * time.Second

// agentUnusable remembers images whose hosts' agent socket failed once:
// their later hosts go straight to docker exec.
var agentUnusable sync.Map

// StartHost starts a host container: the image of an implementation with
// the agent as its init process. s.Cmd is ignored; agentBin is the agent's
// path on the Docker host; resetDirs are emptied by Reset.
func (e *Engine) StartHost(ctx context.Context, n *Network, s Spec, agentBin string, resetDirs ...string) (*Host, error) {
	id := newAgentID()
	s.Cmd = []string{AgentPath, "idle", "-ctl", agentproto.SocketDir, "-id", id,
		"-reset-dirs", strings.Join(append([]string{"/tmp"}, resetDirs...), ",")}
	s.Binds = append(append([]Bind{}, s.Binds...), Bind{Host: agentBin, Container: AgentPath, ReadOnly: true})
	tmpfs := map[string]string{agentproto.SocketDir: ctlTmpfs(s.Untrusted)}
	for k, v := range s.Tmpfs {
		tmpfs[k] = v
	}
	s.Tmpfs = tmpfs
	c, err := e.Start(ctx, n, s)
	if err != nil {
		return nil, err
	}
	h := &Host{Container: c, resetDirs: resetDirs, initPID: c.pid(ctx)}
	if _, bad := agentUnusable.Load(s.Image); !bad && os.Getenv("INTEROP_AGENT_SOCKET") != "0" {
		if a, err := connectAgent(ctx, agentSocket(h.initPID), h.initPID, id, agentStartup); err == nil {
			h.agent = a
		} else if ctx.Err() == nil {
			agentUnusable.Store(s.Image, true)
			logFallback(s.Image, err)
		}
	}
	return h, nil
}

// UsesAgent reports whether programs start through the agent's socket
// (false: docker exec).
func (h *Host) UsesAgent() bool { return h.agent != nil }

// Reset stops every program in the host and empties its scratch folders,
// so the next cell starts from nothing.
func (h *Host) Reset(ctx context.Context) error {
	if err := h.agentReset(ctx, append([]string{"/tmp"}, h.resetDirs...)...); err != nil {
		return err
	}
	h.base = h.cgroup(ctx).read()
	return nil
}

// Usage is what a host's programs used since its last reset, from the
// kernel's counters.
type Usage struct {
	CPU      time.Duration
	CPUKnown bool // false: the counter could not be read (a remote engine)
	// ForkRefusals counts the new processes the kernel refused because
	// the host was at its process limit (MANIFEST-16): what turns "did
	// not finish" into "hit its process limit" for a student.
	ForkRefusals int64
}

// UsageSinceReset is the CPU time every process of the host used since
// its last reset (a cell's programs, their children, and the agent's work
// for them: a few milliseconds), and the forks refused to them.
func (h *Host) UsageSinceReset(ctx context.Context) Usage {
	now := h.cgroup(ctx).read()
	var u Usage
	if h.base.cpuOK && now.cpuOK && now.cpu >= h.base.cpu {
		u.CPU, u.CPUKnown = now.cpu-h.base.cpu, true
	}
	if h.base.forkOK && now.forkOK && now.forkRefusals > h.base.forkRefusals {
		u.ForkRefusals = now.forkRefusals - h.base.forkRefusals
	}
	return u
}

// cgroup returns the host's counter files, resolving them on first use
// (and again while the agent's pid is unknown).
func (h *Host) cgroup(ctx context.Context) cgroupFiles {
	h.cgMu.Lock()
	defer h.cgMu.Unlock()
	if !h.cgResolved {
		pid := h.initPID
		if pid == 0 && h.e != nil {
			pid = h.pid(ctx)
		}
		if pid > 0 {
			h.cg, h.cgResolved = resolveCgroup(pid), true
		}
	}
	return h.cg
}

// KillAll stops every program in the host and keeps the files (the
// judge still has to read them).
func (h *Host) KillAll(ctx context.Context) error { return h.agentReset(ctx) }

func (h *Host) agentReset(ctx context.Context, dirs ...string) error {
	h.resetMu.Lock()
	defer h.resetMu.Unlock()
	if h.agent != nil {
		err := h.agent.reset(ctx, dirs, resetTimeout)
		var ae errAgent
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ae):
			return fmt.Errorf("reset of %s failed: %s", h.Spec.Image, ae.msg)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Errorf("reset of %s did not finish within %s", h.Spec.Image, resetTimeout)
		case ctx.Err() != nil:
			return err
		}
		// No answer on the socket (a program removed it, or the host is
		// gone): docker exec does the reset, or says what is wrong.
		logFallback(h.Spec.Image, err)
	}
	p, err := h.dockerExec(ctx, append([]string{AgentPath, "reset"}, dirs...), "/", nil)
	if err != nil {
		return err
	}
	// Generous: on a machine at load 40 the exec alone has been seen to
	// take over 10 s, and a reset cut short makes the cell an infra-error.
	ex, err := p.Wait(ctx, resetTimeout)
	if err != nil {
		return err
	}
	if ex.TimedOut {
		return fmt.Errorf("reset of %s did not finish within %s", h.Spec.Image, resetTimeout)
	}
	if ex.Code != 0 {
		return fmt.Errorf("reset of %s failed (exit %d): %s", h.Spec.Image, ex.Code, p.stderr.Bytes())
	}
	return nil
}

// oomKilledSinceReset reports whether the kernel OOM-killed a process of
// the host since its last reset, or the engine says the container was.
func (h *Host) oomKilledSinceReset(ctx context.Context) bool {
	if h.oomKilled(ctx) {
		return true
	}
	n, ok := h.cgroup(ctx).oomKills()
	return ok && h.base.oomOK && n > h.base.oomKills
}

// resetTimeout bounds one reset of a host between cells.
const resetTimeout = 45 * time.Second

// Proc is one program started in a host.
type Proc struct {
	h              *Host
	id             string // docker exec's id; "" when the agent started it
	PID            int    // on the Docker host; 0 if unknown (always, for the agent's programs)
	mu             sync.Mutex
	stdout, stderr Output
	done           chan struct{}
	started        time.Time

	// Programs started by the agent: the connection that streams their
	// output and exit status and carries signals. The fields below it are
	// set before done is closed.
	conn     *net.UnixConn
	wmu      sync.Mutex // writes on conn
	status   agentproto.ExitStatus
	lostExit *Exit // the connection ended without a status; the container says why
	lostErr  error
}

// Exec starts a program in the host and streams its output into bounded
// buffers. The program runs as the host's user with its working directory.
func (h *Host) Exec(ctx context.Context, cmd []string, workDir string, env map[string]string) (*Proc, error) {
	if h.agent != nil {
		p, err := h.agentExec(ctx, cmd, workDir, env)
		var ae errAgent
		var de errDial
		switch {
		case err == nil:
			return p, nil
		case errors.As(err, &ae):
			// Worded like docker's own errors: IsCommandError tells a
			// command that cannot run from the suite's trouble.
			return nil, fmt.Errorf("exec %s in %s: %s", cmd[0], h.Spec.Image, ae.msg)
		case !errors.As(err, &de) || ctx.Err() != nil:
			// The request may have reached the agent: never start the
			// program twice.
			return nil, fmt.Errorf("exec %s in %s: %w", cmd[0], h.Spec.Image, err)
		}
		logFallback(h.Spec.Image, err)
	}
	return h.dockerExec(ctx, cmd, workDir, env)
}

func (h *Host) agentExec(ctx context.Context, cmd []string, workDir string, env map[string]string) (*Proc, error) {
	q := agentproto.Request{Op: agentproto.OpExec, Argv: cmd, Dir: workDir, Env: []string{"HOME=/tmp"}}
	for k, v := range env {
		q.Env = append(q.Env, k+"="+v)
	}
	_, conn, br, err := h.agent.exec(ctx, q)
	if err != nil {
		return nil, err
	}
	p := &Proc{h: h, done: make(chan struct{}), started: time.Now(), conn: conn}
	go p.readAgent(br)
	return p, nil
}

// readAgent captures the program's output until the agent closes the
// connection (after the exit status and any late output), and ends the
// wait at the exit status, or at the connection's end without one.
func (p *Proc) readAgent(br *bufio.Reader) {
	defer p.conn.Close()
	var buf []byte
	exited := false
	for {
		typ, data, err := agentproto.ReadFrame(br, &buf)
		if err != nil {
			break
		}
		switch typ {
		case agentproto.FrameStdout:
			lockedCapture{p, &p.stdout}.Write(data)
		case agentproto.FrameStderr:
			lockedCapture{p, &p.stderr}.Write(data)
		case agentproto.FrameExit:
			if exited {
				continue
			}
			exited = true
			if err := json.Unmarshal(data, &p.status); err != nil {
				p.lostErr = fmt.Errorf("the agent of %s sent an unreadable exit status: %w", p.h.Spec.Image, err)
			}
			close(p.done)
		}
	}
	if !exited {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ex, err := p.h.lost(ctx)
		p.lostExit, p.lostErr = &ex, err
		close(p.done)
	}
}

// lost says why the agent's connection ended before the program's exit
// status: the container was removed or stopped (ErrHostGone), or killed
// for memory as a whole (an OOM kill of the program, as docker reports it).
func (h *Host) lost(ctx context.Context) (Exit, error) {
	if h.e == nil {
		return Exit{}, fmt.Errorf("%w: lost the agent of %s", ErrHostGone, h.Spec.Image) // a unit test's host
	}
	// The agent's socket closes the moment it dies; the engine may report
	// the container as running a little longer (a `docker rm -f` in
	// progress), so ask again for a few seconds.
	for try := 0; ; try++ {
		ins, err := h.e.cli.ContainerInspect(ctx, h.ID, client.ContainerInspectOptions{})
		if err != nil {
			if isGone(err) || isNotFound(err) {
				return Exit{}, fmt.Errorf("%w: %s was removed while its program ran", ErrHostGone, h.Spec.Image)
			}
			return Exit{}, fmt.Errorf("lost the agent of %s, and cannot inspect it: %w", h.Spec.Image, err)
		}
		st := ins.Container.State
		switch {
		case st == nil:
			return Exit{}, fmt.Errorf("lost the agent of %s", h.Spec.Image)
		case st.OOMKilled:
			return Exit{Code: 137, OOMKilled: true}, nil
		case !st.Running:
			return Exit{}, fmt.Errorf("%w: %s stopped (exit %d) while its program ran", ErrHostGone, h.Spec.Image, st.ExitCode)
		}
		if try == 25 {
			return Exit{}, fmt.Errorf("lost the connection to the agent of %s while its program ran", h.Spec.Image)
		}
		select {
		case <-ctx.Done():
			return Exit{}, fmt.Errorf("lost the connection to the agent of %s while its program ran", h.Spec.Image)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// signal asks the agent to signal the program.
func (p *Proc) signal(sig syscall.Signal) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := p.conn.Write(agentproto.Request{Op: agentproto.OpSignal, Sig: int(sig)}.Marshal())
	return err
}

// dockerExec starts a program with docker exec.
func (h *Host) dockerExec(ctx context.Context, cmd []string, workDir string, env map[string]string) (*Proc, error) {
	opts := client.ExecCreateOptions{Cmd: cmd, WorkingDir: workDir, AttachStdout: true, AttachStderr: true, Env: []string{"HOME=/tmp"}}
	if h.Spec.Untrusted {
		opts.User = "65534:65534"
	}
	for k, v := range env {
		opts.Env = append(opts.Env, k+"="+v)
	}
	cr, err := h.e.cli.ExecCreate(ctx, h.ID, opts)
	if err != nil {
		if isGone(err) {
			err = fmt.Errorf("%w: %w", ErrHostGone, err)
		}
		return nil, fmt.Errorf("exec %s in %s: %w", cmd[0], h.Spec.Image, err)
	}
	att, err := h.e.cli.ExecAttach(ctx, cr.ID, client.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("attach to %s in %s: %w", cmd[0], h.Spec.Image, err)
	}
	p := &Proc{h: h, id: cr.ID, done: make(chan struct{}), started: time.Now()}
	go func() {
		defer close(p.done)
		defer att.Close()
		stdcopy.StdCopy(lockedCapture{p, &p.stdout}, lockedCapture{p, &p.stderr}, att.Reader)
	}()
	// The attach starts the process; its pid is known once it runs.
	for i := 0; i < 200; i++ {
		ins, err := h.e.cli.ExecInspect(ctx, cr.ID, client.ExecInspectOptions{})
		if err == nil && ins.PID != 0 {
			p.PID = ins.PID
			break
		}
		select {
		case <-p.done:
			return p, nil // already over
		case <-time.After(10 * time.Millisecond):
		}
	}
	return p, nil
}

type lockedCapture struct {
	p *Proc
	o *Output
}

func (w lockedCapture) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return capture{w.o}.Write(b)
}

// Output returns what the program wrote so far.
func (p *Proc) Output() (stdout, stderr Output) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout, p.stderr
}

// Running reports whether the program is still running.
func (p *Proc) Running(ctx context.Context) bool {
	if p.conn != nil {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	ins, err := p.h.e.cli.ExecInspect(ctx, p.id, client.ExecInspectOptions{})
	return err == nil && ins.Running
}

// Wait waits for the program to exit, up to timeout; then it is killed and
// TimedOut is set.
func (p *Proc) Wait(ctx context.Context, timeout time.Duration) (Exit, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		ex, err := p.Stop(ctx, 0)
		ex.TimedOut = true
		return ex, err
	case <-ctx.Done():
		p.Stop(context.WithoutCancel(ctx), 0)
		return Exit{}, ctx.Err()
	}
	return p.exit(ctx)
}

func (p *Proc) exit(ctx context.Context) (Exit, error) {
	if p.conn != nil {
		switch {
		case p.lostErr != nil:
			return Exit{}, p.lostErr
		case p.lostExit != nil:
			return *p.lostExit, nil
		}
		return Exit{Code: p.status.Code, OOMKilled: p.status.Code == 137 && p.h.oomKilledSinceReset(ctx)}, nil
	}
	// The stream can end a moment before the engine records the exit code.
	for i := 0; i < 100; i++ {
		ins, err := p.h.e.cli.ExecInspect(ctx, p.id, client.ExecInspectOptions{})
		if err != nil {
			return Exit{}, fmt.Errorf("inspect exec in %s: %w", p.h.Spec.Image, err)
		}
		if !ins.Running {
			return Exit{Code: ins.ExitCode, OOMKilled: ins.ExitCode == 137 && p.h.oomKilledSinceReset(ctx)}, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return Exit{}, fmt.Errorf("exec in %s: output ended but the program still runs", p.h.Spec.Image)
}

// pid returns the program's pid on the Docker host, asking the engine
// again when it was not known yet at start (a loaded machine).
func (p *Proc) pid(ctx context.Context) int {
	if p.PID == 0 && p.id != "" {
		if ins, err := p.h.e.cli.ExecInspect(ctx, p.id, client.ExecInspectOptions{}); err == nil {
			p.PID = ins.PID
		}
	}
	return p.PID
}

// Stop sends SIGTERM, waits up to grace, then SIGKILL. With no view into
// the host's processes (remote engine), it stops every program in the host.
func (p *Proc) Stop(ctx context.Context, grace time.Duration) (Exit, error) {
	select {
	case <-p.done:
		return p.exit(ctx)
	default:
	}
	if p.conn != nil {
		if p.signal(syscall.SIGTERM) == nil {
			select {
			case <-p.done:
				return p.exit(ctx)
			case <-time.After(grace):
			}
			p.signal(syscall.SIGKILL)
			select {
			case <-p.done:
				return p.exit(ctx)
			case <-time.After(5 * time.Second):
			}
		}
	} else if pid := p.pid(ctx); pid > 0 && syscall.Kill(pid, syscall.SIGTERM) == nil {
		select {
		case <-p.done:
			return p.exit(ctx)
		case <-time.After(grace):
		}
		syscall.Kill(p.PID, syscall.SIGKILL)
		select {
		case <-p.done:
			return p.exit(ctx)
		case <-time.After(5 * time.Second):
		}
	}
	if err := p.h.KillAll(ctx); err != nil {
		return Exit{}, err
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		return Exit{}, fmt.Errorf("program in %s did not stop", p.h.Spec.Image)
	}
	return p.exit(ctx)
}

// Alive reports whether the host container still runs (an OOM kill of the
// agent, or a `docker rm` from outside, ends it). An agent that answers is
// alive, without asking the Docker Engine.
func (h *Host) Alive(ctx context.Context) bool {
	if h.agent != nil && h.agent.ping(ctx) == nil {
		return true
	}
	return h.Running(ctx)
}

// ErrHostGone is wrapped when a host container disappeared mid-cell.
var ErrHostGone = fmt.Errorf("host container is gone")

func isGone(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "No such container") || strings.Contains(err.Error(), "is not running"))
}
