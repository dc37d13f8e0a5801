package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/interop-suite/interop/conformance/agentproto"
)

// Bounds that keep a misbehaving client (any program in the container
// may connect) from tying up the agent.
const (
	maxConns      = 32               // connections served at once; more are closed at once
	requestWithin = 10 * time.Second // a connection must send its request by then
	writeWithin   = 60 * time.Second // a client that reads nothing for that long is dropped
	drainAfter    = time.Second      // after the exit, how long output may take to end
	nobody        = 65534
)

// child is a program the agent started and has not reaped yet.
type child struct {
	pid            int
	stdout, stderr io.ReadCloser
	exited         chan syscall.WaitStatus // receives once, when reaped
	reaped         bool                    // under agent.mu
	signal         func(sig syscall.Signal) error
}

// starter is what serve needs from the system: the real one forks and
// resets; the fuzz test's fake does neither.
type starter interface {
	start(q agentproto.Request) (*child, error)
	reset(dirs []string) error
}

type agent struct {
	id      string
	allowed map[string]bool // folders a reset may empty
	uid     int             // what programs run as
	cred    *syscall.Credential
	sys     starter

	mu    sync.Mutex // the table below; held across fork+register and wait4+dispatch
	procs map[int]*child

	// resetMu lets programs start (read) unless a reset (write) is
	// stopping every process: a program started during a reset would be
	// killed by it, or survive it half-started.
	resetMu sync.RWMutex
	conns   chan struct{}
}

func newAgent(id string, resetDirs []string) *agent {
	a := &agent{id: id, allowed: map[string]bool{}, uid: os.Getuid(), procs: map[int]*child{}, conns: make(chan struct{}, maxConns)}
	for _, d := range resetDirs {
		if d = strings.TrimSpace(d); d != "" && filepath.IsAbs(d) {
			a.allowed[filepath.Clean(d)] = true
		}
	}
	if a.uid == 0 {
		// Never run a program as root, even in an image the suite trusts.
		a.uid = nobody
		a.cred = &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}
	}
	a.sys = a
	return a
}

// listen serves the socket in the background.
func (a *agent) listen(path string) error {
	os.Remove(path) // a stale socket of an earlier life
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	os.Chmod(path, 0o600)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond) // EMFILE and the like: do not spin
				continue
			}
			select {
			case a.conns <- struct{}{}:
				go func() {
					defer func() { <-a.conns }()
					a.serve(c)
				}()
			default:
				c.Close() // too many at once
			}
		}
	}()
	return nil
}

// serve answers one connection's request. Nothing a client sends can
// crash the agent: reads are bounded, and a panic ends only this
// connection.
func (a *agent) serve(c net.Conn) {
	defer c.Close()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(os.Stderr, "agent: request failed:", r)
		}
	}()
	c.SetReadDeadline(time.Now().Add(requestWithin))
	br := bufio.NewReaderSize(c, 4096)
	q, err := agentproto.ReadRequest(br)
	if err != nil {
		a.reply(c, agentproto.Reply{Error: err.Error()})
		return
	}
	c.SetReadDeadline(time.Time{})
	switch q.Op {
	case agentproto.OpPing:
		a.reply(c, agentproto.Reply{ID: a.id, PID: os.Getpid(), UID: a.uid})
	case agentproto.OpReset:
		for _, d := range q.Dirs {
			if !a.allowed[d] {
				a.reply(c, agentproto.Reply{Error: fmt.Sprintf("reset: %s is not a folder this agent may empty", d)})
				return
			}
		}
		if err := a.sys.reset(q.Dirs); err != nil {
			a.reply(c, agentproto.Reply{Error: err.Error()})
			return
		}
		a.reply(c, agentproto.Reply{})
	case agentproto.OpExec:
		a.exec(c, br, q)
	default: // a signal without an exec
		a.reply(c, agentproto.Reply{Error: q.Op + ": only on the connection of an exec"})
	}
}

func (a *agent) reply(c net.Conn, r agentproto.Reply) error {
	c.SetWriteDeadline(time.Now().Add(writeWithin))
	return agentproto.WriteJSON(c, agentproto.FrameReply, r)
}

