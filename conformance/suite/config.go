// Package suite wires the conformance run together for the Ginkgo entry
// point in conformance/: configuration, discovery and planning (at spec
// tree construction), image building (once, on Ginkgo process #1), and the
// run environment every process shares.
package suite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/netsim"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
)

// Config is everything a run is asked to do. Each field comes from an
// environment variable, so the same command works from a shell, from
// `go test`, from `ginkgo -p` (whose worker processes all see the same
// environment) and from CI.
type Config struct {
	Root      string // repository root
	Depth     cases.Depth
	Impls     []string // INTEROP_ONLY: keep cells involving these implementations
	ExtraDirs []string // INTEROP_IMPLS: out-of-tree implementation folders
	// ClientsDir is the folder of in-tree implementations
	// (INTEROP_CLIENTS_DIR, default clients/). The suite's own fixture
	// test points it at an empty folder, so that a run holds only the
	// fixtures and the reference.
	ClientsDir   string
	Scenarios    []string // INTEROP_SCENARIOS
	Seeds        int      // INTEROP_SEEDS
	Cell         string   // INTEROP_CELL: run one cell (the reproduce command)
	ResultsDir   string   // INTEROP_RESULTS
	Expectations string   // INTEROP_EXPECTATIONS
	ShardIndex   int      // INTEROP_SHARD="i/n", 1-based
	ShardCount   int
	// ShardCosts is a previous run's results.json whose measured cell
	// times balance the shards (INTEROP_SHARD_COSTS); empty: estimates.
	ShardCosts string
	// Executor is how programs run: "exec" (default: long-lived host
	// containers per implementation, programs by docker exec) or
	// "containers" (a container per program; slower, simplest to debug).
	Executor string // INTEROP_EXECUTOR
}

