// Command bench runs the conformance matrix of the implementations present
// and prints where the time goes: total wall time, and per cell the wall
// time against the time the programs themselves needed (the rest is the
// suite's overhead: containers, readiness, cleanup). It prints ratios
// against the suite's targets rather than asserting them, because these
// machines are shared and noisy.
//
//	go run ./conformance/cmd/bench -depth smoke -procs 4
//	go run ./conformance/cmd/bench -results results/   # analyse an existing run
//	go run ./conformance/cmd/bench -senders -seeds 5   # sender speed table
//
// -senders runs every implementation's sender against the reference
// receiver at loss-10 with 1 MiB (the course's yardstick, issues 7 and 8)
// one cell at a time, and prints each sender's transfer time relative to
// the reference sender's on the same seeds (the simulator then drops the
// same datagrams of the same sequence, so the ratio measures the senders).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	reportpkg "github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/results"
	"github.com/interop-suite/interop/conformance/suite"
)

func main() {
	depth := flag.String("depth", "smoke", "matrix depth to run")
	procs := flag.Int("procs", 4, "Ginkgo processes (cells at once)")
	executor := flag.String("executor", "exec", "exec or containers")
	existing := flag.String("results", "", "analyse this results folder instead of running")
	senders := flag.Bool("senders", false, "run and print the sender speed table (loss-10, 1 MiB, against the reference receiver)")
	seeds := flag.Int("seeds", 5, "with -senders: seeds per sender")
	timeout := flag.Duration("timeout", 4*time.Hour, "Ginkgo's suite timeout (its default of 1 h would cut a full matrix short)")
	flag.Parse()

	dir := *existing
	var wall time.Duration
	var machine *machineUse
	if dir == "" {
		var err error
		dir, err = os.MkdirTemp("", "interop-bench-")
		if err != nil {
			fail(err)
		}
		args := []string{"tool", "ginkgo", "-p", fmt.Sprintf("--procs=%d", *procs), "--timeout=" + timeout.String()}
		env := append(os.Environ(), "INTEROP_DEPTH="+*depth, "INTEROP_RESULTS="+dir, "INTEROP_EXECUTOR="+*executor, "TESTCONTAINERS_RYUK_DISABLED=true")
		if *senders {
			// One cell at a time: senders must not compete for the CPU.
			args = []string{"tool", "ginkgo", "--procs=1", "--timeout=" + timeout.String(), "--label-filter=proto:rudp && server:reference && net:loss-10 && !feature:sack"}
			env = append(env, "INTEROP_DEPTH=standard", "INTEROP_SCENARIOS=loss-10", fmt.Sprintf("INTEROP_SEEDS=%d", *seeds))
		}
		cmd := exec.Command("go", append(args, "./conformance")...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		start := time.Now()
		before, statErr := readMachineCPU()
		runErr := cmd.Run()
		wall = time.Since(start)
		if after, err := readMachineCPU(); err == nil && statErr == nil {
			machine = after.since(before)
		}
		if runErr != nil {
			fmt.Fprintf(os.Stderr, "bench: the run reported unexpected results (%v); timing it anyway\n", runErr)
		}
	}
	run, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil {
		fail(err)
	}
	if *senders {
		if err := senderTable(run); err != nil {
			fail(err)
		}
		return
	}
	incomplete := false
	if !*senders && *existing == "" {
		// An interrupted run writes the cells it finished: the targets'
		// ratios only mean something for the whole plan.
		os.Setenv("INTEROP_DEPTH", *depth)
		if cfg, err := suite.FromEnv(); err == nil {
			if _, planned, err := suite.Plan(cfg); err == nil && len(run.Results) < len(planned) {
				fmt.Printf("INCOMPLETE: %d of the %d planned cells have a result (interrupted?); the ratios below are of this part only\n", len(run.Results), len(planned))
				incomplete = true
			}
		}
	}
	report(run, wall, *procs, incomplete)
	cpuReport(run, machine)
}

// senderTable prints, per sender, its loss-10 1 MiB transfer time against
// the reference receiver relative to the reference sender's on the same
// seeds (the report's leaderboard, restricted to that column).
func senderTable(run *results.Run) error {
	m, err := reportpkg.Build(run, reportpkg.Options{})
	if err != nil {
		return err
	}
	col := -1
	for i, k := range m.Leaderboard.Columns {
		if k.Protocol == "rudp" && k.Scenario == "loss-10" && k.Feature == "" {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("run %s has no loss-10 cells of the reference pair to compare with", run.RunID)
	}
	fmt.Printf("run %s: senders to the reference receiver, %s (target: within 1.5x of the reference sender)\n", run.RunID, m.Leaderboard.Columns[col].Title())
	fmt.Printf("%-12s %8s %6s %10s  %s\n", "sender", "ratio", "seeds", "mean", "verdict")
	for _, row := range m.Leaderboard.Rows {
		c := row.Cells[col]
		if row.Server != "reference" || c == nil {
			continue
		}
		verdict := "within 1.5x"
		switch {
		case c.Measured == 0:
			verdict = "no passed seed to compare"
		case c.Ratio > 1.5:
			verdict = "SLOWER than 1.5x"
		}
		fmt.Printf("%-12s %7.2fx %6d %9.1fs  %s\n", row.Client, c.Ratio, c.Measured, c.MeanMS/1000, verdict)
	}
	return nil
}

// report prints the run's wall times and, for a complete run (not
// incomplete: fewer results than its plan), their ratios to the targets.
func report(run *results.Run, wall time.Duration, procs int, incomplete bool) {
	byProto := map[string][]float64{}
	overhead := map[string][]float64{}
	var cellSum float64
	for _, r := range run.Results {
		if r.Verdict == results.Unsupported {
			continue
		}
		p := string(r.Cell.Protocol)
		w := float64(r.WallMS) / 1000
		byProto[p] = append(byProto[p], w)
		cellSum += w
		work := 0.0
		if r.Transfer != nil && r.Transfer.DurationMS > 0 {
			work = r.Transfer.DurationMS / 1000
		}
		overhead[p] = append(overhead[p], w-work)
	}
	matrix := run.Finished.Sub(run.Started)
	fmt.Printf("run %s, depth %s, %d cells\n", run.RunID, run.Depth, len(run.Results))
	if wall > 0 {
		fmt.Printf("total wall time (images, preflight, matrix): %s\n", wall.Round(time.Second))
	}
	fmt.Printf("matrix wall time: %s; sum of cell times %.0fs (%.1f cells in parallel on average)\n",
		matrix.Round(time.Second), cellSum, cellSum/max(matrix.Seconds(), 1))
	for _, p := range []string{"hello", "rudp"} {
		w := byProto[p]
		if len(w) == 0 {
			continue
		}
		fmt.Printf("%-5s cells: %4d  wall median %.2fs p90 %.2fs  suite overhead median %.2fs\n", p, len(w), pct(w, 50), pct(w, 90), pct(overhead[p], 50))
	}
	if h := byProto["hello"]; len(h) > 0 {
		fmt.Printf("target: a Hello cell <= 1 s including containers: median is %.2fx the target\n", pct(h, 50)/1.0)
	}
	if incomplete {
		return
	}
	if run.Depth == "standard" {
		fmt.Printf("target: standard matrix <= 10 min with images cached: %.2fx the target\n", matrix.Minutes()/10)
	}
	if run.Depth == "full" {
		fmt.Printf("target: full matrix <= 60 min: %.2fx the target\n", matrix.Minutes()/60)
	}
}

func pct(v []float64, p int) float64 {
	s := append([]float64{}, v...)
	sort.Float64s(s)
	return s[(len(s)-1)*p/100]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
