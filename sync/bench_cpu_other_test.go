//go:build !linux

package sync

import "time"

// benchProcessCPU reports no CPU time outside Linux, so the benchmarks
// there report wall-clock time only.
func benchProcessCPU() (cpu time.Duration, ok bool) {
	return 0, false
}
