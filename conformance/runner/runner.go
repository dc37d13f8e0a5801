// Package runner runs one cell: it starts the server (or receiver), the
// network simulator and the client (or sender) in their own containers on a
// fresh internal network, waits, collects what each program did, and hands
// the observations to the judge. Every container and the network are removed
// before Run returns, whatever happened.
package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/containers"
	"github.com/interop-suite/interop/conformance/judge"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
)

// Paths and ports inside the containers.
const (
	simPort      = 9000
	inDir        = "/in"
	outDir       = "/out"
	traceDir     = "/trace"
	inputName    = "input.bin"
	traceName    = "trace.jsonl"
	netsimBinary = "/netsim"
)

// Env is what every cell of a run shares.
type Env struct {
	Engine *containers.Engine
	Impls  map[string]registry.Impl
	// Images maps implementation names, plus "netsim", to image tags.
	Images map[string]string
	// ImageErrors maps implementation names to why they have no image
	// (broken manifest, failed build): their cells fail with that reason.
	ImageErrors map[string]string
	// ImageInfraErrors maps implementation names to why the machine could
	// not build their image (disk, engine): infrastructure errors, never
	// blamed on the implementation.
	ImageInfraErrors map[string]string
	ResultsDir       string
	Limits           containers.Limits
	// Reproduce returns the one-line command that reruns a single cell.
	Reproduce func(cases.Cell) string
	// Pool, when set, runs programs in long-lived host containers, started
	// by their agent (or docker exec); without it every program gets a
	// container.
	Pool *Pool
	// Log receives one line per step, for the spec's progress output.
	Log func(format string, args ...any)
}

func (env *Env) logf(format string, args ...any) {
	if env.Log != nil {
		env.Log(format, args...)
	}
}

// DefaultStartup is how long a server or receiver may take to bind its port
// (MANIFEST-12): JVMs on a loaded 2-core machine have been seen to need
// more than 10 s.
const DefaultStartup = 30 * time.Second

// Timeouts per cell: generous, because the machine is shared, but finite,
// because one hanging program must not stall the run.
func clientTimeout(c cases.Cell, role registry.RoleConfig) time.Duration {
	// A client's declared startup_seconds (MANIFEST-12: a notebook
	// kernel, say) comes on top of the protocol's limit (MANIFEST-16).
	startup := time.Duration(role.StartupSeconds) * time.Second
	if c.Protocol == cases.Hello {
		return 30*time.Second + startup // spec/hello.md, "Timing"
	}
	if c.Scenario == "clean" {
		return 60*time.Second + startup
	}
	return 120*time.Second + startup
}

// Run executes the cell and returns its judged result (expectations are
// applied by the caller).
func (env *Env) Run(ctx context.Context, c cases.Cell) (r results.Result) {
	start := time.Now()
	r = results.Result{ID: c.ID(), Group: c.Group(), Cell: c, Started: start.UTC()}
	if env.Reproduce != nil {
		r.Reproduce = env.Reproduce(c)
	}
	defer func() { r.WallMS = time.Since(start).Milliseconds() }()

	client, server := env.Impls[c.Client], env.Impls[c.Server]
	if v, why := unsupported(c, client, server); v {
		r.Verdict, r.Reason = results.Unsupported, why
		return r
	}
	for _, name := range []string{c.Client, c.Server} {
		if msg, ok := env.ImageInfraErrors[name]; ok {
			r.Verdict, r.Reason = results.InfraError, fmt.Sprintf("%s has no image: %s", name, msg)
			return r
		}
	}
	for _, side := range []struct {
		name string
		role registry.Role
	}{{c.Client, c.ClientRole()}, {c.Server, c.ServerRole()}} {
		msg, bad := env.ImageErrors[side.name]
		if !bad {
			msg, bad = env.ImageErrors[side.name+":"+string(side.role)]
		}
		if bad {
			r.Verdict, r.Reason = results.Fail, fmt.Sprintf("%s cannot run its %s: %s", side.name, side.role, msg)
			r.Blame = sideOf(c, side.name)
			return r
		}
	}
	dir := filepath.Join(env.ResultsDir, "cells", filepath.FromSlash(c.ID()))
	r.Artifacts = filepath.ToSlash(filepath.Join("cells", c.ID()))
	os.RemoveAll(dir) // a stale output of an earlier run must never make a cell pass
	var obs *judge.Observation
	var err error
	if _, probe := c.Probe(); probe {
		obs, err = env.runProbe(ctx, c, dir, client, server) // probe.go
	} else {
		obs, err = env.runPair(ctx, c, dir, client, server)
	}
	if obs != nil {
		r.Client, r.Server, r.Simulator = obs.Client, obs.Server, obs.Simulator
		r.Peers = probePeers(obs)
	}
	if err != nil {
		r.Verdict = results.InfraError
		r.Reason = "the suite could not run this cell (not the implementations' fault): " + err.Error()
		if ctx.Err() != nil {
			r.Reason = "interrupted: " + err.Error()
		}
		return r
	}
	judge.Judge(obs, &r)
	keepArtifacts(obs, dir)
	return r
}

