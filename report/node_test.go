package report

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/applog"
	"github.com/cwforensics/cwforensics/dumps/node"
)

// TestNodeStacks: the JavaScript stacks a Node.js process prints name its
// code; the link is strong only when their count matches the stuck
// sockets and the report shows those paused, and stacks of Node's own
// frames only name nothing.
func TestNodeStacks(t *testing.T) {
	const dir = "../testdata/cases/node-unconsumed/"
	read := func(name string, r func([]byte) (*dumps.Evidence, error)) *dumps.Evidence {
		data, err := os.ReadFile(dir + name)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := r(data)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ss := read("ss-tanpoei.txt", func(b []byte) (*dumps.Evidence, error) { return readDumps(bytes.NewReader(b), "ss.txt") })
	rep := read("node-report.json", func(b []byte) (*dumps.Evidence, error) { return node.Read(bytes.NewReader(b), "node-report.json") })
	pid := rep.Processes[0].PID
	log := func(n int, frames ...string) *dumps.Evidence {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "2026-12-03T07:28:33.%03dZ report %d: body skipped\n(node:%d) Warning: report %d\n", i, i, pid, i)
			for _, f := range frames {
				b.WriteString("    at " + f + "\n")
			}
		}
		ev, err := applog.Read(strings.NewReader(b.String()), "client.log")
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	user := []string{"poll (/srv/client.js:22:18)", "Timeout._onTimeout (/srv/client.js:38:50)", "listOnTimeout (node:internal/timers:581:17)"}
	tests := []struct {
		name    string
		log     *dumps.Evidence
		culprit string
		link    Strength
	}{
		{"a stack per stuck socket, all paused", log(9, user...), "poll", StrengthStrong},
		{"two stacks for nine sockets", log(2, user...), "poll", StrengthWeak},
		{"Node's own frames only", log(9, "listOnTimeout (node:internal/timers:581:17)", "process.processTimers (node:internal/timers:519:7)"), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(BuildInput{Evidence: []*dumps.Evidence{ss, rep, tt.log}})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Findings) == 0 || m.Findings[0].Process.PID != pid {
				t.Fatalf("findings %+v", m.Findings)
			}
			f := m.Findings[0]
			if tt.culprit == "" {
				if len(f.Suspects) > 0 {
					t.Errorf("suspects %+v, want none", f.Suspects)
				}
				return
			}
			if len(f.Suspects) == 0 {
				t.Fatalf("no suspect; group %q", f.Group)
			}
			s := f.Suspects[0]
			if s.Kind != SuspectStack || s.Culprit != tt.culprit || s.Link != tt.link {
				t.Errorf("suspect %s %s, link %s; want stack %s, %s: %v", s.Kind, s.Culprit, s.Link, tt.culprit, tt.link, s.Why)
			}
		})
	}
}

// TestPausedHandles: the claim says which stuck sockets are paused handles
// (by fd) when not all are, and each socket cites its handle.
func TestPausedHandles(t *testing.T) {
	const dir = "../testdata/cases/node-unconsumed/"
	ssData, err := os.ReadFile(dir + "ss-tanpoei.txt")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := readDumps(bytes.NewReader(ssData), "ss.txt")
	if err != nil {
		t.Fatal(err)
	}
	repData, err := os.ReadFile(dir + "node-report.json")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := node.Read(bytes.NewReader(repData), "node-report.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range rep.RuntimeSockets {
		s := &rep.RuntimeSockets[i]
		if i < 3 {
			s.Paused, s.Active = false, true // reading again
		} else if len(want) < 2 {
			want = append(want, fmt.Sprint(s.FD))
		}
	}
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{ss, rep}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) == 0 {
		t.Fatal("no finding")
	}
	claim := claimWith(m.Findings[0].Supporting, "tcp handles")
	// Of the six, ss shows one read to the server's FIN (Recv-Q 0) and
	// five with 3,072 bytes and the FIN unread (Recv-Q 3073).
	if !strings.Contains(claim, "6 of them are open and not reading: fd "+strings.Join(want, ", ")) ||
		!strings.Contains(claim, "1 read up to the peer's FIN (Recv-Q 0) that nothing ended, 5 paused with the FIN unread behind them") {
		t.Errorf("claim %q does not name the 6 paused fds and what the kernel shows of them", claim)
	}
	cited := 0
	for _, s := range m.Sockets {
		for _, e := range s.Evidence {
			if e.Kind == PosLine && e.File == "node-report.json" {
				cited++
			}
		}
	}
	if cited != len(rep.RuntimeSockets) {
		t.Errorf("%d sockets cite their handle, want %d", cited, len(rep.RuntimeSockets))
	}
}

