package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/results"
)

// MaxResultsSize caps results.json. A 15-implementation full matrix with
// every log at its 64 KiB cap stays under it; anything larger is not a
// results file.
const MaxResultsSize = 2 << 30

// ReadRun decodes and validates results.json. Merged and re-rendered files
// come from CI artifacts, so nothing in them is trusted: the schema must
// match, ids must be unique and well formed, verdicts and outcomes known,
// and artifact paths relative and inside the results folder.
func ReadRun(r io.Reader) (*results.Run, error) {
	dec := json.NewDecoder(io.LimitReader(r, MaxResultsSize))
	var run results.Run
	if err := dec.Decode(&run); err != nil {
		return nil, fmt.Errorf("results.json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("results.json: data after the JSON object")
	}
	if err := Validate(&run); err != nil {
		return nil, err
	}
	return &run, nil
}

// ReadFile reads results.json from a file, or from a results folder.
func ReadFile(p string) (*results.Run, error) {
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		p = filepath.Join(p, "results.json")
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	run, err := ReadRun(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return run, nil
}

// Validate checks what the reports rely on. It is strict about what could
// mislead a reader (two results for one cell, a verdict nobody knows) and
// lenient about what is only missing (an old file without groups).
func Validate(run *results.Run) error {
	if run.Schema != results.SchemaVersion {
		return fmt.Errorf("results schema %d, this report reads schema %d", run.Schema, results.SchemaVersion)
	}
	seen := make(map[string]bool, len(run.Results))
	for i := range run.Results {
		r := &run.Results[i]
		where := fmt.Sprintf("results[%d]", i)
		if r.ID != "" {
			where = fmt.Sprintf("result %q", r.ID)
		}
		if err := validateID(r.ID); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if seen[r.ID] {
			return fmt.Errorf("%s: appears twice", where)
		}
		seen[r.ID] = true
		switch r.Verdict {
		case results.Pass, results.Lenient, results.Fail, results.Unsupported, results.InfraError:
		default:
			return fmt.Errorf("%s: unknown verdict %q", where, r.Verdict)
		}
		switch r.Outcome {
		case "", results.Expected, results.KnownFailure, results.UnexpectedFail, results.UnexpectedPass, results.UnexpectedInfra:
		default:
			return fmt.Errorf("%s: unknown outcome %q", where, r.Outcome)
		}
		switch r.Cell.Protocol {
		case cases.Hello, cases.RUDP:
		default:
			return fmt.Errorf("%s: unknown protocol %q", where, r.Cell.Protocol)
		}
		if r.Cell.Client == "" || r.Cell.Server == "" {
			return fmt.Errorf("%s: cell without a client or a server", where)
		}
		if g := groupID(r); g != r.ID && !strings.HasPrefix(r.ID, g+"/") {
			return fmt.Errorf("%s: group %q is not a prefix of the id", where, g)
		}
		if r.Artifacts != "" && !filepath.IsLocal(filepath.FromSlash(r.Artifacts)) {
			return fmt.Errorf("%s: artifacts %q is not a folder inside the results folder", where, r.Artifacts)
		}
	}
	return nil
}

func validateID(id string) error {
	switch {
	case id == "":
		return errors.New("no id")
	case len(id) > 512:
		return errors.New("id longer than 512 bytes")
	case strings.ContainsAny(id, "\x00\n\r"):
		return errors.New("id with control characters")
	}
	return nil
}

// LoadDir reads a results folder: results.json, or when the run was killed
// before writing it, the result.json each cell saved as soon as it was
// judged (the run then has no version or expectations hash: it can be
// read, not merged).
func LoadDir(dir string) (*results.Run, error) {
	run, err := ReadFile(filepath.Join(dir, "results.json"))
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return run, err
	}
	run = &results.Run{Schema: results.SchemaVersion, SuiteVersion: "unknown", ExpectationsHash: "unknown",
		RunID: "assembled from " + filepath.Join(dir, "cells")}
	cells := filepath.Join(dir, "cells")
	werr := filepath.WalkDir(cells, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != "result.json" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var r results.Result
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		run.Results = append(run.Results, r)
		return nil
	})
	if werr != nil {
		if errors.Is(werr, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: neither results.json nor cells/*/result.json", dir)
		}
		return nil, werr
	}
	if len(run.Results) == 0 {
		return nil, fmt.Errorf("%s: no results.json and no cell results under cells/", dir)
	}
	run.Sort()
	results.AssignBlame(run.Results) // as the suite does when it writes results.json
	if err := Validate(run); err != nil {
		return nil, err
	}
	return run, nil
}
