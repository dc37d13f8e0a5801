package containers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
)

// Network is one isolated, internal Docker network: no route out, and no
// other cell's containers on it.
type Network struct {
	nw   *testcontainers.DockerNetwork
	Name string
}

// NewNetwork creates an internal network for one cell.
func (e *Engine) NewNetwork(ctx context.Context, cell string) (*Network, error) {
	nw, err := network.New(ctx, network.WithInternal(), network.WithLabels(e.labels(cell)))
	if err != nil {
		return nil, fmt.Errorf("create test network for %s: %w", cell, err)
	}
	return &Network{nw: nw, Name: nw.Name}, nil
}

// Remove deletes the network; containers on it must be gone first.
func (n *Network) Remove(ctx context.Context) error {
	if n == nil {
		return nil
	}
	return n.nw.Remove(ctx)
}

// Limits are the resource limits of an untrusted container (MANIFEST-15).
type Limits struct {
	MemoryBytes int64
	Pids        int64
	NanoCPUs    int64
	TmpfsSize   string // e.g. "64m"
}

// DefaultLimits fit several cells at once on a 2-core, 24 GiB machine.
var DefaultLimits = Limits{MemoryBytes: 512 << 20, Pids: 128, NanoCPUs: 1_000_000_000, TmpfsSize: "64m"}

// Bind mounts a host directory into the container.
type Bind struct {
	Host, Container string
	ReadOnly        bool
}

// Spec describes one container to start.
type Spec struct {
	Cell    string // cell id, for labels and messages
	Image   string
	Cmd     []string // argument vector; the image's entrypoint is cleared
	Aliases []string // host names on the network
	WorkDir string
	Env     map[string]string
	Binds   []Bind
	// Tmpfs mounts a small tmpfs at each path, with the given options
	// (the host's agent socket lives on one: never on the host's disk).
	Tmpfs map[string]string
	// Untrusted applies the sandbox: non-root user, no capabilities,
	// no-new-privileges, read-only root with a tmpfs /tmp, resource limits.
	Untrusted bool
	Limits    Limits
}

// Container is a started container.
type Container struct {
	e    *Engine
	c    *testcontainers.DockerContainer
	ID   string
	IP   string
	Spec Spec
}

// Start creates and starts a container on the network.
func (e *Engine) Start(ctx context.Context, n *Network, s Spec) (*Container, error) {
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithEntrypoint(),
		testcontainers.WithCmd(s.Cmd...),
		testcontainers.WithLabels(e.labels(s.Cell)),
		network.WithNetwork(s.Aliases, n.nw),
		testcontainers.WithConfigModifier(func(c *container.Config) {
			c.WorkingDir = s.WorkDir
			if s.Untrusted {
				c.User = "65534:65534"
			}
			c.Env = append(c.Env, "HOME=/tmp")
			for k, v := range s.Env {
				c.Env = append(c.Env, k+"="+v)
			}
		}),
		testcontainers.WithHostConfigModifier(func(h *container.HostConfig) {
			for _, b := range s.Binds {
				spec := b.Host + ":" + b.Container
				if b.ReadOnly {
					spec += ":ro"
				}
				h.Binds = append(h.Binds, spec)
			}
			// Bounded logs: a program printing 100 MB must not fill the disk.
			h.LogConfig = container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "8m", "max-file": "1"}}
			if len(s.Tmpfs) > 0 && h.Tmpfs == nil {
				h.Tmpfs = map[string]string{}
			}
			for path, opts := range s.Tmpfs {
				h.Tmpfs[path] = opts
			}
			if !s.Untrusted {
				return
			}
			l := s.Limits
			if l == (Limits{}) {
				l = DefaultLimits
			}
			h.CapDrop = []string{"ALL"}
			h.SecurityOpt = []string{"no-new-privileges"}
			h.ReadonlyRootfs = true
			if h.Tmpfs == nil {
				h.Tmpfs = map[string]string{}
			}
			h.Tmpfs["/tmp"] = "rw,nosuid,nodev,size=" + l.TmpfsSize
			h.Memory = l.MemoryBytes
			h.MemorySwap = l.MemoryBytes
			h.PidsLimit = &l.Pids
			h.NanoCPUs = l.NanoCPUs
		}),
	}
	c, err := testcontainers.Run(ctx, s.Image, opts...)
	if err != nil {
		if c != nil {
			c.Terminate(context.WithoutCancel(ctx))
		}
		return nil, fmt.Errorf("start container %s for %s: %w", s.Image, s.Cell, err)
	}
	ct := &Container{e: e, c: c, ID: c.GetContainerID(), Spec: s}
	if ins, err := c.Inspect(ctx); err == nil && ins.NetworkSettings != nil {
		if ep := ins.NetworkSettings.Networks[n.Name]; ep != nil && ep.IPAddress.IsValid() {
			ct.IP = ep.IPAddress.String()
		}
	}
	return ct, nil
}

