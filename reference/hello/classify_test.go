package hello

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

type vector struct {
	Name           string     `json:"name"`
	Check          string     `json:"check"`
	Expected       string     `json:"expected"`
	Raw            *string    `json:"raw"`
	RawHex         string     `json:"raw_hex"`
	Verdict        Verdict    `json:"verdict"`
	Leniencies     []Leniency `json:"leniencies"`
	ReasonContains string     `json:"reason_contains"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("../../spec/vectors/hello.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Description   string     `json:"description"`
		LeniencyOrder []Leniency `json:"leniency_order"`
		Vectors       []vector   `json:"vectors"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("spec/vectors/hello.json: %v", err)
	}
	if !slices.Equal(file.LeniencyOrder, allLeniencies) {
		t.Errorf("leniency_order %q, want the package's %q", file.LeniencyOrder, allLeniencies)
	}
	return file.Vectors
}

// allLeniencies are the ones the classifiers report, in canonical order.
var allLeniencies = []Leniency{NoTrailingNewline, CRLFLineEnding, ExtraWhitespace, NULBytes, ExtraLines, OtherTextOnLine}

// TestSpecLeniencyTable: spec/hello.md lists every leniency, spelled and
// ordered as here.
func TestSpecLeniencyTable(t *testing.T) {
	t.Parallel()
	want := append(slices.Clone(allLeniencies),
		NeedsIP, EndsReplyAtClose, EndsReplyLate, GivesUpLate, KeepsConnectionOpen, ResetAfterReply, ExitsAfterOneClient, StopsListening, SilentClientBlocks)
	b, err := os.ReadFile("../../spec/hello.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	i := slices.IndexFunc(lines, func(l string) bool {
		return strings.TrimSpace(l) == "| leniency | requirement | example |"
	})
	if i < 0 {
		t.Fatal("spec/hello.md: leniency table not found")
	}
	var got []Leniency
	for _, row := range lines[i+2:] {
		cells := strings.Split(strings.TrimSpace(row), "|")
		if len(cells) < 3 || cells[0] != "" {
			break
		}
		got = append(got, Leniency(strings.TrimSpace(cells[1])))
	}
	if !slices.Equal(got, want) {
		t.Errorf("spec/hello.md leniencies\n%q\nwant\n%q", got, want)
	}
}

func (v vector) raw(t testing.TB) []byte {
	switch {
	case v.Raw != nil && v.RawHex == "":
		return []byte(*v.Raw)
	case v.Raw == nil && v.RawHex != "":
		b, err := hex.DecodeString(v.RawHex)
		if err != nil {
			t.Fatalf("%s: raw_hex: %v", v.Name, err)
		}
		return b
	}
	t.Fatalf("%s: want exactly one of raw and raw_hex", v.Name)
	return nil
}

// TestVectors runs spec/vectors/hello.json (HELLO-1, HELLO-3, HELLO-4,
// HELLO-7, HELLO-11, HELLO-15, HELLO-21).
func TestVectors(t *testing.T) {
	t.Parallel()
	vs := loadVectors(t)
	if len(vs) < 40 {
		t.Fatalf("only %d vectors", len(vs))
	}
	names := map[string]bool{}
	for _, v := range vs {
		if names[v.Name] {
			t.Errorf("duplicate vector name %q", v.Name)
		}
		names[v.Name] = true
		t.Run(v.Name, func(t *testing.T) {
			var got Classification
			switch v.Check {
			case "wire":
				got = ClassifyWire(v.Expected, v.raw(t))
			case "output":
				got = ClassifyOutput(v.Expected, v.raw(t))
			default:
				t.Fatalf("unknown check %q", v.Check)
			}
			if got.Verdict != v.Verdict || !slices.Equal(got.Leniencies, v.Leniencies) {
				t.Errorf("%s(%q, %q) = %v; want %v %q", v.Check, v.Expected, v.raw(t), got, v.Verdict, v.Leniencies)
			}
			if (v.Verdict == Mismatch) != (v.ReasonContains != "") {
				t.Errorf("vector: reason_contains must be given exactly for mismatches")
			}
			if !strings.Contains(got.Reason, v.ReasonContains) {
				t.Errorf("reason %q does not contain %q", got.Reason, v.ReasonContains)
			}
			checkInvariants(t, v.Expected, got)
		})
	}
}

// checkInvariants holds for every classification.
func checkInvariants(t testing.TB, expected string, c Classification) {
	t.Helper()
	switch c.Verdict {
	case Strict:
		if len(c.Leniencies) != 0 || c.Reason != "" {
			t.Errorf("strict with leniencies or reason: %+v", c)
		}
	case Lenient:
		if len(c.Leniencies) == 0 || c.Reason != "" {
			t.Errorf("lenient without leniencies, or with a reason: %+v", c)
		}
		// Each leniency at most once, in canonical order.
		last := -1
		for _, l := range c.Leniencies {
			i := slices.Index(allLeniencies, l)
			if i <= last {
				t.Errorf("leniencies %q out of order or unknown", c.Leniencies)
			}
			last = i
		}
	case Mismatch:
		if len(c.Leniencies) != 0 || c.Reason == "" {
			t.Errorf("mismatch without reason, or with leniencies: %+v", c)
		}
	default:
		t.Errorf("invalid verdict %d", c.Verdict)
	}
}

