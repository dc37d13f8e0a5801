// Command bench runs the conformance matrix of the implementations present
// and prints where the time goes: total wall time, and per cell the wall
// time against the time the programs themselves needed (the rest is the
// suite's overhead: containers, readiness, cleanup). It prints ratios
// against the suite's targets rather than asserting them, because these
// machines are shared and noisy.
//
//	go run ./conformance/cmd/bench -depth smoke -procs 4
//	go run ./conformance/cmd/bench -results results/   # analyse an existing run
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/interop-suite/interop/conformance/results"
)

func main() {
	depth := flag.String("depth", "smoke", "matrix depth to run")
	procs := flag.Int("procs", 4, "Ginkgo processes (cells at once)")
	executor := flag.String("executor", "exec", "exec or containers")
	existing := flag.String("results", "", "analyse this results folder instead of running")
	flag.Parse()

	dir := *existing
	var wall time.Duration
	if dir == "" {
		var err error
		dir, err = os.MkdirTemp("", "interop-bench-")
		if err != nil {
			fail(err)
		}
		cmd := exec.Command("go", "tool", "ginkgo", "-p", fmt.Sprintf("--procs=%d", *procs), "./conformance")
		cmd.Env = append(os.Environ(), "INTEROP_DEPTH="+*depth, "INTEROP_RESULTS="+dir, "INTEROP_EXECUTOR="+*executor, "TESTCONTAINERS_RYUK_DISABLED=true")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		start := time.Now()
		runErr := cmd.Run()
		wall = time.Since(start)
		if runErr != nil {
			fmt.Fprintf(os.Stderr, "bench: the run reported unexpected results (%v); timing it anyway\n", runErr)
		}
	}
	run, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil {
		fail(err)
	}
	report(run, wall, *procs)
}

func report(run *results.Run, wall time.Duration, procs int) {
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
