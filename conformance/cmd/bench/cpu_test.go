package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/results"
)

func TestReadMachineCPUGrows(t *testing.T) {
	a, err := readMachineCPU()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	b, err := readMachineCPU()
	if err != nil {
		t.Fatal(err)
	}
	u := b.since(a)
	if u.total <= 0 || u.busy <= 0 || u.busy > u.total {
		t.Fatalf("busy %v of total %v after burning 100 ms of CPU", u.busy, u.total)
	}
}

func TestCPUReportAddsUpPrograms(t *testing.T) {
	prog := func(impl, role string, ms int64) *results.Program {
		return &results.Program{Impl: impl, Role: role, CPUMS: ms}
	}
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	run := &results.Run{Started: start, Finished: start.Add(10 * time.Second), Results: []results.Result{
		{Client: prog("java", "hello-client", 800), Server: prog("reference", "hello-server", 20), Simulator: prog("netsim", "simulator", 10)},
		{Client: prog("java", "hello-client", 600), Server: prog("c", "hello-server", 5), Simulator: prog("netsim", "simulator", 10)},
		{Client: &results.Program{Impl: "rust", Role: "hello-client"}}, // not measured: left out
	}}
	out := capture(t, func() { cpuReport(run, &machineUse{busy: 4 * time.Second, total: 20 * time.Second, cores: 2}) })
	for _, want := range []string{
		"2 cells measured: programs 1 CPU-s, simulator 0 CPU-s",
		"busy 20% of the run",
		"java hello-client",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "java hello-client") > strings.Index(out, "reference hello-server") {
		t.Errorf("rows must be sorted by CPU time, most first:\n%s", out)
	}
	if !strings.Contains(out, "0.70s") {
		t.Errorf("java's 1.4 CPU-s over 2 cells is 0.70 s per cell:\n%s", out)
	}
}

func capture(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	f()
	w.Close()
	os.Stdout = old
	return string(bytes.TrimSpace(<-done))
}
