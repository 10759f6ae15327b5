//go:build pcap

package pcapstate

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/pcapstate/filter"
)

// diffExprs are the expressions TestFilterDiff runs through both filters:
// every primitive of the pure-Go subset and combinations of them, with
// addresses and ports that occur in the captures.
var diffExprs = []string{
	"tcp", "udp", "ip", "ip6", "arp", "icmp", "icmp6", "sctp", "igmp", "esp", "ah",
	"not tcp", "tcp or udp", "!ip && !ip6", "ip and not tcp",
	"port 80", "tcp port 80", "udp port 53", "port 22", "tcp port 22 or tcp port 21",
	"src port 80", "dst port 80", "tcp src port 22", "tcp dst port 110",
	"src or dst port 80", "src and dst port 80", "port 80 or 443", "tcp port 80 or 22 or 21",
	"portrange 1-1023", "tcp portrange 1024-65535", "src portrange 20-25", "udp portrange 1000-3000",
	"port 2152", "udp port 3544", "port 18083", "port 8080",
	"host 192.150.187.43", "src host 141.142.228.5", "dst host 192.150.187.43",
	"host 127.0.0.1", "ip host 127.0.0.1", "arp host 127.0.0.1", "src and dst host 127.0.0.1",
	"host 192.168.1.1 or 10.0.0.1", "not host 127.0.0.1",
	"net 192.150.187.0/24", "net 10.0.0.0/8", "src net 127.0.0.0/8", "net 192.168.0.0 mask 255.255.0.0",
	"net 141.142", "net 127", "dst net 10.0.0.0 mask 255.0.255.0",
	"host ::1", "ip6 host ::1", "net 2001::/32", "src net fe80::/10", "dst net 2001:db8::/32",
	"host 2001:470:4867:99::21", "src host 2001:470:4867:99::21 and tcp port 21", "net 2001:470::/32", "net ::/0",
	"proto 6", "ip proto 17", "ip6 proto 6", "ip proto \\tcp", "ip6 proto 58", "proto 47",
	"vlan", "vlan 100", "vlan and tcp", "vlan and vlan and ip", "tcp or vlan", "vlan 2 and tcp port 80",
	"not vlan", "vlan or ip",
	"tcp[tcpflags] & tcp-fin != 0", "tcp[tcpflags] & (tcp-fin|tcp-rst) != 0",
	"tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack = 0", "tcp[13] & 2 != 0",
	"tcp[13] = 0x18", "tcp[tcpflags] == tcp-push|tcp-ack", "tcp[tcpflags] & tcp-rst != 0 or tcp[13] & 1 = 1",
	"tcp[tcpflags] & tcp-fin != 0 and src port 18083", "tcp[0:2] = 80 or tcp[2:2] = 80",
	"tcp[4:4] > 1000000", "tcp[12] >> 4 > 5", "tcp[((tcp[12] & 0xf0) >> 2)] = 0x47",
	"ip[0] & 0xf != 5", "ip[2:2] > 576", "ip[6:2] & 0x1fff != 0", "ip[8] < 64", "ip[9] = 6",
	"ip[0] & 0xf0 = 0x40", "ip6[6] = 6", "ip6[4:2] > 100", "udp[0:2] = 53 or udp[2:2] = 53",
	"udp[4:2] - 8 > 100", "icmp[icmptype] = icmp-echo", "icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply",
	"icmp6[icmp6type] = icmp6-neighborsolicit", "ether[12:2] = 0x0800", "ether[0] & 1 != 0", "link[12:2] = 0x86dd",
	"arp[6:2] = 1", "len > 100", "len <= 60", "less 64", "greater 1000", "len - 14 > 1400",
	"tcp[13] * 2 + 1 > 3", "tcp[13] / 2 = 8", "tcp[13] % 3 = 1", "tcp[13] ^ 0x10 = 0", "-tcp[13] < 5",
	"tcp[13] << 1 > 32", "tcp[100] = 1", "not tcp[100] = 1", "ip[0] + tcp[0] > 0", "tcp[0] + 1 = ip[9]",
	"ether host c8:bc:c8:96:d2:a0", "ether src c8:bc:c8:96:d2:a0", "ether dst 00:10:db:88:d2:ef",
	"ether src 00:10:db:88:d2:ef and tcp", "ether host 00-30-96-05-28-38", "ether host 0030.9605.2838",
	"tcp and (port 80 or port 22) and not host 10.0.0.1",
	"(tcp port 80 or udp port 53) and net 192.150.187.0/24",
	"tcp port 80 and (tcp[tcpflags] & (tcp-syn|tcp-fin) != 0)",
	"host 141.142.228.5 and not (port 80 or port 443)",
	"ip and tcp[tcpflags] & tcp-rst != 0 or udp", "not (tcp or udp) and ip",
	"src host 127.0.0.1 and dst port 18083 and tcp[13] & 1 != 0",
	"tcp port (80 or 22)", "port 80 and not 22", "host 127.0.0.1 and (1 = 1)",
}

