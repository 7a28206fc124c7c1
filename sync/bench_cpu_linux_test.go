//go:build linux

package sync

import (
	"syscall"
	"time"
)

// benchProcessCPU returns the user plus system CPU time of every thread of
// the test process so far. ok is false when the kernel does not report it.
func benchProcessCPU() (cpu time.Duration, ok bool) {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0, false
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()), true
}
