package report

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Requirement is one numbered requirement of the spec, as cited by
// findings, reasons and leniencies ("RUDP-40").
type Requirement struct {
	ID        string
	File      string // the spec file that defines it, e.g. "rudp.md"
	Level     string // "MUST", "SHOULD, tolerated", ... ("" when only the index has it)
	Text      string // the requirement in plain text
	Rationale string
}

// reqPrefixes start requirement ids (spec/REQUIREMENT-IDS.md): an
// uppercase word, a dash and a number, e.g. RUDP-40.
var reqPrefixes = []string{"HELLO-", "RUDP-", "MANIFEST-", "TRACE-"}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// reqIndexes finds the requirement ids in s as [start, end) pairs in
// order: what `\b(HELLO|RUDP|MANIFEST|TRACE)-[0-9]+\b` matches, by plain
// string search, because reports scan the reasons and findings of every
// cell of a run and a regexp made that a third of the rendering time.
func reqIndexes(s string) [][2]int {
	var out [][2]int
	for _, p := range reqPrefixes {
		for from := 0; ; {
			i := strings.Index(s[from:], p)
			if i < 0 {
				break
			}
			i += from
			j := i + len(p)
			k := j
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			from = j
			if k > j && (i == 0 || !isWordByte(s[i-1])) && (k == len(s) || !isWordByte(s[k])) {
				out = append(out, [2]int{i, k})
			}
		}
	}
	slices.SortFunc(out, func(a, b [2]int) int { return a[0] - b[0] })
	return out
}

// specFiles are read in this order; a later definition never replaces an
// earlier one, and the index only fills gaps.
var specFiles = []string{"hello.md", "rudp.md", "manifest.md", "trace.md"}

// LoadRequirements reads the requirement texts from the spec folder: each
// paragraph that starts with a bold id (**RUDP-40**) in the spec files,
// and the topic column of REQUIREMENT-IDS.md for ids whose text is not
// written yet. A missing folder or file gives fewer texts, never an error:
// reports then show the bare ids.
func LoadRequirements(specDir string) map[string]Requirement {
	out := map[string]Requirement{}
	if specDir == "" {
		return out
	}
	for _, name := range specFiles {
		b, err := os.ReadFile(filepath.Join(specDir, name))
		if err != nil {
			continue
		}
		for _, r := range parseRequirements(b) {
			if _, dup := out[r.ID]; !dup {
				r.File = name
				out[r.ID] = r
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(specDir, "REQUIREMENT-IDS.md")); err == nil {
		for id, topic := range parseIndex(b) {
			if _, ok := out[id]; !ok {
				out[id] = Requirement{ID: id, File: indexFile(id), Text: topic}
			}
		}
	}
	return out
}

func indexFile(id string) string {
	switch {
	case strings.HasPrefix(id, "HELLO-"):
		return "hello.md"
	case strings.HasPrefix(id, "RUDP-"):
		return "rudp.md"
	case strings.HasPrefix(id, "MANIFEST-"):
		return "manifest.md"
	}
	return "REQUIREMENT-IDS.md"
}

var (
	defRE   = regexp.MustCompile(`^\*\*((?:HELLO|RUDP|MANIFEST|TRACE)-[0-9]+)\*\*\s*(?:\*\(([^)]*)\)\*)?\s*(.*)$`)
	linkRE  = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	indexRE = regexp.MustCompile(`^\|\s*((?:HELLO|RUDP|MANIFEST|TRACE)-[0-9]+)\s*\|\s*(.*?)\s*\|\s*$`)
)

// parseRequirements splits a spec file into paragraphs and keeps those
// that define a requirement.
func parseRequirements(b []byte) []Requirement {
	var out []Requirement
	var para []string
	flush := func() {
		if len(para) == 0 {
			return
		}
		text := strings.Join(para, " ")
		para = para[:0]
		m := defRE.FindStringSubmatch(text)
		if m == nil {
			return
		}
		body := m[3]
		if i := strings.Index(body, "Tested by:"); i >= 0 {
			body = body[:i]
		}
		r := Requirement{ID: m[1], Level: m[2]}
		if i := strings.Index(body, "*Rationale:"); i >= 0 {
			r.Rationale = plain(strings.TrimSuffix(strings.TrimSpace(body[i+len("*Rationale:"):]), "*"))
			body = body[:i]
		}
		r.Text = plain(body)
		out = append(out, r)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || (strings.HasPrefix(line, "**") && defRE.MatchString(line)) {
			flush()
		}
		if line != "" {
			para = append(para, line)
		}
	}
	flush()
	return out
}

// plain strips the Markdown a requirement's text uses (emphasis, links)
// so it reads as text in a tooltip or a table.
func plain(s string) string {
	s = linkRE.ReplaceAllString(s, "$1")
	s = strings.ReplaceAll(s, "**", "")
	s = strings.ReplaceAll(s, "*", "")
	return strings.Join(strings.Fields(s), " ")
}

func parseIndex(b []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := indexRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			out[m[1]] = plain(strings.ReplaceAll(m[2], `\|`, "|"))
		}
	}
	return out
}

