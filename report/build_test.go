package report

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// TestBuildAgesFromDump is the classic incident without a capture: 137
// sockets in CLOSE_WAIT to one peer and 137 persistConn goroutines waiting
// 14 minutes in a Go client. The sockets are dated by the dump, the finding
// is a pool leak, and 14 minutes is over the 5-minute warning.
func TestBuildAgesFromDump(t *testing.T) {
	var ss strings.Builder
	ss.WriteString("State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n")
	for i := range 137 {
		fmt.Fprintf(&ss, "CLOSE-WAIT 0      0      10.0.0.7:%d    10.0.0.9:5432 users:((\"billing\",pid=4242,fd=%d))\n", 40000+i, 10+i)
	}
	var gd strings.Builder
	for i := range 137 {
		fmt.Fprintf(&gd, "goroutine %d [select, 14 minutes]:\nnet/http.(*persistConn).readLoop(0xc000%04x)\n\t/usr/local/go/src/net/http/transport.go:2395 +0xcad\ncreated by net/http.(*Transport).dialConn in goroutine 1\n\t/usr/local/go/src/net/http/transport.go:1944 +0x174e\n\n", 100+i, i)
	}
	sev, err := readDumps(strings.NewReader(ss.String()), "ss.txt")
	if err != nil {
		t.Fatal(err)
	}
	gev, err := readDumps(strings.NewReader(gd.String()), "goroutines-4242.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{sev, gev}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) != 1 {
		t.Fatalf("%d findings: %+v", len(m.Findings), m.Verdict)
	}
	f := m.Findings[0]
	if f.Category != CategoryPoolLeak || f.Process.PID != 4242 || f.SocketCount != 137 {
		t.Errorf("finding %s pid %d with %d sockets, want pool-leak pid 4242 with 137", f.Category, f.Process.PID, f.SocketCount)
	}
	if f.Severity != SeverityWarning || f.OldestText != ">= 14m00s" {
		t.Errorf("severity %s, oldest %q; want warning and >= 14m00s: %v", f.Severity, f.OldestText, f.SeverityReasons)
	}
	if len(f.Suspects) == 0 || f.Suspects[0].Count != 137 || f.Suspects[0].Link != StrengthStrong {
		t.Errorf("suspects %+v", f.Suspects)
	}
}

// TestBuildErrorHandling: a server that resets 8 of its 10 connections
// after the request, instead of answering and closing, gets an
// error-handling finding citing the resets.
func TestBuildErrorHandling(t *testing.T) {
	c := capgen.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	for i := range 10 {
		k := c.Conn(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(41000+i)), server, capgen.ConnOptions{})
		k.Handshake()
		k.Data(capgen.FromClient, 100)
		if i < 8 {
			k.RST(capgen.FromServer)
		} else {
			k.Data(capgen.FromServer, 200)
			k.FIN(capgen.FromServer)
			k.ACK(capgen.FromClient)
			k.FIN(capgen.FromClient)
			k.ACK(capgen.FromServer)
		}
	}
	var pcap bytes.Buffer
	if err := c.Write(&pcap, capgen.Format{}); err != nil {
		t.Fatal(err)
	}
	pcap2 := bytes.Clone(pcap.Bytes())
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "c.pcap", R: &pcap}}, pcapstate.Options{Retain: pcapstate.RetainAll})
	if err != nil {
		t.Fatal(err)
	}
	ss := "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
		"LISTEN 0      128    10.0.0.2:8080      0.0.0.0:*         users:((\"api\",pid=77,fd=3))\n"
	ev, err := readDumps(strings.NewReader(ss), "ss.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{ev}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) != 1 || m.Findings[0].Category != CategoryErrorHandling || m.Findings[0].Process.PID != 77 {
		t.Fatalf("findings %+v", m.Findings)
	}
	if ev := m.Findings[0].Supporting[0].Evidence; len(ev) != 8 || ev[0].Kind != PosPacket || ev[0].File != "c.pcap" {
		t.Errorf("evidence %v, want the 8 resets", ev)
	}
	// The same, the connections streamed to a Builder.
	m2 := streamBuild(t, BuildInput{Evidence: []*dumps.Evidence{ev}}, "c.pcap", pcap2, pcapstate.Options{Retain: pcapstate.RetainAll})
	if len(m2.Findings) != 1 || fmt.Sprint(m2.Findings[0].Supporting) != fmt.Sprint(m.Findings[0].Supporting) {
		t.Errorf("streamed: findings %+v, want %+v", m2.Findings, m.Findings)
	}
}