// TestHostOnlyHandles: Node 12 and 16 name a tcp handle's endpoints by
// host name only ("localhost"); the real report of Node 16 is joined to
// the listing of its process by fd, or by the two ports where the listing
// gives no fd, and the claim counts its three paused client sockets.
func TestHostOnlyHandles(t *testing.T) {
	repData, err := os.ReadFile("../dumps/node/testdata/real-node16.json")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := node.Read(bytes.NewReader(repData), "node-report.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, withFD := range []bool{true, false} {
		t.Run(fmt.Sprint("fd ", withFD), func(t *testing.T) {
			ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
			n := 0
			for _, s := range rep.RuntimeSockets {
				if !s.Paused {
					continue
				}
				if s.Local.Addr.IsValid() {
					t.Fatalf("handle %+v has an address: not Node 16's host-only form", s)
				}
				owner := ""
				if withFD {
					owner = fmt.Sprintf(` users:(("node",pid=%d,fd=%d))`, s.PID, s.FD)
				}
				// Recv-Q 1: the server's FIN unread behind the pause, as
				// paused.js leaves it.
				ss += fmt.Sprintf("CLOSE-WAIT 1 0 127.0.0.1:%d 127.0.0.1:%d%s\n", s.Local.Port, s.Remote.Port, owner)
				n++
			}
			m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss), rep}})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Findings) == 0 {
				t.Fatal("no finding")
			}
			ok := slices.ContainsFunc(m.Findings[0].Supporting, func(c Claim) bool {
				return strings.Contains(c.Text, fmt.Sprintf("%d of the stuck sockets are open tcp handles", n)) && strings.Contains(c.Text, fmt.Sprintf("all %d are paused", n))
			})
			if n != 3 || !ok {
				t.Errorf("%d paused handles; claims %+v do not count them", n, m.Findings[0].Supporting)
			}
			// Without owners in the listing, the handles name the
			// process: the report's pid, each socket its fd.
			if p := m.Findings[0].Process; p.PID != rep.RuntimeSockets[0].PID {
				t.Errorf("process %s, want the report's pid %d", p, rep.RuntimeSockets[0].PID)
			}
			for _, sk := range m.Sockets {
				if sk.Status.Stuck() && (sk.PID == 0 || sk.FD == 0) {
					t.Errorf("socket %s: pid %d fd %d, want both from its handle", sk.Key, sk.PID, sk.FD)
				}
			}
		})
	}
}

