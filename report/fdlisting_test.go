package report

import (
	"os"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
)

// fdCase reads files of testdata/cases/fd-exhaustion: wsrelay (pid 6451)
// holds 64 fds of its limit of 64, 58 of them sockets in CLOSE_WAIT.
func fdCase(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("../testdata/cases/fd-exhaustion/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestFDListingOneRule: one file holds the case's `ls -l /proc/6451/fd`
// after its prompt (the listing names the pid), then the collecting
// shell's own `ls -l /proc/self/fd` (names none, and holds no socket of
// anyone's). The fd count and the question whose the file is follow one
// rule: the listing of 6451 is 6451's, and the shell's, tied to no one,
// takes nothing away. They disagreed: the count kept only the file's last
// listing (the shell's), so 6451 had no fd count and no exhaustion, while
// the file was said to be 6451's.
func TestFDListingOneRule(t *testing.T) {
	self := "$ ls -l /proc/self/fd\ntotal 0\n" +
		"lrwx------ 1 root root 64 Dec  2 17:03 0 -> /dev/pts/0\n" +
		"lrwx------ 1 root root 64 Dec  2 17:03 1 -> /dev/pts/0\n" +
		"lrwx------ 1 root root 64 Dec  2 17:03 2 -> /dev/pts/0\n" +
		"lr-x------ 1 root root 64 Dec  2 17:03 3 -> /proc/7001/fd\n"
	for _, tt := range []struct {
		name, fd string
		why      string
	}{
		{"named, then the shell's", "$ ls -l /proc/6451/fd\n" + fdCase(t, "proc-fd.txt") + self, "it names the pid"},
		{"the shell's, then named", self + "$ ls -l /proc/6451/fd\n" + fdCase(t, "proc-fd.txt"), "it names the pid"},
		// Without the prompt the listing names no pid: its socket inodes
		// are 6451's sockets (ss -tanpoei's ino:).
		{"by inode, then the shell's", "$ ls -l\n" + fdCase(t, "proc-fd.txt") + self, "59 of its socket inodes are sockets of pid 6451"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &builder{in: BuildInput{Evidence: []*dumps.Evidence{
				readEv(t, "ss-tanpoei.txt", fdCase(t, "ss-tanpoei.txt")),
				readEv(t, "fd.txt", tt.fd),
			}}}
			if got := b.openFDs()[6451]; got.n != 64 || got.from != tt.why {
				t.Errorf("openFDs: %d fds because %q, want 64 because %q", got.n, got.from, tt.why)
			}
			if n := len(b.openFDs()); n != 1 {
				t.Errorf("openFDs: %d processes, want 6451's alone: %v", n, b.openFDs())
			}
			if got := b.fdListingsOf()["fd.txt"]; got.pid != 6451 || got.why != tt.why {
				t.Errorf("fdListingsOf: pid %d because %q, want 6451 because %q", got.pid, got.why, tt.why)
			}
		})
	}
	// A listing of two processes is of neither, but each keeps its count.
	other := "$ ls -l /proc/7002/fd\ntotal 0\nlrwx------ 1 root root 64 Dec  2 17:03 0 -> /dev/null\n"
	b := &builder{in: BuildInput{Evidence: []*dumps.Evidence{
		readEv(t, "ss-tanpoei.txt", fdCase(t, "ss-tanpoei.txt")),
		readEv(t, "fd.txt", "$ ls -l /proc/6451/fd\n"+fdCase(t, "proc-fd.txt")+other),
	}}}
	if fds := b.openFDs(); fds[6451].n != 64 || fds[7002].n != 1 {
		t.Errorf("openFDs: %v, want 64 for 6451 and 1 for 7002", fds)
	}
	if got, ok := b.fdListingsOf()["fd.txt"]; ok {
		t.Errorf("fdListingsOf: a listing of two processes is said to be %d's", got.pid)
	}
	if !strings.Contains(fdCase(t, "COMMANDS.txt"), "ls -l /proc/6451/fd > proc-fd.txt") {
		t.Error("the case's fd listing is no longer `ls -l /proc/6451/fd`")
	}
}
