package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/cwforensics/cwforensics/internal/golden"
)

// runtimeFiles are a Python stderr (faulthandler dump, ResourceWarnings), a
// Node.js report, and two logs.
var runtimeFiles = []string{
	"../../testdata/cases/python-faulthandler/stderr.txt",
	"../../testdata/cases/python-faulthandler/app.log",
	"../../testdata/cases/node-unconsumed/node-report.json",
	"../../dumps/applog/testdata/journal.json",
	"../../dumps/python/testdata/pyspy.json",
}

// TestEvidenceRuntimes runs `evidence` on Python, Node.js and log files
// and checks the tables against a golden file.
func TestEvidenceRuntimes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"evidence"}, runtimeFiles...), nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	golden.Check(t, "testdata/evidence_runtimes.table.golden", []byte(relPaths(t, stdout.String())))
}

// TestEvidenceRuntimesJSON checks each file's kind and that the records
// are under their JSON keys.
func TestEvidenceRuntimesJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"evidence", "--format", "json"}, runtimeFiles...), nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var out struct {
		Files []struct {
			Kind           string            `json:"kind"`
			ThreadDumps    []json.RawMessage `json:"thread_dumps"`
			Processes      []json.RawMessage `json:"processes"`
			RuntimeSockets []json.RawMessage `json:"runtime_sockets"`
			LogEvents      []json.RawMessage `json:"log_events"`
		} `json:"files"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind                          string
		dumps, procs, sockets, events int
	}{
		{"python", 1, 0, 7, 7}, // the warnings are log events too
		{"app-log", 0, 0, 0, 3},
		{"node-report", 0, 1, 9, 0},
		{"app-log", 0, 0, 0, 1},
		{"py-spy-json", 1, 1, 0, 0},
	}
	if len(out.Files) != len(want) {
		t.Fatalf("%d files, want %d", len(out.Files), len(want))
	}
	for i, w := range want {
		f := out.Files[i]
		if f.Kind != w.kind || len(f.ThreadDumps) != w.dumps || len(f.Processes) != w.procs || len(f.RuntimeSockets) != w.sockets || len(f.LogEvents) != w.events {
			t.Errorf("%s: kind %s, %d dumps, %d processes, %d sockets, %d events; want %+v", runtimeFiles[i], f.Kind,
				len(f.ThreadDumps), len(f.Processes), len(f.RuntimeSockets), len(f.LogEvents), w)
		}
	}
}
