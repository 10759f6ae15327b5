package pcapstate

import (
	"encoding/binary"

	"github.com/google/gopacket/layers"
)

// Link types gopacket has no name for.
const (
	linkTypeNFLOG = layers.LinkType(239) // Linux netfilter NFLOG
	linkTypeIPoIB = layers.LinkType(242) // IP over InfiniBand (RFC 4391)
)

// Ethertypes and GRE protocol types of the encapsulations below.
const (
	etherPBB       = 0x88e7 // 802.1ah provider backbone bridging I-tag
	etherVNTag     = 0x8926 // Cisco VN-Tag (802.1Qbh)
	etherCMD       = 0x8909 // Cisco MetaData (TrustSec SGT)
	etherPPP       = 0x880b // PPP in PPTP's enhanced GRE
	etherERSPAN12  = 0x88be // ERSPAN type I (no header) and II
	etherERSPAN3   = 0x22eb // ERSPAN type III
	etherWCCP      = 0x883e // WCCP redirection: a 4-byte header before IPv4
	etherCiscoSLAR = 0x8035 // Cisco HDLC SLARP (the RARP ethertype)

	pppIPv4     = 0x0021
	pppIPv6     = 0x0057
	pppMPLS     = 0x0281
	pppMPLSMult = 0x0283
)

// ppp decodes a PPP frame (RFC 1661), with or without the HDLC-like
// address and control bytes 0xff 0x03 (RFC 1662) before the protocol
// field, which may be compressed to one byte. n is the frame's length from
// an enclosing header, -1 when none gives it.
func (d *Decoder) ppp(b []byte, n int, in encap, seg *Segment) Skip {
	if len(b) >= 1 && b[0] == 0xff {
		if len(b) < 2 {
			return SkipTruncated
		}
		if b[1] == 0x03 {
			b, n = b[2:], n-2
		}
	}
	if len(b) < 1 {
		return SkipTruncated
	}
	var proto uint16
	if b[0]&1 != 0 {
		proto, b, n = uint16(b[0]), b[1:], n-1
	} else {
		if len(b) < 2 {
			return SkipTruncated
		}
		proto, b, n = be16(b), b[2:], n-2
	}
	if n < -1 {
		n = -1
	}
	return d.pppPayload(proto, b, n, in, seg)
}

// pppPayload decodes the payload of PPP protocol proto, n bytes long (-1
// when no enclosing header says).
func (d *Decoder) pppPayload(proto uint16, b []byte, n int, in encap, seg *Segment) Skip {
	switch proto {
	case pppIPv4:
		return d.ipv4(b, n, in, seg)
	case pppIPv6:
		return d.ipv6(b, n, in, seg)
	case pppMPLS, pppMPLSMult:
		in.pppoe = false
		return d.mpls(b, in, seg)
	}
	return SkipOtherPPP // LCP, IPCP, IPv6CP, CHAP, CCP, ...
}

// pppSerial decodes link type PPP_HDLC (50): PPP in HDLC-like framing, or
// Cisco HDLC when the first byte is Cisco's unicast (0x0f) or broadcast
// (0x8f) address, as on a router's serial line.
func (d *Decoder) pppSerial(b []byte, seg *Segment) Skip {
	if len(b) < 1 {
		return SkipTruncated
	}
	if b[0] == 0x0f || b[0] == 0x8f {
		return d.ciscoHDLC(b, encap{}, seg)
	}
	return d.ppp(b, -1, encap{}, seg)
}

// ciscoHDLC decodes a Cisco HDLC frame: address, control, ethertype.
func (d *Decoder) ciscoHDLC(b []byte, in encap, seg *Segment) Skip {
	if len(b) < 4 {
		return SkipTruncated
	}
	et := be16(b[2:])
	if et == etherCiscoSLAR {
		return SkipOtherEtherType // SLARP keepalives and address requests
	}
	return d.etherType(et, b[4:], in, seg)
}

// NFLOG (link type 239): a 4-byte header (address family, version 0,
// resource ID) and TLVs, each with a 2-byte length (header included,
// padded to 4) and a 2-byte type, in the byte order of the host that
// captured them; the packet is the payload TLV.
const nflogPayload = 9

