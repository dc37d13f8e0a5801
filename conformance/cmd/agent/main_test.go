package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this binary as the agent itself:
// AGENT_TEST_MAIN=1 makes it main() with the given arguments.
func TestMain(m *testing.M) {
	if os.Getenv("AGENT_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// A program can signal PID 1 of its container; the agent must survive
// the polite signals (only SIGKILL, which the suite's removal sends and a
// program cannot send to its namespace's init, ends it).
func TestIdleSurvivesSignals(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "idle")
	cmd.Env = append(os.Environ(), "AGENT_TEST_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(200 * time.Millisecond) // let it install its handlers
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1} {
		cmd.Process.Signal(sig)
	}
	select {
	case err := <-done:
		t.Fatalf("the agent exited on a polite signal: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	cmd.Process.Kill()
	<-done
}
