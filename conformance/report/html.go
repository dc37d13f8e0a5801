package report

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/interop-suite/interop/conformance/results"
)

// The page's parts. They are embedded into report.html verbatim: the file
// must open from a CI artifact or an e-mail with no network.
var (
	//go:embed assets/report.html.tmpl
	pageTemplate string
	//go:embed assets/report.css
	pageCSS string
	//go:embed assets/report.js
	pageJS string
)

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":       fmtMS,
	"bytes":    humanBytes,
	"ratio":    fmtRatio,
	"sortnum":  sortNum,
	"kbps":     func(bps float64) string { return fmt.Sprintf("%.1f kB/s", bps/1000) },
	"f2":       func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"add":      func(a, b int) int { return a + b },
	"classes":  AllClasses,
	"time":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") },
	"duration": func(a, b time.Time) string { return b.Sub(a).Round(time.Second).String() },
	"first":    firstLine,
	"blame":    blameWords,
	"join":     strings.Join,
	"outcome":  outcomeWords,
	"proto":    protocolTitle,
	"spec":     specParts,
	"speed":    speed,
	"float":    func(n int64) float64 { return float64(n) },
	"list":     func(v ...any) []any { return v },
	"delta":    func(s ImplSummary) string { return deltaWords(s, "✗", "✓") },
}).Parse(pageTemplate))

// speed classes a time ratio for colour: close to the reference, slower,
// much slower.
func speed(r float64) string {
	switch {
	case r <= 0:
		return ""
	case r < 1.25:
		return "fast"
	case r < 2:
		return "slower"
	}
	return "slow"
}