// FromEnv reads the configuration. Unknown values are errors, not defaults.
func FromEnv() (Config, error) {
	root, err := RepoRoot()
	if err != nil {
		return Config{}, err
	}
	c := Config{
		Root:         root,
		ExtraDirs:    registry.SplitList(os.Getenv("INTEROP_IMPLS")),
		ClientsDir:   envOr("INTEROP_CLIENTS_DIR", filepath.Join(root, "clients")),
		Cell:         os.Getenv("INTEROP_CELL"),
		ResultsDir:   envOr("INTEROP_RESULTS", filepath.Join(root, "results")),
		Expectations: envOr("INTEROP_EXPECTATIONS", filepath.Join(root, "conformance", "expectations.yaml")),
	}
	if c.Depth, err = cases.ParseDepth(envOr("INTEROP_DEPTH", string(cases.Standard))); err != nil {
		return c, fmt.Errorf("INTEROP_DEPTH: %w", err)
	}
	c.Executor = envOr("INTEROP_EXECUTOR", "exec")
	if c.Executor != "exec" && c.Executor != "containers" {
		return c, fmt.Errorf("INTEROP_EXECUTOR=%q: want exec or containers", c.Executor)
	}
	c.Impls = splitComma(os.Getenv("INTEROP_ONLY"))
	c.Scenarios = splitComma(os.Getenv("INTEROP_SCENARIOS"))
	if s := os.Getenv("INTEROP_SEEDS"); s != "" {
		if c.Seeds, err = strconv.Atoi(s); err != nil || c.Seeds < 1 {
			return c, fmt.Errorf("INTEROP_SEEDS=%q: want a positive number", s)
		}
	}
	if s := os.Getenv("INTEROP_SHARD"); s != "" {
		i, n, ok := strings.Cut(s, "/")
		c.ShardIndex, _ = strconv.Atoi(i)
		c.ShardCount, _ = strconv.Atoi(n)
		if !ok || c.ShardCount < 1 || c.ShardIndex < 1 || c.ShardIndex > c.ShardCount {
			return c, fmt.Errorf("INTEROP_SHARD=%q: want i/n with 1 <= i <= n", s)
		}
	}
	c.ShardCosts = os.Getenv("INTEROP_SHARD_COSTS")
	return c, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// RepoRoot finds the folder holding go.mod, starting from this source file
// (tests run in their package folder) and falling back to the working dir.
func RepoRoot() (string, error) {
	starts := []string{}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, d := range starts {
		for dir := d; ; dir = filepath.Dir(dir) {
			if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/interop-suite/interop") {
				return dir, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("cannot find the repository root (go.mod of github.com/interop-suite/interop)")
}

// Library is the simulator's scenario library as the planner sees it.
func Library() []cases.Scenario {
	var out []cases.Scenario
	for _, s := range netsim.Scenarios() {
		out = append(out, cases.Scenario{Name: s.Name, TCP: s.Config.Mode == netsim.ModeTCP, Lossy: random(s.Config)})
	}
	return out
}

// random reports whether a scenario makes random decisions, so that its
// cells are worth running with several seeds.
func random(c netsim.Config) bool {
	for _, l := range []netsim.Link{c.Fwd, c.Rev} {
		if l.Loss > 0 || l.Burst != nil || l.Dup > 0 || l.Reorder > 0 || l.Corrupt > 0 || l.Jitter > 0 {
			return true
		}
	}
	return false
}

// Plan discovers implementations and lists this run's cells.
func Plan(c Config) ([]registry.Impl, []cases.Cell, error) {
	impls, err := registry.Discover(c.ClientsDir, c.ExtraDirs)
	if err != nil {
		return nil, nil, err
	}
	known := map[string]bool{}
	for _, i := range impls {
		known[i.Name] = true
	}
	for _, n := range c.Impls {
		if !known[n] {
			return nil, nil, fmt.Errorf("INTEROP_ONLY names %q, which is not an implementation (found: %s)", n, names(impls))
		}
	}
	cells, err := cases.Plan(impls, Library(), cases.Options{Depth: c.Depth, Seeds: c.Seeds, Scenarios: c.Scenarios})
	if err != nil {
		return nil, nil, err
	}
	cells = cases.Filter(cells, c.Impls)
	if c.Cell != "" {
		var one []cases.Cell
		all, _ := cases.Plan(impls, Library(), cases.Options{Depth: cases.Full, Seeds: 10})
		for _, cell := range append(cells, all...) {
			if cell.ID() == c.Cell {
				one = []cases.Cell{cell}
				break
			}
		}
		if one == nil {
			one, err = ParseCellID(c.Cell)
			if err != nil {
				return nil, nil, err
			}
		}
		cells = one
	}
	if c.ShardCount > 1 {
		costs, err := LoadCosts(c.ShardCosts, cells)
		if err != nil {
			return nil, nil, err
		}
		cells = cases.Shard(cells, c.ShardIndex, c.ShardCount, costs)
	}
	// Run order, not the report's: cells that run at once should not all
	// be one implementation's (cases.Spread).
	return impls, cases.Spread(cells), nil
}

// LoadCosts reads measured cell times from a previous run's results.json
// (path empty: no measurements, every cell estimated). A missing file is
// not an error: the first run of a new matrix has no history.
func LoadCosts(path string, cells []cases.Cell) (*cases.Costs, error) {
	measured := map[string]time.Duration{}
	if path != "" {
		run, err := results.Read(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("INTEROP_SHARD_COSTS: %w", err)
		}
		if run != nil {
			for _, r := range run.Results {
				if r.WallMS > 0 {
					measured[r.ID] = time.Duration(r.WallMS) * time.Millisecond
				}
			}
		}
	}
	return cases.NewCosts(measured, cells), nil
}

func names(impls []registry.Impl) string {
	var n []string
	for _, i := range impls {
		n = append(n, i.Name)
	}
	return strings.Join(n, ", ")
}

// ParseCellID turns a cell id back into a cell, for reproducing any cell
// (any seed) of any run: protocol/client-x-server/scenario[+feature][/size]/seed-N.
func ParseCellID(id string) ([]cases.Cell, error) {
	bad := fmt.Errorf("INTEROP_CELL=%q is not a cell id like rudp/python-x-reference/loss-10/256k/seed-1", id)
	parts := strings.Split(id, "/")
	if len(parts) < 4 {
		return nil, bad
	}
	c := cases.Cell{Protocol: cases.Protocol(parts[0]), Seeds: 1}
	var ok bool
	if c.Client, c.Server, ok = strings.Cut(parts[1], "-x-"); !ok {
		return nil, bad
	}
	c.Scenario, c.Feature, _ = strings.Cut(parts[2], "+")
	seedText, found := strings.CutPrefix(parts[len(parts)-1], "seed-")
	seed, err := strconv.ParseInt(seedText, 10, 64)
	if !found || err != nil {
		return nil, bad
	}
	c.Seed = seed
	if c.Protocol == cases.RUDP {
		if len(parts) != 5 {
			return nil, bad
		}
		for _, s := range []cases.Size{cases.SizeEmpty, cases.SizeOnePacket, cases.Size64K, cases.Size256K, cases.Size1M} {
			if s.Name == parts[3] {
				c.Size = s
			}
		}
		if c.Size.Name == "" {
			return nil, bad
		}
	}
	return []cases.Cell{c}, nil
}
