// Package sample builds realistic report Models by hand, for the renderers'
// golden tests and for make e2e. The numbers are invented but consistent:
// counts, ages, thresholds and positions agree with each other.
package sample

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/report"
)

// Case is a named sample model.
type Case struct {
	Name  string
	Model func() *report.Model // a fresh, not yet finalized model
}

// Cases are the samples, in golden-file order.
func Cases() []Case {
	return []Case{
		{"go-server-leak", GoServerLeak},
		{"java-pool-leak", JavaPoolLeak},
		{"normal-churn", NormalChurn},
		{"python-no-capture", PythonNoCapture},
		{"empty", Empty},
		{"hostile", Hostile},
	}
}

// start is when every sample capture begins.
var start = time.Date(2026, 11, 20, 3, 12, 0, 0, time.UTC)

func ep(addr string, port int) report.Endpoint {
	return report.Endpoint{Addr: netip.MustParseAddr(addr), Port: uint16(port)}
}

func key(l, r report.Endpoint) string { return report.SocketKey(l, r) }

// GoServerLeak is a Go server (inventory-api, pid 3117) whose handler
// forwards each request to a channel nobody drains after the client hangs
// up: 137 accepted connections stuck in CLOSE_WAIT, 137 goroutines parked in
// chan send, growing through a 15-minute capture.
func GoServerLeak() *report.Model {
	end := start.Add(15 * time.Minute)
	m := &report.Model{
		Title: "CLOSE_WAIT analysis: inventory-api outage",
		Summary: report.Summary{
			Connections: 1893, CaptureStart: start, CaptureEnd: end,
			FDLimit: 1024, FDLimitFrom: line("proc/3117/limits", 9),
		},
		LocalSource: report.LocalSource{Method: report.LocalEvidence, Addrs: []string{"10.20.0.4"},
			Note: "local addresses of the sockets listed in ss.txt"},
	}
	local := ep("10.20.0.4", 8080)
	proc := report.Process{PID: 3117, Name: "inventory-api", Runtime: report.RuntimeGo,
		Cmdline: "/usr/local/bin/inventory-api -listen :8080"}
	var keys []string
	for i := range 137 {
		remote := ep(fmt.Sprintf("10.20.1.%d", 11+i%3), 40000+i*7)
		// Sockets pile up through the capture: the oldest entered CLOSE_WAIT
		// 28s after it began, one more every ~6.4s.
		since := start.Add(28*time.Second + time.Duration(i)*6400*time.Millisecond)
		st := report.StatusConfirmed
		ev := []report.Pos{packet("capture.pcap", 812+i*131), line("ss.txt", 2+i)}
		if i >= 134 {
			st, ev = report.StatusCaptureOnly, ev[:1] // entered after ss.txt was taken
		}
		m.Sockets = append(m.Sockets, report.Socket{Local: local, Remote: remote, Status: st,
			Since: since, Age: end.Sub(since), PID: 3117, Process: "inventory-api", FD: 9 + i, Evidence: ev})
		keys = append(keys, key(local, remote))
	}
	for i := range 4 { // transient: closed by the application within a second
		remote := ep("10.20.1.20", 51000+i)
		m.Sockets = append(m.Sockets, report.Socket{Local: local, Remote: remote, Status: report.StatusClosedLater,
			Since: start.Add(time.Duration(60+i*90) * time.Second), Age: 180 * time.Millisecond,
			PID: 3117, Process: "inventory-api", Evidence: []report.Pos{packet("capture.pcap", 2210+i*977)}})
	}
	for i := 0; i <= 30; i++ {
		at := start.Add(time.Duration(i) * 30 * time.Second)
		n := 0
		for _, s := range m.Sockets[:137] {
			if !s.Since.After(at) {
				n++
			}
		}
		m.Timeline = append(m.Timeline, report.Point{At: at, Count: n})
	}
	growth, span := report.Growth(m.Timeline)
	m.Summary.Growth = growth
	oldest := m.Sockets[0].Age
	sev, why := report.Rate(report.DefaultThresholds(), report.Measure{Count: 137, FDLimit: 1024,
		Oldest: oldest, Growth: growth, GrowthSpan: span})
	m.Findings = []report.Finding{{
		Category: report.CategoryMissingClose, Severity: sev, SeverityReasons: why, Confidence: 0.86,
		Process: proc, Sockets: keys,
		Suspects: []report.Suspect{{
			Kind: report.SuspectGoroutine, Name: "main.(*relay).forward", State: "chan send",
			Wait: 14 * time.Minute, Count: 137, Link: report.StrengthStrong,
			Frames: []string{"runtime.gopark", "runtime.chansend", "runtime.chansend1",
				"main.(*relay).forward", "main.(*server).handleConn", "main.(*server).serve.gowrap1", "runtime.goexit"},
			Why: []string{"137 goroutines and 137 CLOSE_WAIT sockets on :8080",
				"waiting up to 14 minutes; the oldest socket is 14m32s old",
				"main.(*server).handleConn holds the net.Conn and has no deferred Close"},
			Evidence: []report.Pos{line("goroutines.txt", 14), line("goroutines.txt", 15), line("goroutines.txt", 22)},
		}, {
			Kind: report.SuspectGoroutine, Name: "net/http.(*Server).Serve", State: "IO wait",
			Count: 1, Link: report.StrengthWeak,
			Frames: []string{"internal/poll.runtime_pollWait", "internal/poll.(*FD).Accept", "net.(*TCPListener).Accept",
				"main.(*server).serve", "main.main"},
			Why:      []string{"the accept loop owns the listener on :8080, not the stuck sockets"},
			Evidence: []report.Pos{line("goroutines.txt", 1)},
		}},
		Supporting: []report.Claim{
			{Text: "137 connections on :8080 received the client's FIN and were never closed by the server",
				Evidence: []report.Pos{packet("capture.pcap", 812), packet("capture.pcap", 18498)}},
			{Text: "ss lists 134 of them in CLOSE_WAIT with inventory-api as owner; the other 3 entered after it was taken",
				Evidence: []report.Pos{line("ss.txt", 2), line("ss.txt", 135)}},
			{Text: "no goroutine is blocked reading these connections", Evidence: []report.Pos{line("goroutines.txt", 1)}},
		},
		Contradicting: []report.Claim{
			{Text: "4 other connections from 10.20.1.20 were closed within 180ms, so the close path works on success",
				Evidence: []report.Pos{packet("capture.pcap", 2210), packet("capture.pcap", 5141)}},
		},
	}}
	m.Inputs = []report.Input{
		{Path: "capture.pcap", Kind: "pcap", Status: report.InputRead, Records: 18922},
		{Path: "ss.txt", Kind: "ss", Status: report.InputRead, Records: 141},
		{Path: "goroutines.txt", Kind: "goroutines", Status: report.InputRead, Records: 143},
		{Path: "proc/3117/limits", Kind: "proc-limits", Status: report.InputRead, Records: 1},
		{Path: "notes.md", Status: report.InputIgnored, Reason: "not a capture or a known evidence format"},
	}
	m.Warnings = []report.Warning{
		{Pos: packet("capture.pcap", 9120), Msg: "TCP header cut by the snap length inside its options; ports, flags, seq and ack kept"},
		{Pos: line("ss.txt", 139), Msg: "unknown state \"SYN-RECV2\"; line skipped"},
	}
	return m
}

