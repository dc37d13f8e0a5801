package report

import (
	"cmp"
	"math"
	"slices"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
)

// Leaderboard compares transfer times under impaired networks with the
// reference pair on the same scenario and seed. The same seed makes the
// simulator's decisions the same for the same packets, so the ratio
// measures the implementations, not the dice.
type Leaderboard struct {
	Columns []MatrixKey // impaired RUDP matrices with a reference pair
	Rows    []*PerfRow
}

// PerfRow is one pair across the impaired scenarios.
type PerfRow struct {
	Client, Server string
	Cells          []*PerfCell // aligned with Leaderboard.Columns; nil: not run
	Geo            float64     // geometric mean of the cells' ratios; 0: none
	N              int         // cells with a ratio
}

// PerfCell is one group's times against the reference.
type PerfCell struct {
	Group    *Group
	Ratio    float64 // geometric mean over seeds of time / reference time; 0: none
	Measured int     // seeds with a ratio
	MeanMS   float64 // mean transfer time of the measured seeds
}

// refKey identifies the reference result a result is compared with.
type refKey struct {
	key  MatrixKey
	seed int64
}

// referenceResults indexes the reference-x-reference RUDP results.
func referenceResults(groups []*Group) map[refKey]*results.Result {
	out := map[refKey]*results.Result{}
	for _, g := range groups {
		if g.Key.Protocol != string(cases.RUDP) || g.Client != registry.ReferenceName || g.Server != registry.ReferenceName {
			continue
		}
		for _, r := range g.Results {
			out[refKey{g.Key, r.Cell.Seed}] = r
		}
	}
	return out
}

// transferMS is the transfer time of a passed RUDP result, or 0.
func transferMS(r *results.Result) float64 {
	if r == nil || !r.Verdict.Passed() || r.Transfer == nil || r.Transfer.DurationMS <= 0 {
		return 0
	}
	return r.Transfer.DurationMS
}

// RelativeTime is r's transfer time over the reference's on the same seed,
// or 0 when either did not pass or has no time.
func relativeTime(r, ref *results.Result) float64 {
	a, b := transferMS(r), transferMS(ref)
	if a == 0 || b == 0 {
		return 0
	}
	return a / b
}

func buildLeaderboard(groups []*Group, refs map[refKey]*results.Result) *Leaderboard {
	cols := map[MatrixKey]bool{}
	for k := range refs {
		if k.key.Scenario != "clean" {
			cols[k.key] = true
		}
	}
	lb := &Leaderboard{}
	for k := range cols {
		lb.Columns = append(lb.Columns, k)
	}
	slices.SortFunc(lb.Columns, compareKeys)
	colIndex := map[MatrixKey]int{}
	for i, k := range lb.Columns {
		colIndex[k] = i
	}
	rows := map[[2]string]*PerfRow{}
	for _, g := range groups {
		ci, ok := colIndex[g.Key]
		if !ok || g.Class == ClassUnsupported {
			continue
		}
		k := [2]string{g.Client, g.Server}
		row := rows[k]
		if row == nil {
			row = &PerfRow{Client: g.Client, Server: g.Server, Cells: make([]*PerfCell, len(lb.Columns))}
			rows[k] = row
			lb.Rows = append(lb.Rows, row)
		}
		cell := &PerfCell{Group: g}
		logSum, sum := 0.0, 0.0
		for _, r := range g.Results {
			if q := relativeTime(r, refs[refKey{g.Key, r.Cell.Seed}]); q > 0 {
				cell.Measured++
				logSum += math.Log(q)
				sum += r.Transfer.DurationMS
			}
		}
		if cell.Measured > 0 {
			cell.Ratio = math.Exp(logSum / float64(cell.Measured))
			cell.MeanMS = sum / float64(cell.Measured)
		}
		row.Cells[ci] = cell
	}
	for _, row := range lb.Rows {
		logSum := 0.0
		for _, c := range row.Cells {
			if c != nil && c.Ratio > 0 {
				row.N++
				logSum += math.Log(c.Ratio)
			}
		}
		if row.N > 0 {
			row.Geo = math.Exp(logSum / float64(row.N))
		}
	}
	slices.SortFunc(lb.Rows, func(a, b *PerfRow) int {
		switch {
		case a.N > 0 && b.N == 0:
			return -1
		case a.N == 0 && b.N > 0:
			return 1
		}
		return cmp.Or(cmp.Compare(a.Geo, b.Geo), compareImpls(a.Client, b.Client), compareImpls(a.Server, b.Server))
	})
	return lb
}
