package suite

import (
	"strings"
	"testing"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/netsim"
)

// A probe cell's id (every failing cell prints it as INTEROP_CELL) reads
// back into the same cell.
func TestParseProbeCellID(t *testing.T) {
	id := "hello/python-x-reference/probe-refused/seed-1"
	cells, err := ParseCellID(id)
	if err != nil {
		t.Fatal(err)
	}
	c := cells[0]
	if p, ok := c.Probe(); !ok || p.Name != "refused" || c.ID() != id || c.Client != "python" || c.Server != "reference" {
		t.Fatalf("%s parsed as %+v (probe %v)", id, c, ok)
	}
}

// Probe cells name their scenario "probe-NAME": no simulator scenario may
// look like one.
func TestNoScenarioLooksLikeAProbe(t *testing.T) {
	for _, s := range netsim.Scenarios() {
		if strings.HasPrefix(s.Name, cases.ProbePrefix) {
			t.Errorf("simulator scenario %q starts with %q, the prefix of Hello probe cells", s.Name, cases.ProbePrefix)
		}
	}
}
