// Command agent is the init process of the suite's long-lived host
// containers. The suite bind-mounts this static binary into every
// implementation image (even FROM scratch ones, which have no shell) and
// runs programs next to it with `docker exec`, which is many times cheaper
// than a container per program. It has two jobs:
//
//	agent idle             PID 1: reap orphaned processes until SIGTERM
//	agent reset DIR...     between cells: stop every other process, then
//	                       empty the given folders
//
// It runs as the same unprivileged user as the programs, so it can signal
// them and nothing else.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: agent idle | agent reset DIR...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "idle":
		idle()
	case "reset":
		os.Exit(reset(os.Args[2:]))
	default:
		fmt.Fprintln(os.Stderr, "agent: unknown command", os.Args[1])
		os.Exit(2)
	}
}

// idle reaps every child (orphans of exec'd programs are re-parented to
// PID 1) and exits on SIGTERM or SIGINT.
func idle() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}

// reset sends SIGTERM to every process it may signal (kill(-1) spares PID 1
// and itself), gives them a moment, then SIGKILLs what is left, and empties
// the folders.
func reset(dirs []string) int {
	syscall.Kill(-1, syscall.SIGTERM)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) && others() {
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(-1, syscall.SIGKILL)
	for i := 0; i < 50 && others(); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	code := 0
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(d, e.Name())); err != nil {
				fmt.Fprintln(os.Stderr, "agent:", err)
				code = 1
			}
		}
	}
	return code
}

// others reports whether a process other than PID 1 and this one exists.
func others() bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	self := fmt.Sprint(os.Getpid())
	for _, e := range entries {
		n := e.Name()
		if n[0] < '0' || n[0] > '9' || n == "1" || n == self {
			continue
		}
		// Zombies already reaped by PID 1 vanish; a zombie not yet reaped
		// still counts until it is.
		return true
	}
	return false
}
