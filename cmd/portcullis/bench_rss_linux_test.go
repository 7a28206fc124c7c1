//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
)

// BenchmarkPlanBinaryMaxRSS runs the built binary's plan command on a
// generated project and reports the child's peak resident set size, as
// wait4's rusage gives it (the number /usr/bin/time -v prints as "Maximum
// resident set size"). The time per op includes starting the process.
func BenchmarkPlanBinaryMaxRSS(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			p := newBenchProject(n)
			dir := b.TempDir()
			p.write(b, dir)

			var peakKiB int64
			for b.Loop() {
				kib, err := runBinaryMaxRSS(dir)
				if err != nil {
					b.Fatal(err)
				}
				peakKiB = max(peakKiB, kib)
			}
			b.ReportMetric(float64(peakKiB)/1024, "maxRSS-MiB")
		})
	}
}

// runBinaryMaxRSS runs "portcullis plan" in dir and returns the process's
// maximum resident set size in KiB (Linux reports ru_maxrss in KiB).
func runBinaryMaxRSS(dir string) (int64, error) {
	cmd := exec.Command(binary, "plan")
	cmd.Dir = dir
	cmd.Env = []string{"NO_COLOR=1", "HOME=" + dir}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()

	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitPending {
		return 0, fmt.Errorf("plan in %s: %v, want exit code %d\nstderr:\n%s", dir, err, exitPending, stderr.String())
	}
	usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, errors.New("process state has no rusage")
	}
	return usage.Maxrss, nil
}
