// Command netsim is the suite's network simulator: a UDP (or TCP) relay
// that impairs traffic with seeded, replayable decisions and writes a
// per-datagram trace; "netsim analyze" checks a trace against the RUDP
// requirements, "netsim selfcheck" measures a scenario on loopback.
//
// It is built static (CGO_ENABLED=0) to run alone in a FROM scratch image.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/interop-suite/interop/conformance/netsim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // analyze: a property failed; selfcheck: out of tolerance
	exitUsage = 2
)

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			return sub(args[1:], stdout, stderr)
		}
	}
	return relayCmd(args, stdout, stderr)
}

const usageHead = `netsim: a seeded, replayable network simulator between two peers.

Usage:
  netsim -upstream HOST:PORT [-listen ADDR] [-scenario NAME] [-seed N] [-trace FILE] [impairment flags]
  netsim -list                         list the scenarios
  netsim analyze [-json] TRACE         check a trace against the RUDP requirements
  netsim selfcheck -scenario NAME      measure a scenario's rates on loopback

The relay listens on -listen. Datagrams from each client address go to
-upstream from a socket of their own; replies come back the same way. With
-tcp (or a tcp-* scenario) it relays TCP connections instead, re-cutting
the byte stream into seeded chunks.

Directions: "fwd" is client -> upstream (RUDP sender -> receiver, the data),
"rev" is upstream -> client (the acks). Every impairment flag takes either
one value for both directions (-loss 0.1) or per-direction values
(-loss fwd=0.1,rev=0.05; -loss rev=0.3 changes only the acks). Flags
override the scenario; the trace header records the effective config.

Every decision is drawn from -seed, per flow, direction and packet index:
the same seed and the same packets give the same decisions. The seed is
printed on start and recorded in the trace. SIGTERM or SIGINT stops the
relay, completes and flushes the trace, and exits 0.

Flags:
`

// subcommands are filled in by the files that implement them.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) int{}

func relayCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("netsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":9000", "address to listen on")
	upstream := fs.String("upstream", "", "HOST:PORT to relay to; the name is resolved (and retried) when traffic needs it")
	seedFlag := fs.String("seed", "", "seed for every random decision (default: a random one, printed)")
	tracePath := fs.String("trace", "", "write the JSON Lines trace (spec/trace.md) to this file")
	scenario := fs.String("scenario", "", "scenario from the library (see -list); default clean, or tcp-clean with -tcp")
	tcp := fs.Bool("tcp", false, "relay TCP instead of UDP")
	list := fs.Bool("list", false, "list the scenarios and exit")
	verbose := fs.Bool("v", false, "log flows and upstream resolution on stderr")
	values := map[string]*string{}
	for _, f := range dirFlags {
		values[f.name] = fs.String(f.name, "", f.usage+" (per direction)")
	}
	drop := fs.String("drop", "", "protocol rules, comma-separated: start, end, ack (the first one), every-ack=N, seq=N; COUNT with *: start*2")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "netsim: unexpected argument %q (subcommands: analyze, selfcheck)\n", fs.Arg(0))
		return exitUsage
	}
	if *list {
		listScenarios(stdout)
		return exitOK
	}
	name := *scenario
	if name == "" {
		name = "clean"
		if *tcp {
			name = "tcp-clean"
		}
	}
	sc, err := netsim.Lookup(name)
	if err != nil {
		fmt.Fprintf(stderr, "netsim: %v\n", err)
		return exitUsage
	}
	if *tcp && sc.Config.Mode != netsim.ModeTCP {
		fmt.Fprintf(stderr, "netsim: -tcp with UDP scenario %q: pick a tcp-* scenario (see -list)\n", name)
		return exitUsage
	}
	cfg := sc.Config
	if err := overrides(fs, values, drop, &cfg); err != nil {
		fmt.Fprintf(stderr, "netsim: %v\n", err)
		return exitUsage
	}
	seed := rand.Uint64() >> 11 // 53 bits: exact in a JSON number anywhere
	if *seedFlag != "" {
		if seed, err = parseSeed(*seedFlag); err != nil {
			fmt.Fprintf(stderr, "netsim: %v\n", err)
			return exitUsage
		}
	}
	if *upstream == "" {
		fmt.Fprintln(stderr, "netsim: -upstream HOST:PORT is required (netsim -h for help)")
		return exitUsage
	}

	logger := log.New(stderr, "netsim: ", log.Lmsgprefix|log.Ltime|log.Lmicroseconds)
	opts := netsim.Options{
		Listen: *listen, Upstream: *upstream, Scenario: name, Config: cfg, Seed: seed, Args: args,
	}
	if *verbose {
		opts.Log = logger
	}
	var traceFile *os.File
	if *tracePath != "" {
		if traceFile, err = os.Create(*tracePath); err != nil {
			fmt.Fprintf(stderr, "netsim: trace: %v\n", err)
			return exitFail
		}
		opts.Trace = traceFile
	}
	relay, err := netsim.Listen(opts)
	if err != nil {
		fmt.Fprintf(stderr, "netsim: %v\n", err)
		return exitUsage
	}
	logger.Printf("seed %d, scenario %s (%s), listening on %s, upstream %s", seed, name, cfg.Mode, relay.Addr(), *upstream)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	runErr := relay.Run(ctx)
	if traceFile != nil {
		runErr = errors.Join(runErr, traceFile.Sync(), traceFile.Close())
	}
	if runErr != nil {
		logger.Printf("stopped: %v", runErr)
		return exitFail
	}
	logger.Printf("stopped; replay with -seed %d", seed)
	return exitOK
}

func listScenarios(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMODE\tWHAT IT DOES")
	for _, s := range netsim.Scenarios() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Config.Mode, s.Description)
	}
	tw.Flush()
}
