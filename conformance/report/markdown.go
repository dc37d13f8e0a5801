package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/interop-suite/interop/conformance/results"
)

// WriteMarkdown writes report.md: a headline, the per-implementation
// summary, the matrices with a legend, and one short paragraph per failing
// cell with the command that reproduces it. It is written for GitHub's
// renderer (it becomes the pull-request job summary), kept well under the
// 1 MiB GitHub accepts, and every text from the run is escaped.
func (m *Model) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	m.mdHeadline(p)
	m.mdImpls(p)
	m.mdChanges(p)
	m.mdMatrices(p)
	m.mdFailures(p)
	m.mdLenient(p)
	m.mdRequirements(p)
	return bw.Flush()
}

type printer func(format string, args ...any)

func (m *Model) mdHeadline(p printer) {
	run := m.Run
	p("# Interop report\n\n")
	if n := m.Unexpected(); n > 0 {
		p("**%s %d unexpected %s: this run fails.** Each is explained under [Failing cells](#failing-cells).\n\n", ClassUnexpectedFail.Emoji(), n, plural(n, "cell", "cells"))
	} else {
		p("**%s No unexpected results.**\n\n", ClassPass.Emoji())
	}
	var facts []string
	if run.RunID != "" {
		facts = append(facts, "run "+mdCode(run.RunID))
	}
	if run.SuiteVersion != "" {
		facts = append(facts, "suite "+mdCode(run.SuiteVersion))
	}
	if run.Depth != "" {
		facts = append(facts, "depth "+mdText(run.Depth))
	}
	if run.Shard != "" {
		facts = append(facts, "shard "+mdText(run.Shard))
	}
	if !run.Started.IsZero() {
		facts = append(facts, run.Started.UTC().Format("2006-01-02 15:04 MST"))
	}
	if d := run.Finished.Sub(run.Started); !run.Started.IsZero() && d > 0 {
		facts = append(facts, "took "+d.Round(time.Second).String())
	}
	facts = append(facts, fmt.Sprintf("%d implementations, %d cells (%d runs)", len(m.Impls), len(m.Groups), len(run.Results)))
	p("%s\n\n", strings.Join(facts, " · "))
	p("|")
	for _, c := range AllClasses() {
		p(" %s %s |", c.Emoji(), c.Label())
	}
	p("\n|")
	for range AllClasses() {
		p("---:|")
	}
	p("\n|")
	for _, c := range AllClasses() {
		p(" %d |", m.Counts[c])
	}
	p("\n\n")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (m *Model) mdImpls(p printer) {
	if len(m.Impls) == 0 {
		return
	}
	p("## Implementations\n\nEach role against the reference (cells all of whose seeds passed / cells run), and the pairs it is part of.\n\n")
	p("| implementation | language |")
	for _, r := range roleOrder {
		p(" %s |", r)
	}
	p(" pairs passed |")
	prev := m.Changes != nil
	if prev {
		p(" since previous run |")
	}
	p("\n|---|---|")
	for range roleOrder {
		p(":---:|")
	}
	p("---:|")
	if prev {
		p("---|")
	}
	p("\n")
	for _, s := range m.Impls {
		name := "**" + mdText(s.Name) + "**"
		if s.Error != "" {
			name += " " + ClassInfra.Emoji() + " " + mdText(firstLine(s.Error))
		}
		p("| %s | %s |", name, mdText(s.Language))
		for _, r := range s.Roles {
			switch {
			case !r.Ran:
				p(" |")
			case r.Total == 0:
				p(" %s |", ClassUnsupported.Emoji())
			default:
				p(" %s %d/%d |", r.Class.Emoji(), r.Passed, r.Total)
			}
		}
		p(" %d/%d |", s.PairsPassed, s.Pairs)
		if prev {
			p(" %s |", deltaWords(s, ClassUnexpectedFail.Emoji(), ClassPass.Emoji()))
		}
		p("\n")
	}
	p("\n")
}

// deltaWords says how an implementation changed since the previous run,
// with the given symbols for broken and fixed cells.
func deltaWords(s ImplSummary, broke, fixed string) string {
	if s.Prev == nil {
		return ""
	}
	var parts []string
	if d := s.DeltaPairs(); d != 0 {
		parts = append(parts, fmt.Sprintf("%+d pairs", d))
	}
	if s.Prev.Broken > 0 {
		parts = append(parts, fmt.Sprintf("%s %d broke", broke, s.Prev.Broken))
	}
	if s.Prev.Fixed > 0 {
		parts = append(parts, fmt.Sprintf("%s %d fixed", fixed, s.Prev.Fixed))
	}
	if len(parts) == 0 {
		return "unchanged"
	}
	return strings.Join(parts, ", ")
}

// mdListCap bounds every list of cells in report.md.
const mdListCap = 50

func (m *Model) mdChanges(p printer) {
	c := m.Changes
	if c == nil {
		return
	}
	p("## Changes since the previous run\n\n")
	if c.Empty() {
		p("None: every cell has the same result as before.\n\n")
		return
	}
	list := func(title string, cs []Change) {
		if len(cs) == 0 {
			return
		}
		p("**%s** (%d):\n\n", title, len(cs))
		for i, ch := range cs {
			if i == mdListCap {
				p("- … and %d more (see report.html)\n", len(cs)-i)
				break
			}
			p("- %s %s (was %s %s)\n", ch.Group.Class.Emoji(), mdCode(ch.Group.ID), ch.Before.Emoji(), ch.Before.Label())
		}
		p("\n")
	}
	list("Broke", c.Broken)
	list("Fixed", c.Fixed)
	list("Changed", c.Changed)
	if len(c.Added) > 0 {
		p("**New cells**: %d. ", len(c.Added))
	}
	if len(c.Removed) > 0 {
		p("**Cells no longer run**: %d.", len(c.Removed))
	}
	if len(c.Added)+len(c.Removed) > 0 {
		p("\n\n")
	}
}

func (m *Model) mdLegend(p printer) {
	var parts []string
	for _, c := range AllClasses() {
		parts = append(parts, c.Emoji()+" "+c.Label())
	}
	p("Legend: %s. A fraction is the seeds that passed, for cells run with several seeds. Rows are clients (Hello client, RUDP sender), columns servers (Hello server, RUDP receiver); a blank cell was not run.\n\n", strings.Join(parts, " · "))
}

func (m *Model) mdMatrices(p printer) {
	if len(m.Groups) == 0 {
		p("No cells ran.\n\n")
		return
	}
	p("## Matrices\n\n")
	m.mdLegend(p)
	for _, o := range m.Overviews {
		p("### %s: every scenario\n\n", protocolTitle(o.Protocol))
		m.mdGrid(p, o.Clients, o.Servers, func(i, j int) string {
			pr := o.Cells[i][j]
			if pr == nil {
				return ""
			}
			if pr.Supported == 0 {
				return ClassUnsupported.Emoji()
			}
			return fmt.Sprintf("%s %d/%d", pr.Class.Emoji(), pr.Passed, pr.Supported)
		})
		p("Each cell: the worst result of the pair over its scenarios, and how many scenarios passed.\n\n")
	}
	for _, mx := range m.Matrices {
		var counts []string
		for _, c := range AllClasses() {
			if n := mx.Counts[c]; n > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", n, c.Emoji()))
			}
		}
		open := ""
		if mx.Counts[ClassUnexpectedFail]+mx.Counts[ClassInfra]+mx.Counts[ClassUnexpectedPass] > 0 {
			open = " open"
		}
		p("<details%s><summary><b>%s</b>: %s</summary>\n\n", open, htmlText(mx.Key.Title()), strings.Join(counts, " "))
		if mx.Description != "" {
			p("%s\n\n", mdText(mx.Description))
		}
		m.mdGrid(p, mx.Clients, mx.Servers, func(i, j int) string {
			g := mx.Cells[i][j]
			if g == nil {
				return ""
			}
			if g.MultiSeed() {
				return g.Class.Emoji() + " " + g.Rate()
			}
			return g.Class.Emoji()
		})
		p("</details>\n\n")
	}
}

