package containers

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCPUUsage(t *testing.T) {
	for _, tc := range []struct {
		name, cgroup, file, content string
		want                        time.Duration
		ok                          bool
	}{
		{"v1 own hierarchy", "3:cpuset:/docker/abc\n2:cpuacct:/docker/abc\n1:cpu:/docker/abc\n0::/\n", "cpuacct/docker/abc/cpuacct.usage",
			"1500000000\n", 1500 * time.Millisecond, true},
		{"v1 joined with cpu", "4:cpu,cpuacct:/docker/abc\n", "cpuacct/docker/abc/cpuacct.usage",
			"2000\n", 2 * time.Microsecond, true},
		{"v2", "0::/system.slice/docker-abc.scope\n", "system.slice/docker-abc.scope/cpu.stat",
			"usage_usec 250000\nuser_usec 200000\nsystem_usec 50000\n", 250 * time.Millisecond, true},
		{"unreadable counter", "2:cpuacct:/docker/abc\n", "cpuacct/docker/abc/cpuacct.usage", "garbage", 0, false},
		{"no cpu cgroup", "4:memory:/docker/abc\n", "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeCgroup(t, tc.cgroup, tc.file, tc.content)
			d, ok := cpuUsage(42)
			if d != tc.want || ok != tc.ok {
				t.Fatalf("cpuUsage = %v, %v; want %v, %v", d, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestCPUUsageOfThisProcess reads the real counter of the test's own
// cgroup where the machine exposes one: it must be positive and grow
// while the test burns CPU.
func TestCPUUsageOfThisProcess(t *testing.T) {
	before, ok := cpuUsage(os.Getpid())
	if !ok {
		t.Skip("no readable CPU counter in this machine's cgroups")
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	after, _ := cpuUsage(os.Getpid())
	if after <= before {
		t.Fatalf("CPU counter did not grow while burning CPU: %v then %v (%d loops)", before, after, x)
	}
}

func TestForkRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, cgroup, file, content string
		want                        int64
		ok                          bool
	}{
		{"v1", "6:pids:/docker/abc\n4:memory:/docker/abc\n", "pids/docker/abc/pids.events", "max 59\n", 59, true},
		{"v2", "0::/system.slice/docker-abc.scope\n", "system.slice/docker-abc.scope/pids.events", "max 0\n", 0, true},
		{"no pids cgroup", "4:memory:/docker/abc\n", "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeCgroup(t, tc.cgroup, tc.file, tc.content)
			n, ok := forkRefusals(42)
			if n != tc.want || ok != tc.ok {
				t.Fatalf("forkRefusals = %d, %v; want %d, %v", n, ok, tc.want, tc.ok)
			}
		})
	}
}

// fakeCgroup makes process 42's cgroup lines and one counter file (path
// below the cgroup root; "" for none) in a temporary /proc and cgroup
// tree, for the duration of the test.
func fakeCgroup(t *testing.T, cgroup, file, content string) {
	t.Helper()
	root := t.TempDir()
	procRoot, cgroupRoot = filepath.Join(root, "proc"), filepath.Join(root, "cgroup")
	t.Cleanup(func() { procRoot, cgroupRoot = "/proc", "/sys/fs/cgroup" })
	os.MkdirAll(filepath.Join(procRoot, "42"), 0o755)
	os.WriteFile(filepath.Join(procRoot, "42", "cgroup"), []byte(cgroup), 0o644)
	if file != "" {
		p := filepath.Join(cgroupRoot, file)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
}

// Per-pid readers over the fake tree, as a host resolves and reads them.
func oomKillCount(pid int) (int64, bool)     { return resolveCgroup(pid).oomKills() }
func cpuUsage(pid int) (time.Duration, bool) { return resolveCgroup(pid).cpuUsage() }
func forkRefusals(pid int) (int64, bool)     { return resolveCgroup(pid).forkRefusals() }
