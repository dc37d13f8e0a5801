package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/report/internal/reporttest"
	"github.com/interop-suite/interop/conformance/results"
)

func build(t *testing.T, dir string, opts report.Options) *report.Model {
	t.Helper()
	opts.ArtifactsDir = dir
	if opts.SpecDir == "" {
		opts.SpecDir = specDir
	}
	m, err := report.Build(readRun(t, dir), opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func renderMD(t *testing.T, m *report.Model) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func renderHTML(t *testing.T, m *report.Model) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The Markdown of both fixtures is golden: a change to it is a change a
// reviewer should see in the diff.
func TestMarkdownGolden(t *testing.T) {
	for name, dir := range map[string]string{"real": realFixture(t), "kinds": kindsFixture(t)} {
		t.Run(name, func(t *testing.T) {
			golden(t, "golden/"+name+".md", renderMD(t, build(t, dir, report.Options{SpecURL: "https://github.com/interop-suite/interop/blob/main/spec/"})))
		})
	}
}

func TestDeterministic(t *testing.T) {
	dir := realFixture(t)
	a, b := build(t, dir, report.Options{}), build(t, dir, report.Options{})
	if !bytes.Equal(renderHTML(t, a), renderHTML(t, b)) || !bytes.Equal(renderMD(t, a), renderMD(t, b)) {
		t.Fatal("two renderings of the same run differ")
	}
}

func TestClasses(t *testing.T) {
	m := build(t, kindsFixture(t), report.Options{})
	want := map[report.Class]int{
		report.ClassPass: 2, report.ClassLenient: 1, report.ClassUnsupported: 1, report.ClassKnownFailure: 1,
		report.ClassUnexpectedPass: 1, report.ClassUnexpectedFail: 2, report.ClassInfra: 1,
	}
	for c, n := range want {
		if m.Counts[c] != n {
			t.Errorf("%s: %d groups, want %d", c.Label(), m.Counts[c], n)
		}
	}
	if m.Unexpected() != 4 {
		t.Errorf("Unexpected() = %d, want 4 (2 failures, 1 unexpected pass, 1 infra)", m.Unexpected())
	}
	g := reporttest.FindGroup(t, m, "rudp/"+evilImpl+"-x-reference/loss-10/256k")
	if g.Class != report.ClassUnexpectedFail || g.Rate() != "2/3" || !g.MultiSeed() {
		t.Errorf("multi-seed group: %s %s, want unexpected failure 2/3", g.Class.Label(), g.Rate())
	}
}

// TestHTMLEscaping parses report.html of the kinds fixture, whose names,
// reasons, logs and links are markup, and checks that none became markup.
func TestHTMLEscaping(t *testing.T) {
	page := renderHTML(t, build(t, kindsFixture(t), report.Options{}))
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	scripts, texts := 0, 0
	var walk func(n *html.Node, inTemplate bool)
	walk = func(n *html.Node, inTemplate bool) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script":
				if typ := attr(n, "type"); typ == "" {
					scripts++
				} else if typ != "application/gzip" {
					t.Errorf("a <script type=%q>", typ)
				}
			case "img", "iframe", "object", "embed", "link", "u":
				t.Errorf("an element <%s> made it into the page", n.Data)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s %s=%q>: an event handler attribute", n.Data, a.Key, a.Val)
				}
				if (a.Key == "href" || a.Key == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					t.Errorf("<%s %s=%q>: a javascript: URL", n.Data, a.Key, a.Val)
				}
			}
		}
		if n.Type == html.TextNode && strings.Contains(n.Data, evilImpl) {
			texts++
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inTemplate || n.Data == "template")
		}
	}
	walk(doc, false)
	// <template> content is parsed into the template's own fragment: walk
	// it too by parsing each template's inner HTML as a fragment.
	for _, frag := range templateContents(t, []byte(pageDetails(t, page))) {
		for _, n := range frag {
			walk(n, true)
		}
	}
	if scripts != 1 {
		t.Errorf("%d executable <script> elements, want only the page's own", scripts)
	}
	if texts == 0 {
		t.Error("the evil implementation's name is not shown as text anywhere")
	}
	if !bytes.Contains(page, []byte("Content-Security-Policy")) {
		t.Error("no Content-Security-Policy")
	}
}

// templateContents parses every <template> of the page as an HTML
// fragment (the parser keeps template content out of the main tree).
func templateContents(t *testing.T, page []byte) [][]*html.Node {
	var out [][]*html.Node
	s := string(page)
	for {
		i := strings.Index(s, "<template ")
		if i < 0 {
			return out
		}
		j := strings.Index(s[i:], "</template>")
		if j < 0 {
			t.Fatal("unterminated <template>")
		}
		body := s[i : i+j]
		body = body[strings.IndexByte(body, '>')+1:]
		nodes, err := html.ParseFragment(strings.NewReader(body), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, nodes)
		s = s[i+j+len("</template>"):]
	}
}

