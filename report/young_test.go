package report

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// youngCapture is a healthy server's capture: 300 connections answered and
// closed by the server 3 ms after the client's FIN, but the capture stops
// while the last three are in CLOSE_WAIT (1 ms, 208 ms and 415 ms old),
// then runs on for after more. With slow, the server first closes 10
// connections that long after their clients' FINs.
func youngCapture(t *testing.T, slow, after time.Duration) *pcapstate.Result {
	t.Helper()
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	client := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(41000+i))
	}
	return capture(t, func(c *capgen.Capture) {
		if slow > 0 {
			var ks []*capgen.Conn
			for i := range 10 {
				k := c.Conn(client(300+i), server, capgen.ConnOptions{})
				k.Handshake()
				k.Data(capgen.FromClient, 100)
				k.Data(capgen.FromServer, 500)
				k.FIN(capgen.FromClient)
				k.ACK(capgen.FromServer)
				ks = append(ks, k)
			}
			c.Wait(slow)
			for _, k := range ks {
				k.FIN(capgen.FromServer)
				k.ACK(capgen.FromClient)
			}
		}
		for i := range 300 {
			k := c.Conn(client(i), server, capgen.ConnOptions{})
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
			c.Conn(netip.MustParseAddrPort("10.0.0.3:50000"), server, capgen.ConnOptions{}).Handshake()
		}
	})
}

// youngFinding builds the report of res and returns its one finding of
// stuck sockets (beside the closed ones' churn) and the text of its claim
// that the sockets may yet be closed, "" if none.
func youngFinding(t *testing.T, res *pcapstate.Result) (Finding, string) {
	t.Helper()
	m, err := Build(BuildInput{Capture: res})
	if err != nil {
		t.Fatal(err)
	}
	var stuck []Finding
	for _, f := range m.Findings {
		if f.Category != CategoryNormalChurn {
			stuck = append(stuck, f)
		}
	}
	if len(stuck) != 1 {
		t.Fatalf("%d findings of stuck sockets, want 1", len(stuck))
	}
	f := stuck[0]
	for _, c := range f.Contradicting {
		if strings.Contains(c.Text, "may yet be closed") {
			return f, c.Text
		}
	}
	return f, ""
}

// TestYoungSocketsAtCaptureEnd: sockets that entered CLOSE_WAIT in the
// capture's last second, with no listing after it, are not a trend for
// the growth rule and get a contradicting claim and a low confidence: a
// busy server that closes each socket a moment after its peer's FIN has a
// few in CLOSE_WAIT whenever a capture stops. So do sockets no older than
// the server took to close others of their port. The same sockets older
// than that keep the finding's usual confidence.
func TestYoungSocketsAtCaptureEnd(t *testing.T) {
	f, young := youngFinding(t, youngCapture(t, 0, 0))
	if f.Severity != SeverityInfo || f.Confidence > confidences.Young {
		t.Errorf("severity %s, confidence %.2f (%v); want info and at most %.2f", f.Severity, f.Confidence, f.SeverityReasons, confidences.Young)
	}
	if !strings.Contains(young, "less than 1s before the capture's end (the oldest 415ms before it)") {
		t.Errorf("no claim that the sockets are too young: %q", young)
	}

	f, young = youngFinding(t, youngCapture(t, 30*time.Second, 10*time.Second))
	if f.Confidence > confidences.Young || !strings.Contains(young, "no longer than the process took to close others of their port in the capture (up to 30s)") {
		t.Errorf("10 s old beside closes after 30 s: confidence %.2f, claim %q; want at most %.2f and the port's closes named", f.Confidence, young, confidences.Young)
	}

	for _, slow := range []time.Duration{0, 30 * time.Second} {
		f, young = youngFinding(t, youngCapture(t, slow, 2*time.Minute))
		if f.Confidence != confidences.ErrorPath || young != "" {
			t.Errorf("two minutes later (closes after %v): confidence %.2f, claim %q; want the error path's %.2f and no claim", slow, f.Confidence, young, confidences.ErrorPath)
		}
	}
}

// TestYoungClientSockets: a client whose ephemeral ports are new on every
// connection closes its connections to 10.0.0.2:8080 30 s after the
// server's FINs (a pool that reaps its dead connections on a timer); the
// capture stops 10 s after the server closed the last three. Those are
// no older than the client took to close the others to that port, so
// they may yet be closed: the port that counts is the server's, not the
// local one, which no other connection shares.
func TestYoungClientSockets(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	res := capture(t, func(c *capgen.Capture) {
		conn := func(i int) *capgen.Conn {
			k := c.Conn(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(41000+i)), server, capgen.ConnOptions{})
			k.Handshake()
			k.Data(capgen.FromClient, 100)
			k.Data(capgen.FromServer, 500)
			k.FIN(capgen.FromServer)
			k.ACK(capgen.FromClient)
			return k
		}
		var ks []*capgen.Conn
		for i := range 10 {
			ks = append(ks, conn(i))
		}
		c.Wait(30 * time.Second)
		for _, k := range ks {
			k.FIN(capgen.FromClient)
			k.ACK(capgen.FromServer)
		}
		for i := range 3 {
			conn(10 + i)
		}
		c.Wait(10 * time.Second)
		c.Conn(netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.3:443"), capgen.ConnOptions{}).Handshake()
	}, "10.0.0.1/32")
	f, young := youngFinding(t, res)
	if f.Confidence > confidences.Young || !strings.Contains(young, "(up to 30s)") {
		t.Errorf("10 s old beside closes after 30 s to the same port: confidence %.2f, claim %q; want at most %.2f and the port's closes named", f.Confidence, young, confidences.Young)
	}
}

// TestClosedOutOpener: the longest close of connections ours opened is
// kept by the peer's port only when ours opened them, as the report takes
// the ends: a loopback connection whose server end a listing names is the
// server's, which did not open it, whatever the capture's own opener.
func TestClosedOutOpener(t *testing.T) {
	client, server := netip.MustParseAddrPort("127.0.0.1:41000"), netip.MustParseAddrPort("127.0.0.1:8080")
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	c := pcapstate.Conn{
		Local:       pcapstate.Side{Addr: client, State: pcapstate.Closed},
		Remote:      pcapstate.Side{Addr: server, State: pcapstate.Closed, CloseWaitAt: t0, CloseWaitEnd: t0.Add(20 * time.Second)},
		LocalOpened: true,
		Handshake:   true,
	}
	listed := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\nESTAB 0 0 127.0.0.1:8080 127.0.0.1:41000 users:((\"srv\",pid=42,fd=9))\n"
	bb := NewBuilder(BuildInput{Evidence: []*dumps.Evidence{readEv(t, "ss.txt", listed)}})
	bb.Add(&c)
	if len(bb.b.closedOut) != 0 {
		t.Errorf("closedOut %v: the server's close kept as one of a connection ours opened", bb.b.closedOut)
	}
	// The client's own close, 20 s after the server's FIN, on a
	// connection it opened: kept by the server's port.
	c.Remote.CloseWaitAt, c.Remote.CloseWaitEnd = time.Time{}, time.Time{}
	c.Local.CloseWaitAt, c.Local.CloseWaitEnd = t0, t0.Add(20*time.Second)
	bb = NewBuilder(BuildInput{})
	bb.Add(&c)
	if got := bb.b.closedOut[8080]; got != 20*time.Second {
		t.Errorf("closedOut[8080] = %v, want 20s: a client that closed 20 s after the server's FIN", got)
	}
}