// fmtMS prints a duration in ms for people: 850 ms, 12.3 s.
func fmtMS(ms float64) string {
	if ms < 10000 {
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f s", ms/1000)
}

func fmtRatio(r float64) string {
	if r <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", r)
}

// sortNum is the value a sortable column sorts by: missing values last.
func sortNum(f float64) string {
	if f <= 0 {
		return "1e99"
	}
	return fmt.Sprintf("%.4f", f)
}

// contentSecurityPolicy forbids the page every network access and runs
// only its own script and style, by hash: even if some text slipped past
// the escaping as markup, it could neither load anything nor run.
func contentSecurityPolicy() string {
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; script-src " + hash(pageJS) + "; style-src " + hash(pageCSS) +
		"; img-src data:; base-uri 'none'; form-action 'none'"
}

// pageData is what the page template reads.
type pageData struct {
	M   *Model
	CSP string
	CSS template.CSS
	JS  template.JS
	// Details holds every cell's <template>, gzip-compressed and
	// base64url-encoded: the page inflates it on load (DecompressionStream).
	// A full matrix's details are tens of MB of repetitive markup that
	// compresses about tenfold; the page would not be "a few MB" otherwise.
	Details   string
	Protocols []string
	Scenarios []string
	Names     []string
	Reqs      []Requirement // cited anywhere in the details
	Rich      int           // groups with rich details
	Compact   int
}

// WriteHTML writes report.html: one self-contained file.
func (m *Model) WriteHTML(w io.Writer) error {
	d := &pageData{M: m, CSS: template.CSS(pageCSS), JS: template.JS(pageJS), CSP: contentSecurityPolicy()}
	seenP, seenS := map[string]bool{}, map[string]bool{}
	for _, mx := range m.Matrices {
		if !seenP[mx.Key.Protocol] {
			seenP[mx.Key.Protocol] = true
			d.Protocols = append(d.Protocols, mx.Key.Protocol)
		}
		if !seenS[mx.Key.Scenario] {
			seenS[mx.Key.Scenario] = true
			d.Scenarios = append(d.Scenarios, mx.Key.Scenario)
		}
	}
	for _, s := range m.Impls {
		d.Names = append(d.Names, s.Name)
	}
	details, err := m.details(d)
	if err != nil {
		return err
	}
	if d.Details, err = compress(details); err != nil {
		return err
	}
	var cited []string
	for _, r := range m.Run.Results {
		cited = append(cited, r.Reason)
		cited = append(cited, r.Leniencies...)
		for _, f := range r.Findings {
			cited = append(cited, f.Requirement, f.Detail)
		}
	}
	for _, id := range citedReqs(cited...) {
		req, ok := m.Requirements[id]
		if !ok {
			req = Requirement{ID: id}
		}
		d.Reqs = append(d.Reqs, req)
	}
	return tmpl.ExecuteTemplate(w, "page", d)
}

// compress gzips the fragments and encodes them in base64url, whose
// alphabet needs no escaping inside a <script> data block.
func compress(fragments []template.HTML) (string, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if err != nil {
		return "", err
	}
	for _, f := range fragments {
		io.WriteString(zw, string(f))
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b.Bytes()), nil
}

// details renders each group's detail fragment. The worst groups are
// rendered rich first, while the budget lasts; then failures and lenient
// passes compact and the rest brief. Every fragment is the output of the
// html/template, so it is escaped.
func (m *Model) details(d *pageData) ([]template.HTML, error) {
	budget := m.opts.DetailBudget
	if budget <= 0 {
		budget = DefaultDetailBudget
	}
	order := slices.Clone(m.Groups)
	slices.SortStableFunc(order, func(a, b *Group) int { return cmp.Compare(richPriority(b.Class), richPriority(a.Class)) })
	out := make([]template.HTML, len(m.Groups))
	levels := make([]level, len(m.Groups))

	// Rich details are tried, worst first, while the budget lasts; a group
	// too big for what is left falls back and smaller ones after it may
	// still fit, until misfits in a row show the budget is spent (each try
	// reads the group's traces). This part is sequential: each decision
	// depends on the sizes before it.
	const maxMisfits = 8
	var buf bytes.Buffer
	used, misfits := 0, 0
	for _, g := range order {
		levels[g.Index] = brief
		if g.Class.Failed() || g.Class == ClassLenient {
			levels[g.Index] = compact
		}
		if misfits >= maxMisfits || used >= budget {
			continue
		}
		buf.Reset()
		if err := m.renderGroup(&buf, g, rich); err != nil {
			return nil, err
		}
		if used+buf.Len() > budget {
			misfits++
			continue
		}
		used += buf.Len()
		misfits = 0
		d.Rich++
		levels[g.Index] = rich
		out[g.Index] = template.HTML(buf.String())
	}

	// The other groups, most of a large run, are independent of each
	// other: render them on every core.
	work := make(chan *Group)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for g := range work {
				buf.Reset()
				if err := m.renderGroup(&buf, g, levels[g.Index]); err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				out[g.Index] = template.HTML(buf.String())
			}
		}()
	}
	for _, g := range m.Groups {
		if levels[g.Index] != rich {
			d.Compact++
			work <- g
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return out, nil
}

// renderGroup writes one group's <template> at the given level.
func (m *Model) renderGroup(w io.Writer, g *Group, lv level) error {
	v := groupView{G: g, Level: lv, Rich: lv == rich, Brief: lv == brief}
	worst := worstRun(g)
	for _, r := range g.Results {
		c := ClassOf(r)
		v.Runs = append(v.Runs, m.b.newRunView(r, lv, r == worst || (c != ClassPass && c != ClassUnsupported)))
		if r.Bug != "" && v.Bug == "" {
			v.Bug = r.Bug
		}
	}
	return tmpl.ExecuteTemplate(w, "detail", v)
}

// richPriority orders who gets the rich details: what fails the run first,
// then known failures, lenient passes (something to tighten), passes, and
// unsupported cells (nothing ran) last.
func richPriority(c Class) int {
	if c == ClassUnsupported {
		return -1
	}
	return int(c)
}

// outcomeWords is the outcome in a sentence.
func outcomeWords(r *results.Result) string {
	switch r.Outcome {
	case results.KnownFailure:
		return "known failure (listed in the expectations file)"
	case results.UnexpectedFail:
		return "unexpected: fails the run"
	case results.UnexpectedPass:
		return "unexpected pass: listed as failing in the expectations file; fails the run until the entry is removed"
	case results.UnexpectedInfra:
		return "infrastructure error: fails the run"
	case results.Expected:
		return "as expected"
	}
	return ""
}
