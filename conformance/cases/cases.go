// Package cases plans the matrix: which cells exist for a set of
// implementations, a depth and the network simulator's scenario library.
// A cell is one program pair under one scenario, size and seed. Planning is
// a pure function of its inputs, sorted, so every Ginkgo process and every
// CI shard derives the same list.
package cases

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/interop-suite/interop/conformance/registry"
)

// Protocol is hello (TCP) or rudp (UDP file transfer).
type Protocol string

const (
	Hello Protocol = "hello"
	RUDP  Protocol = "rudp"
)

// Depth selects how much of the matrix runs.
type Depth string

const (
	// Smoke: every implementation against the reference in both directions,
	// clean and one lossy scenario.
	Smoke Depth = "smoke"
	// Standard: every pair clean and under one mixed lossy scenario; every
	// implementation against the reference in every scenario and in every
	// Hello probe.
	Standard Depth = "standard"
	// Full: every pair in every scenario (nightly), and the Hello probes.
	Full Depth = "full"
)

// ParseDepth validates a depth name.
func ParseDepth(s string) (Depth, error) {
	switch d := Depth(s); d {
	case Smoke, Standard, Full:
		return d, nil
	}
	return "", fmt.Errorf("unknown depth %q (want smoke, standard or full)", s)
}

// Scenario is what the planner needs to know of a simulator scenario.
type Scenario struct {
	Name  string
	TCP   bool // a Hello (TCP) scenario; otherwise RUDP (UDP)
	Lossy bool // random decisions: runs with several seeds
}

// Size is an RUDP input file size.
type Size struct {
	Name  string
	Bytes int
}

// Sizes of RUDP input files. "one-packet" fills a single datagram's payload
// exactly less a little, so a start+end pair carries the whole file.
var (
	SizeEmpty     = Size{"empty", 0}
	SizeOnePacket = Size{"one-packet", 1000}
	Size64K       = Size{"64k", 64 << 10}
	Size256K      = Size{"256k", 256 << 10}
	Size1M        = Size{"1m", 1 << 20}
)

// Cell is one run: a client (hello-client or rudp-sender) against a server
// (hello-server or rudp-receiver) under a scenario.
type Cell struct {
	Protocol Protocol `json:"protocol"`
	Client   string   `json:"client"`
	Server   string   `json:"server"`
	// Scenario is a simulator scenario, or for a Hello probe "probe-" and
	// the probe's name (probes.go).
	Scenario string `json:"scenario"`
	Feature  string `json:"feature,omitempty"` // "", "sack" or "challenge"
	Size     Size   `json:"size"`
	Seed     int64  `json:"seed"`
	Seeds    int    `json:"seeds"` // how many seeds this cell's group runs
}

// Group names the cell without its seed: the unit of pass rates,
// expectations and report cells.
func (c Cell) Group() string {
	s := fmt.Sprintf("%s/%s-x-%s/%s", c.Protocol, c.Client, c.Server, c.Scenario)
	if c.Feature != "" {
		s += "+" + c.Feature
	}
	if c.Protocol == RUDP {
		s += "/" + c.Size.Name
	}
	return s
}

// ID names the cell uniquely; it is also its results folder.
func (c Cell) ID() string { return fmt.Sprintf("%s/seed-%d", c.Group(), c.Seed) }

// ClientRole and ServerRole are the manifest roles the cell runs.
func (c Cell) ClientRole() registry.Role {
	if c.Protocol == Hello {
		return registry.HelloClient
	}
	return registry.RUDPSender
}

// ServerRole is the role of the cell's server side.
func (c Cell) ServerRole() registry.Role {
	if c.Protocol == Hello {
		return registry.HelloServer
	}
	return registry.RUDPReceiver
}

// Port is the port the server listens on. It differs between cells (from
// the cell's name, so it is reproducible) to catch programs that ignore
// their port argument.
func (c Cell) Port() int {
	h := fnv.New32a()
	h.Write([]byte(c.Group()))
	return 20000 + int(h.Sum32()%20000)
}

// Labels are the Ginkgo labels of the cell ("client:rust", "net:loss-10").
// Ginkgo forbids &|!,()/ in labels; names are [a-z0-9-] already.
func (c Cell) Labels() []string {
	l := []string{
		"proto:" + string(c.Protocol),
		"client:" + c.Client, "server:" + c.Server,
		"impl:" + c.Client, "impl:" + c.Server,
	}
	if p, ok := c.Probe(); ok {
		l = append(l, "probe:"+p.Name) // its network is the probe's own, not a scenario
	} else {
		l = append(l, "net:"+c.Scenario)
	}
	if c.Feature != "" {
		l = append(l, "feature:"+c.Feature)
	}
	if c.Client == registry.ReferenceName || c.Server == registry.ReferenceName {
		l = append(l, "vs-reference")
	}
	return l
}

// Options tune the plan.
type Options struct {
	Depth     Depth
	Seeds     int      // seeds per lossy cell (default 3; smoke uses 2)
	BaseSeed  int64    // first seed (default 1)
	Scenarios []string // simulator scenarios and probes ("probe-refused") to keep; empty: all
}

