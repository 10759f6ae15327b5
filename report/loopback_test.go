package report

import (
	"net/netip"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// TestLoopbackSidesBusyServer: client and server on one host. The capture
// ends with the connection open (the server's idle close came after it),
// and the listing taken 2 minutes later shows the client's end in
// CLOSE_WAIT, the server's end gone, and the server busy with another
// client. The report takes the listed end, so the socket keeps what the
// capture says of it (its age from the capture's first packet), though
// the server's endpoint has other listed sockets.
func TestLoopbackSidesBusyServer(t *testing.T) {
	server := netip.MustParseAddrPort("127.0.0.1:8080")
	res := capture(t, func(c *capgen.Capture) {
		y := c.Conn(netip.MustParseAddrPort("127.0.0.1:40001"), server, capgen.ConnOptions{})
		y.Handshake()
		k := c.Conn(netip.MustParseAddrPort("127.0.0.1:40000"), server, capgen.ConnOptions{})
		k.Handshake()
		k.Data(capgen.FromClient, 100)
		k.Data(capgen.FromServer, 500)
		c.Wait(time.Second)
	}, "127.0.0.1/32")
	ss := "Fri Jan  2 03:06:32 UTC 2026\nState      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		`ESTAB      0      0      127.0.0.1:8080      127.0.0.1:40001   users:(("srv",pid=9,fd=12))` + "\n" +
		`ESTAB      0      0      127.0.0.1:40001     127.0.0.1:8080    users:(("cli",pid=7,fd=12))` + "\n" +
		`CLOSE-WAIT 1      0      127.0.0.1:40000     127.0.0.1:8080    users:(("cli",pid=7,fd=13))` + "\n"
	m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Sockets) != 1 || m.Sockets[0].Key != "127.0.0.1:40000-127.0.0.1:8080" || m.Sockets[0].AgeText != ">= 2m32s" {
		t.Fatalf("sockets %+v, want the client's end, >= 2m32s old from the capture", m.Sockets)
	}
}

// TestLoopbackSidesPeerTimeWait: client and server on one host. The
// server closes; the capture ends with the client's end in CLOSE_WAIT,
// and a listing taken after it shows the server's end in TIME_WAIT (it
// has had the client's FIN) and the client's end no more. The report is
// about the client's end, closed since, not about the server's end
// waiting on a peer that "never closes".
func TestLoopbackSidesPeerTimeWait(t *testing.T) {
	server := netip.MustParseAddrPort("127.0.0.1:8080")
	res := capture(t, func(c *capgen.Capture) {
		k := c.Conn(netip.MustParseAddrPort("127.0.0.1:40000"), server, capgen.ConnOptions{})
		k.Handshake()
		k.Data(capgen.FromClient, 100)
		k.Data(capgen.FromServer, 500)
		c.Wait(time.Second)
		k.FIN(capgen.FromServer)
		k.ACK(capgen.FromClient)
	}, "127.0.0.1/32")
	ss := "Fri Jan  2 03:05:40 UTC 2026\nState      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" +
		`TIME-WAIT  0      0      127.0.0.1:8080      127.0.0.1:40000` + "\n"
	m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Sockets) != 1 || m.Sockets[0].Key != "127.0.0.1:40000-127.0.0.1:8080" || m.Sockets[0].Status != StatusGoneLater {
		t.Fatalf("sockets %+v, want the client's end, gone later", m.Sockets)
	}
	if ev := m.Sockets[0].Evidence; len(ev) == 0 || ev[len(ev)-1].String() != "ss.txt:3" {
		t.Errorf("evidence %v, want the server's TIME-WAIT line last", ev)
	}
}
