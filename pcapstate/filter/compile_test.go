package filter

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/internal/measure"
)

// Frames for the evaluator tests, built by hand.

func ipv4(src, dst string, proto byte, l4 []byte) []byte {
	b := make([]byte, 20, 20+len(l4))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(l4)))
	b[8], b[9] = 64, proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	return append(b, l4...)
}

func ipv6(src, dst string, next byte, l4 []byte) []byte {
	b := make([]byte, 40, 40+len(l4))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(l4)))
	b[6], b[7] = next, 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, l4...)
}

func tcpHdr(sport, dport uint16, flags byte) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], 1000)
	b[12], b[13] = 0x50, flags
	return b
}

func udpHdr(sport, dport uint16) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], 8)
	return b
}

var (
	macA = []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
	macB = []byte{0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb}
)

func ether(et uint16, payload []byte) []byte {
	b := append(append(append([]byte{}, macB...), macA...), byte(et>>8), byte(et)) // dst B, src A
	return append(b, payload...)
}

func vlanFrame(id uint16, et uint16, payload []byte) []byte {
	return ether(0x8100, append([]byte{byte(id >> 8), byte(id), byte(et >> 8), byte(et)}, payload...))
}

func fragment(ip []byte) []byte {
	b := append([]byte{}, ip...)
	binary.BigEndian.PutUint16(b[6:], 0x0010) // offset 16*8
	return b
}

var (
	synV4    = ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, tcpHdr(40000, 80, 0x02)))
	finV4    = ether(0x0800, ipv4("10.0.0.2", "10.0.0.1", 6, tcpHdr(80, 40000, 0x11)))
	dnsV4    = ether(0x0800, ipv4("10.0.0.1", "192.168.1.53", 17, udpHdr(5353, 53)))
	synV6    = ether(0x86dd, ipv6("2001:db8::1", "2001:db8::2", 6, tcpHdr(40000, 443, 0x02)))
	fragV6   = ether(0x86dd, ipv6("2001:db8::1", "2001:db8::2", 44, append([]byte{6, 0, 0, 1, 0, 0, 0, 0}, tcpHdr(40000, 443, 0x02)...)))
	tagged   = vlanFrame(100, 0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, tcpHdr(40000, 80, 0x10)))
	fragV4   = ether(0x0800, fragment(ipv4("10.0.0.1", "10.0.0.2", 6, tcpHdr(40000, 80, 0x10))))
	arpReq   = ether(0x0806, append([]byte{0, 1, 8, 0, 6, 4, 0, 1}, append(append(append(append([]byte{}, macA...), 10, 0, 0, 1), make([]byte, 6)...), 10, 0, 0, 2)...))
	shortV4  = synV4[:14+20+10] // cut inside the TCP header: ports there, flags not
	optsV4   = ether(0x0800, append(append([]byte{0x46}, ipv4("10.0.0.1", "10.0.0.2", 6, nil)[1:20]...), append([]byte{1, 1, 1, 1}, tcpHdr(1234, 22, 0x18)...)...))
	rawSynV4 = synV4[14:]
)

