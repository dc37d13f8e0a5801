package report

import (
	"strings"
)

// mdReplacer escapes the characters that make GitHub Markdown markup
// inline, and writes <, > and & as entities so no name or log line can
// become HTML. Line breaks become spaces: inline text stays on its line
// (and in its table cell).
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"|", `\|`, "~", `\~`, "!", `\!`, "#", `\#`, "$", `\$`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;",
	"\r\n", " ", "\n", " ", "\r", " ",
)

// mdText escapes text for inline use in Markdown, tables included.
func mdText(s string) string { return mdReplacer.Replace(s) }

// mdCode writes s as an inline code span, outside tables (where GitHub
// would split a cell at a |). A code span ends at a run of backticks as
// long as its fence, so the fence is longer than any run in s.
func mdCode(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || s == "" {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// mdBlock writes s as a fenced code block, with a fence no line of s can
// close.
func mdBlock(lang, s string) string {
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + lang + "\n" + strings.TrimRight(s, "\n") + "\n" + fence + "\n"
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// mdLink is a Markdown link with escaped text. Only http(s) and relative
// URLs are linked; anything else (javascript:, data:) is shown as text.
func mdLink(text, url string) string {
	if !safeURL(url) {
		return mdText(text)
	}
	url = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E", "|", "%7C").Replace(url)
	return "[" + mdText(text) + "](" + url + ")"
}

// safeURL accepts http, https and scheme-less relative URLs.
func safeURL(u string) bool {
	if u == "" || strings.ContainsAny(u, "\n\r\x00") {
		return false
	}
	lower := strings.ToLower(u)
	if strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://") {
		return true
	}
	i := strings.IndexAny(u, ":/?#")
	return i < 0 || u[i] != ':'
}

// mdSpec writes spec text, keeping its `code` spans as code.
func mdSpec(s string) string {
	var b strings.Builder
	for i, part := range strings.Split(s, "`") {
		switch {
		case i%2 == 1 && part != "":
			b.WriteString(mdCode(part))
		default:
			b.WriteString(mdText(part))
		}
	}
	return b.String()
}

// sentence ends text with a full stop unless it ends with punctuation, so
// that what follows it reads as a new sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?:;") {
		return s
	}
	return s + "."
}
