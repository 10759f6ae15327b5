package node

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
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

// TestRealReports checks the reports of real Node.js 12, 16, 22 and 24
// (testdata/gen/node-reports: three client sockets paused in CLOSE_WAIT,
// to a server of the same process on port 18161, whose three ends wait
// in FIN_WAIT2, and its listener): the version and pid of the header, and
// each tcp handle with its fd, endpoints and whether it is paused, across
// the reportVersion 2 (Node 12, 16) and 5 (Node 22, 24) layouts.
func TestRealReports(t *testing.T) {
	for _, major := range []string{"12", "16", "22", "24"} {
		t.Run("node"+major, func(t *testing.T) {
			data := dumptest.ReadFile(t, "testdata/real-node"+major+".json")
			var hdr struct {
				Header struct {
					ProcessID int `json:"processId"`
				} `json:"header"`
			}
			if err := json.Unmarshal(data, &hdr); err != nil {
				t.Fatal(err)
			}
			rep, warns, err := ReadReport(bytes.NewReader(data), "r.json")
			if err != nil || len(warns) > 0 {
				t.Fatal(err, warns)
			}
			if !strings.HasPrefix(rep.Process.Version, "v"+major+".") || rep.Process.PID != hdr.Header.ProcessID || rep.Process.PID == 0 {
				t.Errorf("process %+v, want node %s with the header's pid %d", rep.Process, major, hdr.Header.ProcessID)
			}
			var paused, others, listeners int
			fds := map[int]bool{}
			for _, s := range rep.Sockets {
				if s.FD <= 0 || fds[s.FD] {
					t.Errorf("socket %+v: fd missing or repeated", s)
				}
				fds[s.FD] = true
				switch {
				case s.Remote.Port == 0:
					listeners++
				case s.Paused:
					paused++
					// Node 12 and 16 name the endpoints by host only.
					loopback := s.Local.Addr.String() == "127.0.0.1" || !s.Local.Addr.IsValid() && s.Local.Host == "localhost"
					if s.Remote.Port != 18161 || !loopback {
						t.Errorf("paused socket %+v, want a client of 127.0.0.1:18161", s)
					}
				default:
					others++
					if s.Local.Port != 18161 {
						t.Errorf("socket %+v, want the server's end on :18161", s)
					}
				}
			}
			if paused != 3 || others != 3 || listeners > 1 {
				t.Errorf("%d paused, %d other connected, %d listening sockets; want 3, 3 and the listener", paused, others, listeners)
			}
			if rep.Stack == nil || !slices.ContainsFunc(rep.Stack.Threads[0].Frames, func(f dumps.Frame) bool { return strings.HasSuffix(f.File, "paused.js") }) {
				t.Errorf("stack %+v does not reach paused.js", rep.Stack)
			}
		})
	}
}
