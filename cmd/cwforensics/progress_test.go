package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/analysis"
)

func TestProgressLine(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name  string
		s     progressStat
		width int
		want  string
	}{
		{"nothing read yet", progressStat{Total: 10 * mib, Elapsed: time.Second}, 80,
			"0 B of 10.0 MiB (0%)"},
		{"bytes below a KiB", progressStat{Bytes: 1023, Total: -1, Elapsed: time.Second}, 80,
			"1023 B, 1023 B/s"},
		{"known total: share, rate, time left", progressStat{Bytes: 12 * mib, Total: 48 * mib, Packets: 104000, Elapsed: 2 * time.Second, Name: "capture.pcap"}, 80,
			"12.0 MiB of 48.0 MiB (25%), 104000 packets, 6.0 MiB/s, 6s left: capture.pcap"},
		{"time left in minutes, rounded up", progressStat{Bytes: 1 * mib, Total: 200 * mib, Elapsed: time.Second}, 80,
			"1.0 MiB of 200.0 MiB (0%), 1.0 MiB/s, 3m19s left"},
		{"time left in hours", progressStat{Bytes: 1 << 30, Total: 100 << 30, Elapsed: 100 * time.Second}, 80,
			"1.0 GiB of 100.0 GiB (1%), 10.2 MiB/s, 2h45m left"},
		{"unknown total (a pipe): no share, no time left", progressStat{Bytes: 3 * mib / 2, Total: -1, Packets: 1, Elapsed: 3 * time.Second, Name: "stdin"}, 80,
			"1.5 MiB, 1 packet, 512.0 KiB/s: stdin"},
		{"all read: no time left", progressStat{Bytes: 5 * mib, Total: 5 * mib, Packets: 8192, Elapsed: time.Second}, 80,
			"5.0 MiB of 5.0 MiB (100%), 8192 packets, 5.0 MiB/s"},
		{"read past the size (the file grew): as unknown", progressStat{Bytes: 6 * mib, Total: 5 * mib, Elapsed: time.Second}, 80,
			"6.0 MiB, 6.0 MiB/s"},
		{"no time elapsed: no rate", progressStat{Bytes: 100, Total: 1000}, 80,
			"100 B of 1000 B (10%)"},
		{"terabytes", progressStat{Bytes: 3 << 40, Total: -1, Elapsed: 0}, 80,
			"3.0 TiB"},
		{"control characters in a name are escaped", progressStat{Bytes: 0, Total: -1, Name: "a\x1b[2Jb\n.pcap"}, 80,
			`0 B: a\x1b[2Jb\n.pcap`},
		{"a long name keeps its end", progressStat{Bytes: 2048, Total: 4096, Elapsed: time.Second, Name: "incidents/2026-12-02/host-a/rotated/capture-0001.pcap"}, 60,
			"2.0 KiB of 4.0 KiB (50%), 2.0 KiB/s, 1s left: …re-0001.pcap"},
		{"too narrow for the name", progressStat{Bytes: 2048, Total: 4096, Elapsed: time.Second, Name: "capture.pcap"}, 45,
			"2.0 KiB of 4.0 KiB (50%), 2.0 KiB/s, 1s left"},
		{"too narrow for the line: cut", progressStat{Bytes: 2048, Total: 4096, Elapsed: time.Second}, 21,
			"2.0 KiB of 4.0 KiB ("},
		{"width unknown: 80", progressStat{Bytes: 1, Total: -1, Name: strings.Repeat("x", 100)}, 0,
			"1 B: …" + strings.Repeat("x", 73)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := progressLine(tt.s, tt.width)
			if got != tt.want {
				t.Errorf("progressLine = %q\nwant           %q", got, tt.want)
			}
			w := tt.width
			if w <= 1 {
				w = progressWidth
			}
			if n := len([]rune(got)); n > w-1 {
				t.Errorf("%d columns, wider than %d", n, w-1)
			}
		})
	}
}

