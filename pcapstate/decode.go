package pcapstate

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/gopacket/layers"
)

// LinkTypeLinuxSLL2 is Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276,
// what `tcpdump -i any` writes since libpcap 1.10). gopacket's LinkType is
// 8 bits wide, so pcapgo hands 276 over as 276&0xff = 20; the decoder takes
// that value (no link type 20 is assigned). Use DecoderLinkType to map a
// link type read from a file header.
const LinkTypeLinuxSLL2 = layers.LinkType(276 & 0xff)

// Raw IP link types other than LINKTYPE_RAW (101): DLT_RAW is 12 on most
// systems and 14 on OpenBSD, and both appear in files written there.
const (
	linkTypeRawDLT12 = layers.LinkType(12)
	linkTypeRawDLT14 = layers.LinkType(14)
)

// DecoderLinkType maps a link type as stored in a pcap or pcapng header (32
// or 16 bits) to the value Decode takes. It reports false for a link type
// that layers.LinkType cannot represent unambiguously (above 255, except
// SLL2, and 20, which would be mistaken for SLL2); Decode would count such
// frames as SkipUnsupportedLink anyway, so the caller can do the same.
func DecoderLinkType(n uint32) (layers.LinkType, bool) {
	switch {
	case n == 276:
		return LinkTypeLinuxSLL2, true
	case n > 255 || n == 20:
		return 0, false
	}
	return layers.LinkType(n), true
}

// Decoder decodes captured frames into TCP segments without allocating. The
// zero value is ready to use. It keeps no state between frames and Decode
// only reads its fields, so one Decoder may serve several goroutines.
type Decoder struct {
	// TeredoPortOnly limits Teredo decapsulation to UDP port 3544. By
	// default a UDP datagram on any port is also taken as Teredo when its
	// payload is exactly one IPv6 packet (after the optional Teredo
	// authentication and origin indication headers) to or from a Teredo
	// address (2001::/32): after qualification, Teredo clients and relays
	// talk on ephemeral ports.
	TeredoPortOnly bool
}

// Ethertypes, IP protocols and ports the decoder looks at.
const (
	etherIPv4     = 0x0800
	etherARP      = 0x0806
	etherRARP     = 0x8035
	etherVLAN     = 0x8100
	etherQinQ     = 0x88a8
	etherQinQOld  = 0x9100
	etherIPv6     = 0x86dd
	etherMPLS     = 0x8847
	etherMPLSMult = 0x8848
	etherPPPoES   = 0x8864
	etherTEB      = 0x6558 // transparent Ethernet bridging, in Geneve

	protoHopByHop = 0
	protoICMP     = 1
	protoIPIP     = 4
	protoTCP      = 6
	protoUDP      = 17
	proto6in4     = 41
	protoRouting  = 43
	protoFragment = 44
	protoGRE      = 47
	protoESP      = 50
	protoAH       = 51
	protoICMPv6   = 58
	protoNoNext   = 59
	protoDstOpts  = 60
	protoEtherIP  = 97
	protoL2TP     = 115
	protoMPLSinIP = 137

	portGTPU       = 2152
	portTeredo     = 3544
	portVXLAN      = 4789
	portVXLANLinux = 8472 // the Linux kernel's default before the IANA port (flannel)
	portGeneve     = 6081
)

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// Decode decodes one captured frame of link type link (data: the captured
// bytes, possibly cut by the snaplen) into seg. It returns SkipNone when seg
// holds a TCP segment, otherwise why the frame holds none; seg is then
// partly filled and must not be used.
func (d *Decoder) Decode(link layers.LinkType, data []byte, seg *Segment) Skip {
	*seg = Segment{}
	if link == layers.LinkTypeEthernet { // most captures: before the switch's search
		return d.ethernet(data, encap{}, seg)
	}
	switch link {
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return d.loopback(data, seg)
	case layers.LinkTypeRaw, linkTypeRawDLT12, linkTypeRawDLT14:
		return d.rawIP(data, 0, seg)
	case layers.LinkTypeIPv4:
		return d.rawIP(data, 4, seg)
	case layers.LinkTypeIPv6:
		return d.rawIP(data, 6, seg)
	case layers.LinkTypeLinuxSLL:
		return d.sll(data, seg)
	case LinkTypeLinuxSLL2:
		return d.sll2(data, seg)
	case layers.LinkTypePPP:
		return d.ppp(data, -1, encap{}, seg)
	case layers.LinkTypePPP_HDLC:
		return d.pppSerial(data, seg)
	case layers.LinkTypeC_HDLC:
		return d.ciscoHDLC(data, encap{}, seg)
	case linkTypeNFLOG:
		return d.nflog(data, seg)
	case linkTypeIPoIB:
		return d.ipoib(data, seg)
	}
	return SkipUnsupportedLink
}