// htmlText escapes text placed inside raw HTML in the Markdown (the
// <summary> of a collapsible matrix).
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "\n", " ").Replace(s)
}

func (m *Model) mdGrid(p printer, rows, cols []string, cell func(i, j int) string) {
	p("| client ↓ server → |")
	for _, s := range cols {
		p(" %s |", mdText(s))
	}
	p("\n|---|")
	for range cols {
		p(":---:|")
	}
	p("\n")
	for i, c := range rows {
		p("| **%s** |", mdText(c))
		for j := range cols {
			p(" %s |", cell(i, j))
		}
		p("\n")
	}
	p("\n")
}

// failing lists the groups report.md explains, most urgent first.
func (m *Model) failing() []*Group {
	var out []*Group
	for _, c := range []Class{ClassUnexpectedFail, ClassInfra, ClassUnexpectedPass, ClassKnownFailure} {
		for _, g := range m.Groups {
			if g.Class == c {
				out = append(out, g)
			}
		}
	}
	return out
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// worstRun is the seed a paragraph describes: the first with the group's
// class.
func worstRun(g *Group) *results.Result {
	for _, r := range g.Results {
		if ClassOf(r) == g.Class {
			return r
		}
	}
	return g.Results[0]
}

// failureSet is failing cells that fail the same way: one paragraph
// explains them all. A broken role (a server that never starts) fails
// every cell it is in with the same words; a paragraph each would bury
// the other failures.
type failureSet struct {
	first *Group
	more  []*Group
}

func (m *Model) failureSets() []*failureSet {
	var sets []*failureSet
	byKey := map[string]*failureSet{}
	for _, g := range m.failing() {
		key := fmt.Sprintf("%d\x00%s", g.Class, firstLine(worstRun(g).Reason))
		if g.Class == ClassUnexpectedPass {
			key = fmt.Sprint(g.Class) // the same advice for all
		}
		if s, ok := byKey[key]; ok {
			s.more = append(s.more, g)
			continue
		}
		s := &failureSet{first: g}
		byKey[key] = s
		sets = append(sets, s)
	}
	return sets
}

func (m *Model) mdFailures(p printer) {
	sets := m.failureSets()
	if len(sets) == 0 {
		return
	}
	p("## Failing cells\n\n")
	limit := m.opts.MarkdownFailures
	if limit <= 0 {
		limit = 100
	}
	for i, s := range sets {
		if i == limit {
			var rest []string
			n := 0
			for _, s := range sets[i:] {
				for _, g := range append([]*Group{s.first}, s.more...) {
					if n++; n <= mdListCap {
						rest = append(rest, g.Class.Emoji()+" "+mdCode(g.ID))
					}
				}
			}
			more := ""
			if n > mdListCap {
				more = ", …"
			}
			p("… and %d more cells: %s%s. Every cell is in report.html.\n\n", n, strings.Join(rest, ", "), more)
			break
		}
		m.mdFailure(p, s.first)
		if len(s.more) > 0 {
			var ids []string
			for k, g := range s.more {
				if k == mdListCap {
					ids = append(ids, fmt.Sprintf("… (%d more)", len(s.more)-k))
					break
				}
				ids = append(ids, mdCode(g.ID))
			}
			p("The same in %d more %s: %s.", len(s.more), plural(len(s.more), "cell", "cells"), strings.Join(ids, ", "))
			if r := worstRun(s.first); r.Reproduce != "" && strings.Contains(r.Reproduce, r.ID) {
				p(" Reproduce one with %s.", mdCode(strings.ReplaceAll(r.Reproduce, r.ID, "<cell>/seed-N")))
			}
			p("\n\n")
		}
	}
}

func (m *Model) mdFailure(p printer, g *Group) {
	r := worstRun(g)
	head := fmt.Sprintf("%s %s: %s", g.Class.Emoji(), mdCode(g.ID), g.Class.Label())
	if g.MultiSeed() {
		head += fmt.Sprintf(", %s seeds passed", g.Rate())
	}
	p("#### %s\n\n", head)
	var lines []string
	switch g.Class {
	case ClassUnexpectedPass:
		lines = append(lines, fmt.Sprintf("It passes (%s) but conformance/expectations.yaml lists it as %s: remove or narrow that entry so a later regression is caught.", mdText(string(r.Verdict)), mdText(verdictList(r.Expected))))
	default:
		lines = append(lines, m.mdSpans(sentence(firstLine(r.Reason))))
	}
	var facts []string
	if r.Blame != "" && g.Class != ClassInfra {
		facts = append(facts, "Whose bug: "+mdText(blameWords(r)))
	}
	if g.MultiSeed() {
		facts = append(facts, fmt.Sprintf("seed %d", r.Cell.Seed))
	}
	if r.Bug != "" {
		facts = append(facts, "known: "+mdLink("bug", r.Bug))
	}
	if len(facts) > 0 {
		lines = append(lines, strings.Join(facts, " · ")+".")
	}
	p("%s\n\n", strings.Join(lines, " "))
	if rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.Reason), firstLine(r.Reason))); rest != "" && g.Class != ClassUnexpectedPass {
		p("<details><summary>command and output</summary>\n\n%s\n</details>\n\n", mdBlock("text", rest))
	}
	if r.Reproduce != "" {
		p("Reproduce:\n\n%s\n", mdBlock("sh", r.Reproduce))
	}
}

