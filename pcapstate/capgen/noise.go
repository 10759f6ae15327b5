package capgen

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Noise is a frame that is not a TCP segment the engine follows: what it
// must count per kind or warn about, never drop silently.
type Noise uint8

// Noise kinds. The zero value means none (a TCP segment).
const (
	NoiseARP       Noise = iota + 1 // ARP request (EtherType 0x0806)
	NoiseEtherType                  // unknown EtherType 0x88b5 (IEEE local experimental)
	NoiseUDP                        // UDP datagram 10.0.0.1:5353 -> 10.0.0.2:53
	NoiseICMP                       // ICMP echo request, or ICMPv6 echo request
	NoiseGRE                        // GRE keepalive (IP protocol 47, protocol type 0, carrying the peer's GRE reply): tunnel control, no TCP
	NoiseFragment                   // IPv4 TCP non-first fragment (offset 1480): no TCP header in it
	NoiseShortIP                    // frame ends 10 bytes into the IP header, not cut by the snaplen: corrupt
	NoiseBadTCP                     // TCP header with data offset 3 (12 bytes): invalid
)

var noiseNames = [...]string{"", "arp", "ethertype", "udp", "icmp", "gre", "fragment", "short-ip", "bad-tcp"}

func (n Noise) String() string {
	if int(n) < len(noiseNames) {
		return noiseNames[n]
	}
	return fmt.Sprintf("Noise(%d)", n)
}

// Noise adds a frame of kind n on interface iface at the current capture
// time (between 10.0.0.1 and 10.0.0.2, or 2001:db8::1 and 2001:db8::2 with
// v6; NoiseFragment and NoiseGRE are IPv4 only) and returns its packet
// number. It uses the interface's link, VLANs, PPPoE and MPLS, not its
// tunnel. It panics when the link cannot carry n (ARP on raw IP).
func (c *Capture) Noise(iface int, n Noise, v6 bool) int {
	f := &c.ifaces[iface].Framing
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if v6 && n != NoiseFragment && n != NoiseGRE {
		src, dst = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	}
	smac, dmac := [6]byte{2, 0, 0, 0, 0, 1}, [6]byte{2, 0, 0, 0, 0, 2}
	et := uint16(etherIPv4)
	if src.Is6() {
		et = etherIPv6
	}
	var body []byte // the packet after the link layer
	switch n {
	case NoiseARP, NoiseEtherType:
		if f.Link == RawIP || f.Link == Null {
			panic(fmt.Sprintf("capgen: %v frame on a link without EtherType", n))
		}
		et = 0x88b5
		body = []byte("capgen experimental frame\x00\x00\x00")
		if n == NoiseARP {
			et = 0x0806
			body = []byte{0, 1, 8, 0, 6, 4, 0, 1}
			body = append(body, smac[:]...)
			body = append(body, 10, 0, 0, 1)
			body = append(body, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2)
		}
	case NoiseUDP:
		udp := []byte{0x9c, 0xbb, 0, 7, 0, 28, 0, 0}
		udp = append(udp, "capgen udp datagram"...)
		udp = append(udp, 0)
		body = ipPacket(src, dst, 17, udp, 6)
	case NoiseICMP:
		icmp := []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1}
		icmp = append(icmp, "capgen ping data"...)
		if src.Is6() {
			icmp[0] = 128
			body = ipPacket(src, dst, 58, icmp, 2)
		} else {
			binary.BigEndian.PutUint16(icmp[2:], finish(0, icmp))
			body = ipPacket(src, dst, 1, icmp, -1)
		}
	case NoiseGRE:
		// The keepalive's payload is the reply the peer is to send back
		// through the tunnel: GRE with protocol type 0 from dst to src.
		reply := ipPacket(dst, src, 47, []byte{0, 0, 0, 0}, -1)
		body = ipPacket(src, dst, 47, append([]byte{0, 0, 0, 0}, reply...), -1)
	case NoiseFragment:
		body = ipPacket(src, dst, 6, make([]byte, 100), -1)
		binary.BigEndian.PutUint16(body[6:], 1480/8) // offset, MF clear
		binary.BigEndian.PutUint16(body[10:], 0)
		binary.BigEndian.PutUint16(body[10:], finish(0, body[:20]))
	case NoiseShortIP:
		h := hdr{src: netip.AddrPortFrom(src, 40002), dst: netip.AddrPortFrom(dst, 8080), flags: ACK, window: 502}
		body = appendFrame(nil, &Framing{Link: RawIP}, &h)[:10]
	case NoiseBadTCP:
		h := hdr{src: netip.AddrPortFrom(src, 40003), dst: netip.AddrPortFrom(dst, 8080), flags: ACK, window: 502}
		body = appendFrame(nil, &Framing{Link: RawIP}, &h)
		tcp := len(body) - 20
		body[tcp+12] = 3 << 4
	default:
		panic(fmt.Sprintf("capgen: unknown noise %d", n))
	}
	frame := appendLink(nil, f, smac, dmac, true, et, len(body))
	frame = append(frame, body...)
	num := c.Add(iface, frame)
	c.pkts[num-1].Noise = n
	return num
}

// ipPacket wraps payload in an IPv4 or IPv6 header. When sumAt >= 0, the
// upper-layer checksum at that offset of payload is computed over the
// pseudo-header.
func ipPacket(src, dst netip.Addr, proto byte, payload []byte, sumAt int) []byte {
	var b []byte
	if src.Is4() {
		b = appendIPv4(nil, src, dst, proto, 1, 20+len(payload))
	} else {
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
		b = append(b, proto, 64)
		s, d := src.As16(), dst.As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	}
	at := len(b)
	b = append(b, payload...)
	if sumAt >= 0 {
		binary.BigEndian.PutUint16(b[at+sumAt:], finish(pseudoSum(src, dst, proto, len(payload)), b[at:]))
	}
	return b
}