// rawIP decodes a frame that starts with an IP header; want is the IP
// version the link type promises, 0 for either.
func (d *Decoder) rawIP(b []byte, want uint8, seg *Segment) Skip {
	if len(b) < 1 {
		return SkipTruncated
	}
	v := b[0] >> 4
	if want != 0 && v != want {
		return SkipMalformed
	}
	switch v {
	case 4:
		return d.ipv4(b, -1, encap{}, seg)
	case 6:
		return d.ipv6(b, -1, encap{}, seg)
	}
	return SkipMalformed
}

// ethernet decodes an Ethernet II or 802.3 LLC/SNAP frame found in in.
func (d *Decoder) ethernet(b []byte, in encap, seg *Segment) Skip {
	if len(b) < 14 {
		return SkipTruncated
	}
	et := be16(b[12:])
	b = b[14:]
	if et <= 1500 { // 802.3 length: IP only with an LLC/SNAP header
		if len(b) < 8 {
			return SkipTruncated
		}
		if b[0] != 0xaa || b[1] != 0xaa || b[2] != 0x03 || b[3] != 0 || b[4] != 0 || (b[5] != 0 && b[5] != 0xf8) {
			return SkipOtherEtherType // STP, IPX, NetBIOS, other LLC; SNAP with a vendor's own protocol IDs (CDP, ...)
		}
		et = be16(b[6:])
		b = b[8:]
	}
	return d.etherType(et, b, in, seg)
}

// loopback decodes BSD null (0) and OpenBSD loop (108) frames: a 4-byte
// address family, in the writer's byte order for null and in network order
// for loop, but files in the wild have both, so both are accepted.
func (d *Decoder) loopback(b []byte, seg *Segment) Skip {
	if len(b) < 4 {
		return SkipTruncated
	}
	fam := binary.LittleEndian.Uint32(b)
	if fam > 0xffff {
		fam = be32(b)
	}
	switch fam {
	case 2: // AF_INET everywhere
		return d.ipv4(b[4:], -1, encap{}, seg)
	case 23, 24, 28, 30: // AF_INET6: Windows (Npcap), Net/OpenBSD, FreeBSD, Darwin
		return d.ipv6(b[4:], -1, encap{}, seg)
	}
	return SkipOtherEtherType
}

// sll decodes a Linux cooked v1 frame: packet type, ARPHRD type, address
// length, 8 address bytes, protocol.
func (d *Decoder) sll(b []byte, seg *Segment) Skip {
	if len(b) < 16 {
		return SkipTruncated
	}
	return d.cooked(be16(b[2:]), be16(b[14:]), b[16:], seg)
}

// sll2 decodes a Linux cooked v2 frame: protocol, reserved, interface
// index, ARPHRD type, packet type, address length, 8 address bytes.
func (d *Decoder) sll2(b []byte, seg *Segment) Skip {
	if len(b) < 20 {
		return SkipTruncated
	}
	return d.cooked(be16(b[8:]), be16(b[0:]), b[20:], seg)
}

