package pcapstate

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decEncapCaptures lists the captures of the encapsulations: made on
// Linux by testdata/encap/make-captures.sh, and public ones from
// tcpdump's tests in testdata/public.
func decEncapCaptures(tb testing.TB) []string {
	tb.Helper()
	var paths []string
	for _, dir := range []string{"testdata/encap", "testdata/public"} {
		p, err := filepath.Glob(filepath.Join(dir, "*.pcap"))
		if err != nil || len(p) == 0 {
			tb.Fatalf("no captures in %s: %v", dir, err)
		}
		paths = append(paths, p...)
	}
	sort.Strings(paths)
	return paths
}

// decTunnelOf is the outermost tunnel in a tshark protocol chain.
func decTunnelOf(protos []string) Tunnel {
	for i, p := range protos {
		switch p {
		case "gre":
			if i+1 < len(protos) && protos[i+1] == "erspan" {
				return TunnelERSPAN
			}
			return TunnelGRE
		case "vxlan":
			return TunnelVXLAN
		case "geneve":
			return TunnelGeneve
		case "ip", "ipv6":
			if i+1 < len(protos) && (protos[i+1] == "ip" || protos[i+1] == "ipv6") {
				return TunnelIPinIP
			}
		}
	}
	return TunnelNone
}

// decSkipOf is the skip kind a tshark protocol chain without TCP calls
// for, when the chain says.
func decSkipOf(protos []string) (Skip, bool) {
	for i := len(protos) - 1; i >= 0; i-- {
		switch protos[i] {
		case "icmp":
			return SkipICMP, true
		case "icmpv6":
			return SkipICMPv6, true
		case "arp":
			return SkipARP, true
		case "udp":
			return SkipUDP, true
		case "ospf":
			return SkipOtherIPProtocol, true
		case "llc", "lldp", "slarp", "loop":
			return SkipOtherEtherType, true
		case "gre":
			if i == len(protos)-1 {
				return SkipTunnelControl, true // keepalive
			}
		}
	}
	return 0, false
}

