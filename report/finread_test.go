package report

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// TestFinReadClaim: the claim on a group's receive queues, from listings
// whose Recv-Q Linux counts with the peer's FIN as one byte (ss,
// /proc/net/tcp, and netstat's and lsof's rows the parser tells are
// Linux's), and none from netstat's or lsof's rows of other kernels, which
// count the buffer alone, or of no kernel the rows tell; the latest
// listing of a socket decides.
func TestFinReadClaim(t *testing.T) {
	const (
		ssHead      = "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
		netstatHead = "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name\n"
		lsofHead    = "COMMAND  PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\n"
	)
	cw := func(q string, port int) string {
		return "CLOSE-WAIT " + q + " 0 10.0.0.5:8080 10.0.0.9:" + strconv.Itoa(port) + " users:((\"srv\",pid=42,fd=" + strconv.Itoa(port-40000) + "))\n"
	}
	tests := []struct {
		name, file, listing string
		want                []string // in the claim; nil: no claim
	}{
		{"all read", "ss.txt", ssHead + cw("0", 40001) + cw("0", 40002),
			[]string{"the kernel shows both sockets read to the peer's FIN (Recv-Q 0 in CLOSE_WAIT;", "the program read all the peer sent, up to its FIN, and kept the socket open"}},
		{"all unread", "ss.txt", ssHead + cw("1", 40001) + cw("3073", 40002) + cw("1", 40003),
			[]string{"the peer's FIN unread on all 3 sockets (Recv-Q 1 or more in CLOSE_WAIT, 1 with data before the FIN;", "nothing has read these sockets to the end since the peer closed"}},
		{"the FIN alone", "ss.txt", ssHead + cw("1", 40001) + cw("1", 40002),
			[]string{"the peer's FIN unread on both sockets (Recv-Q 1 in CLOSE_WAIT: the FIN alone;"}},
		{"data, then the FIN", "ss.txt", ssHead + cw("3073", 40001) + cw("2", 40002),
			[]string{"the peer's FIN unread on both sockets (Recv-Q above 1 in CLOSE_WAIT: data, then the FIN;"}},
		{"one", "ss.txt", ssHead + cw("0", 40001),
			[]string{"the kernel shows the socket read to the peer's FIN"}},
		{"mixed", "ss.txt", ssHead + cw("0", 40001) + cw("1", 40002) + cw("17", 40003),
			[]string{"of 3 listed sockets, the kernel shows 1 read to the peer's FIN (Recv-Q 0 in CLOSE_WAIT) and 2 with the FIN still unread (Recv-Q 1 or more), 1 of them with data before it"}},
		{"mixed, no data", "ss.txt", ssHead + cw("0", 40001) + cw("1", 40002),
			[]string{"the kernel shows 1 read to the peer's FIN (Recv-Q 0 in CLOSE_WAIT) and 1 with the FIN still unread (Recv-Q 1 or more); the FIN counts"}},
		{"Linux netstat, read", "netstat.txt", netstatHead + "tcp        0      0 10.0.0.5:8080           10.0.0.9:40001          CLOSE_WAIT  42/srv\n",
			[]string{"the kernel shows the socket read to the peer's FIN"}},
		{"Linux netstat, unread, no header", "netstat.txt",
			"tcp6       1      0 2001:db8::5:8080        2001:db8::9:40001       CLOSE_WAIT  42/srv\ntcp6       7      0 2001:db8::5:8080        2001:db8::9:40002       CLOSE_WAIT  42/srv\n",
			[]string{"the peer's FIN unread on both sockets (Recv-Q 1 or more in CLOSE_WAIT, 1 with data before the FIN;"}},
		{"busybox netstat", "netstat.txt", "Proto Recv-Q Send-Q Local Address           Foreign Address         State\ntcp        1      0 ::ffff:10.0.0.5:8080    ::ffff:10.0.0.9:40001   CLOSE_WAIT\n",
			[]string{"the peer's FIN unread on the socket (Recv-Q 1 in CLOSE_WAIT: the FIN alone;"}},
		{"BSD netstat counts the buffer", "netstat.txt",
			"Active Internet connections\nProto Recv-Q Send-Q  Local Address          Foreign Address        (state)\ntcp4       0      0  10.0.0.5.8080          10.0.0.9.40001         CLOSE_WAIT\ntcp4       6      0  10.0.0.5.8080          10.0.0.9.40002         CLOSE_WAIT\n",
			nil},
		{"a Linux row under a BSD header", "netstat.txt",
			"Active Internet connections\nProto Recv-Q Send-Q  Local Address          Foreign Address        (state)\ntcp        1      0 10.0.0.5:8080           10.0.0.9:40001          CLOSE_WAIT\n",
			nil},
		{"Linux lsof -T q", "lsof.txt", lsofHead + "srv      42 app    7u  IPv4 555001      0t0  TCP 10.0.0.5:8080->10.0.0.9:40001 (CLOSE_WAIT QR=1 QS=0)\n",
			[]string{"the peer's FIN unread on the socket (Recv-Q 1 in CLOSE_WAIT: the FIN alone;"}},
		{"macOS lsof -T q counts the buffer", "lsof.txt", lsofHead + "srv      42 app    7u  IPv4 0x1f2e3d4c5b6a7980      0t0  TCP 10.0.0.5:8080->10.0.0.9:40001 (CLOSE_WAIT QR=0 QS=0)\n",
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, tt.file, tt.listing)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Findings) == 0 {
				t.Fatal("no finding")
			}
			claim := claimWith(m.Findings[0].Supporting, "Recv-Q")
			if tt.want == nil {
				if claim != "" {
					t.Errorf("claim %q, want none", claim)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(claim, w) {
					t.Errorf("claim %q does not say %q", claim, w)
				}
			}
		})
	}
}

