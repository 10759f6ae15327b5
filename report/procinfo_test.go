package report

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// twoGoProcesses is an ss listing of two Go processes with three stuck
// sockets each, and a goroutine dump whose three readLoops fit both by
// their count: content alone cannot tell whose the dump is.
func twoGoProcesses(wait string) (ss, gd string) {
	ss = "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	for i := range 3 {
		ss += fmt.Sprintf("CLOSE-WAIT 1 0 10.0.0.5:%d 10.0.0.9:5432 users:((\"api-a\",pid=101,fd=%d))\n", 40000+i, 10+i)
		ss += fmt.Sprintf("CLOSE-WAIT 1 0 10.0.0.5:%d 10.0.0.9:6379 users:((\"api-b\",pid=202,fd=%d))\n", 41000+i, 10+i)
	}
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "goroutine %d [select%s]:\nnet/http.(*persistConn).readLoop(0xc000%04x)\n\t/usr/local/go/src/net/http/transport.go:2395 +0xcad\ncreated by net/http.(*Transport).dialConn in goroutine 1\n\t/usr/local/go/src/net/http/transport.go:1944 +0x174e\n\n", 10+i, wait, i)
	}
	return ss, b.String()
}

// TestLinkByStartTime: two Go processes of one runtime whose sockets and
// goroutines fit the dump alike (TestLinkAmbiguous); only their start
// times tell them apart. The dump's readLoops have waited 14 minutes:
// api-b started 3 minutes before the listing, so the dump is not its, and
// api-a, up 20 minutes, gets it. The start comes from ps (elapsed seconds
// under a dated listing) or from /proc/PID/stat with /proc/stat's btime in
// another file, and the report says which evidence scored.
func TestLinkByStartTime(t *testing.T) {
	ss, gd := twoGoProcesses(", 14 minutes")
	ps := "date: 2026-12-03T08:00:00Z\n$ ps -eo pid,ppid,lstart,etimes,args\n" +
		"    PID    PPID                  STARTED ELAPSED COMMAND\n" +
		"    101       1 Thu Dec  3 07:40:00 2026    1200 /srv/api-a -listen :8080\n" +
		"    202       1 Thu Dec  3 07:57:00 2026     180 /srv/api-b -listen :8081\n"
	// btime 2026-12-03T07:00:00Z; api-a 40 min after boot, api-b 57.
	stat := "==> /proc/101/stat <==\n101 (api-a) S 1 101 101 0 -1 4194560 1322 0 0 0 5 3 0 0 20 0 6 0 240000 1 1\n" +
		"==> /proc/202/stat <==\n202 (api-b) S 1 202 202 0 -1 4194560 1322 0 0 0 5 3 0 0 20 0 6 0 342000 1 1\n"
	boot := "==> /proc/stat <==\ncpu  1 2 3\nbtime 1796281200\n"
	dated := "date: 2026-12-03T08:00:00Z\n" + ss
	for _, tt := range []struct {
		name string
		evs  []*dumps.Evidence
		want string // what the winner's age line cites
	}{
		{"ps", []*dumps.Evidence{readEv(t, "ss.txt", ss), readEv(t, "ps.txt", ps)}, "ps.txt:4"},
		{"stat and btime", []*dumps.Evidence{readEv(t, "ss.txt", dated), readEv(t, "stat.txt", stat), readEv(t, "proc-stat.txt", boot)}, "stat.txt:2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(BuildInput{Evidence: append(tt.evs, readEv(t, "goroutines.txt", gd))})
			if err != nil {
				t.Fatal(err)
			}
			d := m.DumpLinks[0]
			if d.PID != 101 || d.Method != "content" || d.Score != 0.6 {
				t.Fatalf("link %+v, want pid 101 by content at 0.60", d)
			}
			if !slices.ContainsFunc(d.Why, func(w string) bool {
				return strings.HasPrefix(w, "+0.10 a goroutine has waited 14m00s (goroutines.txt:1), within the 20m00s") && strings.Contains(w, tt.want)
			}) {
				t.Errorf("why %q does not say the ages fit, citing %s", d.Why, tt.want)
			}
			b := d.Candidates[1]
			if b.PID != 202 || b.Score != 0 || !slices.ContainsFunc(b.Why, func(w string) bool {
				return strings.HasPrefix(w, "-0.60 a goroutine has waited 14m00s") && strings.Contains(w, "had run only 3m00s")
			}) {
				t.Errorf("api-b %+v: want 0 with the age against it", b)
			}
		})
	}
}

