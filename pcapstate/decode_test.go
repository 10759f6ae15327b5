package pcapstate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Addresses, ports and numbers of the test segments.
var (
	decV4Src     = netip.MustParseAddr("192.0.2.1")
	decV4Dst     = netip.MustParseAddr("198.51.100.2")
	decV6Src     = netip.MustParseAddr("2001:db8::1")
	decV6Dst     = netip.MustParseAddr("2001:db8:ffff::2")
	decTeredoCli = netip.MustParseAddr("2001:0:4137:9e50:8000:f12a:b9c8:2815")
	decOuterSrc  = netip.MustParseAddr("10.0.0.1")
	decOuterDst  = netip.MustParseAddr("10.0.0.2")
	decOuterV6   = netip.MustParseAddr("2001:db8:1::1")
)

const (
	decSrcPort    = 40000
	decDstPort    = 8080
	decSeq        = 0xfffffff0 // wraps within the payload
	decAck        = 2000
	decWindow     = 512
	decPayloadLen = 100
)

// decSegCmp compares Segments by their exported fields (Read's fragment
// bookkeeping aside), addresses by value.
var decSegCmp = cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmpopts.IgnoreUnexported(Segment{})}

// decSerialize builds a packet from gopacket layers with lengths and
// checksums filled in.
func decSerialize(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		tb.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// decTCPLayer is the TCP header of every test segment; withOpts adds 20 bytes
// of options (MSS, SACK permitted, timestamps).
func decTCPLayer(withOpts bool) *layers.TCP {
	t := &layers.TCP{
		SrcPort: decSrcPort, DstPort: decDstPort, Seq: decSeq, Ack: decAck,
		ACK: true, PSH: true, FIN: true, Window: decWindow,
	}
	if withOpts {
		t.Options = []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
			{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindNop},
		}
	}
	return t
}

func decPayload(n int) gopacket.Payload {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

// decIP4TCP is an IPv4 TCP segment with decPayloadLen bytes of payload.
func decIP4TCP(tb testing.TB, src, dst netip.Addr, ipOpts, tcpOpts bool) []byte {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, Flags: layers.IPv4DontFragment,
		SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
	if ipOpts {
		ip.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}} // router alert
	}
	t := decTCPLayer(tcpOpts)
	if err := t.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	return decSerialize(tb, ip, t, decPayload(decPayloadLen))
}

// decIP6TCP is an IPv6 TCP segment with decPayloadLen bytes of payload.
func decIP6TCP(tb testing.TB, src, dst netip.Addr, tcpOpts bool) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
		SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
	t := decTCPLayer(tcpOpts)
	if err := t.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	return decSerialize(tb, ip, t, decPayload(decPayloadLen))
}

// decIP4 is an IPv4 packet of protocol proto carrying body.
func decIP4(tb testing.TB, proto layers.IPProtocol, body []byte) []byte {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto,
		SrcIP: net.IP(decOuterSrc.AsSlice()), DstIP: net.IP(decOuterDst.AsSlice())}
	return decSerialize(tb, ip, gopacket.Payload(body))
}

// decIP6Ext puts IPv6 extension headers (each given with its protocol number;
// its first byte is overwritten with the next header) between the IPv6
// header of pkt and its payload.
func decIP6Ext(pkt []byte, exts ...decExt) []byte {
	out := append([]byte(nil), pkt[:40]...)
	next := pkt[6]
	out[6] = exts[0].proto
	total := 0
	for i, e := range exts {
		h := append([]byte(nil), e.body...)
		if i+1 < len(exts) {
			h[0] = exts[i+1].proto
		} else {
			h[0] = next
		}
		out = append(out, h...)
		total += len(h)
	}
	out = append(out, pkt[40:]...)
	binary.BigEndian.PutUint16(out[4:], binary.BigEndian.Uint16(pkt[4:])+uint16(total))
	return out
}

type decExt struct {
	proto uint8
	body  []byte
}

// decUDP is a UDP header (checksum 0) and body.
func decUDP(sp, dp uint16, body []byte) []byte {
	b := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint16(b, sp)
	binary.BigEndian.PutUint16(b[2:], dp)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(body)))
	return append(b, body...)
}

func decCat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func decU16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

var decMACs = []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa}

// decEth is an Ethernet II header of ethertype et followed by p.
func decEth(et uint16, p ...[]byte) []byte { return decCat(decMACs, decU16(et), decCat(p...)) }

// tag is an 802.1Q-style tag (TPID already written by the caller) of VLAN
// vid whose payload is of ethertype et.
func decTag(vid, et uint16) []byte { return decCat(decU16(0x2000|vid), decU16(et)) }

// decGTP is a GTPv1-U header with flags (E/S/PN in the low bits), message
// type mt, optional bytes after the 8 mandatory ones, and the PDU.
func decGTP(flags, mt byte, opt, pdu []byte) []byte {
	h := []byte{0x30 | flags, mt}
	h = binary.BigEndian.AppendUint16(h, uint16(len(opt)+len(pdu)))
	h = binary.BigEndian.AppendUint32(h, 0x01020304)
	return decCat(h, opt, pdu)
}

func decSLL(proto uint16, p []byte) []byte {
	h := []byte{0, 0, 0, 1, 0, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0}
	return decCat(h, decU16(proto), p)
}

func decSLL2(proto uint16, p []byte) []byte {
	h := decCat(decU16(proto), []byte{0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0})
	return decCat(h, p)
}

type decodeCase struct {
	name  string
	link  layers.LinkType
	frame []byte
	want  Skip
	seg   Segment // when want == SkipNone
	// cutAlso is a skip that a cut frame may give besides truncation (a
	// heuristic that needs the whole header); noCut skips the prefix test
	// (lengths taken from the captured length).
	cutAlso Skip
	noCut   bool
}

func decSeg4(mod func(*Segment)) Segment {
	s := Segment{Src: decV4Src, Dst: decV4Dst, SrcPort: decSrcPort, DstPort: decDstPort, Seq: decSeq, Ack: decAck,
		Flags: ACK | PSH | FIN, Window: decWindow, Payload: decPayloadLen}
	if mod != nil {
		mod(&s)
	}
	return s
}

func decSeg6(mod func(*Segment)) Segment {
	s := decSeg4(mod)
	s.Src, s.Dst = decV6Src, decV6Dst
	if mod != nil {
		mod(&s)
	}
	return s
}