// lastField is the innermost of the comma-separated values tshark gives
// for a field found in several layers.
func lastField(s string) string {
	if i := strings.LastIndexByte(s, ','); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestDecodeEncapCaptures compares the decoder with tshark on every frame
// of the captures of GRE (plain, keyed, sequenced, with checksum; over IPv4
// and IPv6; WCCP, Cisco MetaData), ERSPAN types I, II and III, VXLAN (4789
// and 8472; over IPv4 and IPv6; GSO), Geneve (Ethernet and IP payloads,
// options, GSO), IP in IP (4in4, 6in4, 4in6, 6in6), PPP, PPP in HDLC
// framing, Cisco HDLC, NFLOG, IP over InfiniBand, PBB, VN-Tag and IPv4
// fragments: a frame tshark reads TCP in gives the same addresses (the
// innermost), ports, seq, ack, flags, window and payload length, in the
// outermost tunnel tshark names; a first fragment, whose length tshark
// leaves out, is marked Fragment; any other frame gives no segment, and
// the skip kind tshark's protocol chain calls for. The .tshark.tsv files are
// tshark 4.0's reading, with IP reassembly off.
func TestDecodeEncapCaptures(t *testing.T) {
	var d Decoder
	kinds := map[string]bool{}
	sameGopacket, noGopacket := map[Tunnel]int{}, map[Tunnel]int{}
	for _, path := range decEncapCaptures(t) {
		name := filepath.Base(path)
		if strings.HasPrefix(name, "bigtcp-") {
			continue // tshark 4.0 cannot read BIG TCP: TestDecodeBigTCP
		}
		frames := decReadFrames(t, path)
		rows := decTsharkRows(t, path)
		if len(rows) != len(frames) {
			t.Fatalf("%s: %d frames, %d tshark rows", name, len(frames), len(rows))
		}
		segments, frags, outerFrags, skipped := 0, 0, 0, map[Skip]int{}
		for i, c := range rows {
			var seg Segment
			got := d.Decode(frames[i].link, frames[i].data, &seg)
			pos := fmt.Sprintf("%s: packet %d (%s)", name, i+1, c[1])
			protos := strings.Split(c[1], ":")
			if !slices.Contains(protos, "tcp") {
				skipped[got]++
				want, ok := decSkipOf(protos)
				if protos[0] == "user_dlt" { // a link type private to a site
					want, ok = SkipUnsupportedLink, true
				}
				switch {
				case got == SkipNone:
					t.Errorf("%s: a segment %+v, tshark finds no TCP", pos, seg)
				case ok && got != want:
					t.Errorf("%s: %v, want %v", pos, got, want)
				}
				continue
			}
			if got != SkipNone {
				t.Errorf("%s: %v, want a segment", pos, got)
				continue
			}
			segments++
			src, dst := lastField(c[2]), lastField(c[4])
			if ip := slices.Index(protos, "tcp") - 1; protos[ip] == "ipv6" {
				src, dst = lastField(c[3]), lastField(c[5])
			}
			flags, err := strconv.ParseUint(strings.TrimPrefix(c[10], "0x"), 16, 16)
			if err != nil {
				t.Fatalf("%s: flags %q: %v", pos, c[10], err)
			}
			payload := c[12]
			if n, err := strconv.Atoi(payload); err == nil && seg.Tunnel != TunnelNone && uint32(n) < seg.Payload && decOuterFragment(frames[i]) {
				// A tunnel in the first fragment of its outer datagram:
				// tshark counts what the fragment holds, the inner IP
				// length says more.
				outerFrags++
				payload = strconv.Itoa(int(seg.Payload))
			}
			if payload == "" { // a first fragment: tshark does not say
				if !seg.Fragment {
					t.Errorf("%s: not marked as a fragment", pos)
				}
				frags++
				payload = strconv.Itoa(int(seg.Payload))
			}
			want := fmt.Sprintf("%s %s %s %s %s %s %d %s %s %v", src, dst, c[6], c[7], c[8], c[9], flags&0xff, c[11], payload, decTunnelOf(protos))
			have := fmt.Sprintf("%v %v %d %d %d %d %d %d %d %v", seg.Src, seg.Dst, seg.SrcPort, seg.DstPort, seg.Seq, seg.Ack, seg.Flags, seg.Window, seg.Payload, seg.Tunnel)
			if have != want {
				t.Errorf("%s:\n got %s\nwant %s (tshark)", pos, have, want)
			}
			// gopacket's full decoder, where it reaches the TCP.
			ref, _, ok := decReference(frames[i])
			if !ok {
				noGopacket[seg.Tunnel]++
				continue
			}
			ref.HeaderCut, ref.Tunnel, ref.Fragment = seg.HeaderCut, seg.Tunnel, seg.Fragment
			if outerFrags > 0 && ref.Payload != seg.Payload && decOuterFragment(frames[i]) {
				ref.Payload = seg.Payload // gopacket, too, counts what the fragment holds
			}
			if diff := cmp.Diff(ref, seg, decSegCmp); diff != "" {
				t.Errorf("%s (-gopacket +ours):\n%s", pos, diff)
				continue
			}
			sameGopacket[seg.Tunnel]++
		}
		for k := range skipped {
			kinds[k.String()] = true
		}
		t.Logf("%s: %d segments (%d first fragments, %d tunnelled in an outer first fragment), skipped %v", name, segments, frags, outerFrags, skipped)
	}
	t.Logf("segments identical to gopacket's, by tunnel: %v; gopacket finds no TCP: %v", sameGopacket, noGopacket)
	for _, tun := range []Tunnel{TunnelNone, TunnelGRE, TunnelVXLAN, TunnelGeneve, TunnelIPinIP} {
		if sameGopacket[tun] == 0 {
			t.Errorf("no %v segment compared with gopacket's", tun)
		}
	}
	// The captures must keep covering the non-TCP kinds inside tunnels.
	for _, k := range []string{"icmp", "arp", "udp", "tunnel-control", "other-ethertype", "ip-fragment"} {
		if !kinds[k] {
			t.Errorf("no frame of kind %s left in the captures", k)
		}
	}
}

// decTsharkRows reads the .tshark.tsv next to a capture, less its header.
func decTsharkRows(tb testing.TB, path string) [][]string {
	tb.Helper()
	tsv, err := os.ReadFile(strings.TrimSuffix(path, ".pcap") + ".tshark.tsv")
	if err != nil {
		tb.Fatal(err)
	}
	var rows [][]string
	for i, row := range strings.Split(strings.TrimSuffix(string(tsv), "\n"), "\n")[1:] {
		c := strings.Split(row, "\t")
		if len(c) != 13 {
			tb.Fatalf("%s: tshark row %d has %d columns", path, i+1, len(c))
		}
		rows = append(rows, c)
	}
	return rows
}

// TestDecodeBigTCP decodes tcpdump's BIG TCP captures of VXLAN and Geneve
// (IPv4 total length 0, IPv6 payload length 0 without a jumbo option, in
// the outer and the inner packet), which tshark 4.0 does not read: the
// figures are tcpdump's own reading, from tcpdump's tests/*.out.
func TestDecodeBigTCP(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Segment
	}{
		{"bigtcp-ipv4-vxlan-ipv4.pcap", Segment{Src: netip.MustParseAddr("192.168.1.2"), Dst: netip.MustParseAddr("192.168.1.1"),
			SrcPort: 36875, DstPort: 36449, Seq: 497210414, Ack: 1007986268, Flags: PSH | ACK, Window: 370, Payload: 80000, Tunnel: TunnelVXLAN}},
		{"bigtcp-ipv6-geneve-ipv6.pcap", Segment{Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::2"),
			SrcPort: 38339, DstPort: 43997, Seq: 1386091372, Ack: 3439981244, Flags: PSH | ACK, Window: 367, Payload: 80000, Tunnel: TunnelGeneve}},
	} {
		frames := decReadFrames(t, filepath.Join("testdata/public", tc.file))
		if len(frames) != 1 {
			t.Fatalf("%s: %d frames", tc.file, len(frames))
		}
		var seg Segment
		if got := (&Decoder{}).Decode(frames[0].link, frames[0].data, &seg); got != SkipNone {
			t.Errorf("%s: %v, want a segment", tc.file, got)
			continue
		}
		if diff := cmp.Diff(tc.want, seg, decSegCmp); diff != "" {
			t.Errorf("%s (-tcpdump +ours):\n%s", tc.file, diff)
		}
	}
}
