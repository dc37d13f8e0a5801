package containers

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/interop-suite/interop/conformance/agentproto"
)

// The agent's control socket (conformance/agentproto) lives on a tmpfs of
// its own in the host container, never on the Docker host's disk: the
// agent creates the socket there, so the folder is writable by the
// program's user, and a bind mount of a host folder would have given every
// sender a writable folder on the host's disk. The suite reaches the
// socket from the Docker host through /proc/<container's init>/root, the
// same view into the container it already uses to see a port bound.
//
// Anyone in the container can delete the socket and listen on the same
// path (same user). So after every connect the suite checks the listener's
// credentials (SO_PEERCRED): the agent is the container's init process, a
// program never is. A host whose agent cannot be reached falls back to
// `docker exec`, said once per image in the log.

// ctlTmpfs is the mount of the agent's socket folder: room for a socket,
// no more (a program that writes there fills 64 KiB of memory at most).
func ctlTmpfs(untrusted bool) string {
	o := "rw,nosuid,nodev,noexec,size=64k,mode=0700"
	if untrusted {
		o += ",uid=65534,gid=65534"
	}
	return o
}

// agentSocket is where the Docker host sees the socket of the agent whose
// pid (on the Docker host) is initPID.
func agentSocket(initPID int) string {
	return "/proc/" + strconv.Itoa(initPID) + "/root" + agentproto.SocketDir + "/" + agentproto.SocketName
}

// agentClient talks to one host's agent.
type agentClient struct {
	path    string // the socket, as seen from the Docker host
	initPID int    // the agent's pid on the Docker host
	id      string // what its ping must answer
}

// errAgent is an error the agent reported: the request reached it and did
// nothing (a command not found, a reset that could not empty a folder).
type errAgent struct{ msg string }

func (e errAgent) Error() string { return e.msg }

// errDial is a failure to reach the agent: nothing was sent.
type errDial struct{ err error }

func (e errDial) Error() string { return e.err.Error() }
func (e errDial) Unwrap() error { return e.err }

func newAgentID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// connectAgent waits for the agent of a freshly started host to listen and
// checks that it is that host's agent.
func connectAgent(ctx context.Context, path string, initPID int, id string, within time.Duration) (*agentClient, error) {
	if initPID <= 0 {
		return nil, errors.New("the container's init pid is unknown (a remote Docker Engine?)")
	}
	a := &agentClient{path: path, initPID: initPID, id: id}
	deadline := time.Now().Add(within)
	for {
		err := a.ping(ctx)
		if err == nil {
			return a, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// dial connects and checks that the listener is the container's init.
func (a *agentClient) dial(ctx context.Context) (*net.UnixConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "unix", a.path)
	if err != nil {
		return nil, err
	}
	uc := c.(*net.UnixConn)
	raw, err := uc.SyscallConn()
	if err != nil {
		uc.Close()
		return nil, err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cerr != nil {
		uc.Close()
		return nil, fmt.Errorf("credentials of the agent socket: %v", errors.Join(err, cerr))
	}
	if int(cred.Pid) != a.initPID {
		uc.Close()
		return nil, fmt.Errorf("the agent socket is served by pid %d, not by the container's init (pid %d)", cred.Pid, a.initPID)
	}
	return uc, nil
}

// call sends a request and reads its reply, within timeout.
func (a *agentClient) call(ctx context.Context, q agentproto.Request, timeout time.Duration) (agentproto.Reply, *net.UnixConn, *bufio.Reader, error) {
	c, err := a.dial(ctx)
	if err != nil {
		return agentproto.Reply{}, nil, nil, errDial{err}
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	if _, err := c.Write(q.Marshal()); err != nil {
		stop()
		c.Close()
		return agentproto.Reply{}, nil, nil, err
	}
	br := bufio.NewReaderSize(c, 64<<10)
	var buf []byte
	typ, p, err := agentproto.ReadFrame(br, &buf)
	if err == nil && typ != agentproto.FrameReply {
		err = fmt.Errorf("agent answered with a frame of type %q", typ)
	}
	var r agentproto.Reply
	if err == nil {
		err = json.Unmarshal(p, &r)
	}
	if err != nil {
		stop()
		c.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return r, nil, nil, fmt.Errorf("agent: %w", err)
	}
	// The connection may outlive the call (an exec's output): the
	// context's end must not cut it later.
	if !stop() {
		c.Close()
		return r, nil, nil, fmt.Errorf("agent: %w", context.Cause(ctx))
	}
	c.SetDeadline(time.Time{})
	return r, c, br, nil
}

func (a *agentClient) ping(ctx context.Context) error {
	r, c, _, err := a.call(ctx, agentproto.Request{Op: agentproto.OpPing}, 5*time.Second)
	if err != nil {
		return err
	}
	c.Close()
	if r.ID != a.id {
		return fmt.Errorf("the agent socket answers as %q, not as this host's agent", r.ID)
	}
	return nil
}

func (a *agentClient) reset(ctx context.Context, dirs []string, timeout time.Duration) error {
	r, c, _, err := a.call(ctx, agentproto.Request{Op: agentproto.OpReset, Dirs: dirs}, timeout)
	if err != nil {
		return err
	}
	c.Close()
	if r.Error != "" {
		return errAgent{r.Error}
	}
	return nil
}

// exec starts a program; the connection then carries its output and exit.
func (a *agentClient) exec(ctx context.Context, q agentproto.Request) (int, *net.UnixConn, *bufio.Reader, error) {
	r, c, br, err := a.call(ctx, q, 30*time.Second)
	if err != nil {
		return 0, nil, nil, err
	}
	if r.Error != "" {
		c.Close()
		return 0, nil, nil, errAgent{r.Error}
	}
	return r.PID, c, br, nil
}

// fallbackOnce says once per image that its hosts use docker exec.
var fallbackOnce sync.Map

func logFallback(image string, err error) {
	if _, seen := fallbackOnce.LoadOrStore(image, true); !seen {
		log.Printf("containers: the agent socket of %s cannot be used (%v): its programs start with docker exec (slower)", image, err)
	}
}
