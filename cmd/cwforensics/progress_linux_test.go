package main

import (
	"io"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestTerminalFDPty checks that the end of a pseudo-terminal is taken for
// a terminal, as a user's stderr is.
func TestTerminalFDPty(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pseudo-terminal number: %v", err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pseudo-terminal: %v", err)
	}
	defer pts.Close()
	if _, tty := terminalFD(pts); !tty {
		t.Error("a pseudo-terminal is not taken for a terminal")
	}
	// partial -o - refuses to write its binary state onto a terminal.
	code := runContext(t.Context(), []string{"partial", "-o", "-", "../../testdata/cases/java-pool-leak/capture.pcap"}, nil, pts, io.Discard)
	if code != exitUsage {
		t.Errorf("partial -o - onto a terminal: exit %d, want %d", code, exitUsage)
	}
}