func verdictList(vs []results.Verdict) string {
	var s []string
	for _, v := range vs {
		s = append(s, string(v))
	}
	if len(s) == 0 {
		return "failing"
	}
	return strings.Join(s, " or ")
}

// blameWords says whose bug a failure is, with the implementation's name.
func blameWords(r *results.Result) string {
	c := r.Cell
	switch r.Blame {
	case "client":
		return fmt.Sprintf("the client, %s's %s", c.Client, c.ClientRole())
	case "server":
		return fmt.Sprintf("the server, %s's %s", c.Server, c.ServerRole())
	case "both":
		return "both sides"
	case "pair":
		return fmt.Sprintf("the pair: %s and %s each pass with the reference but not with each other", c.Client, c.Server)
	}
	return r.Blame
}

// mdSpans escapes text and links its requirement ids when a spec URL is
// set.
func (m *Model) mdSpans(s string) string {
	var b strings.Builder
	for _, sp := range splitReqs(s) {
		if sp.Req != "" && m.opts.SpecURL != "" {
			if req, ok := m.Requirements[sp.Req]; ok && req.File != "" {
				b.WriteString(mdLink(sp.Text, strings.TrimSuffix(m.opts.SpecURL, "/")+"/"+req.File))
				continue
			}
		}
		b.WriteString(mdText(sp.Text))
	}
	return b.String()
}