// TestBuildGrowth: 30 sockets enter CLOSE_WAIT in a server over 4 minutes
// and stay: fewer than 100 and none older than 5 minutes, but the count
// grows at 7.5 a minute, and the finding's severity says so (the findings
// are rated after the timeline is built).
func TestBuildGrowth(t *testing.T) {
	c := capgen.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	for i := range 30 {
		k := c.Conn(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(41000+i)), server, capgen.ConnOptions{})
		k.Handshake()
		k.Data(capgen.FromClient, 100)
		k.FIN(capgen.FromClient)
		k.ACK(capgen.FromServer)
		c.Wait(8 * time.Second)
	}
	var pcap bytes.Buffer
	if err := c.Write(&pcap, capgen.Format{}); err != nil {
		t.Fatal(err)
	}
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "c.pcap", R: &pcap}}, pcapstate.Options{Retain: pcapstate.RetainCloseWait})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(BuildInput{Capture: res})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) != 1 || m.Findings[0].SocketCount != 30 {
		t.Fatalf("findings %+v", m.Findings)
	}
	f := m.Findings[0]
	if f.Severity != SeverityWarning || !strings.Contains(strings.Join(f.SeverityReasons, "; "), "growing +7.") {
		t.Errorf("severity %s %v, want a warning for the growth", f.Severity, f.SeverityReasons)
	}
}

// TestBuildClosedLaterLimit: a server closes 150 connections after 2 to 17
// seconds in CLOSE_WAIT. The report lists the 100 longest, counts all 150,
// says so in the churn finding, and draws all of them in the timeline.
func TestBuildClosedLaterLimit(t *testing.T) {
	c := capgen.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	var conns []*capgen.Conn
	for i := range 150 {
		k := c.Conn(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(41000+i)), server, capgen.ConnOptions{})
		k.Handshake()
		k.FIN(capgen.FromClient)
		k.ACK(capgen.FromServer)
		conns = append(conns, k)
	}
	c.Wait(2 * time.Second)
	for _, k := range conns {
		k.FIN(capgen.FromServer)
		k.ACK(capgen.FromClient)
		c.Wait(100 * time.Millisecond)
	}
	var pcap bytes.Buffer
	if err := c.Write(&pcap, capgen.Format{}); err != nil {
		t.Fatal(err)
	}
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "c.pcap", R: &pcap}}, pcapstate.Options{Retain: pcapstate.RetainCloseWait})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(BuildInput{Capture: res})
	if err != nil {
		t.Fatal(err)
	}
	if m.Summary.ClosedLater != 150 || m.Summary.ClosedLaterUnlisted != 50 || len(m.Sockets) != 100 {
		t.Fatalf("closed later %d, unlisted %d, %d sockets listed; want 150, 50, 100", m.Summary.ClosedLater, m.Summary.ClosedLaterUnlisted, len(m.Sockets))
	}
	for _, s := range m.Sockets {
		if s.Local.Port-41000 < 50 {
			t.Errorf("socket of port %d listed, not among the 100 longest", s.Local.Port)
		}
	}
	if len(m.Findings) != 1 || !strings.HasPrefix(m.Findings[0].Supporting[0].Text, "150 sockets went through CLOSE_WAIT") ||
		!strings.HasSuffix(m.Findings[0].Supporting[0].Text, "the 100 longest are listed") {
		t.Errorf("findings %+v", m.Findings)
	}
	peak := 0
	for _, p := range m.Timeline {
		peak = max(peak, p.Count)
	}
	if peak != 150 {
		t.Errorf("timeline peaks at %d, want all 150", peak)
	}
	var md, html bytes.Buffer
	if err := WriteMarkdown(&md, m); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "150 transient, closed later (the 50 shortest not listed)") || !strings.Contains(html.String(), "(50 shortest not listed)") {
		t.Errorf("the reports do not say that 50 closed-later sockets are not listed")
	}
}

