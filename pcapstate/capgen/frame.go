package capgen

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// Link is the data link type of an interface.
type Link uint8

// Link types. The zero value is Ethernet.
const (
	Ethernet Link = iota // LINKTYPE_ETHERNET (1)
	SLL                  // LINKTYPE_LINUX_SLL (113), tcpdump -i any before libpcap 1.10
	SLL2                 // LINKTYPE_LINUX_SLL2 (276), tcpdump -i any
	RawIP                // LINKTYPE_RAW (101), no link header
	Null                 // LINKTYPE_NULL (0), BSD loopback: 4-byte address family, little-endian
)

// LinkType returns the pcap LINKTYPE_ number of l.
func (l Link) LinkType() uint16 {
	switch l {
	case SLL:
		return 113
	case SLL2:
		return 276
	case RawIP:
		return 101
	case Null:
		return 0
	}
	return 1
}

// Tunnel is an encapsulation put around the TCP/IP packet.
type Tunnel uint8

// Tunnels. The zero value is none.
const (
	NoTunnel Tunnel = iota
	GTPU            // outer IPv4 192.0.2.1 <-> 192.0.2.2, UDP 2152, GTPv1-U T-PDU with TEID 0x00001000
	Teredo          // outer IPv4 192.0.2.1 <-> 198.51.100.1, UDP 3544 both ways; the inner packet must be IPv6
)

// Framing says how each IP packet of an interface is wrapped. The zero value
// is plain Ethernet.
type Framing struct {
	Link Link
	// VLANs are 802.1Q tags, outermost first (Ethernet only). With two or
	// more tags the outermost uses TPID 0x88a8 (QinQ).
	VLANs []uint16
	// PPPoE, when non-zero, is the session ID of a PPPoE session header and
	// PPP protocol field put after the VLAN tags (Ethernet only).
	PPPoE uint16
	// MPLS is a label stack put just before the IP packet (after PPPoE if
	// any), outermost first; the last label has the bottom-of-stack bit.
	MPLS []uint32
	// Tunnel wraps the TCP/IP packet in an outer IPv4/UDP packet.
	Tunnel Tunnel
	// IPv6DestOpts puts an 8-byte Destination Options extension header
	// between the inner IPv6 header and TCP.
	IPv6DestOpts bool
	// Pad pads Ethernet frames shorter than 60 bytes with zeros, as frames
	// received from the wire are; the padding is not TCP payload.
	Pad bool
}

// valid reports what is wrong with f, or "" when nothing is.
func (f Framing) valid() string {
	if f.Link > Null {
		return "unknown link"
	}
	if f.Tunnel > Teredo {
		return "unknown tunnel"
	}
	if f.Link != Ethernet && (len(f.VLANs) > 0 || f.PPPoE != 0 || f.Pad) {
		return "VLANs, PPPoE and Pad need the Ethernet link"
	}
	if len(f.MPLS) > 0 && (f.Link == RawIP || f.Link == Null) {
		return "MPLS needs a link with an EtherType"
	}
	return ""
}

// Ethernet types and PPP protocols.
const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	ether8021Q  = 0x8100
	ether8021AD = 0x88a8
	etherMPLS   = 0x8847
	etherPPPoE  = 0x8864
	pppIPv4     = 0x0021
	pppIPv6     = 0x0057
	pppMPLS     = 0x0281
)

// Outer tunnel endpoints: the client side is always the first.
var (
	gtpClient    = netip.MustParseAddr("192.0.2.1")
	gtpServer    = netip.MustParseAddr("192.0.2.2")
	teredoClient = netip.MustParseAddr("192.0.2.1")
	teredoServer = netip.MustParseAddr("198.51.100.1")
)

const gtpTEID = 0x00001000

// hdr is one TCP segment to frame.
type hdr struct {
	src, dst       netip.AddrPort
	srcMAC, dstMAC [6]byte
	fromClient     bool   // the client sent it: outer tunnel direction, SLL packet type
	ipid           uint16 // IPv4 identification
	seq, ack       uint32
	flags          Flags
	window         uint16
	opts           []byte // TCP options, a multiple of 4 bytes long
	payload        int    // payload bytes (zeros after lead)
	lead           []byte // the payload's first bytes, at most payload of them
}