// evalTests: expression, frame, link type, want.
var evalTests = []struct {
	expr  string
	frame []byte
	link  uint32
	want  bool
}{
	{"tcp", synV4, 1, true},
	{"tcp", dnsV4, 1, false},
	{"udp", dnsV4, 1, true},
	{"ip", synV6, 1, false},
	{"ip6 and tcp", synV6, 1, true},
	{"tcp", fragV6, 1, true}, // a fragment header right after the IPv6 header
	{"ip6 proto 6", fragV6, 1, true},
	{"port 443", fragV6, 1, false}, // ports only right after the IPv6 header
	{"tcp port 80", synV4, 1, true},
	{"tcp port 80", finV4, 1, true},
	{"udp port 80", synV4, 1, false},
	{"src port 80", synV4, 1, false},
	{"dst port 80", synV4, 1, true},
	{"src and dst port 80", synV4, 1, false},
	{"port 53", dnsV4, 1, true},
	{"port 443", synV6, 1, true},
	{"portrange 1-1023", synV4, 1, true},
	{"src portrange 1-1023", synV4, 1, false},
	{"portrange 40000-40010", synV6, 1, true},
	{"port 80", fragV4, 1, false}, // a later fragment has no ports
	{"tcp", fragV4, 1, true},
	{"host 10.0.0.2", synV4, 1, true},
	{"src host 10.0.0.2", synV4, 1, false},
	{"dst host 10.0.0.2", synV4, 1, true},
	{"host 10.0.0.9", synV4, 1, false},
	{"host 10.0.0.2", arpReq, 1, true}, // host matches ARP too
	{"ip host 10.0.0.2", arpReq, 1, false},
	{"arp host 10.0.0.1", arpReq, 1, true},
	{"arp", arpReq, 1, true},
	{"net 10.0.0.0/8", synV4, 1, true},
	{"net 192.168.0.0/16", dnsV4, 1, true},
	{"src net 192.168.0.0/16", dnsV4, 1, false},
	{"net 10.0.0.0 mask 255.255.255.254", synV4, 1, true},
	{"net 10", synV4, 1, true},
	{"host 2001:db8::2", synV6, 1, true},
	{"net 2001:db8::/32", synV6, 1, true},
	{"net 2001:db9::/32", synV6, 1, false},
	{"host 2001:db8::2", synV4, 1, false},
	{"ether src 00:11:22:33:44:55", synV4, 1, true},
	{"ether dst 00:11:22:33:44:55", synV4, 1, false},
	{"ether host 66:77:88:99:aa:bb", synV4, 1, true},
	{"tcp[tcpflags] & tcp-syn != 0", synV4, 1, true},
	{"tcp[tcpflags] & (tcp-fin|tcp-rst) != 0", synV4, 1, false},
	{"tcp[tcpflags] & (tcp-fin|tcp-rst) != 0", finV4, 1, true},
	{"tcp[13] & 2 != 0", synV4, 1, true},
	{"tcp[13] = 0x18", optsV4, 1, true}, // after 24 bytes of IPv4 header
	{"tcp[2:2] = 22", optsV4, 1, true},
	{"ip[0] & 0xf != 5", optsV4, 1, true},
	{"ip[0] & 0xf != 5", synV4, 1, false},
	{"tcp[13] & 2 != 0", synV6, 1, false}, // tcp[] is IPv4 only, as in libpcap
	{"ip6[6] = 6", synV6, 1, true},
	{"ip[9] = 17", dnsV4, 1, true},
	{"udp[2:2] = 53", dnsV4, 1, true},
	{"ether[12:2] = 0x800", synV4, 1, true},
	{"len = 54", synV4, 1, true},
	{"less 54 and greater 54", synV4, 1, true},
	{"less 53", synV4, 1, false},
	{"tcp[13] + 1 = 3", synV4, 1, true},
	{"tcp[13] * 8 / 4 - 1 = 3", synV4, 1, true},
	{"tcp[13] % 2 = 0", synV4, 1, true},
	{"tcp[13] ^ 3 = 1", synV4, 1, true},
	{"tcp[13] << 3 >> 4 = 1", synV4, 1, true},
	{"-tcp[13] = 0xfffffffe", synV4, 1, true},
	{"tcp[13] / (tcp[13] - 2) = 1", synV4, 1, false}, // division by zero rejects
	{"not tcp[13] / (tcp[13] - 2) = 1", synV4, 1, false},
	{"tcp[13] = 2", shortV4, 1, false},     // the flags were not captured
	{"not tcp[13] = 2", shortV4, 1, false}, // ...so neither test matches
	{"tcp port 80", shortV4, 1, true},      // the ports were
	{"tcp or tcp[100] = 1", synV4, 1, true},
	{"tcp[100] = 1 or udp", synV4, 1, false}, // the load past the end rejects first
	{"vlan", tagged, 1, true},
	{"vlan 100", tagged, 1, true},
	{"vlan 101", tagged, 1, false},
	{"vlan and tcp port 80", tagged, 1, true},
	{"tcp port 80", tagged, 1, false}, // untagged offsets
	{"vlan and host 10.0.0.2", tagged, 1, true},
	{"vlan or tcp", synV4, 1, false}, // vlan shifts the offsets of tcp too
	{"tcp or vlan", synV4, 1, true},
	{"not vlan and tcp", synV4, 1, false},
	{"ip", rawSynV4, 101, true},
	{"tcp dst port 80 and host 10.0.0.1", rawSynV4, 101, true},
	{"ip6", rawSynV4, 101, false},
	{"ip", rawSynV4, 228, true},
	{"ip6", rawSynV4, 228, false},
	{"tcp", append([]byte{2, 0, 0, 0}, rawSynV4...), 0, true},
	{"tcp", append([]byte{0, 0, 0, 2}, rawSynV4...), 0, true},
	{"tcp", append([]byte{0, 0, 0, 2}, rawSynV4...), 108, true},
	{"ip6", append([]byte{0, 0, 0, 30}, synV6[14:]...), 108, true},
	{"tcp port 80", append([]byte{0xff, 3, 0, 0x21}, rawSynV4...), 9, true},
	{"ip6", append([]byte{0xff, 3, 0, 0x21}, rawSynV4...), 9, false},
	{"tcp port 80", append([]byte{0x0f, 0, 8, 0}, rawSynV4...), 104, true},
	{"tcp[tcpflags] & tcp-fin != 0 and src port 80", sll2(finV4), 276, true},
	{"tcp[tcpflags] & tcp-fin != 0 and src port 80", sll(finV4), 113, true},
	{"tcp[tcpflags] & tcp-fin != 0 and src port 80", sll(synV4), 113, false},
}