// decodeCases builds one frame for every link type, encapsulation, tunnel
// and skip kind.
func decodeCases(tb testing.TB) []decodeCase {
	v4 := decIP4TCP(tb, decV4Src, decV4Dst, false, false)
	v4opts := decIP4TCP(tb, decV4Src, decV4Dst, true, true)
	v6 := decIP6TCP(tb, decV6Src, decV6Dst, false)
	v6opts := decIP6TCP(tb, decV6Src, decV6Dst, true)
	le := func(af byte) []byte { return []byte{af, 0, 0, 0} }
	bige := func(af byte) []byte { return []byte{0, 0, 0, af} }
	vlan := func(s *Segment) { s.VLAN = 100 }
	gtpu := func(s *Segment) { s.Tunnel = TunnelGTPU }
	teredoSeg := func(s *Segment) { s.Src, s.Tunnel = decTeredoCli, TunnelTeredo }

	// Teredo: the inner IPv6 packet from a Teredo client address.
	v6teredo := decIP6TCP(tb, decTeredoCli, decV6Dst, false)
	origin := []byte{0, 0, 0xf2, 0x3c, 0xbf, 0xff, 0xff, 0xfe}
	auth := decCat([]byte{0, 1, 2, 3, 'i', 'd', 'a', 'u', 't'}, make([]byte, 8), []byte{0})

	// GTP-U extension header chain: PDU session container (0x85), then a
	// 2-word header of type 0x40 (UDP port), then none.
	gtpExt := decCat([]byte{0, 0, 0, 0x85}, []byte{1, 0x00, 0x09, 0x40}, []byte{2, 1, 2, 3, 4, 5, 6, 0})

	// A first fragment of an outer IPv4 datagram carrying a GTP-U T-PDU:
	// the outer packet stops 60 bytes into the inner one.
	gtpFull := decIP4(tb, layers.IPProtocolUDP, decUDP(2152, 2152, decGTP(0, 0xff, nil, v4)))
	gtpFrag := append([]byte(nil), gtpFull[:20+8+8+60]...)
	binary.BigEndian.PutUint16(gtpFrag[2:], uint16(len(gtpFrag)))
	gtpFrag[6] = 0x20 // MF

	v4frag := func(off uint16, mf bool) []byte {
		p := append([]byte(nil), v4...)
		fo := off
		if mf {
			fo |= 0x2000
		}
		binary.BigEndian.PutUint16(p[6:], fo)
		return p
	}
	frag6 := func(off uint16, m bool) decExt {
		fo := off << 3
		if m {
			fo |= 1
		}
		return decExt{44, decCat([]byte{0, 0}, decU16(fo), []byte{0, 0, 0, 7})}
	}
	hbh := decExt{0, []byte{0, 0, 1, 4, 0, 0, 0, 0}}                           // PadN
	dst := decExt{60, []byte{0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} // 16 bytes
	rt := decExt{43, []byte{0, 0, 0, 0, 0, 0, 0, 0}}                           // type 0, no segments left
	ah6 := decExt{51, []byte{0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}}              // 12 bytes: (1+2)*4

	// Ethernet padding: a bare ACK padded to the 60-byte minimum.
	ack := decIP4Ack(tb)
	padded := decEth(0x0800, ack, make([]byte, 60-14-len(ack)))

	// TSO: total length 0, payload from the captured length.
	tso := append([]byte(nil), v4...)
	tso[2], tso[3] = 0, 0

	// Jumbogram: payload length 0, hop-by-hop jumbo option; the capture
	// holds only the first 100 payload bytes of a 70000-byte payload.
	jumbo := decIP6Ext(v6, decExt{0, []byte{0, 0, 0xc2, 4, 0, 1, 0x11, 0x78}}) // 70008 = 8 + 20 + 69980
	jumbo[4], jumbo[5] = 0, 0

	// IPv4 AH (RFC 4302) before TCP.
	ah4 := func() []byte {
		p := append([]byte(nil), v4...)
		ah := []byte{6, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // (4+2)*4 = 24
		out := decCat(p[:20], ah, p[20:])
		out[9] = 51
		binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
		return out
	}()

	bad := func(p []byte, f func([]byte)) []byte {
		p = append([]byte(nil), p...)
		f(p)
		return p
	}

	// A first fragment holding the TCP header and 48 bytes of payload, and
	// one holding 8 bytes of the TCP header (RFC 1858's tiny fragment).
	v4first := bad(v4[:20+20+48], func(p []byte) { p[2], p[3], p[6] = 0, 88, 0x20 })
	v4tiny := bad(v4[:20+8], func(p []byte) { p[2], p[3], p[6] = 0, 28, 0x20 })

	gre := func(s *Segment) { s.Tunnel = TunnelGRE }
	erspan := func(s *Segment) { s.Tunnel = TunnelERSPAN }
	vxlanSeg := func(s *Segment) { s.Tunnel = TunnelVXLAN }
	geneveSeg := func(s *Segment) { s.Tunnel = TunnelGeneve }
	ipip := func(s *Segment) { s.Tunnel = TunnelIPinIP }
	vxlanHdr := []byte{8, 0, 0, 0, 0, 0, 42, 0}
	vxlan := func(p []byte) []byte {
		return decIP4(tb, layers.IPProtocolUDP, decUDP(51000, 4789, decCat(vxlanHdr, p)))
	}
	// Geneve with 8 bytes of options.
	geneveHdr := func(proto uint16) []byte {
		return decCat([]byte{2, 0}, decU16(proto), []byte{0, 0, 42, 0}, []byte{0x01, 0x02, 0x80, 1, 0, 0, 0, 9})
	}
	// ERSPAN type II (version 1, VLAN 0, session 5) and type III
	// (version 2, frame type 0 or 2, O flag for the subheader).
	erspan2 := []byte{0x10, 0, 0, 5, 0, 0, 0, 0}
	erspan3 := func(ft byte, o bool) []byte {
		h := []byte{0x20, 0, 0, 5, 1, 2, 3, 4, 0, 0, ft << 2, 0}
		if o {
			h[11] = 1
			h = append(h, 0, 0, 0, 0, 0, 0, 0, 0)
		}
		return h
	}
	// A 4-byte NFLOG header of family fam, a prefix TLV and the payload
	// TLV, with TLV lengths and types in byte order o.
	nflog := func(fam byte, o binary.AppendByteOrder, pkt []byte) []byte {
		tlv := func(t uint16, v []byte) []byte {
			h := o.AppendUint16(nil, uint16(4+len(v)))
			h = o.AppendUint16(h, t)
			h = append(h, v...)
			for len(h)%4 != 0 {
				h = append(h, 0)
			}
			return h
		}
		return decCat([]byte{fam, 0, 0, 1}, tlv(10, []byte("prefix\x00")), tlv(1, []byte{8, 0, 1, 0}), tlv(9, pkt))
	}
	ipoib := func(et uint16, p []byte) []byte { return decCat(make([]byte, 40), decU16(et), []byte{0, 0}, p) }
	v4in6 := func() []byte {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv4,
			SrcIP: net.IP(decV6Src.AsSlice()), DstIP: net.IP(decV6Dst.AsSlice())}
		return decSerialize(tb, ip, gopacket.Payload(v4))
	}()
	v6in6 := func() []byte {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6,
			SrcIP: net.IP(decV6Src.AsSlice()), DstIP: net.IP(decV6Dst.AsSlice())}
		return decSerialize(tb, ip, gopacket.Payload(v6))
	}()
	greOver6 := func() []byte {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolGRE,
			SrcIP: net.IP(decOuterV6.AsSlice()), DstIP: net.IP(decV6Dst.AsSlice())}
		return decSerialize(tb, ip, gopacket.Payload(decCat([]byte{0, 0, 0x86, 0xdd}, v6)))
	}()
	// Tunnels nested one deeper than the decoder follows.
	nested := v4
	for range maxTunnels + 1 {
		nested = decIP4(tb, layers.IPProtocolIPv4, nested)
	}

	return []decodeCase{
		// Link types.
		{name: "ethernet ipv4", link: layers.LinkTypeEthernet, frame: decEth(0x0800, v4), seg: decSeg4(nil)},
		{name: "ethernet ipv4 options", link: layers.LinkTypeEthernet, frame: decEth(0x0800, v4opts), seg: decSeg4(nil)},
		{name: "ethernet ipv6", link: layers.LinkTypeEthernet, frame: decEth(0x86dd, v6opts), seg: decSeg6(nil)},
		{name: "ethernet llc snap", link: layers.LinkTypeEthernet, frame: decCat(decMACs, decU16(uint16(8+len(v4))), []byte{0xaa, 0xaa, 3, 0, 0, 0}, decU16(0x0800), v4), seg: decSeg4(nil)},
		{name: "null le ipv4", link: layers.LinkTypeNull, frame: decCat(le(2), v4), seg: decSeg4(nil)},
		{name: "null be ipv4", link: layers.LinkTypeNull, frame: decCat(bige(2), v4), seg: decSeg4(nil)},
		{name: "null le ipv6 darwin", link: layers.LinkTypeNull, frame: decCat(le(30), v6), seg: decSeg6(nil)},
		{name: "null le ipv6 freebsd", link: layers.LinkTypeNull, frame: decCat(le(28), v6), seg: decSeg6(nil)},
		{name: "null be ipv6 openbsd", link: layers.LinkTypeNull, frame: decCat(bige(24), v6), seg: decSeg6(nil)},
		{name: "null le ipv6 npcap", link: layers.LinkTypeNull, frame: decCat(le(23), v6), seg: decSeg6(nil)},
		{name: "loop be ipv4", link: layers.LinkTypeLoop, frame: decCat(bige(2), v4), seg: decSeg4(nil)},
		{name: "loop le ipv6", link: layers.LinkTypeLoop, frame: decCat(le(24), v6), seg: decSeg6(nil)},
		{name: "null other family", link: layers.LinkTypeNull, frame: decCat(le(7), v4), want: SkipOtherEtherType},
		{name: "raw ipv4", link: layers.LinkTypeRaw, frame: v4, seg: decSeg4(nil)},
		{name: "raw ipv6", link: layers.LinkTypeRaw, frame: v6, seg: decSeg6(nil)},
		{name: "raw dlt 12", link: 12, frame: v4opts, seg: decSeg4(nil)},
		{name: "raw dlt 14", link: 14, frame: v6, seg: decSeg6(nil)},
		{name: "linktype ipv4", link: layers.LinkTypeIPv4, frame: v4, seg: decSeg4(nil)},
		{name: "linktype ipv6", link: layers.LinkTypeIPv6, frame: v6, seg: decSeg6(nil)},
		{name: "linktype ipv4 holding ipv6", link: layers.LinkTypeIPv4, frame: v6, want: SkipMalformed},
		{name: "raw not ip", link: layers.LinkTypeRaw, frame: decCat([]byte{0x50}, v4[1:]), want: SkipMalformed},
		{name: "sll ipv4", link: layers.LinkTypeLinuxSLL, frame: decSLL(0x0800, v4), seg: decSeg4(nil)},
		{name: "sll vlan ipv6", link: layers.LinkTypeLinuxSLL, frame: decSLL(0x8100, decCat(decTag(100, 0x86dd), v6)), seg: decSeg6(vlan)},
		{name: "sll llc", link: layers.LinkTypeLinuxSLL, frame: decSLL(0x0004, v4), want: SkipOtherEtherType},
		{name: "sll2 ipv6", link: LinkTypeLinuxSLL2, frame: decSLL2(0x86dd, v6opts), seg: decSeg6(nil)},
		{name: "sll2 ipv4", link: LinkTypeLinuxSLL2, frame: decSLL2(0x0800, v4), seg: decSeg4(nil)},
		{name: "unsupported link", link: layers.LinkTypeIEEE802_11, frame: v4, want: SkipUnsupportedLink},

		// Encapsulations.
		{name: "802.1q", link: layers.LinkTypeEthernet, frame: decEth(0x8100, decTag(100, 0x0800), v4), seg: decSeg4(vlan)},
		{name: "qinq 88a8", link: layers.LinkTypeEthernet, frame: decEth(0x88a8, decTag(100, 0x8100), decTag(200, 0x86dd), v6), seg: decSeg6(vlan)},
		{name: "qinq 9100", link: layers.LinkTypeEthernet, frame: decEth(0x9100, decTag(100, 0x8100), decTag(200, 0x0800), v4), seg: decSeg4(vlan)},
		{name: "mpls one label", link: layers.LinkTypeEthernet, frame: decEth(0x8847, []byte{0, 0x10, 0x11, 64}, v4), seg: decSeg4(nil)},
		{name: "mpls stack ipv6", link: layers.LinkTypeEthernet, frame: decEth(0x8847, []byte{0, 0x10, 0x10, 64, 0, 0x20, 0x01, 64}, v6), seg: decSeg6(nil)},
		{name: "mpls multicast", link: layers.LinkTypeEthernet, frame: decEth(0x8848, []byte{0, 0x10, 0x11, 64}, v4), seg: decSeg4(nil)},
		{name: "vlan mpls", link: layers.LinkTypeEthernet, frame: decEth(0x8100, decTag(100, 0x8847), []byte{0, 0x10, 0x11, 64}, v4), seg: decSeg4(vlan)},
		{name: "mpls pseudowire", link: layers.LinkTypeEthernet, frame: decEth(0x8847, []byte{0, 0x10, 0x11, 64}, []byte{0, 0, 0, 0}, decEth(0x0800, v4)), want: SkipMPLSNonIP},
		{name: "pppoe ipv4", link: layers.LinkTypeEthernet, frame: decEth(0x8864, []byte{0x11, 0, 0, 1}, decU16(uint16(2+len(v4))), decU16(0x0021), v4), seg: decSeg4(nil)},
		{name: "pppoe pfc ipv6", link: layers.LinkTypeEthernet, frame: decEth(0x8864, []byte{0x11, 0, 0, 1}, decU16(uint16(1+len(v6))), []byte{0x57}, v6), seg: decSeg6(nil)},
		{name: "pppoe over qinq", link: layers.LinkTypeEthernet, frame: decEth(0x88a8, decTag(100, 0x8100), decTag(7, 0x8864), []byte{0x11, 0, 0, 1}, decU16(uint16(2+len(v4))), decU16(0x0021), v4), seg: decSeg4(vlan)},
		{name: "pppoe padded ipv4", link: layers.LinkTypeEthernet, frame: decEth(0x8864, []byte{0x11, 0, 0, 1}, decU16(uint16(2+len(ack))), decU16(0x0021), bad(append(ack, 0, 0, 0, 0, 0, 0), func(p []byte) { p[3] += 6 })), seg: decSeg4(func(s *Segment) { s.Payload, s.Flags = 0, ACK })},
		{name: "pppoe lcp", link: layers.LinkTypeEthernet, frame: decEth(0x8864, []byte{0x11, 0, 0, 1, 0, 6}, decU16(0xc021), []byte{9, 1, 0, 4}), want: SkipOtherPPP},
		{name: "pppoe length too short", link: layers.LinkTypeEthernet, frame: decEth(0x8864, []byte{0x11, 0, 0, 1}, decU16(40), decU16(0x0021), v4), want: SkipMalformed},
		{name: "pppoe length below ipv6 header", link: layers.LinkTypeEthernet, frame: decEth(0x8864, []byte{0x11, 0, 0, 1}, decU16(30), decU16(0x0057), v6), want: SkipMalformed},
		{name: "pppoe padded ipv6", link: layers.LinkTypeEthernet, frame: decEth(0x8864, []byte{0x11, 0, 0, 1}, decU16(uint16(2+len(v6)-10)), decU16(0x0057), v6), seg: decSeg6(func(s *Segment) { s.Payload = decPayloadLen - 10 })},
		{name: "pppoe discovery", link: layers.LinkTypeEthernet, frame: decEth(0x8863, []byte{0x11, 9, 0, 0, 0, 0}), want: SkipOtherEtherType},
		{name: "pppoe bad version", link: layers.LinkTypeEthernet, frame: decEth(0x8864, []byte{0x21, 0, 0, 1}, decU16(uint16(2+len(v4))), decU16(0x0021), v4), want: SkipMalformed},

		// IPv6 extension headers.
		{name: "ipv6 hop-by-hop routing dstopts", link: layers.LinkTypeRaw, frame: decIP6Ext(v6, hbh, rt, dst), seg: decSeg6(nil)},
		{name: "ipv6 atomic fragment", link: layers.LinkTypeRaw, frame: decIP6Ext(v6, frag6(0, false)), seg: decSeg6(nil)},
		{name: "ipv6 ah", link: layers.LinkTypeRaw, frame: decIP6Ext(v6, dst, ah6), seg: decSeg6(nil)},
		{name: "ipv6 first fragment", link: layers.LinkTypeRaw, frame: decIP6Ext(v6, frag6(0, true)), seg: decSeg6(func(s *Segment) { s.Fragment = true })},
		{name: "ipv6 later fragment", link: layers.LinkTypeRaw, frame: decIP6Ext(v6, frag6(100, false)), want: SkipIPFragment},
		{name: "ipv6 esp", link: layers.LinkTypeRaw, frame: decIP6Ext(v6, hbh, decExt{50, make([]byte, 16)})[:40+8+8], want: SkipESP},
		{name: "ipv6 no next header", link: layers.LinkTypeRaw, frame: bad(v6, func(p []byte) { p[6] = 59 }), want: SkipIPv6NoNext},
		{name: "ipv6 jumbogram", link: layers.LinkTypeRaw, frame: jumbo, seg: decSeg6(func(s *Segment) { s.Payload = 69980 }), noCut: true},
		{name: "ipv6 ext beyond payload length", link: layers.LinkTypeRaw, frame: bad(decIP6Ext(v6, dst), func(p []byte) { p[4], p[5] = 0, 8 }), want: SkipMalformed},

		// IPv4 details.
		{name: "ipv4 ah", link: layers.LinkTypeRaw, frame: ah4, seg: decSeg4(nil)},
		{name: "ethernet padding", link: layers.LinkTypeEthernet, frame: padded, seg: decSeg4(func(s *Segment) { s.Payload, s.Flags = 0, ACK })},
		{name: "tso total length 0", link: layers.LinkTypeEthernet, frame: decEth(0x0800, tso), seg: decSeg4(nil), noCut: true},
		{name: "ipv4 first fragment", link: layers.LinkTypeRaw, frame: v4first, seg: decSeg4(func(s *Segment) { s.Payload, s.Fragment = 48, true })},
		{name: "ipv4 tiny first fragment", link: layers.LinkTypeRaw, frame: v4tiny, want: SkipIPFragment},
		{name: "ipv4 later fragment", link: layers.LinkTypeRaw, frame: v4frag(185, false), want: SkipIPFragment},
		{name: "ipv4 ihl below 5", link: layers.LinkTypeRaw, frame: bad(v4, func(p []byte) { p[0] = 0x44 }), want: SkipMalformed},
		{name: "ipv4 total below ihl", link: layers.LinkTypeRaw, frame: bad(v4, func(p []byte) { p[2], p[3] = 0, 16 }), want: SkipMalformed},
		{name: "ipv4 total below tcp header", link: layers.LinkTypeRaw, frame: bad(v4, func(p []byte) { p[2], p[3] = 0, 30 }), want: SkipMalformed},
		{name: "tcp data offset below 5", link: layers.LinkTypeRaw, frame: bad(v4, func(p []byte) { p[32] = 0x40 }), want: SkipMalformed},
		{name: "tcp data offset beyond total", link: layers.LinkTypeRaw, frame: bad(v4, func(p []byte) { p[2], p[3] = 0, 60; p[32] = 0xf0 }), want: SkipMalformed},

		// Other protocols.
		{name: "arp", link: layers.LinkTypeEthernet, frame: decEth(0x0806, make([]byte, 28)), want: SkipARP},
		{name: "lldp", link: layers.LinkTypeEthernet, frame: decEth(0x88cc, make([]byte, 30)), want: SkipOtherEtherType},
		{name: "cdp snap", link: layers.LinkTypeEthernet, frame: decCat(decMACs, decU16(30), []byte{0xaa, 0xaa, 3, 0, 0, 0x0c}, decU16(0x2000), make([]byte, 22)), want: SkipOtherEtherType},
		{name: "stp llc", link: layers.LinkTypeEthernet, frame: decCat(decMACs, decU16(38), []byte{0x42, 0x42, 3}, make([]byte, 35)), want: SkipOtherEtherType},
		{name: "udp", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(5353, 53, make([]byte, 30))), want: SkipUDP},
		{name: "udp length beyond ip", link: layers.LinkTypeRaw, frame: bad(decIP4(tb, layers.IPProtocolUDP, decUDP(5353, 53, make([]byte, 30))), func(p []byte) { p[25] = 200 }), want: SkipMalformed},
		{name: "icmp", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolICMPv4, make([]byte, 8)), want: SkipICMP},
		{name: "icmpv6", link: layers.LinkTypeRaw, frame: bad(v6, func(p []byte) { p[6] = 58 }), want: SkipICMPv6},
		{name: "ipv4 esp", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolESP, make([]byte, 16)), want: SkipESP},
		{name: "udp on vxlan port, not vxlan", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(51000, 4789, make([]byte, 20))), want: SkipUDP},
		{name: "sctp", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolSCTP, make([]byte, 12)), want: SkipOtherIPProtocol},

		// More link types.
		{name: "ppp", link: layers.LinkTypePPP, frame: decCat([]byte{0xff, 3, 0, 0x21}, v4), seg: decSeg4(nil)},
		{name: "ppp no address", link: layers.LinkTypePPP, frame: decCat([]byte{0, 0x57}, v6), seg: decSeg6(nil)},
		{name: "ppp compressed protocol", link: layers.LinkTypePPP, frame: decCat([]byte{0x21}, v4), seg: decSeg4(nil)},
		{name: "ppp lcp", link: layers.LinkTypePPP, frame: decCat([]byte{0xff, 3, 0xc0, 0x21}, []byte{9, 1, 0, 4}), want: SkipOtherPPP},
		{name: "ppp mpls", link: layers.LinkTypePPP, frame: decCat([]byte{0xff, 3, 0x02, 0x81}, []byte{0, 0x10, 0x11, 64}, v4), seg: decSeg4(nil)},
		{name: "ppp in hdlc", link: layers.LinkTypePPP_HDLC, frame: decCat([]byte{0xff, 3, 0, 0x21}, v4opts), seg: decSeg4(nil)},
		{name: "ppp in hdlc, cisco framing", link: layers.LinkTypePPP_HDLC, frame: decCat([]byte{0x0f, 0}, decU16(0x86dd), v6), seg: decSeg6(nil)},
		{name: "cisco hdlc", link: layers.LinkTypeC_HDLC, frame: decCat([]byte{0x0f, 0}, decU16(0x0800), v4), seg: decSeg4(nil)},
		{name: "cisco hdlc slarp", link: layers.LinkTypeC_HDLC, frame: decCat([]byte{0x8f, 0}, decU16(0x8035), make([]byte, 18)), want: SkipOtherEtherType},
		{name: "nflog ipv4", link: linkTypeNFLOG, frame: nflog(2, binary.LittleEndian, v4), seg: decSeg4(nil)},
		{name: "nflog ipv6 big-endian tlvs", link: linkTypeNFLOG, frame: nflog(10, binary.BigEndian, v6), seg: decSeg6(nil)},
		{name: "nflog payload cut by the copy range", link: linkTypeNFLOG, frame: nflog(2, binary.LittleEndian, v4opts[:20+30]), seg: decSeg4(func(s *Segment) { s.HeaderCut = true })},
		{name: "nflog family ipv4 holding ipv6", link: linkTypeNFLOG, frame: nflog(2, binary.LittleEndian, v6), want: SkipMalformed},
		{name: "nflog bridge family", link: linkTypeNFLOG, frame: nflog(7, binary.LittleEndian, decEth(0x0800, v4)), want: SkipOtherEtherType},
		{name: "ipoib ipv4", link: linkTypeIPoIB, frame: ipoib(0x0800, v4), seg: decSeg4(nil)},
		{name: "ipoib ipv6", link: linkTypeIPoIB, frame: ipoib(0x86dd, v6opts), seg: decSeg6(nil)},
		{name: "ipoib arp", link: linkTypeIPoIB, frame: ipoib(0x0806, make([]byte, 28)), want: SkipARP},
		{name: "pbb", link: layers.LinkTypeEthernet, frame: decEth(0x88a8, decTag(100, 0x88e7), []byte{0, 0, 0x10, 0x01}, decMACs, decU16(0x8100), decTag(200, 0x0800), v4), seg: decSeg4(vlan)},
		{name: "vn-tag", link: layers.LinkTypeEthernet, frame: decEth(0x8926, []byte{0x80, 0x05, 0, 0x02}, decU16(0x86dd), v6), seg: decSeg6(nil)},

		// GRE.
		{name: "gre ipv4", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0, 0, 8, 0}, v4)), seg: decSeg4(gre)},
		{name: "gre keyed ipv6", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0x20, 0, 0x86, 0xdd, 0, 0, 0, 42}, v6)), seg: decSeg6(gre)},
		{name: "gre checksum key sequence", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0xb0, 0, 8, 0, 0x12, 0x34, 0, 0, 0, 0, 0, 42, 0, 0, 0, 7}, v4)), seg: decSeg4(gre)},
		{name: "gre routing", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0x40, 0, 8, 0, 0, 0, 0, 0}, []byte{8, 0, 0, 4, 1, 2, 3, 4}, []byte{0, 0, 0, 0}, v4)), seg: decSeg4(gre)},
		{name: "gre over ipv6", link: layers.LinkTypeRaw, frame: greOver6, seg: decSeg6(gre)},
		{name: "gre ethernet", link: layers.LinkTypeEthernet, frame: decEth(0x0800, decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0x20, 0, 0x65, 0x58, 0, 0, 1, 0}, decEth(0x8100, decTag(300, 0x0800), v4)))), seg: decSeg4(func(s *Segment) { s.Tunnel, s.VLAN = TunnelGRE, 300 })},
		{name: "gre mpls", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0, 0, 0x88, 0x47}, []byte{0, 0x10, 0x11, 64}, v4)), seg: decSeg4(gre)},
		{name: "gre wccp", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0, 0, 0x88, 0x3e}, []byte{0, 0, 0, 0}, v4)), seg: decSeg4(gre)},
		{name: "gre pptp", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0x30, 0x81, 0x88, 0x0b}, decU16(uint16(4+len(v4))), []byte{0, 9, 0, 0, 0, 3, 0, 0, 0, 2}, []byte{0xff, 3, 0, 0x21}, v4)), seg: decSeg4(gre)},
		{name: "gre pptp ack only", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0x20, 0x81, 0x88, 0x0b}, []byte{0, 0, 0, 9, 0, 0, 0, 2})), want: SkipTunnelControl},
		{name: "gre keepalive", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0, 0, 0, 0}, decIP4(tb, layers.IPProtocolGRE, []byte{0, 0, 0, 0}))), want: SkipTunnelControl},
		{name: "gre other protocol", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0, 0, 0x81, 0x37}, make([]byte, 30))), want: SkipUnsupportedTunnel},
		{name: "gre version 2", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0, 2, 8, 0}, v4)), want: SkipUnsupportedTunnel},
		{name: "gre inner length beyond outer", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0, 0, 8, 0}, v4[:len(v4)-1])), want: SkipMalformed},
		{name: "erspan type i", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0, 0, 0x88, 0xbe}, decEth(0x0800, v4))), seg: decSeg4(erspan)},
		{name: "erspan type ii", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, 1}, erspan2, decEth(0x0800, v4))), seg: decSeg4(erspan)},
		{name: "erspan type iii", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0x10, 0, 0x22, 0xeb, 0, 0, 0, 1}, erspan3(0, false), decEth(0x86dd, v6))), seg: decSeg6(erspan)},
		{name: "erspan type iii subheader", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0x10, 0, 0x22, 0xeb, 0, 0, 0, 1}, erspan3(0, true), decEth(0x0800, v4))), seg: decSeg4(erspan)},
		{name: "erspan type iii ip frame", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0x10, 0, 0x22, 0xeb, 0, 0, 0, 1}, erspan3(2, false), v4)), seg: decSeg4(erspan)},
		{name: "erspan type ii wrong version", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, 1}, erspan3(0, false), decEth(0x0800, v4))), want: SkipUnsupportedTunnel},
		{name: "gre in a padded first fragment too short for the inner header", link: layers.LinkTypeEthernet, frame: decEth(0x0800, bad(decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0, 0, 8, 0}, v4))[:20+4+10], func(p []byte) { p[2], p[3], p[6] = 0, 34, 0x20 }), make([]byte, 12)), want: SkipIPFragment},
		{name: "gre in first outer fragment", link: layers.LinkTypeRaw, frame: bad(decIP4(tb, layers.IPProtocolGRE, decCat([]byte{0, 0, 8, 0}, v4))[:20+4+60], func(p []byte) { p[2], p[3], p[6] = 0, 84, 0x20 }), seg: decSeg4(gre)},

		// UDP tunnels.
		{name: "vxlan", link: layers.LinkTypeRaw, frame: vxlan(decEth(0x0800, v4)), seg: decSeg4(vxlanSeg)},
		{name: "vxlan linux port", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(51000, 8472, decCat(vxlanHdr, decEth(0x86dd, v6)))), seg: decSeg6(vxlanSeg)},
		{name: "vxlan inner vlan", link: layers.LinkTypeEthernet, frame: decEth(0x0800, vxlan(decEth(0x8100, decTag(100, 0x0800), v4))), seg: decSeg4(func(s *Segment) { s.Tunnel, s.VLAN = TunnelVXLAN, 100 })},
		{name: "vxlan outer vlan kept", link: layers.LinkTypeEthernet, frame: decEth(0x8100, decTag(100, 0x0800), vxlan(decEth(0x8100, decTag(200, 0x0800), v4))), seg: decSeg4(func(s *Segment) { s.Tunnel, s.VLAN = TunnelVXLAN, 100 })},
		{name: "vxlan inner arp", link: layers.LinkTypeRaw, frame: vxlan(decEth(0x0806, make([]byte, 28))), want: SkipARP},
		{name: "geneve ethernet", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(51000, 6081, decCat(geneveHdr(0x6558), decEth(0x0800, v4)))), seg: decSeg4(geneveSeg)},
		{name: "geneve ipv4", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(51000, 6081, decCat(geneveHdr(0x0800), v4))), seg: decSeg4(geneveSeg)},
		{name: "geneve ipv6 over ipv6", link: layers.LinkTypeRaw, frame: decGeneveOver6(tb, decCat(geneveHdr(0x86dd), v6)), seg: decSeg6(geneveSeg)},
		{name: "geneve protocol mismatch", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(51000, 6081, decCat(geneveHdr(0x0800), v6))), want: SkipMalformed},
		{name: "geneve other protocol", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(51000, 6081, decCat(geneveHdr(0x894f), make([]byte, 20)))), want: SkipUnsupportedTunnel},
		{name: "geneve options beyond udp", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(51000, 6081, []byte{0x3f, 0, 0x65, 0x58, 0, 0, 42, 0})), want: SkipMalformed},

		// IP in IP.
		{name: "4in4", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolIPv4, v4), seg: decSeg4(ipip)},
		{name: "6in4", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolIPv6, v6), seg: decSeg6(ipip)},
		{name: "4in6", link: layers.LinkTypeRaw, frame: v4in6, seg: decSeg4(ipip)},
		{name: "6in6", link: layers.LinkTypeEthernet, frame: decEth(0x86dd, v6in6), seg: decSeg6(ipip)},
		{name: "4in4 inner length beyond outer", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolIPv4, v4[:len(v4)-2]), want: SkipMalformed},
		{name: "tunnels nested too deep", link: layers.LinkTypeRaw, frame: nested, want: SkipUnsupportedTunnel},

		// GTP-U.
		{name: "gtp-u", link: layers.LinkTypeEthernet, frame: decEth(0x0800, gtpFull), seg: decSeg4(gtpu)},
		{name: "gtp-u source port only", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(2152, 5906, decGTP(0, 0xff, nil, v6))), seg: decSeg6(gtpu)},
		{name: "gtp-u sequence number", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(5906, 2152, decGTP(0x02, 0xff, []byte{0, 9, 0, 0}, v4))), seg: decSeg4(gtpu)},
		{name: "gtp-u sequence number, stray next type", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(5906, 2152, decGTP(0x02, 0xff, []byte{0, 9, 0, 0x85}, v4))), seg: decSeg4(gtpu)},
		{name: "gtp-u extension headers", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(2152, 2152, decGTP(0x04, 0xff, gtpExt, v4opts))), seg: decSeg4(gtpu)},
		{name: "gtp-u over ipv6 vlan", link: layers.LinkTypeEthernet, frame: decEth(0x8100, decTag(100, 0x86dd), decGTPOver6(tb, decGTP(0, 0xff, nil, v4))), seg: decSeg4(func(s *Segment) { s.Tunnel, s.VLAN = TunnelGTPU, 100 })},
		{name: "gtp-u in first outer fragment", link: layers.LinkTypeRaw, frame: gtpFrag, seg: decSeg4(gtpu)},
		{name: "gtp-u echo request", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(2152, 2152, decGTP(0x02, 1, []byte{0, 1, 0, 0}, nil))), want: SkipGTPSignalling},
		{name: "gtpv2 on 2152", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(2152, 2152, decCat([]byte{0x48, 32, 0, 8}, make([]byte, 8)))), want: SkipUnsupportedTunnel},
		{name: "gtp-u length beyond udp", link: layers.LinkTypeRaw, frame: bad(decIP4(tb, layers.IPProtocolUDP, decUDP(2152, 2152, decGTP(0, 0xff, nil, v4))), func(p []byte) { p[31]++ }), want: SkipMalformed},
		{name: "gtp-u inner length beyond gtp", link: layers.LinkTypeRaw, frame: bad(decIP4(tb, layers.IPProtocolUDP, decUDP(2152, 2152, decGTP(0, 0xff, nil, v4))), func(p []byte) { p[39]++ }), want: SkipMalformed},
		{name: "gtp-u in gtp-u", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(2152, 2152, decGTP(0, 0xff, nil, decIP4(tb, layers.IPProtocolUDP, decUDP(2152, 2152, decGTP(0, 0xff, nil, v4)))))), seg: decSeg4(gtpu)},

		// Teredo.
		{name: "teredo", link: layers.LinkTypeEthernet, frame: decEth(0x0800, decIP4(tb, layers.IPProtocolUDP, decUDP(3544, 50000, v6teredo))), seg: decSeg6(teredoSeg)},
		{name: "teredo origin indication", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(50000, 3544, decCat(origin, v6teredo))), seg: decSeg6(teredoSeg)},
		{name: "teredo authentication and origin", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(50000, 3544, decCat(auth, origin, v6teredo))), seg: decSeg6(teredoSeg)},
		{name: "teredo on any port", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(3797, 32900, decCat(origin, v6teredo))), seg: decSeg6(teredoSeg), cutAlso: SkipUDP},
		{name: "ipv6 in udp without teredo address", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(3797, 32900, v6)), want: SkipUDP},
		{name: "teredo bubble", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(3544, 50000, bad(v6teredo[:40], func(p []byte) { p[4], p[5], p[6] = 0, 0, 59 }))), want: SkipIPv6NoNext},
		{name: "teredo inner length beyond udp", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(3544, 50000, v6teredo[:len(v6teredo)-1])), want: SkipMalformed},
		{name: "teredo port not ipv6", link: layers.LinkTypeRaw, frame: decIP4(tb, layers.IPProtocolUDP, decUDP(3544, 50000, make([]byte, 48))), want: SkipUDP},
	}
}

