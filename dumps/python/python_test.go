package python

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

// TestGolden compares the records of every file of testdata/ with its
// .golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	dumptest.JSONGoldens(t, "testdata/*", Match, Read)
}

func TestModule(t *testing.T) {
	for file, want := range map[string]string{
		"/usr/lib/python3.11/socket.py":                                     "socket",
		"/usr/lib/python3.11/http/client.py":                                "http.client",
		"/usr/local/lib/python3.12/site-packages/urllib3/connectionpool.py": "urllib3.connectionpool",
		"/venv/lib/python3.10/site-packages/requests/__init__.py":           "requests",
		"/usr/lib/python3/dist-packages/requests/adapters.py":               "requests.adapters",
		`C:\Python311\Lib\socket.py`:                                        "socket",
		"/srv/app/server.py":                                                "server",
		"socket.py":                                                         "socket",
		"http/client.py":                                                    "http.client", // py-spy's names relative to sys.path
		"<frozen importlib._bootstrap>":                                     "importlib._bootstrap",
		"<stdin>":                                                           "",
	} {
		if got := Module(file); got != want {
			t.Errorf("Module(%q) = %q, want %q", file, got, want)
		}
	}
}

func TestParseUnclosed(t *testing.T) {
	tests := []struct {
		typ, attrs string
		fd         int
		local      string
		remote     string
		family     string
		err        bool
	}{
		{"socket.socket", "fd=7, family=2, type=1, proto=6, laddr=('127.0.0.1', 8080), raddr=('127.0.0.1', 50312)", 7, "127.0.0.1:8080", "127.0.0.1:50312", "AF_INET", false},
		{"socket.socket", "fd=9, family=AddressFamily.AF_INET6, type=SocketKind.SOCK_STREAM, proto=6, laddr=('::1', 50412, 0, 0), raddr=('::1', 8443, 0, 0)", 9, "::1:50412", "::1:8443", "AF_INET6", false},
		{"ssl.SSLSocket", "fd=11, family=2, type=1, proto=6, laddr=('10.0.0.5', 41234)", 11, "10.0.0.5:41234", ":", "AF_INET", false},
		{"socket.socket", "fd=14, family=10, type=1, proto=6, laddr=('::ffff:10.0.0.5', 8080, 0, 0)", 14, "10.0.0.5:8080", ":", "AF_INET6", false},
		{"socket.socket", "[closed] fd=-1, family=2, type=1, proto=0", -1, ":", ":", "AF_INET", false},
		{"socket.socket", "fd=abc, family=2", 0, "", "", "", true},
		{"socket.socket", "fd=3, laddr=('10.0.0.5', 99999)", 0, "", "", "", true},
		{"socket.socket", "fd=3, laddr=('10.0.0.5', 80", 0, "", "", "", true},
		{"_io.TextIOWrapper", "name='x.txt'", 0, "", "", "", true},
	}
	for _, tt := range tests {
		s, err := parseUnclosed(tt.typ, tt.attrs)
		if (err != nil) != tt.err {
			t.Errorf("parseUnclosed(%q): err = %v, want error %v", tt.attrs, err, tt.err)
			continue
		}
		if tt.err {
			continue
		}
		ep := func(e dumps.Endpoint) string { return e.AddrString() + ":" + e.PortString() }
		if s.FD != tt.fd || ep(s.Local) != tt.local || ep(s.Remote) != tt.remote || s.Family != tt.family {
			t.Errorf("parseUnclosed(%q) = fd %d %s %s %s, want fd %d %s %s %s", tt.attrs, s.FD, ep(s.Local), ep(s.Remote), s.Family, tt.fd, tt.local, tt.remote, tt.family)
		}
	}
}

