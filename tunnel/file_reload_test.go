package tunnel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileReload(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("sh is not available")
	}
	tests := []struct {
		name         string
		command      string
		timeout      time.Duration
		wantErr      bool
		wantExitCode int    // ReloadError.ExitCode when wantErr
		wantTimeout  bool   // the error wraps context.DeadlineExceeded
		wantStdout   string // "" to skip the check
		wantStderr   string // in ReloadError.Stderr and the message
	}{
		{name: "no command"},
		{name: "success", command: "echo reloaded", wantStdout: "reloaded\n"},
		{name: "runs in dir", command: "cat marker.txt", wantStdout: "dir marker\n"},
		{name: "failure", command: "echo 'restart failed' >&2; exit 3", wantErr: true, wantExitCode: 3, wantStderr: "restart failed"},
		{name: "timeout", command: "sleep 5", timeout: 100 * time.Millisecond, wantErr: true, wantExitCode: -1, wantTimeout: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFileFixture(t, filepath.Join(dir, "marker.txt"), []byte("dir marker\n"), 0o644)
			var stdout, stderr bytes.Buffer
			file := File{ReloadCommand: tc.command, Dir: dir, ReloadTimeout: tc.timeout, Stdout: &stdout, Stderr: &stderr}

			err := file.Reload(context.Background())

			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Reload: %v", err)
				}
				if tc.wantStdout != "" && stdout.String() != tc.wantStdout {
					t.Errorf("stdout = %q, expected %q", stdout.String(), tc.wantStdout)
				}
				return
			}
			var reloadErr *ReloadError
			if !errors.As(err, &reloadErr) {
				t.Fatalf("Reload error = %v, expected a *ReloadError", err)
			}
			if reloadErr.ExitCode != tc.wantExitCode {
				t.Errorf("ExitCode = %d, expected %d", reloadErr.ExitCode, tc.wantExitCode)
			}
			if got := errors.Is(err, context.DeadlineExceeded); got != tc.wantTimeout {
				t.Errorf("errors.Is(err, context.DeadlineExceeded) = %v, expected %v", got, tc.wantTimeout)
			}
			if tc.wantExitCode > 0 && !strings.Contains(err.Error(), fmt.Sprintf("exit status %d", tc.wantExitCode)) {
				t.Errorf("error %q does not name the exit status", err)
			}
			if tc.wantStderr != "" {
				if !strings.Contains(reloadErr.Stderr, tc.wantStderr) || !strings.Contains(err.Error(), tc.wantStderr) {
					t.Errorf("error %q does not carry stderr %q", err, tc.wantStderr)
				}
				if !strings.Contains(stderr.String(), tc.wantStderr) {
					t.Errorf("File.Stderr got %q, expected it to contain %q", stderr.String(), tc.wantStderr)
				}
			}
		})
	}
}

func TestFileReloadParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	file := File{ReloadCommand: "true"}

	err := file.Reload(ctx)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("Reload error = %v, expected context.Canceled", err)
	}
}

func TestReloadStderrTail(t *testing.T) {
	tests := []struct {
		name  string
		input string
		max   int
		want  string
	}{
		{name: "short", input: "a\nb\n", max: 100, want: "a\nb"},
		{name: "last ten lines", input: "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", max: 100, want: "3\n4\n5\n6\n7\n8\n9\n10\n11\n12"},
		{name: "byte bound", input: "first line\nsecond\n", max: 7, want: "second"},
		{name: "empty", input: "", max: 100, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tail := &tailBuffer{max: tc.max}
			for _, chunk := range strings.SplitAfter(tc.input, "\n") {
				if _, err := tail.Write([]byte(chunk)); err != nil {
					t.Fatal(err)
				}
			}
			if got := tail.lastLines(reloadStderrLines); got != tc.want {
				t.Errorf("lastLines = %q, expected %q", got, tc.want)
			}
		})
	}
}