// exec starts a program and streams its output and exit status; lines
// that follow on the connection may signal it.
func (a *agent) exec(c net.Conn, br *bufio.Reader, q agentproto.Request) {
	ch, err := a.sys.start(q)
	if err != nil {
		a.reply(c, agentproto.Reply{Error: err.Error()})
		return
	}
	var wmu sync.Mutex
	broken := a.reply(c, agentproto.Reply{PID: ch.pid}) != nil
	write := func(typ byte, p []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		if broken {
			return // keep draining the program's output; nobody reads it
		}
		c.SetWriteDeadline(time.Now().Add(writeWithin))
		broken = agentproto.WriteFrame(c, typ, p) != nil
	}

	// Signals from the client. The connection's end (the client closed
	// it, or the agent does once the program is over) ends this loop and
	// nothing else.
	go func() {
		for {
			q, err := agentproto.ReadRequest(br)
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
					return
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return
				}
				if errors.Is(err, agentproto.ErrTooLong) {
					return // the rest of the line is unreadable
				}
				continue // a bad line: ignore it
			}
			if q.Op == agentproto.OpSignal {
				ch.signal(syscall.Signal(q.Sig))
			}
		}
	}()

	var wg sync.WaitGroup
	pump := func(r io.ReadCloser, typ byte) {
		defer wg.Done()
		defer r.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				write(typ, buf[:n])
			}
			if err != nil {
				return
			}
		}
	}
	wg.Add(2)
	go pump(ch.stdout, agentproto.FrameStdout)
	go pump(ch.stderr, agentproto.FrameStderr)
	pumped := make(chan struct{})
	go func() { wg.Wait(); close(pumped) }()

	ws := <-ch.exited
	// What the program wrote before it exited is in the pipes already; a
	// child it left behind may keep them open, so do not wait for that.
	select {
	case <-pumped:
	case <-time.After(drainAfter):
	}
	st := agentproto.ExitStatus{Code: ws.ExitStatus()}
	if ws.Signaled() {
		st.Signal = int(ws.Signal())
		st.Code = 128 + st.Signal
	}
	wmu.Lock()
	if !broken {
		c.SetWriteDeadline(time.Now().Add(writeWithin))
		broken = agentproto.WriteJSON(c, agentproto.FrameExit, st) != nil
	}
	wmu.Unlock()
	<-pumped // late output of what it left behind, until a reset stops that
}

// start forks and execs a program with /dev/null as stdin and pipes as
// stdout and stderr, as the agent's user (65534 when the agent is root).
func (a *agent) start(q agentproto.Request) (*child, error) {
	env := mergeEnv(os.Environ(), q.Env)
	argv0, err := lookPath(q.Argv[0], env)
	if err != nil {
		return nil, err
	}
	dir := q.Dir
	if dir == "" {
		dir = "/"
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	attr := &syscall.ProcAttr{Dir: dir, Env: env, Files: []uintptr{devnull.Fd(), outW.Fd(), errW.Fd()},
		Sys: &syscall.SysProcAttr{Credential: a.cred}}

	a.resetMu.RLock()
	a.mu.Lock()
	pid, err := syscall.ForkExec(argv0, q.Argv, attr)
	var ch *child
	if err == nil {
		ch = &child{pid: pid, stdout: outR, stderr: errR, exited: make(chan syscall.WaitStatus, 1)}
		ch.signal = func(sig syscall.Signal) error { return a.signal(ch, sig) }
		a.procs[pid] = ch
	}
	a.mu.Unlock()
	a.resetMu.RUnlock()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("exec %s: %w", q.Argv[0], err)
	}
	return ch, nil
}

// signal signals a program unless it has been reaped: its pid is reserved
// until then, so the signal can never reach a process that reused it.
func (a *agent) signal(ch *child, sig syscall.Signal) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ch.reaped {
		return nil
	}
	return syscall.Kill(ch.pid, sig)
}

// reap collects every exited child: its own programs' statuses go to their
// connections, orphans are just reaped.
func (a *agent) reap() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		if ch := a.procs[pid]; ch != nil {
			ch.reaped = true
			delete(a.procs, pid)
			ch.exited <- ws
		}
	}
}

// reset stops every program and empties the folders; no program starts
// meanwhile.
func (a *agent) reset(dirs []string) error {
	if os.Getpid() != 1 {
		// kill(-1) outside a container's pid namespace would reach every
		// process of the user (a test run as root: the whole machine).
		return errors.New("reset refused: the agent is not PID 1 of a host container")
	}
	a.resetMu.Lock()
	defer a.resetMu.Unlock()
	return stopAndEmpty(dirs)
}

// mergeEnv returns base with the K=V entries of extra added or replaced.
func mergeEnv(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra))
	idx := map[string]int{}
	for _, kv := range append(append([]string{}, base...), extra...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// lookPath finds a command without '/' in the PATH of the program's
// environment, as `docker exec` does.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	p := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			p = v
		}
	}
	for _, d := range filepath.SplitList(p) {
		if d == "" {
			d = "."
		}
		f := filepath.Join(d, name)
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return f, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}
