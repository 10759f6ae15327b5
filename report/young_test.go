package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// youngCapture is a healthy server's capture: 300 connections answered and
// closed by the server 3 ms after the client's FIN, but the capture stops
// while the last three are in CLOSE_WAIT (1 ms, 208 ms and 415 ms old),
// then runs on for after more.
func youngCapture(t *testing.T, after time.Duration) *pcapstate.Result {
	t.Helper()
	c := capgen.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	for i := range 300 {
		k := c.Conn(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(41000+i)), server, capgen.ConnOptions{})
		k.Handshake()
		k.Data(capgen.FromClient, 100)
		k.Data(capgen.FromServer, 500)
		k.FIN(capgen.FromClient)
		k.ACK(capgen.FromServer)
		if i < 297 {
			c.Wait(3 * time.Millisecond)
			k.FIN(capgen.FromServer)
			k.ACK(capgen.FromClient)
		}
		c.Wait(200 * time.Millisecond)
	}
	if after > 0 {
		c.Wait(after)
		// A packet of another connection, so that the capture runs on.
		k := c.Conn(netip.MustParseAddrPort("10.0.0.3:50000"), server, capgen.ConnOptions{})
		k.Handshake()
	}
	var pcap bytes.Buffer
	if err := c.Write(&pcap, capgen.Format{}); err != nil {
		t.Fatal(err)
	}
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "c.pcap", R: &pcap}}, pcapstate.Options{Retain: pcapstate.RetainAll})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestYoungSocketsAtCaptureEnd: sockets that entered CLOSE_WAIT in the
// capture's last second, with no listing after it, are not a trend for
// the growth rule and get a contradicting claim and a low confidence: a
// busy server that closes each socket a moment after its peer's FIN has a
// few in CLOSE_WAIT whenever a capture stops. The same sockets two
// minutes old keep the finding's usual confidence.
func TestYoungSocketsAtCaptureEnd(t *testing.T) {
	m, err := Build(BuildInput{Capture: youngCapture(t, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(m.Findings))
	}
	f := m.Findings[0]
	if f.Severity != SeverityInfo || f.Confidence > confidences.Young {
		t.Errorf("severity %s, confidence %.2f (%v); want info and at most %.2f", f.Severity, f.Confidence, f.SeverityReasons, confidences.Young)
	}
	young := false
	for _, c := range f.Contradicting {
		young = young || strings.Contains(c.Text, "less than 1s before the capture's end (the oldest 415ms before it)") && strings.Contains(c.Text, "may yet be closed")
	}
	if !young {
		t.Errorf("no claim that the sockets are too young: %+v", f.Contradicting)
	}

	m, err = Build(BuildInput{Capture: youngCapture(t, 2*time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings) != 1 {
		t.Fatalf("two minutes later: %d findings, want 1", len(m.Findings))
	}
	f = m.Findings[0]
	if f.Confidence != confidences.ErrorPath {
		t.Errorf("two minutes later: confidence %.2f, want the error path's %.2f", f.Confidence, confidences.ErrorPath)
	}
	for _, c := range f.Contradicting {
		if strings.Contains(c.Text, "may yet be closed") {
			t.Errorf("two minutes later, still called young: %s", c.Text)
		}
	}
}
