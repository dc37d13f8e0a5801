package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/interop-suite/interop/conformance/netsim"
	"github.com/interop-suite/interop/conformance/netsim/selfcheck"
)

func init() { subcommands["selfcheck"] = selfcheckCmd }

// selfcheckCmd measures scenarios on loopback. It exits 1 if a measured
// value is out of tolerance.
func selfcheckCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("netsim selfcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	names := fs.String("scenario", "", "scenario(s) to check, comma-separated, or all")
	probes := fs.Int("n", 2000, "probe datagrams per UDP scenario (more if a blackout needs them)")
	seedFlag := fs.String("seed", "1", "netsim seed")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: netsim selfcheck -scenario NAME[,NAME...|all] [-n N] [-seed N] [-json]\n\nSends probe traffic through an in-process relay on loopback and compares the\nmeasured loss, duplication, reordering, corruption, delay and rate with the\nscenario's. Exit status: 0 all within tolerance, 1 not, 2 usage.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	seed, err := parseSeed(*seedFlag)
	if *names == "" || fs.NArg() > 0 || err != nil {
		fs.Usage()
		return exitUsage
	}
	var scs []netsim.Scenario
	if *names == "all" {
		scs = netsim.Scenarios()
	} else {
		for n := range strings.SplitSeq(*names, ",") {
			sc, err := netsim.Lookup(strings.TrimSpace(n))
			if err != nil {
				fmt.Fprintf(stderr, "netsim selfcheck: %v\n", err)
				return exitUsage
			}
			scs = append(scs, sc)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	code := exitOK
	var results []selfcheck.Result
	for _, sc := range scs {
		res, err := selfcheck.Run(ctx, sc, selfcheck.Options{Probes: *probes, Seed: seed})
		if err != nil {
			fmt.Fprintf(stderr, "netsim selfcheck: %v\n", err)
			return exitFail
		}
		if !res.OK {
			code = exitFail
		}
		if *asJSON {
			results = append(results, res)
			continue
		}
		res.WriteText(stdout)
		fmt.Fprintln(stdout)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return exitFail
		}
	}
	return code
}