// sll and sll2 rewrite an Ethernet frame as Linux cooked v1 and v2.
func sll(eth []byte) []byte {
	h := []byte{0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, eth[12], eth[13]}
	copy(h[6:], eth[6:12])
	return append(h, eth[14:]...)
}

func sll2(eth []byte) []byte {
	h := []byte{eth[12], eth[13], 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0}
	copy(h[12:], eth[6:12])
	return append(h, eth[14:]...)
}

func TestMatch(t *testing.T) {
	for _, tt := range evalTests {
		e, err := Parse(tt.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		p, err := e.Compile(tt.link)
		if err != nil {
			t.Errorf("Compile(%q, %d): %v", tt.expr, tt.link, err)
			continue
		}
		if got := p.Match(tt.frame, len(tt.frame)); got != tt.want {
			t.Errorf("%q on link type %d frame % x: %v, want %v", tt.expr, tt.link, tt.frame, got, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		expr        string
		link        uint32
		want        string
		unsupported bool
	}{
		{"vlan", 113, "vlan is not supported on link type LINUX_SLL", false},
		{"ether host 00:11:22:33:44:55", 276, "ether host is not supported on link type LINUX_SLL2", false},
		{"tcp", 147, "link type 147 is not supported by the pure-Go filter", true},
	}
	for _, tt := range tests {
		e, err := Parse(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Compile(tt.link)
		if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, ErrUnsupported) != tt.unsupported {
			t.Errorf("Compile(%q, %d): %v, want %q (unsupported %v)", tt.expr, tt.link, err, tt.want, tt.unsupported)
		}
	}
	// An empty expression matches everything, on any known link type.
	e, _ := Parse("")
	if p, err := e.Compile(1); err != nil || !p.Match(nil, 0) {
		t.Errorf("empty expression: %v", err)
	}
}

// BenchmarkMatch matches a typical filter against a mix of frames,
// reporting packets/s.
func BenchmarkMatch(b *testing.B) {
	frames := [][]byte{synV4, finV4, dnsV4, synV6, tagged, optsV4}
	for _, expr := range []string{
		"tcp port 80",
		"tcp[tcpflags] & (tcp-fin|tcp-rst) != 0 and src port 80",
		"host 10.0.0.2 and (port 80 or port 443) and not net 192.168.0.0/16",
	} {
		e, err := Parse(expr)
		if err != nil {
			b.Fatal(err)
		}
		p, err := e.Compile(1)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(expr, func(b *testing.B) {
			n, matched := 0, 0
			cpu0 := measure.CPUTime()
			for b.Loop() {
				for _, f := range frames {
					if p.Match(f, len(f)) {
						matched++
					}
				}
				n += len(frames)
			}
			if matched == 0 {
				b.Fatal("nothing matched")
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
			// CPU time: on a shared machine wall time counts the waits.
			b.ReportMetric(float64(n)/(measure.CPUTime()-cpu0).Seconds(), "packets/cpu-s")
		})
	}
}
