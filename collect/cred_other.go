//go:build !unix

package collect

import (
	"errors"
	"os/exec"
	"syscall"
)

func setCredential(*exec.Cmd, uint32, uint32) {}

func kill(int, syscall.Signal) error { return errors.New("signals are not supported on this system") }