// appendFrame appends the whole frame of h to b (payload bytes are h.lead,
// then zeros).
func appendFrame(b []byte, f *Framing, h *hdr) []byte {
	v6 := h.src.Addr().Is6() && !h.src.Addr().Is4In6()
	tcpLen := 20 + len(h.opts) + h.payload
	ipHdr := 20
	if v6 {
		ipHdr = 40
		if f.IPv6DestOpts {
			ipHdr += 8
		}
	}
	ipLen := ipHdr + tcpLen
	inner := ipLen // bytes of the (outer) packet the link carries
	switch f.Tunnel {
	case GTPU:
		inner += 20 + 8 + 8
	case Teredo:
		inner += 20 + 8
	}
	outerV6 := v6 && f.Tunnel == NoTunnel
	start := len(b)

	ethType := uint16(etherIPv4)
	if outerV6 {
		ethType = etherIPv6
	}
	b = appendLink(b, f, h.srcMAC, h.dstMAC, h.fromClient, ethType, inner)

	// Tunnel.
	udpAt := -1
	var osrc, odst netip.Addr
	switch f.Tunnel {
	case GTPU, Teredo:
		cs, ss := gtpClient, gtpServer
		port := uint16(2152)
		if f.Tunnel == Teredo {
			cs, ss, port = teredoClient, teredoServer, 3544
		}
		osrc, odst = ss, cs
		if h.fromClient {
			osrc, odst = cs, ss
		}
		b = appendIPv4(b, osrc, odst, 17, h.ipid, inner)
		udpAt = len(b)
		b = binary.BigEndian.AppendUint16(b, port)
		b = binary.BigEndian.AppendUint16(b, port)
		b = binary.BigEndian.AppendUint16(b, uint16(inner-20))
		b = append(b, 0, 0) // checksum, filled in below
		if f.Tunnel == GTPU {
			b = append(b, 0x30, 0xff) // GTPv1, protocol type GTP, T-PDU
			b = binary.BigEndian.AppendUint16(b, uint16(ipLen))
			b = binary.BigEndian.AppendUint32(b, gtpTEID)
		}
	}

	// Inner IP.
	if v6 {
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(ipLen-40))
		if f.IPv6DestOpts {
			b = append(b, 60, 64)
		} else {
			b = append(b, 6, 64)
		}
		s, d := h.src.Addr().As16(), h.dst.Addr().As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		if f.IPv6DestOpts {
			b = append(b, 6, 0, 1, 4, 0, 0, 0, 0) // next TCP, length 8, PadN
		}
	} else {
		b = appendIPv4(b, h.src.Addr(), h.dst.Addr(), 6, h.ipid, ipLen)
	}

	// TCP.
	tcpAt := len(b)
	b = binary.BigEndian.AppendUint16(b, h.src.Port())
	b = binary.BigEndian.AppendUint16(b, h.dst.Port())
	b = binary.BigEndian.AppendUint32(b, h.seq)
	b = binary.BigEndian.AppendUint32(b, h.ack)
	b = append(b, byte((20+len(h.opts))/4)<<4, byte(h.flags))
	b = binary.BigEndian.AppendUint16(b, h.window)
	b = append(b, 0, 0, 0, 0) // checksum, urgent pointer
	b = append(b, h.opts...)
	lead := h.lead[:min(len(h.lead), h.payload)]
	b = append(b, lead...)
	b = appendZeros(b, h.payload-len(lead))
	sum := pseudoSum(h.src.Addr(), h.dst.Addr(), 6, tcpLen)
	binary.BigEndian.PutUint16(b[tcpAt+16:], finish(sum, b[tcpAt:]))

	if udpAt >= 0 {
		sum := pseudoSum(osrc, odst, 17, inner-20)
		c := finish(sum, b[udpAt:])
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(b[udpAt+6:], c)
	}
	if f.Link == Ethernet && f.Pad && len(b)-start < 60 {
		b = appendZeros(b, 60-(len(b)-start))
	}
	return b
}