// TestLinkAgesSayNothing: goroutines that waited less than a minute
// state no age, so start times neither add nor take away: the dump stays
// ambiguous between the two processes.
func TestLinkAgesSayNothing(t *testing.T) {
	ss, gd := twoGoProcesses("")
	ps := "date: 2026-12-03T08:00:00Z\n  PID  PPID ELAPSED COMMAND\n  101     1    1200 api-a\n  202     1     180 api-b\n"
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss), readEv(t, "ps.txt", ps), readEv(t, "goroutines.txt", gd)}})
	if err != nil {
		t.Fatal(err)
	}
	if d := m.DumpLinks[0]; d.PID != 0 || d.Candidates[0].Score != d.Candidates[1].Score {
		t.Errorf("link %+v, want unlinked with equal scores", d)
	}
}

// TestLinkDumpBeforeStart: a JVM dump printed its time, 07:50, and one
// of the two JVMs started at 07:55: it cannot be that one's.
func TestLinkDumpBeforeStart(t *testing.T) {
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		"CLOSE-WAIT 1 0 10.0.0.5:40000 10.0.0.9:5432 users:((\"java\",pid=101,fd=10))\n" +
		"CLOSE-WAIT 1 0 10.0.0.5:41000 10.0.0.9:5432 users:((\"java\",pid=202,fd=10))\n"
	ps := "  PID  PPID                  STARTED ELAPSED COMMAND\n" +
		"  101     1 Thu Dec  3 07:00:00 2026    3600 java -jar a.jar\n" +
		"  202     1 Thu Dec  3 07:55:00 2026     300 java -jar b.jar\n"
	jstack := "2026-12-03 07:50:00\nFull thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode):\n\n" +
		"\"worker-1\" #20 prio=5 os_prio=0 cpu=1.00ms elapsed=600.00s tid=0x00007f0000001000 nid=0x100 runnable  [0x00007f0000100000]\n" +
		"   java.lang.Thread.State: RUNNABLE\n\tat sun.nio.ch.SocketDispatcher.read0(java.base@17.0.15/Native Method)\n\tat com.example.Client.read(Client.java:10)\n\n"
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss), readEv(t, "ps.txt", ps), readEv(t, "jstack.txt", jstack)}})
	if err != nil {
		t.Fatal(err)
	}
	d := m.DumpLinks[0]
	if d.PID != 101 {
		t.Fatalf("link %+v, want pid 101", d)
	}
	b := d.Candidates[1]
	if b.PID != 202 || !slices.ContainsFunc(b.Why, func(w string) bool {
		return strings.HasPrefix(w, "-0.60 the dump was taken at 2026-12-03 07:50:00, before the process started at 2026-12-03 07:55:00 (ps.txt:3)")
	}) {
		t.Errorf("pid 202 %+v: want the dump's time against it", b)
	}
}

