package capgen_test

import (
	"cmp"
	"fmt"
	"net/netip"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// A server that never closes: the client's FIN is acknowledged, and the
// server stays in CLOSE_WAIT while keep-alives go by.
func ExampleConn() {
	c := capgen.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		capgen.Interface{Framing: capgen.Framing{VLANs: []uint16{42}}, SnapLen: 96})
	k := c.Conn(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:8080"), capgen.ConnOptions{})
	k.ISN(capgen.FromClient, 0xffffff00) // the FIN wraps around
	k.Handshake()
	k.Data(capgen.FromClient, 300)
	k.Data(capgen.FromServer, 1000)
	fin := k.FIN(capgen.FromClient)
	k.ACK(capgen.FromServer)
	k.Wait(75 * time.Second)
	k.KeepAlive(capgen.FromServer, 0)
	k.ACK(capgen.FromClient)

	for i, p := range c.Packets() {
		fmt.Printf("%d %s %v > %v seq=%08x ack=%08x flags=%#02x len=%d\n",
			i+1, p.Time.Format("15:04:05.000"), p.Src, p.Dst, p.Seg.Seq, p.Seg.Ack, uint8(p.Seg.Flags), p.Seg.Len)
	}
	data, err := c.Bytes(capgen.Format{Nanos: true})
	fmt.Println("FIN is packet", fin, "-", len(data), "bytes of pcap,", err)
	// Output:
	// 1 03:04:05.000 10.0.0.1:40000 > 10.0.0.2:8080 seq=ffffff00 ack=00000000 flags=0x02 len=0
	// 2 03:04:05.001 10.0.0.2:8080 > 10.0.0.1:40000 seq=6df709e3 ack=ffffff01 flags=0x12 len=0
	// 3 03:04:05.002 10.0.0.1:40000 > 10.0.0.2:8080 seq=ffffff01 ack=6df709e4 flags=0x10 len=0
	// 4 03:04:05.003 10.0.0.1:40000 > 10.0.0.2:8080 seq=ffffff01 ack=6df709e4 flags=0x18 len=300
	// 5 03:04:05.004 10.0.0.2:8080 > 10.0.0.1:40000 seq=6df709e4 ack=0000002d flags=0x18 len=1000
	// 6 03:04:05.005 10.0.0.1:40000 > 10.0.0.2:8080 seq=0000002d ack=6df70dcc flags=0x11 len=0
	// 7 03:04:05.006 10.0.0.2:8080 > 10.0.0.1:40000 seq=6df70dcc ack=0000002e flags=0x10 len=0
	// 8 03:05:20.007 10.0.0.2:8080 > 10.0.0.1:40000 seq=6df70dcb ack=0000002e flags=0x10 len=0
	// 9 03:05:20.008 10.0.0.1:40000 > 10.0.0.2:8080 seq=0000002e ack=6df70dcc flags=0x10 len=0
	// FIN is packet 6 - 866 bytes of pcap, <nil>
}

// Every scenario with the local (server) endpoint's expected state and
// CLOSE_WAIT verdict, here under QinQ over IPv6.
func ExampleScenarios() {
	o := capgen.Options{Interface: capgen.Interface{Framing: capgen.Framing{VLANs: []uint16{100, 42}}}, IPv6: true}
	for _, s := range capgen.Scenarios(o) {
		for _, e := range s.Conns {
			state, verdict := string(e.Server.State), string(e.Server.CloseWait)
			fmt.Printf("%-28s files=%d packets=%-3d server %-11s %s\n", s.Name, s.Capture.Files(), s.Capture.Len(), cmp.Or(state, "?"), cmp.Or(verdict, "-"))
		}
	}
	// Output:
	// close-wait-confirmed         files=1 packets=9   server CLOSE_WAIT  confirmed
	// one-way                      files=1 packets=5   server ?           unconfirmed
	// fin-unacked                  files=1 packets=8   server CLOSE_WAIT  unconfirmed
	// fin-retransmitted            files=1 packets=10  server CLOSE_WAIT  confirmed
	// fin-out-of-order             files=1 packets=10  server CLOSE_WAIT  confirmed
	// fin-with-data                files=1 packets=9   server CLOSE_WAIT  confirmed
	// fin-with-data-ack-data-only  files=1 packets=9   server CLOSE_WAIT  unconfirmed
	// keep-alive-close-wait        files=1 packets=15  server CLOSE_WAIT  confirmed
	// zero-window                  files=1 packets=13  server CLOSE_WAIT  confirmed
	// data-after-fin               files=1 packets=11  server CLOSE_WAIT  confirmed
	// port-reuse-after-close       files=1 packets=20  server CLOSED      -
	// port-reuse-after-close       files=1 packets=20  server CLOSE_WAIT  confirmed
	// port-reuse-after-rst         files=1 packets=17  server CLOSED      -
	// port-reuse-after-rst         files=1 packets=17  server CLOSE_WAIT  confirmed
	// mid-connection               files=1 packets=6   server CLOSE_WAIT  confirmed
	// snaplen-cut                  files=1 packets=11  server CLOSE_WAIT  confirmed
	// seq-wrap-fin                 files=1 packets=11  server CLOSE_WAIT  confirmed
	// seq-wrap-data                files=1 packets=9   server CLOSE_WAIT  confirmed
	// rst-after-fin                files=1 packets=10  server CLOSED      -
	// close-both                   files=1 packets=11  server CLOSED      -
	// close-simultaneous           files=1 packets=9   server CLOSING     -
	// local-closes-first           files=1 packets=9   server FIN_WAIT2   -
	// rotated-ack                  files=2 packets=9   server CLOSE_WAIT  confirmed
	// rotated-ack-first-file       files=1 packets=8   server CLOSE_WAIT  unconfirmed
	// split-by-direction           files=2 packets=9   server CLOSE_WAIT  confirmed
}