func TestMarkdownEscaping(t *testing.T) {
	md := string(renderMD(t, build(t, kindsFixture(t), report.Options{})))
	text := outsideFences(md) // inside code, text is literal and safe
	for _, bad := range []string{"<img", "<script", "<u>", "<no space"} {
		if strings.Contains(text, bad) {
			t.Errorf("report.md has %q outside code", bad)
		}
	}
	if linkRE := regexp.MustCompile(`(^|[^\\])\]\(javascript:`); linkRE.MatchString(text) {
		t.Errorf("report.md links to javascript: %q", linkRE.FindString(text))
	}
	if !strings.Contains(md, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("the evil name is not shown escaped")
	}
}

// outsideFences drops fenced code blocks and inline code spans.
func outsideFences(md string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			in = !in
			continue
		}
		if !in {
			b.WriteString(dropCodeSpans(line) + "\n")
		}
	}
	return b.String()
}

func dropCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] == '\\' && i+1 < len(line) {
			b.WriteString(line[i : i+2])
			i += 2
			continue
		}
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		end := strings.Index(line[i+n:], fence)
		if end < 0 {
			b.WriteString(fence)
			i += n
			continue
		}
		i += n + end + n
	}
	return b.String()
}

// A program that wrote 10 MB: the report says so, shows its ends, and
// stays small; also when results.json (from elsewhere) holds all 10 MB.
func TestTenMegabyteLog(t *testing.T) {
	dir := kindsFixture(t)
	page := pageDetails(t, renderHTML(t, build(t, dir, report.Options{})))
	if !strings.Contains(page, "10.0 MiB written") || !strings.Contains(page, "lines not shown") {
		t.Error("the 10 MB log is not announced as cut")
	}
	run := readRun(t, dir)
	for i := range run.Results {
		if p := run.Results[i].Client; p != nil && p.StdoutBytes == tenMB {
			p.Stdout = strings.Repeat(strings.Repeat("x", 99)+"\n", tenMB/100)
		}
	}
	m, err := report.Build(run, report.Options{ArtifactsDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	html := renderHTML(t, m)
	if len(html) > 1<<20 {
		t.Errorf("report.html is %d bytes with a 10 MB log in results.json", len(html))
	}
	if !strings.Contains(pageDetails(t, html), "not embedded: open the file") {
		t.Error("the embedded log does not say it was cut")
	}
}

// The detail budget keeps the page small: with a tiny budget, cells get
// compact details, worst first keep the rich ones.
func TestDetailBudget(t *testing.T) {
	dir := realFixture(t)
	full := renderHTML(t, build(t, dir, report.Options{}))
	small := renderHTML(t, build(t, dir, report.Options{DetailBudget: 1}))
	if len(small) >= len(full)/2 {
		t.Errorf("a 1-byte budget gives %d bytes, the default %d", len(small), len(full))
	}
	if strings.Contains(pageDetails(t, small), `class="plot"`) {
		t.Error("plots embedded despite the budget")
	}
	if !strings.Contains(pageDetails(t, full), `class="plot"`) {
		t.Error("no plot in the default rendering")
	}
}

func TestPlotSeries(t *testing.T) {
	f, err := os.Open("testdata/kinds/trace.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := report.ReadSeries(f)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != kindsPlotMarks {
		t.Fatalf("%d marks, want %d", s.Len(), kindsPlotMarks)
	}
	for k, want := range map[int]int{report.MarkTx: 3, report.MarkRetx: 1, report.MarkDrop: 1, report.MarkCorrupt: 1,
		report.MarkAck: 2, report.MarkAckDrop: 1, report.MarkAckCorrupt: 1, report.MarkOther: 1} {
		if got := s.Count(k); got != want {
			t.Errorf("kind %d: %d marks, want %d", k, got, want)
		}
	}
	if s.Base != "1152921504606846976" {
		t.Errorf("base %s, want 2^60 exactly", s.Base)
	}
	if s.K[8] != report.MarkRetx || s.Y[8] != 2 || s.T[8] != 5050 {
		t.Errorf("the 9th mark is kind %d at t=%d y=%d, want the retransmission at 5050 (tenths of ms) and +2", s.K[8], s.T[8], s.Y[8])
	}

	// Every trace of the real fixture: one mark per arrival.
	dir := realFixture(t)
	matches, _ := filepath.Glob(filepath.Join(dir, "cells", "rudp", "*", "*", "*", "*", "trace", "trace.jsonl"))
	if len(matches) < 10 {
		t.Fatalf("only %d RUDP traces in the real fixture", len(matches))
	}
	for _, p := range matches {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		s, err := report.ReadSeries(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if want := countArrivals(t, p); s.Len() != want {
			t.Errorf("%s: %d marks, %d datagrams", p, s.Len(), want)
		}
	}
}

func TestLeaderboard(t *testing.T) {
	m := build(t, kindsFixture(t), report.Options{})
	lb := m.Leaderboard
	if len(lb.Columns) != 1 || len(lb.Rows) != 2 {
		t.Fatalf("%d columns, %d rows; want 1 and 2", len(lb.Columns), len(lb.Rows))
	}
	if r := lb.Rows[0]; r.Client != "reference" || r.Geo != 1 {
		t.Errorf("first row %s at %.2f, want the reference at 1.00", r.Client, r.Geo)
	}
	c := lb.Rows[1].Cells[0]
	if c.Measured != 2 || c.Ratio < 2.49 || c.Ratio > 2.51 {
		t.Errorf("evil sender: %.3f over %d seeds, want 2.5 over the 2 that passed", c.Ratio, c.Measured)
	}
}

func TestChangesSincePrevious(t *testing.T) {
	dir := realFixture(t)
	prev := readRun(t, dir)
	// Before: the naive hello client passed against c, and a cell that
	// no longer runs.
	for i := range prev.Results {
		if prev.Results[i].ID == "hello/naive-x-c/tcp-clean/seed-1" {
			prev.Results[i].Verdict, prev.Results[i].Outcome = results.Pass, results.Expected
		}
	}
	prev.Results = append(prev.Results, results.Result{ID: "hello/gone-x-reference/tcp-clean/seed-1", Group: "hello/gone-x-reference/tcp-clean",
		Verdict: results.Pass, Cell: prev.Results[0].Cell})
	prev.Results[len(prev.Results)-1].Cell.Client = "gone"
	m := build(t, dir, report.Options{Previous: prev})
	c := m.Changes
	if len(c.Broken) != 1 || c.Broken[0].Group.ID != "hello/naive-x-c/tcp-clean" || c.Broken[0].Before != report.ClassPass {
		t.Errorf("broken: %+v", c.Broken)
	}
	if len(c.Removed) != 1 || c.Removed[0] != "hello/gone-x-reference/tcp-clean" {
		t.Errorf("removed: %v", c.Removed)
	}
	for _, s := range m.Impls {
		if s.Name == "naive" && (s.Prev == nil || s.Prev.Broken != 1) {
			t.Errorf("naive's summary does not count the broken cell: %+v", s.Prev)
		}
	}
	if md := string(renderMD(t, m)); !strings.Contains(md, "## Changes since the previous run") || !strings.Contains(md, "**Broke** (1)") {
		t.Error("report.md does not show the changes")
	}
}

func TestRender(t *testing.T) {
	dir := realFixture(t)
	if err := report.Render(readRun(t, dir), dir, report.Options{SpecDir: specDir}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{report.MarkdownFile, report.HTMLFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, report.HTMLFile+".tmp")); err == nil {
		t.Error("a temporary file was left behind")
	}
}

func TestRequirements(t *testing.T) {
	reqs := report.LoadRequirements(specDir)
	for _, id := range []string{"HELLO-1", "HELLO-13", "RUDP-40", "MANIFEST-7"} {
		if r, ok := reqs[id]; !ok || r.Text == "" || r.File == "" {
			t.Errorf("%s: %+v", id, r)
		}
	}
	if r := reqs["HELLO-1"]; r.Level != "MUST, tolerated" || strings.Contains(r.Text, "Tested by") || r.Rationale == "" {
		t.Errorf("HELLO-1 parsed as %+v", r)
	}
	if len(report.LoadRequirements(t.TempDir())) != 0 {
		t.Error("requirements from an empty folder")
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// A role that never starts fails every cell it is in with the same words:
// report.md explains it once and lists the other cells.
func TestSameFailuresShareAParagraph(t *testing.T) {
	run := &results.Run{Schema: results.SchemaVersion}
	for _, client := range []string{"a", "b", "c"} {
		c := cases.Cell{Protocol: cases.Hello, Client: client, Server: "java", Scenario: "tcp-clean", Seed: 1, Seeds: 1}
		run.Results = append(run.Results, results.Result{ID: c.ID(), Group: c.Group(), Cell: c, Verdict: results.Fail, Outcome: results.UnexpectedFail,
			Reason:    "java cannot run its hello-server: preflight: never started listening\ncommand: java Hello " + client,
			Reproduce: "INTEROP_CELL='" + c.ID() + "' go tool ginkgo ./conformance"})
	}
	m, err := report.Build(run, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	md := string(renderMD(t, m))
	if n := strings.Count(md, "#### "); n != 1 {
		t.Errorf("%d paragraphs for one reason", n)
	}
	if !strings.Contains(md, "The same in 2 more cells: `hello/b-x-java/tcp-clean`, `hello/c-x-java/tcp-clean`.") ||
		!strings.Contains(md, "`INTEROP_CELL='<cell>/seed-N' go tool ginkgo ./conformance`") {
		t.Errorf("the other cells are not listed:\n%s", md[strings.Index(md, "## Failing"):])
	}
}
