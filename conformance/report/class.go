package report

import "github.com/interop-suite/interop/conformance/results"

// Class is what one matrix cell shows: a verdict seen through the
// expectations file. A group of seeds shows its worst class.
type Class int

// Classes, from best to worst. The order is the severity used to pick a
// group's class and to decide which cells get the report's space first.
const (
	ClassPass           Class = iota // strict pass
	ClassLenient                     // pass with named leniencies
	ClassUnsupported                 // role or feature not declared; never a failure
	ClassKnownFailure                // failed as the expectations file says
	ClassUnexpectedPass              // listed as failing but passes: tighten the expectations
	ClassUnexpectedFail              // a new failure: fails the run
	ClassInfra                       // the suite or Docker failed: fails the run
	numClasses
)

// classInfo is how a class looks in each format. Emoji render well in
// GitHub's Markdown; the HTML uses plain Unicode glyphs that every font
// has, with colours, because headless browsers often lack emoji fonts.
type classInfo struct {
	Key   string // CSS class and filter value
	Label string // legend text
	Emoji string // report.md
	Glyph string // report.html
	Help  string // what to do about it
}

var classes = [numClasses]classInfo{
	ClassPass:           {"pass", "strict pass", "✅", "✓", "nothing to do"},
	ClassLenient:        {"lenient", "lenient pass", "☑️", "≈", "works; the details name what to tighten"},
	ClassUnsupported:    {"unsupported", "unsupported", "➖", "–", "the manifest does not declare the role or feature"},
	ClassKnownFailure:   {"known", "known failure", "🐞", "✗", "fails as conformance/expectations.yaml says"},
	ClassUnexpectedPass: {"fixed", "known failure now passing", "❗", "!", "passes but is listed as failing: remove it from the expectations file"},
	ClassUnexpectedFail: {"fail", "unexpected failure", "❌", "✗", "a new failure: read the reason"},
	ClassInfra:          {"infra", "infrastructure error", "💥", "⚠", "the suite or Docker failed, not the implementations: rerun"},
}

func (c Class) info() classInfo { return classes[c] }

// Key names the class in CSS classes and filters ("fail", "known", ...).
func (c Class) Key() string { return c.info().Key }

// Label is the class in words ("unexpected failure").
func (c Class) Label() string { return c.info().Label }

// Emoji is the symbol report.md shows.
func (c Class) Emoji() string { return c.info().Emoji }

// Glyph is the symbol report.html shows.
func (c Class) Glyph() string { return c.info().Glyph }

// Help says what a person should do about a cell of this class.
func (c Class) Help() string { return c.info().Help }

// Passed is true for the classes whose verdict is a pass.
func (c Class) Passed() bool {
	return c == ClassPass || c == ClassLenient || c == ClassUnexpectedPass
}

// Failed is true for the classes whose verdict is a failure or an error.
func (c Class) Failed() bool {
	return c == ClassKnownFailure || c == ClassUnexpectedFail || c == ClassInfra
}

// AllClasses lists the classes in legend order.
func AllClasses() []Class {
	out := make([]Class, numClasses)
	for i := range out {
		out[i] = Class(i)
	}
	return out
}

// ClassOf classifies one result. The outcome decides when it says
// something unexpected happened; otherwise the verdict does. A failure
// with no outcome (results written without an expectations file) counts
// as unexpected: nobody said it was known.
func ClassOf(r *results.Result) Class {
	switch r.Outcome {
	case results.UnexpectedInfra:
		return ClassInfra
	case results.UnexpectedFail:
		return ClassUnexpectedFail
	case results.UnexpectedPass:
		return ClassUnexpectedPass
	case results.KnownFailure:
		return ClassKnownFailure
	}
	switch r.Verdict {
	case results.Pass:
		return ClassPass
	case results.Lenient:
		return ClassLenient
	case results.Unsupported:
		return ClassUnsupported
	case results.InfraError:
		return ClassInfra
	}
	return ClassUnexpectedFail
}