// decIP4Ack is a bare ACK.
func decIP4Ack(tb testing.TB) []byte {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IP(decV4Src.AsSlice()), DstIP: net.IP(decV4Dst.AsSlice())}
	t := &layers.TCP{SrcPort: decSrcPort, DstPort: decDstPort, Seq: decSeq, Ack: decAck, ACK: true, Window: decWindow}
	if err := t.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	return decSerialize(tb, ip, t)
}

// decGeneveOver6 is IPv6 and UDP to port 6081 around a Geneve message.
func decGeneveOver6(tb testing.TB, msg []byte) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
		SrcIP: net.IP(decOuterV6.AsSlice()), DstIP: net.IP(decV6Dst.AsSlice())}
	return decSerialize(tb, ip, gopacket.Payload(decUDP(40000, 6081, msg)))
}

// decGTPOver6 is IPv6 and UDP to port 2152 around a GTP-U message.
func decGTPOver6(tb testing.TB, msg []byte) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
		SrcIP: net.IP(decV6Src.AsSlice()), DstIP: net.IP(decV6Dst.AsSlice())}
	return decSerialize(tb, ip, gopacket.Payload(decUDP(2152, 2152, msg)))
}

func TestDecode(t *testing.T) {
	var d Decoder
	for _, tc := range decodeCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			var seg Segment
			got := d.Decode(tc.link, tc.frame, &seg)
			if got != tc.want {
				t.Fatalf("Decode = %v, want %v", got, tc.want)
			}
			if got != SkipNone {
				return
			}
			if diff := cmp.Diff(tc.seg, seg, decSegCmp); diff != "" {
				t.Errorf("segment (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeCut decodes every prefix of every test frame, as a snaplen
// would cut it: each must give the frame's own answer, a truncation, or,
// once ports, seq, ack and flags are in, the same segment with HeaderCut
// set (and the window when its two bytes are in).
func TestDecodeCut(t *testing.T) {
	var d Decoder
	for _, tc := range decodeCases(t) {
		if tc.noCut {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			wasCut := true
			segments := 0
			for n := 0; n <= len(tc.frame); n++ {
				var seg Segment
				got := d.Decode(tc.link, tc.frame[:n:n], &seg)
				switch {
				case got == SkipTruncated, got == tc.cutAlso && n < len(tc.frame):
					if segments > 0 {
						t.Fatalf("cut at %d: %v after a segment at a shorter cut", n, got)
					}
					continue
				case got != tc.want:
					t.Fatalf("cut at %d of %d: %v, want %v or truncated", n, len(tc.frame), got, tc.want)
				case got != SkipNone:
					continue
				}
				segments++
				if seg.HeaderCut && !wasCut {
					t.Fatalf("cut at %d: header cut after a whole header at a shorter cut", n)
				}
				wasCut = seg.HeaderCut
				want := tc.seg
				want.HeaderCut = seg.HeaderCut
				if seg.HeaderCut && seg.Window == 0 {
					want.Window = 0
				}
				if diff := cmp.Diff(want, seg, decSegCmp); diff != "" {
					t.Fatalf("cut at %d of %d (-want +got):\n%s", n, len(tc.frame), diff)
				}
			}
			if tc.want == SkipNone && segments == 0 {
				t.Fatal("no prefix gave a segment")
			}
		})
	}
}

// TestDecodeHeaderCut pins where a cut TCP header starts to count: 14
// bytes (ports, seq, ack, flags) give a segment, 13 do not.
func TestDecodeHeaderCut(t *testing.T) {
	v4 := decIP4TCP(t, decV4Src, decV4Dst, false, true) // 40-byte TCP header
	var d Decoder
	for _, tc := range []struct {
		tcpBytes   int
		want       Skip
		window     uint16
		headerCut  bool
		payloadLen uint32
	}{
		{13, SkipTruncated, 0, false, 0},
		{14, SkipNone, 0, true, decPayloadLen},
		{15, SkipNone, 0, true, decPayloadLen},
		{16, SkipNone, decWindow, true, decPayloadLen},
		{39, SkipNone, decWindow, true, decPayloadLen},
		{40, SkipNone, decWindow, false, decPayloadLen},
	} {
		var seg Segment
		frame := decEth(0x0800, v4[:20+tc.tcpBytes])
		got := d.Decode(layers.LinkTypeEthernet, frame, &seg)
		if got != tc.want {
			t.Errorf("%d TCP bytes: %v, want %v", tc.tcpBytes, got, tc.want)
			continue
		}
		if got == SkipNone && (seg.Window != tc.window || seg.HeaderCut != tc.headerCut || seg.Payload != tc.payloadLen ||
			seg.Seq != decSeq || seg.Ack != decAck || seg.Flags != ACK|PSH|FIN || seg.SrcPort != decSrcPort) {
			t.Errorf("%d TCP bytes: %+v", tc.tcpBytes, seg)
		}
	}
}

func TestDecodeTeredoPortOnly(t *testing.T) {
	v6teredo := decIP6TCP(t, decTeredoCli, decV6Dst, false)
	frame := decIP4(t, layers.IPProtocolUDP, decUDP(3797, 32900, v6teredo))
	var seg Segment
	if got := (&Decoder{}).Decode(layers.LinkTypeRaw, frame, &seg); got != SkipNone || seg.Tunnel != TunnelTeredo {
		t.Errorf("default decoder: %v %v, want a Teredo segment", got, seg.Tunnel)
	}
	if got := (&Decoder{TeredoPortOnly: true}).Decode(layers.LinkTypeRaw, frame, &seg); got != SkipUDP {
		t.Errorf("TeredoPortOnly: %v, want udp", got)
	}
}

func TestDecoderLinkType(t *testing.T) {
	for _, tc := range []struct {
		n    uint32
		want layers.LinkType
		ok   bool
	}{
		{1, layers.LinkTypeEthernet, true},
		{113, layers.LinkTypeLinuxSLL, true},
		{276, LinkTypeLinuxSLL2, true},
		{229, layers.LinkTypeIPv6, true},
		{20, 0, false},
		{256, 0, false},
		{1 << 20, 0, false},
	} {
		got, ok := DecoderLinkType(tc.n)
		if got != tc.want || ok != tc.ok {
			t.Errorf("DecoderLinkType(%d) = %d, %v; want %d, %v", tc.n, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSkipNames(t *testing.T) {
	seen := map[string]bool{}
	for s := Skip(0); int(s) < SkipKinds; s++ {
		name := s.String()
		for _, r := range name {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				t.Errorf("Skip %d is named %q, not lower-kebab-case", s, name)
				break
			}
		}
		if seen[name] {
			t.Errorf("Skip name %q is used twice", name)
		}
		seen[name] = true
	}
	if got := Skip(SkipKinds).String(); got != "Skip(18)" {
		t.Errorf("SkipKinds is not one past the last kind: Skip(SkipKinds) = %q", got)
	}
}

func TestDecodeAllocs(t *testing.T) {
	var frames []decFrame
	for _, tc := range decodeCases(t) {
		frames = append(frames, decFrame{tc.link, tc.frame})
	}
	for _, path := range append(decZeekCaptures(t), decEncapCaptures(t)...) {
		frames = append(frames, decReadFrames(t, path)...)
	}
	var d Decoder
	var seg Segment
	allocs := testing.AllocsPerRun(20, func() {
		for _, f := range frames {
			d.Decode(f.link, f.data, &seg)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %v times per run of %d frames, want 0", allocs, len(frames))
	}
}

// decZeekTraces is where the conformance captures are.
const decZeekTraces = "../testdata/conformance/zeek/traces"

// decFrame is one captured frame of a test capture.
type decFrame struct {
	link layers.LinkType
	data []byte
}

// decReadFrames reads every frame of a pcap or pcapng file with pcapgo.
func decReadFrames(tb testing.TB, path string) []decFrame {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var frames []decFrame
	if strings.HasSuffix(path, ".pcapng") {
		r, err := pcapgo.NewNgReader(f, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatalf("%s: packet %d: %v", path, len(frames)+1, err)
			}
			iface, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				tb.Fatalf("%s: packet %d: %v", path, len(frames)+1, err)
			}
			frames = append(frames, decFrame{iface.LinkType, data})
		}
		return frames
	}
	r, err := pcapgo.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("%s: packet %d: %v", path, len(frames)+1, err)
		}
		frames = append(frames, decFrame{r.LinkType(), data})
	}
	return frames
}

// decZeekCaptures lists the conformance captures.
func decZeekCaptures(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(decZeekTraces, "*.pcap*"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no captures in %s: %v", decZeekTraces, err)
	}
	sort.Strings(paths)
	return paths
}

// decReference is what gopacket's full decoder says of a frame: the TCP
// layer and the IP layer right around it, if any.
func decReference(f decFrame) (seg Segment, tcp *layers.TCP, ok bool) {
	pkt := gopacket.NewPacket(f.data, f.link, gopacket.DecodeOptions{NoCopy: true})
	var ip gopacket.Layer
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.IPv4, *layers.IPv6:
			ip = l
		case *layers.Dot1Q:
			if seg.VLAN == 0 && !ok {
				seg.VLAN = l.VLANIdentifier
				ok = true // first tag seen
			}
		case *layers.TCP:
			tcp = l
		}
	}
	if tcp != nil && len(tcp.Contents) < 20 {
		tcp = nil // gopacket adds the layer even when decoding it failed
	}
	if tcp == nil || ip == nil {
		return seg, nil, false
	}
	seg.SrcPort, seg.DstPort = uint16(tcp.SrcPort), uint16(tcp.DstPort)
	seg.Seq, seg.Ack, seg.Window = tcp.Seq, tcp.Ack, tcp.Window
	for i, on := range []bool{tcp.FIN, tcp.SYN, tcp.RST, tcp.PSH, tcp.ACK, tcp.URG, tcp.ECE, tcp.CWR} {
		if on {
			seg.Flags |= 1 << i
		}
	}
	// The payload length: the IP length less every header from the IP
	// header to the end of TCP's. gopacket keeps IPv6 hop-by-hop in the IPv6
	// layer and IPv4 AH in a layer of its own, so the headers are measured
	// by offset in the shared buffer (NoCopy): a subslice's offset is the
	// difference of capacities.
	headers := cap(ip.LayerContents()) - cap(tcp.Contents) + int(tcp.DataOffset)*4
	switch ip := ip.(type) {
	case *layers.IPv4:
		seg.Src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		seg.Dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		seg.Payload = uint32(int(ip.Length) - headers)
	case *layers.IPv6:
		seg.Src, _ = netip.AddrFromSlice(ip.SrcIP)
		seg.Dst, _ = netip.AddrFromSlice(ip.DstIP)
		seg.Payload = uint32(40 + int(ip.Length) - headers)
	}
	// gopacket's payload, cut to the IP length: the padding of a short
	// frame is not in it.
	if p := tcp.Payload; len(p) > 0 {
		seg.HTTP = httpStartOf(p[:min(len(p), int(seg.Payload))])
	}
	return seg, tcp, true
}

// TestDecodeZeekCrossCheck decodes every packet of every conformance
// capture and compares the segment with gopacket's full decoder. The only
// differences allowed are those gopacket cannot decode: Teredo (no decoder
// in gopacket), tunnels in the first fragment of an outer IP datagram
// (gopacket stops at the fragment) and TCP headers cut inside their
// options by the snaplen (gopacket rejects the layer).
func TestDecodeZeekCrossCheck(t *testing.T) {
	var d Decoder
	type flow struct {
		a, b netip.AddrPort
	}
	var (
		total, same int
		why         = map[string]int{}
		skips       [SkipKinds]int
	)
	for _, path := range decZeekCaptures(t) {
		name := filepath.Base(path)
		flows := map[flow]int{}
		tunnels := map[Tunnel]int{}
		vlans := 0
		for i, f := range decReadFrames(t, path) {
			total++
			var seg Segment
			got := d.Decode(f.link, f.data, &seg)
			skips[got]++
			ref, refTCP, refOK := decReference(f)
			pos := fmt.Sprintf("%s: packet %d", name, i+1)
			if got == SkipNone {
				a, b := netip.AddrPortFrom(seg.Src, seg.SrcPort), netip.AddrPortFrom(seg.Dst, seg.DstPort)
				if b.Compare(a) < 0 {
					a, b = b, a
				}
				flows[flow{a, b}]++
				tunnels[seg.Tunnel]++
				if seg.VLAN != 0 {
					vlans++
				}
			}
			switch {
			case got == SkipNone && refOK:
				want := ref
				want.HeaderCut, want.Tunnel = seg.HeaderCut, seg.Tunnel
				if n, ok := decPPPoEShorter(f); ok && seg.Payload < want.Payload && want.Payload-seg.Payload == n {
					why["ipv4 total length beyond the pppoe length (padded ipv4): gopacket counts the padding as payload"]++
					want.Payload = seg.Payload
					same-- // counted below, but as a difference
				}
				if diff := cmp.Diff(want, seg, decSegCmp); diff != "" {
					t.Errorf("%s (-gopacket +ours):\n%s", pos, diff)
					continue
				}
				same++
			case got == SkipNone && seg.Tunnel == TunnelTeredo:
				why["teredo: no decoder in gopacket"]++
			case got == SkipNone && seg.Tunnel == TunnelGTPU && decOuterFragment(f):
				why["gtp-u in the first fragment of an outer datagram: gopacket stops at the fragment"]++
			case got == SkipNone && seg.HeaderCut && refTCP == nil:
				why["tcp header cut in its options: gopacket rejects the layer"]++
			case got == SkipNone:
				t.Errorf("%s: we decode %+v, gopacket finds no TCP", pos, seg)
			case refOK:
				t.Errorf("%s: we skip (%v), gopacket decodes %+v", pos, got, ref)
			}
		}
		t.Logf("%s: flows %d, tunnels %v, tagged %d", name, len(flows), tunnels, vlans)
		switch name {
		case "tunnels_gtp_gtp2_different_udp_port.pcap":
			f := flow{netip.MustParseAddrPort("10.131.17.170:51803"), netip.MustParseAddrPort("173.199.115.168:80")}
			if flows[f] == 0 || tunnels[TunnelGTPU] == 0 {
				t.Errorf("%s: no GTP-U segment of %v in %v", name, f, flows)
			}
		case "tunnels_Teredo.pcap":
			n := 0
			for f, c := range flows {
				if f.a.Addr().Is6() {
					n += c
				}
			}
			if n == 0 || tunnels[TunnelTeredo] != n {
				t.Errorf("%s: %d IPv6 TCP segments, %d through Teredo; want some, all through Teredo", name, n, tunnels[TunnelTeredo])
			}
		case "mixed-vlan-mpls.pcap", "pppoe-over-qinq.pcap":
			if len(flows) == 0 || vlans == 0 {
				t.Errorf("%s: %d flows, %d tagged segments; want TCP flows, some tagged", name, len(flows), vlans)
			}
		}
	}
	// Checked independently with tshark: 22 TCP segments in Teredo on ports
	// 3797/32900, 42 outer first fragments (MF set, offset 0) of GTP-U
	// datagrams, 6 PPPoE frames whose IPv4 total length is 46 while the
	// PPPoE length says 42 (the peer's next seq confirms 0 payload bytes).
	wantWhy := map[string]int{
		"teredo: no decoder in gopacket": 22,
		"gtp-u in the first fragment of an outer datagram: gopacket stops at the fragment":                42,
		"ipv4 total length beyond the pppoe length (padded ipv4): gopacket counts the padding as payload": 6,
	}
	if diff := cmp.Diff(wantWhy, why); diff != "" {
		t.Errorf("differences with gopacket changed (-want +got):\n%s", diff)
	}
	var lines []string
	for k, v := range why {
		lines = append(lines, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(lines)
	t.Logf("%d packets: %d segments identical to gopacket's; differences: %s", total, same, strings.Join(lines, "; "))
	for s, n := range skips {
		if n > 0 {
			t.Logf("  %v: %d", Skip(s), n)
		}
	}
}

// decPPPoEShorter reports by how many bytes the IP length of a PPPoE frame
// exceeds what the PPPoE length leaves for it, if it does.
func decPPPoEShorter(f decFrame) (uint32, bool) {
	pkt := gopacket.NewPacket(f.data, f.link, gopacket.DecodeOptions{NoCopy: true})
	p, ok := pkt.Layer(layers.LayerTypePPPoE).(*layers.PPPoE)
	if !ok {
		return 0, false
	}
	room := int(p.Length) - 2 // less the PPP protocol field
	if ppp, ok := pkt.Layer(layers.LayerTypePPP).(*layers.PPP); ok && len(ppp.Contents) == 1 {
		room = int(p.Length) - 1
	}
	var ipLen int
	switch ip := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		ipLen = int(ip.Length)
	case *layers.IPv6:
		ipLen = 40 + int(ip.Length)
	default:
		return 0, false
	}
	if ipLen <= room {
		return 0, false
	}
	return uint32(ipLen - room), true
}

// TestDecodeZeekCut decodes every prefix of every frame of the Zeek
// captures, as every possible snaplen would cut it, and compares each with
// the whole frame's answer (itself checked against gopacket above): a cut
// frame gives a truncation, the same skip, or the same segment with
// HeaderCut set and, once the window is cut, window 0.
func TestDecodeZeekCut(t *testing.T) {
	var d Decoder
	decodes, segments, headerCuts, httpCuts := 0, 0, 0, 0
	for _, path := range decZeekCaptures(t) {
		name := filepath.Base(path)
		for i, f := range decReadFrames(t, path) {
			var full Segment
			want := d.Decode(f.link, f.data, &full)
			seen := false
			for n := 0; n < len(f.data); n++ {
				var seg Segment
				got := d.Decode(f.link, f.data[:n:n], &seg)
				decodes++
				switch {
				case got == SkipTruncated && !seen:
					continue
				case got == SkipUDP && full.Tunnel == TunnelTeredo && !seen: // the any-port heuristic needs the inner IPv6 header
					continue
				case got != want:
					t.Fatalf("%s: packet %d cut at %d of %d: %v, uncut %v", name, i+1, n, len(f.data), got, want)
				case got != SkipNone:
					continue
				}
				seen = true
				segments++
				w := full
				w.HeaderCut = seg.HeaderCut
				if seg.HTTP != full.HTTP {
					// The cut took the bytes that recognise a message, or
					// the end of a request line whose version disqualified
					// it: never another message.
					if seg.HTTP != 0 && full.HTTP != 0 {
						t.Fatalf("%s: packet %d cut at %d: HTTP %d, uncut %d", name, i+1, n, seg.HTTP, full.HTTP)
					}
					w.HTTP = seg.HTTP
					httpCuts++
				}
				if seg.HeaderCut {
					headerCuts++
					if seg.Window == 0 {
						w.Window = 0
					}
				}
				if w != seg {
					t.Fatalf("%s: packet %d cut at %d of %d: %+v, uncut %+v", name, i+1, n, len(f.data), seg, full)
				}
			}
		}
	}
	t.Logf("%d cut frames decoded: %d segments, %d of them with a cut TCP header, %d with an HTTP start cut", decodes, segments, headerCuts, httpCuts)
}

// TestDecodeRealCaptures compares the decoder with tshark on real loopback
// captures made on Linux by testdata/decode/make-captures.sh: `tcpdump -i
// any` in Linux cooked v1 and v2, and `tcpdump -i lo -s 60`, which cuts
// IPv4 segments inside their TCP options and IPv6 ones before the TCP
// flags. The .tshark.tsv files are tshark's reading of each packet.
func TestDecodeRealCaptures(t *testing.T) {
	paths, err := filepath.Glob("testdata/decode/*.pcap")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captures in testdata/decode: %v", err)
	}
	var d Decoder
	for _, path := range paths {
		name := filepath.Base(path)
		frames := decReadFrames(t, path)
		tsv, err := os.ReadFile(strings.TrimSuffix(path, ".pcap") + ".tshark.tsv")
		if err != nil {
			t.Fatal(err)
		}
		rows := strings.Split(strings.TrimSuffix(string(tsv), "\n"), "\n")[1:] // less the header; rows may end in empty columns
		if len(rows) != len(frames) {
			t.Fatalf("%s: %d frames, %d tshark rows", name, len(frames), len(rows))
		}
		segments, cut, truncated := 0, 0, 0
		for i, row := range rows {
			c := strings.Split(row, "\t")
			if len(c) != 12 {
				t.Fatalf("%s: tshark row %d has %d columns", name, i+1, len(c))
			}
			var seg Segment
			got := d.Decode(frames[i].link, frames[i].data, &seg)
			pos := fmt.Sprintf("%s: packet %d", name, i+1)
			if c[9] == "" { // tshark has no flags: cut before them
				if got != SkipTruncated {
					t.Errorf("%s: %v, want truncated", pos, got)
				}
				truncated++
				continue
			}
			if got != SkipNone {
				t.Errorf("%s: %v, want a segment", pos, got)
				continue
			}
			flags, err := strconv.ParseUint(strings.TrimPrefix(c[9], "0x"), 16, 16)
			if err != nil {
				t.Fatalf("%s: flags %q: %v", pos, c[9], err)
			}
			want := fmt.Sprintf("%s%s %s%s %s %s %s %s %d %s %s", c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], flags&0xff, c[10], c[11])
			have := fmt.Sprintf("%v %v %d %d %d %d %d %d %d", seg.Src, seg.Dst, seg.SrcPort, seg.DstPort, seg.Seq, seg.Ack, seg.Flags, seg.Window, seg.Payload)
			if have != want {
				t.Errorf("%s:\n got %s\nwant %s (tshark)", pos, have, want)
			}
			segments++
			if seg.HeaderCut {
				cut++
			}
		}
		t.Logf("%s: %d segments (%d with a cut header), %d truncated", name, segments, cut, truncated)
		if segments == 0 || (strings.Contains(name, "snaplen") && (cut == 0 || truncated == 0)) {
			t.Errorf("%s: the capture no longer covers what it was made for", name)
		}
	}
}

