package containers

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A program exec'd in a long-lived host container and killed by the
// kernel's OOM killer exits with 137, like one killed by any SIGKILL, and
// Docker 20.10 does not set the container's OOMKilled flag when the
// container itself lives on. The kernel counts OOM kills per memory
// cgroup, though: the count going up during a cell is the proof.

// Roots of the host's view, replaced by tests.
var procRoot, cgroupRoot = "/proc", "/sys/fs/cgroup"

// oomKillCount returns the number of OOM kills so far in the memory
// cgroup of process pid (the container's init), from cgroup v1's
// memory.oom_control or v2's memory.events; ok is false when it cannot
// be read (a remote engine, an old kernel).
func oomKillCount(pid int) (n int64, ok bool) {
	if pid <= 0 {
		return 0, false
	}
	f, err := os.Open(filepath.Join(procRoot, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var file string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case slices.Contains(strings.Split(parts[1], ","), "memory"): // v1
			file = filepath.Join(cgroupRoot, "memory", parts[2], "memory.oom_control")
		case parts[0] == "0" && parts[1] == "" && file == "": // v2 (unified)
			file = filepath.Join(cgroupRoot, parts[2], "memory.events")
		}
	}
	b, err := os.ReadFile(file)
	if file == "" || err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, found := strings.Cut(line, " "); found && k == "oom_kill" {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// oomKills is the host's OOM kill count now (see oomKillCount), read
// through its init process (the agent).
func (h *Host) oomKills(ctx context.Context) (int64, bool) {
	pid := h.initPID
	if pid == 0 && h.e != nil {
		pid = h.pid(ctx)
	}
	return oomKillCount(pid)
}
