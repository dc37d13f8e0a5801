package containers

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The kernel keeps per-container counters in the container's cgroups:
// the OOM kills of its memory cgroup (oom.go) and the CPU time of its
// cpuacct cgroup. Both are read through the container's init process,
// under cgroup v1 (one hierarchy per controller) or v2 (one unified one).

// Roots of the host's view, replaced by tests.
var procRoot, cgroupRoot = "/proc", "/sys/fs/cgroup"

// cgroupFile returns the path of a file of process pid's cgroup: v1File
// in the hierarchy of the v1 controller, or else v2File in the unified
// hierarchy; "" when pid is unknown or has neither.
func cgroupFile(pid int, controller, v1File, v2File string) string {
	if pid <= 0 {
		return ""
	}
	f, err := os.Open(filepath.Join(procRoot, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return ""
	}
	defer f.Close()
	var v1, v2 string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case slices.Contains(strings.Split(parts[1], ","), controller):
			// Joined v1 controllers (cpu,cpuacct) are mounted under
			// their joined name with a link per controller: the
			// controller's own name works in every layout.
			v1 = filepath.Join(cgroupRoot, controller, parts[2], v1File)
		case parts[0] == "0" && parts[1] == "":
			v2 = filepath.Join(cgroupRoot, parts[2], v2File)
		}
	}
	if v1 != "" {
		return v1
	}
	return v2
}

// cgroupValue reads the number after key in a "key value" per line file.
func cgroupValue(file, key string) (int64, bool) {
	b, err := os.ReadFile(file)
	if file == "" || err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, found := strings.Cut(line, " "); found && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// cpuUsage returns the CPU time used so far by every process that ever
// ran in process pid's cgroup (v1 cpuacct.usage in ns, v2 cpu.stat's
// usage_usec); ok is false when it cannot be read.
func cpuUsage(pid int) (time.Duration, bool) {
	file := cgroupFile(pid, "cpuacct", "cpuacct.usage", "cpu.stat")
	if file == "" {
		return 0, false
	}
	if filepath.Base(file) == "cpu.stat" {
		us, ok := cgroupValue(file, "usage_usec")
		return time.Duration(us) * time.Microsecond, ok
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return time.Duration(ns), err == nil
}

// forkRefusals returns how many times so far the kernel refused a new
// process (fork, clone) in process pid's cgroup because the container
// was at its process limit: pids.events' "max" count, v1 and v2.
func forkRefusals(pid int) (int64, bool) {
	return cgroupValue(cgroupFile(pid, "pids", "pids.events", "pids.events"), "max")
}