// decOuterFragment reports whether the outermost IPv4 header of an Ethernet
// frame (after VLAN tags) has more fragments to come.
func decOuterFragment(f decFrame) bool {
	pkt := gopacket.NewPacket(f.data, f.link, gopacket.DecodeOptions{NoCopy: true})
	ip, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	return ok && ip.Flags&layers.IPv4MoreFragments != 0 && ip.FragOffset == 0
}

// FuzzDecode decodes arbitrary frames of every supported link type. The
// invariants: no panic; a known Skip kind; a segment has two addresses of
// one family and, where gopacket's full decoder also finds TCP, equals its
// reading (decCheckGopacket); and cutting the last byte off (as a smaller
// snaplen would) gives a truncation, the same skip, or the same segment (only HeaderCut
// and the window once cut may change; for frames whose IP length field is
// 0 (TSO) the captured length is the IP length, so the payload may change
// or the header no longer fit; a Teredo frame found by the any-port
// heuristic may turn into plain UDP).
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases(f) {
		f.Add(uint8(tc.link), tc.frame)
	}
	own, err := filepath.Glob("testdata/decode/*.pcap")
	if err != nil {
		f.Fatal(err)
	}
	own = append(own, decEncapCaptures(f)...)
	for _, path := range append(decZeekCaptures(f), own...) {
		frames := decReadFrames(f, path)
		if len(frames) > 40 {
			frames = frames[:40]
		}
		for _, fr := range frames {
			f.Add(uint8(fr.link), fr.data)
		}
	}
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		var d Decoder
		var seg, cut Segment
		got := d.Decode(layers.LinkType(link), data, &seg)
		if int(got) >= SkipKinds {
			t.Fatalf("unknown Skip %d", got)
		}
		if got == SkipNone && (!seg.Src.IsValid() || !seg.Dst.IsValid() || seg.Src.Is4() != seg.Dst.Is4()) {
			t.Fatalf("segment with bad addresses: %+v", seg)
		}
		if got == SkipNone {
			decCheckGopacket(t, decFrame{layers.LinkType(link), data}, seg)
		}
		if len(data) == 0 {
			return
		}
		c := d.Decode(layers.LinkType(link), data[:len(data)-1], &cut)
		switch {
		case c == SkipTruncated, c == got && got != SkipNone:
		case (c == SkipUDP || c == SkipIPFragment) && seg.Tunnel == TunnelTeredo: // set before the inner packet is decoded
		case c == SkipMalformed && decTSOLength(link, data): // the captured length is the IP length
		case c == SkipNone && got == SkipNone:
			want := seg
			want.HeaderCut = cut.HeaderCut
			if cut.HeaderCut {
				want.Window = cut.Window
			}
			if cut.Payload != seg.Payload && decTSOLength(link, data) {
				want.Payload = cut.Payload
			}
			if want != cut {
				t.Fatalf("cut by one byte: %+v, uncut: %+v", cut, seg)
			}
		default:
			t.Fatalf("cut by one byte: %v, uncut: %v", c, got)
		}
	})
}