// cooked dispatches on the protocol of a Linux cooked frame, an ethertype
// unless the device type says otherwise.
func (d *Decoder) cooked(arphrd, proto uint16, b []byte, seg *Segment) Skip {
	switch arphrd {
	case 824, 803: // ARPHRD_NETLINK, ARPHRD_IEEE80211_RADIOTAP
		return SkipOtherEtherType
	}
	if proto < 0x0600 { // 802.2 LLC, Novell 802.3, CAN and other non-ethertypes
		return SkipOtherEtherType
	}
	return d.etherType(proto, b, encap{}, seg)
}

// etherType decodes the payload b of ethertype et, found in in, going
// through any VLAN tags, PBB, VN-Tag and Cisco MetaData headers, MPLS label stacks and
// PPPoE sessions. The VLAN ID kept is the outermost tag's: a tunnelled
// frame's tag only counts when the outer frame had none.
func (d *Decoder) etherType(et uint16, b []byte, in encap, seg *Segment) Skip {
	if et == etherIPv4 { // most frames: before the switch's search
		return d.ipv4(b, -1, in, seg)
	}
	tagged := in.tun != TunnelNone && seg.VLAN != 0
	for {
		switch et {
		case etherIPv4:
			return d.ipv4(b, -1, in, seg)
		case etherIPv6:
			return d.ipv6(b, -1, in, seg)
		case etherVLAN, etherQinQ, etherQinQOld:
			if len(b) < 4 {
				return SkipTruncated
			}
			if !tagged {
				seg.VLAN = be16(b) & 0x0fff
				tagged = true
			}
			et = be16(b[2:])
			b = b[4:]
		case etherPBB:
			// 802.1ah I-tag: flags and I-SID, then the customer's
			// destination and source MAC addresses and ethertype.
			if len(b) < 18 {
				return SkipTruncated
			}
			et = be16(b[16:])
			b = b[18:]
		case etherVNTag:
			// Cisco VN-Tag (802.1Qbh): 4 bytes of virtual interface IDs.
			if len(b) < 6 {
				return SkipTruncated
			}
			et = be16(b[4:])
			b = b[6:]
		case etherCMD:
			// Cisco MetaData (TrustSec): version, length, option, SGT.
			if len(b) < 8 {
				return SkipTruncated
			}
			et = be16(b[6:])
			b = b[8:]
		case etherMPLS, etherMPLSMult:
			return d.mpls(b, in, seg)
		case etherPPPoES:
			return d.pppoe(b, in, seg)
		case etherARP, etherRARP:
			return SkipARP
		default:
			return SkipOtherEtherType
		}
	}
}

// mpls skips a label stack and guesses the payload from its first nibble,
// as there is no protocol field.
func (d *Decoder) mpls(b []byte, in encap, seg *Segment) Skip {
	for {
		if len(b) < 4 {
			return SkipTruncated
		}
		bottom := b[2]&1 != 0
		b = b[4:]
		if bottom {
			break
		}
	}
	if len(b) < 1 {
		return SkipTruncated
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b, -1, in, seg)
	case 6:
		return d.ipv6(b, -1, in, seg)
	}
	return SkipMPLSNonIP // pseudowires (Ethernet over MPLS), control words
}

// pppoe decodes a PPPoE session frame (RFC 2516) and its PPP protocol
// field, which may be compressed to one byte (RFC 1661 PFC).
func (d *Decoder) pppoe(b []byte, in encap, seg *Segment) Skip {
	if len(b) < 7 {
		return SkipTruncated
	}
	if b[0] != 0x11 || b[1] != 0 { // version 1, type 1, code 0 (session data)
		return SkipMalformed
	}
	n := int(be16(b[4:])) // PPP frame length: protocol and payload
	var proto uint16
	if b[6]&1 != 0 {
		proto, b, n = uint16(b[6]), b[7:], n-1
	} else {
		if len(b) < 8 {
			return SkipTruncated
		}
		proto, b, n = be16(b[6:]), b[8:], n-2
	}
	if n < 0 {
		return SkipMalformed
	}
	in.pppoe = true
	return d.pppPayload(proto, b, n, in, seg)
}

