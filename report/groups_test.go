package report

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// The tests in this file stand for the classes of attribution failure seen
// on real incidents (issue 12), each with synthetic evidence in the formats
// the real tools print.

func readEv(t *testing.T, name, text string) *dumps.Evidence {
	t.Helper()
	ev, err := readDumps(strings.NewReader(text), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// jcmdDump writes a jcmd Thread.print of pid with threads, each given as
// (name, state line, frames and lock lines).
func jcmdDump(pid int, threads ...[3]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:\n2026-01-02 03:05:05\nFull thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode, sharing):\n\n", pid)
	for i, t := range threads {
		fmt.Fprintf(&b, "\"%s\" #%d prio=5 os_prio=0 cpu=1.00ms elapsed=60.00s tid=0x00007f00000%05x nid=0x%x waiting\n   java.lang.Thread.State: %s\n%s\n", t[0], 20+i, i, 100+i, t[1], t[2])
	}
	return b.String()
}

// parkedHolder is a handler thread waiting on a monitor in application code
// while it holds the connection it serves.
func parkedHolder(name string) [3]string {
	return [3]string{name, "WAITING (on object monitor)",
		"\tat java.lang.Object.wait(java.base@17.0.15/Native Method)\n" +
			"\t- waiting on <0x000000069ec29340> (a java.lang.Object)\n" +
			"\tat java.lang.Object.wait(java.base@17.0.15/Object.java:338)\n" +
			"\tat com.example.Handler.awaitAck(Handler.java:42)\n" +
			"\tat com.example.Handler.serve(Handler.java:20)\n" +
			"\tat java.lang.Thread.run(java.base@17.0.15/Thread.java:840)\n"}
}

// ssLoop is two `ss -tanp` snapshots 30 s apart, each after a date line,
// listing the same sockets.
func ssLoop(lines []string) string {
	var b strings.Builder
	for _, at := range []string{"Fri Jan  2 03:04:35 UTC 2026", "Fri Jan  2 03:05:05 UTC 2026"} {
		b.WriteString(at + "\nState      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n")
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestGroupsTwoMechanisms: a JVM has 10 sockets stuck on its port 8080;
// 4 handler threads wait on a monitor, each holding the connection it
// serves, and 6 sockets no thread refers to (an error path that returned).
// Two findings, with their own counts, add up to the 10.
func TestGroupsTwoMechanisms(t *testing.T) {
	lines := []string{`LISTEN     0      50     0.0.0.0:8080       0.0.0.0:*         users:(("java",pid=500,fd=5))`}
	for i := range 10 {
		lines = append(lines, fmt.Sprintf(`CLOSE-WAIT 1      0      10.0.0.5:8080      10.0.0.9:%d   users:(("java",pid=500,fd=%d))`, 41000+i, 20+i))
	}
	var threads [][3]string
	for i := range 4 {
		threads = append(threads, parkedHolder(fmt.Sprintf("conn-handler-%d", i+1)))
	}
	threads = append(threads, [3]string{"pool-1-thread-1", "WAITING (parking)",
		"\tat jdk.internal.misc.Unsafe.park(java.base@17.0.15/Native Method)\n" +
			"\t- parking to wait for  <0x000000069ec2a000> (a java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject)\n" +
			"\tat java.util.concurrent.locks.LockSupport.park(java.base@17.0.15/LockSupport.java:341)\n" +
			"\tat java.util.concurrent.ThreadPoolExecutor.getTask(java.base@17.0.15/ThreadPoolExecutor.java:1062)\n" +
			"\tat java.lang.Thread.run(java.base@17.0.15/Thread.java:840)\n"})
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{
		readEv(t, "ss-loop.txt", ssLoop(lines)),
		readEv(t, "jcmd.txt", jcmdDump(500, threads...)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range m.Findings {
		got = append(got, fmt.Sprintf("%s %s %d holders=%d %s", f.Category, f.Mechanism, f.SocketCount, f.Holders, f.Severity))
	}
	want := []string{
		"missing-close unreferenced 6 holders=0 warning",
		"blocked-holding-socket held-by-thread 4 holders=4 warning",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	held := m.Findings[1]
	if len(held.Suspects) == 0 || held.Suspects[0].Culprit != "com.example.Handler.awaitAck" || held.Suspects[0].Count != 4 ||
		held.Suspects[0].Role != RoleHolder || !strings.HasPrefix(held.Suspects[0].Name, "conn-handler-") {
		t.Errorf("held group's suspects %+v", held.Suspects)
	}
	if !strings.Contains(m.Verdict.Text, "the process's 10 stuck sockets are 2 groups: 6 referenced by no running code (missing-close) + 4 held by blocked threads or goroutines (blocked-holding-socket)") {
		t.Errorf("verdict %q does not add the groups up", m.Verdict.Text)
	}
	if held.OldestText != ">= 30s" {
		t.Errorf("oldest %q, want >= 30s from the two timed listings", held.OldestText)
	}
	if !strings.Contains(strings.Join(held.SeverityReasons, " "), "a confirmed leak") {
		t.Errorf("severity reasons %v", held.SeverityReasons)
	}
	if len(held.Advice) == 0 || !strings.Contains(held.Advice[0].Text, "com.example.Handler.awaitAck") {
		t.Errorf("advice does not name the code: %+v", held.Advice)
	}
}

// TestGroupsWaitersAreNotHolders: threads blocked on a monitor another
// thread owns wait; when nothing else holds the sockets and they are as
// many, they hold them, and the lock's owner is named.
func TestGroupsWaitersAreNotHolders(t *testing.T) {
	lines := []string{`LISTEN     0      50     0.0.0.0:8080       0.0.0.0:*         users:(("java",pid=500,fd=5))`}
	for i := range 3 {
		lines = append(lines, fmt.Sprintf(`CLOSE-WAIT 1      0      10.0.0.5:8080      10.0.0.9:%d   users:(("java",pid=500,fd=%d))`, 41000+i, 20+i))
	}
	var threads [][3]string
	for i := range 3 {
		threads = append(threads, [3]string{fmt.Sprintf("uploader-%d", i), "BLOCKED (on object monitor)",
			"\tat com.example.Upload.send(Upload.java:57)\n\t- waiting to lock <0x000000069ec29340> (a java.lang.Object)\n\tat java.lang.Thread.run(java.base@17.0.15/Thread.java:840)\n"})
	}
	threads = append(threads, [3]string{"cache-refresher", "TIMED_WAITING (sleeping)",
		"\tat java.lang.Thread.sleep(java.base@17.0.15/Native Method)\n\tat com.example.Cache.refresh(Cache.java:12)\n\t- locked <0x000000069ec29340> (a java.lang.Object)\n\tat java.lang.Thread.run(java.base@17.0.15/Thread.java:840)\n"})
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{
		readEv(t, "ss-loop.txt", ssLoop(lines)),
		readEv(t, "jcmd.txt", jcmdDump(500, threads...)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) != 1 {
		t.Fatalf("%d findings", len(m.Findings))
	}
	f := m.Findings[0]
	if f.Category != CategoryBlockedHoldingSocket || f.Holders != 3 || len(f.Suspects) == 0 {
		t.Fatalf("finding %s holders %d suspects %+v", f.Category, f.Holders, f.Suspects)
	}
	locks := strings.Join(f.Suspects[0].Locks, "; ")
	if !strings.Contains(locks, `held by "cache-refresher" in com.example.Cache.refresh`) {
		t.Errorf("locks %q do not name the owner", locks)
	}
}

// TestLinkAmbiguous: two Go processes with as many sockets each, and a
// goroutine dump that fits both: not linked, and the report shows both
// candidates with equal scores; --dump decides.
func TestLinkAmbiguous(t *testing.T) {
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	for i := range 3 {
		ss += fmt.Sprintf("CLOSE-WAIT 1 0 10.0.0.5:%d 10.0.0.9:5432 users:((\"api-a\",pid=101,fd=%d))\n", 40000+i, 10+i)
		ss += fmt.Sprintf("CLOSE-WAIT 1 0 10.0.0.5:%d 10.0.0.9:6379 users:((\"api-b\",pid=202,fd=%d))\n", 41000+i, 10+i)
	}
	var gd strings.Builder
	for i := range 3 {
		fmt.Fprintf(&gd, "goroutine %d [select]:\nnet/http.(*persistConn).readLoop(0xc000%04x)\n\t/usr/local/go/src/net/http/transport.go:2395 +0xcad\ncreated by net/http.(*Transport).dialConn in goroutine 1\n\t/usr/local/go/src/net/http/transport.go:1944 +0x174e\n\n", 10+i, i)
	}
	in := BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss), readEv(t, "goroutines.txt", gd.String())}}
	m, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.DumpLinks) != 1 {
		t.Fatalf("dump links %+v", m.DumpLinks)
	}
	d := m.DumpLinks[0]
	if d.PID != 0 || d.Method != "unlinked" || len(d.Candidates) != 2 || d.Candidates[0].Score != d.Candidates[1].Score {
		t.Errorf("link %+v, want unlinked with two equal candidates", d)
	}
	if !slices.ContainsFunc(m.Warnings, func(w Warning) bool { return strings.Contains(w.Msg, "api-a (pid 101) 0.50, api-b (pid 202) 0.50") }) {
		t.Errorf("warnings %+v do not show the candidates", m.Warnings)
	}
	in.DumpPIDs = map[string]int{"goroutines.txt": 202}
	m, err = Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.DumpLinks[0]; d.PID != 202 || d.Method != "flag" {
		t.Errorf("with --dump: %+v", d)
	}
}

// capture builds a capture with gen and reads it.
func capture(t testing.TB, gen func(c *capgen.Capture), local ...string) *pcapstate.Result {
	t.Helper()
	c := capgen.New(time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC))
	gen(c)
	var pcap bytes.Buffer
	if err := c.Write(&pcap, capgen.Format{}); err != nil {
		t.Fatal(err)
	}
	var prefixes []netip.Prefix
	for _, l := range local {
		prefixes = append(prefixes, netip.MustParsePrefix(l))
	}
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "c.pcap", R: &pcap}}, pcapstate.Options{Retain: pcapstate.RetainAll, Local: prefixes})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestAgeFromLatestEvidence: the peer's FIN at 03:04:01, the capture ends
// at 03:04:02, and a listing taken at 03:04:32 still shows the socket in
// CLOSE_WAIT: it is at least 30 s old, not 1 s.
func TestAgeFromLatestEvidence(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	res := capture(t, func(c *capgen.Capture) {
		k := c.Conn(netip.MustParseAddrPort("10.0.0.1:41000"), server, capgen.ConnOptions{})
		k.Handshake()
		k.Data(capgen.FromClient, 100)
		c.Wait(time.Second)
		k.FIN(capgen.FromClient)
		k.ACK(capgen.FromServer)
		c.Wait(time.Second)
		k.Data(capgen.FromServer, 10) // the last packet
	}, "10.0.0.2/32")
	ss := "Fri Jan  2 03:04:32 UTC 2026\nState      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		`CLOSE-WAIT 1      0      10.0.0.2:8080      10.0.0.1:41000   users:(("api",pid=9,fd=12))` + "\n"
	m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Sockets) != 1 || m.Sockets[0].AgeText != ">= 30s" || m.Sockets[0].Status != StatusConfirmed {
		t.Fatalf("sockets %+v, want one confirmed, >= 30s", m.Sockets)
	}
	if m.Findings[0].Severity != SeverityWarning {
		t.Errorf("a confirmed leak of 30 s: %s %v", m.Findings[0].Severity, m.Findings[0].SeverityReasons)
	}
}

