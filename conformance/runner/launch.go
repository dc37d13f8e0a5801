package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/interop-suite/interop/conformance/containers"
)

// program is one started program of a cell: in a container of its own, or
// exec'd in a long-lived host container.
type program interface {
	WaitListening(ctx context.Context, proto string, port int, timeout time.Duration, logRE *regexp.Regexp) error
	Wait(ctx context.Context, timeout time.Duration) (containers.Exit, error)
	Running(ctx context.Context) bool
	Stop(ctx context.Context, grace time.Duration) (containers.Exit, error)
	Output(ctx context.Context) (stdout, stderr containers.Output, err error)
}

// Sides of a cell. Each side has its own container (and address).
const (
	sideServer = "server"
	sideSim    = "sim"
	sideClient = "client"
)

// launcher starts the programs of one cell and tells where their files are.
type launcher interface {
	// Launch starts the side's program; image is the side's image.
	Launch(ctx context.Context, side, impl, image string, cmd []string, untrusted bool) (program, error)
	// Dir is the host folder mounted at the side's in/out/trace folder.
	Dir(side string) string
	// Address is how the other containers reach the side ("sim", an IP).
	Address(side string) string
	// IP is the side's IPv4 address.
	IP(side string) string
	// Prepare readies the side's folder before the suite writes into it.
	Prepare(ctx context.Context, side, impl, image string, untrusted bool) error
	// Gone names the cell's containers that were removed from outside
	// the suite while it ran (an infrastructure fault, never blamed).
	Gone(ctx context.Context) []string
	// Usage is what the side's container used during the cell: CPU
	// time, and the new processes the kernel refused it at its limit.
	Usage(ctx context.Context, side string) containers.Usage
	// Close stops whatever is left and releases the cell's resources.
	Close(ctx context.Context) error
}

// goneName describes a vanished container for the cell's reason.
func goneName(side string, c *containers.Container) string {
	id := c.ID
	if len(id) > 12 {
		id = id[:12]
	}
	return fmt.Sprintf("the %s's container %s (%s)", side, id, c.Spec.Image)
}

// mountFor says where each side's folder is mounted in its container.
func mountFor(side string) (path string, readOnly bool) {
	switch side {
	case sideServer:
		return outDir, false
	case sideClient:
		return inDir, true
	default:
		return traceDir, false
	}
}

// ---- one container per program (simple, slow: ~1-2 s per container) ----

type cellLauncher struct {
	env     *Env
	cell    string
	dir     string
	nw      *containers.Network
	started []*containers.Container
	bySide  map[string]*containers.Container
	ips     map[string]string
}

func (env *Env) newCellLauncher(ctx context.Context, cell, dir string) (*cellLauncher, error) {
	nw, err := env.Engine.NewNetwork(ctx, cell)
	if err != nil {
		return nil, err
	}
	return &cellLauncher{env: env, cell: cell, dir: dir, nw: nw, ips: map[string]string{}, bySide: map[string]*containers.Container{}}, nil
}

func (l *cellLauncher) Dir(side string) string {
	return filepath.Join(l.dir, map[string]string{sideServer: "out", sideClient: "in", sideSim: "trace"}[side])
}
func (l *cellLauncher) Address(side string) string { return side }
func (l *cellLauncher) Prepare(ctx context.Context, side, impl, image string, untrusted bool) error {
	return nil
}
func (l *cellLauncher) IP(side string) string { return l.ips[side] }

type containerProgram struct{ *containers.Container }

func (c containerProgram) Output(ctx context.Context) (containers.Output, containers.Output, error) {
	return c.Logs(ctx)
}

func (l *cellLauncher) Launch(ctx context.Context, side, impl, image string, cmd []string, untrusted bool) (program, error) {
	mount, ro := mountFor(side)
	s := containers.Spec{Cell: l.cell, Image: image, Cmd: cmd, Aliases: []string{side}, Untrusted: untrusted, Limits: l.env.Limits,
		Binds: []containers.Bind{{Host: l.Dir(side), Container: mount, ReadOnly: ro}}}
	if side == sideServer {
		s.WorkDir = outDir
	}
	c, err := l.env.Engine.Start(ctx, l.nw, s)
	if err != nil {
		return nil, err
	}
	l.started = append(l.started, c)
	l.bySide[side] = c
	l.ips[side] = c.IP
	return containerProgram{c}, nil
}

