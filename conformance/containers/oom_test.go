package containers

import (
	"testing"
)

func TestOOMKillCount(t *testing.T) {
	for _, tc := range []struct {
		name, cgroup, file, content string
		want                        int64
		ok                          bool
	}{
		{"v1", "12:pids:/docker/abc\n4:memory:/docker/abc\n0::/\n", "memory/docker/abc/memory.oom_control",
			"oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", 3, true},
		{"v1 joined controllers", "5:memory,hugetlb:/docker/abc\n", "memory/docker/abc/memory.oom_control",
			"oom_kill_disable 0\noom_kill 1\n", 1, true},
		{"v2", "0::/system.slice/docker-abc.scope\n", "system.slice/docker-abc.scope/memory.events",
			"low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\noom_group_kill 0\n", 2, true},
		{"old kernel without the counter", "4:memory:/docker/abc\n", "memory/docker/abc/memory.oom_control",
			"oom_kill_disable 0\nunder_oom 0\n", 0, false},
		{"no memory cgroup", "1:cpu:/docker/abc\n", "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeCgroup(t, tc.cgroup, tc.file, tc.content)
			n, ok := oomKillCount(42)
			if n != tc.want || ok != tc.ok {
				t.Fatalf("oomKillCount = %d, %v; want %d, %v", n, ok, tc.want, tc.ok)
			}
		})
	}
	if _, ok := oomKillCount(0); ok {
		t.Fatal("pid 0 (unknown) must not read anything")
	}
}
