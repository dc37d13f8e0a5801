package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/interop-suite/interop/conformance/results"
)

// Where a matrix's CPU goes. On 2 cores a matrix cannot finish faster than
// the CPU time it needs divided by 2, however many cells run at once; the
// cells' programs are measured from their containers' cgroups (cpu_ms in
// results.json), the whole machine from /proc/stat around the run. The
// difference is the suite itself, Docker, and everything else on the
// machine.

// machineUse is the machine's CPU time between two readings of /proc/stat.
type machineUse struct {
	busy, total time.Duration // busy: all but idle and iowait; summed over cores
	cores       int
}

type cpuSample struct{ busy, total int64 } // clock ticks over all cores

func readMachineCPU() (cpuSample, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuSample{}, fmt.Errorf("unexpected /proc/stat: %q", line)
	}
	var s cpuSample
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return cpuSample{}, err
		}
		if i >= 8 { // guest time is already counted in user
			break
		}
		s.total += n
		if i != 3 && i != 4 { // idle, iowait
			s.busy += n
		}
	}
	return s, nil
}

// since converts the ticks between two samples (USER_HZ is 100 on Linux).
func (s cpuSample) since(before cpuSample) *machineUse {
	tick := 10 * time.Millisecond
	return &machineUse{busy: time.Duration(s.busy-before.busy) * tick, total: time.Duration(s.total-before.total) * tick, cores: runtime.NumCPU()}
}

// cpuReport prints the cells' CPU time by implementation and side, the
// lower bound it sets on the matrix's wall time, and, for a run the
// benchmark made, how busy the machine was.
func cpuReport(run *results.Run, machine *machineUse) {
	type use struct {
		cpu   time.Duration
		cells int
	}
	byImpl := map[string]*use{}
	var programs, sim time.Duration
	measured := 0
	add := func(p *results.Program) {
		if p == nil || p.CPUMS == 0 {
			return
		}
		d := time.Duration(p.CPUMS) * time.Millisecond
		if p.Role == "simulator" {
			sim += d
			return
		}
		programs += d
		key := p.Impl + " " + p.Role
		if byImpl[key] == nil {
			byImpl[key] = &use{}
		}
		byImpl[key].cpu += d
		byImpl[key].cells++
	}
	for _, r := range run.Results {
		if r.Client == nil || r.Client.CPUMS == 0 {
			continue
		}
		measured++
		add(r.Client)
		add(r.Server)
		add(r.Simulator)
	}
	if measured == 0 {
		fmt.Println("cpu: no cell has cpu_ms (the kernel's counters were not readable, or the run predates them)")
		return
	}
	cores := runtime.NumCPU()
	if machine != nil {
		cores = machine.cores
	}
	cells := programs + sim
	matrix := run.Finished.Sub(run.Started)
	fmt.Printf("cpu: %d cells measured: programs %.0f CPU-s, simulator %.0f CPU-s; on %d cores that alone needs %s of wall time (%.2fx the matrix's %s)\n",
		measured, programs.Seconds(), sim.Seconds(), cores, (cells / time.Duration(cores)).Round(time.Second),
		cells.Seconds()/float64(cores)/max(matrix.Seconds(), 1), matrix.Round(time.Second))
	if machine != nil && machine.total > 0 {
		rest := machine.busy - cells
		fmt.Printf("cpu: the machine was busy %.0f%% of the run (%.0f of %.0f CPU-s); the suite, Docker and the rest of the machine used %.0f CPU-s\n",
			100*machine.busy.Seconds()/machine.total.Seconds(), machine.busy.Seconds(), machine.total.Seconds(), rest.Seconds())
	}
	keys := make([]string, 0, len(byImpl))
	for k := range byImpl {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return byImpl[keys[a]].cpu > byImpl[keys[b]].cpu })
	fmt.Printf("%-28s %9s %6s %10s %7s\n", "implementation role", "CPU-s", "cells", "per cell", "share")
	for _, k := range keys {
		u := byImpl[k]
		fmt.Printf("%-28s %9.1f %6d %9.2fs %6.1f%%\n", k, u.cpu.Seconds(), u.cells,
			u.cpu.Seconds()/float64(u.cells), 100*u.cpu.Seconds()/cells.Seconds())
	}
}