// encap is where a header was found: the outermost tunnel around it
// (TunnelNone outside any), how many tunnels deep, whether it is the
// payload of a PPPoE session, and whether the length handed down was taken
// from the captured length because a length field was 0 (TSO/GSO, BIG
// TCP), so that an inner length field of 0 may be taken the same way.
type encap struct {
	tun      Tunnel
	depth    uint8
	pppoe    bool
	guessLen bool
}

// maxTunnels bounds tunnels in tunnels: deeper is counted as
// unsupported-tunnel, so that a crafted frame cannot recurse for long.
const maxTunnels = 4

// inner returns the encapsulation of a tunnel t's payload, and false when
// it would be nested too deep. The outermost tunnel names the segment's.
func (in encap) inner(t Tunnel, seg *Segment) (encap, bool) {
	if in.depth >= maxTunnels {
		return in, false
	}
	if seg.Tunnel == TunnelNone {
		seg.Tunnel = t
	}
	return encap{tun: t, depth: in.depth + 1}, true
}

// ipv4 decodes an IPv4 packet. wire is the length the enclosing header
// gives it, -1 when it gives none; in is where it was found. An IP length
// beyond wire is malformed, except after PPPoE, where the PPPoE length
// wins: some access concentrators pad small IPv4 packets to 46 bytes and
// count the padding in the IPv4 total length but not in the PPPoE length,
// and the peer's next sequence number shows the PPPoE length is the true
// one (as Wireshark also reads it).
func (d *Decoder) ipv4(b []byte, wire int, in encap, seg *Segment) Skip {
	if len(b) < 20 {
		return SkipTruncated
	}
	if b[0]>>4 != 4 {
		return SkipMalformed
	}
	hl := int(b[0]&0x0f) * 4
	total := int(be16(b[2:]))
	in.guessLen = false
	if total == 0 && wire < 0 && !in.pppoe {
		// TSO/GSO: the sending host captured a segment before the NIC
		// cut it, with total length 0. The captured length is all there is.
		total, in.guessLen = len(b), true
	}
	if in.pppoe {
		total, in.pppoe = min(total, wire), false
	}
	if hl < 20 || total < hl || (wire >= 0 && total > wire) {
		return SkipMalformed
	}
	if len(b) < hl {
		return SkipTruncated
	}
	seg.Src = netip.AddrFrom4([4]byte(b[12:16]))
	seg.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	frag := be16(b[6:])
	if frag&0x3fff != 0 && b[9] == protoTCP {
		start := uint32(frag&0x1fff) * 8
		seg.frag = fragPos{be16(b[4:]), start, start + uint32(total-hl), frag&0x2000 != 0}
	}
	if frag&0x1fff != 0 {
		return SkipIPFragment // no transport header in a non-first fragment
	}
	return d.transport(b[9], b[hl:], total-hl, frag&0x2000 != 0, in, seg)
}