// TestFinReadLatest: of two listings of one socket, the later decides (a
// program that read the FIN between them).
func TestFinReadLatest(t *testing.T) {
	b := NewBuilder(BuildInput{}).b
	k := mkKey(netip.MustParseAddrPort("10.0.0.5:8080"), netip.MustParseAddrPort("10.0.0.9:40001"))
	at := func(s int) time.Time { return time.Date(2026, 12, 3, 10, 0, s, 0, time.UTC) }
	b.kernel[k] = []listing{
		{state: dumps.StateCloseWait, recvQ: 1, at: at(10)},
		{state: dumps.StateCloseWait, recvQ: 0, at: at(20)},
		{state: dumps.StateCloseWait, recvQ: -1, at: at(30)}, // no queue shown
	}
	if r := b.finRead([]key{k}); r.read != 1 || r.unread != 0 {
		t.Errorf("finRead = %+v, want the listing at 20 s: read", r)
	}
	b.kernel[k][0].at, b.kernel[k][1].at = at(20), at(10)
	if r := b.finRead([]key{k}); r.read != 0 || r.unread != 1 {
		t.Errorf("finRead = %+v, want the listing at 20 s: unread", r)
	}
}

// TestNotReadingText: a Node.js report's handles not reading, told apart by
// the kernel's queues.
func TestNotReadingText(t *testing.T) {
	tests := []struct {
		n    int
		fds  string
		r    finReading
		want string
	}{
		{3, "", finReading{unread: 3}, "3 are paused (open, not reading): nothing reads them, so the peer's FIN is never read and nothing closes them"},
		{2, "fd 7, 8", finReading{unread: 2, withData: 2}, "2 of them are paused (open, not reading: fd 7, 8): nothing reads them"},
		{3, "", finReading{read: 3}, "3 are open and not reading, and the kernel shows all the peer sent read from each, up to its FIN (Recv-Q 0): nothing ended them"},
		{3, "", finReading{read: 1, unread: 2}, "3 are open and not reading: 1 read up to the peer's FIN (Recv-Q 0) that nothing ended, 2 paused with the FIN unread behind them"},
		{3, "", finReading{read: 1}, "3 are open and not reading: paused before the peer's FIN, which then stays unread, or read to its end with nothing that ended them"},
	}
	for _, tt := range tests {
		if got := notReadingText(tt.n, tt.fds, tt.r); !strings.HasPrefix(got, tt.want) {
			t.Errorf("notReadingText(%d, %q, %+v) = %q, want it to begin %q", tt.n, tt.fds, tt.r, got, tt.want)
		}
	}
}

// claimWith is the text of the last of claims that says sub, "" if none.
func claimWith(claims []Claim, sub string) string {
	text := ""
	for _, c := range claims {
		if strings.Contains(c.Text, sub) {
			text = c.Text
		}
	}
	return text
}

// TestFinReadLatestSnapshot: of two snapshots of one file that shows no
// times (ss run twice, no date between), the second decides: the program
// read the FIN between them.
func TestFinReadLatestSnapshot(t *testing.T) {
	const head = "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	row := func(q string) string {
		return "CLOSE-WAIT " + q + " 0 10.0.0.5:8080 10.0.0.9:40001 users:((\"srv\",pid=42,fd=7))\n"
	}
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss.txt", head+row("1")+head+row("0"))}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) == 0 {
		t.Fatal("no finding")
	}
	if claim := claimWith(m.Findings[0].Supporting, "Recv-Q"); !strings.Contains(claim, "the kernel shows the socket read to the peer's FIN") {
		t.Errorf("claim %q, want the second snapshot's: read to the FIN", claim)
	}
}