func (m *Model) mdLenient(p printer) {
	var gs []*Group
	for _, g := range m.Groups {
		if g.Class == ClassLenient {
			gs = append(gs, g)
		}
	}
	if len(gs) == 0 {
		return
	}
	p("## Lenient passes: what to tighten\n\n")
	for i, g := range gs {
		if i == mdListCap {
			p("- … and %d more (see report.html)\n", len(gs)-i)
			break
		}
		seen := map[string]bool{}
		var ls []string
		for _, r := range g.Results {
			for _, l := range r.Leniencies {
				if !seen[l] {
					seen[l] = true
					ls = append(ls, m.mdSpans(l))
				}
			}
		}
		p("- %s %s: %s\n", ClassLenient.Emoji(), mdCode(g.ID), strings.Join(ls, "; "))
	}
	p("\n")
}

func (m *Model) mdRequirements(p printer) {
	var texts []string
	for _, g := range m.failing() {
		r := worstRun(g)
		texts = append(texts, firstLine(r.Reason))
	}
	for _, g := range m.Groups {
		if g.Class == ClassLenient {
			for _, r := range g.Results {
				texts = append(texts, r.Leniencies...)
			}
		}
	}
	ids := citedReqs(texts...)
	if len(ids) == 0 {
		return
	}
	p("## Requirements cited\n\n")
	for _, id := range ids {
		req, ok := m.Requirements[id]
		if !ok {
			p("- **%s**\n", mdText(id))
			continue
		}
		text := req.Text
		if r := []rune(text); len(r) > 240 {
			text = string(r[:240]) + "…"
		}
		level := ""
		if req.Level != "" {
			level = " (" + mdText(req.Level) + ")"
		}
		p("- **%s**%s %s\n", m.mdSpans(id), level, mdSpec(text))
	}
	p("\n")
}
