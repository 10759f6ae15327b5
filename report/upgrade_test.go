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
// are three paths when 3 of them were WebSockets upgraded by a 101 (the
// peer's frames last), 2 were tunnels a 200 to CONNECT opened (the
// client's request relayed through them last, which looks like HTTP but
// is not the proxy's) and 4 plain requests never answered: three groups,
// not one that says each was a request never answered, and each group
// says how its connections left HTTP/1.x in its name, in its JSON
// (Finding.Upgrade) and in the verdict's list of the process's groups.
func TestGroupsByUpgrade(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.5:8080")
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	res := capture(t, func(c *capgen.Capture) {
		for i := range 9 {
			client := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), uint16(50000+i))
			k := c.Conn(client, server, capgen.ConnOptions{})
			k.Handshake()
			switch {
			case i < 3:
				k.Message(capgen.FromClient, "GET /hub HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 200)
				k.Message(capgen.FromServer, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 130)
				k.Data(capgen.FromClient, 40) // a frame
			case i < 5:
				k.Message(capgen.FromClient, "CONNECT api.example.com:80 HTTP/1.1\r\nHost: api.example.com:80\r\n\r\n", 70)
				k.Message(capgen.FromServer, "HTTP/1.1 200 Connection established\r\n\r\n", 39)
				k.Message(capgen.FromClient, "GET /v1/rates HTTP/1.1\r\nHost: api.example.com\r\n\r\n", 120) // for the origin
			default:
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
			case strings.Contains(f.Group, "after an upgrade (101)") && f.Upgrade == UpgradeSwitching:
				groups["upgraded"] += len(f.Sockets)
			case strings.Contains(f.Group, "through a CONNECT tunnel") && f.Upgrade == UpgradeConnect:
				groups["tunnel"] += len(f.Sockets)
			case strings.Contains(f.Group, "a request (GET ×4) never answered") && f.Upgrade == UpgradeNone:
				groups["unanswered"] += len(f.Sockets)
			default:
				groups[fmt.Sprintf("%s (upgrade %s)", f.Group, f.Upgrade)] += len(f.Sockets)
			}
		}
	}
	if want := map[string]int{"upgraded": 3, "tunnel": 2, "unanswered": 4}; !maps.Equal(groups, want) {
		t.Errorf("groups by last exchange %v, want %v", groups, want)
	}
	for _, want := range []string{
		"4 referenced by no running code, last data before the peer's FIN from the peer (missing-close)",
		"3 referenced by no running code, last data before the peer's FIN from the peer, after an upgrade (101) (missing-close)",
		"2 referenced by no running code, last data before the peer's FIN from the peer, through a CONNECT tunnel (missing-close)",
	} {
		if !strings.Contains(m.Verdict.Text, want) {
			t.Errorf("the verdict %q does not list %q", m.Verdict.Text, want)
		}
	}
}
