package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/analysis"
	"github.com/cwforensics/cwforensics/report"
)

// TestCLICollectUsage: the flags are checked before anything runs.
func TestCLICollectUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"collect"}, "no output folder"},
		{[]string{"collect", "--pprof-url", "http://10.1.2.3:6060", "-o", dir}, "not a loopback address"},
		{[]string{"collect", "--max-capture-size", "lots", "-o", dir}, "--max-capture-size"},
		{[]string{"collect", "--port", "70000", "-o", dir}, "not a TCP port"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tt.args, nil, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), exitUsage, tt.want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"collect", "--duration", "0", "-o", dir}, nil, &stdout, &stderr); code != exitFailure || !strings.Contains(stderr.String(), "not empty") {
		t.Errorf("a non-empty folder: exit %d, stderr %q", code, stderr.String())
	}
}

// holder is a process (or this test) that holds CLOSE_WAIT sockets on port.
type holder struct {
	name string
	pid  int
	port int
	dump string // the dump file collect should save for it, "" none
}

// startHolder starts a program that listens on a loopback port, makes n
// connections to itself, closes their client ends and keeps the accepted
// ends open, then prints the port.
func startHolder(t *testing.T, name string, argv ...string) holder {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = t.TempDir()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	select {
	case l := <-line:
		port, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil {
			t.Fatalf("%s printed %q, not its port", name, l)
		}
		return holder{name: name, pid: cmd.Process.Pid, port: port}
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start", name)
	}
	return holder{}
}

const holdPython = `
import socket, time
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
held = []
for _ in range(%d):
    c = socket.create_connection(srv.getsockname()); s, _ = srv.accept(); held.append(s); c.close()
print(srv.getsockname()[1], flush=True)
time.sleep(600)
`

const holdJava = `
import java.net.*;
import java.util.*;
public class Hold {
    public static void main(String[] args) throws Exception {
        ServerSocket srv = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        List<Socket> held = new ArrayList<>();
        for (int i = 0; i < %d; i++) {
            Socket c = new Socket(InetAddress.getLoopbackAddress(), srv.getLocalPort());
            held.add(srv.accept());
            c.close();
        }
        System.out.println(srv.getLocalPort());
        System.out.flush();
        Thread.sleep(600_000);
    }
}
`

const holdNode = `
const net = require('net');
const held = [];
const srv = net.createServer({allowHalfOpen: true}, s => { held.push(s); s.on('end', () => {}); });
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  let left = %d;
  for (let i = 0; i < %[1]d; i++) {
    const c = net.connect(port, '127.0.0.1', () => { c.end(); if (--left === 0) setTimeout(() => console.log(port), 300); });
  }
});
setTimeout(() => {}, 600000);
`