func TestClassifyWireStrictOnlyExact(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"Go", "C++", "C#", "Python (Jupyter)", "Objective C"} {
		for _, msg := range []string{FormatHello(lang), FormatGoodbye(lang), ChallengeReply("Hello in Rust", lang)} {
			exp := strings.TrimSuffix(msg, "\n")
			if c := ClassifyWire(exp, []byte(msg)); c.Verdict != Strict {
				t.Errorf("ClassifyWire(%q, %q) = %v, want strict", exp, msg, c)
			}
			if c := ClassifyOutput(exp, []byte(msg)); c.Verdict != Strict {
				t.Errorf("ClassifyOutput(%q, %q) = %v, want strict", exp, msg, c)
			}
		}
	}
}

func TestVerdictText(t *testing.T) {
	t.Parallel()
	for _, v := range []Verdict{Mismatch, Lenient, Strict} {
		b, err := v.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Verdict
		if err := back.UnmarshalText(b); err != nil || back != v {
			t.Errorf("round trip of %v: %v, %v", v, back, err)
		}
	}
	if _, err := Verdict(7).MarshalText(); err == nil {
		t.Error("MarshalText of an invalid verdict succeeded")
	}
	var v Verdict
	if err := v.UnmarshalText([]byte("pass")); err == nil {
		t.Error("UnmarshalText(pass) succeeded")
	}
	b, err := json.Marshal(Classification{Verdict: Lenient, Leniencies: []Leniency{CRLFLineEnding}})
	if want := `{"verdict":"lenient","leniencies":["CRLF line ending"]}`; err != nil || string(b) != want {
		t.Errorf("json = %s, %v; want %s", b, err, want)
	}
}

// TestClassifyBadExpected: an expected text that is blank or spans lines is
// refused by both classifiers alike. Found by FuzzClassify
// (testdata/fuzz/FuzzClassify/7c26f45c8edf1346): ClassifyWire called
// "Goodbye \nust from Go\n" strict for that expected text, while
// ClassifyOutput, which works line by line, could never find it.
func TestClassifyBadExpected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ expected, raw, reason string }{
		{"", "\n", "is blank"},
		{" \t", " \t\n", "is blank"},
		{"Goodbye \nust from Go", "Goodbye \nust from Go\n", "spans more than one line"},
	} {
		for name, c := range map[string]Classification{
			"ClassifyWire":   ClassifyWire(tc.expected, []byte(tc.raw)),
			"ClassifyOutput": ClassifyOutput(tc.expected, []byte(tc.raw)),
		} {
			if c.Verdict != Mismatch || !strings.Contains(c.Reason, tc.reason) {
				t.Errorf("%s(%q, %q) = %v; want a mismatch that %s", name, tc.expected, tc.raw, c, tc.reason)
			}
		}
	}
}

// TestReasonsStayShort: a reason quotes at most about 80 bytes of each text,
// counted after escaping. Found by FuzzClassify
// (testdata/fuzz/FuzzClassify/042b17e6bd16dbf9): the text was cut at 80
// bytes before escaping, and bytes that need escapes made a 1 KB reason.
func TestReasonsStayShort(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		strings.Repeat("é", 1000),
		strings.Repeat("\x01", 1000),
		strings.Repeat("\xff", 1000),
		strings.Repeat("\U000e0000", 1000), // unprintable: escaped as \U000e0000
	} {
		c := ClassifyWire("Hello in Go", []byte(raw+"\n"))
		if c.Verdict != Mismatch || len(c.Reason) > 200 || !strings.Contains(c.Reason, fmt.Sprintf("(%d bytes)", len(raw))) {
			t.Errorf("reason for %d bytes of %q: %d bytes, %q", len(raw), raw[:4], len(c.Reason), c.Reason)
		}
		o := ClassifyOutput("Goodbye in "+raw, []byte("Goodbye in "+raw[:len(raw)/2]+"\n"))
		if o.Verdict != Mismatch || len(o.Reason) > 600 {
			t.Errorf("output reason: %d bytes, %q", len(o.Reason), o.Reason)
		}
	}
	if got := quote(strings.Repeat("a", 80)); got != `"`+strings.Repeat("a", 80)+`"` {
		t.Errorf("80 bytes were cut: %s", got)
	}
}

// TestClassifyLinearTime: output comes from programs under test and can be
// large; classifying it must not be quadratic. Found by FuzzReadMessage: a
// worker stalled on a long periodic message, which the earlier
// strings.Index-retry search and per-line lowering of the expected text
// took quadratic time on. Each case is about 1 MB: linear work takes
// milliseconds, quadratic work hours, so the generous bound cannot flake.
func TestClassifyLinearTime(t *testing.T) {
	long := strings.Repeat("x", 32<<10)
	tests := []struct {
		name, want, out string
	}{
		{"periodic text, word test fails at every offset", long, "a " + strings.Repeat("x", 1<<20)},
		{"many lines, long expected text", "Hello in " + long, strings.Repeat("a\n", 1<<19)},
		{"many near misses", "Hello in " + long, strings.Repeat("hello in y\n", 1<<16)},
	}
	for _, tc := range tests {
		done := make(chan Classification, 1)
		go func() { done <- ClassifyOutput(tc.want, []byte(tc.out)) }()
		select {
		case c := <-done:
			if c.Verdict != Mismatch {
				t.Errorf("%s: %v", tc.name, c)
			}
		case <-time.After(patience):
			t.Fatalf("%s: not done after %v", tc.name, patience)
		}
	}
}