// comboParts are combined pairwise, with and, or and not, into more
// expressions for TestFilterDiff.
var comboParts = []string{
	"tcp", "udp port 53", "host 127.0.0.1", "net 192.168.0.0/16", "tcp[tcpflags] & tcp-fin != 0",
	"vlan", "ip6", "portrange 20-80", "len > 100",
}

func diffExpressions() []string {
	exprs := slices.Clone(diffExprs)
	for _, a := range comboParts {
		for _, b := range comboParts {
			if a != b {
				exprs = append(exprs, a+" and not "+b, "("+a+" or "+b+") and tcp")
			}
		}
	}
	return exprs
}

// linkRelative reports whether an expression reads the link-layer header
// or the frame length: the libpcap binding sees an SLL2 frame rewritten as
// SLL, 4 bytes shorter, so those differ there by construction.
func linkRelative(expr string) bool {
	for _, w := range []string{"len", "less", "greater", "ether", "link["} {
		if strings.Contains(expr, w) {
			return true
		}
	}
	return false
}

func diffCaptures(t *testing.T) []string {
	var files []string
	for _, pat := range []string{"../testdata/conformance/zeek/traces/*", "../testdata/cases/*/capture.pcap*", "testdata/decode/*.pcap"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 30 {
		t.Fatalf("found only %d captures", len(files))
	}
	return files
}

func readPackets(t *testing.T, path string) []record {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, err := openCapture(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var recs []record
	for {
		var rec record
		if err := pr.next(&rec); err != nil {
			break
		}
		rec.data = slices.Clone(rec.data)
		recs = append(recs, rec)
	}
	return recs
}

// reencapsulate makes frames of other link types from the untagged IPv4
// and IPv6 Ethernet frames of a capture: the repository has no raw IP,
// BSD loopback, PPP or Cisco HDLC captures, and the network layer is what
// the filters read.
func reencapsulate(recs []record) map[string][]record {
	type variant struct {
		name string
		link uint32
		head func(v6 bool) []byte
	}
	af := func(v6 bool, le bool) []byte {
		n := uint32(2)
		if v6 {
			n = 30
		}
		if le {
			return []byte{byte(n), 0, 0, 0}
		}
		return []byte{0, 0, 0, byte(n)}
	}
	variants := []variant{
		{"RAW", 101, func(bool) []byte { return nil }},
		// BSD loopback frames of IPv4 only, in this host's byte order:
		// libpcap 1.10 compares the address family with the reading
		// host's AF_INET6 (10 on Linux, which no BSD writes) and in the
		// reading host's byte order when it compiles without a file, as
		// here. The pure-Go filter takes libpcap 1.11's rule, either
		// byte order and any BSD's AF_INET6, as the decoder does.
		{"NULL", 0, func(v6 bool) []byte { return af(v6, true) }},
		{"LOOP", 108, func(v6 bool) []byte { return af(v6, false) }},
		{"PPP", 9, func(v6 bool) []byte {
			if v6 {
				return []byte{0xff, 0x03, 0x00, 0x57}
			}
			return []byte{0xff, 0x03, 0x00, 0x21}
		}},
		{"C_HDLC", 104, func(v6 bool) []byte {
			if v6 {
				return []byte{0x0f, 0x00, 0x86, 0xdd}
			}
			return []byte{0x0f, 0x00, 0x08, 0x00}
		}},
		{"IPV4", 228, nil},
		{"IPV6", 229, nil},
	}
	out := map[string][]record{}
	for _, rec := range recs {
		if rec.rawLink != 1 || len(rec.data) < 15 {
			continue
		}
		et := be16(rec.data[12:])
		if et != etherIPv4 && et != etherIPv6 {
			continue
		}
		v6 := et == etherIPv6
		for _, v := range variants {
			var head []byte
			switch {
			case v.link == 228 && v6, v.link == 229 && !v6, (v.link == 0 || v.link == 108) && v6:
				continue
			case v.head != nil:
				head = v.head(v6)
			}
			r := rec
			r.data = append(slices.Clone(head), rec.data[14:]...)
			r.origLen = rec.origLen - 14 + len(head)
			r.rawLink = v.link
			out[v.name] = append(out[v.name], r)
		}
	}
	return out
}

// TestFilterDiff holds the pure-Go filter to libpcap's answers, packet by
// packet, on every capture in the repository.
func TestFilterDiff(t *testing.T) {
	files := diffCaptures(t)
	captures := map[string][]record{}
	for _, path := range files {
		captures[path] = readPackets(t, path)
		if strings.HasSuffix(path, "http_get.pcap") || strings.HasSuffix(path, "ftp_ipv6.pcap") || strings.HasSuffix(path, "tcp_retransmit-fast009.pcap") {
			for name, recs := range reencapsulate(captures[path]) {
				p := path + " as " + name
				files = append(files, p)
				captures[p] = recs
			}
		}
	}
	compared := 0
	exprs := diffExpressions()
	for _, expr := range exprs {
		t.Run(expr, func(t *testing.T) {
			g, err := newGoFilter(expr)
			if err != nil {
				t.Fatalf("pure Go: %v", err)
			}
			b, err := newBPFFilter(expr)
			never := err != nil && strings.Contains(err.Error(), "expression rejects all packets")
			if err != nil && !never {
				t.Fatalf("libpcap: %v", err)
			}
			matched := 0
			for _, path := range files {
				mismatches := 0
				for i := range captures[path] {
					rec := &captures[path][i]
					if rec.rawLink == rawLinkSLL2 && linkRelative(expr) {
						continue
					}
					var want bool
					var werr error
					if !never {
						want, werr = b.match(rec)
					}
					got, gerr := g.match(rec)
					if werr != nil && strings.Contains(werr.Error(), "expression rejects all packets") {
						// libpcap refuses a filter that can never match
						// on a link type (ip6 on raw IPv4); the pure-Go
						// filter compiles it and matches nothing.
						want, werr = false, nil
					}
					if (werr != nil) != (gerr != nil) {
						if gerr != nil && errors.Is(gerr, filter.ErrUnsupported) {
							continue // a link type only libpcap knows
						}
						t.Fatalf("%s: packet %d (%s): libpcap error %v, pure-Go error %v", path, i+1, linkName(rec.rawLink), werr, gerr)
					}
					if werr != nil {
						break // neither compiles for this link type
					}
					compared++
					if want {
						matched++
					}
					if got != want {
						mismatches++
						if mismatches <= 3 {
							t.Errorf("%s: packet %d (%s, %d bytes): libpcap %v, pure Go %v", path, i+1, linkName(rec.rawLink), len(rec.data), want, got)
						}
					}
				}
				if mismatches > 3 {
					t.Errorf("%s: %d mismatches in all", path, mismatches)
				}
			}
			t.Logf("%d packets match", matched)
		})
	}
	t.Logf("%d expressions, %d captures, %d packet comparisons", len(exprs), len(files), compared)
}

// TestFilterFallback checks which filter the libpcap build picks: the
// pure-Go one for its subset, libpcap for the rest of the language and for
// link types only libpcap knows.
func TestFilterFallback(t *testing.T) {
	m, err := newFilter("tcp port 80")
	if _, ok := m.(*goFilter); err != nil || !ok {
		t.Fatalf("tcp port 80: %T, %v; want the pure-Go filter", m, err)
	}
	m, err = newFilter("mpls and tcp")
	if _, ok := m.(*bpfFilter); err != nil || !ok {
		t.Fatalf("mpls and tcp: %T, %v; want libpcap", m, err)
	}
	if _, err = newFilter("tcp port"); err == nil {
		t.Fatal("tcp port: no error")
	}
	// DLT_IEEE802_11 (105): libpcap knows where its LLC header is.
	g, _ := newGoFilter("ip")
	g.fallback = func() (matcher, error) { return newBPFFilter("ip") }
	frame := make([]byte, 24+8+20)
	frame[0] = 0x08                                                 // data frame
	copy(frame[24:], []byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}) // LLC/SNAP, IPv4
	frame[32] = 0x45
	ok, err := g.match(&record{data: frame, origLen: len(frame), rawLink: 105})
	if err != nil || !ok {
		t.Fatalf("802.11 frame through the fallback: %v, %v", ok, err)
	}
}
