// Command agent is the init process of the suite's long-lived host
// containers. The suite bind-mounts this static binary into every
// implementation image (even FROM scratch ones, which have no shell) and
// runs programs next to it, which is many times cheaper than a container
// per program. It has two jobs:
//
//	agent idle [-ctl DIR -id ID -reset-dirs D1,D2]
//	                       PID 1: reap orphaned processes until killed
//	                       (it ignores SIGTERM: see idle);
//	                       with -ctl, also serve the suite's requests on
//	                       DIR/agent.sock (conformance/agentproto): start
//	                       programs, stream their output and exit status,
//	                       signal them, reset the host
//	agent reset DIR...     between cells, when the suite cannot reach the
//	                       socket and uses `docker exec` instead: stop every
//	                       other process, then empty the given folders
//
// It runs as the same unprivileged user as the programs, so it can signal
// them and nothing else. Started as root (the suite's own simulator image,
// which is not sandboxed), it runs the programs it starts as 65534:65534:
// it never starts anything as root.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: agent idle [-ctl DIR -id ID -reset-dirs D1,D2] | agent reset DIR...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "idle":
		idle(os.Args[2:])
	case "reset":
		os.Exit(reset(os.Args[2:]))
	default:
		fmt.Fprintln(os.Stderr, "agent: unknown command", os.Args[1])
		os.Exit(2)
	}
}

// idle reaps every child (orphans of exec'd programs are re-parented to
// PID 1, and the programs the agent starts are its children) until it is
// killed. With -ctl it also serves requests.
func idle(args []string) {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	ctl := fs.String("ctl", "", "folder of the control socket (none: no socket)")
	id := fs.String("id", "", "identifier returned by ping, so the suite knows it reached this host's agent")
	dirs := fs.String("reset-dirs", "", "comma-separated folders a reset request may empty")
	fs.Parse(args)

	// A program may signal PID 1 of its own container (kill -TERM 1, or
	// kill(-1, ...)): an agent that exited then took its host down, and the
	// cell became an infrastructure error, blamed on no one. The agent
	// catches these signals and carries on; the suite removes its hosts
	// with SIGKILL (force). Caught, not ignored: an ignored signal would
	// stay ignored in the programs the agent starts.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	a := newAgent(*id, strings.Split(*dirs, ","))
	if *ctl != "" {
		if err := a.listen(filepath.Join(*ctl, "agent.sock")); err != nil {
			// The suite notices (no socket) and falls back to docker exec.
			fmt.Fprintln(os.Stderr, "agent: no control socket:", err)
		}
	}
	for s := range sigs {
		if s == syscall.SIGCHLD {
			a.reap()
		}
	}
}

// reset sends SIGTERM to every process it may signal (kill(-1) spares PID 1
// and itself), gives them a moment, then SIGKILLs what is left, and empties
// the folders.
func reset(dirs []string) int {
	if err := stopAndEmpty(dirs); err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		return 1
	}
	return 0
}

// stopAndEmpty is the reset of both the `reset` command and the socket's
// reset request. Only the entries of the given folders are removed, and
// RemoveAll never follows a symbolic link: nothing outside them is touched.
func stopAndEmpty(dirs []string) error {
	syscall.Kill(-1, syscall.SIGTERM)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) && others() {
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(-1, syscall.SIGKILL)
	for i := 0; i < 50 && others(); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	var first error
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(d, e.Name())); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
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
