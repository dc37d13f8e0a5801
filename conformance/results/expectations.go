package results

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/interop-suite/interop/conformance/cases"
	"go.yaml.in/yaml/v3"
)

// Expectation is one known deviation (web-platform-tests style: only
// deviations are listed; a cell that passes needs no entry). Fields left
// empty match everything; fields may use path.Match globs ("*", "loss-*").
type Expectation struct {
	Protocol string `yaml:"protocol,omitempty"`
	Client   string `yaml:"client,omitempty"`
	Server   string `yaml:"server,omitempty"`
	Scenario string `yaml:"scenario,omitempty"`
	Feature  string `yaml:"feature,omitempty"`
	Size     string `yaml:"size,omitempty"`
	// Expected lists the verdicts allowed: the first is typical, the others
	// known intermittent (e.g. [fail, pass]).
	Expected []Verdict `yaml:"expected"`
	Reason   string    `yaml:"reason"`
	Bug      string    `yaml:"bug,omitempty"`
}

// Expectations is the parsed expectations file.
type Expectations struct {
	Entries []Expectation
	Hash    string // of the file's bytes; runs with different hashes do not merge
}

// LoadExpectations reads the YAML file; a missing file means "no known
// failures". Unknown fields and verdicts are errors, not silent no-ops.
func LoadExpectations(file string) (*Expectations, error) {
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return &Expectations{Hash: "none"}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseExpectations(b)
}

// ParseExpectations decodes and validates the YAML.
func ParseExpectations(b []byte) (*Expectations, error) {
	var doc struct {
		Expectations []Expectation `yaml:"expectations"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf("expectations: %w", err)
	}
	for i, e := range doc.Expectations {
		if len(e.Expected) == 0 {
			return nil, fmt.Errorf("expectations[%d]: \"expected\" must list at least one verdict", i)
		}
		for _, v := range e.Expected {
			switch v {
			case Pass, Lenient, Fail, Unsupported, InfraError:
			default:
				return nil, fmt.Errorf("expectations[%d]: unknown verdict %q", i, v)
			}
		}
		if strings.TrimSpace(e.Reason) == "" {
			return nil, fmt.Errorf("expectations[%d]: every known failure needs a reason", i)
		}
		for _, p := range []string{e.Protocol, e.Client, e.Server, e.Scenario, e.Feature, e.Size} {
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("expectations[%d]: bad pattern %q", i, p)
			}
		}
	}
	sum := sha256.Sum256(b)
	return &Expectations{Entries: doc.Expectations, Hash: hex.EncodeToString(sum[:])[:16]}, nil
}

func match(pattern, value string) bool {
	if pattern == "" {
		return true
	}
	ok, _ := path.Match(pattern, value)
	return ok
}

// Lookup returns the first entry matching the cell, or nil.
func (x *Expectations) Lookup(c cases.Cell) *Expectation {
	for i := range x.Entries {
		e := &x.Entries[i]
		if match(e.Protocol, string(c.Protocol)) && match(e.Client, c.Client) && match(e.Server, c.Server) &&
			match(e.Scenario, c.Scenario) && match(e.Feature, c.Feature) && match(e.Size, c.Size.Name) {
			return e
		}
	}
	return nil
}

// Apply sets Expected, Outcome and Bug on a result.
func (x *Expectations) Apply(r *Result) {
	e := x.Lookup(r.Cell)
	if e == nil {
		r.Expected = nil
		switch r.Verdict {
		case Fail:
			r.Outcome = UnexpectedFail
		case InfraError:
			r.Outcome = UnexpectedInfra
		default:
			r.Outcome = Expected
		}
		return
	}
	r.Expected, r.Bug = e.Expected, e.Bug
	for _, v := range e.Expected {
		if v == r.Verdict || (v.Passed() && r.Verdict.Passed()) {
			r.Outcome = Expected
			if r.Verdict == Fail {
				r.Outcome = KnownFailure
			}
			return
		}
	}
	if r.Verdict.Passed() {
		r.Outcome = UnexpectedPass
	} else if r.Verdict == InfraError {
		r.Outcome = UnexpectedInfra
	} else {
		r.Outcome = UnexpectedFail
	}
}