// TestUnreadNoDump: a group no dump shows, every socket of which holds the
// peer's FIN unread, says so against the finding, and its advice leads
// with where to look in place of the path that reads to the end and
// returns; sockets read up to the FIN, or a mix, keep the plain claim and
// advice.
func TestUnreadNoDump(t *testing.T) {
	const ssHead = "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	listing := func(qs ...string) string {
		s := ssHead
		for i, q := range qs {
			s += "CLOSE-WAIT " + q + " 0 10.0.0.5:8080 10.0.0.9:" + strconv.Itoa(40001+i) + " users:((\"srv\",pid=42,fd=" + strconv.Itoa(10+i) + "))\n"
		}
		return s
	}
	readToEnd := advice[CategoryMissingClose][RuntimeUnknown][0]
	for _, tt := range []struct {
		name   string
		qs     []string
		unread bool
	}{
		{"all unread", []string{"1", "1", "57"}, true},
		{"all read", []string{"0", "0", "0"}, false},
		{"mixed", []string{"1", "0", "1"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss.txt", listing(tt.qs...))}})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Findings) != 1 {
				t.Fatalf("%d findings, want 1", len(m.Findings))
			}
			f := m.Findings[0]
			if f.Category != CategoryMissingClose {
				t.Fatalf("category %v, want missing-close", f.Category)
			}
			against := claimWith(f.Contradicting, "no thread or goroutine dump")
			lead := f.Advice[0].Text
			if tt.unread {
				if !strings.Contains(against, "the kernel shows the peer's FIN unread on all 3 sockets") || !strings.HasPrefix(lead, "Nothing has read these sockets since the peer closed") {
					t.Errorf("against %q, advice %q: want the FIN unread said and the advice led by where to look", against, lead)
				}
				for _, a := range f.Advice {
					if a == readToEnd {
						t.Errorf("advice still says %q", a.Text)
					}
				}
				return
			}
			if strings.Contains(against, "unread") || lead != readToEnd.Text {
				t.Errorf("against %q, advice %q: want the plain claim and advice", against, lead)
			}
		})
	}
}

// TestFinReadRealListings: this machine's listings of sockets whose
// queues are known (testdata/gen/recvq: of 4 on 127.0.0.1, the FIN alone
// unread, 6 bytes and the FIN unread, two read to the end; of 3 on ::1, 6
// bytes and the FIN unread, the FIN alone unread, one read) give the same
// claims from net-tools netstat, busybox netstat and lsof -T q as from ss,
// and none from lsof -F without the d field, whose rows do not say
// which kernel printed them, nor from macOS netstat (jc's sample).
func TestFinReadRealListings(t *testing.T) {
	const dir = "../testdata/real/recvq/"
	want := []string{
		"of 3 listed sockets, the kernel shows 1 read to the peer's FIN (Recv-Q 0 in CLOSE_WAIT) and 2 with the FIN still unread (Recv-Q 1 or more), 1 of them with data before it",
		"of 4 listed sockets, the kernel shows 2 read to the peer's FIN (Recv-Q 0 in CLOSE_WAIT) and 2 with the FIN still unread (Recv-Q 1 or more), 1 of them with data before it",
	}
	for _, tt := range []struct {
		file  string
		claim bool
	}{
		{"ss-tanp.txt", true},
		{"netstat-tanp.txt", true},
		{"netstat-grep-close-wait.txt", true},
		{"busybox-netstat-tan.txt", true},
		{"lsof-Tqs.txt", true},
		{"lsof-F-Tqs.txt", true},
		{"lsof-F-no-device.txt", false},
		// macOS: 6 sockets in CLOSE_WAIT, their Recv-Q the bytes buffered.
		{"../../conformance/sockets/jc/osx-10.14.6_netstat-An.out", false},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			data, err := os.ReadFile(dir + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Build(BuildInput{Evidence: []*dumps.Evidence{readEv(t, filepath.Base(tt.file), string(data))}})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Findings) == 0 {
				t.Fatal("no finding")
			}
			var got []string
			for _, f := range m.Findings {
				if c := claimWith(f.Supporting, "Recv-Q"); c != "" {
					got = append(got, c)
				}
			}
			slices.Sort(got)
			if !tt.claim {
				if len(got) > 0 {
					t.Errorf("claims %q, want none", got)
				}
				return
			}
			if len(got) != len(want) {
				t.Fatalf("%d claims %q, want %d", len(got), got, len(want))
			}
			for i := range want {
				if !strings.HasPrefix(got[i], want[i]) {
					t.Errorf("claim %q, want it to begin %q", got[i], want[i])
				}
			}
		})
	}
}
