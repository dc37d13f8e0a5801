package report

import (
	"regexp"
	"slices"
	"testing"
)

// reqIndexes replaces this regexp for speed; they must agree.
var reqRE = regexp.MustCompile(`\b(?:HELLO|RUDP|MANIFEST|TRACE)-[0-9]+\b`)

func checkReqIndexes(t *testing.T, s string) {
	var want [][2]int
	for _, m := range reqRE.FindAllStringIndex(s, -1) {
		want = append(want, [2]int{m[0], m[1]})
	}
	if got := reqIndexes(s); !slices.Equal(got, want) {
		t.Errorf("%q: reqIndexes %v, regexp %v", s, got, want)
	}
}

func TestReqIndexes(t *testing.T) {
	for _, s := range []string{
		"", "RUDP-40", "(RUDP-40, RUDP-12)", "HELLO-3/4", "xRUDP-4", "RUDP-4x", "RUDP-", "RUDP-40_", "_HELLO-1",
		"MANIFEST-7: TRACE-2 and HELLO-13.", "RUDP-1RUDP-2", "é RUDP-9 é", "rudp-40", "HELLO-1HELLO-2 RUDP-3",
	} {
		checkReqIndexes(t, s)
	}
}

func FuzzReqIndexes(f *testing.F) {
	f.Add("wire checker: window (RUDP-40): 9 packets (RUDP-40, RUDP-12); HELLO-3/4")
	f.Fuzz(checkReqIndexes)
}