// JavaPoolLeak is a Java service (order-service, pid 4242) whose JDBC pool
// never validates or evicts connections that PostgreSQL closes after 10
// minutes idle, while request threads wait to borrow one; a second finding
// is two threads blocked reading from a payment API without a timeout.
func JavaPoolLeak() *report.Model {
	end := start.Add(15 * time.Minute)
	m := &report.Model{
		Title: "CLOSE_WAIT analysis: order-service connection errors",
		Summary: report.Summary{Connections: 412, CaptureStart: start, CaptureEnd: end,
			FDLimit: 4096, FDLimitFrom: line("limits.txt", 9)},
		LocalSource: report.LocalSource{Method: report.LocalFlag, Addrs: []string{"10.20.0.7/32"}},
	}
	local := "10.20.0.7"
	db := ep("10.20.0.5", 5432)
	proc := report.Process{PID: 4242, Name: "java", Runtime: report.RuntimeJava,
		Cmdline: "java -Xmx2g -jar order-service.jar"}
	var poolKeys []string
	for i := range 48 {
		l := ep(local, 33000+i*113)
		s := report.Socket{Local: l, Remote: db, PID: 4242, Process: "java", FD: 211 + i,
			Evidence: []report.Pos{line("ss.txt", 5+i), line("lsof.txt", 30+i)}}
		if i < 20 { // idle before the capture began: the server closed them earlier
			s.Status, s.Age, s.AgeLowerBound = report.StatusKernelOnly, 15*time.Minute+time.Duration(i)*150*time.Second, false
			s.Since = start.Add(-time.Duration(i) * 150 * time.Second)
			if i >= 10 {
				s.AgeLowerBound, s.Age, s.Since = true, 15*time.Minute, time.Time{}
			} else { // dated by the listing taken 25 minutes before the capture
				s.Evidence = append(s.Evidence, line("ss-0247.txt", 3+i))
			}
		} else {
			s.Status = report.StatusConfirmed
			s.Since = start.Add(time.Duration(i-20) * 29 * time.Second)
			s.Age = end.Sub(s.Since)
			s.Evidence = append(s.Evidence, packet("capture.pcap", 300+(i-20)*211))
		}
		m.Sockets = append(m.Sockets, s)
		poolKeys = append(poolKeys, key(l, db))
	}
	pay := ep("10.20.3.9", 443)
	var payKeys []string
	for i := range 2 {
		l := ep(local, 41870+i)
		m.Sockets = append(m.Sockets, report.Socket{Local: l, Remote: pay, Status: report.StatusConfirmed,
			Since: start.Add(time.Duration(2+i) * time.Minute), Age: time.Duration(13-i) * time.Minute,
			PID: 4242, Process: "java", FD: 301 + i,
			Evidence: []report.Pos{packet("capture.pcap", 4100+i*7), line("ss.txt", 60+i)}})
		payKeys = append(payKeys, key(l, pay))
	}
	for i := 0; i <= 15; i++ {
		m.Timeline = append(m.Timeline, report.Point{At: start.Add(time.Duration(i) * time.Minute),
			Count: 20 + min(28, i*2) + min(2, max(0, i-1))})
	}
	growth, span := report.Growth(m.Timeline)
	m.Summary.Growth = growth
	th := report.DefaultThresholds()
	sev, why := report.Rate(th, report.Measure{Count: 48, FDLimit: 4096, Oldest: m.Sockets[9].Age, Growth: growth, GrowthSpan: span})
	sev2, why2 := report.Rate(th, report.Measure{Count: 2, FDLimit: 4096, Oldest: 13 * time.Minute})
	hikari := []string{"jdk.internal.misc.Unsafe.park", "java.util.concurrent.locks.LockSupport.parkNanos",
		"java.util.concurrent.SynchronousQueue$TransferStack.awaitFulfill", "java.util.concurrent.SynchronousQueue.poll",
		"com.zaxxer.hikari.util.ConcurrentBag.borrow", "com.zaxxer.hikari.pool.HikariPool.getConnection",
		"com.zaxxer.hikari.HikariDataSource.getConnection", "com.example.orders.OrderRepository.findOpen",
		"com.example.orders.OrderController.list"}
	m.Findings = []report.Finding{{
		Category: report.CategoryPoolLeak, Severity: sev, SeverityReasons: why, Confidence: 0.78,
		Process: proc, Sockets: poolKeys,
		Suspects: []report.Suspect{{
			Kind: report.SuspectThread, Name: "http-nio-8080-exec-*", State: "TIMED_WAITING (parking)",
			Count: 40, Link: report.StrengthModerate, Frames: hikari,
			Why: []string{"40 request threads wait in HikariPool.getConnection for a connection to 10.20.0.5:5432",
				"the pool's 48 connections to that server are all in CLOSE_WAIT"},
			Evidence: []report.Pos{line("jstack.txt", 118), line("jstack.txt", 1180)},
		}, {
			Kind: report.SuspectThread, Name: "HikariPool-1 housekeeper", State: "TIMED_WAITING (parking)",
			Count: 1, Link: report.StrengthWeak,
			Frames: []string{"jdk.internal.misc.Unsafe.park", "java.util.concurrent.ScheduledThreadPoolExecutor$DelayedWorkQueue.take",
				"java.util.concurrent.ThreadPoolExecutor.getTask", "java.lang.Thread.run"},
			Why:      []string{"idle but never evicted connections: the housekeeper runs, yet idleTimeout is longer than the server's"},
			Evidence: []report.Pos{line("jstack.txt", 2011)},
		}},
		Supporting: []report.Claim{
			{Text: "all 48 sockets are outbound from java to 10.20.0.5:5432, the database",
				Evidence: []report.Pos{line("ss.txt", 5), line("lsof.txt", 30)}},
			{Text: "the server closed each connection after 10 minutes idle (FIN from 10.20.0.5)",
				Evidence: []report.Pos{packet("capture.pcap", 300), packet("capture.pcap", 6002)}},
			{Text: "40 threads wait to borrow a pooled connection", Evidence: []report.Pos{line("jstack.txt", 118)}},
		},
		Contradicting: []report.Claim{
			{Text: "20 sockets predate the capture: 10 are dated by an earlier listing, the other 10 only known to be older than the capture",
				Evidence: []report.Pos{line("ss-0247.txt", 3), line("ss.txt", 15)}},
		},
	}, {
		Category: report.CategoryBlockedHoldingSocket, Severity: sev2, SeverityReasons: why2, Confidence: 0.64,
		Process: proc, Sockets: payKeys,
		Suspects: []report.Suspect{{
			Kind: report.SuspectThread, Name: "payment-callback-1", State: "RUNNABLE", Count: 2,
			Link: report.StrengthStrong,
			Frames: []string{"sun.nio.ch.NioSocketImpl.park", "sun.nio.ch.NioSocketImpl.implRead", "sun.nio.ch.NioSocketImpl.read",
				"java.net.Socket$SocketInputStream.read", "sun.security.ssl.SSLSocketInputRecord.read",
				"com.example.payments.CallbackClient.awaitAck", "com.example.payments.CallbackWorker.run"},
			Locks:    []string{"locked <0x00000000e1a2b3c8> (a com.example.payments.CallbackClient)"},
			Why:      []string{"reading from 10.20.3.9:443 with no socket timeout", "2 threads, 2 sockets to 10.20.3.9:443 in CLOSE_WAIT for 12–13 minutes"},
			Evidence: []report.Pos{line("jstack.txt", 2230), line("jstack.txt", 2251)},
		}},
		Supporting: []report.Claim{{Text: "the peer closed both connections; the threads still sit in read",
			Evidence: []report.Pos{packet("capture.pcap", 4100), line("jstack.txt", 2230)}}},
	}}
	m.Inputs = []report.Input{
		{Path: "capture.pcap", Kind: "pcap", Status: report.InputRead, Records: 9120},
		{Path: "ss.txt", Kind: "ss", Status: report.InputRead, Records: 63},
		{Path: "ss-0247.txt", Kind: "ss", Status: report.InputRead, Records: 31},
		{Path: "lsof.txt", Kind: "lsof", Status: report.InputRead, Records: 88},
		{Path: "jstack.txt", Kind: "jstack", Status: report.InputRead, Records: 97},
		{Path: "limits.txt", Kind: "proc-limits", Status: report.InputRead, Records: 1},
		{Path: "heap.hprof", Status: report.InputIgnored, Reason: "heap dumps are not read"},
	}
	return m
}