// streamBuild builds the report of in and capture data as analyze does:
// the connections a pcapstate.Stream hands over go to a Builder one at a
// time, as they come.
func streamBuild(t *testing.T, in BuildInput, name string, data []byte, opts pcapstate.Options) *Model {
	t.Helper()
	s, err := pcapstate.NewStream([]pcapstate.Input{{Name: name, R: bytes.NewReader(data)}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bb := NewBuilder(in)
	for s.Next() {
		bb.Add(s.Conn())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	m, err := bb.Build(s.Result())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBuilderStreaming checks that a Builder given the connections one at
// a time, as a pcapstate.Stream hands them over (the finished ones while
// the capture is read, then those left open), makes the report Build makes
// from Read's sorted Result, and so does Build given them in reverse: the
// report does not depend on the order. The capture has thousands of
// connections closed after a second or more in CLOSE_WAIT (more than a
// port lists) and some leaks, with a listing naming the server and
// showing some of the leaked sockets and some closed ones in CLOSE_WAIT.
func TestBuilderStreaming(t *testing.T) {
	var capture bytes.Buffer
	if _, err := capgen.Load(&capture, capgen.LoadOptions{Conns: 3000, Open: 400, LeakEvery: 9, Seed: 5, Step: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	data := capture.Bytes()
	opts := pcapstate.Options{Retain: pcapstate.RetainAll}
	all, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	ss := "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
		"LISTEN 0      128    0.0.0.0:8080       0.0.0.0:*         users:((\"api\",pid=77,fd=3))\n"
	// Every 50th connection listed in CLOSE_WAIT: stuck ones, and closed
	// ones whose listing makes them kernel-only, so that the summaries of
	// finished connections are taken too.
	for i, c := range all.Conns {
		if i%50 == 0 {
			ss += fmt.Sprintf("CLOSE-WAIT 0 0 %s %s users:((\"api\",pid=77,fd=%d))\n", c.Local.Addr, c.Remote.Addr, 100+i)
		}
	}
	ev, err := readDumps(strings.NewReader(ss), "ss.txt")
	if err != nil {
		t.Fatal(err)
	}
	in := BuildInput{Evidence: []*dumps.Evidence{ev}}
	withAll := in
	withAll.Capture = all
	want, err := Build(withAll)
	if err != nil {
		t.Fatal(err)
	}
	got := streamBuild(t, in, "load.pcap", data, opts)
	reversed := *all
	reversed.Conns = slices.Clone(all.Conns)
	slices.Reverse(reversed.Conns)
	withReversed := in
	withReversed.Capture = &reversed
	rev, err := Build(withReversed)
	if err != nil {
		t.Fatal(err)
	}
	var wj, gj, rj bytes.Buffer
	for _, w := range []struct {
		b *bytes.Buffer
		m *Model
	}{{&wj, want}, {&gj, got}, {&rj, rev}} {
		if err := WriteJSON(w.b, w.m); err != nil {
			t.Fatal(err)
		}
	}
	if wj.String() != gj.String() {
		t.Errorf("the streamed report differs from Build's:\n%s", firstDiff(wj.String(), gj.String()))
	}
	if wj.String() != rj.String() {
		t.Errorf("Build's report differs with the connections reversed:\n%s", firstDiff(wj.String(), rj.String()))
	}
	if want.Summary.ClosedLaterUnlisted == 0 || want.Summary.CloseWait == 0 {
		t.Errorf("closed-later unlisted %d, stuck %d: the capture does not exercise the limit and the leaks", want.Summary.ClosedLaterUnlisted, want.Summary.CloseWait)
	}
	kernelOnly := 0
	for _, s := range want.Sockets {
		if s.Status == StatusKernelOnly {
			kernelOnly++
		}
	}
	if kernelOnly == 0 {
		t.Errorf("no kernel-only socket: the listing does not exercise the finished connections' summaries")
	}
}

// TestBuilderRefusesConnsTwice: a Builder takes the connections through
// Add only, so that no connection is taken by two paths.
func TestBuilderRefusesConnsTwice(t *testing.T) {
	res := &pcapstate.Result{Conns: make([]pcapstate.Conn, 1)}
	if _, err := NewBuilder(BuildInput{}).Build(res); !errors.Is(err, errConnsInResult) {
		t.Errorf("Build with a Result's connections: %v", err)
	}
	bb := NewBuilder(BuildInput{})
	bb.Add(&res.Conns[0])
	if _, err := bb.Build(nil); !errors.Is(err, errNoResult) {
		t.Errorf("Build without the Result of the connections added: %v", err)
	}
}

// firstDiff shows the first line where a and b differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines against %d", len(al), len(bl))
}

// TestMadeSockets: the sockets Build makes come out once each, in the
// order they were made, from chunks grown past the first, without those
// dropped and without zero positions, each as it was last written through
// its pointer.
func TestMadeSockets(t *testing.T) {
	b := NewBuilder(BuildInput{}).b
	var keys []key
	for i := range 300 {
		k := mkKey(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), 8080), netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}), uint16(40000+i)))
		keys = append(keys, k)
		s := b.socket(k)
		s.Evidence = append(s.Evidence, Pos{}, PacketPos(pcapstate.Pos{File: "c.pcap", Packet: uint64(i + 1)}))
	}
	if len(b.made) < 2 {
		t.Fatalf("%d chunks for 300 sockets from none: the test does not cover growth", len(b.made))
	}
	for i, k := range keys {
		if b.socket(k) != b.sockets[k] || len(b.sockets) != 300 {
			t.Fatalf("socket %d made again", i)
		}
		b.socket(k).Age = time.Duration(i)
	}
	b.dropped = map[*Socket]bool{b.sockets[keys[7]]: true, b.sockets[keys[299]]: true}
	delete(b.sockets, keys[7])
	delete(b.sockets, keys[299])
	got := b.madeSockets()
	if len(got) != 298 {
		t.Fatalf("%d sockets, want 298", len(got))
	}
	j := 0
	for i, k := range keys {
		if i == 7 || i == 299 {
			continue
		}
		s := got[j]
		j++
		if s.Local != endpointOf(k.local) || s.Remote != endpointOf(k.remote) || s.Age != time.Duration(i) {
			t.Fatalf("socket %d is %v-%v age %v, want %v-%v age %d", j-1, s.Local, s.Remote, s.Age, k.local, k.remote, i)
		}
		if len(s.Evidence) != 1 || s.Evidence[0].N != uint64(i+1) {
			t.Fatalf("socket %d cites %v", i, s.Evidence)
		}
	}
}