// TestHandlesNameOwners: /proc/net/tcp names no process; the real Node 20
// report of node-unconsumed gives each stuck socket its pid and fd.
func TestHandlesNameOwners(t *testing.T) {
	const dir = "../testdata/cases/node-unconsumed/"
	var evs []*dumps.Evidence
	for _, f := range []string{"proc-net-tcp.txt", "node-report.json"} {
		data, err := os.ReadFile(dir + f)
		if err != nil {
			t.Fatal(err)
		}
		read := readDumps
		if strings.HasSuffix(f, ".json") {
			read = node.Read
		}
		ev, err := read(bytes.NewReader(data), f)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	m, err := Build(BuildInput{Evidence: evs})
	if err != nil {
		t.Fatal(err)
	}
	stuck := 0
	for _, sk := range m.Sockets {
		if !sk.Status.Stuck() {
			continue
		}
		stuck++
		if sk.PID != 23891 || sk.FD <= 0 || !slices.ContainsFunc(sk.Evidence, func(e Pos) bool { return e.Kind == PosLine && e.File == "node-report.json" }) {
			t.Errorf("socket %s: pid %d fd %d evidence %v, want pid 23891 and an fd from the report", sk.Key, sk.PID, sk.FD, sk.Evidence)
		}
	}
	if stuck != 9 || len(m.Findings) == 0 || m.Findings[0].Process.PID != 23891 {
		t.Errorf("%d stuck sockets, findings %+v: want 9 of pid 23891", stuck, m.Findings)
	}
}

// nodeTwoPeers is the node-unconsumed case as if the client polled two
// backends: its sockets of fds 24 to 27 go to 127.0.0.1:18095 (in the
// listing and in the diagnostic report's handles), the other five to
// 127.0.0.1:18094, so that the process has two groups of stuck sockets.
func nodeTwoPeers(t *testing.T, logText string) *Model {
	t.Helper()
	return nodePeers(t, logText, netip.MustParseAddrPort("127.0.0.1:18095"))
}

// nodePeers is nodeTwoPeers with the second backend at second.
func nodePeers(t *testing.T, logText string, second netip.AddrPort) *Model {
	t.Helper()
	const dir = "../testdata/cases/node-unconsumed/"
	ssData, err := os.ReadFile(dir + "ss-tanpoei.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(ssData), "\n")
	moved := 0
	for i, l := range lines {
		for fd := 24; fd <= 27; fd++ {
			if strings.Contains(l, fmt.Sprintf("pid=23891,fd=%d)", fd)) {
				lines[i] = strings.Replace(l, "127.0.0.1:18094", second.String(), 1)
				moved++
			}
		}
	}
	if moved != 4 {
		t.Fatalf("moved %d sockets to the second peer, want 4", moved)
	}
	ss, err := readDumps(strings.NewReader(strings.Join(lines, "\n")), "ss.txt")
	if err != nil {
		t.Fatal(err)
	}
	repData, err := os.ReadFile(dir + "node-report.json")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := node.Read(bytes.NewReader(repData), "node-report.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep.RuntimeSockets {
		if s := &rep.RuntimeSockets[i]; s.FD >= 24 && s.FD <= 27 {
			s.Remote.Addr, s.Remote.Port = second.Addr(), second.Port()
		}
	}
	log, err := applog.Read(strings.NewReader(logText), "client.log")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{ss, rep, log}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) != 2 || m.Findings[0].SocketCount != 5 || m.Findings[1].SocketCount != 4 {
		t.Fatalf("findings %+v, want a group of 5 and one of 4", m.Findings)
	}
	return m
}

// stacksOf lists a finding's suspects that are JavaScript stacks, by
// culprit and link.
func stacksOf(f Finding) []string {
	var out []string
	for _, s := range f.Suspects {
		if s.Kind == SuspectStack {
			out = append(out, s.Culprit+" "+s.Link.String())
		}
	}
	return out
}

// TestNodeStacksSeveralGroups: a Node.js process with two groups of stuck
// sockets (two backends). Its stacks were shown in neither group. The
// case's own stacks (the UnconsumedBodyWarning's, poll's) name no peer:
// they are shown once, with the larger group, weakly linked and saying
// why, and the other group says where they are. A stack whose message
// names one group's peer (an error naming the address it failed on) is
// that group's.
func TestNodeStacksSeveralGroups(t *testing.T) {
	logData, err := os.ReadFile("../testdata/cases/node-unconsumed/client.log")
	if err != nil {
		t.Fatal(err)
	}
	m := nodeTwoPeers(t, string(logData))
	first, second := m.Findings[0], m.Findings[1]
	if got := stacksOf(first); !slices.Equal(got, []string{"poll weak"}) {
		t.Errorf("the larger group's stacks %v, want poll's, weak", got)
	}
	if got := stacksOf(second); len(got) > 0 {
		t.Errorf("the smaller group shows stacks %v again", got)
	}
	has := func(f Finding, text string) bool {
		return slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, text) })
	}
	if !has(first, "nothing in them names one of the process's 2 groups of stuck sockets") {
		t.Errorf("the larger group does not say the stacks may be any group's: %+v", first.Supporting)
	}
	if !has(second, "are shown once, with its group of 5 sockets outbound to 127.0.0.1:18094") {
		t.Errorf("the smaller group does not say where the stacks are: %+v", second.Supporting)
	}

	// An error that names the second backend, with a stack of its own.
	named := string(logData) + "2026-12-03T07:28:40.001Z report 60: failed\n" +
		"(node:23891) Warning: quote fetch from 127.0.0.1:18095 aborted\n" +
		"    at fetchQuote (/srv/quotes.js:14:9)\n" +
		"    at Timeout._onTimeout (/srv/quotes.js:40:3)\n" +
		"    at listOnTimeout (node:internal/timers:581:17)\n"
	m = nodeTwoPeers(t, named)
	first, second = m.Findings[0], m.Findings[1]
	if got := stacksOf(second); len(got) != 1 || !strings.HasPrefix(got[0], "fetchQuote ") {
		t.Errorf("the second backend's group shows stacks %v, want fetchQuote's", got)
	}
	if !has(second, "fetchQuote tied to the sockets outbound to 127.0.0.1:18095: the stack's message \"Warning: quote fetch from 127.0.0.1:18095 aborted\" names 127.0.0.1:18095") {
		t.Errorf("the tie is not said: %+v", second.Supporting)
	}
	if got := stacksOf(first); !slices.Equal(got, []string{"poll weak"}) {
		t.Errorf("the larger group's stacks %v, want poll's alone", got)
	}
	// Its suspect says the same of the message, which is no thread name.
	for _, s := range second.Suspects {
		why := strings.Join(s.Why, "; ")
		if s.Culprit == "fetchQuote" && (!strings.Contains(why, "the stack's message \"Warning: quote fetch from 127.0.0.1:18095 aborted\" names 127.0.0.1:18095") || strings.Contains(why, "thread name")) {
			t.Errorf("fetchQuote's suspect says %q, want the stack's message to name 127.0.0.1:18095", why)
		}
	}

	// An error that names both backends is shown under each group, and
	// each says it names the other; one that names a port both groups'
	// peers share (127.0.0.1's, as a whole address of neither) ties to
	// neither and stays shared.
	both := string(logData) + "2026-12-03T07:28:40.001Z report 61: failed\n" +
		"(node:23891) Warning: quote fetch from 127.0.0.1:18094 and 127.0.0.1:18095 aborted\n" +
		"    at fetchBoth (/srv/quotes.js:22:9)\n" +
		"    at Timeout._onTimeout (/srv/quotes.js:40:3)\n" +
		"    at listOnTimeout (node:internal/timers:581:17)\n"
	m = nodeTwoPeers(t, both)
	first, second = m.Findings[0], m.Findings[1]
	for _, tt := range []struct {
		f           Finding
		names, also string
	}{
		{first, "127.0.0.1:18094", "127.0.0.1:18095 (the sockets outbound to 127.0.0.1:18095)"},
		{second, "127.0.0.1:18095", "127.0.0.1:18094 (the sockets outbound to 127.0.0.1:18094)"},
	} {
		if got := stacksOf(tt.f); !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "fetchBoth ") }) {
			t.Errorf("the group toward %s shows stacks %v, want fetchBoth's among them", tt.names, got)
		}
		want := fmt.Sprintf("fetchBoth tied to the sockets outbound to %s: the stack's message \"Warning: quote fetch from 127.0.0.1:18094 and 127.0.0.1:18095 aborted\" names %s; it also names %s, so it is shown under both groups it names", tt.names, tt.names, tt.also)
		if !has(tt.f, want) {
			t.Errorf("the group toward %s does not say %q: %+v", tt.names, want, tt.f.Supporting)
		}
		if tt.names == "127.0.0.1:18094" {
			docSays(t, want) // docs/analyze.md quotes the first
		}
	}
}

