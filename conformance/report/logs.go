package report

import (
	"fmt"
	"regexp"
	"strings"
)

// How logs are cut. A program's stdout and stderr in results.json hold at
// most the first and last 32 KiB of what it wrote (the cell folder has
// the files); the report shows less, because a reader wants the first
// lines (how it started) and the last (how it ended).
const (
	previewHead     = 10       // first lines shown
	previewTail     = 30       // last lines shown
	previewLineCap  = 300      // characters of one line shown in the preview
	maxEmbeddedFull = 96 << 10 // bytes of one stream embedded behind "show all"
)

// ansiRE matches terminal colour and cursor sequences, which would show as
// garbage in a page.
var ansiRE = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")

// LogView is one output stream of one program, cut for the page.
type LogView struct {
	Name    string // "stdout" or "stderr"
	File    string // link to the whole file in the cell folder ("" when there is none)
	Written int64  // bytes the program wrote
	Lines   int    // lines in the text results.json kept
	Preview string // the first and last lines, or all of a short text
	Cut     bool   // Preview leaves lines out
	Full    string // the kept text, for "show all" ("" when not embedded)
	// Truncated says what results.json itself left out ("" when nothing).
	Truncated string
}

// Empty reports whether the program wrote nothing on this stream.
func (l LogView) Empty() bool { return l.Written == 0 && l.Preview == "" }

// cleanLog makes text safe to show as text: valid UTF-8, no terminal
// escapes, no carriage-return progress bars.
func cleanLog(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = ansiRE.ReplaceAllString(s, "")
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// newLogView cuts one stream. full says whether the whole kept text may be
// embedded (the page's budget decides).
func newLogView(name, text string, written int64, file string, full bool) LogView {
	text = cleanLog(text)
	if written < int64(len(text)) {
		written = int64(len(text))
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	v := LogView{Name: name, File: file, Written: written, Lines: len(lines)}
	if written > int64(len(text)) {
		v.Truncated = fmt.Sprintf("the suite kept the first and last part (%s of %s written)", humanBytes(int64(len(text))), humanBytes(written))
	}
	clip := func(l string) string {
		if len(l) <= previewLineCap { // bytes: at least as many as runes
			return l
		}
		n := 0
		for i := range l {
			if n == previewLineCap {
				v.Cut = true
				return l[:i] + "…"
			}
			n++
		}
		return l
	}
	var b strings.Builder
	if len(lines) <= previewHead+previewTail {
		for _, l := range lines {
			b.WriteString(clip(l) + "\n")
		}
	} else {
		v.Cut = true
		for _, l := range lines[:previewHead] {
			b.WriteString(clip(l) + "\n")
		}
		fmt.Fprintf(&b, "… %d lines not shown …\n", len(lines)-previewHead-previewTail)
		for _, l := range lines[len(lines)-previewTail:] {
			b.WriteString(clip(l) + "\n")
		}
	}
	v.Preview = b.String()
	if full && v.Cut {
		v.Full = text
		if len(text) > maxEmbeddedFull {
			// Keep whole runes at both ends.
			head := strings.ToValidUTF8(text[:maxEmbeddedFull/4], "")
			tail := strings.ToValidUTF8(text[len(text)-3*maxEmbeddedFull/4:], "")
			v.Full = head + fmt.Sprintf("\n… %s not embedded: open the file …\n", humanBytes(int64(len(text)-len(head)-len(tail)))) + tail
		}
	}
	return v
}

// humanBytes prints a size for people: 512 B, 64.0 KiB, 10.0 MiB.
func humanBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}
