package runner

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/containers"
	"github.com/interop-suite/interop/conformance/judge"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
)

// The Hello probes (spec/hello.md, "Cases"): one side is the implementation
// under test, the other the reference with probe flags (reference/cmd/hello),
// or nothing at all. Which network each runs over, and which flags the
// reference gets, is decided here; the verdict in judge/probe.go.

// probeSetup is how the runner plays one probe.
type probeSetup struct {
	scenario string   // the relay's simulator scenario
	simArgs  []string // extra simulator flags
	// serverArgs are appended to the reference server's command (client
	// probes); noServer runs none (refused).
	serverArgs []string
	noServer   bool
	// clientArgs are appended to the reference client's command (server
	// probes); twice runs it a second time (second-client).
	clientArgs []string
	twice      bool
	// silentClients opens the two silent connections to the server, past
	// the relay, before the reference client runs (silent-client).
	silentClients bool
}

var probeSetups = map[string]probeSetup{
	// HELLO-2, HELLO-12: a message ended by the client's half-close.
	"no-newline-eof": {scenario: "tcp-clean", clientArgs: []string{"--no-newline", "--half-close", "now"}},
	// HELLO-2: a message ended by the idle gap only.
	"no-newline-idle": {scenario: "tcp-clean", clientArgs: []string{"--no-newline", "--half-close", "never"}},
	// HELLO-12: a reply after the client's half-close.
	"half-close": {scenario: "tcp-clean", clientArgs: []string{"--half-close", "now"}},
	// HELLO-13: two clients in a row.
	"second-client": {scenario: "tcp-clean", twice: true},
	// HELLO-14: the reference client waits up to 25 s, beside two silent
	// connections.
	"silent-client": {scenario: "tcp-clean", clientArgs: []string{"--timeout", "25s"}, silentClients: true},
	// HELLO-2, HELLO-6: a reply without newline, cut into tiny segments,
	// its close held back.
	"reply-no-newline": {scenario: "tcp-tiny-segments", simArgs: []string{"-close-delay", "rev=" + judge.CloseHeld.String()}, serverArgs: []string{"--no-newline"}},
	// HELLO-8: nothing listens on the port the client is given.
	"refused": {scenario: "tcp-clean", noServer: true},
	// HELLO-8: a server that never replies nor closes.
	"silent-server": {scenario: "tcp-clean", serverArgs: []string{"--silent"}},
}

// silentReady is the reference silent client's stderr line once both of
// its connections are open (reference/cmd/hello, SilentReady).
var silentReady = regexp.MustCompile(`hello client: silent: 2 connections open`)

// silentHold bounds how long the silent connections stay open; the runner
// stops them as soon as the reference client is done.
const silentHold = "60s"

// secondListenWait is how long the server may take to listen again after
// its first client (a server that re-creates its socket per client).
const secondListenWait = 5 * time.Second

// probePeers are the programs of a probe cell besides client, server and
// simulator, by the name of their files in the cell's folder.
func probePeers(obs *judge.Observation) map[string]*results.Program {
	peers := map[string]*results.Program{}
	if obs.SecondClient != nil {
		peers["second-client"] = obs.SecondClient
	}
	if obs.SilentClients != nil {
		peers["silent-clients"] = obs.SilentClients
	}
	if len(peers) == 0 {
		return nil
	}
	return peers
}

