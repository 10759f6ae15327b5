package report

import (
	"fmt"
	"maps"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// TestGroupsByUpgrade: a server's sockets whose peers sent the last data
// are two paths when 3 of them were WebSockets upgraded by a 101 (the
// peer's frames last) and 4 plain requests never answered: two groups,
// not one that says each was a request never answered.
func TestGroupsByUpgrade(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.5:8080")
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	res := capture(t, func(c *capgen.Capture) {
		for i := range 7 {
			client := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), uint16(50000+i))
			k := c.Conn(client, server, capgen.ConnOptions{})
			k.Handshake()
			if i < 3 {
				k.Message(capgen.FromClient, "GET /hub HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 200)
				k.Message(capgen.FromServer, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 130)
				k.Data(capgen.FromClient, 40) // a frame
			} else {
				k.Message(capgen.FromClient, "GET /v1/rates HTTP/1.1\r\nHost: rates\r\n\r\n", 120)
			}
			k.ACK(capgen.FromServer)
			c.Wait(time.Second)
			k.FIN(capgen.FromClient)
			k.ACK(capgen.FromServer)
			ss += fmt.Sprintf("CLOSE-WAIT 1      0      %s      %s   users:((\"node\",pid=700,fd=%d))\n", server, client, 30+i)
		}
		c.Wait(10 * time.Second)
	}, "10.0.0.5/32")
	m, err := Build(BuildInput{Capture: res, Evidence: []*dumps.Evidence{readEv(t, "ss.txt", ss)}})
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]int{}
	for _, f := range m.Findings {
		if f.Process.PID == 700 && f.LastExchange == LastTheirs {
			switch {
			case strings.Contains(f.Group, "after an upgrade (101)"):
				groups["upgraded"] += len(f.Sockets)
			case strings.Contains(f.Group, "a request (GET ×4) never answered"):
				groups["unanswered"] += len(f.Sockets)
			default:
				groups[f.Group] += len(f.Sockets)
			}
		}
	}
	if want := map[string]int{"upgraded": 3, "unanswered": 4}; !maps.Equal(groups, want) {
		t.Errorf("groups by last exchange %v, want %v", groups, want)
	}
}
