package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/pcapstate"
)

// TestPartialMerge: partial given partial states (and a capture) merges
// them into one, says so on stderr, and conns reads the merged partial
// state as it reads the captures; a partial state written with a filter
// merged with another filter is an error naming it.
func TestPartialMerge(t *testing.T) {
	inRoot(t)
	dir := t.TempDir()
	caps := []string{
		"testdata/cases/java-pool-leak/capture.pcap",
		"testdata/cases/go-client-pool-leak/capture.pcap",
		"testdata/cases/nginx-upstream-leak/capture.pcap",
	}
	p0, p1, m := filepath.Join(dir, "p0.cwfp"), filepath.Join(dir, "p1.cwfp"), filepath.Join(dir, "m.cwfp")
	for i, p := range []string{p0, p1} {
		if code, _, stderr := cli(t, "partial", "--progress", "never", "-o", p, caps[i]); code != 0 {
			t.Fatalf("partial %s: exit %d: %s", caps[i], code, stderr)
		}
	}
	code, _, stderr := cli(t, "partial", "--progress", "never", "-o", m, p0, p1, caps[2])
	if code != 0 {
		t.Fatalf("partial of partial states: exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`^partial: 3 captures \(2 partial states merged\), \d+ packets \(\d+ TCP segments\): .* written to .*m\.cwfp, \d+\.\d\d times the inputs' `).MatchString(stderr) {
		t.Errorf("stderr: %s", stderr)
	}
	_, want, _ := cli(t, "conns", "--format", "tsv", caps[0], caps[1], caps[2])
	code, got, stderr := cli(t, "conns", "--format", "tsv", m)
	if code != 0 || got != want {
		t.Errorf("conns on the merged partial state: exit %d, %s\n got %s\nwant %s", code, stderr, got, want)
	}
	f := filepath.Join(dir, "f.cwfp")
	if code, _, stderr := cli(t, "partial", "--progress", "never", "--filter", "tcp", "-o", f, caps[0]); code != 0 {
		t.Fatalf("partial --filter: exit %d: %s", code, stderr)
	}
	code, _, stderr = cli(t, "partial", "--progress", "never", "--filter", "tcp port 80", "-o", filepath.Join(dir, "g.cwfp"), f)
	if code == 0 || !strings.Contains(stderr, `f.cwfp: a partial state written with filter "tcp" cannot be merged with filter "tcp port 80"`) {
		t.Errorf("merge with another filter: exit %d: %s", code, stderr)
	}
}

// TestPartialSizeRatio: partial's line compares the partial state with
// its inputs as a fraction only when it is smaller than captures alone; a
// partial state larger than its captures (a capture of a few packets,
// which the header outweighs) says how many times, never "1/0.2".
func TestPartialSizeRatio(t *testing.T) {
	for _, tc := range []struct {
		st    pcapstate.PartialStats
		total int64
		want  string
	}{
		{pcapstate.PartialStats{Bytes: 100}, 1000, ", 1/10.0 of the captures' 1000 B"},
		{pcapstate.PartialStats{Bytes: 159}, 24, ", 6.62 times the inputs' 24 B"},
		{pcapstate.PartialStats{Bytes: 105, Merged: 1}, 100, ", 1.05 times the inputs' 100 B"},
		{pcapstate.PartialStats{Bytes: 93, Merged: 2}, 100, ", 0.93 times the inputs' 100 B"},
		{pcapstate.PartialStats{Bytes: 100}, -1, ""},
		{pcapstate.PartialStats{}, 100, ""},
	} {
		if got := sizeRatio(tc.st, tc.total); got != tc.want {
			t.Errorf("sizeRatio(%+v, %d) = %q, want %q", tc.st, tc.total, got, tc.want)
		}
	}
}

// TestPartialWarnsIgnored: partial says when a capture gives no TCP
// segment (here, none passes the filter), as conns and analyze will
// ignore it, instead of writing its partial state without a word.
func TestPartialWarnsIgnored(t *testing.T) {
	inRoot(t)
	out := filepath.Join(t.TempDir(), "p.cwfp")
	code, _, stderr := cli(t, "partial", "--progress", "never", "--filter", "tcp port 1", "-o", out, "testdata/cases/java-pool-leak/capture.pcap")
	if code != 0 {
		t.Fatalf("partial: exit %d: %s", code, stderr)
	}
	want := "warning: testdata/cases/java-pool-leak/capture.pcap: no TCP segment, conns and analyze will ignore it: all "
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "packets filtered out") {
		t.Errorf("stderr: %s\nwant %q", stderr, want)
	}
}

// TestPartialCaptureTwiceAbsolute: a capture written into a partial state
// by its absolute path and given beside it by a relative one is refused
// as one capture read twice (by its identity, pcapstate.CaptureID), not
// read twice; the same partial state with another capture is read.
func TestPartialCaptureTwiceAbsolute(t *testing.T) {
	inRoot(t)
	rel := "testdata/cases/java-pool-leak/capture.pcap"
	abs, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "p.cwfp")
	if code, _, stderr := cli(t, "partial", "--progress", "never", "-o", p, abs); code != 0 {
		t.Fatalf("partial %s: exit %d: %s", abs, code, stderr)
	}
	want := "capture " + abs + " (through " + p + ") and capture " + rel + " (itself) are one capture read twice"
	if code, _, stderr := cli(t, "conns", p, rel); code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("conns %s %s: exit %d: %s\nwant %q", p, rel, code, stderr, want)
	}
	if code, _, stderr := cli(t, "conns", p, "testdata/cases/go-client-pool-leak/capture.pcap"); code != 0 {
		t.Errorf("conns with another capture: exit %d: %s", code, stderr)
	}
}

