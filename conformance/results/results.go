// Package results is the suite's record of a run: results.json, the single
// source every report is rendered from (schema: spec/results.md). It also
// holds the expectations file (known failures) and merges sharded runs.
package results

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
)

// SchemaVersion changes whenever a field changes meaning.
const SchemaVersion = 1

// Verdict of one cell run.
type Verdict string

const (
	Pass        Verdict = "pass"        // strict pass
	Lenient     Verdict = "lenient"     // works, with named leniencies
	Fail        Verdict = "fail"        // the implementation(s) did something wrong
	Unsupported Verdict = "unsupported" // a role or feature is not declared, or exit 127
	InfraError  Verdict = "infra-error" // the suite or Docker failed; never blamed on an implementation
)

// Passed is true for strict and lenient passes.
func (v Verdict) Passed() bool { return v == Pass || v == Lenient }

// Program is what one program of the cell did.
type Program struct {
	Impl      string   `json:"impl"`
	Role      string   `json:"role"`
	Image     string   `json:"image,omitempty"`
	Command   []string `json:"command,omitempty"`
	ExitCode  *int     `json:"exit_code,omitempty"` // nil: still running when stopped by the suite (servers)
	TimedOut  bool     `json:"timed_out,omitempty"`
	OOMKilled bool     `json:"oom_killed,omitempty"`
	Stdout    string   `json:"stdout"`
	Stderr    string   `json:"stderr"`
	// StdoutBytes and StderrBytes count everything written; Stdout/Stderr
	// keep the first and last 32 KiB (the files in the cell folder keep all).
	StdoutBytes int64 `json:"stdout_bytes"`
	StderrBytes int64 `json:"stderr_bytes"`
	DurationMS  int64 `json:"duration_ms"`
	// CPUMS is the CPU time used in the program's container during the
	// cell (with a probe's extra clients, theirs too); absent when the
	// kernel's counter could not be read.
	CPUMS int64 `json:"cpu_ms,omitempty"`
	// ForkRefusals counts the new processes the kernel refused in the
	// program's container during the cell because it was at its process
	// limit (MANIFEST-16).
	ForkRefusals int64 `json:"fork_refusals,omitempty"`
}

// Finding is one wire-checker property (spec/trace.md).
type Finding struct {
	Property    string `json:"property"`
	Requirement string `json:"requirement"`
	Grade       string `json:"grade"` // pass | non-strict | fail
	Detail      string `json:"detail"`
}

// Transfer describes the RUDP file: input, output, and what the wire showed.
type Transfer struct {
	InputBytes   int64   `json:"input_bytes"`
	InputSHA256  string  `json:"input_sha256"`
	OutputBytes  int64   `json:"output_bytes"`
	OutputSHA256 string  `json:"output_sha256,omitempty"`
	OutputFile   string  `json:"output_file,omitempty"`
	DurationMS   float64 `json:"duration_ms,omitempty"` // first start to ack of end, from the trace
	GoodputBps   float64 `json:"goodput_bps,omitempty"`
	Packets      int     `json:"packets,omitempty"`        // datagrams sent by the sender
	Unique       int     `json:"unique_packets,omitempty"` // distinct seqnos
	TxPerPacket  float64 `json:"tx_per_delivered,omitempty"`
	Retransmits  int     `json:"retransmissions,omitempty"`
	MaxInFlight  int     `json:"max_in_flight,omitempty"`
}

// Result of one cell run.
type Result struct {
	ID         string     `json:"id"`
	Group      string     `json:"group"`
	Cell       cases.Cell `json:"cell"`
	Verdict    Verdict    `json:"verdict"`
	Leniencies []string   `json:"leniencies,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	// Blame says whose fault a failure is: "client", "server", "both" or
	// "pair" (each works with the reference, not with each other).
	Blame     string   `json:"blame,omitempty"`
	Client    *Program `json:"client,omitempty"`
	Server    *Program `json:"server,omitempty"`
	Simulator *Program `json:"simulator,omitempty"`
	// Peers are a Hello probe's other programs, by the name of their
	// files in the cell's folder: "second-client" (second-client),
	// "silent-clients" (silent-client).
	Peers    map[string]*Program `json:"peers,omitempty"`
	Findings []Finding           `json:"findings,omitempty"`
	Transfer *Transfer           `json:"transfer,omitempty"`
	// Expected and Outcome come from the expectations file.
	Expected  []Verdict `json:"expected,omitempty"`
	Outcome   Outcome   `json:"outcome"`
	Bug       string    `json:"bug,omitempty"`
	Reproduce string    `json:"reproduce"`
	Artifacts string    `json:"artifacts,omitempty"` // folder, relative to the results folder
	Started   time.Time `json:"started"`
	WallMS    int64     `json:"wall_ms"`
}

// Outcome compares a verdict with the expectations.
type Outcome string

const (
	Expected        Outcome = "expected"         // passed, or matched a listed expectation
	KnownFailure    Outcome = "known-failure"    // failed as the expectations file says
	UnexpectedFail  Outcome = "unexpected-fail"  // a new failure: fails the run
	UnexpectedPass  Outcome = "unexpected-pass"  // a known failure now passes: fails the run until the file is tightened
	UnexpectedInfra Outcome = "unexpected-infra" // infrastructure error: fails the run
)

// Unexpected reports whether the outcome fails the run.
func (o Outcome) Unexpected() bool {
	return o == UnexpectedFail || o == UnexpectedPass || o == UnexpectedInfra
}

// ImplInfo records each implementation taking part.
type ImplInfo struct {
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Roles    []string `json:"roles"`
	Features []string `json:"features,omitempty"`
	Image    string   `json:"image,omitempty"`
	Dir      string   `json:"dir,omitempty"`
	Error    string   `json:"error,omitempty"` // broken manifest or failed build
	BuildMS  int64    `json:"build_ms,omitempty"`
}

// Run is results.json.
type Run struct {
	Schema           int        `json:"schema"`
	SuiteVersion     string     `json:"suite_version"`
	ExpectationsHash string     `json:"expectations_hash"`
	RunID            string     `json:"run_id"`
	Depth            string     `json:"depth"`
	Shard            string     `json:"shard,omitempty"` // "i/n" when sharded
	Started          time.Time  `json:"started"`
	Finished         time.Time  `json:"finished"`
	Impls            []ImplInfo `json:"impls"`
	Results          []Result   `json:"results"`
	Command          string     `json:"command,omitempty"`
}

// Sort orders results by id, for stable files and diffs.
func (r *Run) Sort() {
	sort.Slice(r.Results, func(a, b int) bool { return r.Results[a].ID < r.Results[b].ID })
	sort.Slice(r.Impls, func(a, b int) bool { return r.Impls[a].Name < r.Impls[b].Name })
}

// Write saves the run as indented JSON, atomically.
func (r *Run) Write(path string) error {
	r.Sort()
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// Read loads results.json.
func Read(path string) (*Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("%s: results schema %d, this suite reads schema %d", path, r.Schema, SchemaVersion)
	}
	return &r, nil
}