func sideOf(c cases.Cell, name string) string {
	switch {
	case c.Client == name && c.Server == name:
		return "both"
	case c.Client == name:
		return "client"
	default:
		return "server"
	}
}

// unsupported reports cells a manifest does not declare (MANIFEST-4,
// MANIFEST-8): reported as unsupported, never failed, never run.
func unsupported(c cases.Cell, client, server registry.Impl) (bool, string) {
	if client.Err != nil || server.Err != nil {
		return false, ""
	}
	if !client.Supports(c.ClientRole()) {
		return true, fmt.Sprintf("%s does not declare the %s role", c.Client, c.ClientRole())
	}
	if !server.Supports(c.ServerRole()) {
		return true, fmt.Sprintf("%s does not declare the %s role", c.Server, c.ServerRole())
	}
	switch registry.Feature(c.Feature) {
	case registry.SACK:
		if !client.HasFeature(c.ClientRole(), registry.SACK) {
			return true, fmt.Sprintf("%s's %s does not declare the sack feature", c.Client, c.ClientRole())
		}
		if !server.HasFeature(c.ServerRole(), registry.SACK) {
			return true, fmt.Sprintf("%s's %s does not declare the sack feature", c.Server, c.ServerRole())
		}
	case registry.Challenge:
		if !server.HasFeature(registry.HelloServer, registry.Challenge) {
			return true, fmt.Sprintf("%s's hello-server does not declare the challenge feature", c.Server)
		}
	}
	return false, ""
}

