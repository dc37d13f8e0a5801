package containers

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The kernel keeps per-container counters in the container's cgroups:
// the OOM kills of its memory cgroup (oom.go), the CPU time of its
// cpuacct cgroup and the refused forks of its pids cgroup. They are found
// through the container's init process, under cgroup v1 (one hierarchy
// per controller) or v2 (one unified one). A container's cgroups do not
// change while it lives, so a host resolves their files once.

// Roots of the host's view, replaced by tests.
var procRoot, cgroupRoot = "/proc", "/sys/fs/cgroup"

// cgroupFiles are the counter files of one container ("" where the
// machine has none).
type cgroupFiles struct {
	oom  string // v1 memory.oom_control, v2 memory.events: "oom_kill N"
	cpu  string // v1 cpuacct.usage (ns), v2 cpu.stat: "usage_usec N"
	pids string // pids.events: "max N"
}

// resolveCgroup reads process pid's cgroups once and names its counter
// files; a controller's v1 hierarchy wins over the unified one.
func resolveCgroup(pid int) cgroupFiles {
	if pid <= 0 {
		return cgroupFiles{}
	}
	f, err := os.Open(filepath.Join(procRoot, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return cgroupFiles{}
	}
	defer f.Close()
	v1 := map[string]string{} // controller -> path in its hierarchy
	v2 := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			v1[c] = parts[2]
		}
	}
	file := func(controller, v1File, v2File string) string {
		if p, ok := v1[controller]; ok {
			// Joined v1 controllers (cpu,cpuacct) are mounted under
			// their joined name with a link per controller: the
			// controller's own name works in every layout.
			return filepath.Join(cgroupRoot, controller, p, v1File)
		}
		if v2 != "" {
			return filepath.Join(cgroupRoot, v2, v2File)
		}
		return ""
	}
	return cgroupFiles{
		oom:  file("memory", "memory.oom_control", "memory.events"),
		cpu:  file("cpuacct", "cpuacct.usage", "cpu.stat"),
		pids: file("pids", "pids.events", "pids.events"),
	}
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

// oomKills is the number of OOM kills so far in the memory cgroup.
func (f cgroupFiles) oomKills() (int64, bool) { return cgroupValue(f.oom, "oom_kill") }

// cpuUsage is the CPU time used so far by every process that ever ran in
// the cgroup.
func (f cgroupFiles) cpuUsage() (time.Duration, bool) {
	if f.cpu == "" {
		return 0, false
	}
	if filepath.Base(f.cpu) == "cpu.stat" {
		us, ok := cgroupValue(f.cpu, "usage_usec")
		return time.Duration(us) * time.Microsecond, ok
	}
	b, err := os.ReadFile(f.cpu)
	if err != nil {
		return 0, false
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return time.Duration(ns), err == nil
}

// forkRefusals is how many times so far the kernel refused a new process
// (fork, clone) in the cgroup because it was at its process limit.
func (f cgroupFiles) forkRefusals() (int64, bool) { return cgroupValue(f.pids, "max") }

// cgroupCounters are a container's counters at one moment; each ok is
// false where its counter could not be read (a remote engine, an old
// kernel).
type cgroupCounters struct {
	oomKills, forkRefusals int64
	cpu                    time.Duration
	oomOK, forkOK, cpuOK   bool
}

func (f cgroupFiles) read() cgroupCounters {
	var c cgroupCounters
	c.oomKills, c.oomOK = f.oomKills()
	c.cpu, c.cpuOK = f.cpuUsage()
	c.forkRefusals, c.forkOK = f.forkRefusals()
	return c
}