// TestLinkDumpTimeOtherZone: a JVM dump's time is its host's local time
// without a zone; five hours from every listing, it is in another zone
// and not weighed, so the dump stays as ambiguous as its content is.
func TestLinkDumpTimeOtherZone(t *testing.T) {
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		"CLOSE-WAIT 1 0 10.0.0.5:40000 10.0.0.9:5432 users:((\"java\",pid=101,fd=10))\n" +
		"CLOSE-WAIT 1 0 10.0.0.5:41000 10.0.0.9:5432 users:((\"java\",pid=202,fd=10))\n"
	ps := "date: 2026-12-03T08:00:00Z\n  PID  PPID                  STARTED ELAPSED COMMAND\n" +
		"  101     1 Thu Dec  3 07:00:00 2026    3600 java -jar a.jar\n" +
		"  202     1 Thu Dec  3 07:55:00 2026     300 java -jar b.jar\n"
	jstack := "2026-12-03 02:59:00\nFull thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode):\n\n" +
		"\"worker-1\" #20 prio=5 os_prio=0 cpu=1.00ms elapsed=60.00s tid=0x00007f0000001000 nid=0x100 runnable  [0x00007f0000100000]\n" +
		"   java.lang.Thread.State: RUNNABLE\n\tat sun.nio.ch.SocketDispatcher.read0(java.base@17.0.15/Native Method)\n\tat com.example.Client.read(Client.java:10)\n\n"
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss), readEv(t, "ps.txt", ps), readEv(t, "jstack.txt", jstack)}})
	if err != nil {
		t.Fatal(err)
	}
	d := m.DumpLinks[0]
	if d.PID != 0 || len(d.Candidates) != 2 || d.Candidates[0].Score != d.Candidates[1].Score {
		t.Fatalf("link %+v, want unlinked with equal scores", d)
	}
	for _, c := range d.Candidates {
		if slices.ContainsFunc(c.Why, func(w string) bool { return strings.Contains(w, "the dump was taken at") }) {
			t.Errorf("pid %d: the dump's time was weighed: %q", c.PID, c.Why)
		}
	}
}

// TestProcessNameSource: the name comes from the most complete source,
// whatever the order of the files: ps's argv[0] (and its command line),
// then ss's kernel name, then netstat's program column cut to its width,
// which never replaces a longer name.
func TestProcessNameSource(t *testing.T) {
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		"CLOSE-WAIT 1 0 10.0.0.5:8080 10.0.0.9:5000 users:((\"repository\",pid=4002,fd=10))\n"
	netstat := "Active Internet connections (servers and established)\n" +
		"Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name\n" +
		"tcp        1      0 10.0.0.5:8080           10.0.0.9:5000           CLOSE_WAIT  4002/./server/repo\n"
	ps := "  PID  PPID ELAPSED COMMAND\n 4002     1      60 ./server/repository-sync -listen :8080\n"
	cmdline := "$ cat /proc/4002/cmdline\n./server/repository-sync\x00-listen\x00:8080\x00-v\x00\n"
	for _, tt := range []struct {
		name             string
		files            [][2]string
		wantName, from   string
		wantCmd, cmdFrom string
	}{
		{"netstat alone", [][2]string{{"netstat.txt", netstat}}, "./server/repo", "netstat.txt:3", "", ""},
		{"netstat after ss", [][2]string{{"ss.txt", ss}, {"netstat.txt", netstat}}, "repository", "ss.txt:2", "", ""},
		{"netstat before ss", [][2]string{{"netstat.txt", netstat}, {"ss.txt", ss}}, "repository", "ss.txt:2", "", ""},
		{"ps", [][2]string{{"netstat.txt", netstat}, {"ps.txt", ps}, {"ss.txt", ss}}, "repository-sync", "ps.txt:2", "./server/repository-sync -listen :8080", "ps.txt:2"},
		{"cmdline is longer", [][2]string{{"ss.txt", ss}, {"ps.txt", ps}, {"cmdline.txt", cmdline}}, "repository-sync", "ps.txt:2", "./server/repository-sync -listen :8080 -v", "cmdline.txt:2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var evs []*dumps.Evidence
			for _, f := range tt.files {
				evs = append(evs, readEv(t, f[0], f[1]))
			}
			m, err := Build(BuildInput{Evidence: evs})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Findings) == 0 {
				t.Fatal("no finding")
			}
			p := m.Findings[0].Process
			if p.PID != 4002 || p.Name != tt.wantName || p.NameFrom.String() != tt.from || p.Cmdline != tt.wantCmd || p.CmdlineFrom.String() != tt.cmdFrom {
				t.Errorf("process %+v, want %q from %s, command line %q from %s", p, tt.wantName, tt.from, tt.wantCmd, tt.cmdFrom)
			}
		})
	}
}