// runProbe runs one probe cell and observes it. A returned error is an
// infrastructure failure; what the programs did is in the observation.
func (env *Env) runProbe(ctx context.Context, c cases.Cell, dir string, client, server registry.Impl) (obs *judge.Observation, err error) {
	obs = &judge.Observation{Cell: c, ClientImpl: client, ServerImpl: server, Dir: dir}
	p, _ := c.Probe()
	setup, ok := probeSetups[p.Name]
	if !ok {
		return obs, fmt.Errorf("the runner has no setup for probe %q", p.Name)
	}
	l, err := env.openCell(ctx, c, dir)
	if err != nil {
		return obs, err
	}
	defer closeCell(context.WithoutCancel(ctx), l, obs, &err)
	clientImage, serverImage, simImage := env.Images[client.Name], env.Images[server.Name], env.Images["netsim"]
	port := c.Port()
	// The reference's flags may come anywhere on its command line, so the
	// probe's are appended to its manifest command.
	var serverArgs, clientArgs []string
	if p.Tests == cases.ClientSide {
		serverArgs = setup.serverArgs
	} else {
		clientArgs = setup.clientArgs
	}

	// 1. The server: the implementation's (server probes) or the
	// reference with the probe's flags (client probes); none for refused.
	var srv program
	var t0 time.Time
	if !setup.noServer {
		srvRole := server.Manifest.Roles[registry.HelloServer]
		srvCmd, err := srvRole.Expand(map[string]string{"port": strconv.Itoa(port), "lang": server.Manifest.Language})
		if err != nil {
			return obs, err
		}
		srvCmd = append(srvCmd, serverArgs...)
		obs.Server = &results.Program{Impl: server.Name, Role: string(registry.HelloServer), Image: serverImage, Command: srvCmd}
		t0 = time.Now()
		srv, err = l.Launch(ctx, sideServer, server.Name, serverImage, srvCmd, true)
		if err != nil {
			if containers.IsCommandError(err) {
				obs.ServerStartError = err.Error()
				return obs, nil
			}
			return obs, err
		}
		startup := time.Duration(srvRole.StartupSeconds) * time.Second
		if startup == 0 {
			startup = DefaultStartup
		}
		var logRE *regexp.Regexp
		if srvRole.Ready != nil {
			logRE = srvRole.Ready.Log // MANIFEST-12
		}
		if werr := srv.WaitListening(ctx, "tcp", port, startup, logRE); werr != nil {
			if !errors.Is(werr, containers.ErrNotListening) {
				return obs, werr
			}
			obs.ServerNotListening = werr.Error()
			srv.Stop(ctx, time.Second)
			env.collect(ctx, srv, obs.Server, t0, dir, "server")
			return obs, nil
		}
	}

	// 2. The relay, recording both directions.
	simCmd := append([]string{netsimBinary, "-listen", ":" + strconv.Itoa(simPort), "-upstream", l.Address(sideServer) + ":" + strconv.Itoa(port),
		"-scenario", setup.scenario, "-seed", strconv.FormatInt(c.Seed, 10), "-trace", traceDir + "/" + traceName, "-tcp"}, setup.simArgs...)
	sim, simStart, err := env.startSim(ctx, l, obs, dir, simImage, simCmd, "tcp")
	if err != nil {
		return obs, err
	}

	cliRole := client.Manifest.Roles[registry.HelloClient]
	// 3. silent-client: two connections straight to the server (past the
	// relay, whose trace then holds the reference client's alone), open
	// before the reference client starts.
	var silent program
	var silentStart time.Time
	if setup.silentClients {
		cmd, err := cliRole.Expand(map[string]string{"host": l.Address(sideServer), "port": strconv.Itoa(port), "lang": client.Manifest.Language})
		if err != nil {
			return obs, err
		}
		cmd = append(cmd, "--silent", "--timeout", silentHold)
		obs.SilentClients = &results.Program{Impl: client.Name, Role: string(registry.HelloClient), Image: clientImage, Command: cmd}
		silentStart = time.Now()
		if silent, err = l.Launch(ctx, sideClient, client.Name, clientImage, cmd, true); err != nil {
			return obs, err
		}
		if werr := silent.WaitListening(ctx, "tcp", port, 15*time.Second, silentReady); werr != nil {
			if !errors.Is(werr, containers.ErrNotListening) {
				return obs, werr
			}
			obs.SilentClientsError = werr.Error()
		}
	}

	// 4. The client: the implementation's (client probes) or the reference
	// with the probe's flags, through the relay; for refused, at a port of
	// the relay's host where nothing listens.
	cvars := map[string]string{"host": l.Address(sideSim), "port": strconv.Itoa(simPort), "lang": client.Manifest.Language}
	if setup.noServer {
		cvars["port"] = strconv.Itoa(port) // 20000-39999, never simPort
	}
	if cliRole.NeedsIP {
		cvars["host"] = l.IP(sideSim) // MANIFEST-7
	}
	cliCmd, err := cliRole.Expand(cvars)
	if err != nil {
		return obs, err
	}
	cliCmd = append(cliCmd, clientArgs...)
	obs.Client = &results.Program{Impl: client.Name, Role: string(registry.HelloClient), Image: clientImage, Command: cliCmd}
	var cli program
	var cliStart time.Time
	if obs.SilentClientsError == "" {
		runClient := func(p *results.Program) (program, time.Time, error) {
			start := time.Now()
			pr, err := l.Launch(ctx, sideClient, client.Name, clientImage, cliCmd, true)
			if err != nil {
				return nil, start, err
			}
			ex, err := pr.Wait(ctx, clientTimeout(c, cliRole))
			if err != nil {
				return nil, start, err
			}
			p.DurationMS = time.Since(start).Milliseconds()
			code := ex.Code
			p.ExitCode, p.TimedOut, p.OOMKilled = &code, ex.TimedOut, ex.OOMKilled
			return pr, start, nil
		}
		cli, cliStart, err = runClient(obs.Client)
		if err != nil {
			if containers.IsCommandError(err) {
				obs.ClientStartError = err.Error()
				return obs, nil
			}
			return obs, err
		}
		obs.ClientEnded = time.Now()

		// second-client: again, once the server listens again (HELLO-13).
		if setup.twice && srv != nil {
			if werr := srv.WaitListening(ctx, "tcp", port, secondListenWait, nil); werr != nil {
				if !errors.Is(werr, containers.ErrNotListening) {
					return obs, werr
				}
				obs.NotListeningAgain = werr.Error()
			} else {
				obs.SecondClient = &results.Program{Impl: client.Name, Role: string(registry.HelloClient), Image: clientImage, Command: cliCmd}
				cli2, start2, err := runClient(obs.SecondClient)
				if err != nil {
					return obs, err
				}
				env.collect(ctx, cli2, obs.SecondClient, start2, dir, "second-client")
			}
		}
	}

	// 5. Wind down, as runPair does.
	if silent != nil {
		ex, err := silent.Stop(ctx, 2*time.Second)
		if err != nil {
			return obs, err
		}
		code := ex.Code
		obs.SilentClients.ExitCode = &code
		env.collect(ctx, silent, obs.SilentClients, silentStart, dir, "silent-clients")
	}
	if err := env.stopSim(ctx, sim, obs, simStart, dir); err != nil {
		return obs, err
	}
	if srv != nil {
		// A server that serves one client exits right after it: give it a
		// second before noting that it still runs (HELLO-13).
		if err := stopServer(ctx, srv, obs, time.Now().Add(time.Second)); err != nil {
			return obs, err
		}
		env.collect(ctx, srv, obs.Server, t0, dir, "server")
	}
	if cli != nil {
		env.collect(ctx, cli, obs.Client, cliStart, dir, "client")
	}
	return obs, nil
}
