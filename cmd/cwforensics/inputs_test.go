//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/report"
)

// cliIn runs the command line with stdin.
func cliIn(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, stdin, &out, &errb)
	return code, out.String(), errb.String()
}

const javaCase = "testdata/cases/java-pool-leak"

// socketCount is how many sockets analyze's JSON report holds.
func socketCount(t *testing.T, out string) int {
	t.Helper()
	m, err := report.ReadJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("not a JSON report: %v\n%.300s", err, out)
	}
	return len(m.Sockets)
}

// TestAnalyzeLinkedFolder is the first case: a case folder reached
// through a link, and its files through links, are read; --fail-on
// warning with a finding made critical exits 3, not "no finding".
func TestAnalyzeLinkedFolder(t *testing.T) {
	inRoot(t)
	abs, _ := filepath.Abs(javaCase)
	tmp := t.TempDir()
	if err := os.Symlink(abs, filepath.Join(tmp, "incident")); err != nil {
		t.Fatal(err)
	}
	files := filepath.Join(tmp, "files")
	os.Mkdir(files, 0o755)
	for _, f := range []string{"capture.pcap", "ss-tanpoei.txt", "jstack.txt"} {
		os.Symlink(filepath.Join(abs, f), filepath.Join(files, f))
	}
	_, direct, _ := cli(t, "analyze", "--format", "json", javaCase)
	for _, dir := range []string{filepath.Join(tmp, "incident"), tmp, files} {
		code, out, stderr := cli(t, "analyze", "--format", "json", dir)
		if code != 0 || socketCount(t, out) != socketCount(t, direct) || socketCount(t, out) == 0 {
			t.Errorf("%s: exit %d, %d sockets, want %d: %s", dir, code, socketCount(t, out), socketCount(t, direct), stderr)
		}
		code, _, stderr = cli(t, "analyze", "--format", "json", "--fail-on", "warning", "--max-fds", "6", dir)
		if code != exitFinding {
			t.Errorf("%s: --fail-on warning: exit %d, want %d: %s", dir, code, exitFinding, stderr)
		}
	}
}

// TestAnalyzeFailOnLostInput: --fail-on cannot pass when an input could
// not be read (a dangling link, a corrupt gzip), even with no finding.
func TestAnalyzeFailOnLostInput(t *testing.T) {
	inRoot(t)
	abs, _ := filepath.Abs(javaCase)
	tmp := t.TempDir()
	os.Symlink(abs, filepath.Join(tmp, "incident"))
	if code, _, stderr := cli(t, "analyze", "--format", "json", "--fail-on", "critical", tmp); code != 0 {
		t.Fatalf("all read: exit %d: %s", code, stderr)
	}
	os.Symlink(filepath.Join(tmp, "gone"), filepath.Join(tmp, "dangling.txt"))
	code, out, stderr := cli(t, "analyze", "--format", "json", "--fail-on", "critical", tmp)
	if code != exitFailure || !strings.Contains(stderr, "dangling.txt: ignored: dangling link") || !strings.Contains(stderr, "cannot vouch") {
		t.Errorf("dangling link: exit %d, stderr %q", code, stderr)
	}
	if socketCount(t, out) == 0 {
		t.Errorf("no report written before failing")
	}
	// A finding that reaches the severity is still exit 3.
	if code, _, stderr := cli(t, "analyze", "--format", "json", "--fail-on", "critical", "--max-fds", "6", tmp); code != exitFinding {
		t.Errorf("critical finding and a lost input: exit %d, want %d: %s", code, exitFinding, stderr)
	}
	// Without --fail-on the run passes, and says what was lost.
	code, _, stderr = cli(t, "analyze", "--format", "json", tmp)
	if code != 0 || !strings.Contains(stderr, "warning: ") {
		t.Errorf("no --fail-on: exit %d, %q", code, stderr)
	}
}