// runPair starts server, simulator and client for one cell and observes them.
// A returned error is an infrastructure failure; everything the programs
// did wrong is in the observation.
func (env *Env) runPair(ctx context.Context, c cases.Cell, dir string, client, server registry.Impl) (obs *judge.Observation, err error) {
	obs = &judge.Observation{Cell: c, ClientImpl: client, ServerImpl: server, Dir: dir}
	l, err := env.openCell(ctx, c, dir)
	if err != nil {
		return obs, err
	}
	defer closeCell(context.WithoutCancel(ctx), l, obs, &err)

	clientImage, serverImage, simImage := env.Images[client.Name], env.Images[server.Name], env.Images["netsim"]
	if pl, ok := l.(*poolLauncher); ok {
		pl.Warm(ctx,
			hostWant{sideServer, server.Name, serverImage, true},
			hostWant{sideSim, "netsim", simImage, false},
			hostWant{sideClient, client.Name, clientImage, true})
	}
	if c.Protocol == cases.RUDP {
		if err := l.Prepare(ctx, sideClient, client.Name, clientImage, true); err != nil {
			return obs, err
		}
		obs.InputPath = filepath.Join(l.Dir(sideClient), inputName)
		if obs.InputSHA256, err = InputFile(obs.InputPath, c.Size.Bytes, c.Seed); err != nil {
			return obs, fmt.Errorf("write input file: %w", err)
		}
	}

	port := c.Port()
	proto := "tcp"
	if c.Protocol == cases.RUDP {
		proto = "udp"
	}
	vars := map[string]string{"port": strconv.Itoa(port), "lang": server.Manifest.Language}
	var features []registry.Feature
	if c.Feature != "" {
		features = append(features, registry.Feature(c.Feature))
	}

	// 1. Server / receiver.
	srvRole := server.Manifest.Roles[c.ServerRole()]
	if c.Protocol == cases.RUDP {
		vars["outdir"], vars["timeout"] = outDir, "10"
	}
	srvCmd, err := srvRole.Expand(vars, serverFeatures(c, features)...)
	if err != nil {
		return obs, err
	}
	obs.Server = &results.Program{Impl: server.Name, Role: string(c.ServerRole()), Image: serverImage, Command: srvCmd}
	t0 := time.Now()
	srv, err := l.Launch(ctx, sideServer, server.Name, serverImage, srvCmd, true)
	if err != nil {
		if containers.IsCommandError(err) {
			obs.ServerStartError = err.Error()
			return obs, nil
		}
		return obs, err
	}
	obs.OutputDir = l.Dir(sideServer)
	if c.Protocol == cases.RUDP {
		// The output folder is on the host's disk: a receiver that writes
		// without end is stopped at the limit (MANIFEST-16).
		stopWatch := watchOutput(ctx, obs, srv)
		defer stopWatch()
	}
	startup := time.Duration(srvRole.StartupSeconds) * time.Second
	if startup == 0 {
		startup = DefaultStartup
	}
	var logRE *regexp.Regexp
	if srvRole.Ready != nil {
		logRE = srvRole.Ready.Log // MANIFEST-12
	}
	if werr := srv.WaitListening(ctx, proto, port, startup, logRE); werr != nil {
		if !errors.Is(werr, containers.ErrNotListening) {
			return obs, werr
		}
		obs.ServerNotListening = werr.Error()
		srv.Stop(ctx, time.Second)
		env.collect(ctx, srv, obs.Server, t0, dir, "server")
		return obs, nil
	}

	// 2. Network simulator, between the two.
	simCmd := []string{netsimBinary, "-listen", ":" + strconv.Itoa(simPort), "-upstream", l.Address(sideServer) + ":" + strconv.Itoa(port),
		"-scenario", c.Scenario, "-seed", strconv.FormatInt(c.Seed, 10), "-trace", traceDir + "/" + traceName}
	if c.Protocol == cases.Hello {
		simCmd = append(simCmd, "-tcp")
	}
	sim, simStart, err := env.startSim(ctx, l, obs, dir, simImage, simCmd, proto)
	if err != nil {
		return obs, err
	}

	// 3. Client / sender, against the simulator.
	cliRole := client.Manifest.Roles[c.ClientRole()]
	cvars := map[string]string{"host": l.Address(sideSim), "port": strconv.Itoa(simPort), "lang": client.Manifest.Language}
	if cliRole.NeedsIP {
		cvars["host"] = l.IP(sideSim) // MANIFEST-7
	}
	if c.Protocol == cases.RUDP {
		cvars["file"] = inDir + "/" + inputName
	}
	cliCmd, err := cliRole.Expand(cvars, clientFeatures(c, features)...)
	if err != nil {
		return obs, err
	}
	obs.Client = &results.Program{Impl: client.Name, Role: string(c.ClientRole()), Image: clientImage, Command: cliCmd}
	cliStart := time.Now()
	cli, err := l.Launch(ctx, sideClient, client.Name, clientImage, cliCmd, true)
	if err != nil {
		if containers.IsCommandError(err) {
			obs.ClientStartError = err.Error()
			return obs, nil
		}
		return obs, err
	}
	ex, err := cli.Wait(ctx, clientTimeout(c, cliRole))
	if err != nil {
		return obs, err
	}
	cliEnd := time.Now()
	obs.Client.DurationMS = time.Since(cliStart).Milliseconds()
	code := ex.Code
	obs.Client.ExitCode, obs.Client.TimedOut, obs.Client.OOMKilled = &code, ex.TimedOut, ex.OOMKilled

	// 4. Wind down: the receiver may still be renaming its file; give it a
	// moment only when nothing is there yet.
	if c.Protocol == cases.RUDP && code == 0 && !ex.TimedOut && obs.OutputOverLimit.Load() == 0 {
		deadline := time.Now().Add(2 * time.Second)
		for !judge.HasOutput(obs.OutputDir) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := env.stopSim(ctx, sim, obs, simStart, dir); err != nil {
		return obs, err
	}
	// A Hello server that serves one client exits right after it, but not
	// always before the client has: give it serverExitGrace from the
	// client's exit before noting that it still runs (HELLO-13). Sampled at
	// least once after the simulator stopped.
	until := time.Now()
	if c.Protocol == cases.Hello {
		until = cliEnd.Add(serverExitGrace)
	}
	if err := stopServer(ctx, srv, obs, until); err != nil {
		return obs, err
	}
	env.collect(ctx, cli, obs.Client, cliStart, dir, "client")
	env.collect(ctx, srv, obs.Server, t0, dir, "server")
	return obs, nil
}

// startSim starts a cell's network simulator (cmd, listening on simPort
// for proto) and waits until it listens, recording it in obs. A simulator
// that does not start is the suite's failure, not the programs'.
func (env *Env) startSim(ctx context.Context, l launcher, obs *judge.Observation, dir, image string, cmd []string, proto string) (program, time.Time, error) {
	obs.Simulator = &results.Program{Impl: "netsim", Role: "simulator", Image: image, Command: cmd}
	start := time.Now()
	sim, err := l.Launch(ctx, sideSim, "netsim", image, cmd, false)
	if err != nil {
		return nil, start, err
	}
	obs.SimIP = l.IP(sideSim)
	obs.TracePath = filepath.Join(l.Dir(sideSim), traceName)
	if err := sim.WaitListening(ctx, proto, simPort, 10*time.Second, nil); err != nil {
		env.collect(ctx, sim, obs.Simulator, start, dir, "simulator")
		return nil, start, fmt.Errorf("network simulator did not start: %w\n%s", err, obs.Simulator.Stderr)
	}
	return sim, start, nil
}

// stopSim stops the simulator, which writes its trace's footer on the
// way out, and records its output; a non-zero exit is the suite's failure.
func (env *Env) stopSim(ctx context.Context, sim program, obs *judge.Observation, start time.Time, dir string) error {
	ex, err := sim.Stop(ctx, 3*time.Second)
	if err != nil {
		return err
	}
	env.collect(ctx, sim, obs.Simulator, start, dir, "simulator")
	if ex.Code != 0 {
		return fmt.Errorf("network simulator exited with code %d: %s", ex.Code, lastLines(obs.Simulator.Stderr, 5))
	}
	return nil
}

// stopServer notes whether the server still runs at until (one that
// exits by itself before then is noted, HELLO-13), then stops it and
// records its exit status if it had ended on its own.
func stopServer(ctx context.Context, srv program, obs *judge.Observation, until time.Time) error {
	obs.ServerStillRunning = srv.Running(ctx)
	for obs.ServerStillRunning && time.Now().Before(until) {
		time.Sleep(min(100*time.Millisecond, time.Until(until)))
		obs.ServerStillRunning = srv.Running(ctx)
	}
	srvEx, err := srv.Stop(ctx, time.Second)
	if err != nil {
		return err
	}
	if !obs.ServerStillRunning {
		sc := srvEx.Code
		obs.Server.ExitCode = &sc
		obs.Server.OOMKilled = srvEx.OOMKilled
	}
	return nil
}

// openCell makes a cell's folders and its launcher: the pool's, or one
// with containers of the cell's own. The caller defers closeCell.
func (env *Env) openCell(ctx context.Context, c cases.Cell, dir string) (launcher, error) {
	for _, d := range []string{"in", "out", "trace"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o777); err != nil {
			return nil, err
		}
		// The programs run as uid 65534 and must be able to write /out.
		os.Chmod(filepath.Join(dir, d), 0o777)
	}
	if env.Pool != nil {
		return env.Pool.cell(dir), nil
	}
	return env.newCellLauncher(ctx, c.ID(), dir)
}

