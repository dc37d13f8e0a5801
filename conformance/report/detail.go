package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/interop-suite/interop/conformance/results"
)

// level is how much of a cell the page holds.
type level int

const (
	// brief: a line per seed (verdict, figures, links). For passes and
	// unsupported cells once the budget is spent.
	brief level = iota
	// compact: reasons, leniencies, failing findings, commands and links.
	// For failures and lenient passes once the budget is spent.
	compact
	// rich: everything, logs and plots included, while the budget lasts.
	rich
)

func (l level) String() string { return [...]string{"brief", "compact", "rich"}[l] }

// groupView is what the detail template of one matrix cell needs.
type groupView struct {
	G     *Group
	Level level
	Rich  bool // logs, every finding and the plot
	Brief bool // a line per seed, one reproduce command
	Runs  []runView
	Bug   string
}

// runView is one seed of a cell.
type runView struct {
	R          *results.Result
	Class      Class
	Rich       bool // see groupView.Rich
	Explain    bool // a compact view gives this seed a section of its own: it did not pass strictly
	Open       bool // expanded when the detail opens
	Reason     []Span
	Leniencies [][]Span
	Programs   []programView
	Findings   []findingView
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
	status, ok := programExit(p, who)
	if p.ForkRefusals > 0 {
		status += fmt.Sprintf("; hit its process limit (%d new processes refused)", p.ForkRefusals)
	}
	return status, ok
}

func programExit(p *results.Program, who string) (string, bool) {
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

// newRunView prepares one seed at the given level of detail: brief is the
// verdict, the figures and a link; compact adds the reason (its first
// lines) and the leniencies; rich adds the programs with their logs, every
// finding and the plot.
//
// plotWorthy says whether a rich view draws this seed's plot: each trace
// costs a few KiB of the page and a few ms to read, so a group plots its
// worst seed and every seed that did not pass strictly, not the seeds that
// look like the first.
func (b *builder) newRunView(r *results.Result, lv level, plotWorthy bool) runView {
	v := runView{R: r, Class: ClassOf(r), Rich: lv == rich, Transfer: b.transferView(r)}
	v.Open = v.Class != ClassPass && v.Class != ClassUnsupported
	v.Explain = lv == compact && v.Open
	if v.Folder = artifactLink(b.linkBase, r.Artifacts); v.Folder != "" {
		v.ResultFile = v.Folder + "/result.json"
		v.TraceFile = v.Folder + "/trace/trace.jsonl"
	}
	if lv == brief {
		return v
	}
	reason := strings.TrimSpace(r.Reason)
	if lv == compact {
		reason = capText(reason, compactReasonLines, compactReasonBytes)
	}
	v.Reason = splitReqs(reason)
	for _, l := range r.Leniencies {
		v.Leniencies = append(v.Leniencies, splitReqs(l))
	}
	if lv == compact {
		return v
	}
	programs := []struct {
		who string
		p   *results.Program
	}{{"client", r.Client}, {"server", r.Server}, {"simulator", r.Simulator}}
	for _, who := range slices.Sorted(maps.Keys(r.Peers)) { // a Hello probe's other programs
		programs = append(programs, struct {
			who string
			p   *results.Program
		}{who, r.Peers[who]})
	}
	for _, p := range programs {
		if p.p == nil {
			continue
		}
		pv := programView{Who: p.who, P: p.p, Command: shellQuote(p.p.Command)}
		pv.Status, pv.OK = programStatus(p.p, p.who)
		for _, s := range []struct {
			name  string
			text  string
			total int64
		}{{"stdout", p.p.Stdout, p.p.StdoutBytes}, {"stderr", p.p.Stderr, p.p.StderrBytes}} {
			file := artifactLink(b.linkBase, r.Artifacts, p.who+"."+s.name+".txt")
			pv.Logs = append(pv.Logs, newLogView(s.name, s.text, s.total, file, true))
		}
		v.Programs = append(v.Programs, pv)
	}
	fs := slices.Clone(r.Findings)
	slices.SortStableFunc(fs, func(a, b results.Finding) int { return cmp.Compare(gradeRank(a.Grade), gradeRank(b.Grade)) })
	for _, f := range fs {
		v.Findings = append(v.Findings, findingView{F: f, Req: splitReqs(f.Requirement), Detail: splitReqs(f.Detail)})
	}
	switch {
	case plotWorthy:
		v.Plot, v.PlotNote = b.plotJSON(r)
	case r.Cell.Protocol == "rudp":
		v.PlotNote = "the plot is drawn for the cell's worst seed and every seed that did not pass strictly; render this cell alone with report -only to see this one"
	}
	return v
}

// A compact view quotes this much of a reason; the judge's reasons end
// with log tails, which the cell's files have in full.
const (
	compactReasonLines = 12
	compactReasonBytes = 1200
)

// capText keeps the first lines of s, at most maxBytes of them, and says
// where the rest is.
func capText(s string, maxLines, maxBytes int) string {
	lines := strings.SplitAfter(s, "\n")
	cut := len(lines) > maxLines
	if cut {
		lines = lines[:maxLines]
	}
	out := strings.Join(lines, "")
	if len(out) > maxBytes {
		out, cut = strings.ToValidUTF8(out[:maxBytes], ""), true
	}
	if cut {
		out = strings.TrimRight(out, "\n") + "\n… (the whole reason is in the cell's result.json)"
	}
	return out
}

// transferView is the seed's figures next to the reference's.
func (b *builder) transferView(r *results.Result) *transferView {
	if r.Transfer == nil {
		return nil
	}
	t := &transferView{T: r.Transfer, OutputMatch: r.Transfer.OutputSHA256 != "" && r.Transfer.OutputSHA256 == r.Transfer.InputSHA256}
	if ref := b.refs[refKey{MatrixKey{string(r.Cell.Protocol), r.Cell.Scenario, r.Cell.Feature, r.Cell.Size}, r.Cell.Seed}]; ref != nil && ref != r && ref.Transfer != nil {
		t.Ref = ref.Transfer
		t.Ratio = relativeTime(r, ref)
	}
	return t
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