// TestAnalyzeNothingUsable: nothing read is exit 1 listing what was tried.
func TestAnalyzeNothingUsable(t *testing.T) {
	tmp := t.TempDir()
	notes := filepath.Join(tmp, "notes.txt")
	os.WriteFile(notes, []byte("notes\n"), 0o644)
	os.WriteFile(filepath.Join(tmp, "empty.log"), nil, 0o644)
	code, out, stderr := cli(t, "analyze", tmp)
	if code != exitFailure || out != "" || !strings.Contains(stderr, "nothing usable was read") ||
		!strings.Contains(stderr, "notes.txt: ignored") || !strings.Contains(stderr, "empty.log: ignored (empty file)") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code, _, _ := cli(t, "analyze", filepath.Join(tmp, "missing.txt")); code != exitFailure {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}

// TestAnalyzeStdin reads ss output from standard input ("-") beside a
// capture, and a capture from standard input.
func TestAnalyzeStdin(t *testing.T) {
	inRoot(t)
	ss, _ := os.ReadFile(javaCase + "/ss-tanpoei.txt")
	_, want, _ := cli(t, "analyze", "--format", "json", javaCase+"/capture.pcap", javaCase+"/ss-tanpoei.txt")
	code, out, stderr := cliIn(t, bytes.NewReader(ss), "analyze", "--format", "json", javaCase+"/capture.pcap", "-")
	if code != 0 || socketCount(t, out) != socketCount(t, want) || !strings.Contains(out, `"path": "stdin"`) {
		t.Errorf("ss on stdin: exit %d, %d sockets, want %d: %s", code, socketCount(t, out), socketCount(t, want), stderr)
	}
	capture, _ := os.Open(javaCase + "/capture.pcap")
	defer capture.Close()
	code, out, stderr = cliIn(t, capture, "conns", "--format", "tsv", "-")
	if code != 0 || strings.Count(out, "\n") < 2 || !strings.Contains(out, "stdin: packet 1") {
		t.Errorf("capture on stdin: exit %d, %.200q %s", code, out, stderr)
	}
}

// TestAnalyzeFIFO reads a named pipe and a /dev/fd/N path (what bash's
// process substitution <(zcat x.pcap.gz) passes) exactly once each.
func TestAnalyzeFIFO(t *testing.T) {
	inRoot(t)
	capture, _ := os.ReadFile(javaCase + "/capture.pcap")
	ss, _ := os.ReadFile(javaCase + "/ss-tanpoei.txt")
	_, want, _ := cli(t, "analyze", "--format", "json", javaCase+"/capture.pcap", javaCase+"/ss-tanpoei.txt")

	fifo := filepath.Join(t.TempDir(), "capture.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write(capture)
		f.Close()
	}()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.Write(ss)
		w.Close()
	}()
	devfd := fmt.Sprintf("/dev/fd/%d", r.Fd())
	code, out, stderr := cli(t, "analyze", "--format", "json", fifo, devfd)
	if code != 0 || socketCount(t, out) != socketCount(t, want) {
		t.Errorf("fifo and /dev/fd: exit %d, %d sockets, want %d: %s", code, socketCount(t, out), socketCount(t, want), stderr)
	}
	for _, kind := range []string{`"kind": "pcap"`, `"kind": "ss"`} {
		if !strings.Contains(out, kind) {
			t.Errorf("no input of %s", kind)
		}
	}
}

// TestOutputRefused: -o naming an input or a folder is refused before
// anything is written.
func TestOutputRefused(t *testing.T) {
	tmp := t.TempDir()
	ss := filepath.Join(tmp, "ss.md") // evidence with a report's extension
	raw, _ := os.ReadFile("../../" + javaCase + "/ss-tanpoei.txt")
	os.WriteFile(ss, raw, 0o644)
	for _, tt := range []struct {
		args []string
		err  string
	}{
		{[]string{"-o", ss, ss}, "is an input"},
		{[]string{"-o", ss, tmp}, "is an input"},
		{[]string{"-o", filepath.Join(tmp, "."), ss}, "unknown report format"},
		{[]string{"-o", filepath.Join(tmp, "dir.html"), ss}, "is a folder"},
	} {
		os.Mkdir(filepath.Join(tmp, "dir.html"), 0o755)
		code, _, stderr := cli(t, append([]string{"analyze"}, tt.args...)...)
		if code == 0 || !strings.Contains(stderr, tt.err) {
			t.Errorf("%v: exit %d, %q, want %q", tt.args, code, stderr, tt.err)
		}
		if got, _ := os.ReadFile(ss); !bytes.Equal(got, raw) {
			t.Fatalf("%v: the input was overwritten", tt.args)
		}
	}
}