// closeCell ends a cell's launcher, on a context that is not cancelled
// (the cell's may be). First, a container removed from outside mid-cell
// makes whatever the programs did meaningless, and it is the machine's
// fault, not theirs: *err becomes an infrastructure error. Then a
// failure to clean up is the cell's error if it has none. Last, each
// side's CPU time is noted on its program (what the benchmark adds up
// to tell how much of the machine a matrix needs), and the forks the
// kernel refused it at its process limit (named in the cell's reason).
func closeCell(ctx context.Context, l launcher, obs *judge.Observation, err *error) {
	defer func() {
		for side, p := range map[string]*results.Program{sideClient: obs.Client, sideServer: obs.Server, sideSim: obs.Simulator} {
			if p == nil {
				continue
			}
			u := l.Usage(ctx, side)
			if u.CPUKnown {
				p.CPUMS = max(u.CPU.Milliseconds(), 1) // 0 would read as "not measured"
			}
			p.ForkRefusals = u.ForkRefusals
		}
	}()
	if gone := l.Gone(ctx); len(gone) > 0 {
		cause := "removed from outside the suite"
		if *err != nil {
			cause += " (" + (*err).Error() + ")"
		}
		*err = fmt.Errorf("%w: %s disappeared in the middle of the cell: %s", containers.ErrHostGone, strings.Join(gone, " and "), cause)
	}
	if cerr := l.Close(ctx); cerr != nil && *err == nil {
		*err = cerr
	}
}

