// Command fixturegen makes the report's "real" test fixture: a small run of
// the reference and the course implementations that run natively on a
// developer machine (python, node, and C when its binaries are built), through
// the real network simulator, judged by the suite's own judge. It runs the
// programs as local processes instead of containers, so it needs no Docker;
// what it records (logs, traces, verdicts, findings) is what the suite
// records.
//
// It lives under testdata so that `go build ./...` and `go vet ./...` skip it
// (it needs python3 and node on the machine). Regenerate with:
//
//	go build -o /tmp/bin/ ./conformance/cmd/netsim ./reference/cmd/rudp ./reference/cmd/hello
//	go run ./conformance/report/testdata/fixturegen -bin /tmp/bin -out conformance/report/testdata/real
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/judge"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
	"github.com/interop-suite/interop/conformance/runner"
	"github.com/interop-suite/interop/conformance/suite"
)

var (
	binDir  = flag.String("bin", "/tmp/bin", "folder with the netsim, rudp and hello binaries")
	outDir  = flag.String("out", "conformance/report/testdata/real", "results folder to write")
	repo    = flag.String("repo", ".", "repository root")
	expFile = flag.String("expectations", "conformance/report/testdata/fixturegen/expectations.yaml", "known failures")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	if abs, err := filepath.Abs(*repo); err == nil {
		*repo = abs
	}
	impls := []registry.Impl{registry.Reference()}
	for _, n := range []string{"c", "node", "python"} {
		im := registry.Load(filepath.Join(*repo, "clients", n))
		if im.Err != nil {
			log.Fatalf("%s: %v", n, im.Err)
		}
		impls = append(impls, im)
	}
	naive := registry.Load(filepath.Join(*repo, "conformance/report/testdata/fixturegen/naive"))
	if naive.Err != nil {
		log.Fatalf("naive: %v", naive.Err)
	}
	impls = append(impls, naive)
	byName := map[string]registry.Impl{}
	for _, im := range impls {
		byName[im.Name] = im
	}
	exp, err := results.LoadExpectations(*expFile)
	if err != nil {
		log.Fatal(err)
	}
	os.RemoveAll(*outDir)
	run := results.Run{
		Schema: results.SchemaVersion, SuiteVersion: suite.Version(*repo), ExpectationsHash: exp.Hash,
		RunID: "fixture-" + time.Now().UTC().Format("20060102T150405Z"), Depth: "standard",
		Started: time.Now().UTC(), Command: "go run ./conformance/report/testdata/fixturegen",
	}
	for _, im := range impls {
		info := results.ImplInfo{Name: im.Name, Language: im.Manifest.Language, Image: "interop/" + im.Name + ":fixture"}
		for r := range im.Manifest.Roles {
			info.Roles = append(info.Roles, string(r))
		}
		run.Impls = append(run.Impls, info)
	}
	for i, c := range plan() {
		r := runCell(c, byName, 41000+2*i)
		exp.Apply(&r)
		log.Printf("%-12s %-15s %s", r.Verdict, r.Outcome, r.ID)
		run.Results = append(run.Results, r)
	}
	results.AssignBlame(run.Results)
	run.Finished = time.Now().UTC()
	for i := range run.Impls {
		slices.Sort(run.Impls[i].Roles)
	}
	if err := run.Write(filepath.Join(*outDir, "results.json")); err != nil {
		log.Fatal(err)
	}
}