// Span is a piece of text that is either plain or a requirement id.
type Span struct {
	Text string
	Req  string // the id when this span is one
}

// splitReqs cuts text into spans so templates can link the ids without
// ever treating the text as markup.
func splitReqs(s string) []Span {
	var out []Span
	last := 0
	for _, m := range reqIndexes(s) {
		if m[0] > last {
			out = append(out, Span{Text: s[last:m[0]]})
		}
		out = append(out, Span{Text: s[m[0]:m[1]], Req: s[m[0]:m[1]]})
		last = m[1]
	}
	if last < len(s) {
		out = append(out, Span{Text: s[last:]})
	}
	return out
}

// citedReqs lists the requirement ids cited anywhere in the texts, sorted
// by prefix and number.
func citedReqs(texts ...string) []string {
	seen := map[string]bool{}
	scanned := map[string]bool{} // the same finding text recurs across cells
	for _, t := range texts {
		if scanned[t] {
			continue
		}
		scanned[t] = true
		for _, m := range reqIndexes(t) {
			seen[t[m[0]:m[1]]] = true
		}
	}
	var out []string
	for id := range seen {
		out = append(out, id)
	}
	slices.SortFunc(out, compareReqIDs)
	return out
}

func compareReqIDs(a, b string) int {
	pa, na := splitReqID(a)
	pb, nb := splitReqID(b)
	if pa != pb {
		return strings.Compare(pa, pb)
	}
	return na - nb
}

func splitReqID(id string) (string, int) {
	i := strings.LastIndexByte(id, '-')
	n := 0
	for _, c := range id[i+1:] {
		n = n*10 + int(c-'0')
		if n > 1e6 {
			break
		}
	}
	return id[:i], n
}

// FindSpecDir looks for the repository's spec/ folder from each start
// folder upwards: reports find the requirement texts when run from
// anywhere in the tree or on a results folder inside it.
func FindSpecDir(starts ...string) string {
	for _, s := range starts {
		dir, err := filepath.Abs(s)
		if err != nil {
			continue
		}
		for {
			cand := filepath.Join(dir, "spec")
			if _, err := os.Stat(filepath.Join(cand, "REQUIREMENT-IDS.md")); err == nil {
				return cand
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ""
}

// TextPart is a piece of spec text: code (between backticks) or prose.
type TextPart struct {
	Text string
	Code bool
}

// specParts splits spec text at its backticks, so pages show code as code.
func specParts(s string) []TextPart {
	var out []TextPart
	for i, part := range strings.Split(s, "`") {
		if part != "" {
			out = append(out, TextPart{Text: part, Code: i%2 == 1})
		}
	}
	return out
}