// TestNameFromMostCompleteSource: netstat's program column is argv[0] cut
// to its width; ss's command name is the kernel's, whole. ss wins, in
// whatever order the files come.
func TestNameFromMostCompleteSource(t *testing.T) {
	netstat := "Active Internet connections (servers and established)\n" +
		"Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name\n" +
		"tcp        1      0 10.0.0.2:8080           10.0.0.1:41000          CLOSE_WAIT  9/./server/repo     \n"
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		`CLOSE-WAIT 1      0      10.0.0.2:8080      10.0.0.1:41000   users:(("repo",pid=9,fd=12))` + "\n"
	for _, order := range [][2]string{{"netstat.txt", "ss.txt"}, {"ss.txt", "netstat.txt"}} {
		files := map[string]string{"netstat.txt": netstat, "ss.txt": ss}
		m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, order[0], files[order[0]]), readEv(t, order[1], files[order[1]])}})
		if err != nil {
			t.Fatal(err)
		}
		if p := m.Findings[0].Process; p.Name != "repo" {
			t.Errorf("%v: process %q, want ss's repo", order, p.Name)
		}
	}
}

// TestRemotePeerHasAFace: our ends wait in FIN_WAIT2, orphaned (no process
// lists them), toward a peer that never closes; the process that owns the
// live connections to that peer is the local side.
func TestRemotePeerHasAFace(t *testing.T) {
	peer := netip.MustParseAddrPort("10.0.0.9:6379")
	res := capture(t, func(c *capgen.Capture) {
		for i := range 3 {
			clientCloses(c, netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(50000+i)), peer)
		}
		c.Wait(10 * time.Second)
		k := c.Conn(netip.MustParseAddrPort("10.0.0.1:51000"), peer, capgen.ConnOptions{})
		k.Handshake()
	}, "10.0.0.1/32")
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		"FIN-WAIT-2 0      0      10.0.0.1:50000     10.0.0.9:6379\n" +
		"FIN-WAIT-2 0      0      10.0.0.1:50001     10.0.0.9:6379\n" +
		"FIN-WAIT-2 0      0      10.0.0.1:50002     10.0.0.9:6379\n" +
		`ESTAB      0      0      10.0.0.1:51000     10.0.0.9:6379    users:(("worker",pid=77,fd=9))` + "\n" +
		`ESTAB      0      0      10.0.0.1:51001     10.0.0.9:6379    users:(("worker",pid=77,fd=10))` + "\n"
	m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) == 0 {
		t.Fatal("no finding")
	}
	f := m.Findings[0]
	if f.Category != CategoryRemotePeerLeak || f.SocketCount != 3 || f.Process.PID != 77 || f.Process.Name != "worker" {
		t.Errorf("finding %s with %d sockets in %s, want remote-peer-leak, 3, worker (pid 77): %v", f.Category, f.SocketCount, f.Process, f.Supporting)
	}
}

// TestTransientBesideLeak: a server closes 3 connections 2 s after the
// client's FIN and never closes 2 others. The 3 are a transient finding of
// their own (info), never counted in the leak.
func TestTransientBesideLeak(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	res := capture(t, func(c *capgen.Capture) {
		var ks []*capgen.Conn
		for i := range 5 {
			k := c.Conn(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(41000+i)), server, capgen.ConnOptions{})
			k.Handshake()
			k.Data(capgen.FromClient, 100)
			k.FIN(capgen.FromClient)
			k.ACK(capgen.FromServer)
			ks = append(ks, k)
		}
		c.Wait(2 * time.Second)
		for _, k := range ks[:3] {
			k.FIN(capgen.FromServer)
			k.ACK(capgen.FromClient)
		}
		c.Wait(20 * time.Second)
		ks[4].Data(capgen.FromServer, 1)
	}, "10.0.0.2/32")
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		`LISTEN     0      50     0.0.0.0:8080       0.0.0.0:*         users:(("api",pid=9,fd=3))` + "\n" +
		`CLOSE-WAIT 1      0      10.0.0.2:8080      10.0.0.1:41003   users:(("api",pid=9,fd=12))` + "\n" +
		`CLOSE-WAIT 1      0      10.0.0.2:8080      10.0.0.1:41004   users:(("api",pid=9,fd=13))` + "\n"
	m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss)}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range m.Findings {
		got = append(got, fmt.Sprintf("%s %d %s", f.Category, f.SocketCount, f.Severity))
	}
	if want := []string{"missing-close 2 warning", "normal-churn 3 info"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if c := m.Findings[1]; !strings.Contains(c.Group, "3 closed after up to 2s") {
		t.Errorf("transient group %q", c.Group)
	}
}

// TestFDExhaustion: a server at its fd limit, with connections waiting
// unaccepted on its listening port.
func TestFDExhaustion(t *testing.T) {
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		`LISTEN     3      4      0.0.0.0:8080       0.0.0.0:*         users:(("api",pid=9,fd=3))` + "\n" +
		`ESTAB      0      0      10.0.0.2:8080      10.0.0.1:41000` + "\n" +
		`ESTAB      0      0      10.0.0.2:8080      10.0.0.1:41001` + "\n" +
		`ESTAB      0      0      10.0.0.2:8080      10.0.0.1:41002` + "\n" +
		`CLOSE-WAIT 1      0      10.0.0.2:8080      10.0.0.1:40000   users:(("api",pid=9,fd=4))` + "\n" +
		`CLOSE-WAIT 1      0      10.0.0.2:8080      10.0.0.1:40001` + "\n"
	var fd strings.Builder
	fd.WriteString("/proc/9/fd:\n")
	for i := range 20 {
		fmt.Fprintf(&fd, "lrwx------ 1 root root 64 Jan  2 03:04 %d -> socket:[%d]\n", i, 1000+i)
	}
	limits := "Limit                     Soft Limit           Hard Limit           Units     \n" +
		"Max open files            20                   20                   files     \n"
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss), readEv(t, "fd.txt", fd.String()), readEv(t, "limits-9.txt", limits)}})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m.Findings, func(f Finding) bool { return f.Category == CategoryFDExhaustion })
	if i < 0 {
		t.Fatalf("no fd-exhaustion finding: %+v", m.Findings)
	}
	f := m.Findings[i]
	// The leaked socket that fills the table is the exhaustion finding's.
	if f.Severity != SeverityCritical || f.Process.PID != 9 || f.SocketCount != 1 || f.Mechanism != MechanismUnreferenced ||
		f.Group != "20 open fds of a limit of 20, 4 connections waiting unaccepted on :8080; 1 socket in CLOSE_WAIT referenced by no running code" {
		t.Errorf("finding %s pid %d, %d sockets, %s, group %q", f.Severity, f.Process.PID, f.SocketCount, f.Mechanism, f.Group)
	}
	if m.Verdict.Category != CategoryFDExhaustion || m.Verdict.Process.PID != 9 {
		t.Errorf("verdict %q", m.Verdict.Text)
	}
	// The connection in CLOSE_WAIT in the listen queue is no process's.
	j := slices.IndexFunc(m.Findings, func(f Finding) bool { return f.Category == CategoryFDExhaustion && f.Process.PID == 0 })
	if j < 0 || m.Findings[j].SocketCount != 1 || m.Findings[j].Sockets[0] != "10.0.0.2:8080-10.0.0.1:40001" {
		t.Errorf("no finding for the unaccepted socket in CLOSE_WAIT: %+v", m.Findings)
	}
}