// Exit is how a container ended.
type Exit struct {
	Code      int
	OOMKilled bool
	TimedOut  bool // the suite stopped it because its time was up
}

// Wait waits for the container to exit, up to timeout; then it is killed
// and TimedOut is set.
func (c *Container) Wait(ctx context.Context, timeout time.Duration) (Exit, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := c.e.cli.ContainerWait(wctx, c.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-res.Result:
		ex := Exit{Code: int(r.StatusCode)}
		ex.OOMKilled = c.oomKilled(ctx)
		return ex, nil
	case err := <-res.Error:
		if wctx.Err() != nil && ctx.Err() == nil {
			ex, kerr := c.Stop(ctx, 0)
			ex.TimedOut = true
			return ex, kerr
		}
		return Exit{}, fmt.Errorf("wait for %s: %w", c.Spec.Cell, err)
	}
}

// Stop sends SIGTERM, waits up to grace, then SIGKILL, and returns the
// exit status. A container that already exited just reports its status.
func (c *Container) Stop(ctx context.Context, grace time.Duration) (Exit, error) {
	secs := int(grace.Round(time.Second) / time.Second)
	_, err := c.e.cli.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: &secs})
	if err != nil && !strings.Contains(err.Error(), "not running") {
		return Exit{}, fmt.Errorf("stop %s: %w", c.Spec.Cell, err)
	}
	ins, err := c.e.cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		return Exit{}, fmt.Errorf("inspect %s: %w", c.Spec.Cell, err)
	}
	st := ins.Container.State
	return Exit{Code: st.ExitCode, OOMKilled: st.OOMKilled}, nil
}

// Running reports whether the container is still running.
func (c *Container) Running(ctx context.Context) bool {
	ins, err := c.e.cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	return err == nil && ins.Container.State != nil && ins.Container.State.Running
}

// Gone reports whether the container no longer exists: removed from
// outside the suite (`docker rm -f`), which is the machine's doing, not
// the program's. A container whose program stopped it still exists.
func (c *Container) Gone(ctx context.Context) bool {
	_, err := c.e.cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	return isNotFound(err)
}

func (c *Container) oomKilled(ctx context.Context) bool {
	if c.e == nil {
		return false // no engine: a Host in a unit test
	}
	ins, err := c.e.cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	return err == nil && ins.Container.State != nil && ins.Container.State.OOMKilled
}

// Remove force-removes the container.
func (c *Container) Remove(ctx context.Context) error {
	if c == nil {
		return nil
	}
	_, err := c.e.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && strings.Contains(err.Error(), "No such container") {
		return nil
	}
	return err
}

// Output is a program's captured stream, bounded: the first and last
// Keep bytes are kept and Total counts everything it wrote.
type Output struct {
	Head, Tail []byte
	Total      int64
}

// Keep is how much of each end of a stream is kept.
const Keep = 32 << 10

// Bytes returns the kept text, with a marker where bytes were cut.
func (o Output) Bytes() []byte {
	if o.Total <= int64(len(o.Head)+len(o.Tail)) {
		return append(append([]byte{}, o.Head...), o.Tail...)
	}
	cut := o.Total - int64(len(o.Head)+len(o.Tail))
	return append(append(append([]byte{}, o.Head...), fmt.Sprintf("\n[... %d bytes cut ...]\n", cut)...), o.Tail...)
}

type capture struct{ o *Output }

func (w capture) Write(p []byte) (int, error) {
	o := w.o
	o.Total += int64(len(p))
	rest := p
	if room := Keep - len(o.Head); room > 0 {
		n := min(room, len(rest))
		o.Head = append(o.Head, rest[:n]...)
		rest = rest[n:]
	}
	if len(rest) > 0 {
		o.Tail = append(o.Tail, rest...)
		if len(o.Tail) > Keep {
			o.Tail = append(o.Tail[:0], o.Tail[len(o.Tail)-Keep:]...)
		}
	}
	return len(p), nil
}

