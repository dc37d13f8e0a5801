package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/interop-suite/interop/conformance/containers"
	"github.com/interop-suite/interop/conformance/registry"
)

// errInfra marks preflight problems that are not the implementation's.
var errInfra = errors.New("infrastructure")

// PreflightPort is the port servers are asked to listen on when probed.
const PreflightPort = 4433

// Preflight starts each implementation's server roles once, before the
// matrix, and checks that they start and bind their port. A role that does
// not gets one clear message, recorded in env.ImageErrors under
// "name:role", so its cells fail fast with that message instead of each
// timing out on its own.
func (env *Env) Preflight(ctx context.Context, names []string) map[string]string {
	problems := map[string]string{}
	var mu sync.Mutex
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, name := range names {
		impl := env.Impls[name]
		if impl.Err != nil || env.Images[name] == "" {
			continue
		}
		for _, role := range []registry.Role{registry.HelloServer, registry.RUDPReceiver} {
			if !impl.Supports(role) {
				continue
			}
			wg.Add(1)
			go func(impl registry.Impl, role registry.Role) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				if err := env.probe(ctx, impl, role); err != nil {
					if errors.Is(err, errInfra) {
						env.logf("preflight of %s %s could not run (not the implementation's fault): %v", impl.Name, role, err)
						return
					}
					mu.Lock()
					problems[impl.Name+":"+string(role)] = err.Error()
					mu.Unlock()
				}
			}(impl, role)
		}
	}
	wg.Wait()
	return problems
}

func (env *Env) probe(ctx context.Context, impl registry.Impl, role registry.Role) error {
	cell := "preflight/" + impl.Name + "/" + string(role)
	rc := impl.Manifest.Roles[role]
	dir, err := os.MkdirTemp(env.ResultsDir, "preflight-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	vars := map[string]string{"port": strconv.Itoa(PreflightPort), "lang": impl.Manifest.Language, "outdir": outDir, "timeout": "10"}
	argv, err := rc.Expand(vars)
	if err != nil {
		return err
	}
	nw, err := env.Engine.NewNetwork(ctx, cell)
	if err != nil {
		return fmt.Errorf("%w: %w", errInfra, err)
	}
	defer nw.Remove(context.WithoutCancel(ctx))
	spec := containers.Spec{Cell: cell, Image: env.Images[impl.Name], Cmd: argv, Untrusted: true, Limits: env.Limits, Aliases: []string{"server"}}
	proto := "tcp"
	if role == registry.RUDPReceiver {
		proto = "udp"
		spec.WorkDir = outDir
		spec.Binds = []containers.Bind{{Host: dir, Container: outDir}}
	}
	ct, err := env.Engine.Start(ctx, nw, spec)
	if err != nil {
		if !containers.IsCommandError(err) {
			return fmt.Errorf("%w: %w", errInfra, err)
		}
		return fmt.Errorf("preflight: the %s command cannot start: %w", role, err)
	}
	defer ct.Remove(context.WithoutCancel(ctx))
	startup := time.Duration(rc.StartupSeconds) * time.Second
	if startup == 0 {
		startup = DefaultStartup
	}
	var logRE *regexp.Regexp
	if rc.Ready != nil {
		logRE = rc.Ready.Log
	}
	werr := ct.WaitListening(ctx, proto, PreflightPort, startup, logRE)
	if werr == nil {
		return nil
	}
	if !errors.Is(werr, containers.ErrNotListening) {
		return fmt.Errorf("%w: %w", errInfra, werr)
	}
	stdout, stderr, _ := ct.Logs(ctx)
	return fmt.Errorf("preflight: %s's %s %s.\ncommand: %s\nlast output:\n%s%s", impl.Name, role, werr, argvString(argv),
		lastLines(string(stdout.Bytes()), 5), lastLines(string(stderr.Bytes()), 10))
}

func argvString(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += " "
		}
		s += strconv.Quote(x)
	}
	return s
}
