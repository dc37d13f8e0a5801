package hello

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Verdict is the outcome of classifying one observed message.
type Verdict int

// Verdicts, from worst to best.
const (
	// Mismatch: the expected message is not there; Reason says why.
	Mismatch Verdict = iota
	// Lenient: the message is there and a conforming receiver accepts it,
	// but it deviates from the strict form; Leniencies name how.
	Lenient
	// Strict: exactly the strict form.
	Strict
)

var verdictNames = [...]string{Mismatch: "mismatch", Lenient: "lenient", Strict: "strict"}

func (v Verdict) String() string {
	if v >= 0 && int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// MarshalText encodes v as its name, for reports and spec/vectors/hello.json.
func (v Verdict) MarshalText() ([]byte, error) {
	if v < 0 || int(v) >= len(verdictNames) {
		return nil, fmt.Errorf("invalid verdict %d", int(v))
	}
	return []byte(verdictNames[v]), nil
}

// UnmarshalText decodes a verdict name.
func (v *Verdict) UnmarshalText(b []byte) error {
	for i, name := range verdictNames {
		if string(b) == name {
			*v = Verdict(i)
			return nil
		}
	}
	return fmt.Errorf("unknown verdict %q", b)
}

// Leniency names one way a message deviates from the strict form while still
// working with a conforming peer. The values are the texts reports show.
type Leniency string

// Leniencies, in the order Classification lists them.
const (
	// On the wire (ClassifyWire):
	NoTrailingNewline Leniency = "no trailing newline"           // HELLO-1
	CRLFLineEnding    Leniency = "CRLF line ending"              // HELLO-15
	ExtraWhitespace   Leniency = "extra whitespace"              // HELLO-15
	NULBytes          Leniency = "NUL bytes"                     // HELLO-15
	ExtraLines        Leniency = "extra lines after the message" // HELLO-1
	// On stdout (ClassifyOutput):
	OtherTextOnLine Leniency = "other text on the line" // HELLO-7, HELLO-11, HELLO-21
	// From the suite's other checks (spec/hello.md, "What the suite checks
	// in each cell"); named here so that reports use one spelling:
	NeedsIP             Leniency = "needs an IP address"                       // HELLO-5
	EndsReplyAtClose    Leniency = "ends the reply only at the close"          // HELLO-6
	EndsReplyLate       Leniency = "ends the reply only after a long pause"    // HELLO-2
	GivesUpLate         Leniency = "gives up late"                             // HELLO-8
	KeepsConnectionOpen Leniency = "keeps the connection open after the reply" // HELLO-12
	ResetAfterReply     Leniency = "connection reset after the reply"          // HELLO-12
	ExitsAfterOneClient Leniency = "server exits after one client"             // HELLO-13
	StopsListening      Leniency = "server stops listening after one client"   // HELLO-13
	SilentClientBlocks  Leniency = "a silent client blocks other clients"      // HELLO-14
)

// Classification is the verdict on one observed message.
type Classification struct {
	Verdict Verdict `json:"verdict"`
	// Leniencies is non-empty exactly when Verdict is Lenient.
	Leniencies []Leniency `json:"leniencies,omitempty"`
	// Reason is non-empty exactly when Verdict is Mismatch: what the
	// student can fix, e.g. `wrong language name: got "Hello in golang",
	// expected "Hello in Go"`.
	Reason string `json:"reason,omitempty"`
}

func (c Classification) String() string {
	switch c.Verdict {
	case Lenient:
		s := make([]string, len(c.Leniencies))
		for i, l := range c.Leniencies {
			s[i] = string(l)
		}
		return "lenient (" + strings.Join(s, ", ") + ")"
	case Mismatch:
		return "mismatch: " + c.Reason
	}
	return c.Verdict.String()
}

// ClassifyWire judges raw, every byte one side sent on one connection (up to
// its close, or up to when the peer stopped reading), against expected, the
// message's text without '\n' (e.g. FormatHello(lang) without its newline).
// An expected text that is blank or holds a '\n' is a Mismatch whatever raw
// is.
//
//   - Strict: raw is exactly expected + "\n" (HELLO-1, HELLO-3, HELLO-4).
//   - Lenient: the first non-blank line, with runs of whitespace taken as one
//     space, is expected, and a conforming receiver gets the message
//     (HELLO-2, HELLO-15); Leniencies name every deviation.
//   - Mismatch otherwise, e.g. wrong text, wrong language name, nothing sent.
func ClassifyWire(expected string, raw []byte) Classification {
	if reason := badExpected(expected); reason != "" {
		return mismatch(reason)
	}
	s := string(raw)
	if s == expected+"\n" {
		return Classification{Verdict: Strict}
	}
	lines := strings.SplitAfter(s, "\n")
	first := -1
	for i, l := range lines {
		if normalize(l) != "" {
			first = i
			break
		}
	}
	if first < 0 {
		if len(raw) == 0 {
			return mismatch("nothing was sent")
		}
		return mismatch(fmt.Sprintf("only whitespace was sent (%s), expected %s", quote(s), quote(expected)))
	}
	line := lines[first]
	if got, want := normalize(line), normalize(expected); got != want {
		return mismatch(differs(strings.TrimSuffix(line, "\n"), got, want))
	}

	var (
		noNewline = !strings.HasSuffix(line, "\n")
		body      = strings.TrimSuffix(line, "\n")
		crlf      = !noNewline && strings.HasSuffix(body, "\r")
		before    = strings.Join(lines[:first], "")
		after     = strings.Join(lines[first+1:], "")
	)
	if crlf {
		body = strings.TrimSuffix(body, "\r")
	}
	body = strings.ReplaceAll(body, "\x00", "")
	extraLines := normalize(after) != ""
	space := body != expected || hasSpace(before) || (!extraLines && hasSpace(after))

	var l []Leniency
	add := func(cond bool, x Leniency) {
		if cond {
			l = append(l, x)
		}
	}
	add(noNewline, NoTrailingNewline)
	add(crlf, CRLFLineEnding)
	add(space, ExtraWhitespace)
	add(strings.IndexByte(s, 0) >= 0, NULBytes)
	add(extraLines, ExtraLines)
	return Classification{Verdict: Lenient, Leniencies: l}
}

// ClassifyOutput judges out, everything a program printed on stdout, for the
// line expected (e.g. the reply a client must print, HELLO-7; the message a
// server must print, HELLO-11; the client IP a challenge server must print,
// HELLO-21). Whitespace and NUL bytes on stdout never count against the
// program: they may be the peer's (HELLO-15), so lines are compared with
// runs of them taken as one space.
//
//   - Strict: some line of out is expected.
//   - Lenient (OtherTextOnLine): some line contains expected as a whole
//     (e.g. `Server said: Goodbye in Go`), not as part of a longer word:
//     "Hello in C" is not found in "Hello in C++", nor "10.0.0.2" in
//     "10.0.0.23".
//   - Mismatch otherwise, and whatever out is when expected is blank or
//     holds a '\n'.
func ClassifyOutput(expected string, out []byte) Classification {
	if reason := badExpected(expected); reason != "" {
		return mismatch(reason)
	}
	want := normalize(expected)
	lines := strings.Split(string(out), "\n")
	m := newWholeMatcher(want)
	contained := false
	for _, line := range lines {
		got := normalize(line)
		if got == want {
			return Classification{Verdict: Strict}
		}
		contained = contained || m.in(got)
	}
	if contained {
		return Classification{Verdict: Lenient, Leniencies: []Leniency{OtherTextOnLine}}
	}
	if normalize(string(out)) == "" {
		return mismatch(fmt.Sprintf("nothing was printed on stdout, expected %s", quote(want)))
	}
	// Point at the first line that comes close, else at the last line.
	related := relatedTo(want)
	var last string
	for _, line := range lines {
		got := normalize(line)
		if got == "" {
			continue
		}
		if related(got) {
			return mismatch("stdout has no line with " + quote(want) + "; closest: " + differs(line, got, want))
		}
		last = line
	}
	return mismatch(fmt.Sprintf("stdout has no line with %s; last line printed: %s", quote(want), quote(last)))
}

// badExpected says why expected cannot be a message's text, or returns "".
// A message is one line (HELLO-1); the suite builds expected texts from
// manifest languages, which hold no newline (MANIFEST-3), so this only
// catches a caller's mistake, the same way in both classifiers.
func badExpected(expected string) string {
	switch {
	case strings.ContainsRune(expected, '\n'):
		return "cannot classify: the expected text " + quote(expected) + " spans more than one line"
	case normalize(expected) == "":
		return "cannot classify: the expected text is blank"
	}
	return ""
}

func mismatch(reason string) Classification {
	return Classification{Verdict: Mismatch, Reason: reason}
}

// differs explains how got (normalized; shown as display, the text as
// received) differs from want, in words a student can act on.
func differs(display, got, want string) string {
	s := fmt.Sprintf("got %s, expected %s", quote(display), quote(want))
	lang := false
	for _, p := range []string{"Hello in ", "Goodbye in "} {
		lang = lang || (strings.HasPrefix(want, p) && hasPrefixFold(got, p))
	}
	const stream = " (TCP is a byte stream: read until '\\n', the close or an idle gap, not just once)"
	start := got != "" && strings.HasPrefix(want, got)
	switch {
	case strings.EqualFold(got, want):
		return "letter case differs: " + s
	case !utf8.ValidString(got):
		return "not valid UTF-8: " + s
	case start && lang: // "Hello in C" for "Hello in C++"
		return "wrong language name, or only the start of the message: " + s + stream
	case start:
		return "only the start of the message: " + s + stream
	case lang:
		return "wrong language name: " + s
	}
	return s
}

// relatedTo returns a test of whether a line looks like an attempt at want:
// the same text in another letter case, its start (a receiver that printed
// one read), or the same "Hello in"/"Goodbye in" phrase. The work on want is
// done once, not per line.
func relatedTo(want string) func(got string) bool {
	lower := strings.ToLower(want)
	phrase := ""
	for _, p := range []string{"hello in ", "goodbye in "} {
		if strings.HasPrefix(lower, p) {
			phrase = p
		}
	}
	return func(got string) bool {
		got = strings.ToLower(got)
		return strings.Contains(got, lower) || strings.HasPrefix(lower, got) ||
			(phrase != "" && strings.Contains(got, phrase))
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func hasSpace(s string) bool { return strings.IndexFunc(s, unicode.IsSpace) >= 0 }

// wholeMatcher finds want in a line not as part of a longer word: the rune
// before it is not a letter, digit or '_', and the rune after it could not
// continue a language name or an address (letter, digit, '_', '+', '#', '-',
// or '.' followed by a letter or digit).
//
// It visits every occurrence, overlapping ones included, with the
// Knuth-Morris-Pratt algorithm, in time linear in the line: output comes from
// programs under test and may be long, and retrying strings.Index after each
// occurrence that fails the word test is quadratic on text like "xxxx...".
type wholeMatcher struct {
	want   string
	border []int // border[i]: length of the longest proper border of want[:i+1]
}

func newWholeMatcher(want string) wholeMatcher {
	border := make([]int, len(want))
	for i, k := 1, 0; i < len(want); i++ {
		for k > 0 && want[i] != want[k] {
			k = border[k-1]
		}
		if want[i] == want[k] {
			k++
		}
		border[i] = k
	}
	return wholeMatcher{want, border}
}

// in reports whether s contains m.want as a whole. m.want must not be empty.
func (m wholeMatcher) in(s string) bool {
	for i, k := 0, 0; i < len(s); i++ {
		for k > 0 && s[i] != m.want[k] {
			k = m.border[k-1]
		}
		if s[i] == m.want[k] {
			k++
		}
		if k == len(m.want) {
			start, end := i+1-k, i+1
			if !wordBefore(s[:start]) && !wordAfter(s[end:]) {
				return true
			}
			k = m.border[k-1]
		}
	}
	return false
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func wordBefore(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isWordRune(r)
}

func wordAfter(s string) bool {
	if s == "" {
		return false
	}
	r, size := utf8.DecodeRuneInString(s)
	switch {
	case isWordRune(r) || r == '+' || r == '#' || r == '-':
		return true
	case r == '.':
		next, _ := utf8.DecodeRuneInString(s[size:])
		return s[size:] != "" && isWordRune(next)
	}
	return false
}

// quote returns s as a Go-quoted string of at most about 80 bytes, cut with
// its length noted, so that a long message, or one whose bytes all need
// escapes, keeps a report readable.
func quote(s string) string {
	const max = 80 // bytes of quoted text
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		w := len(`\xff`) // an invalid byte
		if r != utf8.RuneError || size != 1 {
			w = len(strconv.Quote(s[i:i+size])) - len(`""`)
		}
		if n+w > max {
			return fmt.Sprintf("%q... (%d bytes)", s[:i], len(s))
		}
		n += w
		i += size
	}
	return strconv.Quote(s)
}