// nflog decodes the IP packet in an NFLOG record's payload TLV.
func (d *Decoder) nflog(b []byte, seg *Segment) Skip {
	if len(b) < 4 {
		return SkipTruncated
	}
	if b[1] != 0 {
		return SkipMalformed // unknown version
	}
	fam := b[0]
	b = b[4:]
	if len(b) < 4 {
		return SkipTruncated
	}
	// TLV types are small numbers: the byte order that reads the first
	// type as one is the writer's.
	var order binary.ByteOrder = binary.LittleEndian
	if binary.LittleEndian.Uint16(b[2:]) > 0xff {
		order = binary.BigEndian
	}
	for {
		if len(b) < 4 {
			return SkipTruncated
		}
		l, t := int(order.Uint16(b)), order.Uint16(b[2:])
		if l < 4 {
			return SkipMalformed
		}
		if t == nflogPayload {
			// The payload is the packet as far as the log rule's copy
			// range (nft's snaplen, iptables' --nflog-size) let it: a
			// snaplen, not the packet's length.
			b = b[4:min(len(b), l)]
			if len(b) < 1 {
				return SkipTruncated
			}
			switch {
			case fam == 2 && b[0]>>4 == 4: // AF_INET
				return d.ipv4(b, -1, encap{}, seg)
			case fam == 10 && b[0]>>4 == 6: // AF_INET6
				return d.ipv6(b, -1, encap{}, seg)
			case fam == 2 || fam == 10:
				return SkipMalformed
			}
			return SkipOtherEtherType // bridge, ARP and other families
		}
		l = (l + 3) &^ 3
		if len(b) < l {
			return SkipTruncated
		}
		b = b[l:]
	}
}

// ipoib decodes an IP over InfiniBand frame as libpcap records it: a
// 44-byte header (the 20-byte destination and source link addresses, with
// the ethertype in its last 4 bytes: 2 of type, 2 reserved) before the
// payload.
func (d *Decoder) ipoib(b []byte, seg *Segment) Skip {
	if len(b) < 44 {
		return SkipTruncated
	}
	return d.etherType(be16(b[40:]), b[44:], encap{}, seg)
}

// gre decodes a GRE packet of n bytes (RFC 2784, with RFC 2890's key
// and sequence number and RFC 1701's routing), or an enhanced GRE packet
// of PPTP (RFC 2637, version 1), and the payload its protocol type names:
// IP, Ethernet (transparent bridging, NVGRE), MPLS, ERSPAN types I, II
// and III, WCCP redirection, PPP. In the first fragment of an outer
// datagram (frag) the inner packet's own lengths are the only ones.
func (d *Decoder) gre(b []byte, n int, frag bool, in encap, seg *Segment) Skip {
	if n < 4 && !frag {
		return SkipMalformed
	}
	if len(b) < 4 {
		if frag && n < 4 {
			return SkipIPFragment
		}
		return SkipTruncated
	}
	flags, proto := be16(b), be16(b[2:])
	off := 4
	switch flags & 7 { // version
	case 0:
		if flags&0xc000 != 0 { // checksum or routing: checksum and offset
			off += 4
		}
		if flags&0x2000 != 0 { // key
			off += 4
		}
		if flags&0x1000 != 0 { // sequence number
			off += 4
		}
		if flags&0x4000 != 0 { // routing: source route entries up to a null one
			for {
				if len(b) < off+4 {
					return greCut(off+4, n, frag)
				}
				l := int(b[off+3])
				off += 4
				if be16(b[off-4:]) == 0 && l == 0 {
					break
				}
				off += l
			}
		}
	case 1: // PPTP: key (payload length, call ID), then sequence and acknowledgement numbers
		if flags&0x2000 == 0 || proto != etherPPP {
			return SkipUnsupportedTunnel
		}
		off += 4
		seq := flags&0x1000 != 0
		if seq {
			off += 4
		}
		if flags&0x0080 != 0 {
			off += 4
		}
		if !seq {
			return SkipTunnelControl // an acknowledgement without payload
		}
	default:
		return SkipUnsupportedTunnel
	}
	if !frag && off > n {
		return SkipMalformed
	}
	if len(b) < off {
		return greCut(off, n, frag)
	}
	b, n = b[off:], n-off
	if frag || in.guessLen {
		n = -1
	}
	if proto == 0 {
		return SkipTunnelControl // Cisco keepalive
	}
	in, ok := in.inner(TunnelGRE, seg)
	if !ok {
		return SkipUnsupportedTunnel
	}
	switch proto {
	case etherIPv4, etherIPv6:
		return d.ipPayload(b, n, in, seg)
	case etherCMD:
		// In GRE, Cisco MetaData puts the payload's protocol type first,
		// then version, length, option and SGT.
		if len(b) < 8 {
			return SkipTruncated
		}
		return d.etherType(be16(b), b[8:], in, seg)
	case etherTEB:
		return d.ethernet(b, in, seg)
	case etherMPLS, etherMPLSMult:
		return d.mpls(b, in, seg)
	case etherPPP:
		return d.ppp(b, n, in, seg)
	case etherWCCP:
		// A redirect header, 4 bytes, before the IPv4 packet. A
		// version 2 header has its first bit clear; older WCCP has none.
		if len(b) < 1 {
			return SkipTruncated
		}
		if b[0]>>4 != 4 {
			if len(b) < 4 {
				return SkipTruncated
			}
			b, n = b[4:], max(n-4, -1)
		}
		return d.ipPayload(b, n, in, seg)
	case etherERSPAN12:
		seg.Tunnel = erspanTunnel(seg.Tunnel, in)
		if flags&0x1000 == 0 { // type I: no ERSPAN header
			return d.ethernet(b, in, seg)
		}
		if len(b) < 8 {
			return SkipTruncated
		}
		if b[0]>>4 != 1 {
			return SkipUnsupportedTunnel
		}
		return d.ethernet(b[8:], in, seg)
	case etherERSPAN3:
		seg.Tunnel = erspanTunnel(seg.Tunnel, in)
		if len(b) < 12 {
			return SkipTruncated
		}
		if b[0]>>4 != 2 {
			return SkipUnsupportedTunnel
		}
		ft := b[10] >> 2 & 0x1f
		hl := 12
		if b[11]&1 != 0 { // platform-specific subheader
			hl += 8
		}
		if len(b) < hl {
			return SkipTruncated
		}
		switch ft {
		case 0:
			return d.ethernet(b[hl:], in, seg)
		case 2:
			return d.ipPayload(b[hl:], -1, in, seg)
		}
		return SkipUnsupportedTunnel
	case etherARP, etherRARP:
		return SkipARP
	}
	return SkipUnsupportedTunnel // CDP, NHRP, IPX, NSH, ...
}