// TestNodeStacksNamedAlike: the two backends on one port of two hosts.
// A stack whose message names that port through a third host's address
// names both groups alike, so neither apart: it is shown once, with the
// larger group, and the report says what it names and why that ties it
// to neither.
func TestNodeStacksNamedAlike(t *testing.T) {
	logData, err := os.ReadFile("../testdata/cases/node-unconsumed/client.log")
	if err != nil {
		t.Fatal(err)
	}
	alike := string(logData) + "2026-12-03T07:28:40.001Z report 62: failed\n" +
		"(node:23891) Warning: quote fetch from 127.0.0.9:18094 aborted\n" +
		"    at fetchThird (/srv/quotes.js:30:9)\n" +
		"    at Timeout._onTimeout (/srv/quotes.js:40:3)\n" +
		"    at listOnTimeout (node:internal/timers:581:17)\n"
	m := nodePeers(t, alike, netip.MustParseAddrPort("127.0.0.2:18094"))
	first, second := m.Findings[0], m.Findings[1]
	var why string
	for _, s := range first.Suspects {
		if s.Kind == SuspectStack && s.Culprit == "fetchThird" {
			why = strings.Join(s.Why, "; ")
		}
	}
	if want := "the stack's message names 18094, which more than one of the process's 2 groups of stuck sockets has: it may be another group's"; !strings.Contains(why, want) {
		t.Errorf("the larger group's fetchThird says %q, want it to say %q", why, want)
	}
	if strings.Contains(why, "thread name") || strings.Count(why, "names 18094") != 1 {
		t.Errorf("fetchThird says %q, want its message named once, as the stack's, not a thread's", why)
	}
	if got := stacksOf(second); len(got) > 0 {
		t.Errorf("the smaller group shows stacks %v, want them shown once, with the larger", got)
	}
	has := func(f Finding, text string) bool {
		return slices.ContainsFunc(f.Supporting, func(c Claim) bool { return strings.Contains(c.Text, text) })
	}
	if !has(first, "nothing in them names one of the process's 2 groups of stuck sockets apart from the others, so they may be any group's") {
		t.Errorf("the larger group does not say the stacks name no group apart: %+v", first.Supporting)
	}
	if !has(second, "apart from the others: they may be this group's, and are shown once, with its group of 5 sockets outbound to 127.0.0.1:18094") {
		t.Errorf("the smaller group does not say where the stacks are: %+v", second.Supporting)
	}
}

