//go:build unix

package report_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used: the benchmark reports it
// next to the wall time, which a shared machine inflates.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