// TestTimersAreNotIndefinite: goroutines in a select on a ticker, as many
// as the stuck sockets, are not taken for holders.
func TestTimersAreNotIndefinite(t *testing.T) {
	bk := dumps.Bucket{Kind: "goroutine", State: "select", Count: 3, Class: dumps.Class{Activity: dumps.ActChanWait},
		Frames: []dumps.Frame{{Func: "runtime.gopark"}, {Func: "runtime.selectgo"}, {Func: "time.Sleep"}, {Func: "main.poll"}}}
	if s := classifyBucket(bk, nil); s.block || s.role != RoleUnknown {
		t.Errorf("a wait on a timer is a %s, block %v", s.role, s.block)
	}
}

// TestGroupsSplitByExchange: of 10 sockets stuck on :8080, 4 carried a
// request the server never answered and 6 an answer; 4 handler threads are
// parked holding sockets. The holders get exactly the 4 unanswered ones, and
// the split is the capture's (0.75). With 5 unanswered for 4 holders, the
// split is by count only (0.65).
func TestGroupsSplitByExchange(t *testing.T) {
	for _, tt := range []struct {
		unanswered int
		want       float64
	}{{4, confidences.SplitByExchange}, {5, confidences.Split}} {
		t.Run(fmt.Sprint(tt.unanswered), func(t *testing.T) {
			f := splitCase(t, tt.unanswered)
			got := slices.Sorted(slices.Values(f.Sockets))
			if len(got) != 4 || f.Confidence != tt.want {
				t.Errorf("held group %v at %.2f, want 4 sockets at %.2f", got, f.Confidence, tt.want)
			}
			for _, k := range got {
				var port int
				fmt.Sscanf(k[strings.LastIndexByte(k, ':')+1:], "%d", &port)
				if port-41000 >= tt.unanswered {
					t.Errorf("held socket %s was answered", k)
				}
			}
		})
	}
}

// splitCase builds the case of TestGroupsSplitByExchange and returns the
// held group's finding.
func splitCase(t *testing.T, unanswered int) Finding {
	t.Helper()
	server := netip.MustParseAddrPort("10.0.0.5:8080")
	res := capture(t, func(c *capgen.Capture) {
		for i := range 10 {
			k := c.Conn(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), uint16(41000+i)), server, capgen.ConnOptions{})
			k.Handshake()
			k.Data(capgen.FromClient, 100)
			if i >= unanswered {
				k.Data(capgen.FromServer, 500) // answered, then dropped
			}
			c.Wait(time.Second)
			k.FIN(capgen.FromClient)
			k.ACK(capgen.FromServer)
		}
		c.Wait(10 * time.Second)
	}, "10.0.0.5/32")
	lines := []string{`LISTEN     0      50     0.0.0.0:8080       0.0.0.0:*         users:(("java",pid=500,fd=5))`}
	for i := range 10 {
		lines = append(lines, fmt.Sprintf(`CLOSE-WAIT 1      0      10.0.0.5:8080      10.0.0.9:%d   users:(("java",pid=500,fd=%d))`, 41000+i, 20+i))
	}
	var threads [][3]string
	for i := range 4 {
		threads = append(threads, parkedHolder(fmt.Sprintf("conn-handler-%d", i+1)))
	}
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" + strings.Join(lines, "\n") + "\n"
	m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss), readEv(t, "jcmd.txt", jcmdDump(500, threads...))}})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m.Findings, func(f Finding) bool { return f.Mechanism == MechanismThread })
	if i < 0 {
		t.Fatalf("no held group: %+v", m.Findings)
	}
	return m.Findings[i]
}

// TestGroupsByLastExchange: a JVM client has 10 sockets stuck toward one
// server, no thread on them: 5 got an error status (503) before the
// server's FIN, 3 sent a request the server never answered, 2 got a 200.
// Four other connections got a 200 and were closed by the client. Three
// groups, one finding each: the error statuses (error-handling, with the
// success path's closes as the contrast, and the fix on the error-status
// branch), the unanswered requests (error-handling: the timeout path), and
// the successes (the pool's).
func TestGroupsByLastExchange(t *testing.T) {
	m := lastExchangeCase(t)
	byLast := map[Exchange]Finding{}
	for _, f := range m.Findings {
		if f.Process.PID == 700 {
			byLast[f.LastExchange] = f
		}
	}
	for _, want := range []struct {
		last     Exchange
		n        int
		category Category
		conf     float64
		advice   string
	}{
		{LastErrorStatus, 5, CategoryErrorHandling, confidences.LastError, "EntityUtils.consume"},
		{LastOurs, 3, CategoryErrorHandling, confidences.LastUnanswered, "never answered"},
		{LastSuccessStatus, 2, CategoryPoolLeak, confidences.PoolNoDump, ""},
	} {
		f, ok := byLast[want.last]
		if !ok {
			t.Errorf("no %v group: %v", want.last, slices.Collect(func(yield func(string) bool) {
				for _, f := range m.Findings {
					yield(fmt.Sprintf("%v %v %d", f.Category, f.LastExchange, len(f.Sockets)))
				}
			}))
			continue
		}
		if len(f.Sockets) != want.n || f.Category != want.category || f.Confidence != want.conf {
			t.Errorf("%v: %d sockets, %v at %.2f; want %d, %v at %.2f", want.last, len(f.Sockets), f.Category, f.Confidence, want.n, want.category, want.conf)
		}
		if want.advice != "" && (len(f.Advice) == 0 || !strings.Contains(f.Advice[0].Text, want.advice)) {
			t.Errorf("%v: advice %+v, want first %q", want.last, f.Advice, want.advice)
		}
		cites := false
		for _, c := range f.Supporting {
			cites = cites || strings.Contains(c.Text, "last data before the peer's FIN") && len(c.Evidence) > 0 && c.Evidence[0].Kind == PosPacket && c.Evidence[0].File == "c.pcap"
		}
		if !cites {
			t.Errorf("%v: no claim citing the peer's FINs: %+v", want.last, f.Supporting)
		}
	}
	if !strings.Contains(m.Verdict.Text, "5 kept by a pool with no thread on them, last response before the peer's FIN an error status (error-handling)") {
		t.Errorf("verdict %q does not add up the groups by last exchange", m.Verdict.Text)
	}
}

