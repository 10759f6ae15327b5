package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/internal/golden"
	"github.com/google/go-cmp/cmp"
)

// TestEvidenceDumpsTSV runs `evidence --format tsv` on a JVM dump, a Go
// dump and a debug=1 profile and checks the rows against a golden file.
func TestEvidenceDumpsTSV(t *testing.T) {
	files := []string{
		"../../testdata/conformance/jstack/dumpling_crlf.log",
		"../../testdata/conformance/jstack/tda_jstack_dump_jdk21.log",
		"../../testdata/conformance/goroutines/gostackparse/waitsince.txt",
		"../../testdata/conformance/goroutines/go-profiler-notes/1.pprof.lookup.goroutine.debug1.txt",
		"../../testdata/conformance/goroutines/go-profiler-notes/1.pprof.lookup.goroutine.debug0.pb.gz",
	}
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"evidence", "--format", "tsv"}, files...), nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got := relPaths(t, stdout.String())
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if h := lines[0]; !strings.HasPrefix(h, "source\tkind\tid\tname\tstate\twait\tcount\tframes\t") {
		t.Errorf("header %q does not start with the stable columns", h)
	}
	golden.Check(t, "../../testdata/dumps/golden/cli_evidence.tsv.golden", []byte(got))
}

// TestEvidenceDumpsJSON checks that the JSON output holds the dump records
// under snake_case keys.
func TestEvidenceDumpsJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"evidence", "--format", "json", "../../testdata/conformance/jstack/jthreaddump_deadlock.txt"}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var out struct {
		Files []struct {
			Kind        string `json:"kind"`
			ThreadDumps []struct {
				SMRLength int `json:"smr_length"`
				Threads   []struct {
					Name string `json:"name"`
				} `json:"threads"`
				Deadlocks []struct {
					Threads []string `json:"threads"`
				} `json:"deadlocks"`
			} `json:"thread_dumps"`
		} `json:"files"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Files) != 1 || out.Files[0].Kind != "jstack" || len(out.Files[0].ThreadDumps) != 1 {
		t.Fatalf("unexpected JSON: %s", stdout.String()[:200])
	}
	d := out.Files[0].ThreadDumps[0]
	if d.SMRLength != 16 || len(d.Threads) != 33 || len(d.Deadlocks) != 1 || !cmp.Equal(d.Deadlocks[0].Threads, []string{"DeadlockThread-A", "DeadlockThread-B"}) {
		t.Errorf("smr_length %d, %d threads, deadlocks %v", d.SMRLength, len(d.Threads), d.Deadlocks)
	}
}

// relPaths makes the absolute paths kong gives the command relative to the
// repository, so the golden file does not depend on where it is checked out.
func relPaths(t *testing.T, s string) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(s, root+string(filepath.Separator), "")
}

// TestEvidenceDumpsTable checks the table format for people: threads, then
// the stack groups, then the series of a file holding three dumps.
func TestEvidenceDumpsTable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"evidence", "../../testdata/dumps/go-debug2-series.txt"}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got := relPaths(t, stdout.String())
	for _, h := range []string{"source  ", "dump  ", "file  "} {
		if strings.Count(got, "\n"+h)+strings.Count(got[:len(h)], h) != 1 {
			t.Errorf("want one table whose header starts with %q", h)
		}
	}
	// Column widths depend on the absolute paths kong makes: the golden has
	// every run of spaces squeezed to two.
	got = regexp.MustCompile(`  +`).ReplaceAllString(got, "  ")
	golden.Check(t, "../../testdata/dumps/golden/cli_evidence_series.txt.golden", []byte(got))
}