// ipv6 decodes an IPv6 packet and its extension headers. wire and in are
// as for ipv4.
func (d *Decoder) ipv6(b []byte, wire int, in encap, seg *Segment) Skip {
	if len(b) < 40 {
		return SkipTruncated
	}
	if b[0]>>4 != 6 {
		return SkipMalformed
	}
	n := int(be16(b[4:])) // payload length: extension headers and upper layer
	if in.pppoe {
		n, in.pppoe = min(n, wire-40), false
		wire = -2 // bounds checked; a 0 length is not TSO
	}
	if wire >= 0 && (40+n > wire || n < 0) {
		return SkipMalformed
	}
	in.guessLen = false
	seg.Src = netip.AddrFrom16([16]byte(b[8:24]))
	seg.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	nh := b[6]
	b = b[40:]
	unknown := n == 0 // jumbogram or TSO; settled after the hop-by-hop header
	first := true
	frag := false
	off := 0
	for {
		switch nh {
		case protoHopByHop, protoRouting, protoDstOpts, protoFragment, protoAH:
		case protoESP:
			return SkipESP
		case protoNoNext:
			return SkipIPv6NoNext
		default:
			if unknown {
				if wire != -1 {
					return SkipMalformed
				}
				n, in.guessLen = len(b), true // TSO/GSO or BIG TCP without a jumbo option
			}
			if off > len(b) {
				return SkipTruncated
			}
			return d.transport(nh, b[off:], n-off, frag, in, seg)
		}
		if len(b) < off+8 {
			return SkipTruncated
		}
		next, hl := b[off], 8
		switch nh {
		case protoFragment:
			fo := be16(b[off+2:])
			if fo>>3 != 0 {
				return SkipIPFragment
			}
			frag = fo&1 != 0
		case protoAH:
			hl = (int(b[off+1]) + 2) * 4
		default:
			hl = (int(b[off+1]) + 1) * 8
			if nh == protoHopByHop && first && unknown {
				if len(b) < off+hl {
					return SkipTruncated
				}
				if j, ok := jumboLength(b[off+2 : off+hl]); ok {
					n, unknown = j, false
					if wire >= 0 && 40+n > wire {
						return SkipMalformed
					}
				}
			}
		}
		nh, first = next, false
		off += hl
		if !unknown && off > n {
			return SkipMalformed
		}
	}
}

// jumboLength finds the Jumbo Payload option (RFC 2675) among hop-by-hop
// options.
func jumboLength(opts []byte) (int, bool) {
	for i := 0; i < len(opts); {
		if opts[i] == 0 { // Pad1
			i++
			continue
		}
		if i+2 > len(opts) {
			return 0, false
		}
		l := int(opts[i+1])
		if opts[i] == 0xc2 && l == 4 && i+6 <= len(opts) {
			j := int(be32(opts[i+2:]))
			return j, j > 0
		}
		i += 2 + l
	}
	return 0, false
}

// transport decodes the upper layer of an IP packet: b is what was
// captured of it, n its length from the IP header, frag whether the IP
// packet is the first fragment of a larger datagram. In a first fragment,
// what follows the fragment's n bytes (Ethernet padding) is not read, and
// headers that go on past them are in the next fragment: ip-fragment, not
// truncated.
func (d *Decoder) transport(proto uint8, b []byte, n int, frag bool, in encap, seg *Segment) Skip {
	if !frag {
		if proto == protoTCP { // most frames: no call in between
			return tcp(b, n, false, seg)
		}
		return d.payload(proto, b, n, false, in, seg)
	}
	if len(b) > n {
		b = b[:n]
	}
	s := d.payload(proto, b, n, true, in, seg)
	if s == SkipTruncated && len(b) == n {
		return SkipIPFragment
	}
	return s
}

// payload is transport's work.
func (d *Decoder) payload(proto uint8, b []byte, n int, frag bool, in encap, seg *Segment) Skip {
	switch proto {
	case protoTCP:
		return tcp(b, n, frag, seg)
	case protoUDP:
		return d.udp(b, n, frag, in, seg)
	case protoGRE:
		return d.gre(b, n, frag, in, seg)
	case protoIPIP, proto6in4:
		return d.ipInIP(proto, b, n, frag, in, seg)
	}
	if frag {
		return SkipIPFragment
	}
	switch proto {
	case protoICMP:
		return SkipICMP
	case protoICMPv6:
		return SkipICMPv6
	case protoESP:
		return SkipESP
	case protoNoNext:
		return SkipIPv6NoNext
	case protoAH: // IPv4 AH; IPv6 AH is an extension header
		if len(b) < 2 {
			return SkipTruncated
		}
		hl := (int(b[1]) + 2) * 4
		if hl > n {
			return SkipMalformed
		}
		if len(b) < hl {
			return SkipTruncated
		}
		return d.transport(b[0], b[hl:], n-hl, false, in, seg)
	case protoEtherIP, protoL2TP, protoMPLSinIP:
		return SkipUnsupportedTunnel
	}
	return SkipOtherIPProtocol
}