// lastExchangeCase builds the case of TestGroupsByLastExchange, with more
// evidence beside its ss listing.
func lastExchangeCase(t *testing.T, more ...*dumps.Evidence) *Model {
	t.Helper()
	server := netip.MustParseAddrPort("10.0.0.8:8443")
	client := netip.MustParseAddr("10.0.0.5")
	type conn struct {
		answer string // the server's status line, "" for none
		closed bool   // the client closes after the answer
	}
	var script []conn
	for range 5 {
		script = append(script, conn{answer: "HTTP/1.1 503 Service Unavailable\r\n"})
	}
	for range 3 {
		script = append(script, conn{})
	}
	for range 2 {
		script = append(script, conn{answer: "HTTP/1.1 200 OK\r\n"})
	}
	for range 4 {
		script = append(script, conn{answer: "HTTP/1.1 200 OK\r\n", closed: true})
	}
	res := capture(t, func(c *capgen.Capture) {
		for i, s := range script {
			k := c.Conn(netip.AddrPortFrom(client, uint16(50000+i)), server, capgen.ConnOptions{})
			k.Handshake()
			k.Message(capgen.FromClient, "GET /v1/rates HTTP/1.1\r\nHost: rates\r\n\r\n", 120)
			if s.answer != "" {
				k.Message(capgen.FromServer, s.answer, 300)
				k.ACK(capgen.FromClient)
			}
			c.Wait(time.Second)
			if s.closed {
				k.FIN(capgen.FromClient)
				k.ACK(capgen.FromServer)
				k.FIN(capgen.FromServer)
				k.ACK(capgen.FromClient)
				continue
			}
			k.FIN(capgen.FromServer)
			k.ACK(capgen.FromClient)
		}
		c.Wait(10 * time.Second)
	}, "10.0.0.5/32")
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	for i := range 10 {
		ss += fmt.Sprintf("CLOSE-WAIT 1      0      10.0.0.5:%d      10.0.0.8:8443   users:((\"java\",pid=700,fd=%d))\n", 50000+i, 30+i)
	}
	m, err := Build(BuildInput{Capture: res, Evidence: append([]*dumps.Evidence{readEv(t, "ss.txt", ss)}, more...)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLastExchangeKeepsConfidence: the last exchange names the path that
// skipped the close, and never lowers what the mechanism's evidence
// already says: with a thread dump of the client showing nothing on its
// sockets (missing-close at 0.75), the unanswered requests' group is
// error-handling at 0.75, not at the 0.60 the capture alone gives it, and
// the error statuses' group, which the capture's contrast makes stronger,
// at 0.80.
func TestLastExchangeKeepsConfidence(t *testing.T) {
	idle := [3]string{"main", "TIMED_WAITING (sleeping)", "\tat java.lang.Thread.sleep(java.base@17.0.15/Native Method)\n\tat com.example.Main.main(Main.java:12)\n"}
	m := lastExchangeCase(t, readEv(t, "jcmd.txt", jcmdDump(700, idle)))
	byLast := map[Exchange]Finding{}
	for _, f := range m.Findings {
		if f.Process.PID == 700 {
			byLast[f.LastExchange] = f
		}
	}
	for _, want := range []struct {
		last     Exchange
		category Category
		conf     float64
	}{
		{LastErrorStatus, CategoryErrorHandling, max(confidences.MissingCloseDump, confidences.LastError)},
		{LastOurs, CategoryErrorHandling, max(confidences.MissingCloseDump, confidences.LastUnanswered)},
		{LastSuccessStatus, CategoryMissingClose, confidences.MissingCloseDump},
	} {
		f, ok := byLast[want.last]
		if !ok {
			t.Errorf("no %v group", want.last)
			continue
		}
		if f.Mechanism != MechanismUnreferenced || f.Category != want.category || f.Confidence != want.conf {
			t.Errorf("%v: %v, %v at %.2f; want %v, %v at %.2f", want.last, f.Mechanism, f.Category, f.Confidence, MechanismUnreferenced, want.category, want.conf)
		}
	}
}

// TestErrorStatusContrastPeers: a JVM client's stuck sockets toward port
// 8443 of four server addresses (one flow: more than maxPeerFlows peers)
// all got a 503 before the server's FIN. The contrast counts the
// connections the client closed after a success to every one of the
// group's peers, not only to the first, says how many peers, and cites
// the closes; a fifth address of the port, with no stuck socket, is not
// the group's.
func TestErrorStatusContrastPeers(t *testing.T) {
	client := netip.MustParseAddr("10.0.0.5")
	port := 0
	conn := func(c *capgen.Capture, server netip.AddrPort, status string, closed bool) netip.AddrPort {
		local := netip.AddrPortFrom(client, uint16(50000+port))
		port++
		k := c.Conn(local, server, capgen.ConnOptions{})
		k.Handshake()
		k.Message(capgen.FromClient, "GET /v1/rates HTTP/1.1\r\nHost: rates\r\n\r\n", 120)
		k.Message(capgen.FromServer, status, 300)
		k.ACK(capgen.FromClient)
		c.Wait(time.Second)
		if closed {
			k.FIN(capgen.FromClient)
			k.ACK(capgen.FromServer)
		}
		k.FIN(capgen.FromServer)
		k.ACK(capgen.FromClient)
		return local
	}
	const (
		ok   = "HTTP/1.1 200 OK\r\n"
		fail = "HTTP/1.1 503 Service Unavailable\r\n"
	)
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	res := capture(t, func(c *capgen.Capture) {
		for i := range 5 {
			server := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(8 + i)}), 8443)
			for range i + 1 {
				conn(c, server, ok, true) // 1+2+3+4 to the group's peers, 5 to the fifth
			}
			if i == 4 {
				continue // no stuck socket toward the fifth address
			}
			if i == 0 {
				conn(c, server, fail, true)
			}
			for range 2 {
				local := conn(c, server, fail, false)
				ss += fmt.Sprintf("CLOSE-WAIT 1      0      %s      %s   users:((\"java\",pid=700,fd=%d))\n", local, server, 30+port)
			}
		}
		c.Wait(10 * time.Second)
	}, "10.0.0.5/32")
	m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss)}})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m.Findings, func(f Finding) bool { return f.LastExchange == LastErrorStatus })
	if i < 0 {
		t.Fatalf("no error-status group: %s", m.Verdict.Text)
	}
	f := m.Findings[i]
	want := "the capture shows 10 other connections to the group's 4 peers closed by the client after a success status (10 of the 10 that ended after one) and 1 after an error status (503 ×1), while these 8 were left open after 503 ×8:"
	j := slices.IndexFunc(f.Supporting, func(c Claim) bool { return strings.HasPrefix(c.Text, want) })
	if j < 0 {
		t.Fatalf("no claim %q in %+v", want, f.Supporting)
	}
	// It cites the earliest close after a success of each peer, the
	// first maxContrastCited of them.
	if ev := f.Supporting[j].Evidence; len(ev) != maxContrastCited || slices.ContainsFunc(ev, func(p Pos) bool { return p.Kind != PosPacket || p.File != "c.pcap" }) {
		t.Errorf("the contrast cites %v, want %d packets of c.pcap", ev, maxContrastCited)
	}
	if len(f.Sockets) != 8 || f.Confidence != confidences.LastError {
		t.Errorf("%d sockets at %.2f, want 8 at %.2f", len(f.Sockets), f.Confidence, confidences.LastError)
	}
}

// TestManyPeersOneFlow: a server's stuck sockets from up to three client
// addresses are a flow each; from more, one flow of the port that names
// how many addresses, so that a server many clients reach is one finding.
func TestManyPeersOneFlow(t *testing.T) {
	for _, tt := range []struct {
		clients  int
		findings int
		group    string
	}{
		{2, 2, "accepted on :8080 from 10.0.1."},
		{3, 3, "accepted on :8080 from 10.0.1."},
		{8, 1, "accepted on :8080 from 8 addresses"},
	} {
		t.Run(fmt.Sprint(tt.clients, " clients"), func(t *testing.T) {
			server := netip.MustParseAddrPort("10.0.0.2:8080")
			res := capture(t, func(c *capgen.Capture) {
				for i := range tt.clients * 2 {
					clientCloses(c, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 1, byte(1 + i%tt.clients)}), uint16(40000+i)), server)
				}
				c.Wait(30 * time.Second)
			}, "10.0.0.2/32")
			m, err := Build(BuildInput{Capture: res})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Findings) != tt.findings {
				t.Fatalf("%d findings, want %d: %v", len(m.Findings), tt.findings, m.Verdict.Text)
			}
			for _, f := range m.Findings {
				said := f.Group
				for _, c := range f.Supporting {
					said += "\n" + c.Text
				}
				if !strings.Contains(said, tt.group) || f.SocketCount != tt.clients*2/tt.findings {
					t.Errorf("finding saying %q with %d sockets, want %q with %d", said, f.SocketCount, tt.group, tt.clients*2/tt.findings)
				}
			}
		})
	}
}

// clientCloses adds a connection that exchanges data and that the client
// closes first; the server acknowledges the FIN and never closes: the
// server's end in CLOSE_WAIT, the client's in FIN_WAIT2.
func clientCloses(c *capgen.Capture, client, server netip.AddrPort) {
	k := c.Conn(client, server, capgen.ConnOptions{})
	k.Handshake()
	k.Data(capgen.FromClient, 20)
	k.Data(capgen.FromServer, 20)
	k.FIN(capgen.FromClient)
	k.ACK(capgen.FromServer)
}

