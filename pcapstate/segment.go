package pcapstate

import "net/netip"

// Flags are the TCP header flags of a segment.
type Flags uint8

// TCP flags, in header bit order.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// Has reports whether all of m are set in f.
func (f Flags) Has(m Flags) bool { return f&m == m }

// Tunnel is the encapsulation that was removed to reach a TCP segment.
type Tunnel uint8

//go:generate stringer -type=Tunnel -linecomment

// Tunnels that are decapsulated. The zero value means none.
const (
	TunnelNone   Tunnel = iota // none
	TunnelGTPU                 // gtp-u
	TunnelTeredo               // teredo
	TunnelGRE                  // gre
	TunnelERSPAN               // erspan
	TunnelVXLAN                // vxlan
	TunnelGeneve               // geneve
	TunnelIPinIP               // ip-in-ip
)

// Segment is one TCP segment as the state engine needs it. A Decoder fills
// it in place, so it holds no pointers into the packet buffer.
type Segment struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            Flags
	Window           uint16
	// Payload is the TCP payload length computed from the IP length fields
	// (IPv4 total length or IPv6 payload length, less the IP extension and
	// TCP headers), never from the captured length: a frame cut by the
	// snaplen still carries its full sequence space.
	Payload uint32
	// HeaderCut is set when the captured bytes end inside the TCP header
	// (in its options); ports, flags, seq and ack are still valid.
	HeaderCut bool
	// Fragment is set when the segment came in the first fragment of a
	// fragmented IP datagram: Payload then counts only the TCP payload in
	// that fragment. (Read completes it from the later fragments of IPv4
	// datagrams: the segments it tracks have their whole payload.)
	Fragment bool
	// VLAN is the outermost 802.1Q VLAN ID, 0 when the frame had no tag.
	VLAN uint16
	// Tunnel is the outermost tunnel removed to reach the segment.
	Tunnel Tunnel
	// HTTP is the HTTP/1.x request or status line the payload begins
	// with, from its captured bytes; zero when it begins neither.
	HTTP HTTPStart
	// frag places an IPv4 fragment of TCP in its datagram, for Read to
	// complete the payload length of the segment of a first fragment.
	frag fragPos
}