// serverExitGrace is how long after its client a Hello server that exits
// on its own still counts as "exits after one client" (HELLO-13) in an
// ordinary cell. It was 1 s, most of a warm Hello cell's time once
// programs started through the agent; a server that exits after one
// client does so as it closes the connection, and the second-client
// probe (standard and full depth) tests HELLO-13 directly, so a server
// that is late to exit here is still caught there.
const serverExitGrace = 250 * time.Millisecond

// OutputLimit is how much a receiver may write into its output folder,
// which lies on the host's disk (MANIFEST-16): 64 times the largest input.
const OutputLimit = judge.OutputLimitMiB << 20

// watchOutput checks the size of the receiver's output folder four times a
// second while the cell runs, and stops the receiver as soon as it holds
// more than OutputLimit bytes; obs.OutputOverLimit records the size seen.
// The returned function ends the watch and waits for it.
func watchOutput(ctx context.Context, obs *judge.Observation, srv program) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if n := judge.DirBytes(obs.OutputDir); n > OutputLimit {
				obs.OutputOverLimit.Store(n)
				srv.Stop(context.WithoutCancel(ctx), 0)
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

func serverFeatures(c cases.Cell, f []registry.Feature) []registry.Feature {
	if c.Feature == string(registry.SACK) || c.Feature == string(registry.Challenge) {
		return f
	}
	return nil
}

func clientFeatures(c cases.Cell, f []registry.Feature) []registry.Feature {
	if c.Feature == string(registry.SACK) {
		return f
	}
	return nil
}

// collect fetches a program's output into the result and the cell folder.
func (env *Env) collect(ctx context.Context, ct program, p *results.Program, started time.Time, dir, who string) {
	stdout, stderr, err := ct.Output(ctx)
	if err != nil {
		p.Stderr = "(the suite could not read this program's output: " + err.Error() + ")"
		return
	}
	if p.DurationMS == 0 {
		p.DurationMS = time.Since(started).Milliseconds()
	}
	p.Stdout, p.Stderr = string(stdout.Bytes()), string(stderr.Bytes())
	p.StdoutBytes, p.StderrBytes = stdout.Total, stderr.Total
	os.WriteFile(filepath.Join(dir, who+".stdout.txt"), stdout.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, who+".stderr.txt"), stderr.Bytes(), 0o644)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// keepArtifacts copies the input, output and trace of a pooled cell into
// the cell's folder: the pool's folders are emptied by the next cell.
func keepArtifacts(obs *judge.Observation, dir string) {
	for src, dst := range map[string]string{
		filepath.Dir(obs.InputPath): filepath.Join(dir, "in"),
		obs.OutputDir:               filepath.Join(dir, "out"),
		filepath.Dir(obs.TracePath): filepath.Join(dir, "trace"),
	} {
		if src == obs.OutputDir && obs.OutputOverLimit.Load() > 0 {
			continue // never copy a flood of output into the results
		}
		if src == "" || src == "." || src == dst {
			continue
		}
		copyDir(src, dst)
	}
}