// BenchmarkSplitFlow builds a flow of 20,000 stuck sockets with 4 holders,
// a quarter of them unanswered: sockGroups shares the flow out by each
// socket's exchange and age.
func BenchmarkSplitFlow(b *testing.B) {
	const n = 20000
	server := netip.MustParseAddrPort("10.0.0.5:8080")
	res := capture(b, func(c *capgen.Capture) {
		for i := range n {
			k := c.Conn(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), uint16(20000+i)), server, capgen.ConnOptions{})
			k.Handshake()
			k.Data(capgen.FromClient, 100)
			if i%4 != 0 {
				k.Data(capgen.FromServer, 500)
			}
			c.Wait(time.Millisecond)
			k.FIN(capgen.FromClient)
			k.ACK(capgen.FromServer)
		}
		c.Wait(10 * time.Second)
	}, "10.0.0.5/32")
	var threads [][3]string
	for i := range 4 {
		threads = append(threads, parkedHolder(fmt.Sprintf("conn-handler-%d", i+1)))
	}
	ev, err := readDumps(strings.NewReader(jcmdDump(500, threads...)), "jcmd.txt")
	if err != nil {
		b.Fatal(err)
	}
	var ss strings.Builder
	ss.WriteString("State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		`LISTEN     0      50     0.0.0.0:8080       0.0.0.0:*         users:(("java",pid=500,fd=5))` + "\n")
	for i := range n {
		fmt.Fprintf(&ss, `CLOSE-WAIT 1      0      10.0.0.5:8080      10.0.0.9:%d   users:(("java",pid=500,fd=%d))`+"\n", 20000+i, 20+i)
	}
	lev, err := readDumps(strings.NewReader(ss.String()), "ss.txt")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{lev, ev}})
		if err != nil || len(m.Findings) < 2 {
			b.Fatalf("%v: %d findings", err, len(m.Findings))
		}
	}
}

// buildLoopbackCase builds the report of one of the real cases made over
// loopback (testdata/cases/NAME): its capture and its ss listing, with
// 127.0.0.1 local.
func buildLoopbackCase(t *testing.T, name string) *Model {
	t.Helper()
	dir := "../testdata/cases/" + name + "/"
	data, err := os.ReadFile(dir + "capture.pcap")
	if err != nil {
		t.Fatal(err)
	}
	ssData, err := os.ReadFile(dir + "ss-tanpoei.txt")
	if err != nil {
		t.Fatal(err)
	}
	in := BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss-tanpoei.txt", string(ssData))}}
	return streamBuild(t, in, "capture.pcap", data, pcapstate.Options{Local: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
}

// TestServerErrorStatusContrast: the real case python-server-error-status,
// a server that closes after its 200s and returns without closing after
// its 404, 400 and 500 responses. The 5 stuck sockets' last exchange is
// the server's error response, and the contrast counts the connections
// the server itself closed after a success on the same endpoint: the
// ledger's 12 and the health probe's, none after an error.
func TestServerErrorStatusContrast(t *testing.T) {
	m := buildLoopbackCase(t, "python-server-error-status")
	if len(m.Findings) == 0 {
		t.Fatal("no finding")
	}
	f := m.Findings[0]
	if f.SocketCount != 5 || f.Category != CategoryErrorHandling || f.LastExchange != LastErrorStatus || f.Confidence != confidences.LastError {
		t.Errorf("finding: %d sockets, %s, last exchange %s, confidence %.2f; want 5, error-handling, error-status, %.2f", f.SocketCount, f.Category, f.LastExchange, f.Confidence, confidences.LastError)
	}
	i := slices.IndexFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, "closed by this server after a success status") })
	if i < 0 {
		t.Fatalf("no contrast: %+v", f.Supporting)
	}
	c := f.Supporting[i]
	const want = "the capture shows 21 other connections on 127.0.0.1:18171 closed by this server after a success status (21 of the 21 that ended after one) and 0 after an error status, while these 5 were left open after 404 ×2, 500 ×2, 400 ×1: the close is done on the success path and skipped on the error path; a split at least this lopsided comes by chance once in 65,780 if the close does not depend on the status (Fisher's exact test)"
	docSays(t, want)
	if c.Text != want || len(c.Evidence) != 1 || c.Evidence[0].String() != "capture.pcap: packet 8" {
		t.Errorf("contrast %q citing %v, want %q citing the server's first FIN after a 200 (packet 8)", c.Text, c.Evidence, want)
	}
	// The error-path claim counts the same closes: on loopback the
	// clients' ends the listing shows in TIME_WAIT are not taken as the
	// server's side (it counted 16, the 5 listed ones on client ports).
	if !slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, "while it closed 21 other connections on :18171") }) {
		t.Errorf("no error-path claim of the server's 21 closes: %+v", f.Supporting)
	}
}

// TestServerMethodClose: the real case python-server-method-close, a
// server that closes after answering its POSTs and, after a GET, waits on
// a keep-alive connection and returns without closing it when the client
// closes. Every status is a success: the 6 stuck sockets answered GETs,
// the 12 the server closed answered POSTs. The close follows the method,
// so the closes are no evidence of an error path: the finding stays a
// missing close, and says why.
func TestServerMethodClose(t *testing.T) {
	m := buildLoopbackCase(t, "python-server-method-close")
	if len(m.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(m.Findings))
	}
	f := m.Findings[0]
	if f.SocketCount != 6 || f.Category != CategoryMissingClose {
		t.Errorf("finding: %d sockets, %s; want 6, missing-close", f.SocketCount, f.Category)
	}
	const want = "every connection the process closed on :18191 after answering answered another method (POST ×12) than these sockets' requests (GET ×6): the close may follow the request's method, not a path that skips it"
	if !slices.ContainsFunc(f.Contradicting, func(c Claim) bool { return strings.Contains(c.Text, want) }) {
		t.Errorf("no claim that the closes followed POSTs: %+v", f.Contradicting)
	}
	if !slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, "success status (200 ×6), answering GET ×6") }) {
		t.Errorf("no claim of the stuck sockets' GETs: %+v", f.Supporting)
	}
}

// TestServerErrorFew: the real case python-server-error-few, the server of
// python-server-error-status seen through 5 requests: 2 successes closed
// by the server, 3 404s left open. 2 against 3 comes by chance once in 10:
// the contrast is withheld and says so, with its counts, and the finding
// keeps the error status's own confidence.
func TestServerErrorFew(t *testing.T) {
	m := buildLoopbackCase(t, "python-server-error-few")
	if len(m.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(m.Findings))
	}
	f := m.Findings[0]
	if f.SocketCount != 3 || f.LastExchange != LastErrorStatus || f.Confidence != confidences.LastErrorAlone {
		t.Errorf("finding: %d sockets, last exchange %s, confidence %.2f; want 3, error-status, %.2f", f.SocketCount, f.LastExchange, f.Confidence, confidences.LastErrorAlone)
	}
	const want = "too few connections to tell the two paths apart: a split at least this lopsided comes by chance once in 10 if the close does not depend on the status (Fisher's exact test), and the contrast needs once in 20 or rarer"
	if !slices.ContainsFunc(f.Contradicting, func(c Claim) bool { return strings.Contains(c.Text, want) }) {
		t.Errorf("no withheld contrast: %+v", f.Contradicting)
	}
	if slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, "closed by this server after a success status") }) {
		t.Errorf("the contrast supports the finding: %+v", f.Supporting)
	}
}

// TestErrorStatusContrastSamePathCloses: a JVM client's 3 stuck sockets
// toward one server all got a 503 before the server's FIN, and the client
// closed 5 other connections after a 200. When it also closed 4 after a
// 503, the error path closes as often as not and the capture shows no
// contrast (the error-status group stays at the confidence without it);
// closes after a 404, another status, leave the contrast standing.
func TestErrorStatusContrastSamePathCloses(t *testing.T) {
	client, server := netip.MustParseAddr("10.0.0.5"), netip.MustParseAddrPort("10.0.0.8:8443")
	for _, tt := range []struct {
		closedError string // the status line of the 4 closes after an error
		contrast    bool
	}{
		{"HTTP/1.1 503 Service Unavailable\r\n", false},
		{"HTTP/1.1 404 Not Found\r\n", true},
	} {
		sc := &statusClients{server: server}
		conn := func(c *capgen.Capture, status string, closed bool) { sc.conn(c, client, status, closed) }
		res := capture(t, func(c *capgen.Capture) {
			for range 5 {
				conn(c, "HTTP/1.1 200 OK\r\n", true)
			}
			for range 4 {
				conn(c, tt.closedError, true)
			}
			for range 3 {
				conn(c, "HTTP/1.1 503 Service Unavailable\r\n", false)
			}
			c.Wait(10 * time.Second)
		}, "10.0.0.5/32")
		m, f := errorStatusFinding(t, res, sc.ss, fmt.Sprintf("%q", tt.closedError))
		has := slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, "closed by the client after a success status") })
		want := confidences.LastErrorAlone
		if tt.contrast {
			want = confidences.LastError
		}
		if has != tt.contrast || len(f.Sockets) != 3 || f.Confidence != want {
			t.Errorf("%q: contrast %v, %d sockets at %.2f; want contrast %v, 3 sockets at %.2f", tt.closedError, has, len(f.Sockets), f.Confidence, tt.contrast, want)
		}
		if !tt.contrast {
			continue
		}
		// The contrast names the statuses the error-path closes followed
		// and those the stuck sockets got, by count, in every format.
		const named = "closed by the client after a success status (5 of the 5 that ended after one) and 4 after an error status (404 ×4), while these 3 were left open after 503 ×3:"
		for _, format := range []string{"markdown", "html", "json"} {
			var b bytes.Buffer
			if err := Write(&b, format, m); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), named) {
				t.Errorf("%s: the contrast does not say %q", format, named)
			}
		}
	}
}

