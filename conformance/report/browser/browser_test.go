// Package browser_test renders the report in a headless Chromium. It is a
// package of its own, away from the report package's fuzz targets (see
// conformance/report/internal/reporttest).
package browser_test

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/report/internal/reporttest"
)

// specDir is the repository's spec folder, for requirement texts.
var specDir = report.FindSpecDir(".")

var screenshots = flag.String("screenshots", "", "folder for the browser test's screenshots (default: the test's artifact directory; keep them with go test -artifacts -outputdir DIR)")

// chromium finds a headless Chromium, installing Debian's package when it
// is missing and the test runs as root, as CI does. It never skips: the
// report is only tested when a browser has rendered it.
func chromium(t *testing.T) string {
	t.Helper()
	find := func() string {
		if p := os.Getenv("INTEROP_CHROMIUM"); p != "" {
			return p
		}
		for _, name := range []string{"chromium", "chromium-browser", "headless-shell", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	if os.Geteuid() != 0 {
		t.Fatal("the browser test needs headless Chromium: install it (Debian: sudo apt-get install -y chromium) or set INTEROP_CHROMIUM to its path")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Fatal("the browser test needs headless Chromium, and this machine has no apt-get to install it: set INTEROP_CHROMIUM to a Chromium binary")
	}
	install := func(args ...string) error {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("apt-get %s: %v\n%s", strings.Join(args, " "), err, lastLines(string(out), 15))
		}
		return err
	}
	t.Log("Chromium is missing: installing Debian's chromium package")
	if install("install", "-y", "--no-install-recommends", "chromium") != nil {
		if err := install("update"); err != nil {
			t.Fatalf("cannot install Chromium: apt-get update failed: %v", err)
		}
		if err := install("install", "-y", "--no-install-recommends", "chromium"); err != nil {
			t.Fatalf("cannot install Chromium: %v", err)
		}
	}
	if p := find(); p != "" {
		return p
	}
	t.Fatal("apt-get installed chromium, but no chromium binary is on PATH")
	return ""
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// browser is a headless tab with the network off and everything the page
// says on the console or asks of the network recorded.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	console  []chromedp.ConsoleMessage
	requests []string
}

func newBrowser(t *testing.T) *browser {
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs the tests as root, where Chromium's sandbox refuses to start
		chromedp.WindowSize(1400, 1000),
		// A second lock on the network besides the emulation: no name resolves.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	b := &browser{ctx: ctx}
	msgs := chromedp.Console(ctx)
	reqs := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range reqs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.requests = append(b.requests, ev.Request.URL)
			b.mu.Unlock()
		}
	}()
	for _, step := range []error{
		func() error { _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); return err }(),
		func() error { _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); return err }(),
		func() error {
			_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{{Offline: true}},
			})
			return err
		}(),
		func() error {
			_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: true})
			return err
		}(),
	} {
		if step != nil {
			t.Fatalf("set up the tab: %v", step)
		}
	}
	return b
}

func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) shot(t *testing.T, sel, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", sel, err)
	}
	dir := *screenshots
	if dir == "" {
		dir = t.ArtifactDir()
	}
	os.MkdirAll(dir, 0o755)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d KiB)", p, len(png)>>10)
}

