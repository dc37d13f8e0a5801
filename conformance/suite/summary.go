package suite

import (
	"fmt"
	"os/exec"
	"sort"
	"strings"

	"github.com/interop-suite/interop/conformance/results"
)

// Version names the suite's code: the git commit, marked dirty when the
// tree has changes, so merged shards can refuse to mix versions.
func Version(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty", "--abbrev=12").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// Summary is the few lines printed at the end of a run.
func Summary(r *results.Run) string {
	counts := map[results.Verdict]int{}
	outcomes := map[results.Outcome]int{}
	for _, x := range r.Results {
		counts[x.Verdict]++
		outcomes[x.Outcome]++
	}
	var parts []string
	for _, v := range []results.Verdict{results.Pass, results.Lenient, results.Fail, results.Unsupported, results.InfraError} {
		parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d cells: %s\n", len(r.Results), strings.Join(parts, ", "))
	fmt.Fprintf(&b, "unexpected: %d new failures, %d known failures now passing, %d infrastructure errors; %d known failures\n",
		outcomes[results.UnexpectedFail], outcomes[results.UnexpectedPass], outcomes[results.UnexpectedInfra], outcomes[results.KnownFailure])
	var bad []string
	for _, x := range r.Results {
		if x.Outcome.Unexpected() {
			bad = append(bad, fmt.Sprintf("  %s %s: %s", x.Verdict, x.ID, firstLine(x.Reason)))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		b.WriteString(strings.Join(bad, "\n") + "\n")
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