// plan is a small standard-depth-like run: every pair clean, the
// reference pairs under a few impairments, two seeds where it matters.
func plan() []cases.Cell {
	names := []string{"c", "node", "python", "reference"} // naive is added below
	var cells []cases.Cell
	add := func(p cases.Protocol, client, server, scenario, feature string, size cases.Size, seeds int) {
		for s := 1; s <= seeds; s++ {
			cells = append(cells, cases.Cell{Protocol: p, Client: client, Server: server, Scenario: scenario, Feature: feature, Size: size, Seed: int64(s), Seeds: seeds})
		}
	}
	for _, a := range names {
		for _, b := range names {
			add(cases.Hello, a, b, "tcp-clean", "", cases.Size{}, 1)
			add(cases.RUDP, a, b, "clean", "", cases.SizeOnePacket, 1)
		}
	}
	for _, a := range names {
		if a == "reference" {
			continue
		}
		for _, p := range [][2]string{{a, "reference"}, {"reference", a}} {
			add(cases.Hello, p[0], p[1], "tcp-tiny-segments", "", cases.Size{}, 2)
			add(cases.RUDP, p[0], p[1], "mixed", "", cases.Size256K, 2)
			add(cases.RUDP, p[0], p[1], "blackout", "", cases.Size256K, 1)
		}
	}
	add(cases.RUDP, "reference", "reference", "mixed", "", cases.Size256K, 2)
	add(cases.RUDP, "reference", "reference", "blackout", "", cases.Size256K, 1)
	add(cases.RUDP, "reference", "reference", "loss-30", "", cases.Size256K, 1)
	add(cases.RUDP, "python", "reference", "loss-30", "", cases.Size256K, 1)
	add(cases.RUDP, "node", "reference", "loss-30", "", cases.Size256K, 1)
	add(cases.RUDP, "c", "reference", "loss-30", "", cases.Size256K, 1)
	add(cases.RUDP, "python", "node", "mixed", "", cases.Size256K, 2)
	add(cases.RUDP, "reference", "reference", "loss-10", "sack", cases.Size256K, 1)
	add(cases.RUDP, "python", "reference", "loss-10", "sack", cases.Size256K, 1)
	add(cases.RUDP, "c", "reference", "loss-10", "sack", cases.Size256K, 1)
	add(cases.Hello, "reference", "python", "tcp-clean", "challenge", cases.Size{}, 1)
	add(cases.Hello, "reference", "node", "tcp-clean", "challenge", cases.Size{}, 1)
	// The naive implementation: wrong Hello text, one-client server, a
	// sender with a fixed 500 ms timer and no fast retransmit, no receiver.
	for _, b := range names {
		add(cases.Hello, "naive", b, "tcp-clean", "", cases.Size{}, 1)
		add(cases.Hello, b, "naive", "tcp-clean", "", cases.Size{}, 1)
		add(cases.RUDP, "naive", b, "clean", "", cases.SizeOnePacket, 1)
	}
	add(cases.Hello, "naive", "naive", "tcp-clean", "", cases.Size{}, 1)
	add(cases.RUDP, "reference", "naive", "clean", "", cases.SizeOnePacket, 1)
	add(cases.RUDP, "naive", "reference", "mixed", "", cases.Size256K, 2)
	add(cases.RUDP, "naive", "reference", "loss-30", "", cases.Size256K, 1)
	add(cases.RUDP, "naive", "reference", "blackout", "", cases.Size256K, 1)
	return cells
}

// command expands a role's command for a local run: /app/... becomes the
// implementation's folder, the reference's /rudp and /hello the binaries.
func command(im registry.Impl, role registry.Role, vars map[string]string, features []registry.Feature) []string {
	argv, err := im.Manifest.Roles[role].Expand(vars, features...)
	if err != nil {
		log.Fatal(err)
	}
	out := append([]string(nil), argv...)
	for i, a := range out {
		switch {
		case a == registry.ReferenceRUDPBin || a == registry.ReferenceHelloBin:
			out[i] = filepath.Join(*binDir, strings.TrimPrefix(a, "/"))
		case strings.HasPrefix(a, "/app/"):
			out[i] = filepath.Join(im.Dir, strings.TrimPrefix(a, "/app/"))
		}
	}
	return out
}

type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	started        time.Time
	done           chan struct{}
}