func (l *cellLauncher) Gone(ctx context.Context) []string {
	var gone []string
	for side, c := range l.bySide {
		if c.Gone(ctx) {
			gone = append(gone, goneName(side, c))
		}
	}
	sort.Strings(gone)
	return gone
}

// Usage is not measured for containers of a cell's own: they are gone,
// and their cgroups with them, by the time the cell is judged.
func (l *cellLauncher) Usage(context.Context, string) containers.Usage { return containers.Usage{} }

func (l *cellLauncher) Close(ctx context.Context) error {
	var first error
	for _, c := range l.started {
		if err := c.Remove(ctx); err != nil && first == nil {
			first = fmt.Errorf("remove container: %w", err)
		}
	}
	if err := l.nw.Remove(ctx); err != nil && first == nil {
		first = fmt.Errorf("remove network %s: %w", l.nw.Name, err)
	}
	return first
}

// ---- long-lived host containers, programs started by their agent (fast) ----

// Pool keeps, for one Ginkgo process, one network and one host container
// per (implementation, side), started on first use and reused by every
// cell the process runs. Cells of a process run one at a time, so only one
// cell's programs are ever running on the pool's network.
type Pool struct {
	env      *Env
	dir      string // host folder of the pool: one subfolder per host
	agentBin string
	mu       sync.Mutex // guards nw, hosts and starting
	nw       *containers.Network
	hosts    map[string]*containers.Host
	starting map[string]*sync.Mutex // one start at a time per host key; different hosts start at once
}

// NewPool prepares a pool; containers start lazily.
func (env *Env) NewPool(dir, agentBin string) *Pool {
	return &Pool{env: env, dir: dir, agentBin: agentBin, hosts: map[string]*containers.Host{}, starting: map[string]*sync.Mutex{}}
}

// Close removes the pool's containers and network.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first error
	for k, h := range p.hosts {
		if err := h.Remove(ctx); err != nil && first == nil {
			first = err
		}
		delete(p.hosts, k)
	}
	if p.nw != nil {
		if err := p.nw.Remove(ctx); err != nil && first == nil {
			first = err
		}
		p.nw = nil
	}
	return first
}

func (p *Pool) hostDir(key string) string { return filepath.Join(p.dir, key) }

// host returns the running host container for an implementation's side,
// starting it if need be. Hosts of different keys start concurrently
// (see poolLauncher.Warm); the pool's lock is never held across a start.
func (p *Pool) host(ctx context.Context, impl, side, image string, untrusted bool) (*containers.Host, error) {
	key := side + "-" + impl
	p.mu.Lock()
	if p.nw == nil {
		nw, err := p.env.Engine.NewNetwork(ctx, "pool/"+filepath.Base(p.dir))
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		p.nw = nw
	}
	nw := p.nw
	km := p.starting[key]
	if km == nil {
		km = &sync.Mutex{}
		p.starting[key] = km
	}
	p.mu.Unlock()

	km.Lock()
	defer km.Unlock()
	p.mu.Lock()
	h, ok := p.hosts[key]
	p.mu.Unlock()
	if ok {
		if h.Spec.Image == image && h.Alive(ctx) {
			return h, nil
		}
		h.Remove(context.WithoutCancel(ctx)) // died (OOM, removed from outside) or rebuilt: start afresh
		p.mu.Lock()
		delete(p.hosts, key)
		p.mu.Unlock()
	}
	dir := p.hostDir(key)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o777)
	mount, ro := mountFor(side)
	aliases := []string{key}
	if side == sideSim {
		aliases = append(aliases, sideSim)
	}
	s := containers.Spec{Cell: "pool/" + key, Image: image, Aliases: aliases, Untrusted: untrusted, Limits: p.env.Limits,
		Binds: []containers.Bind{{Host: dir, Container: mount, ReadOnly: ro}}}
	var reset []string
	if !ro {
		reset = append(reset, mount) // /out of a server, /trace of the simulator
	}
	h, err := p.env.Engine.StartHost(ctx, nw, s, p.agentBin, reset...)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.hosts[key] = h
	p.mu.Unlock()
	return h, nil
}