// TestErrorStatusContrastStrength: the contrast holds only when the
// success path closes more often than not and the counts are too
// lopsided to come by chance (Fisher's exact test at 0.05): one close
// after a 200 beside 5 sockets left open after a 503 is a split that
// comes once in 6 and raises nothing; 3 closes beside 4 successes the
// client left open are a success path that does not close; 6 closes
// beside 3 stuck sockets come once in 84, and hold. The finding says the
// counts either way.
func TestErrorStatusContrastStrength(t *testing.T) {
	client, server := netip.MustParseAddr("10.0.0.5"), netip.MustParseAddrPort("10.0.0.8:8443")
	for n, tt := range []struct {
		okClosed, okOpen, stuck int
		holds                   bool
		says                    string
	}{
		{1, 0, 5, false, "no contrast between the success and the error path: the capture shows 1 other connection to 10.0.0.8:8443 closed by the client after a success status (1 of the 1 that ended after one) and 0 after an error status, while these 5 were left open after 503 ×5; too few connections to tell the two paths apart: a split at least this lopsided comes by chance once in 6 if the close does not depend on the status (Fisher's exact test), and the contrast needs once in 20 or rarer"},
		{3, 4, 3, false, "(3 of the 7 that ended after one) and 0 after an error status, while these 3 were left open after 503 ×3; the success path closed no more than half of its connections"},
		{6, 0, 3, true, "(6 of the 6 that ended after one) and 0 after an error status, while these 3 were left open after 503 ×3: the close is done on the success path and skipped on the error path; a split at least this lopsided comes by chance once in 84 if"},
	} {
		sc := &statusClients{server: server}
		conn := func(c *capgen.Capture, status string, closed bool) { sc.conn(c, client, status, closed) }
		res := capture(t, func(c *capgen.Capture) {
			for range tt.okClosed {
				conn(c, "HTTP/1.1 200 OK\r\n", true)
			}
			for range tt.okOpen {
				conn(c, "HTTP/1.1 200 OK\r\n", false)
			}
			for range tt.stuck {
				conn(c, "HTTP/1.1 503 Service Unavailable\r\n", false)
			}
			c.Wait(10 * time.Second)
		}, "10.0.0.5/32")
		_, f := errorStatusFinding(t, res, sc.ss, fmt.Sprint(tt))
		claims, want := f.Contradicting, confidences.LastErrorAlone
		if tt.holds {
			claims, want = f.Supporting, confidences.LastError
		}
		if !slices.ContainsFunc(claims, func(c Claim) bool { return strings.Contains(c.Text, tt.says) }) || f.Confidence != want {
			t.Errorf("%v: at %.2f, supporting %+v, contradicting %+v; want at %.2f a claim %q", tt, f.Confidence, f.Supporting, f.Contradicting, want, tt.says)
		}
		if n == 0 {
			docSays(t, tt.says) // docs/analyze.md quotes the first
		}
	}
}

// TestErrorStatusContrastResets: a connection reset after a success was
// not left open by the client, so it does not count against the success
// path: a client that aborts its connections after the server's FIN
// (SO_LINGER 0, as proxies do), or whose next request crosses the
// server's idle close and is reset by the server, still shows its 6
// closes after a 200 against 3 sockets left open after a 503 (once in
// 84), where counting the 6 resets as left open made the success path
// close no more than half of its connections.
func TestErrorStatusContrastResets(t *testing.T) {
	client, server := netip.MustParseAddr("10.0.0.5"), netip.MustParseAddrPort("10.0.0.8:8443")
	for _, reset := range []struct {
		name  string
		after func(k *capgen.Conn)
	}{
		{"the client resets after the server's FIN", func(k *capgen.Conn) {
			k.FIN(capgen.FromServer)
			k.ACK(capgen.FromClient)
			k.RST(capgen.FromClient)
		}},
		{"the server resets a request crossing its FIN", func(k *capgen.Conn) {
			k.FIN(capgen.FromServer)
			k.Message(capgen.FromClient, "GET /v1/rates HTTP/1.1\r\nHost: rates\r\n\r\n", 120)
			k.RST(capgen.FromServer)
		}},
	} {
		sc := &statusClients{server: server}
		res := capture(t, func(c *capgen.Capture) {
			for range 6 {
				sc.conn(c, client, "HTTP/1.1 200 OK\r\n", true)
			}
			for i := range 6 {
				k := c.Conn(netip.AddrPortFrom(client, uint16(51000+i)), server, capgen.ConnOptions{})
				k.Handshake()
				k.Message(capgen.FromClient, "GET /v1/rates HTTP/1.1\r\nHost: rates\r\n\r\n", 120)
				k.Message(capgen.FromServer, "HTTP/1.1 200 OK\r\n", 300)
				k.ACK(capgen.FromClient)
				c.Wait(time.Second)
				reset.after(k)
			}
			for range 3 {
				sc.conn(c, client, "HTTP/1.1 503 Service Unavailable\r\n", false)
			}
			c.Wait(10 * time.Second)
		}, "10.0.0.5/32")
		_, f := errorStatusFinding(t, res, sc.ss, reset.name)
		const says = "(6 of the 6 that ended after one) and 0 after an error status, while these 3 were left open after 503 ×3: the close is done on the success path"
		if !slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, says) }) || f.Confidence != confidences.LastError {
			t.Errorf("%s: at %.2f, supporting %+v, contradicting %+v; want at %.2f a claim %q", reset.name, f.Confidence, f.Supporting, f.Contradicting, confidences.LastError, says)
		}
	}
}

// TestErrorStatusContrastUpgrades: a connection upgraded by a 101 (a
// WebSocket) carries another protocol's data after it, and its close is
// none after a success response: a client's WebSockets it closes are no
// success path that would make its 3 sockets left open after a 503 an
// error path that skips the close.
func TestErrorStatusContrastUpgrades(t *testing.T) {
	const upgrade = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	client, peer := netip.MustParseAddr("10.0.0.5"), netip.MustParseAddrPort("10.0.0.8:8443")
	sc := &statusClients{server: peer}
	res := capture(t, func(c *capgen.Capture) {
		for range 6 {
			sc.conn(c, client, upgrade, true)
		}
		for range 3 {
			sc.conn(c, client, "HTTP/1.1 503 Service Unavailable\r\n", false)
		}
		c.Wait(10 * time.Second)
	}, "10.0.0.5/32")
	_, f := errorStatusFinding(t, res, sc.ss, "websockets")
	if f.Confidence != confidences.LastErrorAlone || slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, "after a success status") }) {
		t.Errorf("at %.2f, supporting %+v: the WebSockets' closes taken for closes after a success; want %.2f", f.Confidence, f.Supporting, confidences.LastErrorAlone)
	}
}

// TestErrorStatusContrastOtherHost: a capture that sees two hosts' clients
// of one server (taken on a router or a bridge) compares a client's stuck
// sockets with its own host's closes only: another host's 21 closes after
// a 200 say nothing of this client's success path, and with none of its
// own there is no contrast; with its own 6 the contrast holds on those.
func TestErrorStatusContrastOtherHost(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.8:8443")
	for _, tt := range []struct {
		ownClosed int
		holds     bool
		// otherStuck: the other host's process leaks too, the same
		// process (one pid in both listings' lines): both hosts' closes
		// count, and the server is still one peer.
		otherStuck bool
		closed     int
	}{{0, false, false, 0}, {6, true, false, 6}, {6, true, true, 27}} {
		sc := &statusClients{server: server}
		conn := func(c *capgen.Capture, host, status string, closed bool) {
			sc.conn(c, netip.MustParseAddr(host), status, closed)
		}
		res := capture(t, func(c *capgen.Capture) {
			for range 21 {
				conn(c, "10.0.0.6", "HTTP/1.1 200 OK\r\n", true)
			}
			for range tt.ownClosed {
				conn(c, "10.0.0.5", "HTTP/1.1 200 OK\r\n", true)
			}
			for range 3 {
				conn(c, "10.0.0.5", "HTTP/1.1 503 Service Unavailable\r\n", false)
			}
			if tt.otherStuck {
				conn(c, "10.0.0.6", "HTTP/1.1 503 Service Unavailable\r\n", false)
			}
			c.Wait(10 * time.Second)
		}, "10.0.0.5/32", "10.0.0.6/32")
		_, f := errorStatusFinding(t, res, sc.ss, fmt.Sprint(tt))
		contrast := slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, "the close is done on the success path") })
		want := confidences.LastErrorAlone
		if tt.holds {
			want = confidences.LastError
		}
		if contrast != tt.holds || f.Confidence != want {
			t.Errorf("%v: at %.2f, supporting %+v; want at %.2f, the contrast %v", tt, f.Confidence, f.Supporting, want, tt.holds)
		}
		if says := fmt.Sprintf("the capture shows %d other connections to 10.0.0.8:8443 closed by the client", tt.closed); tt.holds && !slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, says) }) {
			t.Errorf("%v: no claim %q: %+v", tt, says, f.Supporting)
		}
	}
}