// decCheckGopacket compares a segment with what gopacket's full
// decoder finds in the same frame, when it finds TCP at all. Where the two
// may rightly differ, the comparison is skipped: IP length 0 (TSO), PPPoE
// lengths below the IP length, tunnels (gopacket decodes GTP-U without
// checking its lengths).
func decCheckGopacket(t *testing.T, f decFrame, seg Segment) {
	t.Helper()
	// gopacket's PPPoE decoder slices up to the PPPoE length within the
	// slice's capacity, so give it none beyond the frame.
	f.data = f.data[:len(f.data):len(f.data)]
	ref, _, ok := decReference(f)
	if !ok || seg.Tunnel != TunnelNone || decTSOLength(uint8(f.link), f.data) {
		return
	}
	if _, ok := decPPPoEShorter(f); ok {
		return
	}
	ref.HeaderCut = seg.HeaderCut
	if ref != seg {
		t.Fatalf("decoded %+v, gopacket %+v", seg, ref)
	}
}

// decTSOLength reports whether some IP header of the frame may have a zero
// length field, which makes the decoder take the captured length.
func decTSOLength(link uint8, data []byte) bool {
	for i := 0; i+6 <= len(data); i++ {
		if (data[i]>>4 == 4 && data[i+2] == 0 && data[i+3] == 0) || (data[i]>>4 == 6 && data[i+4] == 0 && data[i+5] == 0) {
			return true
		}
	}
	return false
}

