package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testEP(addr string, port uint16) Endpoint {
	return Endpoint{Addr: netip.MustParseAddr(addr), Port: port}
}

func TestFinalizeErrors(t *testing.T) {
	a := Socket{Local: testEP("10.0.0.1", 80), Remote: testEP("10.0.0.2", 5000), Status: StatusConfirmed}
	mapped := Socket{Local: testEP("::ffff:10.0.0.1", 80), Remote: testEP("::ffff:10.0.0.2", 5000), Status: StatusKernelOnly}
	tests := []struct {
		name string
		m    Model
		want []string
	}{
		{"consistent", Model{Sockets: []Socket{a}, Findings: []Finding{{Category: CategoryMissingClose, Severity: SeverityInfo,
			Process: Process{PID: 7}, Confidence: 0.5, Sockets: []string{"10.0.0.1:80-10.0.0.2:5000"}}}}, nil},
		{"no severity", Model{Findings: []Finding{{Category: CategoryPoolLeak, Process: Process{PID: 3}}}},
			[]string{"finding pool-leak-3: no severity (use Rate)"}},
		{"IPv4-mapped duplicate", Model{Sockets: []Socket{a, mapped}},
			[]string{"socket 10.0.0.1:80-10.0.0.2:5000 listed twice"}},
		{"dangling socket key", Model{Findings: []Finding{{Category: CategoryPoolLeak, Process: Process{PID: 9}, Severity: SeverityInfo,
			Sockets: []string{"10.0.0.1:80-10.0.0.3:1"}}}},
			[]string{"finding pool-leak-9: no socket 10.0.0.1:80-10.0.0.3:1"}},
		{"two groups of one category", Model{Findings: []Finding{{Category: CategoryPoolLeak, Severity: SeverityInfo}, {Category: CategoryPoolLeak, Severity: SeverityInfo}}}, nil},
		{"groups overlap", Model{Sockets: []Socket{a}, Findings: []Finding{
			{Category: CategoryPoolLeak, Severity: SeverityInfo, Process: Process{PID: 7}, Sockets: []string{"10.0.0.1:80-10.0.0.2:5000"}},
			{Category: CategoryMissingClose, Severity: SeverityInfo, Process: Process{PID: 7}, Sockets: []string{"10.0.0.1:80-10.0.0.2:5000"}}}},
			[]string{"socket 10.0.0.1:80-10.0.0.2:5000 is in findings missing-close-7 and pool-leak-7"}},
		{"confidence out of range", Model{Findings: []Finding{{Category: CategoryErrorHandling, Severity: SeverityWarning, Process: Process{PID: 1}, Confidence: 1.5}}},
			[]string{"finding error-handling-1: confidence 1.5 is not within 0..1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Finalize()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Finalize errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFinalizeDerived(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := testEP("::ffff:10.0.0.1", 8080)
	m := Model{
		Summary: Summary{CaptureStart: t0, CaptureEnd: t0.Add(10 * time.Minute)},
		Sockets: []Socket{
			{Local: srv, Remote: testEP("10.0.0.9", 2), Status: StatusClosedLater, Age: 5 * time.Millisecond, PID: 1},
			{Local: srv, Remote: testEP("10.0.0.9", 1), Status: StatusConfirmed, Since: t0.Add(time.Minute), Age: 9 * time.Minute, PID: 1,
				Evidence: []Pos{linePos("ss.txt", 10), packetPos("cap.pcap", 12), linePos("ss.txt", 9), linePos("ss.txt", 10)}},
			{Local: srv, Remote: testEP("10.0.0.8", 1), Status: StatusKernelOnly, Age: 10 * time.Minute, AgeLowerBound: true, PID: 2},
		},
		Findings: []Finding{{Category: CategoryMissingClose, Process: Process{PID: 1, Name: "srv", Runtime: RuntimeGo},
			Confidence: 0.9, Severity: SeverityWarning,
			Sockets: []string{"10.0.0.1:8080-10.0.0.9:1", "10.0.0.1:8080-10.0.0.8:1"},
			Suspects: []Suspect{
				{Kind: SuspectGoroutine, Name: "b", Link: StrengthWeak, Frames: []string{"runtime.gopark", "net/http.(*conn).serve"}},
				{Kind: SuspectGoroutine, Name: "a", Link: StrengthStrong, Count: 2, Wait: 9 * time.Minute,
					Frames: []string{"runtime.gopark", "internal/poll.runtime_pollWait", "main.handle", "main.main"}},
			}}},
	}
	if err := m.Finalize(); err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, s := range m.Sockets {
		keys = append(keys, s.Key+" "+s.AgeText+" "+s.Finding)
	}
	want := []string{
		"10.0.0.1:8080-10.0.0.8:1 >= 10m00s missing-close-1",
		"10.0.0.1:8080-10.0.0.9:1 9m00s missing-close-1",
		"10.0.0.1:8080-10.0.0.9:2 5ms ",
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("sockets (-want +got):\n%s", diff)
	}
	f := m.Findings[0]
	if f.ID != "missing-close-1" || f.SocketCount != 2 || f.OldestText != ">= 10m00s" || f.ConfidenceLabel != "high" ||
		f.Title != categoryTitle[CategoryMissingClose] || len(f.Advice) == 0 {
		t.Errorf("finding derived fields: %+v", f)
	}
	if diff := cmp.Diff([]Flow{
		{Local: "10.0.0.1:8080", Remote: "10.0.0.8:1", Count: 1, Oldest: ">= 10m00s"},
		{Local: "10.0.0.1:8080", Remote: "10.0.0.9:1", Count: 1, Oldest: "9m00s"},
	}, f.Flows); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
	if s := f.Suspects[0]; s.Name != "a" || s.ID != "missing-close-1-t1" || s.Culprit != "main.handle" || s.WaitText != "9m00s" {
		t.Errorf("first suspect: %+v", s)
	}
	if s := f.Suspects[1]; s.Culprit != "" || s.Count != 1 {
		t.Errorf("library-only suspect: culprit %q count %d", s.Culprit, s.Count)
	}
	if diff := cmp.Diff([]Pos{packetPos("cap.pcap", 12), linePos("ss.txt", 9), linePos("ss.txt", 10)}, f.Evidence); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
	sum := m.Summary
	if sum.CloseWait != 2 || sum.Confirmed != 1 || sum.KernelOnly != 1 || sum.KernelListed != 2 || sum.ClosedLater != 1 ||
		sum.Processes != 2 || sum.SpanText != "10m00s" || sum.OldestText != ">= 10m00s" {
		t.Errorf("summary: %+v", sum)
	}
	wantVerdict := "Sockets never closed after the peer hung up in srv (pid 1): 2 sockets in CLOSE_WAIT, oldest >= 10m00s, held by 2 goroutines in main.handle"
	if m.Verdict.Text != wantVerdict || m.Verdict.Finding != "missing-close-1" {
		t.Errorf("verdict = %q (%s), want %q", m.Verdict.Text, m.Verdict.Finding, wantVerdict)
	}

	// Finalize is idempotent.
	var first, second bytes.Buffer
	if err := WriteJSON(&first, &m); err != nil {
		t.Fatal(err)
	}
	if err := m.Finalize(); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&second, &m); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first.String(), second.String()); diff != "" {
		t.Errorf("second Finalize changed the model:\n%s", diff)
	}
}

func TestAdvise(t *testing.T) {
	for c := CategoryMissingClose; c <= CategoryNormalChurn; c++ {
		for rt := RuntimeUnknown; rt <= RuntimeNode; rt++ {
			a := Advise(c, rt)
			if len(a) == 0 {
				t.Errorf("Advise(%v, %v) is empty", c, rt)
			}
			leak := c != CategoryNormalChurn && c != CategoryRemotePeerLeak
			if got := a[len(a)-1].Stopgap && strings.Contains(a[len(a)-1].Config, "tcp_keepalive"); got != leak {
				t.Errorf("Advise(%v, %v): keep-alive stopgap last = %v, want %v", c, rt, got, leak)
			}
		}
	}
	if a := Advise(CategoryMissingClose, RuntimeGo); !strings.Contains(a[0].Text, "defer conn.Close()") || a[0].Runtime != RuntimeGo {
		t.Errorf("Go missing-close advice: %+v", a[0])
	}
	if a := Advise(CategoryPoolLeak, RuntimePython); a[0].Runtime != RuntimePython {
		t.Errorf("Python pool advice runtime = %v", a[0].Runtime)
	}
	if a := Advise(CategoryRemotePeerLeak, RuntimeJava); a[0].Runtime != RuntimeUnknown {
		t.Errorf("remote-peer-leak advice for java falls back to general, got runtime %v", a[0].Runtime)
	}
}

func TestEnumText(t *testing.T) {
	for c := CategoryUnknown; c <= CategoryNormalChurn; c++ {
		b, _ := c.MarshalText()
		var back Category
		if err := back.UnmarshalText(b); err != nil || back != c {
			t.Errorf("Category %v: round trip gave %v, %v", c, back, err)
		}
	}
	var s Severity
	if err := s.UnmarshalText([]byte("fatal")); err == nil {
		t.Error("Severity accepted \"fatal\"")
	}
	for _, name := range []string{"pool-leak", "blocked-holding-socket", "remote-peer-leak", "normal-churn"} {
		var c Category
		if err := c.UnmarshalText([]byte(name)); err != nil || c.String() != name {
			t.Errorf("Category %q: %v, %v", name, c, err)
		}
	}
}
