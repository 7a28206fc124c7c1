package tunnel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// reloadStderrLines is how many trailing lines of the reload command's
// standard error a ReloadError carries.
const reloadStderrLines = 10

// reloadStderrBytes bounds the standard error kept for a ReloadError.
const reloadStderrBytes = 8 << 10

// reloadWaitDelay bounds the wait for the reload command's output pipes
// after it exits or is killed.
const reloadWaitDelay = 5 * time.Second

// ReloadError is a reload command that failed, timed out or did not start.
type ReloadError struct {
	Command string
	// ExitCode is the command's exit status, or -1 when it did not exit on
	// its own (killed, timed out or not started).
	ExitCode int
	// Timeout is set when the command was killed after running this long.
	Timeout time.Duration
	// Stderr is the last lines of the command's standard error.
	Stderr string
	// Err is the cause: *exec.ExitError, context.DeadlineExceeded on a
	// timeout, the parent context's error, or the start error.
	Err error
}

func (e *ReloadError) Error() string {
	var msg string
	switch {
	case e.Timeout > 0:
		msg = fmt.Sprintf("reload command %q timed out after %s", e.Command, e.Timeout)
	case e.ExitCode >= 0:
		msg = fmt.Sprintf("reload command %q failed with exit status %d", e.Command, e.ExitCode)
	default:
		msg = fmt.Sprintf("reload command %q failed: %v", e.Command, e.Err)
	}
	if e.Stderr != "" {
		msg += "; stderr:\n" + e.Stderr
	}
	return msg
}

func (e *ReloadError) Unwrap() error { return e.Err }

// Reload runs ReloadCommand with "sh -c" in Dir and waits for it, at most
// ReloadTimeout (60s when 0). cloudflared reads config.yml only when it
// starts, so a written file is in force only after a successful reload.
// A non-zero exit, a timeout or a cancelled ctx returns a *ReloadError.
// Reload returns nil at once when no command is set.
func (f *File) Reload(ctx context.Context) error {
	if f.ReloadCommand == "" {
		return nil
	}
	timeout := f.ReloadTimeout
	if timeout <= 0 {
		timeout = defaultReloadTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	stderr := &tailBuffer{max: reloadStderrBytes}
	cmd := exec.CommandContext(runCtx, "sh", "-c", f.ReloadCommand)
	cmd.Dir = f.Dir
	cmd.Stdout = f.Stdout
	cmd.Stderr = stderr
	if f.Stderr != nil {
		cmd.Stderr = io.MultiWriter(f.Stderr, stderr)
	}
	cmd.WaitDelay = reloadWaitDelay
	killProcessGroupOnCancel(cmd)

	err := cmd.Run()
	if err == nil {
		return nil
	}

	reloadErr := &ReloadError{Command: f.ReloadCommand, ExitCode: -1, Stderr: stderr.lastLines(reloadStderrLines), Err: err}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		reloadErr.Err = ctx.Err()
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		reloadErr.Timeout = timeout
		reloadErr.Err = context.DeadlineExceeded
	case errors.As(err, &exitErr):
		reloadErr.ExitCode = exitErr.ExitCode()
	}
	return reloadErr
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// lastLines returns the last n lines kept, without the final newline.
func (t *tailBuffer) lastLines(n int) string {
	text := strings.TrimRight(string(bytes.ToValidUTF8(t.buf, []byte("?"))), "\n")
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