// TestTwoDumps: the dump_traceback_later dump and the dump after it, in
// one file, are two dumps of the same four threads, compared as a series.
func TestTwoDumps(t *testing.T) {
	ev, err := Read(bytes.NewReader(dumptest.ReadFile(t, "testdata/real-timeout-twice.txt")), "x")
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.ThreadDumps) != 2 || len(ev.ThreadDumps[0].Threads) != 4 || len(ev.ThreadDumps[1].Threads) != 4 || ev.ThreadDumps[1].Pos.Line != 23 {
		t.Fatalf("dumps %+v", ev.ThreadDumps)
	}
	if len(ev.Series) == 0 {
		t.Error("no series")
	}
}

func TestMatch(t *testing.T) {
	for text, want := range map[string]bool{
		"Thread 0x00007f3c2a7fc700 (most recent call first):\n  File \"x.py\", line 1 in f\n": true,
		"Stack (most recent call first):\n":                                                   true,
		"Process 12: python x.py\nPython v3.11.2 (/usr/bin/python3)\n":                        true,
		"Process 12: java\n": false,
		"x.py:1: ResourceWarning: unclosed <socket.socket fd=3, family=2, type=1, proto=0>\n":                                   true,
		"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n  File \"b.py\", line 2, in f\nValueError\n": false,
		"  File \"a.py\", line 1, in <module>\n    f()\n  File \"b.py\", line 2, in f\n    g()\n":                               true,
		"State Recv-Q Send-Q\n": false,
	} {
		if got := Match([]byte(text)); got != want {
			t.Errorf("Match(%q) = %v, want %v", text, got, want)
		}
	}
}