func start(argv []string, dir string) *proc {
	p := &proc{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		log.Fatalf("start %v: %v", argv, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	return p
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) program(impl, role string, argv []string, stillRunning bool) *results.Program {
	pr := &results.Program{Impl: impl, Role: role, Command: argv, Stdout: p.stdout.String(), Stderr: p.stderr.String(),
		StdoutBytes: int64(p.stdout.Len()), StderrBytes: int64(p.stderr.Len()), DurationMS: time.Since(p.started).Milliseconds()}
	if !stillRunning && p.cmd.ProcessState != nil {
		code := p.cmd.ProcessState.ExitCode()
		pr.ExitCode = &code
	}
	return pr
}

func waitPort(proto string, port int) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if proto == "tcp" {
			if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond); err == nil {
				c.Close()
				return
			}
		} else if l, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			l.Close() // still free: not bound yet
		} else {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func runCell(c cases.Cell, impls map[string]registry.Impl, simPort int) results.Result {
	started := time.Now()
	r := results.Result{ID: c.ID(), Group: c.Group(), Cell: c, Started: started.UTC(),
		Reproduce: fmt.Sprintf("INTEROP_CELL='%s' go tool ginkgo ./conformance", c.ID()),
		Artifacts: "cells/" + c.ID()}
	defer func() { r.WallMS = time.Since(started).Milliseconds() }()
	client, server := impls[c.Client], impls[c.Server]
	// As the runner does: undeclared roles are unsupported, never run.
	for _, side := range []struct {
		im   registry.Impl
		role registry.Role
	}{{client, c.ClientRole()}, {server, c.ServerRole()}} {
		if !side.im.Supports(side.role) {
			r.Verdict, r.Artifacts = results.Unsupported, ""
			r.Reason = fmt.Sprintf("%s does not declare the %s role", side.im.Name, side.role)
			return r
		}
	}
	dir := filepath.Join(*outDir, "cells", filepath.FromSlash(c.ID()))
	for _, d := range []string{"in", "out", "trace"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	obs := &judge.Observation{Cell: c, ClientImpl: client, ServerImpl: server, Dir: dir, TracePath: filepath.Join(dir, "trace", "trace.jsonl")}
	port := c.Port()
	var features []registry.Feature
	if c.Feature != "" {
		features = append(features, registry.Feature(c.Feature))
	}
	proto := "tcp"
	vars := map[string]string{"port": strconv.Itoa(port), "lang": server.Manifest.Language}
	if c.Protocol == cases.RUDP {
		proto = "udp"
		obs.InputPath = filepath.Join(dir, "in", "input.bin")
		sum, err := runner.InputFile(obs.InputPath, c.Size.Bytes, c.Seed)
		if err != nil {
			log.Fatal(err)
		}
		obs.InputSHA256, obs.OutputDir = sum, filepath.Join(dir, "out")
		vars["outdir"], vars["timeout"] = obs.OutputDir, "10"
	}
	outAbs, _ := filepath.Abs(filepath.Join(dir, "out"))
	if c.Protocol == cases.RUDP {
		vars["outdir"] = outAbs
	}
	srvArgv := command(server, c.ServerRole(), vars, features)
	srv := start(srvArgv, outAbs)
	waitPort(proto, port)

	simArgv := []string{filepath.Join(*binDir, "netsim"), "-listen", "127.0.0.1:" + strconv.Itoa(simPort), "-upstream", "127.0.0.1:" + strconv.Itoa(port),
		"-scenario", c.Scenario, "-seed", strconv.FormatInt(c.Seed, 10), "-trace", obs.TracePath}
	if c.Protocol == cases.Hello {
		simArgv = append(simArgv, "-tcp")
	}
	sim := start(simArgv, "")
	waitPort(proto, simPort)

	cvars := map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(simPort), "lang": client.Manifest.Language}
	if c.Protocol == cases.RUDP {
		in, _ := filepath.Abs(obs.InputPath)
		cvars["file"] = in
	}
	var cliFeatures []registry.Feature
	if c.Feature == string(registry.SACK) {
		cliFeatures = features
	}
	cliArgv := command(client, c.ClientRole(), cvars, cliFeatures)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cli := start(cliArgv, "")
	timedOut := false
	select {
	case <-cli.done:
	case <-ctx.Done():
		timedOut = true
		cli.stop(time.Second)
	}
	if c.Protocol == cases.RUDP && !timedOut {
		deadline := time.Now().Add(2 * time.Second)
		for !judge.HasOutput(obs.OutputDir) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	obs.ServerStillRunning = srv.running()
	sim.stop(3 * time.Second)
	srv.stop(time.Second)
	obs.Client = cli.program(c.Client, string(c.ClientRole()), cliArgv, false)
	obs.Client.TimedOut = timedOut
	obs.Server = srv.program(c.Server, string(c.ServerRole()), srvArgv, obs.ServerStillRunning)
	obs.Simulator = sim.program("netsim", "simulator", simArgv, false)
	judge.Judge(obs, &r)
	r.Client, r.Server, r.Simulator = obs.Client, obs.Server, obs.Simulator
	for _, p := range []struct {
		who string
		p   *results.Program
	}{{"client", r.Client}, {"server", r.Server}, {"simulator", r.Simulator}} {
		os.WriteFile(filepath.Join(dir, p.who+".stdout.txt"), []byte(p.p.Stdout), 0o644)
		os.WriteFile(filepath.Join(dir, p.who+".stderr.txt"), []byte(p.p.Stderr), 0o644)
	}
	// The input and output files are not needed by reports and would
	// bloat the fixture.
	os.RemoveAll(filepath.Join(dir, "in"))
	os.RemoveAll(filepath.Join(dir, "out"))
	return r
}