// hostWant names a host a cell will need.
type hostWant struct {
	side, impl, image string
	untrusted         bool
}

// Warm starts, all at once, the hosts of a cell that are not running yet:
// a cell's first use of an implementation otherwise paid its container
// starts one after another (each 0.3-1 s, more under load). Errors are
// left for the Launch that needs the host to report.
func (l *poolLauncher) Warm(ctx context.Context, wants ...hostWant) {
	var wg sync.WaitGroup
	for _, w := range wants {
		if w.image == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.p.host(ctx, w.impl, w.side, w.image, w.untrusted)
		}()
	}
	wg.Wait()
}

// cell returns the launcher of one cell on this pool.
func (p *Pool) cell(cellDir string) *poolLauncher {
	return &poolLauncher{p: p, cellDir: cellDir, hosts: map[string]*containers.Host{}, keys: map[string]string{}}
}

type poolLauncher struct {
	p       *Pool
	cellDir string
	hosts   map[string]*containers.Host
	keys    map[string]string
	procs   []*containers.Proc
}

type procProgram struct{ *containers.Proc }

func (p procProgram) Output(context.Context) (containers.Output, containers.Output, error) {
	o, e := p.Proc.Output()
	return o, e, nil
}

func (l *poolLauncher) Launch(ctx context.Context, side, impl, image string, cmd []string, untrusted bool) (program, error) {
	h, err := l.p.host(ctx, impl, side, image, untrusted)
	if err != nil {
		return nil, err
	}
	if _, seen := l.hosts[side]; !seen {
		// A fresh start for this cell: no program or file of an earlier cell.
		if err := h.Reset(ctx); err != nil {
			return nil, err
		}
	}
	l.hosts[side], l.keys[side] = h, side+"-"+impl
	wd := "/"
	if side == sideServer {
		wd = outDir
	}
	proc, err := h.Exec(ctx, cmd, wd, nil)
	if err != nil {
		return nil, err
	}
	l.procs = append(l.procs, proc)
	return procProgram{proc}, nil
}

// Prepare makes the side's host ready before files are written into its
// folder (the client's input, which Launch must not erase).
func (l *poolLauncher) Prepare(ctx context.Context, side, impl, image string, untrusted bool) error {
	h, err := l.p.host(ctx, impl, side, image, untrusted)
	if err != nil {
		return err
	}
	if err := h.Reset(ctx); err != nil {
		return err
	}
	l.hosts[side], l.keys[side] = h, side+"-"+impl
	return nil
}

func (l *poolLauncher) Dir(side string) string { return l.p.hostDir(l.keys[side]) }

func (l *poolLauncher) Address(side string) string {
	if side == sideSim {
		return sideSim
	}
	return l.IP(side)
}

func (l *poolLauncher) IP(side string) string {
	if h := l.hosts[side]; h != nil {
		return h.IP
	}
	return ""
}

func (l *poolLauncher) Gone(ctx context.Context) []string {
	var gone []string
	for side, h := range l.hosts {
		if h.Gone(ctx) {
			gone = append(gone, goneName(side, h.Container))
		}
	}
	sort.Strings(gone)
	return gone
}

func (l *poolLauncher) Usage(ctx context.Context, side string) containers.Usage {
	if h := l.hosts[side]; h != nil {
		return h.UsageSinceReset(ctx)
	}
	return containers.Usage{}
}

func (l *poolLauncher) Close(ctx context.Context) error {
	var first error
	for _, pr := range l.procs {
		if pr.Running(ctx) {
			if _, err := pr.Stop(ctx, 0); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// copyDir copies the regular files of src into dst (artifacts of a pooled
// cell, whose folders the next cell reuses).
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue // the judge has seen it already; never follow a link
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			in.Close()
			return err
		}
		_, err = io.Copy(out, in)
		in.Close()
		out.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