// TestClassify checks the verdicts on the stacks of the testdata: the
// activity of each thread, by file and thread position.
func TestClassify(t *testing.T) {
	tests := []struct {
		file string
		line int
		act  dumps.Activity
		pool string
	}{
		{"faulthandler-stderr.txt", 64, dumps.ActSocketRead, ""}, // http.client alone is no pool
		{"faulthandler-stderr.txt", 124, dumps.ActAccept, ""},
		{"pyspy.txt", 4, dumps.ActSelect, ""},
		{"pyspy.txt", 9, dumps.ActSocketRead, "urllib3"},
		{"pyspy.txt", 20, dumps.ActPoolBorrow, "urllib3"},
		{"pyspy.txt", 25, dumps.ActRunning, ""},
		{"current-frames.txt", 3, dumps.ActAccept, ""},
		{"real-current-frames.txt", 2, dumps.ActSocketRead, ""}, // c.recv(100): the source line tells
		{"real-current-frames.txt", 22, dumps.ActAccept, ""},
		{"real-timeout-twice.txt", 2, dumps.ActUnknown, ""}, // faulthandler prints no source line
		{"real-timeout-twice.txt", 35, dumps.ActAccept, ""},
		{"current-frames.txt", 9, dumps.ActSocketRead, ""},
	}
	evs := map[string]*dumps.Evidence{}
	for _, tt := range tests {
		ev := evs[tt.file]
		if ev == nil {
			var err error
			ev, err = Read(bytes.NewReader(dumptest.ReadFile(t, "testdata/"+tt.file)), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			evs[tt.file] = ev
		}
		found := false
		for _, d := range ev.ThreadDumps {
			for _, th := range d.Threads {
				if th.Pos.Line != tt.line {
					continue
				}
				found = true
				if th.Class.Activity != tt.act || th.Class.Pool != tt.pool {
					t.Errorf("%s:%d: %v %q, want %v %q", tt.file, tt.line, th.Class.Activity, th.Class.Pool, tt.act, tt.pool)
				}
			}
		}
		if !found {
			t.Errorf("%s:%d: no thread", tt.file, tt.line)
		}
	}
}

// TestRealCase checks the dump of testdata/cases/python-faulthandler
// against its case.json: as many threads blocked reading a socket as
// sockets in CLOSE_WAIT, and one ResourceWarning per bad request.
func TestRealCase(t *testing.T) {
	dir := "../../testdata/cases/python-faulthandler/"
	var c struct {
		Counts struct {
			CloseWait int `json:"close_wait"`
			Blocked   int `json:"blocked_threads"`
			Warnings  int `json:"resource_warnings"`
		} `json:"counts"`
	}
	if err := json.Unmarshal(dumptest.ReadFile(t, dir+"case.json"), &c); err != nil {
		t.Fatal(err)
	}
	ev, err := Read(bytes.NewReader(dumptest.ReadFile(t, dir+"stderr.txt")), "stderr.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.ThreadDumps) != 1 {
		t.Fatalf("%d dumps, want 1", len(ev.ThreadDumps))
	}
	reading := 0
	for _, th := range ev.ThreadDumps[0].Threads {
		if th.Class.Activity == dumps.ActSocketRead {
			reading++
		}
	}
	if reading != c.Counts.Blocked || reading != c.Counts.CloseWait {
		t.Errorf("%d threads reading a socket, want %d (and %d CLOSE_WAIT)", reading, c.Counts.Blocked, c.Counts.CloseWait)
	}
	withPeer := 0
	for _, s := range ev.RuntimeSockets {
		if s.Remote.Port != 0 {
			withPeer++
		}
	}
	if withPeer != c.Counts.Warnings {
		t.Errorf("%d unclosed sockets with a peer, want %d", withPeer, c.Counts.Warnings)
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, file := range files {
		if !strings.HasSuffix(file, ".golden") {
			f.Add(dumptest.ReadFile(f, file))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Match(data)
		ev, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil && !errors.Is(err, bufio.ErrTooLong) {
			t.Fatalf("in-memory input failed: %v", err)
		}
		for _, w := range ev.Warnings {
			if w.Pos.File != "fuzz" || w.Msg == "" {
				t.Fatalf("bad warning %+v", w)
			}
		}
		for _, d := range ev.ThreadDumps {
			for _, th := range d.Threads {
				if th.Pos.Line < 1 && ev.Kind == dumps.KindPython {
					t.Fatalf("thread without a line: %+v", th)
				}
			}
		}
	})
}

// TestPublicSamples checks the public samples against what their sources
// show: the faulthandler documentation's fatal-error dump (one current
// thread, two frames, string_at on top) and the py-spy dump quoted in
// benfred/py-spy#221 (process 25585, Python 3.7.3, one idle thread with no
// Python frame).
func TestPublicSamples(t *testing.T) {
	ev, err := Read(bytes.NewReader(dumptest.ReadFile(t, "testdata/faulthandler-doc.txt")), "doc")
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.ThreadDumps) != 1 || len(ev.ThreadDumps[0].Threads) != 1 {
		t.Fatalf("dumps %+v", ev.ThreadDumps)
	}
	th := ev.ThreadDumps[0].Threads[0]
	if th.Status != "current" || th.NID != "0x00007fb899f39700" || len(th.Frames) != 2 ||
		th.Frames[0].Func != "ctypes.string_at" || th.Frames[0].Line != 486 || th.Frames[1].File != "<stdin>" {
		t.Errorf("thread %+v", th)
	}
	ev, err = Read(bytes.NewReader(dumptest.ReadFile(t, "testdata/pyspy-issue221.txt")), "issue")
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Processes) != 1 || ev.Processes[0].PID != 25585 || ev.Processes[0].Version != "3.7.3" ||
		!strings.HasPrefix(ev.Processes[0].Command, "uwsgi --wsgi-file") {
		t.Errorf("processes %+v", ev.Processes)
	}
	if len(ev.ThreadDumps) != 1 || ev.ThreadDumps[0].PID != 25585 || len(ev.ThreadDumps[0].Threads) != 1 {
		t.Fatalf("dumps %+v", ev.ThreadDumps)
	}
	if th := ev.ThreadDumps[0].Threads[0]; th.Name != "uWSGIWorker1Core0" || th.ID != 25585 || th.Status != "idle" || len(th.Frames) != 0 || th.Class.Activity != dumps.ActIdle {
		t.Errorf("thread %+v", th)
	}
}

