//go:build unix

package tunnel

import (
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// killProcessGroupOnCancel runs cmd in its own process group and kills the
// whole group when cmd's context ends, so that a child of "sh -c" (such as
// docker compose) does not outlive a timed-out reload.
func killProcessGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// keepFileOwner gives tmp the owner and group of the file it replaces, so
// that a cloudflared running as another user can still read a 0600 file.
// NOTE: this is best effort. Without the privilege to change the owner, the
// new file belongs to the user running portcullis.
func keepFileOwner(tmp *os.File, old fs.FileInfo) {
	stat, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	if int(stat.Uid) == os.Getuid() && int(stat.Gid) == os.Getgid() {
		return
	}
	_ = tmp.Chown(int(stat.Uid), int(stat.Gid))
}