// TestWriteAtomic: a failed write leaves the previous report, and no
// temporary file.
func TestWriteAtomic(t *testing.T) {
	tmp := t.TempDir()
	path := filepath.Join(tmp, "report.md")
	os.WriteFile(path, []byte("old report\n"), 0o644)
	err := writeAtomic(path, func(w *bufio.Writer) error {
		w.WriteString(strings.Repeat("new ", 1<<16))
		w.Flush()
		return fmt.Errorf("render failed")
	})
	if err == nil {
		t.Fatal("no error")
	}
	if got, _ := os.ReadFile(path); string(got) != "old report\n" {
		t.Errorf("report replaced by a failed write: %.40q", got)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
	if err := writeAtomic(path, func(w *bufio.Writer) error { _, err := w.WriteString("new\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new\n" {
		t.Errorf("got %q", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
}

// TestWriteAtomicKilled kills a process in the middle of writing a report
// (SIGKILL: no cleanup runs) and checks that the final name still holds
// the previous report, whole.
func TestWriteAtomicKilled(t *testing.T) {
	if path := os.Getenv("CWFORENSICS_TEST_ATOMIC_HELPER"); path != "" {
		// The helper: write half a report, then hang until killed.
		writeAtomic(path, func(w *bufio.Writer) error {
			w.WriteString(strings.Repeat("half a report\n", 1<<16))
			w.Flush()
			select {}
		})
		return
	}
	tmp := t.TempDir()
	path := filepath.Join(tmp, "report.html")
	os.WriteFile(path, []byte("previous report\n"), 0o644)
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriteAtomicKilled$")
	cmd.Env = append(os.Environ(), "CWFORENSICS_TEST_ATOMIC_HELPER="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		tmps, _ := filepath.Glob(filepath.Join(tmp, ".report.html.tmp-*"))
		if len(tmps) == 1 {
			if fi, err := os.Stat(tmps[0]); err == nil && fi.Size() >= 14<<16 {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the helper never wrote")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if got, _ := os.ReadFile(path); string(got) != "previous report\n" {
		t.Errorf("after a kill mid-write, %s holds %.40q", path, got)
	}
}

// TestEscapedNames: control characters and newlines in file names and
// evidence reach stderr and TSV escaped, and repeated warnings are folded.
func TestEscapedNames(t *testing.T) {
	tmp := t.TempDir()
	evil := filepath.Join(tmp, "evil\x1b[31m\nname.txt")
	var b strings.Builder
	b.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port\n")
	for range 5 {
		b.WriteString("ESTAB 0 0 127.0.0.1:80 127.0.0.1:5000\n")
		b.WriteString("ESTAB 0 0 nowhere nothing\n")
	}
	os.WriteFile(evil, []byte(b.String()), 0o644)
	code, out, stderr := cli(t, "evidence", "--format", "tsv", evil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for name, s := range map[string]string{"stdout": out, "stderr": stderr} {
		if strings.Contains(s, "\x1b") || strings.Contains(s, "m\nname") {
			t.Errorf("%s: raw control characters: %q", name, s)
		}
	}
	if !strings.Contains(stderr, `evil\x1b[31m\nname.txt:3`) || !strings.Contains(stderr, "(and 4 more like it)") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q: want one escaped, folded warning", stderr)
	}
	// Debug log lines name the file escaped too (slog quotes it).
	_, _, stderr = cli(t, "--log-level", "debug", "analyze", "--format", "json", tmp)
	if strings.Contains(stderr, "\x1b") || !strings.Contains(stderr, `\x1b`) {
		t.Errorf("log lines: %q", stderr)
	}
	// An error naming the file is escaped too.
	os.WriteFile(evil, []byte("notes\n"), 0o644)
	_, _, stderr = cli(t, "evidence", evil)
	if strings.Contains(stderr, "\x1b") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("error line %q", stderr)
	}
}

func TestWarnFolds(t *testing.T) {
	var b bytes.Buffer
	warn(&b, []warning{{"a:1", "bad line"}, {"a:2", "bad line"}, {"b:1", "other"}, {"a:9", "bad line"}, {"", "no position\x07"}})
	want := "warning: a:1: bad line (and 2 more like it)\nwarning: b:1: other\nwarning: no position\\x07\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestAnalyzeUnreadableFolder: a folder that cannot be listed is an
// ignored input, and the walk goes on (root reads everything: skipped).
func TestAnalyzeUnreadableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads folders whatever their mode; TestWalk covers too-deep folders and dangling links")
	}
	inRoot(t)
	tmp := t.TempDir()
	abs, _ := filepath.Abs(javaCase)
	os.Symlink(abs, filepath.Join(tmp, "incident"))
	locked := filepath.Join(tmp, "locked")
	os.Mkdir(locked, 0o755)
	os.WriteFile(filepath.Join(locked, "ss.txt"), []byte("x"), 0o644)
	os.Chmod(locked, 0)
	defer os.Chmod(locked, 0o755)
	code, out, stderr := cli(t, "analyze", "--format", "json", tmp)
	if code != 0 || socketCount(t, out) == 0 || !strings.Contains(stderr, "locked: ignored: folder not readable") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestAnalyzeInterrupted: a run whose context ends (Ctrl-C) writes no
// report and exits 1.
func TestAnalyzeInterrupted(t *testing.T) {
	inRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "report.html")
	var stdout, stderr bytes.Buffer
	code := runContext(ctx, []string{"analyze", "-o", out, javaCase}, nil, &stdout, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), "interrupted: nothing written") {
		t.Errorf("exit %d, %q", code, stderr.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a report was written")
	}
}