// TestSpyJSONFields reads a trace carrying every field of py-spy's
// serialised StackTrace, Frame, LocalVariable and ProcessInfo (the serde
// structs of benfred/py-spy src/stack_trace.rs, commit 013a8a8e, MIT; the
// tool itself cannot be installed here): locals and the parent process
// are read past, the process's pid and command line kept.
func TestSpyJSONFields(t *testing.T) {
	const in = `[{"pid": 77, "thread_id": 140000, "thread_name": "worker-1", "os_thread_id": 78, "active": true, "owns_gil": false,
  "frames": [{"name": "recv_into", "filename": "/usr/lib/python3.12/socket.py", "module": null, "short_filename": "socket.py", "line": 720,
              "locals": [{"name": "self", "addr": 139000, "arg": true, "repr": "<socket.socket fd=9>"}, {"name": "b", "addr": 139100, "arg": false, "repr": null}]},
             {"name": "fetch", "filename": "/srv/app/client.py", "module": null, "short_filename": null, "line": 12, "locals": null}],
  "process_info": {"pid": 77, "command_line": "python3 client.py", "parent": {"pid": 1, "command_line": "/sbin/init", "parent": null}}}]`
	d, p, warns, err := ReadSpyJSON(strings.NewReader(in), "spy.json")
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	if p.PID != 77 || p.Command != "python3 client.py" || d.PID != 77 {
		t.Errorf("process %+v, dump pid %d", p, d.PID)
	}
	if len(d.Threads) != 1 {
		t.Fatalf("%d threads", len(d.Threads))
	}
	th := d.Threads[0]
	if th.Name != "worker-1" || th.ID != 78 || th.Status != "active" || len(th.Frames) != 2 || th.Frames[1].Line != 12 {
		t.Errorf("thread %+v", th)
	}
}

// TestPySpyThreadHeaders: the thread headers py-spy dump prints, as quoted
// in its issues (#221: "Thread 25585 (idle): "uWSGIWorker1Core0"", the OS
// thread id; #567: "Thread 0x7ED3637AE700 (active): "ThreadPoolExecutor-275_6"",
// the Python thread id when the OS one is unknown) and its other states.
func TestPySpyThreadHeaders(t *testing.T) {
	tests := []struct {
		header, name, nid, status string
	}{
		{`Thread 25585 (idle): "uWSGIWorker1Core0"`, "uWSGIWorker1Core0", "25585", "idle"},
		{`Thread 0x7ED3637AE700 (active): "ThreadPoolExecutor-275_6"`, "ThreadPoolExecutor-275_6", "0x7ED3637AE700", "active"},
		{`Thread 4243 (active+gil): "MainThread"`, "MainThread", "4243", "active"},
		{`Thread 0x7F00 (idle)`, "", "0x7F00", "idle"},
	}
	for _, tt := range tests {
		in := "Process 4242: python3 app.py\nPython v3.11.2 (/usr/bin/python3.11)\n\n" + tt.header + "\n    recv_into (socket.py:706)\n    fetch (app.py:12)\n"
		ev, err := Read(strings.NewReader(in), "spy.txt")
		if err != nil || len(ev.Warnings) > 0 || len(ev.ThreadDumps) != 1 || len(ev.ThreadDumps[0].Threads) != 1 {
			t.Fatalf("%s: %v, %+v", tt.header, err, ev)
		}
		th := ev.ThreadDumps[0].Threads[0]
		if th.Name != tt.name || th.NID != tt.nid || th.Status != tt.status || len(th.Frames) != 2 || th.Frames[1].Func != "app.fetch" {
			t.Errorf("%s: name %q nid %s status %s frames %+v", tt.header, th.Name, th.NID, th.Status, th.Frames)
		}
	}
}
