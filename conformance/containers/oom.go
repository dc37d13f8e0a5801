package containers

import "context"

// A program exec'd in a long-lived host container and killed by the
// kernel's OOM killer exits with 137, like one killed by any SIGKILL, and
// Docker 20.10 does not set the container's OOMKilled flag when the
// container itself lives on. The kernel counts OOM kills per memory
// cgroup, though: the count going up during a cell is the proof.

// oomKillCount returns the number of OOM kills so far in the memory
// cgroup of process pid (the container's init), from cgroup v1's
// memory.oom_control or v2's memory.events; ok is false when it cannot
// be read (a remote engine, an old kernel).
func oomKillCount(pid int) (n int64, ok bool) {
	return cgroupValue(cgroupFile(pid, "memory", "memory.oom_control", "memory.events"), "oom_kill")
}

// oomKills is the host's OOM kill count now (see oomKillCount), read
// through its init process (the agent).
func (h *Host) oomKills(ctx context.Context) (int64, bool) {
	return oomKillCount(h.agentPID(ctx))
}

// agentPID is the host's init process (the agent) on the Docker host.
func (h *Host) agentPID(ctx context.Context) int {
	pid := h.initPID
	if pid == 0 && h.e != nil {
		pid = h.pid(ctx)
	}
	return pid
}