// TestHTMLInBrowser loads report.html of the real fixture in headless
// Chromium with the network off and checks what a person sees: every cell
// of every matrix, the right details on a click, one plot mark per
// datagram of the trace, a tooltip on hover, working filters, no console
// errors and no request but the file itself.
func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Log("-short: still running, the browser test is the report's only end-to-end check")
	}
	dir := reporttest.RealFixture(t, "../testdata")
	run := reporttest.ReadRun(t, dir)
	if err := report.Render(run, dir, report.Options{SpecDir: specDir}); err != nil {
		t.Fatal(err)
	}
	m, err := report.Build(run, report.Options{SpecDir: specDir})
	if err != nil {
		t.Fatal(err)
	}
	page := (&url.URL{Scheme: "file", Path: filepath.Join(dir, report.HTMLFile)}).String()

	b := newBrowser(t)
	b.do(t, "load the report", chromedp.Navigate(page), chromedp.WaitReady(chromedp.CSS("#matrices")))

	if got, want := eval[int](t, b, `document.querySelectorAll('td.cell').length`), len(m.Groups); got != want {
		t.Errorf("the matrices show %d cells, the run has %d", got, want)
	}
	b.shot(t, "header.top", "summary.png")
	b.shot(t, "#matrices", "matrix.png")

	// The naive sender under "mixed": a lenient RUDP cell with two seeds,
	// the cell a student opens to see their 500 ms waits.
	const id = "rudp/naive-x-reference/mixed/256k"
	g := reporttest.FindGroup(t, m, id)
	b.do(t, "open "+id, chromedp.Click(chromedp.CSS(fmt.Sprintf(`td.cell[data-g="%d"]`, g.Index))), chromedp.WaitVisible(chromedp.CSS("#detail")))
	if h := eval[string](t, b, `document.querySelector('#detail-body .dhead h2').textContent`); !strings.Contains(h, id) {
		t.Errorf("clicked %s, the detail shows %q", id, h)
	}
	for _, r := range g.Results {
		want := reporttest.CountArrivals(t, filepath.Join(dir, r.Artifacts, "trace", "trace.jsonl"))
		got := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll('#detail-body details[data-seed="%d"] figure.plot svg .mark').length`, r.Cell.Seed))
		if got != want || want == 0 {
			t.Errorf("seed %d: the plot has %d marks, the trace %d datagrams", r.Cell.Seed, got, want)
		}
	}
	// Hover the first retransmission: the tooltip names the packet.
	pos := eval[[]float64](t, b, `(() => { const m = document.querySelector('#detail-body details[data-seed="1"] .mark.k1'); m.scrollIntoView({block: 'center'}); const r = m.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
	b.do(t, "hover a mark", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, pos[0], pos[1]))
	if tip := eval[string](t, b, `document.getElementById('tip').hidden ? '' : document.getElementById('tip').textContent`); !strings.Contains(tip, "retransmission") || !strings.Contains(tip, "ms") {
		t.Errorf("hovering a retransmission shows %q", tip)
	}
	b.do(t, "scroll the detail to the figures", chromedp.Evaluate[chromedp.Void](`document.querySelector('#detail-body table.transfer').scrollIntoView({block: 'start'})`))
	b.shot(t, "#detail", "rudp-cell.png")
	b.do(t, "close the detail", chromedp.Click(chromedp.CSS("#detail .close")), chromedp.WaitNotVisible(chromedp.CSS("#detail")))

	// The leaderboard sorts by a column on a click, missing values last.
	b.do(t, "sort the leaderboard", chromedp.Click(chromedp.CSS(`#perf-table thead th:last-child`)), chromedp.Click(chromedp.CSS(`#perf-table thead th:nth-last-child(2)`)))
	if sorted := eval[bool](t, b, `(() => { const v = [...document.querySelectorAll('#perf-table tbody tr')].map(r => parseFloat(r.cells[r.cells.length - 2].dataset.v)); return v.length > 1 && v.every((x, i) => i === 0 || v[i-1] <= x); })()`); !sorted {
		t.Error("the leaderboard is not sorted by the overall ratio after a click on its header")
	}
	b.shot(t, "#impls", "implementations.png")
	b.shot(t, "#perf", "leaderboard.png")

	// The implementation filter keeps the cells involving naive.
	want := 0
	for _, g := range m.Groups {
		if g.Client == "naive" || g.Server == "naive" {
			want++
		}
	}
	b.do(t, "filter naive", chromedp.SetValue(chromedp.CSS("#f-impl"), "naive"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-impl').dispatchEvent(new Event('change'))`))
	if got := eval[int](t, b, `document.querySelectorAll('td.cell:not(.off)').length`); got != want {
		t.Errorf("filtered on naive: %d cells shown, want %d", got, want)
	}

	// A link to a cell opens it when the page loads.
	b.do(t, "open by link", chromedp.Navigate(page+"#cell="+url.QueryEscape(id)), chromedp.WaitVisible(chromedp.CSS("#detail")))
	if h := eval[string](t, b, `document.querySelector('#detail-body .dhead h2').textContent`); !strings.Contains(h, id) {
		t.Errorf("#cell=%s opened %q", id, h)
	}

	// With no budget for rich details, a failing cell is compact (its
	// reason, no logs) and a passing one brief (a line per seed).
	small := filepath.Join(t.TempDir(), "small")
	opts := report.Options{SpecDir: specDir, ArtifactsDir: dir, DetailBudget: 1}
	if err := report.Render(run, small, opts); err != nil {
		t.Fatal(err)
	}
	smallPage := (&url.URL{Scheme: "file", Path: filepath.Join(small, report.HTMLFile)}).String()
	for _, c := range []struct{ id, level, text string }{
		{"hello/naive-x-c/tcp-clean", "compact", "did not print the client's message"},
		{"rudp/python-x-reference/blackout/256k", "brief", "Brief details"},
	} {
		b.do(t, "open "+c.id, chromedp.Navigate(smallPage+"#cell="+url.QueryEscape(c.id)), chromedp.WaitVisible(chromedp.CSS("#detail")))
		text := eval[string](t, b, `document.querySelector('#detail-body').textContent`)
		if !strings.Contains(text, c.id) || !strings.Contains(text, c.text) || strings.Contains(text, "show all") {
			t.Errorf("%s (%s): the detail says %q", c.id, c.level, text)
		}
		if c.level == "compact" {
			b.shot(t, "#detail", "compact-cell.png")
		}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.console {
		if c.Type == chromedp.ConsoleError || c.Type == chromedp.ConsoleException || c.Type == chromedp.ConsoleWarning {
			t.Errorf("console %s: %s (%s:%d)", c.Type, c.Text, c.URL, c.Line)
		}
	}
	if len(b.requests) == 0 {
		t.Error("no request recorded: the network listener did not work")
	}
	for _, u := range b.requests {
		if !strings.HasPrefix(u, page) && !strings.HasPrefix(u, smallPage) {
			t.Errorf("the page asked for %s: report.html must need nothing but itself", u)
		}
	}
}