// TestContrastChance: Fisher's exact test, one-sided, on known tables:
// the lady tasting tea (3 of 4 right: 17/70), a split that cannot be
// more lopsided (1/C(n, k)), and one with nothing to tell (1).
func TestContrastChance(t *testing.T) {
	for _, tt := range []struct {
		a, b, c, d int
		want       float64
	}{
		{3, 1, 1, 3, 17.0 / 70},
		{4, 0, 0, 4, 1.0 / 70},
		{21, 0, 0, 5, 1.0 / 65780},
		{1, 0, 0, 5, 1.0 / 6},
		{0, 3, 0, 3, 1},
		{2, 2, 2, 2, (36.0 + 16 + 1) / 70},
	} {
		if got := contrastChance(tt.a, tt.b, tt.c, tt.d); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("contrastChance(%d, %d, %d, %d) = %g, want %g", tt.a, tt.b, tt.c, tt.d, got, tt.want)
		}
	}
	// The rule is the one the claim writes: "once in 20" holds, "once in
	// 19" does not.
	for p, want := range map[float64]bool{0.0501: true, 0.05: true, 0.0513: false, 1.0 / 6: false, 0: true} {
		if rareEnough(p) != want {
			t.Errorf("rareEnough(%g) = %v (%s), want %v", p, rareEnough(p), onceIn(p), want)
		}
	}
	if p := contrastChance(100_000, 0, 0, 100_000); p != 0 && p > 1e-300 {
		t.Errorf("a lopsided table of 200,000 connections: %g", p)
	}
}

// docSays fails t unless docs/analyze.md quotes text, its lines joined.
func docSays(t *testing.T, text string) {
	t.Helper()
	doc, err := os.ReadFile("../docs/analyze.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(strings.Fields(string(doc)), " "), text) {
		t.Errorf("docs/analyze.md does not quote %q", text)
	}
}

// TestErrorStatusContrastMethods: a server whose stuck sockets answered
// GETs with a 404 is compared only with the connections answering a GET.
// When it closed after its POSTs alone, the capture cannot tell a close
// skipped on the error path from one skipped on the GET path: no contrast,
// and the finding says so; when it also closed after its GETs' 200s, the
// contrast holds on those and says the POSTs were left out. The
// error-status claim names the methods the responses answered. A close
// after a request the capture did not see (unseen: it began before the
// capture) is left out too, but is said unseen, not another method.
func TestErrorStatusContrastMethods(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	for _, tt := range []struct {
		posts, getClosed, unseen int
		holds                    bool
		says                     string
	}{
		{6, 0, 0, false, "no contrast between the success and the error path: every connection the capture saw end after a success answered another method (POST ×6) than these sockets' requests (GET ×3): the close may follow the request's method, not its status"},
		{6, 6, 0, true, "the capture shows 6 other connections on 10.0.0.2:8080 closed by this server after a success status (6 of the 6 that ended after one) and 0 after an error status (counting only GET, the method these sockets answered; POST ×6 after a success left out), while these 3 were left open after 404 ×3: the close is done on the success path"},
		{0, 0, 6, false, "no contrast between the success and the error path: every connection the capture saw end after a success answered a request the capture did not see (6 connections), so none is compared with these sockets' requests (GET ×3)"},
		{6, 0, 2, false, "no contrast between the success and the error path: every connection the capture saw end after a success answered another method than these sockets' requests (GET ×3) or a request the capture did not see (POST ×6, request not seen ×2): the close may follow the request's method, not its status"},
		{6, 6, 2, true, "(counting only GET, the method these sockets answered; POST ×6, request not seen ×2 after a success left out)"},
	} {
		sv := newServerConns("python3", "0.0.0.0:8080")
		conn := func(c *capgen.Capture, request, status string, serverCloses bool) {
			sv.conn(c, server, ledgerRequest(request), status, serverCloses)
		}
		res := capture(t, func(c *capgen.Capture) {
			for range tt.posts {
				conn(c, "POST", "HTTP/1.1 200 OK\r\n", true)
			}
			for range tt.getClosed {
				conn(c, "GET", "HTTP/1.1 200 OK\r\n", true)
			}
			for range tt.unseen {
				conn(c, "", "HTTP/1.1 200 OK\r\n", true)
			}
			for range 3 {
				conn(c, "GET", "HTTP/1.1 404 Not Found\r\n", false)
			}
			c.Wait(10 * time.Second)
		}, "10.0.0.2/32")
		_, f := errorStatusFinding(t, res, sv.ss, fmt.Sprint(tt))
		// Without the contrast, the finding stays at the error status's
		// own 0.65: the answered-then-left-open path does not hold either,
		// since the only closes followed POSTs (TestErrorPathMethods).
		claims, want := f.Contradicting, confidences.LastErrorAlone
		if tt.holds {
			claims, want = f.Supporting, confidences.LastError
		}
		if !slices.ContainsFunc(claims, func(c Claim) bool { return strings.Contains(c.Text, tt.says) }) || f.Confidence != want {
			t.Errorf("%v: at %.2f, supporting %+v, contradicting %+v; want a claim %q, at %.2f", tt, f.Confidence, f.Supporting, f.Contradicting, tt.says, want)
		}
		if !tt.holds && tt.unseen == 0 {
			docSays(t, tt.says)
		}
		const answered = "with an error status (404 ×3), answering GET ×3"
		if !slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, answered) }) {
			t.Errorf("%v: no claim %q: %+v", tt, answered, f.Supporting)
		}
	}
}

// TestErrorPathShare: a group of answered sockets no code refers to is
// raised to error-handling (0.70) only when the process closed, after
// answering, more connections of the port than the group left open: a
// close now and then beside many stuck sockets (a health check's handler
// closing, the handler that matters never) is a missing close, and the
// finding says the counts and why. The protocol is not HTTP, so that only
// this rule decides.
func TestErrorPathShare(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.2:7070")
	for _, tt := range []struct {
		closed, open int
		holds        bool
		says         string
	}{
		// The first and the last are quoted in docs/analyze.md.
		{1, 5, false, "the close is not shown to be skipped on one path only: the process closed 1 other connection on :7070 after answering, and left these 5 open after answering; no more closed than left open, so the path that leaves them open is not the exception (the closes may come from another handler)"},
		{5, 5, false, "the process closed 5 other connections on :7070 after answering, and left these 5 open after answering; no more closed than left open"},
		{6, 5, true, "the process answered each of these 5 connections (data both ways before the peer's FIN) and never closed them, while it closed 6 other connections on :7070 after answering (6 of the 11 answered that ended), more than it left open: the close is skipped on one path, an error or early-return path"},
	} {
		sv := newServerConns("relayd", "0.0.0.0:7070")
		conn := func(c *capgen.Capture, serverCloses bool) { sv.conn(c, server, "PING\n", "PONG\n", serverCloses) }
		res := capture(t, func(c *capgen.Capture) {
			for range tt.closed {
				conn(c, true)
			}
			for range tt.open {
				conn(c, false)
			}
			c.Wait(10 * time.Second)
		}, "10.0.0.2/32")
		m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", sv.ss)}})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(m.Findings, func(f Finding) bool { return len(f.Sockets) == tt.open })
		if i < 0 {
			t.Fatalf("%+v: no group of %d: %s", tt, tt.open, m.Verdict.Text)
		}
		f := m.Findings[i]
		claims, want, cat := f.Contradicting, confidences.MissingCloseNoDump, CategoryMissingClose
		if tt.holds {
			claims, want, cat = f.Supporting, confidences.ErrorPath, CategoryErrorHandling
		}
		if !slices.ContainsFunc(claims, func(c Claim) bool { return strings.Contains(c.Text, tt.says) }) || f.Confidence != want || f.Category != cat {
			t.Errorf("%+v: %s at %.2f, supporting %+v, contradicting %+v; want %s at %.2f with a claim %q", tt, f.Category, f.Confidence, f.Supporting, f.Contradicting, cat, want, tt.says)
		}
		if tt.closed != tt.open {
			docSays(t, tt.says)
		}
	}
}