// TestStackHits: a message that names an address ties to its group, not
// to another group toward the same port; two groups named alike (the
// same port, no address) are named by neither; two addresses, two groups.
// In groups of many peers the address counts wherever it is in the group,
// not only as its first socket's peer.
func TestStackHits(t *testing.T) {
	type names struct {
		message string
		want    []int  // the groups it names
		alike   string // what it names of several groups alike
	}
	check := func(groups []sockGroup, tests []names) {
		t.Helper()
		for _, tt := range tests {
			var got []int
			hits, alike := stackHits(dumps.Bucket{Members: []dumps.Member{{Name: tt.message}}}, groups)
			for _, h := range hits {
				got = append(got, h.group)
			}
			if !slices.Equal(got, tt.want) || alike != tt.alike {
				t.Errorf("%q names groups %v, alike %q; want %v, alike %q", tt.message, got, alike, tt.want, tt.alike)
			}
		}
	}
	group := func(local, remote string) sockGroup {
		return sockGroup{keys: []key{mkKey(netip.MustParseAddrPort(local), netip.MustParseAddrPort(remote))}}
	}
	check([]sockGroup{
		group("10.0.0.5:41000", "10.0.0.7:80"),
		group("10.0.0.5:41001", "10.0.0.8:80"),
		group("10.0.0.5:41002", "10.0.0.9:8080"),
	}, []names{
		{"Error: connect ETIMEDOUT 10.0.0.7:80", []int{0}, ""},
		{"Error: connect ETIMEDOUT 10.0.0.10:80", nil, "80"},
		{"proxy-to:80", nil, "80"},
		{"10.0.0.7:80 and 10.0.0.9:8080 failed", []int{0, 2}, ""},
		{"10.0.0.7:80, 10.0.0.8:80 failed", []int{0, 1}, ""},
		{"retry :8080 then :80", []int{2}, ""},
		{"", nil, ""},
	})

	// Two groups of many peers toward one port (a flow split by its last
	// exchange): the address a message names ties it to the group that
	// holds it wherever it is in the group, and to none when both do.
	peers := func(local uint16, remotes ...string) sockGroup {
		var g sockGroup
		for i, r := range remotes {
			g.keys = append(g.keys, mkKey(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.5"), local+uint16(i)), netip.MustParseAddrPort(r)))
		}
		return g
	}
	check([]sockGroup{
		peers(41000, "10.0.0.3:80", "10.0.0.9:80"),
		peers(41010, "10.0.0.4:80", "10.0.0.8:80", "10.0.0.3:80"),
	}, []names{
		{"Error: connect ECONNREFUSED 10.0.0.9:80", []int{0}, ""},
		{"Error: connect ECONNREFUSED 10.0.0.8:80", []int{1}, ""},
		{"10.0.0.9:80 and 10.0.0.8:80 failed", []int{0, 1}, ""},
		{"Error: connect ECONNREFUSED 10.0.0.7:80", nil, "80"},
		{"Error: connect ECONNREFUSED 10.0.0.3:80", nil, "10.0.0.3:80"},
	})
}

// TestPeerNamedWholeNumbers: a name or a stack's message names a peer or
// port only as a whole address or number, so that a JavaScript error about
// 10.0.0.9:8080 is not tied to the group of sockets toward port 80, nor
// one about 110.0.0.7 to 10.0.0.7's.
func TestPeerNamedWholeNumbers(t *testing.T) {
	stuck := []key{mkKey(netip.MustParseAddrPort("10.0.0.5:41000"), netip.MustParseAddrPort("10.0.0.7:80"))}
	for _, tt := range []struct {
		name string
		want string // what it names, "" for nothing
	}{
		{"Error: connect ETIMEDOUT 10.0.0.7:80", "10.0.0.7:80"},
		{"Error: connect ETIMEDOUT 10.0.0.7:80 (after 30s)", "10.0.0.7:80"},
		{"Error: connect ETIMEDOUT 10.0.0.9:8080", ""},
		{"Error: connect ETIMEDOUT 110.0.0.7:80", "80"}, // its port still names the group's
		{"Error: connect ETIMEDOUT 110.0.0.7:8000", ""},
		{"proxy-to:80", "80"},
		{"worker-41000-1", "41000"},
		{"worker-141000-1", ""},
	} {
		bk := dumps.Bucket{Members: []dumps.Member{{Name: tt.name}}}
		got := peerNamed(bk, stuck, "the name")
		if (tt.want == "") != (got == "") || tt.want != "" && !strings.HasSuffix(got, " names "+tt.want) {
			t.Errorf("peerNamed(%q) = %q, want it to name %q", tt.name, got, tt.want)
		}
	}
	// Node.js writes an IPv6 peer without brackets: "::1:3000" is [::1]'s
	// port 3000, the whole address, not a port alone.
	stuck = []key{mkKey(netip.MustParseAddrPort("[::1]:41000"), netip.MustParseAddrPort("[::1]:3000"))}
	for _, tt := range []struct {
		name string
		want string
	}{
		{"Error: connect ECONNREFUSED ::1:3000", "[::1]:3000"},
		{"Error: connect ECONNREFUSED [::1]:3000", "[::1]:3000"},
		{"Error: connect ECONNREFUSED fe80::1:3000", "3000"}, // another host, the same port
		{"Error: connect ECONNREFUSED ::1:30000", ""},
		{"Error: connect ECONNREFUSED ::3000:1", ""}, // [::3000]'s port 1: no group's
		{"Error: connect ECONNREFUSED ::1:3000: refused", "[::1]:3000"},
		{"Error: connect ECONNREFUSED ::1:3000.", "[::1]:3000"},
	} {
		bk := dumps.Bucket{Members: []dumps.Member{{Name: tt.name}}}
		got := peerNamed(bk, stuck, "the name")
		if (tt.want == "") != (got == "") || tt.want != "" && !strings.HasSuffix(got, " names "+tt.want) {
			t.Errorf("peerNamed(%q) = %q, want it to name %q", tt.name, got, tt.want)
		}
	}
}

// TestPeerNamedEverySocket: a name is matched against every socket of
// the group, not the first ones: in a group of 400,000 sockets toward
// distinct peers, the one it names is the last (the others' peers are on
// another port); and the answer is the one
// the plain search gives (every socket's needles in turn, namesWhole on
// every member), over names that hold addresses, ports and near misses.
func TestPeerNamedEverySocket(t *testing.T) {
	const n = 400_000
	stuck := make([]key, n)
	for i := range stuck {
		peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 8443)
		stuck[i] = mkKey(netip.AddrPortFrom(netip.MustParseAddr("10.9.0.1"), uint16(1024+i%60000)), peer)
	}
	stuck[n-1] = mkKey(netip.MustParseAddrPort("10.9.0.1:65000"), netip.MustParseAddrPort("10.200.0.1:9999"))
	last := stuck[n-1].remote.String()
	bk := dumps.Bucket{Members: []dumps.Member{{Name: "pool-1-thread-3"}, {Name: "Error: connect ECONNREFUSED " + last}}}
	if got, want := peerNamed(bk, stuck, "the message"), fmt.Sprintf("the message %q names %s", bk.Members[1].Name, last); got != want {
		t.Errorf("peerNamed = %q, want %q", got, want)
	}

	keys := []key{
		mkKey(netip.MustParseAddrPort("10.0.0.5:41000"), netip.MustParseAddrPort("10.0.0.7:80")),
		mkKey(netip.MustParseAddrPort("10.0.0.5:41001"), netip.MustParseAddrPort("110.0.0.7:8080")),
		mkKey(netip.MustParseAddrPort("[fd00::5]:41002"), netip.MustParseAddrPort("[fd00::7]:443")),
		mkKey(netip.MustParseAddrPort("[::1]:41003"), netip.MustParseAddrPort("[::ffff:10.0.0.9]:1")),
	}
	for _, name := range []string{
		"", "main", "pool-1-thread-3", "worker-41001-2", "worker-141001-2", "-41002-", "x-41000",
		"fetch 10.0.0.7:80 failed", "fetch 10.0.0.7:8080", "fetch 110.0.0.7:8080", "a.10.0.0.7:80", "1.10.0.0.7:80",
		"[fd00::7]:443", "[fd00::7]:4430", "[[fd00::7]:443]", "[fd00:0::7]:443", "[::ffff:10.0.0.9]:1", "[::1]:99",
		":080", ":443x", "to :8080!", "10.0.0.7:80:443", "[fd00::7]:", ":", "-", "--", "[:]:1",
		"connect ECONNREFUSED fd00::7:443", "fd00::7:4430", "afd00::7:443", "x:fd00::7:443", "fd00::7:443.", "fd00:0::7:443",
		"::ffff:10.0.0.9:1", "fe80::7:443", "fd00::7:443:1", "::7:443",
		"2001:db8:0:443::1:5432", "::443:1", "::1:443: refused", "fd00::7:443: x", "to fd00::7:443.", "12:443:1",
	} {
		back := slices.Clone(keys)
		slices.Reverse(back)
		for _, order := range [][]key{keys, back} {
			bk := dumps.Bucket{Members: []dumps.Member{{Name: "idle"}, {Name: name}, {Name: name + " again"}}}
			if got, want := peerNamed(bk, order, "it"), peerNamedPlain(bk, order, "it"); got != want {
				t.Errorf("%q: peerNamed = %q, the plain search %q", name, got, want)
			}
		}
	}
}

// peerNamedPlain is peerNamed as a plain search: each socket's peer
// looked for whole in every member's name, then each socket's ports in
// turn.
func peerNamedPlain(bk dumps.Bucket, stuck []key, what string) string {
	for _, k := range stuck {
		// An IPv6 peer also without brackets, as Node.js writes it,
		// whole: no hexadecimal digit, colon or dot before it.
		bare := ""
		if k.remote.Addr().Is6() {
			bare = k.remote.Addr().String() + ":" + strconv.Itoa(int(k.remote.Port()))
		}
		for _, m := range bk.Members {
			if namesWhole(m.Name, k.remote.String()) || bare != "" && namesBare(m.Name, bare) {
				return fmt.Sprintf("%s %q names %s", what, m.Name, k.remote)
			}
		}
	}
	for _, k := range stuck {
		for _, needle := range []string{k.remote.String(), ":" + strconv.Itoa(int(k.remote.Port())), "-" + strconv.Itoa(int(k.local.Port())) + "-"} {
			for _, m := range bk.Members {
				if namesWhole(m.Name, needle) {
					return fmt.Sprintf("%s %q names %s", what, m.Name, strings.Trim(needle, "-:"))
				}
			}
		}
	}
	return ""
}

// BenchmarkPeerNamed matches a thread name against a group of 400,000
// sockets whose peers it does not name.
func BenchmarkPeerNamed(b *testing.B) {
	stuck := make([]key, 400_000)
	for i := range stuck {
		stuck[i] = mkKey(netip.AddrPortFrom(netip.MustParseAddr("10.9.0.1"), uint16(1024+i%60000)), netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 8443))
	}
	bk := dumps.Bucket{Members: []dumps.Member{{Name: "pool-1-thread-3"}, {Name: "http-nio-80-exec-1"}, {Name: "fetch 192.168.1.1:9000 failed"}}}
	for b.Loop() {
		if peerNamed(bk, stuck, "thread name") != "" {
			b.Fatal("named")
		}
	}
}