func TestCommandName(t *testing.T) {
	for in, want := range map[string]string{
		"./server/repository -listen :8080": "repository",
		"[kthreadd]":                        "kthreadd",
		"nginx: worker process":             "nginx",
		"/usr/bin/java -jar a.jar":          "java",
		"":                                  "",
	} {
		if got := commandName(in); got != want {
			t.Errorf("commandName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCmdlineWithoutPID: a cmdline saved under a name without the pid
// goes to the one process whose listed name its command name fits (the
// same name, or lsof's cut of it), says so, and is left out with a
// warning when no process or several fit.
func TestCmdlineWithoutPID(t *testing.T) {
	const cmd = "/opt/relay/bin/metrics-shipper\x00-collector\x0010.0.0.9:5432\x00" // as cat saves it
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		"CLOSE-WAIT 1 0 10.0.0.5:40000 10.0.0.9:5432 users:((\"metrics-shipper\",pid=101,fd=10))\n" +
		"CLOSE-WAIT 1 0 10.0.0.5:40001 10.0.0.9:6379 users:((\"cache-warmer\",pid=202,fd=11))\n"
	lsof := "COMMAND    PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\n" +
		"metrics-s  101 root   10u  IPv4  1  0t0  TCP 10.0.0.5:40000->10.0.0.9:5432 (CLOSE_WAIT)\n" +
		"metrics-s  303 root   10u  IPv4  2  0t0  TCP 10.0.0.5:40002->10.0.0.9:5432 (CLOSE_WAIT)\n"
	for _, tt := range []struct {
		name    string
		listing *dumps.Evidence
		pid     int    // who gets the command line; 0: nobody
		warning string // in the warning when nobody does
	}{
		{"ss names it", readEv(t, "ss.txt", ss), 101, ""},
		{"lsof's cut name, two processes", readEv(t, "lsof.txt", lsof), 0, "fits 2 listed processes (pids 101, 303)"},
		{"no such process", readEv(t, "ss.txt", strings.ReplaceAll(ss, "metrics-shipper", "other-daemon")), 0, "fits no listed process"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(BuildInput{Evidence: []*dumps.Evidence{tt.listing, readEv(t, "cmdline.txt", cmd)}})
			if err != nil {
				t.Fatal(err)
			}
			var got int
			for _, f := range m.Findings {
				if f.Process.Cmdline != "" {
					if !f.Process.CmdlineByName || f.Process.CmdlineFrom != linePos("cmdline.txt", 1) {
						t.Errorf("process %+v: want the command line from cmdline.txt:1, by name", f.Process)
					}
					got = f.Process.PID
				}
			}
			if got != tt.pid {
				t.Errorf("command line given to pid %d, want %d", got, tt.pid)
			}
			warned := slices.ContainsFunc(m.Warnings, func(w Warning) bool {
				return w.Pos == linePos("cmdline.txt", 1) && strings.Contains(w.Msg, "names no pid")
			})
			if warned != (tt.warning != "") || tt.warning != "" && !slices.ContainsFunc(m.Warnings, func(w Warning) bool { return strings.Contains(w.Msg, tt.warning) }) {
				t.Errorf("warnings %+v, want one saying %q", m.Warnings, tt.warning)
			}
		})
	}
}

func TestCmdlineNames(t *testing.T) {
	v4 := netip.MustParseAddrPort("10.0.0.9:5432")
	v6 := netip.MustParseAddrPort("[2001:db8::9]:5432")
	for _, tt := range []struct {
		cmd  string
		p    netip.AddrPort
		want bool
	}{
		{"shipper -collector 10.0.0.9:5432", v4, true},
		{"shipper --to=10.0.0.9:5432 -v", v4, true},
		{"curl http://10.0.0.9:5432/health", v4, true},
		{"shipper -collector 110.0.0.9:5432", v4, false},
		{"shipper -collector 10.0.0.9:54321", v4, false},
		{"shipper -collector 10.0.0.9:543", v4, false},
		{"shipper -collector 10.0.0.9 -port 5432", v4, false}, // address and port apart: not said to be this endpoint
		{"shipper -a 110.0.0.9:54321 -b 10.0.0.9:5432", v4, true},
		{"shipper -collector [2001:db8::9]:5432", v6, true},
		{"shipper -collector [2001:db8::99]:5432", v6, false},
	} {
		if got := cmdlineNames(tt.cmd, tt.p); got != tt.want {
			t.Errorf("cmdlineNames(%q, %s) = %v, want %v", tt.cmd, tt.p, got, tt.want)
		}
	}
}

// TestRemoteLeakNamedByCmdline: orphaned FIN_WAIT2 sockets toward a peer
// that no listed socket connects to are given to the one process whose
// command line names the peer, as a weak link; two such command lines
// name nobody. The process named has the runtime its name says, with a
// pid or without.
func TestRemoteLeakNamedByCmdline(t *testing.T) {
	peer := netip.MustParseAddrPort("10.0.0.9:5432")
	res := capture(t, func(c *capgen.Capture) {
		for i := range 2 {
			clientCloses(c, netip.AddrPortFrom(netip.MustParseAddr("10.0.0.5"), uint16(40000+i)), peer)
		}
		c.Wait(10 * time.Second)
	}, "10.0.0.5/32")
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		"FIN-WAIT-2 0 0 10.0.0.5:40000 10.0.0.9:5432\n" +
		"FIN-WAIT-2 0 0 10.0.0.5:40001 10.0.0.9:5432\n" +
		"ESTAB 0 0 10.0.0.5:8080 10.0.0.7:50000 users:((\"api\",pid=77,fd=9))\n"
	shipper := "==> /proc/101/cmdline <==\n/opt/bin/shipper\x00-collector\x0010.0.0.9:5432\x00\n"
	other := "==> /proc/202/cmdline <==\n/opt/bin/backfill\x00--to=10.0.0.9:5432\x00\n"
	for _, tt := range []struct {
		name    string
		cmds    string
		named   string
		pid     int
		runtime Runtime
	}{
		{"one names the peer", shipper, "shipper", 101, RuntimeUnknown},
		{"no pid", "/opt/bin/shipper\x00-collector\x0010.0.0.9:5432\x00", "shipper", 0, RuntimeUnknown},
		{"a python script", "==> /proc/101/cmdline <==\npython3\x00ship.py\x0010.0.0.9:5432\x00\n", "python3", 101, RuntimePython},
		{"a python script, no pid", "python3\x00ship.py\x0010.0.0.9:5432\x00", "python3", 0, RuntimePython},
		{"two name it", shipper + other, "", 0, RuntimeUnknown},
		{"none names it", strings.ReplaceAll(shipper, "5432", "5433"), "", 0, RuntimeUnknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss), readEv(t, "cmdline.txt", tt.cmds)}})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(m.Findings, func(f Finding) bool { return f.Category == CategoryRemotePeerLeak })
			if i < 0 {
				t.Fatalf("no remote-peer-leak finding in %+v", m.Findings)
			}
			f := m.Findings[i]
			if f.Process.Name != tt.named || f.Process.PID != tt.pid || f.Process.Runtime != tt.runtime {
				t.Errorf("process %q (%v), want %q (%v)", f.Process, f.Process.Runtime, tt.named, tt.runtime)
			}
			cites := slices.ContainsFunc(f.Supporting, func(c Claim) bool {
				return strings.Contains(c.Text, "names the peer 10.0.0.9:5432 in its command line")
			})
			if cites != (tt.named != "") {
				t.Errorf("claims %+v: the command-line claim should be there only when a process is named", f.Supporting)
			}
		})
	}
}

