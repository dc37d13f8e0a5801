package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/interop-suite/interop/conformance/results"
)

// groupView is what the detail template of one matrix cell needs.
type groupView struct {
	G    *Group
	Rich bool // logs, every finding and the plot; otherwise the essentials and links
	Runs []runView
	Bug  string
}

// runView is one seed of a cell.
type runView struct {
	R          *results.Result
	Class      Class
	Rich       bool // see groupView.Rich
	Open       bool // expanded when the detail opens
	Reason     []Span
	Leniencies [][]Span
	Programs   []programView
	Findings   []findingView
	Passed     int // findings graded pass (shown as a count in the compact view)
	Transfer   *transferView
	Plot       string // Series as JSON ("" when there is no plot)
	PlotNote   string // why there is no plot
	Folder     string // link to the cell folder ("" when it has none)
	ResultFile string // link to the cell's result.json
	TraceFile  string
}

// programView is one program of the cell.
type programView struct {
	Who     string // client, server, simulator
	P       *results.Program
	Command string // shell-quoted argument vector
	Status  string // "exit code 0", "still running (stopped by the suite)", ...
	OK      bool   // the status is what a good program does
	Logs    []LogView
}

// findingView is one wire-checker property.
type findingView struct {
	F      results.Finding
	Req    []Span
	Detail []Span
}

// transferView is the RUDP figures of one seed, with the reference's on
// the same seed for comparison.
type transferView struct {
	T           *results.Transfer
	Ref         *results.Transfer // nil: no reference result to compare with
	Ratio       float64           // time / reference time; 0: none
	OutputMatch bool
}

// shellQuote prints an argument vector the way a person would type it.
func shellQuote(argv []string) string {
	var b strings.Builder
	for i, s := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if s == "" || strings.ContainsAny(s, " \t\n'\"\\$;|&<>*?`(){}[]#~!") {
			b.WriteString("'" + strings.ReplaceAll(s, "'", `'\''`) + "'")
		} else {
			b.WriteString(s)
		}
	}
	return b.String()
}

func programStatus(p *results.Program, who string) (string, bool) {
	switch {
	case p.TimedOut:
		return "killed: did not finish within its time limit", false
	case p.OOMKilled:
		return "killed: exceeded its memory limit", false
	case p.ExitCode == nil && who == "server":
		return "still running when the client finished (stopped by the suite)", true
	case p.ExitCode == nil:
		return "still running (stopped by the suite)", who != "client"
	}
	return fmt.Sprintf("exit code %d", *p.ExitCode), *p.ExitCode == 0
}

// gradeRank orders findings: failures first, then deviations, then passes.
func gradeRank(g string) int {
	switch g {
	case "fail":
		return 0
	case "non-strict":
		return 1
	case "pass":
		return 3
	}
	return 2
}

// artifactLink joins the link base and a path inside the cell folder.
// Artifacts come from results.json, which may come from anywhere: only a
// local relative path becomes a link.
func artifactLink(base, artifacts string, elem ...string) string {
	if artifacts == "" || !filepath.IsLocal(filepath.FromSlash(artifacts)) {
		return ""
	}
	return path.Join(append([]string{base, artifacts}, elem...)...)
}

// newRunView prepares one seed. plot is the series JSON when the budget
// allows a plot, note why not otherwise.
func (b *builder) newRunView(r *results.Result, rich bool) runView {
	v := runView{R: r, Class: ClassOf(r), Rich: rich, Reason: splitReqs(strings.TrimSpace(r.Reason))}
	v.Open = v.Class != ClassPass && v.Class != ClassUnsupported
	for _, l := range r.Leniencies {
		v.Leniencies = append(v.Leniencies, splitReqs(l))
	}
	if v.Folder = artifactLink(b.linkBase, r.Artifacts); v.Folder != "" {
		v.ResultFile = v.Folder + "/result.json"
		v.TraceFile = v.Folder + "/trace/trace.jsonl"
	}
	for _, p := range []struct {
		who string
		p   *results.Program
	}{{"client", r.Client}, {"server", r.Server}, {"simulator", r.Simulator}} {
		if p.p == nil {
			continue
		}
		pv := programView{Who: p.who, P: p.p, Command: shellQuote(p.p.Command)}
		pv.Status, pv.OK = programStatus(p.p, p.who)
		if rich {
			for _, s := range []struct {
				name  string
				text  string
				total int64
			}{{"stdout", p.p.Stdout, p.p.StdoutBytes}, {"stderr", p.p.Stderr, p.p.StderrBytes}} {
				file := artifactLink(b.linkBase, r.Artifacts, p.who+"."+s.name+".txt")
				pv.Logs = append(pv.Logs, newLogView(s.name, s.text, s.total, file, true))
			}
		}
		v.Programs = append(v.Programs, pv)
	}
	fs := slices.Clone(r.Findings)
	slices.SortStableFunc(fs, func(a, b results.Finding) int { return cmp.Compare(gradeRank(a.Grade), gradeRank(b.Grade)) })
	for _, f := range fs {
		if f.Grade == "pass" {
			v.Passed++
			if !rich {
				continue
			}
		}
		v.Findings = append(v.Findings, findingView{F: f, Req: splitReqs(f.Requirement), Detail: splitReqs(f.Detail)})
	}
	if r.Transfer != nil {
		t := &transferView{T: r.Transfer, OutputMatch: r.Transfer.OutputSHA256 != "" && r.Transfer.OutputSHA256 == r.Transfer.InputSHA256}
		if ref := b.refs[refKey{MatrixKey{string(r.Cell.Protocol), r.Cell.Scenario, r.Cell.Feature, r.Cell.Size}, r.Cell.Seed}]; ref != nil && ref != r && ref.Transfer != nil {
			t.Ref = ref.Transfer
			t.Ratio = relativeTime(r, ref)
		}
		v.Transfer = t
	}
	if rich {
		v.Plot, v.PlotNote = b.plotJSON(r)
	} else if r.Transfer != nil {
		v.PlotNote = "not embedded, to keep this file small: render this cell alone with -only (see the reproduce section)"
	}
	return v
}

// plotJSON reads the cell's trace for its plot.
func (b *builder) plotJSON(r *results.Result) (string, string) {
	if r.Cell.Protocol != "rudp" {
		return "", ""
	}
	s, err := b.series(r)
	if err != nil {
		return "", err.Error()
	}
	if s == nil {
		return "", "no trace for this cell"
	}
	js, err := json.Marshal(s)
	if err != nil {
		return "", err.Error()
	}
	return string(js), ""
}