// namesBare reports whether s holds needle, an IPv6 address and port
// without brackets, whole: not after a hexadecimal digit, a colon or a
// dot, nor before a digit.
func namesBare(s, needle string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], needle)
		if j < 0 {
			return false
		}
		at, end := i+j, i+j+len(needle)
		before := at == 0 || !strings.ContainsRune("0123456789abcdefABCDEF:.", rune(s[at-1]))
		after := end == len(s) || s[end] < '0' || s[end] > '9'
		// Not followed by another group: in "fd00::7:443:1" the address
		// is fd00::7:443 and the port 1.
		more := end+1 < len(s) && s[end] == ':' && strings.ContainsRune("0123456789abcdefABCDEF", rune(s[end+1]))
		if before && after && !more {
			return true
		}
		i = at + 1
	}
}

// namesWhole, the plain search's test, reports whether s holds needle (an address, ":port" or
// "-port-") as a whole: not inside a longer number, so that ":80" is not
// named by "10.0.0.9:8080", nor "10.0.0.7:80" by "110.0.0.7:80".
func namesWhole(s, needle string) bool {
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	for i := 0; ; {
		j := strings.Index(s[i:], needle)
		if j < 0 {
			return false
		}
		at, end := i+j, i+j+len(needle)
		before := at == 0 || !digit(needle[0]) || !digit(s[at-1]) && s[at-1] != '.'
		after := end == len(s) || !digit(needle[len(needle)-1]) || !digit(s[end])
		// ":port" inside an IPv6 address without brackets is a group of
		// it, not a port (TestInBareIPv6 holds that rule to its cases).
		group := needle[0] == ':' && inBareIPv6(s, at, end)
		if before && after && !group {
			return true
		}
		i = at + 1
	}
}

