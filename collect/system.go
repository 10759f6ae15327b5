package collect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Command is one external command to run.
type Command struct {
	Name string   // program, looked up in PATH
	Args []string // arguments after the program
	// UID and GID, when set, run the command as that user (jcmd must run
	// as the user of the JVM it attaches to).
	UID, GID *uint32
	// Interrupt, when set, stops the command with SIGINT rather than
	// SIGKILL when its context ends (tcpdump then flushes and exits).
	Interrupt bool
	// Env adds variables to the command's environment ("TZ=UTC").
	Env []string
}

// Argv is the command line as recorded in the manifest.
func (c Command) Argv() []string { return append([]string{c.Name}, c.Args...) }

// Runner runs external commands. Exec is the real one; tests use fakes.
type Runner interface {
	// LookPath reports whether the program is installed.
	LookPath(name string) (string, error)
	// Run runs c until it exits or ctx ends, with its output going to
	// stdout and stderr. It returns the exit status (-1 when the command
	// did not exit by itself) and an error when it could not be started or
	// was stopped.
	Run(ctx context.Context, c Command, stdout, stderr io.Writer) (exit int, err error)
}

// Exec runs commands with os/exec.
type Exec struct{}

// LookPath finds name in PATH.
func (Exec) LookPath(name string) (string, error) { return exec.LookPath(name) }

// Run runs c with os/exec in the C locale; stdin is empty.
func (Exec) Run(ctx context.Context, c Command, stdout, stderr io.Writer) (int, error) {
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// The C locale: the listings' headers and dates as analyze knows them.
	cmd.Env = append(append(os.Environ(), "LC_ALL=C"), c.Env...)
	if c.Interrupt {
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 5 * time.Second
	} else {
		cmd.WaitDelay = time.Second
	}
	if c.UID != nil && c.GID != nil {
		setCredential(cmd, *c.UID, *c.GID)
	}
	err := cmd.Run()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	if err == nil {
		return code, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return code, nil // exited by itself with a status: not a runner error
	}
	if ctx.Err() != nil {
		return code, fmt.Errorf("stopped: %w", ctx.Err())
	}
	return code, err
}

// File is an open file of Proc.
type File interface {
	io.ReaderAt
	io.Closer
}

// Proc reads the /proc file system. Names are relative to /proc
// ("net/tcp", "1234/limits"). OSProc is the real one; tests use fakes.
type Proc interface {
	ReadFile(name string) ([]byte, error)
	ReadDir(name string) ([]string, error)
	Readlink(name string) (string, error)
	Open(name string) (File, error)
	// Signal sends sig to pid.
	Signal(pid int, sig syscall.Signal) error
}

// procPIDs lists the names in /proc that are pids (the processes'
// directories), in ReadDir's order.
func procPIDs(pr Proc) ([]string, error) {
	names, err := pr.ReadDir(".")
	var pids []string
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, n)
		}
	}
	return pids, err
}

// OSProc reads /proc of this machine.
type OSProc struct{}

func (OSProc) path(name string) string { return filepath.Join("/proc", name) }

// ReadFile reads /proc/name.
func (p OSProc) ReadFile(name string) ([]byte, error) { return os.ReadFile(p.path(name)) }

// ReadDir lists the names in /proc/name.
func (p OSProc) ReadDir(name string) ([]string, error) {
	des, err := os.ReadDir(p.path(name))
	out := make([]string, 0, len(des))
	for _, d := range des {
		out = append(out, d.Name())
	}
	return out, err
}

// Readlink reads the symbolic link /proc/name.
func (p OSProc) Readlink(name string) (string, error) { return os.Readlink(p.path(name)) }

// Open opens /proc/name.
func (p OSProc) Open(name string) (File, error) { return os.Open(p.path(name)) }

// Signal sends sig to pid.
func (OSProc) Signal(pid int, sig syscall.Signal) error { return kill(pid, sig) }
