package cases

import (
	"strings"

	"github.com/interop-suite/interop/conformance/registry"
)

// Hello probes (spec/hello.md, "Cases"): one side of a cell is the
// implementation under test, the other the reference playing a deliberately
// unusual peer, so a failure names one program. A probe cell's Scenario is
// ProbePrefix + the probe's name ("probe-refused"): a probe is its own
// column of the report, and its ID reads
// hello/python-x-reference/probe-refused/seed-1. The network a probe runs
// over is the runner's business (conformance/runner/probe.go).

// ProbePrefix starts the Scenario of every probe cell. No simulator
// scenario starts with it (suite tests check).
const ProbePrefix = "probe-"

// Side says which program of a probe cell is under test.
type Side string

const (
	ServerSide Side = "server" // the implementation's hello-server, the reference client
	ClientSide Side = "client" // the implementation's hello-client, a reference (or no) server
)

// Probe is one probe of spec/hello.md.
type Probe struct {
	Name         string
	Tests        Side
	Requirements string // the HELLO-n it checks
	Description  string // one line a student understands
}

// Probes lists every probe, in the order of spec/hello.md's "Cases" table.
var Probes = []Probe{
	{"no-newline-eof", ServerSide, "HELLO-2, HELLO-12",
		"The reference client sends its message without a newline and half-closes at once: the server must end the message at the EOF and still reply."},
	{"no-newline-idle", ServerSide, "HELLO-2",
		"The reference client sends its message without a newline and keeps the connection open: the server must end the message after the 1 s idle gap and reply."},
	{"half-close", ServerSide, "HELLO-12",
		"The reference client half-closes right after its message: the server must still reply."},
	{"second-client", ServerSide, "HELLO-13",
		"The reference client runs twice in a row: both must get the reply."},
	{"silent-client", ServerSide, "HELLO-14",
		"Two connections that never finish a message stay open while the reference client asks: the reply must come within 5 s."},
	{"reply-no-newline", ClientSide, "HELLO-2, HELLO-6",
		"The reference server replies without a newline and its close is held back 10 s: the client must end the reply by the idle gap and exit."},
	{"refused", ClientSide, "HELLO-8",
		"Nothing listens on the port: the client must exit non-zero with a message on stderr within 15 s."},
	{"silent-server", ClientSide, "HELLO-8",
		"The server accepts and reads, but never replies nor closes: the client must give up with a non-zero exit and a message on stderr within 15 s."},
}

// LookupProbe returns the probe called name (without the prefix).
func LookupProbe(name string) (Probe, bool) {
	for _, p := range Probes {
		if p.Name == name {
			return p, true
		}
	}
	return Probe{}, false
}

// ProbeScenario reports whether a scenario name names a probe
// ("probe-refused") and which.
func ProbeScenario(scenario string) (Probe, bool) {
	name, ok := strings.CutPrefix(scenario, ProbePrefix)
	if !ok {
		return Probe{}, false
	}
	return LookupProbe(name)
}

// Probe returns the cell's probe, if it is a probe cell.
func (c Cell) Probe() (Probe, bool) {
	if c.Protocol != Hello {
		return Probe{}, false
	}
	return ProbeScenario(c.Scenario)
}

// probeCells adds the probes of every implementation against the reference:
// server probes as reference-x-NAME, client probes as NAME-x-reference, and
// all of them as reference-x-reference (the reference must pass its own
// probes: that tests the probe).
func probeCells(names []string, add func(client, server string, p Probe)) {
	for _, n := range names {
		for _, p := range Probes {
			if p.Tests == ServerSide {
				add(registry.ReferenceName, n, p)
			} else {
				add(n, registry.ReferenceName, p)
			}
		}
	}
}
