package sample

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/cwforensics/cwforensics/report"
)

// Stuck is a synthetic incident of any size: n sockets stuck in CLOSE_WAIT
// spread over procs processes (at least one), each process a finding of its
// own, toward n/40+1 peers on ephemeral ports, with ages spread over two
// hours, a timeline, a few transient and FIN_WAIT2 rows and a warning per
// thousand sockets. It exists to measure how the reports scale: nothing in
// it is tuned to a renderer.
func Stuck(n, procs int) *report.Model {
	procs = max(1, procs)
	span := 30 * time.Minute
	end := start.Add(span)
	m := &report.Model{
		Title:       fmt.Sprintf("CLOSE_WAIT analysis: %s stuck sockets in %d %s", report.FormatCount(n), procs, plural("process", procs)),
		Summary:     report.Summary{Connections: 3*n + 17, CaptureStart: start, CaptureEnd: end, FDLimit: 1 << 20, FDLimitFrom: line("limits.txt", 9)},
		LocalSource: report.LocalSource{Method: report.LocalEvidence, Addrs: []string{"10.40.0.2"}, Note: "local addresses of the sockets listed in ss.txt"},
	}
	type group struct {
		proc report.Process
		port int
		keys []string
	}
	runtimes := []report.Runtime{report.RuntimeJava, report.RuntimeGo, report.RuntimePython}
	names := []string{"java", "billing-gateway", "python3"}
	groups := make([]group, procs)
	for p := range groups {
		groups[p] = group{port: 8080 + p, proc: report.Process{PID: 2000 + p*17, Name: names[p%3], Runtime: runtimes[p%3],
			Cmdline: fmt.Sprintf("/opt/svc/bin/%s --listen :%d --config /etc/svc/service-%d.yaml", names[p%3], 8080+p, p)}}
	}
	local := netip.MustParseAddr("10.40.0.2")
	peers := n/40 + 1
	for i := range n {
		g := &groups[i%procs]
		l := report.Endpoint{Addr: local, Port: uint16(g.port)}
		r := report.Endpoint{Addr: peerAddr(i % peers), Port: uint16(1024 + i/peers%64000)}
		age := time.Duration(int64(2*time.Hour) * int64(i%997+1) / 998)
		s := report.Socket{Local: l, Remote: r, PID: g.proc.PID, Process: g.proc.Name, FD: 10 + i/procs,
			Evidence: []report.Pos{line("ss.txt", 2+i)}}
		if age < span {
			s.Status, s.Since, s.Age = report.StatusConfirmed, end.Add(-age), age
			s.Evidence = append(s.Evidence, packet("capture.pcap", 100+i*7))
		} else {
			s.Status, s.Age, s.AgeLowerBound = report.StatusKernelOnly, span, true
		}
		m.Sockets = append(m.Sockets, s)
		g.keys = append(g.keys, report.SocketKey(l, r))
	}
	for i := range min(3, n) { // context rows: transient and the peer's side
		l := report.Endpoint{Addr: local, Port: 8080}
		m.Sockets = append(m.Sockets,
			report.Socket{Local: l, Remote: report.Endpoint{Addr: netip.MustParseAddr("10.40.9.9"), Port: uint16(50000 + i)},
				Status: report.StatusClosedLater, Since: start.Add(time.Duration(i) * time.Minute), Age: 250 * time.Millisecond,
				Evidence: []report.Pos{packet("capture.pcap", 50+i)}},
			report.Socket{Local: report.Endpoint{Addr: local, Port: uint16(40000 + i)}, Remote: report.Endpoint{Addr: netip.MustParseAddr("10.40.8.8"), Port: 6379},
				Status: report.StatusFinWait2, Evidence: []report.Pos{line("ss.txt", n+10+i)}})
	}
	for k := 0; k <= 30; k++ {
		m.Timeline = append(m.Timeline, report.Point{At: start.Add(time.Duration(k) * time.Minute), Count: n * (70 + k) / 100})
	}
	growth, gspan := report.Growth(m.Timeline)
	m.Summary.Growth = growth
	categories := []report.Category{report.CategoryPoolLeak, report.CategoryMissingClose, report.CategoryErrorHandling}
	for p, g := range groups {
		sev, why := report.Rate(report.DefaultThresholds(), report.Measure{Count: len(g.keys), FDLimit: 1 << 20,
			Oldest: span, Growth: growth, GrowthSpan: gspan})
		m.Findings = append(m.Findings, report.Finding{
			Category: categories[p%3], Severity: sev, SeverityReasons: why, Confidence: 0.8, Process: g.proc, Sockets: g.keys,
			Suspects: []report.Suspect{{
				Kind: report.SuspectThread, Name: fmt.Sprintf("worker-%d-pool-thread handling requests for service-%d", p, p), State: "WAITING (parking)",
				Count: len(g.keys)/10 + 1, Link: report.StrengthModerate, Wait: 20 * time.Minute,
				Frames: []string{"jdk.internal.misc.Unsafe.park", "java.util.concurrent.locks.LockSupport.parkNanos",
					"com.example.billing.infrastructure.persistence.connection.ResilientConnectionProviderWithRetries.acquireConnectionOrWaitForTheConfiguredTimeout",
					"com.example.billing.api.InvoiceController.handle"},
				Why:      []string{fmt.Sprintf("%s threads wait on a pool of %s sockets in CLOSE_WAIT", report.FormatCount(len(g.keys)/10+1), report.FormatCount(len(g.keys)))},
				Evidence: []report.Pos{line(fmt.Sprintf("threads/jstack-%d-very-long-file-name-from-the-incident-bundle-2026-11-20T03-42-00Z.txt", g.proc.PID), 40+p)},
			}},
			Supporting: []report.Claim{{Text: fmt.Sprintf("%s sockets on :%d stay in CLOSE_WAIT", report.FormatCount(len(g.keys)), g.port),
				Evidence: []report.Pos{line("ss.txt", 2), packet("evidence/host-a/captures/rotated/capture-2026-11-20T03-12-00Z.pcapng", 100+p)}}},
		})
	}
	for w := range n / 1000 {
		m.Warnings = append(m.Warnings, report.Warning{Pos: line("ss.txt", 3+w*1000), Msg: "line without a state column"})
	}
	m.Inputs = []report.Input{
		{Path: "capture.pcap", Kind: "pcap", Status: report.InputRead, Records: 3*n + 17},
		{Path: "ss.txt", Kind: "ss", Status: report.InputRead, Records: n + 3},
	}
	return m
}

// peerAddr is the i-th peer address, 10.41.0.0 onwards.
func peerAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 41 + byte(i>>16), byte(i >> 8), byte(i)})
}

func plural(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "es" // only "process" is pluralised here
}