// NormalChurn is a gunicorn worker whose sockets pass through CLOSE_WAIT
// for milliseconds to seconds: nothing is stuck for long.
func NormalChurn() *report.Model {
	end := start.Add(5 * time.Minute)
	m := &report.Model{
		Title:       "CLOSE_WAIT analysis: api-gateway health check",
		Summary:     report.Summary{Connections: 524, CaptureStart: start, CaptureEnd: end},
		LocalSource: report.LocalSource{Method: report.LocalCapture, Addrs: []string{"192.168.7.2"}, Note: "the address that accepted every connection"},
	}
	local := ep("192.168.7.2", 8000)
	proc := report.Process{PID: 812, Name: "gunicorn", Runtime: report.RuntimePython}
	var keys []string
	for i := range 6 {
		r := ep("192.168.7.40", 52000+i*17)
		m.Sockets = append(m.Sockets, report.Socket{Local: local, Remote: r, Status: report.StatusClosedLater,
			Since: start.Add(time.Duration(20+i*41) * time.Second), Age: time.Duration(40+i*130) * time.Millisecond,
			PID: 812, Process: "gunicorn", Evidence: []report.Pos{packet("capture.pcap", 90+i*400)}})
	}
	for i := range 2 {
		r := ep("192.168.7.41", 60100+i)
		m.Sockets = append(m.Sockets, report.Socket{Local: local, Remote: r, Status: report.StatusCaptureOnly,
			Since: end.Add(-time.Duration(3+i*37) * time.Second), Age: time.Duration(3+i*37) * time.Second,
			PID: 812, Process: "gunicorn", Evidence: []report.Pos{packet("capture.pcap", 2990+i*3)}})
		keys = append(keys, key(local, r))
	}
	for i := 0; i <= 10; i++ {
		m.Timeline = append(m.Timeline, report.Point{At: start.Add(time.Duration(i) * 30 * time.Second), Count: []int{0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 2}[i]})
	}
	growth, span := report.Growth(m.Timeline)
	m.Summary.Growth = growth
	sev, why := report.Rate(report.DefaultThresholds(), report.Measure{Count: 2, Oldest: 40 * time.Second, Growth: growth, GrowthSpan: span})
	m.Findings = []report.Finding{{
		Category: report.CategoryNormalChurn, Severity: sev, SeverityReasons: why, Confidence: 0.9,
		Process: proc, Sockets: keys,
		Supporting: []report.Claim{
			{Text: "6 connections passed through CLOSE_WAIT and were closed by gunicorn within 690ms",
				Evidence: []report.Pos{packet("capture.pcap", 90), packet("capture.pcap", 2090)}},
			{Text: "the 2 open at the end of the capture are 3s and 40s old", Evidence: []report.Pos{packet("capture.pcap", 2990)}},
		},
	}}
	m.Inputs = []report.Input{{Path: "capture.pcapng", Kind: "pcapng", Status: report.InputRead, Records: 3110}}
	return m
}