// TestCmdlineBesideFDListing: a cmdline that names no pid, whose command
// name fits two processes (two python3), goes to the one that the fd
// listing in its folder is of by content (its socket inodes, or the pid
// it names), and the report says how; it stays left out when the fd
// listings there are of both, or when the folder holds another cmdline
// without a pid.
func TestCmdlineBesideFDListing(t *testing.T) {
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		"CLOSE-WAIT 1 0 10.0.0.5:40000 10.0.0.9:8080 users:((\"python3\",pid=101,fd=10)) ino:5001 sk:1\n" +
		"CLOSE-WAIT 1 0 10.0.0.5:40001 10.0.0.9:8080 users:((\"python3\",pid=202,fd=10)) ino:6001 sk:2\n"
	fdOf := func(inode int) string {
		return "total 0\nlr-x------ 1 root root 64 Dec  3 07:41 0 -> /dev/null\n" +
			fmt.Sprintf("lrwx------ 1 root root 64 Dec  3 07:41 10 -> socket:[%d]\n", inode)
	}
	const cmd = "/usr/bin/python3\x00worker.py\x00--queue\x00a\x00"
	for _, tt := range []struct {
		name  string
		files map[string]string
		pid   int    // who gets the command line; 0: nobody
		how   string // in CmdlineHow
	}{
		{"fd listing by inode", map[string]string{"case/proc-fd.txt": fdOf(6001)}, 202,
			`given to pid 202, the one of the 2 processes named "python3" (pids 101, 202) that the per-process files beside it are of: the fd listing case/proc-fd.txt:2 (1 of its socket inodes are sockets of pid 202)`},
		{"fd listing naming its pid", map[string]string{"case/proc-fd.txt": "$ ls -l /proc/101/fd\n" + fdOf(9)}, 101, "(it names the pid)"},
		{"fd listings of both", map[string]string{"case/proc-fd-a.txt": fdOf(6001), "case/proc-fd-b.txt": fdOf(5001)}, 0, ""},
		{"fd listing in another folder", map[string]string{"other/proc-fd.txt": fdOf(6001)}, 0, ""},
		{"two cmdlines without pid", map[string]string{"case/proc-fd.txt": fdOf(6001), "case/cmdline-2.txt": cmd}, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs := []*dumps.Evidence{readEv(t, "case/ss.txt", ss), readEv(t, "case/cmdline.txt", cmd)}
			for _, f := range slices.Sorted(maps.Keys(tt.files)) {
				evs = append(evs, readEv(t, f, tt.files[f]))
			}
			m, err := Build(BuildInput{Evidence: evs})
			if err != nil {
				t.Fatal(err)
			}
			var got int
			for _, f := range m.Findings {
				if f.Process.Cmdline != "" {
					if !strings.Contains(f.Process.CmdlineHow, tt.how) || tt.how == "" {
						t.Errorf("process %+v: want how %q", f.Process, tt.how)
					}
					got = f.Process.PID
				}
			}
			if got != tt.pid {
				t.Errorf("command line given to pid %d, want %d", got, tt.pid)
			}
			warned := slices.ContainsFunc(m.Warnings, func(w Warning) bool {
				return w.Pos == linePos("case/cmdline.txt", 1) && strings.Contains(w.Msg, "fits 2 listed processes (pids 101, 202)")
			})
			if warned != (tt.pid == 0) {
				t.Errorf("warnings %+v: want one saying it fits 2 processes: %v", m.Warnings, tt.pid == 0)
			}
		})
	}
}