// TestPartialStdinTwice: two hosts' captures piped to partial - are both
// named stdin, and their partial states are refused together as one
// capture read twice, by conns and by a merge, as docs/scale.md says.
func TestPartialStdinTwice(t *testing.T) {
	inRoot(t)
	dir := t.TempDir()
	for i, c := range []string{"fd-exhaustion", "go-client-pool-leak"} {
		f, err := os.Open(filepath.Join("testdata", "cases", c, "capture.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		out := filepath.Join(dir, fmt.Sprintf("host%d.cwfp", i))
		code := run([]string{"partial", "--progress", "never", "-o", out, "-"}, f, io.Discard, &stderr)
		f.Close()
		if code != 0 {
			t.Fatalf("partial of %s: exit %d: %s", c, code, stderr.String())
		}
	}
	a, b := filepath.Join(dir, "host0.cwfp"), filepath.Join(dir, "host1.cwfp")
	for _, args := range [][]string{
		{"conns", "--progress", "never", a, b},
		{"partial", "--progress", "never", "-o", filepath.Join(dir, "merged.cwfp"), a, b},
	} {
		var stderr strings.Builder
		code := run(args, nil, io.Discard, &stderr)
		if want := "capture stdin is read twice"; code == 0 || !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: exit %d, %q; want an error saying %q", args[0], code, stderr.String(), want)
		}
	}
}

// TestPartialStdinNamed: the same two hosts' captures piped with
// --stdin-name, each named for its host, merge: conns reads their partial
// states together as it reads the two captures, positions citing the
// names given; a name that is also a path given is an error.
func TestPartialStdinNamed(t *testing.T) {
	inRoot(t)
	dir := t.TempDir()
	cases := []string{"fd-exhaustion", "go-client-pool-leak"}
	var parts, caps []string
	for i, c := range cases {
		capture := filepath.Join("testdata", "cases", c, "capture.pcap")
		caps = append(caps, capture)
		f, err := os.Open(capture)
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		out := filepath.Join(dir, fmt.Sprintf("host%d.cwfp", i))
		code := run([]string{"partial", "--progress", "never", "--stdin-name", c + ".pcap", "-o", out, "-"}, f, io.Discard, &stderr)
		f.Close()
		if code != 0 {
			t.Fatalf("partial of %s: exit %d: %s", c, code, stderr.String())
		}
		parts = append(parts, out)
	}
	_, want, _ := cli(t, "conns", "--format", "tsv", caps[0], caps[1])
	// The rows cite the captures by the names given on stdin, where
	// reading the files cites their paths.
	for i, c := range cases {
		want = strings.ReplaceAll(want, caps[i]+":", c+".pcap:")
	}
	code, got, stderr := cli(t, "conns", "--format", "tsv", parts[0], parts[1])
	if code != 0 || got != want {
		t.Errorf("conns on the named partial states: exit %d, %s\n got %s\nwant %s", code, stderr, got, want)
	}
	if !strings.Contains(got, "fd-exhaustion.pcap: packet ") {
		t.Errorf("no position cites the name given: %s", got)
	}
	f, err := os.Open(caps[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code, _, stderr = cliIn(t, f, "conns", "--stdin-name", caps[1], "-", caps[1])
	if want := "standard input is named " + caps[1] + ", as is a path given"; code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("stdin named as a path given: exit %d, %q; want %q", code, stderr, want)
	}
}

// TestStdinNameHelp: each command's --stdin-name help says what the name
// appears in for that command: only partial writes partial states, which
// are what lets captures piped on several hosts be merged; evidence and
// conns write no report.
func TestStdinNameHelp(t *testing.T) {
	for _, tt := range []struct {
		cmd     any
		says    []string
		saysNot []string
	}{
		{PartialCmd{}, []string{"partial state", "merged"}, nil},
		{AnalyzeCmd{}, []string{"report"}, []string{"partial state", "merged"}},
		{ConnsCmd{}, nil, []string{"report", "partial state", "merged"}},
		{EvidenceCmd{}, nil, []string{"report", "partial state", "merged", "capture"}},
	} {
		typ := reflect.TypeOf(tt.cmd)
		f, ok := typ.FieldByName("StdinName")
		if !ok {
			t.Errorf("%s: no StdinName", typ.Name())
			continue
		}
		help := f.Tag.Get("help")
		for _, s := range tt.says {
			if !strings.Contains(help, s) {
				t.Errorf("%s: --stdin-name's help %q does not say %q", typ.Name(), help, s)
			}
		}
		for _, s := range tt.saysNot {
			if strings.Contains(help, s) {
				t.Errorf("%s: --stdin-name's help %q says %q, which the command does not do", typ.Name(), help, s)
			}
		}
	}
}