// goHolder holds n connections in this test process, whose client ends
// closeClients closes (the server ends then sit in CLOSE_WAIT), and serves
// pprof on loopback.
func goHolder(t *testing.T, n int) (h holder, pprofURL string, closeClients func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var held, clients []net.Conn
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		held, clients = append(held, s), append(clients, c)
	}
	t.Cleanup(func() {
		for _, c := range append(held, clients...) {
			c.Close()
		}
	})
	closeClients = func() {
		for _, c := range clients {
			c.Close()
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/pprof/goroutine", pprof.Handler("goroutine"))
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(pl)
	t.Cleanup(func() { srv.Close() })
	return holder{name: "go", pid: os.Getpid(), port: ln.Addr().(*net.TCPAddr).Port}, "http://" + pl.Addr().String() + "/debug/pprof/", closeClients
}

// TestCollectRealProcesses collects from real processes holding CLOSE_WAIT
// sockets on loopback (this Go test, and Python, Java and Node.js when
// installed) and checks that analyze finds each one's stuck sockets in the
// folder. Root and tcpdump are needed.
func TestCollectRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: real processes")
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: ls /proc/PID/fd and tcpdump need it")
	}
	for _, tool := range []string{"tcpdump", "ss", "ls"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	const n = 4
	goH, pprofURL, closeClients := goHolder(t, n)
	goH.dump = fmt.Sprintf("goroutines-%d-debug2-1.txt", goH.pid)
	holders := []holder{goH}
	if py, err := exec.LookPath("python3"); err == nil {
		holders = append(holders, startHolder(t, "python", py, "-c", fmt.Sprintf(holdPython, n)))
	} else {
		t.Log("no python3: no Python holder")
	}
	if java, err := exec.LookPath("java"); err == nil {
		src := filepath.Join(t.TempDir(), "Hold.java")
		if err := os.WriteFile(src, fmt.Appendf(nil, holdJava, n), 0o644); err != nil {
			t.Fatal(err)
		}
		h := startHolder(t, "java", java, src)
		h.dump = fmt.Sprintf("jcmd-%d-1.txt", h.pid)
		holders = append(holders, h)
	} else {
		t.Log("no java: no JVM holder")
	}
	if node, err := exec.LookPath("node"); err == nil {
		h := startHolder(t, "node", node, "--report-on-signal", "-e", fmt.Sprintf(holdNode, n))
		h.dump = fmt.Sprintf("node-report-%d.json", h.pid)
		holders = append(holders, h)
	} else {
		t.Log("no node: no Node.js holder")
	}

	dir := filepath.Join(t.TempDir(), "incident")
	args := []string{"collect", "--duration", "3s", "--dumps", "2", "--dump-interval", "1s", "--pprof-url", pprofURL, "-o", dir}
	for _, h := range holders {
		args = append(args, "--pid", strconv.Itoa(h.pid), "--port", strconv.Itoa(h.port))
	}
	var stdout, stderr bytes.Buffer
	start := time.Now()
	// The Go holder's peers close inside the capture, which then confirms
	// its CLOSE_WAIT; the others' closed before.
	time.AfterFunc(1500*time.Millisecond, closeClients)
	if code := run(args, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("collect: exit %d\n%s", code, stderr.String())
	}
	t.Logf("collect took %s", time.Since(start).Round(time.Millisecond))
	mb, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Processes []struct {
			PID     int    `json:"pid"`
			Runtime string `json:"runtime"`
		} `json:"processes"`
		Steps []struct {
			Name, Status, Error, Note string
			PID                       int
		} `json:"steps"`
	}
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Steps {
		if s.Status != "ok" {
			t.Logf("step %s pid %d: %s %s %s", s.Name, s.PID, s.Status, s.Error, s.Note)
		}
	}
	runtimes := map[int]string{}
	for _, p := range m.Processes {
		runtimes[p.PID] = p.Runtime
	}

	// The folder through the analysis library, as analyze reads it.
	srcs, err := analysis.Walk([]string{dir}, analysis.WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	model, err := analysis.Analyze(context.Background(), srcs, analysis.Options{Title: "collect"})
	if err != nil {
		t.Fatalf("analyze: %v", err)
	}
	stdout.Reset()
	if err := report.WriteJSON(&stdout, model); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Findings []struct {
			Category    string `json:"category"`
			SocketCount int    `json:"socket_count"`
			Process     struct {
				PID int `json:"pid"`
			} `json:"process"`
		} `json:"findings"`
		Sockets []struct {
			Status string `json:"status"`
			PID    int    `json:"pid"`
			Local  struct {
				Port int `json:"port"`
			} `json:"local"`
		} `json:"sockets"`
		Inputs []struct {
			Path, Kind, Status string
		} `json:"inputs"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("analyze JSON: %v", err)
	}
	wantRuntime := map[string]string{"go": "go", "python": "python", "java": "jvm", "node": "node"}
	for _, h := range holders {
		if runtimes[h.pid] != wantRuntime[h.name] {
			t.Errorf("%s (pid %d): runtime %q, want %q", h.name, h.pid, runtimes[h.pid], wantRuntime[h.name])
		}
		found := 0
		for _, f := range rep.Findings {
			if f.Process.PID == h.pid {
				found += f.SocketCount
			}
		}
		if found < n {
			t.Errorf("%s (pid %d, port %d): analyze's findings hold %d sockets, want %d or more", h.name, h.pid, h.port, found, n)
		}
		stuck := 0
		for _, s := range rep.Sockets {
			if s.PID == h.pid && s.Local.Port == h.port {
				stuck++
				if h.name == "go" && s.Status != "confirmed" {
					t.Errorf("go socket %+v: the capture saw its peer close, want confirmed", s)
				}
			}
		}
		if stuck != n {
			t.Errorf("%s: %d stuck sockets on port %d, want %d", h.name, stuck, h.port, n)
		}
		if h.dump == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, h.dump)); err != nil {
			t.Errorf("%s: no dump: %v", h.name, err)
		}
	}
	for _, in := range rep.Inputs {
		base := filepath.Base(in.Path)
		if in.Status != "read" && (strings.HasPrefix(base, "ss-") || strings.HasPrefix(base, "jcmd-") || strings.HasPrefix(base, "goroutines-") || strings.HasSuffix(base, "-fd.txt") || strings.HasSuffix(base, "-limits.txt") || base == "capture.pcap") {
			t.Errorf("analyze did not read %s: %s", in.Path, in.Status)
		}
	}
	if t.Failed() {
		t.Logf("analyze:\n%s", stdout.String())
	}
}