// ExampleDecoder reads a capture with pcapgo and decodes every frame,
// counting the ones that hold no TCP segment by kind.
func ExampleDecoder() {
	f, err := os.Open("../testdata/conformance/zeek/traces/tunnels_gtp_gtp2_different_udp_port.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	var (
		d       Decoder
		seg     Segment
		skipped [SkipKinds]int
		n       int
	)
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if err != nil {
			break // io.EOF, or a damaged capture: the reader's business
		}
		n++
		if s := d.Decode(r.LinkType(), data, &seg); s != SkipNone {
			skipped[s]++
			continue
		}
		if n == 1 {
			fmt.Printf("packet 1: %v:%d > %v:%d seq %d ack %d flags %#x payload %d tunnel %d\n",
				seg.Src, seg.SrcPort, seg.Dst, seg.DstPort, seg.Seq, seg.Ack, uint8(seg.Flags), seg.Payload, seg.Tunnel)
		}
		skipped[SkipNone]++
	}
	for s, c := range skipped {
		if c > 0 {
			fmt.Printf("%s: %d\n", Skip(s), c)
		}
	}
	// Output:
	// packet 1: 10.131.17.170:51803 > 173.199.115.168:80 seq 3907987487 ack 0 flags 0x2 payload 0 tunnel 1
	// none: 78
	// ip-fragment: 42
}