// tcp decodes a TCP header of n bytes with its payload (from the IP
// length), of which b was captured. In the first fragment of an IP
// datagram (frag), n is the fragment's share: the segment is decoded when
// its header is whole in the fragment and marked Fragment, and a header
// split across fragments (RFC 1858's tiny fragments) is ip-fragment.
func tcp(b []byte, n int, frag bool, seg *Segment) Skip {
	if n < 20 {
		if frag {
			return SkipIPFragment
		}
		return SkipMalformed
	}
	if len(b) < 14 {
		return SkipTruncated
	}
	hl := int(b[12]>>4) * 4
	if hl < 20 {
		return SkipMalformed
	}
	if hl > n {
		if frag {
			return SkipIPFragment
		}
		return SkipMalformed
	}
	seg.SrcPort = be16(b)
	seg.DstPort = be16(b[2:])
	seg.Seq = be32(b[4:])
	seg.Ack = be32(b[8:])
	seg.Flags = Flags(b[13])
	if len(b) >= 16 {
		seg.Window = be16(b[14:])
	}
	seg.HeaderCut = len(b) < hl
	seg.Payload = uint32(n - hl)
	seg.Fragment = frag
	seg.HTTP = 0
	// The payload's captured bytes: the snaplen may cut them, and a short
	// frame's link-layer padding after them is not payload. One load
	// passes over the payloads whose first byte begins no HTTP message.
	if n > hl && len(b) > hl && httpFirst[b[hl]] {
		seg.HTTP = httpStartOf(b[hl:min(len(b), n)])
	}
	return SkipNone
}

// udp decodes a UDP header and the tunnel it may carry: GTP-U, Teredo,
// VXLAN or Geneve. The UDP length covers the whole datagram, so a tunnel is
// decoded even in the first fragment of a fragmented datagram: the inner
// IP header carries the inner packet's true length.
func (d *Decoder) udp(b []byte, n int, frag bool, in encap, seg *Segment) Skip {
	if n < 8 {
		if frag {
			return SkipIPFragment
		}
		return SkipMalformed
	}
	if len(b) < 8 {
		return SkipTruncated
	}
	sp, dp := be16(b), be16(b[2:])
	ul := int(be16(b[4:]))
	if ul == 0 && !frag { // IPv6 jumbogram (RFC 2675), GSO, BIG TCP
		ul, in.guessLen = n, true
	}
	if ul < 8 || (!frag && ul > n) {
		return SkipMalformed
	}
	b, ul = b[8:], ul-8
	switch {
	case sp == portGTPU || dp == portGTPU:
		return d.gtpu(b, ul, in, seg)
	case sp == portTeredo || dp == portTeredo:
		return d.teredo(b, ul, in, seg)
	case !d.TeredoPortOnly && looksTeredo(b, ul):
		return d.teredo(b, ul, in, seg)
	case dp == portVXLAN || dp == portVXLANLinux:
		if s := d.vxlan(b, ul, in, seg); s != SkipUDP {
			return s
		}
	case dp == portGeneve:
		if s := d.geneve(b, ul, in, seg); s != SkipUDP {
			return s
		}
	}
	if frag {
		return SkipIPFragment
	}
	return SkipUDP
}

