//go:build pcap

package filter

import (
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
)

// TestMatchLibpcap checks the expectations of TestMatch against libpcap:
// the hand-made frames get the same answers from it.
func TestMatchLibpcap(t *testing.T) {
	for _, tt := range evalTests {
		lt := tt.link
		switch lt {
		case 276:
			continue // the binding takes 8-bit link types
		case 101:
			lt = 12 // LINKTYPE_RAW is DLT_RAW
		}
		if tt.link == 0 && tt.frame[0] == 0 || tt.link == 108 && tt.frame[3] == 30 {
			// BSD loopback: libpcap 1.10, compiling without a file,
			// takes the address family in this host's byte order and
			// AF_INET6 as this host's (10 on Linux); the pure-Go filter
			// follows libpcap 1.11 (either order, any BSD's AF_INET6).
			continue
		}
		bpf, err := pcap.NewBPF(layers.LinkType(lt), 65535, tt.expr)
		if err != nil && strings.Contains(err.Error(), "rejects all packets") && !tt.want {
			continue // libpcap refuses a filter that never matches
		}
		if err != nil {
			t.Errorf("libpcap: %q on link type %d: %v", tt.expr, tt.link, err)
			continue
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, 0), CaptureLength: len(tt.frame), Length: len(tt.frame)}
		if got := bpf.Matches(ci, tt.frame); got != tt.want {
			t.Errorf("libpcap: %q on link type %d: %v, TestMatch wants %v", tt.expr, tt.link, got, tt.want)
		}
	}
}