// TestDecodeZeekPacketCounts checks the decoder against Zeek's own
// verdicts: for every TCP connection of every conformance capture, the
// packets Zeek counted (orig_pkts + resp_pkts, summed over the records of
// one 4-tuple) equal the segments decoded for that 4-tuple, and every
// 4-tuple decoded is one Zeek reports. This covers the inner connections of
// GTP-U (where Zeek reassembles the outer fragments and counts one packet
// per datagram) and Teredo, PPPoE over QinQ, VLAN and MPLS. Records whose
// baseline keeps no packet counts (`?`) are only checked for presence;
// tcp_syn-bad.pcap's only packet has a bad checksum, which Zeek (run without
// -C there) drops and we, like Zeek with -C, do not.
func TestDecodeZeekPacketCounts(t *testing.T) {
	var d Decoder
	type key struct{ a, b netip.AddrPort }
	order := func(a, b netip.AddrPort) key {
		if b.Compare(a) < 0 {
			a, b = b, a
		}
		return key{a, b}
	}
	checked := 0
	for _, path := range decZeekCaptures(t) {
		name := filepath.Base(path)
		ours := map[key]int{}
		for _, f := range decReadFrames(t, path) {
			var seg Segment
			if d.Decode(f.link, f.data, &seg) == SkipNone {
				ours[order(netip.AddrPortFrom(seg.Src, seg.SrcPort), netip.AddrPortFrom(seg.Dst, seg.DstPort))]++
			}
		}
		base := strings.TrimSuffix(strings.TrimSuffix(name, ".pcapng"), ".pcap")
		tsv, err := os.ReadFile(filepath.Join(decZeekTraces, "..", base+".expected.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		zeek, counted := map[key]int{}, map[key]bool{}
		for i, row := range strings.Split(strings.TrimSuffix(string(tsv), "\n"), "\n")[1:] {
			c := strings.Split(row, "\t")
			if len(c) < 10 {
				t.Fatalf("%s.expected.tsv:%d: %d columns", base, i+2, len(c))
			}
			if c[4] != "tcp" {
				continue
			}
			a, err1 := netip.ParseAddr(c[0])
			pa, err2 := strconv.ParseUint(c[1], 10, 16)
			b, err3 := netip.ParseAddr(c[2])
			pb, err4 := strconv.ParseUint(c[3], 10, 16)
			if err := errors.Join(err1, err2, err3, err4); err != nil {
				t.Fatalf("%s.expected.tsv:%d: %v", base, i+2, err)
			}
			k := order(netip.AddrPortFrom(a, uint16(pa)), netip.AddrPortFrom(b, uint16(pb)))
			o, err1 := strconv.Atoi(c[8])
			r, err2 := strconv.Atoi(c[9])
			zeek[k] += o + r
			if err1 == nil && err2 == nil && name != "tcp_syn-bad.pcap" {
				counted[k] = true
			}
		}
		for k, n := range zeek {
			switch {
			case ours[k] == 0:
				t.Errorf("%s: Zeek's connection %v <-> %v: no segment decoded", name, k.a, k.b)
			case counted[k] && ours[k] != n:
				t.Errorf("%s: %v <-> %v: %d segments decoded, Zeek counts %d packets", name, k.a, k.b, ours[k], n)
			case counted[k]:
				checked++
			}
		}
		for k, n := range ours {
			if _, ok := zeek[k]; !ok {
				t.Errorf("%s: %v <-> %v: %d segments decoded, no such connection in Zeek's log", name, k.a, k.b, n)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no connection's packet count checked")
	}
	t.Logf("%d connections: decoded segments equal Zeek's packet counts", checked)
}
