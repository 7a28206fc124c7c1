//go:build !unix

package tunnel

import (
	"io/fs"
	"os"
	"os/exec"
)

// killProcessGroupOnCancel keeps exec's default, which kills only "sh".
func killProcessGroupOnCancel(*exec.Cmd) {}

// keepFileOwner does nothing where files have no Unix owner.
func keepFileOwner(*os.File, fs.FileInfo) {}