// TestCountSources checks the total a progress line shows: the sizes of
// the sources read, unknown once one has no size, a path given twice
// counted once; and that reading through the sources is counted.
func TestCountSources(t *testing.T) {
	a, b := analysis.Bytes("a.txt", []byte("12345")), analysis.Bytes("b.txt", []byte("123"))
	skipped := analysis.Source{Name: "dangling", Walked: true}
	skipped.Skip.Status = 2
	var m meter
	srcs := countSources([]analysis.Source{a, b, a, skipped}, &m)
	if m.total != 8 {
		t.Errorf("total = %d, want 8", m.total)
	}
	for _, s := range srcs[:2] {
		rc, err := s.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	if got := m.bytes.Load(); got != 8 {
		t.Errorf("bytes read = %d, want 8", got)
	}
	if n := m.name.Load(); n == nil || *n != "b.txt" {
		t.Errorf("last read = %v, want b.txt", n)
	}
	var m2 meter
	countSources([]analysis.Source{a, analysis.Reader(analysis.StdinName, strings.NewReader("x"))}, &m2)
	if m2.total != -1 {
		t.Errorf("total with standard input = %d, want -1 (unknown)", m2.total)
	}
}

// TestProgressNotTerminal checks that with stderr not a terminal (a file,
// a buffer), auto draws nothing: stderr and stdout are byte for byte those
// of --progress never.
func TestProgressNotTerminal(t *testing.T) {
	dir := "../../testdata/cases/go-two-services"
	for _, args := range [][]string{
		{"analyze", "--format", "json", dir},
		{"conns", "--format", "tsv", filepath.Join(dir, "capture.pcap")},
	} {
		var wantOut, wantErr bytes.Buffer
		never := append(slices.Clone(args[:1]), append([]string{"--progress", "never"}, args[1:]...)...)
		if code := run(never, nil, &wantOut, &wantErr); code != exitOK {
			t.Fatalf("%v: exit %d: %s", never, code, wantErr.String())
		}
		var out bytes.Buffer
		f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
		if err != nil {
			t.Fatal(err)
		}
		if code := run(args, nil, &out, f); code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		f.Close()
		gotErr, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), wantOut.Bytes()) || !bytes.Equal(gotErr, wantErr.Bytes()) {
			t.Errorf("%v: output differs from --progress never; stderr %q, want %q", args, gotErr, wantErr.Bytes())
		}
		if bytes.Contains(gotErr, []byte("\r")) {
			t.Errorf("%v: a progress line on a stderr that is no terminal: %q", args, gotErr)
		}
	}
}

// TestProgressAlways checks that --progress always draws on any stderr,
// however short the work: the counts of the whole capture, then the line
// cleared; stdout is untouched.
func TestProgressAlways(t *testing.T) {
	capture := "../../testdata/cases/go-two-services/capture.pcap"
	fi, err := os.Stat(capture)
	if err != nil {
		t.Fatal(err)
	}
	var wantOut, out, stderr bytes.Buffer
	if code := run([]string{"conns", "--progress", "never", "--format", "tsv", capture}, nil, &wantOut, io.Discard); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if code := run([]string{"conns", "--progress", "always", "--format", "tsv", capture}, nil, &out, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !bytes.Equal(out.Bytes(), wantOut.Bytes()) {
		t.Error("stdout differs from --progress never")
	}
	s := stderr.String()
	size := formatBytes(fi.Size())
	last := strings.LastIndex(s, "\r"+size+" of "+size+" (100%)")
	if last < 0 {
		t.Fatalf("no line with the whole capture read (%s) in %q", size, s)
	}
	final := s[last+1:]
	line, _, _ := strings.Cut(final, "\r")
	if !strings.Contains(line, " packets") || !strings.HasSuffix(line, "capture.pcap") {
		t.Errorf("last line %q: want packets and the capture's name", line)
	}
	// Cleared: blanks over the longest line drawn, the cursor back at the
	// start of the line.
	parts := strings.Split(s, "\r")
	blank := parts[len(parts)-2]
	if parts[len(parts)-1] != "" || strings.Trim(blank, " ") != "" || len(blank) < len([]rune(line)) {
		t.Errorf("stderr does not end by clearing the line: %q", s[max(0, len(s)-200):])
	}
}

func TestProgressDelay(t *testing.T) {
	tests := []struct {
		mode  string
		tty   bool
		after time.Duration
		draw  bool
	}{
		{"auto", true, progressAfter, true},
		{"auto", false, 0, false},
		{"always", false, 0, true},
		{"always", true, 0, true},
		{"never", true, 0, false},
		{"never", false, 0, false},
	}
	for _, tt := range tests {
		after, draw := progressDelay(tt.mode, tt.tty)
		if after != tt.after || draw != tt.draw {
			t.Errorf("progressDelay(%q, tty %v) = %v, %v; want %v, %v", tt.mode, tt.tty, after, draw, tt.after, tt.draw)
		}
	}
}

// TestTerminalFD checks that a file and a buffer are not terminals.
func TestTerminalFD(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []io.Writer{f, &bytes.Buffer{}, io.Discard} {
		if _, tty := terminalFD(w); tty {
			t.Errorf("%T is taken for a terminal", w)
		}
	}
}

// TestDocProgressExample checks the progress line docs/analyze.md shows
// is the one drawn for the counts it describes.
func TestDocProgressExample(t *testing.T) {
	inRoot(t)
	doc, err := os.ReadFile("docs/analyze.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "<!-- progress-example -->\n```\n")
	example, _, ok2 := strings.Cut(after, "\n```")
	if !ok || !ok2 {
		t.Fatal("docs/analyze.md has no progress example")
	}
	s := progressStat{Bytes: 12 << 20, Total: 48 << 20, Packets: 104000, Elapsed: 2 * time.Second, Name: "capture.pcap"}
	if got := progressLine(s, progressWidth); got != example {
		t.Errorf("docs/analyze.md shows\n%s\nprogressLine draws\n%s", example, got)
	}
}