// appendLink appends f's link-layer header, and its MPLS labels when the
// packet is IP, for a packet of n bytes with EtherType et. PPPoE and MPLS
// only wrap IP: an ARP frame on such an interface has the VLAN tags only.
func appendLink(b []byte, f *Framing, srcMAC, dstMAC [6]byte, fromClient bool, et uint16, n int) []byte {
	ip := et == etherIPv4 || et == etherIPv6
	mpls := ip && len(f.MPLS) > 0
	pppProto := uint16(pppIPv4)
	if et == etherIPv6 {
		pppProto = pppIPv6
	}
	if mpls {
		et, pppProto = etherMPLS, pppMPLS
	}
	switch f.Link {
	case Ethernet:
		b = append(b, dstMAC[:]...)
		b = append(b, srcMAC[:]...)
		for i, v := range f.VLANs {
			tpid := uint16(ether8021Q)
			if i == 0 && len(f.VLANs) > 1 {
				tpid = ether8021AD
			}
			b = binary.BigEndian.AppendUint16(b, tpid)
			b = binary.BigEndian.AppendUint16(b, v&0x0fff)
		}
		if f.PPPoE != 0 && ip {
			b = binary.BigEndian.AppendUint16(b, etherPPPoE)
			b = append(b, 0x11, 0x00) // version 1, type 1, code 0 (session data)
			b = binary.BigEndian.AppendUint16(b, f.PPPoE)
			b = binary.BigEndian.AppendUint16(b, uint16(2+4*len(f.MPLS)+n))
			b = binary.BigEndian.AppendUint16(b, pppProto)
		} else {
			b = binary.BigEndian.AppendUint16(b, et)
		}
	case SLL, SLL2:
		pkttype := byte(4) // PACKET_OUTGOING: the capture runs on the server
		if fromClient {
			pkttype = 0 // PACKET_HOST
		}
		if f.Link == SLL {
			b = append(b, 0, pkttype, 0, 1, 0, 6) // packet type, ARPHRD_ETHER, address length
			b = append(b, srcMAC[:]...)
			b = append(b, 0, 0)
			b = binary.BigEndian.AppendUint16(b, et)
		} else {
			b = binary.BigEndian.AppendUint16(b, et)
			b = append(b, 0, 0, 0, 0, 0, 2, 0, 1, pkttype, 6) // reserved, ifindex 2, ARPHRD_ETHER, type, address length
			b = append(b, srcMAC[:]...)
			b = append(b, 0, 0)
		}
	case Null:
		fam := uint32(2) // AF_INET
		if et == etherIPv6 {
			fam = 24 // AF_INET6 on NetBSD/OpenBSD; Wireshark and libpcap also know 28 and 30
		}
		b = binary.LittleEndian.AppendUint32(b, fam)
	case RawIP:
	}
	if mpls {
		for i, l := range f.MPLS {
			e := l<<12 | 64 // TTL 64
			if i == len(f.MPLS)-1 {
				e |= 1 << 8 // bottom of stack
			}
			b = binary.BigEndian.AppendUint32(b, e)
		}
	}
	return b
}

// appendIPv4 appends a 20-byte IPv4 header with DF set, TTL 64 and its checksum.
func appendIPv4(b []byte, src, dst netip.Addr, proto byte, id uint16, total int) []byte {
	at := len(b)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(total))
	b = binary.BigEndian.AppendUint16(b, id)
	b = append(b, 0x40, 0, 64, proto, 0, 0)
	s, d := src.As4(), dst.As4()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	binary.BigEndian.PutUint16(b[at+10:], finish(0, b[at:at+20]))
	return b
}

func appendZeros(b []byte, n int) []byte {
	b = slices.Grow(b, n)
	b = b[:len(b)+n]
	clear(b[len(b)-n:])
	return b
}

// pseudoSum is the unfolded one's complement sum of the TCP/UDP pseudo-header.
func pseudoSum(src, dst netip.Addr, proto byte, length int) uint32 {
	var sum uint32
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		sum = sum16(s[:]) + sum16(d[:])
	} else {
		s, d := src.As16(), dst.As16()
		sum = sum16(s[:]) + sum16(d[:])
	}
	return sum + uint32(proto) + uint32(length>>16) + uint32(length&0xffff)
}

func sum16(b []byte) uint32 {
	var s uint32
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// finish adds b to sum, folds it and returns the checksum (complement).
func finish(sum uint32, b []byte) uint16 {
	sum += sum16(b)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