// Logs returns the container's stdout and stderr, kept apart and bounded.
func (c *Container) Logs(ctx context.Context) (stdout, stderr Output, err error) {
	rc, err := c.e.cli.ContainerLogs(ctx, c.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return stdout, stderr, fmt.Errorf("logs of %s: %w", c.Spec.Cell, err)
	}
	defer rc.Close()
	_, err = stdcopy.StdCopy(capture{&stdout}, capture{&stderr}, rc)
	return stdout, stderr, err
}

// ErrNotListening is returned when a server never binds its port.
var ErrNotListening = errors.New("never started listening")

// WaitListening waits until a process in the container has the port bound
// (TCP in LISTEN state, or a bound UDP socket), by reading the socket table
// of the container's network namespace from /proc on the host. It never
// connects, so a Hello server does not see a phantom client. If /proc of
// the container is not visible (a remote Docker Engine), it waits for
// logRE (when given) or a fixed second instead.
func (c *Container) WaitListening(ctx context.Context, proto string, port int, timeout time.Duration, logRE *regexp.Regexp) error {
	return waitListening(ctx, proto, port, timeout, logRE, func() (int, bool, int, error) {
		ins, err := c.e.cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			return 0, false, 0, fmt.Errorf("inspect %s: %w", c.Spec.Cell, err)
		}
		st := ins.Container.State
		if st == nil {
			return 0, false, 0, nil
		}
		return st.Pid, st.Running, st.ExitCode, nil
	}, c.Logs)
}

// WaitListening is Container.WaitListening for a program run by exec: it
// also notices when that program (not the host) exits before listening.
func (p *Proc) WaitListening(ctx context.Context, proto string, port int, timeout time.Duration, logRE *regexp.Regexp) error {
	hostPID := p.h.initPID
	if hostPID == 0 {
		hostPID = p.h.pid(ctx)
	}
	return waitListening(ctx, proto, port, timeout, logRE, func() (int, bool, int, error) {
		select {
		case <-p.done:
			ex, err := p.exit(ctx)
			return 0, false, ex.Code, err
		default:
		}
		// The host's init process shares the program's network
		// namespace and outlives it: the program's own pid vanishes the
		// moment it exits, and a socket table that cannot be read would
		// count as "no view, assume listening" (a receiver that crashed at
		// once was taken as ready and its sender ran into its time limit).
		// Only this cell's programs run in the host (Reset), so the table
		// is theirs.
		pid := hostPID
		if pid == 0 {
			pid = p.pid(ctx)
		}
		return pid, true, 0, nil
	}, func(context.Context) (Output, Output, error) { o, e := p.Output(); return o, e, nil })
}

func (c *Container) pid(ctx context.Context) int {
	ins, err := c.e.cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil || ins.Container.State == nil {
		return 0
	}
	return ins.Container.State.Pid
}

func waitListening(ctx context.Context, proto string, port int, timeout time.Duration, logRE *regexp.Regexp,
	state func() (pid int, running bool, exitCode int, err error), logs func(context.Context) (Output, Output, error)) error {
	deadline := time.Now().Add(timeout)
	probe := newPortProbe(proto, port)
	defer probe.close()
	for {
		pid, running, code, err := state()
		if err != nil {
			return err
		}
		if !running {
			return fmt.Errorf("%w on %s port %d: the program exited with code %d before listening", ErrNotListening, proto, port, code)
		}
		if logRE != nil {
			out, errOut, _ := logs(ctx)
			if logRE.Match(out.Bytes()) || logRE.Match(errOut.Bytes()) {
				return nil
			}
		} else {
			bound, known := probe.bound(pid)
			if bound {
				return nil
			}
			if !known {
				// No view into the namespace: give the program a moment.
				select {
				case <-time.After(time.Second):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w on %s port %d within %s", ErrNotListening, proto, port, timeout)
		}
		select {
		case <-time.After(probe.interval()):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// CopyOut streams a file out of a container (used for files not on a bind mount).
func (c *Container) CopyOut(ctx context.Context, path string) (io.ReadCloser, error) {
	return c.c.CopyFileFromContainer(ctx, path)
}

// IsCommandError reports whether a start failed because the command itself
// cannot run (not found, not executable): the implementation's fault, unlike
// every other start failure.
func IsCommandError(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "executable file not found") || strings.Contains(m, "no such file or directory") ||
		strings.Contains(m, "permission denied") && strings.Contains(m, "exec")
}
