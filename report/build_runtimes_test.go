package report

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// runtimeInput is a listing of n sockets of pid 77 in CLOSE_WAIT toward
// 10.0.0.9:443, an fd limit of 128, and the extra evidence given.
func runtimeInput(t *testing.T, n int, extra ...*dumps.Evidence) BuildInput {
	t.Helper()
	var ss strings.Builder
	ss.WriteString("State      Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
	for i := range n {
		fmt.Fprintf(&ss, "CLOSE-WAIT 1      0      10.0.0.5:%d    10.0.0.9:443      users:((\"node\",pid=77,fd=%d))\n", 40000+i, 20+i)
	}
	ev, err := readDumps(strings.NewReader(ss.String()), "ss.txt")
	if err != nil {
		t.Fatal(err)
	}
	soft := uint64(128)
	lim := &dumps.Evidence{File: "limits.txt", Kind: dumps.KindProcLimits}
	pid := 77
	lim.Limits = []dumps.Limit{{PID: &pid, Name: "Max open files", Soft: &soft, Hard: &soft, Src: dumps.Pos{File: "limits.txt", Line: 9}}}
	return BuildInput{Evidence: append([]*dumps.Evidence{ev, lim}, extra...)}
}

// TestBuildLogExhaustion: a log saying descriptors ran out, with a sixth of
// the fd limit stuck in CLOSE_WAIT, makes the finding critical and cites
// the line; the log's classes are listed in the report.
func TestBuildLogExhaustion(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 5, 0, 0, time.UTC)
	log := &dumps.Evidence{File: "app.log", Kind: dumps.KindAppLog}
	log.LogEvents = []dumps.LogEvent{
		{Pos: dumps.Pos{File: "app.log", Line: 3}, Time: at, Class: dumps.LogConnReset, Message: "read ECONNRESET"},
		{Pos: dumps.Pos{File: "app.log", Line: 9}, Time: at.Add(time.Minute), Class: dumps.LogFDExhausted, Message: "Error: connect EMFILE 10.0.0.9:443"},
	}
	m, err := Build(runtimeInput(t, 22, log))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) != 1 {
		t.Fatalf("findings %+v", m.Findings)
	}
	f := m.Findings[0]
	if f.Severity != SeverityCritical || !strings.Contains(strings.Join(f.SeverityReasons, "\n"), "descriptors ran out (app.log:9)") {
		t.Errorf("severity %s %v, want critical citing app.log:9", f.Severity, f.SeverityReasons)
	}
	if len(m.LogEvents) != 2 || m.LogEvents[0].Class != "conn-reset" || m.LogEvents[1].Lines[0] != linePos("app.log", 9) {
		t.Errorf("log events %+v", m.LogEvents)
	}
	// The same log with a pid of another process is not this finding's.
	for i := range log.LogEvents {
		log.LogEvents[i].PID = 4242
	}
	m, err = Build(runtimeInput(t, 22, log))
	if err != nil {
		t.Fatal(err)
	}
	if f := m.Findings[0]; f.Severity == SeverityCritical {
		t.Errorf("another process's log made the finding critical: %v", f.SeverityReasons)
	}
}

// TestBuildNodeHandles: a Node.js report naming the stuck sockets' fds
// and endpoints, paused, backs the finding with its positions.
func TestBuildNodeHandles(t *testing.T) {
	rep := &dumps.Evidence{File: "report.json", Kind: dumps.KindNodeReport}
	for i := range 3 {
		rep.RuntimeSockets = append(rep.RuntimeSockets, dumps.RuntimeSocket{
			Src: dumps.Pos{File: "report.json", Line: 100 + 20*i}, Runtime: "node", Source: "libuv-tcp", PID: 77, FD: 20 + i,
			Local:  dumps.Endpoint{Addr: netip.MustParseAddr("10.0.0.5"), Port: uint16(40000 + i)},
			Remote: dumps.Endpoint{Addr: netip.MustParseAddr("10.0.0.9"), Port: 443}, Paused: true,
		})
	}
	// One handle of another connection: not stuck, not counted.
	rep.RuntimeSockets = append(rep.RuntimeSockets, dumps.RuntimeSocket{Src: dumps.Pos{File: "report.json", Line: 200}, Runtime: "node", Source: "libuv-tcp", PID: 77, FD: 40,
		Local: dumps.Endpoint{Addr: netip.MustParseAddr("10.0.0.5"), Port: 41000}, Remote: dumps.Endpoint{Addr: netip.MustParseAddr("10.0.0.9"), Port: 443}, Paused: true})
	m, err := Build(runtimeInput(t, 3, rep))
	if err != nil {
		t.Fatal(err)
	}
	var claim *Claim
	for i, c := range m.Findings[0].Supporting {
		if strings.Contains(c.Text, "Node.js report") {
			claim = &m.Findings[0].Supporting[i]
		}
	}
	if claim == nil || !strings.HasPrefix(claim.Text, "3 of the stuck sockets") || !strings.Contains(claim.Text, "fd 20, 21, 22") ||
		!strings.Contains(claim.Text, "all 3 are paused") || len(claim.Evidence) != 3 || claim.Evidence[0] != linePos("report.json", 100) {
		t.Errorf("claim %+v", claim)
	}
	if f := m.Findings[0]; f.Category != CategoryPoolLeak || f.Confidence != pausedConfidence {
		t.Errorf("%s with confidence %.2f, want pool-leak at %.2f: the paused handles show the leak", f.Category, f.Confidence, pausedConfidence)
	}
}
