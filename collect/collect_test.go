package collect

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/sockets"
	"github.com/cwforensics/cwforensics/internal/golden"
)

// procNetTCP is /proc/net/tcp with a listener on 8080 (inode 1000), two
// CLOSE_WAIT sockets accepted on it (1001, 1002), one CLOSE_WAIT on 9090
// (2001), one on 7070 (4001), one on 3000 (3001) and an ESTABLISHED one
// on 5432 no process of interest owns (5001).
const procNetTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1000 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 08 00000000:00000000 00:00000000 00000000  1000        0 1001 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:C351 08 00000000:00000000 00:00000000 00000000  1000        0 1002 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:2382 0100007F:C352 08 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:1BAE 0100007F:C353 08 00000000:00000000 00:00000000 00000000     0        0 4001 1 0000000000000000 20 4 30 10 -1
   5: 0100007F:0BB8 0100007F:C354 08 00000000:00000000 00:00000000 00000000     0        0 3001 1 0000000000000000 20 4 30 10 -1
   6: 0100007F:1538 0100007F:C355 01 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000000000000 20 4 30 10 -1
`

// world is a fake machine: a JVM (pid 100, uid 1000), a Go service (200),
// a Node.js server started with --report-on-signal (300) and a Python one
// (400), each holding CLOSE_WAIT sockets, and pid 500 holding the
// established one.
func world(t *testing.T) *fakeProc {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	goExe, err := os.ReadFile(self) // a Go binary, for the build information
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeProc{files: map[string][]byte{}, links: map[string]string{}}
	p.set("net/tcp", procNetTCP)
	p.set("net/tcp6", "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	p.set("stat", "cpu  26606 0 8875 563623 627 0 140 939 0 0\nbtime 1796230800\nprocesses 14418\n")
	proc := func(pid int, exe, cmdline, status string, inodes ...int) {
		d := fmt.Sprint(pid)
		p.links[d+"/exe"] = exe
		p.links[d+"/cwd"] = "/srv/app"
		p.set(d+"/cmdline", strings.ReplaceAll(cmdline, " ", "\x00")+"\x00")
		p.set(d+"/status", "Name:\t"+pathBase(exe)+"\n"+status)
		p.set(d+"/stat", fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 4194560 1322 0 0 0 5 3 0 0 20 0 6 0 %d 16965632 3351 18446744073709551615", pid, pathBase(exe), pid, pid, 100000+pid))
		p.set(d+"/limits", "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n")
		p.set(d+"/environ", "PATH=/usr/bin\x00")
		p.set(d+"/maps", "")
		for i, ino := range inodes {
			p.links[fmt.Sprintf("%s/fd/%d", d, i+3)] = fmt.Sprintf("socket:[%d]", ino)
		}
		p.links[d+"/fd/0"] = "/dev/null"
	}
	proc(100, "/usr/lib/jvm/java-17/bin/java", "java -jar app.jar", "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nSigCgt:\t0000000000000000\n", 1000, 1001, 1002)
	proc(200, "/srv/gosvc", "/srv/gosvc -listen :9090", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nSigCgt:\tfffffffe7fc1feff\n", 2001)
	p.set("200/exe", string(goExe))
	proc(300, "/usr/bin/node", "node --report-on-signal server.js", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nSigCgt:\t0000000008004a02\n", 3001)
	proc(400, "/usr/bin/python3.11", "python3 server.py", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nSigCgt:\t0000000000000002\n", 4001)
	proc(500, "/usr/bin/psql", "psql", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", 5001)
	p.set("300/root/srv/app/old.txt", "not a report")
	p.onSignal = func(pid int, sig syscall.Signal) {
		if pid == 300 && sig == sigUSR2 {
			p.set("300/root/srv/app/report.20261202.173500.300.0.001.json", `{"header": {"processId": 300}}`)
		}
	}
	return p
}

// pcapHeader is a little-endian pcap global header (LINUX_SLL2).
func pcapHeader() []byte {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], 276)
	return h
}

// pcapRecord is a record of n bytes of data.
func pcapRecord(i, n int) []byte {
	r := make([]byte, 16+n)
	binary.LittleEndian.PutUint32(r[0:], uint32(1_800_000_000+i))
	binary.LittleEndian.PutUint32(r[8:], uint32(n))
	binary.LittleEndian.PutUint32(r[12:], uint32(n))
	return r
}

// tcpdump is a fake tcpdump writing packets of 60 bytes, in writes that
// split records, every tick until stopped (or limit packets).
func tcpdump(limit int) func(context.Context, Command, io.Writer, io.Writer) (int, error) {
	return func(ctx context.Context, _ Command, stdout, stderr io.Writer) (int, error) {
		io.WriteString(stderr, "tcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n")
		stdout.Write(pcapHeader()[:10])
		stdout.Write(pcapHeader()[10:])
		for i := 0; limit == 0 || i < limit; i++ {
			rec := pcapRecord(i, 60)
			stdout.Write(rec[:7])
			stdout.Write(rec[7:])
			if ctx.Err() != nil {
				break
			}
			if i%10 == 9 {
				time.Sleep(time.Millisecond)
			}
		}
		<-ctx.Done()
		io.WriteString(stderr, "3 packets captured\n")
		return 0, nil
	}
}

func fakeRunnerFor() *fakeRunner {
	return &fakeRunner{progs: map[string]func(context.Context, Command, io.Writer, io.Writer) (int, error){
		"tcpdump": tcpdump(3),
		"ss":      print("State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nCLOSE-WAIT 0 0 127.0.0.1:8080 127.0.0.1:50000 users:((\"java\",pid=100,fd=4))\n", 0),
		"lsof":    print("", 1),
		"ps":      print("    PID    PPID                  STARTED ELAPSED COMMAND\n    100       1 Wed Dec  2 17:10:00 2026    1500 java -jar app.jar\n", 0),
		"ls":      print("total 0\nlrwx------ 1 root root 64 Dec  2 17:00 4 -> socket:[1001]\n", 0),
		"/usr/lib/jvm/java-17/bin/jcmd": func(_ context.Context, c Command, stdout, _ io.Writer) (int, error) {
			fmt.Fprintf(stdout, "%s:\n2026-12-02 17:35:00\nFull thread dump OpenJDK 64-Bit Server VM:\n", c.Args[0])
			return 0, nil
		},
		"py-spy": func(_ context.Context, _ Command, _, stderr io.Writer) (int, error) {
			io.WriteString(stderr, "Error: Permission Denied\n")
			return 1, nil
		},
	}}
}

func goroutineServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/goroutine" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "goroutine 1 [running]:\nmain.main()\n\t/srv/main.go:10 +0x1d\n# debug=%s\n", r.URL.Query().Get("debug"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// normalise replaces times and the test server's address in a manifest.
func normalise(b []byte, srvURL string) []byte {
	b = regexp.MustCompile(`"\d{4}-\d\d-\d\dT[\d:.]+Z"`).ReplaceAll(b, []byte(`"TIME"`))
	return bytes.ReplaceAll(b, []byte(strings.TrimPrefix(srvURL, "http://")), []byte("127.0.0.1:PORT"))
}

func testOptions(t *testing.T, r Runner, p Proc) Options {
	clk := &stepClock{t: time.Date(2026, 12, 2, 17, 35, 0, 0, time.UTC)}
	return Options{
		Dir: filepath.Join(t.TempDir(), "incident"), Duration: 50 * time.Millisecond, MaxCaptureSize: 1 << 20,
		Dumps: 2, DumpInterval: time.Millisecond, CommandTimeout: 2 * time.Second,
		Runner: r, Proc: p, Now: clk.now,
	}
}

// TestRunManifest runs the whole checklist on the fake machine: processes
// found by their CLOSE_WAIT sockets, a dump per runtime, a missing tool
// (netstat) and a failing one (py-spy) noted, the rest done.
func TestRunManifest(t *testing.T) {
	r, p := fakeRunnerFor(), world(t)
	srv := goroutineServer(t)
	o := testOptions(t, r, p)
	o.PprofURL = srv.URL
	m, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(o.Dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/manifest.golden.json", normalise(b, srv.URL))

	var pids []int
	for _, p := range m.Processes {
		pids = append(pids, p.PID)
	}
	if diff := cmp.Diff([]int{100, 200, 300, 400}, pids); diff != "" {
		t.Errorf("processes (-want +got):\n%s", diff)
	}
	jc := r.commands("/usr/lib/jvm/java-17/bin/jcmd")
	if len(jc) != 2 || jc[0].UID == nil || *jc[0].UID != 1000 || *jc[0].GID != 1000 {
		t.Errorf("jcmd should run twice as uid 1000, ran %+v", jc)
	}
	if diff := cmp.Diff([]string{"300 user defined signal 2"}, p.signals); diff != "" {
		t.Errorf("signals (-want +got):\n%s", diff)
	}
	// Every file the manifest lists is in the folder with its size, and
	// nothing else but the manifest.
	ents, _ := os.ReadDir(o.Dir)
	got := map[string]int64{}
	for _, e := range ents {
		fi, _ := e.Info()
		got[e.Name()] = fi.Size()
	}
	want := map[string]int64{ManifestName: got[ManifestName]}
	for _, f := range m.Files {
		want[f.Name] = f.Size
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("folder (-manifest +folder):\n%s", diff)
	}
	ss, _ := os.ReadFile(filepath.Join(o.Dir, "ss-tanpoei.txt"))
	if n := strings.Count(string(ss), "date: 2026-12-02T17:35:"); n != 2 {
		t.Errorf("ss-tanpoei.txt has %d date lines, want 2 (start and end):\n%s", n, ss)
	}
	cp, _ := os.ReadFile(filepath.Join(o.Dir, captureFile))
	if want := 24 + 3*(16+60); len(cp) != want {
		t.Errorf("capture.pcap is %d bytes, want %d", len(cp), want)
	}
}

// TestRunByPort: --port picks the owners of sockets on those ports, in any
// state, and filters the capture.
func TestRunByPort(t *testing.T) {
	r, p := fakeRunnerFor(), world(t)
	o := testOptions(t, r, p)
	o.Ports, o.Dumps = []int{5432, 8080}, 0
	m, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range m.Processes {
		got = append(got, fmt.Sprintf("%d %s %s", p.PID, p.Runtime, p.Why))
	}
	want := []string{"100 jvm owns a socket on port 8080", "500 unknown owns a socket on port 5432"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("processes (-want +got):\n%s", diff)
	}
	if c := r.commands("tcpdump"); len(c) != 1 || c[0].Args[len(c[0].Args)-1] != "tcp and (port 5432 or port 8080)" {
		t.Errorf("tcpdump ran as %+v", c)
	}
}

// TestCaptureSizeLimit: the capture stops at the next packet that would
// pass --max-capture-size, long before --duration, and stays a whole pcap.
func TestCaptureSizeLimit(t *testing.T) {
	r, p := fakeRunnerFor(), world(t)
	r.progs["tcpdump"] = tcpdump(0)
	o := testOptions(t, r, p)
	o.PIDs, o.Dumps = []int{500}, 0
	o.Duration, o.MaxCaptureSize = time.Hour, 24+10*76+50
	done := make(chan struct{})
	var m *Manifest
	var err error
	go func() { m, err = Run(context.Background(), o); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the capture did not stop at its size limit")
	}
	if err != nil {
		t.Fatal(err)
	}
	cp, _ := os.ReadFile(filepath.Join(o.Dir, captureFile))
	if len(cp) != 24+10*76 {
		t.Errorf("capture.pcap is %d bytes, want %d (10 whole packets)", len(cp), 24+10*76)
	}
	if s := m.Steps[0]; s.Name != "capture" || s.Status != StatusOK || !strings.Contains(s.Note, "max-capture-size") {
		t.Errorf("capture step %+v", s)
	}
}

// TestMissingTools: with nothing installed, every command is noted as
// missing and the /proc files are still saved.
func TestMissingTools(t *testing.T) {
	r, p := &fakeRunner{}, world(t)
	o := testOptions(t, r, p)
	o.PIDs = []int{400, 999}
	m, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]string{}
	for _, s := range m.Steps {
		statuses[fmt.Sprintf("%s %d %d", s.Name, s.PID, s.Round)] = s.Status
	}
	for k, want := range map[string]string{
		"capture 0 0": StatusMissing, "ss 0 1": StatusMissing, "lsof 0 2": StatusMissing, "ps 0 1": StatusMissing, "proc processes 0 1": StatusOK, "proc stat 400 0": StatusOK,
		"proc limits 400 0": StatusOK, "proc net tcp 0 1": StatusOK, "py-spy dump 400 2": StatusMissing,
		"proc limits 999 0": StatusFailed, "fd listing 999 1": StatusMissing,
	} {
		if statuses[k] != want {
			t.Errorf("%s: status %q, want %q", k, statuses[k], want)
		}
	}
	if m.Processes[1].Error == "" {
		t.Errorf("pid 999 does not exist, yet no error: %+v", m.Processes[1])
	}
}

// TestCommandTimeout: a hanging command is stopped at --command-timeout and
// noted; the run goes on.
func TestCommandTimeout(t *testing.T) {
	r, p := fakeRunnerFor(), world(t)
	r.progs["ss"] = func(ctx context.Context, _ Command, _, _ io.Writer) (int, error) {
		<-ctx.Done()
		return -1, fmt.Errorf("stopped: %w", ctx.Err())
	}
	o := testOptions(t, r, p)
	o.PIDs, o.Dumps, o.CommandTimeout = []int{500}, 0, 50*time.Millisecond
	m, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Steps {
		switch s.Name {
		case "ss":
			if s.Status != StatusTimeout {
				t.Errorf("ss round %d: %s, want timeout", s.Round, s.Status)
			}
		case "fd listing":
			if s.Status != StatusOK {
				t.Errorf("fd listing round %d: %s", s.Round, s.Status)
			}
		}
	}
}

func TestRefusesNonEmptyDir(t *testing.T) {
	r, p := fakeRunnerFor(), world(t)
	o := testOptions(t, r, p)
	o.PIDs, o.Dumps, o.Duration = []int{500}, 0, 0
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a non-empty folder was not refused: %v", err)
	}
	o.Force = true
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("--force: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(o.Dir, "notes.txt")); string(b) != "mine" {
		t.Errorf("--force lost a file it does not write: %q", b)
	}
	if _, err := os.Stat(filepath.Join(o.Dir, partialDir)); !os.IsNotExist(err) {
		t.Errorf("the partial folder is left: %v", err)
	}
}

// TestNodeReportOnlyWhenSafe: SIGUSR2 goes only to a Node.js process that
// asked for reports on it and catches it.
func TestNodeReportOnlyWhenSafe(t *testing.T) {
	tests := []struct {
		name, cmdline, environ, sigCgt string
		signalled                      bool
	}{
		{"flag and handler", "node --report-on-signal server.js", "", "0000000000000800", true},
		{"NODE_OPTIONS", "node server.js", "NODE_OPTIONS=--max-old-space-size=512 --report-on-signal", "0000000000000800", true},
		{"no flag", "node server.js", "", "0000000000000800", false},
		{"flag after the script is the script's", "node server.js --report-on-signal", "", "0000000000000800", false},
		{"no handler", "node --report-on-signal server.js", "", "0000000000000000", false},
		{"another signal", "node --report-on-signal --report-signal=SIGUSR1 server.js", "", "0000000000000a00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, p := fakeRunnerFor(), world(t)
			p.set("300/cmdline", strings.ReplaceAll(tt.cmdline, " ", "\x00"))
			p.set("300/environ", tt.environ)
			p.set("300/status", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nSigCgt:\t"+tt.sigCgt+"\n")
			o := testOptions(t, r, p)
			o.PIDs, o.Duration, o.Dumps = []int{300}, 0, 1
			if _, err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			if got := len(p.signals) > 0; got != tt.signalled {
				t.Errorf("signalled %v, want %v", got, tt.signalled)
			}
			_, err := os.Stat(filepath.Join(o.Dir, "node-report-300.json"))
			if got := err == nil; got != tt.signalled {
				t.Errorf("report saved %v, want %v", got, tt.signalled)
			}
		})
	}
}

func TestPprofURLs(t *testing.T) {
	tests := []struct {
		in, debug2, err string
		remote          bool
	}{
		{in: "http://127.0.0.1:6060", debug2: "http://127.0.0.1:6060/debug/pprof/goroutine?debug=2"},
		{in: "http://localhost:6060/debug/pprof/", debug2: "http://localhost:6060/debug/pprof/goroutine?debug=2"},
		{in: "http://[::1]:6060/admin/debug/pprof/goroutine?debug=1", debug2: "http://[::1]:6060/admin/debug/pprof/goroutine?debug=2"},
		{in: "https://127.0.0.2:6060/debug/pprof", debug2: "https://127.0.0.2:6060/debug/pprof/goroutine?debug=2"},
		{in: "http://10.0.0.5:6060", err: "not a loopback address"},
		{in: "http://example.com:6060", err: "not a loopback address"},
		{in: "http://10.0.0.5:6060", remote: true, debug2: "http://10.0.0.5:6060/debug/pprof/goroutine?debug=2"},
		{in: "file:///etc/passwd", err: "want an http or https URL"},
		{in: "http://127.0.0.1:6060/metrics", err: "want the pprof base"},
	}
	for _, tt := range tests {
		d2, d1, err := pprofURLs(tt.in, tt.remote)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || d2 != tt.debug2 || d1 != strings.Replace(tt.debug2, "debug=2", "debug=1", 1) {
			t.Errorf("%s: %q %q %v, want %q", tt.in, d2, d1, err, tt.debug2)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"200MB", 200_000_000, true}, {"1.5GB", 1_500_000_000, true}, {"512KiB", 512 << 10, true},
		{"1000", 1000, true}, {"10 mb", 10_000_000, true}, {"2M", 2_000_000, true}, {"0", 0, true},
		{"", 0, false}, {"MB", 0, false}, {"-1MB", 0, false}, {"ten", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestDetectRuntime(t *testing.T) {
	tests := []struct {
		exe  string
		args []string
		maps string
		want Runtime
	}{
		{"/usr/lib/jvm/java-17-openjdk-amd64/bin/java", []string{"java", "-jar", "a.jar"}, "", RuntimeJVM},
		{"/opt/app/bin/launcher", []string{"launcher"}, "7f00 r-xp /opt/jdk/lib/server/libjvm.so\n", RuntimeJVM},
		{"/usr/bin/node", []string{"node", "x.js"}, "", RuntimeNode},
		{"/usr/bin/python3.11", []string{"python3", "app.py"}, "", RuntimePython},
		{"/usr/local/bin/uwsgi", []string{"uwsgi"}, "7f00 r-xp /usr/lib/libpython3.11.so.1.0\n", RuntimePython},
		{"/usr/bin/nginx (deleted)", []string{"nginx: master process"}, "", RuntimeUnknown},
	}
	for _, tt := range tests {
		if got := detectRuntime(tt.exe, tt.args, []byte(tt.maps)); got != tt.want {
			t.Errorf("detectRuntime(%q, %q) = %s, want %s", tt.exe, tt.args, got, tt.want)
		}
	}
}

func TestChoose(t *testing.T) {
	p := world(t)
	tests := []struct {
		name         string
		pids, ports  []int
		want         []int
		noteContains string
	}{
		{"--pid wins, deduplicated", []int{7, 3, 7}, []int{8080}, []int{3, 7}, ""},
		{"--port", nil, []int{9090}, []int{200}, ""},
		{"CLOSE_WAIT owners", nil, nil, []int{100, 200, 300, 400}, ""},
		{"a port nobody uses", nil, []int{1}, nil, "no socket"},
	}
	for _, tt := range tests {
		got, note := choose(p, tt.pids, tt.ports)
		var pids []int
		for _, g := range got {
			pids = append(pids, g.PID)
		}
		if diff := cmp.Diff(tt.want, pids); diff != "" || !strings.Contains(note, tt.noteContains) {
			t.Errorf("%s: (-want +got):\n%s\nnote %q", tt.name, diff, note)
		}
	}
}

func TestPcapCutter(t *testing.T) {
	var stream []byte
	stream = append(stream, pcapHeader()...)
	for i := 0; i < 5; i++ {
		stream = append(stream, pcapRecord(i, 100)...)
	}
	for _, max := range []int64{0, 23, 24, 139, 140, 500, 1 << 20} {
		for _, chunk := range []int{1, 7, 1000} {
			var out bytes.Buffer
			fulls := 0
			c := &pcapCutter{w: &out, max: max, full: func() { fulls++ }}
			for i := 0; i < len(stream); i += chunk {
				c.Write(stream[i:min(i+chunk, len(stream))])
			}
			want := int64(0)
			if max >= 24 {
				want = 24 + (max-24)/116*116
			}
			want = min(want, int64(len(stream)))
			if int64(out.Len()) != want || !bytes.Equal(out.Bytes(), stream[:want]) {
				t.Errorf("max %d chunk %d: wrote %d bytes, want the first %d", max, chunk, out.Len(), want)
			}
			if wantFull := want < int64(len(stream)); (fulls == 1) != wantFull || fulls > 1 {
				t.Errorf("max %d chunk %d: full called %d times", max, chunk, fulls)
			}
		}
	}
}

func TestManifestJSONRoundTrip(t *testing.T) {
	b, err := os.ReadFile("testdata/manifest.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("the golden manifest is not JSON: %v", err)
	}
	if m["schema_version"] != float64(ManifestVersion) {
		t.Errorf("schema_version %v", m["schema_version"])
	}
}

// TestProcessListingsRead: the process listings collect saves (ps,
// /proc/PID/cmdline, /proc/PID/stat, /proc/stat) are read by content as
// analyze reads them: the pid, the command line and the start time.
func TestProcessListingsRead(t *testing.T) {
	r, p := fakeRunnerFor(), world(t)
	o := testOptions(t, r, p)
	o.PIDs, o.Dumps, o.Duration = []int{100}, 0, 0
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Kind    string
		PID     int
		Command string
		Start   string
	}
	var got []row
	for _, name := range []string{"ps-eo.txt", "proc-100-cmdline.txt", "proc-100-stat.txt", "proc-stat.txt"} {
		data, err := os.ReadFile(filepath.Join(o.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := dumps.Chain(sockets.Formats()).Read(bytes.NewReader(data), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(ev.Warnings) > 0 {
			t.Errorf("%s: warnings %v", name, ev.Warnings)
		}
		for _, p := range ev.Procs {
			got = append(got, row{ev.Kind.String(), p.PID, p.Command, p.Start.Format(time.RFC3339)})
		}
		for _, b := range ev.BootTimes {
			got = append(got, row{ev.Kind.String(), 0, "btime", b.Time.Format(time.RFC3339)})
		}
	}
	// ps runs twice; its start is the date line less etimes (the fake
	// clock's date lines are at 17:35:00 and after).
	start := func(s string) bool { return strings.HasPrefix(s, "2026-12-02T17:10:") }
	want := []string{"ps 100 java -jar app.jar", "ps 100 java -jar app.jar", "proc-cmdline 100 java -jar app.jar", "proc-stat 100 ", "proc-stat 0 btime"}
	if len(got) != len(want) {
		t.Fatalf("records %+v, want %v", got, want)
	}
	for i, g := range got {
		if fmt.Sprintf("%s %d %s", g.Kind, g.PID, g.Command) != want[i] {
			t.Errorf("record %d: %+v, want %s", i, g, want[i])
		}
	}
	if !start(got[0].Start) || got[3].Start != "0001-01-01T00:00:00Z" || got[4].Start != "2026-12-02T17:00:00Z" {
		t.Errorf("start times %+v", got)
	}
}

// busyboxPS is BusyBox's ps (procps/ps.c, with CONFIG_DESKTOP): -e is
// accepted and ignored, and an -o column it does not know ends it with
// exit status 1 and the list of those it knows. With psTime (Alpine's
// build) it knows etime, minutes and seconds in a column of 7 under
// ELAPSED; without (Debian's busybox 1.35, whose messages and header these
// are), neither etime nor time.
func busyboxPS(psTime bool) func(context.Context, Command, io.Writer, io.Writer) (int, error) {
	known := "user,group,comm,args,pid,ppid,pgid,nice,rgroup,ruser,tty,vsz,sid,stat,rss"
	if psTime {
		known = "user,group,comm,args,pid,ppid,pgid,etime,nice,rgroup,ruser,time,tty,vsz,sid,stat,rss"
	}
	return func(_ context.Context, c Command, stdout, stderr io.Writer) (int, error) {
		cols := ""
		for i, a := range c.Args {
			if (a == "-o" || a == "-eo") && i+1 < len(c.Args) {
				cols = c.Args[i+1]
			}
		}
		for _, col := range strings.Split(cols, ",") {
			if !slices.Contains(strings.Split(known, ","), col) {
				fmt.Fprintf(stderr, "ps: bad -o argument '%s', supported arguments: %s\n", col, known)
				return 1, nil
			}
		}
		switch cols {
		case "pid,ppid,etime,args":
			io.WriteString(stdout, "PID   PPID  ELAPSED COMMAND\n    1     0 1500:00 /sbin/init\n  100     1  25:00 java -jar app.jar\n")
		case "pid,ppid,args":
			io.WriteString(stdout, "PID   PPID  COMMAND\n    1     0 /sbin/init\n  100     1 java -jar app.jar\n")
		default:
			return 1, fmt.Errorf("the fake knows no -o %s", cols)
		}
		return 0, nil
	}
}

// busyboxPSNoDesktop is BusyBox's ps built without CONFIG_DESKTOP
// (procps/ps.c's other ps_main): only -w (and -T) are options, any other
// ends it through bb_show_usage with exit status 1, and plain ps prints
// pid, user, vsz, stat and the command line.
func busyboxPSNoDesktop(_ context.Context, c Command, stdout, stderr io.Writer) (int, error) {
	for _, a := range c.Args {
		if a != "-w" && a != "-T" {
			fmt.Fprintf(stderr, "ps: invalid option -- '%c'\nBusyBox v1.36.1 (2026-06-01 00:00:00 UTC) multi-call binary.\n\nUsage: ps\n", a[1])
			return 1, nil
		}
	}
	io.WriteString(stdout, "  PID USER       VSZ STAT COMMAND\n    1 root      1604 S    /sbin/init\n  100 app       212m S    java -jar app.jar\n")
	return 0, nil
}

// TestPSBusyBox: where ps is BusyBox's, which refuses lstart and etimes,
// collect runs ps -o with the columns BusyBox has after each failed step,
// lists each right after the one it replaces, and saves process names (and
// start times, where BusyBox has etime) that are read by content as
// analyze and evidence read them.
func TestPSBusyBox(t *testing.T) {
	tests := []struct {
		name   string
		psTime bool
		argv   []string // per round: the ps steps' argv and status
		want   []string // the records of ps-o.txt
		// fake replaces busyboxPS(psTime), out ps-o.txt, when set.
		fake func(context.Context, Command, io.Writer, io.Writer) (int, error)
		out  string
	}{
		{"Alpine: etime", true,
			[]string{"ps -eo pid,ppid,lstart,etimes,args failed ps-eo.txt", "ps -o pid,ppid,etime,args ok ps-o.txt"},
			// the date lines are at 17:35 and after (the fake clock), less
			// 1500 and 25 minutes
			[]string{"ps 1 /sbin/init 16:35", "ps 100 java -jar app.jar 17:10", "ps 1 /sbin/init 16:35", "ps 100 java -jar app.jar 17:10"}, nil, ""},
		{"Debian's busybox: no etime", false,
			[]string{"ps -eo pid,ppid,lstart,etimes,args failed ps-eo.txt", "ps -o pid,ppid,etime,args failed ps-o.txt", "ps -o pid,ppid,args ok ps-o.txt"},
			[]string{"ps 1 /sbin/init 00:00", "ps 100 java -jar app.jar 00:00", "ps 1 /sbin/init 00:00", "ps 100 java -jar app.jar 00:00"}, nil, ""},
		// Plain ps names the processes but not their parents or starts:
		// /proc lists them after it (TestPSProcFallback reads that).
		{"BusyBox without CONFIG_DESKTOP: no -o", false,
			[]string{"ps -eo pid,ppid,lstart,etimes,args failed ps-eo.txt", "ps -o pid,ppid,etime,args failed ps-o.txt", "ps -o pid,ppid,args failed ps-o.txt", "ps ok ps.txt",
				"read /proc/stat, /proc/[0-9]*/stat, /proc/[0-9]*/cmdline ok ps-proc.txt"},
			[]string{"ps 1 /sbin/init 00:00", "ps 100 java -jar app.jar 00:00", "ps 1 /sbin/init 00:00", "ps 100 java -jar app.jar 00:00"},
			busyboxPSNoDesktop, "ps.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, p := fakeRunnerFor(), world(t)
			r.progs["ps"] = busyboxPS(tt.psTime)
			if tt.fake != nil {
				r.progs["ps"] = tt.fake
			}
			out := "ps-o.txt"
			if tt.out != "" {
				out = tt.out
			}
			o := testOptions(t, r, p)
			o.PIDs, o.Dumps, o.Duration = []int{100}, 0, 0
			m, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			// The steps of each round, in a row.
			var got, want []string
			first := -1
			for i, s := range m.Steps {
				if s.Name != "ps" && s.Name != "proc processes" {
					continue
				}
				if first < 0 || s.Round != m.Steps[first].Round {
					first = i
				}
				cmd := strings.Join(s.Argv, " ")
				if s.Read != "" {
					cmd = "read " + s.Read
				}
				got = append(got, fmt.Sprintf("%d %d %s %s %s", s.Round, i-first, cmd, s.Status, s.Output))
			}
			for round := 1; round <= 2; round++ {
				for i, a := range tt.argv {
					want = append(want, fmt.Sprintf("%d %d %s", round, i, a))
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ps steps (-want +got):\n%s", diff)
			}
			data, err := os.ReadFile(filepath.Join(o.Dir, out))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := dumps.Chain(sockets.Formats()).Read(bytes.NewReader(data), out)
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.Warnings) > 0 {
				t.Errorf("warnings %v", ev.Warnings)
			}
			var recs []string
			for _, p := range ev.Procs {
				recs = append(recs, fmt.Sprintf("%s %d %s %s", ev.Kind, p.PID, p.Command, p.Start.Format("15:04")))
			}
			if diff := cmp.Diff(tt.want, recs); diff != "" {
				t.Errorf("records (-want +got):\n%s\n%s", diff, data)
			}
		})
	}
}

// TestPSProcFallback: where ps has no -o (BusyBox without CONFIG_DESKTOP)
// or there is no ps at all, collect lists the processes from /proc, after
// the last ps step: each one's stat line (pid, ppid, start after btime) and
// cmdline, which analyze reads as the records of ps -eo's columns.
func TestPSProcFallback(t *testing.T) {
	for _, tt := range []struct {
		name string
		ps   func(context.Context, Command, io.Writer, io.Writer) (int, error)
		note string
	}{
		{"no -o", busyboxPSNoDesktop, "from /proc: ps has no -o: no parents or start times"},
		{"no ps", nil, "from /proc: ps -eo pid,ppid,lstart,etimes,args missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, p := fakeRunnerFor(), world(t)
			delete(r.progs, "ps")
			if tt.ps != nil {
				r.progs["ps"] = tt.ps
			}
			o := testOptions(t, r, p)
			o.PIDs, o.Dumps, o.Duration = []int{100}, 0, 0
			m, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			var notes []string
			for _, s := range m.Steps {
				if s.Output == "ps-proc.txt" {
					notes = append(notes, fmt.Sprintf("%d %s %s", s.Round, s.Status, s.Note))
				}
			}
			if want := []string{"1 ok " + tt.note, "2 ok " + tt.note}; !slices.Equal(notes, want) {
				t.Errorf("steps %q, want %q", notes, want)
			}
			data, err := os.ReadFile(filepath.Join(o.Dir, "ps-proc.txt"))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := dumps.Chain(sockets.Formats()).Read(bytes.NewReader(data), "ps-proc.txt")
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.Warnings) > 0 {
				t.Errorf("warnings %v", ev.Warnings)
			}
			recs := map[string]bool{}
			for _, p := range ev.Procs {
				ppid := -1
				if p.PPID != nil {
					ppid = *p.PPID
				}
				recs[fmt.Sprintf("%s %d %d %q %s", p.Tool, p.PID, ppid, p.Command, p.Start.Format(time.RFC3339))] = true
			}
			// world's java: pid 100, ppid 1, starttime 100100 ticks after btime 1796230800.
			for _, want := range []string{
				fmt.Sprintf("proc-stat 100 1 \"\" %s", time.Unix(1796230800+1001, 0).UTC().Format(time.RFC3339)),
				fmt.Sprintf("proc-cmdline 100 -1 %q %s", "java -jar app.jar", time.Time{}.Format(time.RFC3339)),
			} {
				if !recs[want] {
					t.Errorf("no record %s in %v\n%s", want, recs, data)
				}
			}
		})
	}
}

// TestProcPSReal lists this machine's /proc and reads the listing back:
// the test's own process and a child it starts are there with their
// parents, their command lines and the start ps gives them.
func TestProcPSReal(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Skip("cannot start sleep:", err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	// Start returns once the exec closed its close-on-exec pipe, which the
	// kernel does before it sets the new program's arguments up: until
	// then the child's cmdline reads empty.
	cmdline := fmt.Sprintf("/proc/%d/cmdline", child.Process.Pid)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if b, err := os.ReadFile(cmdline); err != nil || len(b) > 0 {
			break
		}
	}
	data, procs, _, err := procPS(OSProc{})
	if err != nil {
		t.Fatal(err)
	}
	ev, warns, err := sockets.ReadPS(bytes.NewReader(data), "ps-proc.txt")
	if err != nil || len(warns) > 0 {
		t.Fatalf("err %v, warnings %v", err, warns)
	}
	type rec struct {
		ppid    int
		command string
		start   time.Time
	}
	got := map[int]*rec{}
	stats := 0
	for _, p := range ev.Procs {
		r := got[p.PID]
		if r == nil {
			r = &rec{ppid: -1}
			got[p.PID] = r
		}
		switch p.Tool {
		case dumps.KindProcStat:
			stats++
			r.ppid, r.start = *p.PPID, p.Start
		case dumps.KindProcCmdline:
			r.command = p.Command
		}
	}
	if stats != procs {
		t.Errorf("%d stat records of %d processes listed", stats, procs)
	}
	self, kid := os.Getpid(), child.Process.Pid
	if r := got[kid]; r == nil || r.ppid != self || r.command != "sleep 30" || r.start.IsZero() {
		t.Errorf("child %d: %+v, want parent %d, sleep 30", kid, r, self)
	}
	if r := got[self]; r == nil || r.ppid != os.Getppid() || r.command != strings.Join(os.Args, " ") {
		t.Errorf("self %d: %+v, want parent %d, %q", self, r, os.Getppid(), strings.Join(os.Args, " "))
	}
	// ps's lstart for the same processes, where ps has it: to the second.
	for _, pid := range []int{self, kid} {
		cmd := exec.Command("ps", "-o", "lstart=", "-p", strconv.Itoa(pid))
		cmd.Env = append(os.Environ(), "TZ=UTC")
		out, err := cmd.Output()
		if err != nil {
			t.Logf("ps -o lstart: %v", err)
			continue
		}
		lstart, err := time.Parse("Mon Jan _2 15:04:05 2006", strings.TrimSpace(string(out)))
		if err != nil {
			t.Fatal(err)
		}
		if r := got[pid]; r == nil || r.start.Truncate(time.Second).Sub(lstart).Abs() > time.Second {
			t.Errorf("pid %d starts at %v by /proc, %v by ps", pid, r, lstart)
		}
	}
}