// TestInBareIPv6: a colon and digits inside an IPv6 address written
// without brackets are a group of it, not a port; the last group of such
// an address (Node.js's port) and a port after any other address are a
// port.
func TestInBareIPv6(t *testing.T) {
	for _, tt := range []struct {
		s     string
		group string // the ":digits" looked at, its first occurrence
		in    bool
	}{
		{"connect ECONNREFUSED ::1:3000", ":1", true},
		{"connect ECONNREFUSED ::1:3000", ":3000", false},
		{"::1:3000: refused", ":3000", false},
		{"to ::1:3000.", ":3000", false},
		{"2001:db8:0:443::1:5432", ":443", true},
		{"2001:db8:0:443::1:5432", ":5432", false},
		{"fd00::7:443:1", ":443", true},
		{"fe80::1%eth0:80", ":1", false}, // a zone ends the run: not an address of digits alone
		{"10.0.0.7:80:443", ":80", false},
		{"dial tcp 10.0.0.7:80: connect: refused", ":80", false},
		{"12:34:56", ":34", false}, // a time, not an address
		{"aa:bb:cc:dd:ee:ff:00:11", ":00", true},
		{"[::1]:3000", ":3000", false},
		{":8080", ":8080", false},
	} {
		j := strings.Index(tt.s, tt.group)
		if j < 0 {
			t.Fatalf("%q has no %q", tt.s, tt.group)
		}
		if got := inBareIPv6(tt.s, j, j+len(tt.group)); got != tt.in {
			t.Errorf("inBareIPv6(%q at %q) = %v, want %v", tt.s, tt.group, got, tt.in)
		}
	}
}
