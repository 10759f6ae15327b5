package node

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

// TestGolden compares the records of every file of testdata/ with its
// .golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	dumptest.JSONGoldens(t, "testdata/*.json", Match, Read)
}

// TestDocExample checks the example of Node.js's doc/api/report.md against
// what the document itself shows.
func TestDocExample(t *testing.T) {
	rep, warns, err := ReadReport(bytes.NewReader(dumptest.ReadFile(t, "testdata/doc-example.json")), "r.json")
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	if rep.Process.PID != 8974 || rep.Process.Version != "v12.0.0-pre" || !strings.HasSuffix(rep.Process.Command, "test-exception.js child") {
		t.Errorf("process = %+v", rep.Process)
	}
	if len(rep.Sockets) != 1 {
		t.Fatalf("%d sockets, want 1", len(rep.Sockets))
	}
	s := rep.Sockets[0]
	if s.FD != 24 || s.Local.Port != 48986 || s.Remote.Port != 38573 || s.Local.Addr.String() != "127.0.0.1" || !s.Active || s.Paused {
		t.Errorf("socket = %+v", s)
	}
	if rep.Stack == nil || len(rep.Stack.Threads[0].Frames) != 9 || rep.Stack.Threads[0].Frames[0].Func != "myException" || rep.Stack.Threads[0].Frames[0].Line != 9 {
		t.Errorf("stack = %+v", rep.Stack)
	}
}

// TestRealCase checks the report of testdata/cases/node-unconsumed: one
// paused tcp handle per socket in CLOSE_WAIT, each in the ss listing with
// the same fd.
func TestRealCase(t *testing.T) {
	dir := "../../testdata/cases/node-unconsumed/"
	var c struct {
		Counts struct {
			CloseWait int `json:"close_wait"`
		} `json:"counts"`
	}
	if err := json.Unmarshal(dumptest.ReadFile(t, dir+"case.json"), &c); err != nil {
		t.Fatal(err)
	}
	rep, _, err := ReadReport(bytes.NewReader(dumptest.ReadFile(t, dir+"node-report.json")), "node-report.json")
	if err != nil {
		t.Fatal(err)
	}
	ss := string(dumptest.ReadFile(t, dir+"ss-tanpoei.txt"))
	paused := 0
	for _, s := range rep.Sockets {
		if !s.Paused {
			continue
		}
		paused++
		want := "127.0.0.1:" + s.Local.PortString()
		if !strings.Contains(ss, want) {
			t.Errorf("paused socket %s not in ss-tanpoei.txt", want)
		}
	}
	if paused != c.Counts.CloseWait {
		t.Errorf("%d paused sockets, want %d", paused, c.Counts.CloseWait)
	}
}

func TestMatch(t *testing.T) {
	for text, want := range map[string]bool{
		`{"header": {"reportVersion": 3, "nodejsVersion": "v16.0.0"}}`: true,
		`{"threadDump": {}}`:               false,
		`[{"header": 1}]`:                  false,
		`{"header": {"reportVersion": 3}}`: false,
	} {
		if got := Match([]byte(text)); got != want {
			t.Errorf("Match(%s) = %v, want %v", text, got, want)
		}
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		f.Add(dumptest.ReadFile(f, file))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Match(data)
		ev, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatalf("in-memory input failed: %v", err)
		}
		for _, w := range ev.Warnings {
			if w.Pos.File != "fuzz" || w.Msg == "" {
				t.Fatalf("bad warning %+v", w)
			}
		}
	})
}