// TestErrorPathOtherHost: a capture of two hosts serving the same port (a
// bridge of containers) counts, for one host's stuck sockets, only the
// closes of its own endpoint: the other host's 6 closes on :7070 do not
// make its 3 stuck sockets an error path; its own 6 do.
func TestErrorPathOtherHost(t *testing.T) {
	leaky, other := netip.MustParseAddrPort("10.0.0.2:7070"), netip.MustParseAddrPort("10.0.0.3:7070")
	for _, tt := range []struct {
		ownClosed int
		holds     bool
	}{{0, false}, {6, true}} {
		sv := newServerConns("relayd", "10.0.0.2:7070")
		conn := func(c *capgen.Capture, server netip.AddrPort, serverCloses bool) {
			sv.conn(c, server, "PING\n", "PONG\n", serverCloses)
		}
		res := capture(t, func(c *capgen.Capture) {
			for range 6 {
				conn(c, other, true)
			}
			for range tt.ownClosed {
				conn(c, leaky, true)
			}
			for range 3 {
				conn(c, leaky, false)
			}
			c.Wait(10 * time.Second)
		}, "10.0.0.2/32", "10.0.0.3/32")
		m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", sv.ss)}})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(m.Findings, func(f Finding) bool { return len(f.Sockets) == 3 })
		if i < 0 {
			t.Fatalf("%+v: no group of 3: %s", tt, m.Verdict.Text)
		}
		f := m.Findings[i]
		want, cat := confidences.MissingCloseNoDump, CategoryMissingClose
		if tt.holds {
			want, cat = confidences.ErrorPath, CategoryErrorHandling
		}
		if f.Category != cat || f.Confidence != want {
			t.Errorf("%+v: %s at %.2f, supporting %+v; want %s at %.2f", tt, f.Category, f.Confidence, f.Supporting, cat, want)
		}
		says := fmt.Sprintf("while it closed %d other connections on :7070 after answering", tt.ownClosed)
		if tt.holds && !slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, says) }) {
			t.Errorf("%+v: no claim %q: %+v", tt, says, f.Supporting)
		}
	}
}

// TestErrorPathMethods: when the capture saw the method of every request
// a group's sockets answered, the answered-then-left-open path counts only
// the closes after the same methods. A server that closed only after its
// POSTs and left its GETs open has no path that closes a GET: the close
// may follow the method, and the group stays a missing close; when it
// also closed after GETs, those count and the POSTs are said left out.
func TestErrorPathMethods(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	for _, tt := range []struct {
		posts, getClosed, unseen int
		holds                    bool
		says                     string
	}{
		{6, 0, 0, false, "the close is not shown to be skipped on one path only: every connection the process closed on :8080 after answering answered another method (POST ×6) than these sockets' requests (GET ×3): the close may follow the request's method"},
		{6, 6, 0, true, "while it closed 6 other connections on :8080 after answering (6 of the 9 answered that ended; counting only GET, the method these sockets answered; POST ×6 closed after answering left out), more than it left open"},
		{6, 2, 0, false, "the process closed 2 other connections on :8080 after answering (counting only GET, the method these sockets answered; POST ×6 closed after answering left out), and left these 3 open after answering; no more closed than left open"},
		// Closes after a request the capture did not see are left out
		// as unseen, not as another method.
		{0, 0, 6, false, "the close is not shown to be skipped on one path only: every connection the process closed on :8080 after answering answered a request the capture did not see (6 connections), so none is compared with these sockets' requests (GET ×3)"},
		{6, 0, 2, false, "every connection the process closed on :8080 after answering answered another method than these sockets' requests (GET ×3) or a request the capture did not see (POST ×6, request not seen ×2): the close may follow the request's method, not a path that skips it"},
	} {
		sv := newServerConns("python3", "0.0.0.0:8080")
		conn := func(c *capgen.Capture, request string, serverCloses bool) {
			sv.conn(c, server, ledgerRequest(request), "HTTP/1.1 200 OK\r\n", serverCloses)
		}
		res := capture(t, func(c *capgen.Capture) {
			for range tt.posts {
				conn(c, "POST", true)
			}
			for range tt.getClosed {
				conn(c, "GET", true)
			}
			for range tt.unseen {
				conn(c, "", true)
			}
			for range 3 {
				conn(c, "GET", false)
			}
			c.Wait(10 * time.Second)
		}, "10.0.0.2/32")
		m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", sv.ss)}})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(m.Findings, func(f Finding) bool { return f.LastExchange == LastSuccessStatus })
		if i < 0 {
			t.Fatalf("%+v: no success-status group: %s", tt, m.Verdict.Text)
		}
		f := m.Findings[i]
		claims, want := f.Contradicting, confidences.MissingCloseNoDump
		if tt.holds {
			claims, want = f.Supporting, confidences.ErrorPath
		}
		if !slices.ContainsFunc(claims, func(c Claim) bool { return strings.Contains(c.Text, tt.says) }) || f.Confidence != want {
			t.Errorf("%+v: %s at %.2f, supporting %+v, contradicting %+v; want %.2f with a claim %q", tt, f.Category, f.Confidence, f.Supporting, f.Contradicting, want, tt.says)
		}
		if tt.getClosed != 2 && tt.unseen == 0 {
			docSays(t, tt.says)
		}
	}
}

// TestLastMethod: the error-status contrast and errorPath read their
// counts method by method up to lastMethod, so a method pcapstate adds
// after it would go uncounted.
func TestLastMethod(t *testing.T) {
	if s := (lastMethod + 1).String(); !strings.HasPrefix(s, "Method(") {
		t.Errorf("pcapstate has a method after lastMethod (%s): %s", lastMethod, s)
	}
}

// statusClients makes, on a capgen capture, HTTP/1.1 clients of server
// that each send a GET and get a status line back, then close the
// connection after it or leave it in CLOSE_WAIT when the server closes,
// listed in an ss listing as pid 700's (java).
type statusClients struct {
	server netip.AddrPort
	ss     string
	port   int
}

// conn adds one connection of a client on host.
func (sc *statusClients) conn(c *capgen.Capture, host netip.Addr, status string, closed bool) {
	if sc.ss == "" {
		sc.ss = "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	}
	local := netip.AddrPortFrom(host, uint16(50000+sc.port))
	sc.port++
	k := c.Conn(local, sc.server, capgen.ConnOptions{})
	k.Handshake()
	k.Message(capgen.FromClient, "GET /v1/rates HTTP/1.1\r\nHost: rates\r\n\r\n", 120)
	k.Message(capgen.FromServer, status, 300)
	k.ACK(capgen.FromClient)
	c.Wait(time.Second)
	if closed {
		k.FIN(capgen.FromClient)
		k.ACK(capgen.FromServer)
	} else {
		sc.ss += fmt.Sprintf("CLOSE-WAIT 1      0      %s      %s   users:((\"java\",pid=700,fd=%d))\n", local, sc.server, 30+sc.port)
	}
	k.FIN(capgen.FromServer)
	k.ACK(capgen.FromClient)
}

// errorStatusFinding builds the report of res with the ss listing ss and
// returns it with its finding of sockets left after an error status.
func errorStatusFinding(t *testing.T, res *pcapstate.Result, ss, name string) (*Model, Finding) {
	t.Helper()
	m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss)}})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m.Findings, func(f Finding) bool { return f.LastExchange == LastErrorStatus })
	if i < 0 {
		t.Fatalf("%s: no error-status group: %s", name, m.Verdict.Text)
	}
	return m, m.Findings[i]
}

// serverConns makes, on a capgen capture, connections of a client
// (10.0.1.9) to a server process proc (pid 800) listening on listen: a
// request and its answer, then the server's close, or the client's FIN
// left in CLOSE_WAIT and listed in an ss listing (ss).
type serverConns struct {
	proc string
	ss   string
	port int
}

func newServerConns(proc, listen string) *serverConns {
	return &serverConns{proc: proc, ss: "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		fmt.Sprintf("LISTEN     0      50     %s       0.0.0.0:*         users:((%q,pid=800,fd=3))\n", listen, proc)}
}

// conn adds one connection to server.
func (sv *serverConns) conn(c *capgen.Capture, server netip.AddrPort, request, answer string, serverCloses bool) {
	client := netip.AddrPortFrom(netip.MustParseAddr("10.0.1.9"), uint16(40000+sv.port))
	sv.port++
	k := c.Conn(client, server, capgen.ConnOptions{})
	k.Handshake()
	k.Message(capgen.FromClient, request, 120)
	k.Message(capgen.FromServer, answer, 300)
	k.ACK(capgen.FromClient)
	c.Wait(time.Second)
	if serverCloses {
		k.FIN(capgen.FromServer)
		k.ACK(capgen.FromClient)
		k.FIN(capgen.FromClient)
		k.ACK(capgen.FromServer)
		return
	}
	k.FIN(capgen.FromClient)
	k.ACK(capgen.FromServer)
	sv.ss += fmt.Sprintf("CLOSE-WAIT 1      0      %s      %s   users:((%q,pid=800,fd=%d))\n", server, client, sv.proc, 10+sv.port)
}

// ledgerRequest is an HTTP/1.1 request of method to /ledger, or, for no
// method, the rest of a request begun before the capture.
func ledgerRequest(method string) string {
	if method == "" {
		return "Host: ledger\r\n\r\n"
	}
	return method + " /ledger HTTP/1.1\r\nHost: ledger\r\n\r\n"
}