// gtpu decodes a GTPv1-U header (3GPP TS 29.281) of a UDP payload of n
// bytes, with its optional sequence number, N-PDU number and chain of
// extension headers, and the IP packet of a T-PDU.
func (d *Decoder) gtpu(b []byte, n int, in encap, seg *Segment) Skip {
	if n < 8 {
		return SkipMalformed
	}
	if len(b) < 8 {
		return SkipTruncated
	}
	flags := b[0]
	if flags>>5 != 1 || flags&0x10 == 0 { // version 1, protocol type GTP (not GTP')
		return SkipUnsupportedTunnel
	}
	end := 8 + int(be16(b[2:])) // the length field counts what follows the mandatory 8 bytes
	if end > n {
		return SkipMalformed
	}
	if b[1] != 0xff { // echo, error indication, end marker, ...
		return SkipGTPSignalling
	}
	off := 8
	if flags&0x07 != 0 { // E, S or PN: sequence number, N-PDU number, next extension type
		if end < 12 {
			return SkipMalformed
		}
		if len(b) < 12 {
			return SkipTruncated
		}
		off = 12
		next := b[11]
		if flags&0x04 == 0 {
			next = 0 // without E the next extension header type is to be ignored
		}
		for next != 0 {
			if len(b) < off+1 {
				return SkipTruncated
			}
			l := int(b[off]) * 4
			if l == 0 || off+l > end {
				return SkipMalformed
			}
			if len(b) < off+l {
				return SkipTruncated
			}
			next = b[off+l-1]
			off += l
		}
	}
	if len(b) < off+1 {
		return SkipTruncated
	}
	wire := end - off
	if in.guessLen {
		wire = -1
	}
	switch b[off] >> 4 {
	case 4, 6:
		in, ok := in.inner(TunnelGTPU, seg)
		if !ok {
			return SkipUnsupportedTunnel
		}
		if b[off]>>4 == 4 {
			return d.ipv4(b[off:], wire, in, seg)
		}
		return d.ipv6(b[off:], wire, in, seg)
	}
	return SkipUnsupportedTunnel // Ethernet or unstructured PDU sessions
}

// teredoHeaders skips the optional Teredo authentication and origin
// indication headers (RFC 4380 5.1.1) of a UDP payload of n bytes and
// returns the offset of the IPv6 packet.
func teredoHeaders(b []byte, n int) (int, Skip) {
	if n < 2 {
		return 0, SkipMalformed
	}
	if len(b) < 2 {
		return 0, SkipTruncated
	}
	off := 0
	if b[0] == 0 && b[1] == 1 { // authentication
		if len(b) < 4 {
			return 0, SkipTruncated
		}
		off = 4 + int(b[2]) + int(b[3]) + 8 + 1 // client id, auth value, nonce, confirmation
		if off+2 > n {
			return 0, SkipMalformed
		}
		if len(b) < off+2 {
			return 0, SkipTruncated
		}
	}
	if b[off] == 0 && b[off+1] == 0 { // origin indication
		off += 8
	}
	if off+40 > n {
		return 0, SkipMalformed // no room for an IPv6 header
	}
	if len(b) < off+1 {
		return 0, SkipTruncated
	}
	return off, SkipNone
}

// looksTeredo reports whether a UDP payload of n bytes, b captured, is
// exactly one IPv6 packet to or from a Teredo address, after optional
// Teredo headers.
func looksTeredo(b []byte, n int) bool {
	off, s := teredoHeaders(b, n)
	if s != SkipNone || len(b) < off+40 {
		return false
	}
	ip := b[off:]
	if ip[0]>>4 != 6 || 40+int(be16(ip[4:])) != n-off {
		return false
	}
	return isTeredoAddr(ip[8:]) || isTeredoAddr(ip[24:])
}

// isTeredoAddr reports whether the 16 bytes at a are in 2001::/32.
func isTeredoAddr(a []byte) bool {
	return a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0
}

// teredo decodes the IPv6 packet in a Teredo UDP payload of n bytes.
func (d *Decoder) teredo(b []byte, n int, in encap, seg *Segment) Skip {
	off, s := teredoHeaders(b, n)
	if s != SkipNone {
		return s
	}
	if b[off]>>4 != 6 {
		return SkipUDP // not Teredo data on the Teredo port
	}
	in, ok := in.inner(TunnelTeredo, seg)
	if !ok {
		return SkipUnsupportedTunnel
	}
	return d.ipv6(b[off:], n-off, in, seg)
}