func TestFitsName(t *testing.T) {
	for _, tt := range []struct {
		cmd, listed string
		want        bool
	}{
		{"metrics-shipper", "metrics-shipper", true},
		{"metrics-shipper", "metrics-s", true},               // lsof's 9
		{"containerd-shim-runc-v2", "containerd-shim", true}, // the kernel's 15
		{"postgres_exporter", "postgres", false},             // a whole name, not a cut
		{"containerd-shim-runc-v2", "containerd", false},
		{"java", "java", true},
	} {
		if got := fitsName(tt.cmd, tt.listed); got != tt.want {
			t.Errorf("fitsName(%q, %q) = %v, want %v", tt.cmd, tt.listed, got, tt.want)
		}
	}
}

// TestCmdlineWithoutPIDPsNamesTwo: ss names one python3, ps two; a
// pid-less cmdline of python3 fits both and goes to neither.
func TestCmdlineWithoutPIDPsNamesTwo(t *testing.T) {
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		"CLOSE-WAIT 1 0 10.0.0.5:40000 10.0.0.9:5432 users:((\"python3\",pid=101,fd=10))\n"
	ps := "    PID    PPID COMMAND\n    101       1 python3 worker.py\n    202       1 python3 other.py\n"
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss), readEv(t, "ps.txt", ps),
		readEv(t, "cmdline.txt", "python3\x00worker.py\x00")}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(m.Warnings, func(w Warning) bool {
		return w.Pos == linePos("cmdline.txt", 1) && strings.Contains(w.Msg, "pids 101, 202")
	}) {
		t.Errorf("warnings %+v: want the cmdline left out, fitting pids 101 and 202", m.Warnings)
	}
}
