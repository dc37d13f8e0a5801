package containers

// A program exec'd in a long-lived host container and killed by the
// kernel's OOM killer exits with 137, like one killed by any SIGKILL, and
// Docker 20.10 does not set the container's OOMKilled flag when the
// container itself lives on. The kernel counts OOM kills per memory
// cgroup, though (cgroup.go): the count going up during a cell is the
// proof (Host.oomKilledSinceReset).