// Plan lists every cell for the implementations, sorted by ID. Cells whose
// roles an implementation does not declare are included: they are reported
// as unsupported, never silently skipped.
func Plan(impls []registry.Impl, library []Scenario, o Options) ([]Cell, error) {
	if o.Seeds <= 0 {
		o.Seeds = 3
		if o.Depth == Smoke {
			o.Seeds = 2
		}
	}
	if o.BaseSeed == 0 {
		o.BaseSeed = 1
	}
	byName := map[string]Scenario{}
	for _, s := range library {
		byName[s.Name] = s
	}
	for _, s := range o.Scenarios {
		if _, ok := byName[s]; !ok {
			if _, probe := ProbeScenario(s); !probe {
				return nil, fmt.Errorf("unknown scenario %q", s)
			}
		}
	}
	wanted := func(s string) bool {
		if len(o.Scenarios) == 0 {
			return true
		}
		for _, w := range o.Scenarios {
			if w == s {
				return true
			}
		}
		return false
	}
	var names []string
	for _, i := range impls {
		names = append(names, i.Name)
	}
	ref := registry.ReferenceName

	type pair struct{ client, server string }
	refPairs := []pair{{ref, ref}}
	allPairs := []pair{}
	for _, a := range names {
		if a != ref {
			refPairs = append(refPairs, pair{a, ref}, pair{ref, a})
		}
		for _, b := range names {
			allPairs = append(allPairs, pair{a, b})
		}
	}

	seen := map[string]bool{}
	var cells []Cell
	add := func(p pair, proto Protocol, sc Scenario, feature string, sizes ...Size) {
		if !wanted(sc.Name) {
			return
		}
		seeds := 1
		if sc.Lossy {
			seeds = o.Seeds
		}
		if proto == Hello {
			sizes = []Size{{}}
		}
		for _, sz := range sizes {
			for k := 0; k < seeds; k++ {
				c := Cell{Protocol: proto, Client: p.client, Server: p.server, Scenario: sc.Name, Feature: feature, Size: sz, Seed: o.BaseSeed + int64(k), Seeds: seeds}
				if !seen[c.ID()] {
					seen[c.ID()] = true
					cells = append(cells, c)
				}
			}
		}
	}
	get := func(name string) (Scenario, bool) { s, ok := byName[name]; return s, ok }

	cleanSizes := []Size{SizeEmpty, SizeOnePacket, Size1M}
	lossySize := func(name string) Size {
		if name == "loss-10" {
			return Size1M // the course's performance yardstick
		}
		return Size256K
	}
	everyScenario := func(pairs []pair) {
		for _, sc := range library {
			for _, p := range pairs {
				switch {
				case sc.TCP:
					add(p, Hello, sc, "")
				case sc.Name == "clean":
					add(p, RUDP, sc, "", cleanSizes...)
				default:
					add(p, RUDP, sc, "", lossySize(sc.Name))
				}
			}
		}
	}
	probes := func() {
		probeCells(names, func(client, server string, p Probe) {
			add(pair{client, server}, Hello, Scenario{Name: ProbePrefix + p.Name, TCP: true}, "")
		})
	}
	extras := func(pairs []pair) {
		tcpClean, okT := get("tcp-clean")
		loss, okL := get("loss-10")
		for _, p := range pairs {
			if okT {
				add(p, Hello, tcpClean, "challenge")
			}
			if okL {
				add(p, RUDP, loss, "sack", Size256K)
			}
		}
	}

	switch o.Depth {
	case Smoke:
		for _, p := range refPairs {
			if sc, ok := get("tcp-clean"); ok {
				add(p, Hello, sc, "")
			}
			if sc, ok := get("clean"); ok {
				add(p, RUDP, sc, "", cleanSizes...)
			}
			if sc, ok := get("loss-10"); ok {
				add(p, RUDP, sc, "", Size256K)
			}
		}
	case Standard:
		for _, p := range allPairs {
			if sc, ok := get("tcp-clean"); ok {
				add(p, Hello, sc, "")
			}
			if sc, ok := get("clean"); ok {
				add(p, RUDP, sc, "", cleanSizes...)
			}
			if sc, ok := get("mixed"); ok {
				add(p, RUDP, sc, "", Size256K)
			}
		}
		everyScenario(refPairs)
		extras(refPairs)
		probes()
	case Full:
		everyScenario(allPairs)
		extras(allPairs)
		probes()
	default:
		return nil, fmt.Errorf("unknown depth %q", o.Depth)
	}
	sort.Slice(cells, func(a, b int) bool { return cells[a].ID() < cells[b].ID() })
	return cells, nil
}

// Filter keeps the cells that involve one of the named implementations
// (a group's "me against everyone"), plus the reference against itself
// in the impaired RUDP scenarios: the baseline the report's speed table
// compares every sender with on the same seeds. Without them a group's
// own run could not say whether its sender is fast enough.
func Filter(cells []Cell, impls []string) []Cell {
	if len(impls) == 0 {
		return cells
	}
	want := map[string]bool{}
	for _, n := range impls {
		want[strings.TrimSpace(n)] = true
	}
	var out []Cell
	for _, c := range cells {
		if want[c.Client] || want[c.Server] || c.speedBaseline() {
			out = append(out, c)
		}
	}
	return out
}

// speedBaseline is true for the reference-x-reference RUDP cells of an
// impaired scenario (see Filter).
func (c Cell) speedBaseline() bool {
	return c.Protocol == RUDP && c.Scenario != "clean" &&
		c.Client == registry.ReferenceName && c.Server == registry.ReferenceName
}