// greCut is the answer for a GRE header of off bytes cut off: truncated,
// or in the first fragment of an outer datagram whose fragment ends before
// it, a fragment.
func greCut(off, n int, frag bool) Skip {
	if frag && off > n {
		return SkipIPFragment
	}
	return SkipTruncated
}

// erspanTunnel names a segment's tunnel ERSPAN rather than GRE when the
// GRE header just removed (in is its payload's) was the outermost tunnel.
func erspanTunnel(cur Tunnel, in encap) Tunnel {
	if in.depth == 1 {
		return TunnelERSPAN
	}
	return cur
}

// ipPayload decodes an IPv4 or IPv6 packet of n bytes by its version.
func (d *Decoder) ipPayload(b []byte, n int, in encap, seg *Segment) Skip {
	if len(b) < 1 {
		return SkipTruncated
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b, n, in, seg)
	case 6:
		return d.ipv6(b, n, in, seg)
	}
	return SkipMalformed
}

// ipInIP decodes IPv4 (protocol 4) or IPv6 (41) in IPv4 or IPv6: 4in4,
// 6in4 (SIT, 6to4, ISATAP), 4in6, 6in6.
func (d *Decoder) ipInIP(proto uint8, b []byte, n int, frag bool, in encap, seg *Segment) Skip {
	if len(b) < 1 {
		if frag && n < 1 {
			return SkipIPFragment
		}
		return SkipTruncated
	}
	if frag || in.guessLen {
		n = -1
	}
	in, ok := in.inner(TunnelIPinIP, seg)
	if !ok {
		return SkipUnsupportedTunnel
	}
	if proto == protoIPIP {
		return d.ipv4(b, n, in, seg)
	}
	return d.ipv6(b, n, in, seg)
}

// vxlan decodes a VXLAN header (RFC 7348: flags with I set, 3 reserved
// bytes, VNI, reserved; Group Policy's G flag allowed) and the Ethernet
// frame after it; a UDP payload that is no VXLAN header is plain UDP.
func (d *Decoder) vxlan(b []byte, n int, in encap, seg *Segment) Skip {
	if n < 8 {
		return SkipUDP
	}
	if len(b) < 8 {
		return SkipTruncated
	}
	if b[0]&^0x80 != 0x08 {
		return SkipUDP
	}
	in, ok := in.inner(TunnelVXLAN, seg)
	if !ok {
		return SkipUnsupportedTunnel
	}
	return d.ethernet(b[8:], in, seg)
}

// geneve decodes a Geneve header (RFC 8926: version 0, options) and the
// Ethernet frame or IP packet after it.
func (d *Decoder) geneve(b []byte, n int, in encap, seg *Segment) Skip {
	if n < 8 {
		return SkipUDP
	}
	if len(b) < 8 {
		return SkipTruncated
	}
	if b[0]>>6 != 0 {
		return SkipUDP
	}
	hl := 8 + int(b[0]&0x3f)*4
	if hl > n {
		return SkipMalformed
	}
	if len(b) < hl {
		return SkipTruncated
	}
	proto := be16(b[2:])
	if proto != etherTEB && proto != etherIPv4 && proto != etherIPv6 {
		return SkipUnsupportedTunnel
	}
	wire := n - hl
	if in.guessLen {
		wire = -1
	}
	in, ok := in.inner(TunnelGeneve, seg)
	if !ok {
		return SkipUnsupportedTunnel
	}
	if proto == etherTEB {
		return d.ethernet(b[hl:], in, seg)
	}
	if len(b) < hl+1 {
		return SkipTruncated
	}
	if v := b[hl] >> 4; (v == 4) != (proto == etherIPv4) {
		return SkipMalformed
	}
	return d.ipPayload(b[hl:], wire, in, seg)
}