// Empty is a capture with no CLOSE_WAIT at all and a file that was not
// understood.
func Empty() *report.Model {
	return &report.Model{
		Title: "CLOSE_WAIT analysis: quiet capture",
		Summary: report.Summary{Connections: 12, CaptureStart: start,
			CaptureEnd: start.Add(90 * time.Second)},
		LocalSource: report.LocalSource{Method: report.LocalCapture, Addrs: []string{"127.0.0.1"}},
		Inputs: []report.Input{
			{Path: "lo.pcap", Kind: "pcap", Status: report.InputWarned, Records: 77, Warnings: 1, FirstWarnings: []report.Pos{packet("lo.pcap", 77)}},
			{Path: "dump.bin", Status: report.InputFailed, Reason: "dump.bin: not a pcap or pcapng file (bad magic 0x7f454c46)"},
		},
		Warnings: []report.Warning{{Pos: packet("lo.pcap", 77), Msg: "truncated packet record (24 of 66 bytes)"}},
	}
}

// DocExample is the small model whose JSON is the example in
// docs/report-json.md: one Go process, two stuck sockets, one goroutine
// group, one transient socket.
func DocExample() *report.Model {
	end := start.Add(10 * time.Minute)
	local := ep("10.0.0.4", 8080)
	r1, r2, r3 := ep("10.0.0.9", 51544), ep("10.0.0.9", 51602), ep("10.0.0.9", 51610)
	m := &report.Model{
		Title:   "CLOSE_WAIT analysis: example",
		Summary: report.Summary{Connections: 42, CaptureStart: start, CaptureEnd: end, FDLimit: 1024, FDLimitFrom: line("limits.txt", 9)},
		Sockets: []report.Socket{
			{Local: local, Remote: r1, Status: report.StatusConfirmed, Since: start.Add(2 * time.Minute), Age: 8 * time.Minute,
				PID: 3117, Process: "api", FD: 12, Evidence: []report.Pos{packet("capture.pcap", 812), line("ss.txt", 2)}},
			{Local: local, Remote: r2, Status: report.StatusCaptureOnly, Since: start.Add(9 * time.Minute), Age: time.Minute,
				PID: 3117, Process: "api", Evidence: []report.Pos{packet("capture.pcap", 4410)}},
			{Local: local, Remote: r3, Status: report.StatusClosedLater, Since: start.Add(5 * time.Minute), Age: 120 * time.Millisecond,
				PID: 3117, Process: "api", Evidence: []report.Pos{packet("capture.pcap", 2270)}},
		},
		Timeline: []report.Point{{At: start, Count: 0}, {At: start.Add(5 * time.Minute), Count: 1}, {At: end, Count: 2}},
		Inputs: []report.Input{
			{Path: "capture.pcap", Kind: "pcap", Status: report.InputRead, Records: 4501},
			{Path: "ss.txt", Kind: "ss", Status: report.InputRead, Records: 3},
			{Path: "goroutines.txt", Kind: "goroutines", Status: report.InputRead, Records: 9},
			{Path: "README", Status: report.InputIgnored, Reason: "not a capture or a known evidence format"},
		},
		LocalSource: report.LocalSource{Method: report.LocalEvidence, Addrs: []string{"10.0.0.4"}, Note: "from ss.txt"},
		Warnings:    []report.Warning{{Pos: line("ss.txt", 3), Msg: "no users:(()) field; process unknown"}},
		DumpLinks: []report.DumpLink{{
			File: "goroutines.txt", PID: 3117, Method: "content", Score: 0.8, Link: report.StrengthStrong,
			Why:        []string{"2 goroutines blocked in application code for 2 stuck sockets of pid 3117 (ss.txt:2)"},
			Evidence:   []report.Pos{line("goroutines.txt", 4), line("ss.txt", 2)},
			Candidates: []report.Candidate{{PID: 3117, Name: "api", Score: 0.8, Why: []string{"counts match"}}},
		}},
	}
	growth, span := report.Growth(m.Timeline)
	m.Summary.Growth = growth
	sev, why := report.Rate(report.DefaultThresholds(), report.Measure{Count: 2, FDLimit: 1024, Oldest: 8 * time.Minute, Growth: growth, GrowthSpan: span})
	m.Findings = []report.Finding{{
		Category: report.CategoryBlockedHoldingSocket, Mechanism: report.MechanismThread, Group: "held by 2 goroutines in main.handle",
		Severity: sev, SeverityReasons: why, Confidence: 0.8, Holders: 2,
		Process: report.Process{PID: 3117, Name: "api", Runtime: report.RuntimeGo},
		Sockets: []string{key(local, r1), key(local, r2)},
		Suspects: []report.Suspect{{
			Kind: report.SuspectGoroutine, Name: "main.handle", State: "chan send", Wait: 8 * time.Minute, Count: 2, Role: report.RoleHolder,
			Frames: []string{"runtime.gopark", "runtime.chansend1", "main.handle"}, Link: report.StrengthStrong,
			Why: []string{"2 goroutines, 2 sockets on :8080"}, Evidence: []report.Pos{line("goroutines.txt", 4)},
		}},
		Supporting:    []report.Claim{{Text: "the client closed; the server never did", Evidence: []report.Pos{packet("capture.pcap", 812)}}},
		Contradicting: []report.Claim{{Text: "one connection was closed after 120ms", Evidence: []report.Pos{packet("capture.pcap", 2270)}}},
		Advice: []report.Advice{{Runtime: report.RuntimeGo, Text: "`defer conn.Close()` after Accept."},
			{Text: "Shorten TCP keep-alive.", Stopgap: true, Config: "sysctl -w net.ipv4.tcp_keepalive_time=60",
				Why: "frees kernel state, not the file descriptor"}},
	}}
	return m
}

