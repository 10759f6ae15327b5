//go:build unix

package collect

import (
	"os/exec"
	"syscall"
)

func setCredential(cmd *exec.Cmd, uid, gid uint32) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
}

func kill(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }
