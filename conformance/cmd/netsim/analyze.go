package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/interop-suite/interop/conformance/wirecheck"
)

func init() { subcommands["analyze"] = analyzeCmd }

// analyzeCmd prints the wire checker's verdict on a trace. It exits 1 if
// a property fails, so scripts can use it as a check.
func analyzeCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("netsim analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: netsim analyze [-json] TRACE\n\nChecks an RUDP transfer in a netsim trace (spec/trace.md) against spec/rudp.md.\nExit status: 0 pass or non-strict, 1 a property failed, 2 the trace is unreadable.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "netsim analyze: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	rep, err := wirecheck.Analyze(f)
	if err != nil {
		fmt.Fprintf(stderr, "netsim analyze %s: %v\n", fs.Arg(0), err)
		return exitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "netsim analyze: %v\n", err)
		return exitUsage
	}
	if rep.Grade == wirecheck.Fail {
		return exitFail
	}
	return exitOK
}