// PythonNoCapture has no capture at all: two `ss` snapshots a minute apart
// and a py-spy dump. A Python server's error path skips close(), so its
// sockets are kernel-only with unknown ages (one gone by the second
// snapshot), and a peer leaves our closed connections in FIN_WAIT2.
func PythonNoCapture() *report.Model {
	m := &report.Model{
		Title:       "CLOSE_WAIT analysis: report-worker after deploy",
		LocalSource: report.LocalSource{Method: report.LocalEvidence, Addrs: []string{"::1", "127.0.0.1"}, Note: "from ss-1.txt and ss-2.txt"},
	}
	local := ep("::ffff:127.0.0.1", 9000)
	var keys []string
	for i := range 6 {
		r := ep("::ffff:127.0.0.1", 45100+i*3)
		st := report.StatusKernelOnly
		ev := []report.Pos{line("ss-1.txt", 4+i), line("ss-2.txt", 4+i)}
		if i == 5 {
			st, ev = report.StatusGoneLater, ev[:1]
		}
		m.Sockets = append(m.Sockets, report.Socket{Local: local, Remote: r, Status: st, PID: 812, Process: "python3",
			FD: 7 + i, Evidence: ev})
		if st.Stuck() {
			keys = append(keys, key(local, r))
		}
	}
	peer := ep("::1", 6379)
	m.Sockets = append(m.Sockets, report.Socket{Local: ep("::1", 50210), Remote: peer, Status: report.StatusFinWait2,
		Evidence: []report.Pos{line("ss-2.txt", 12)}})
	m.Timeline = nil
	m.Summary.Growth = 0
	// A `date; ss -s; sleep 5` loop saved beside the listings.
	for i, n := range []int{212, 219, 231} {
		m.SocketCounts = append(m.SocketCounts, report.CountPoint{At: start.Add(time.Duration(i) * 5 * time.Second), TCP: n, Estab: 180,
			Closed: 12, TimeWait: 9, Pos: line("ss-s-loop.txt", 2+12*i)})
	}
	sev, why := report.Rate(report.DefaultThresholds(), report.Measure{Count: len(keys)})
	m.Findings = []report.Finding{{
		Category: report.CategoryErrorHandling, Severity: sev, SeverityReasons: why, Confidence: 0.55,
		Process: report.Process{PID: 812, Name: "python3", Runtime: report.RuntimePython, Cmdline: "python3 worker.py --port 9000"},
		Sockets: keys,
		Suspects: []report.Suspect{{
			Kind: report.SuspectThread, Name: "Thread-3 (process_request_thread)", State: "idle", Count: 1, Link: report.StrengthWeak,
			Frames:   []string{"socket.socket.recv", "worker.handle_client", "socketserver.BaseRequestHandler.__init__"},
			Why:      []string{"handle_client catches ConnectionResetError and returns without conn.close()"},
			Evidence: []report.Pos{line("py-spy.txt", 31)},
		}},
		Supporting:    []report.Claim{{Text: "5 sockets on :9000 stay in CLOSE_WAIT in both snapshots", Evidence: []report.Pos{line("ss-1.txt", 4), line("ss-2.txt", 4)}}},
		Contradicting: []report.Claim{{Text: "no capture: when they entered CLOSE_WAIT is unknown", Evidence: []report.Pos{line("ss-1.txt", 1)}}},
		Note:          "No capture was given; ages are unknown and the severity rests on the count alone.",
	}, {
		Category: report.CategoryRemotePeerLeak, Severity: report.SeverityInfo, SeverityReasons: []string{"info: 1 socket in FIN_WAIT2"},
		Confidence: 0.3, Sockets: nil,
		Supporting: []report.Claim{{Text: "[::1]:6379 has not closed a connection we closed", Evidence: []report.Pos{line("ss-2.txt", 12)}}},
	}}
	m.Inputs = []report.Input{
		{Path: "ss-1.txt", Kind: "ss", Status: report.InputRead, Records: 9},
		{Path: "ss-2.txt", Kind: "ss", Status: report.InputRead, Records: 8},
		{Path: "py-spy.txt", Kind: "py-spy", Status: report.InputIgnored, Reason: "Python stack dumps are not parsed yet; the suspect was added by hand"},
	}
	return m
}

// line is a line of a text evidence file.
func line(file string, n int) report.Pos { return report.TextPos(dumps.Pos{File: file, Line: n}) }

// packet is a packet of a capture.
func packet(file string, n int) report.Pos {
	return report.PacketPos(pcapstate.Pos{File: file, Packet: uint64(n)})
}
