package pcapstate

//go:generate stringer -type=Skip -linecomment

// Skip says why a captured frame yields no TCP segment. The report shows
// counts per kind, so that nothing is dropped silently. The zero value,
// SkipNone, means the frame did yield a segment.
type Skip uint8

// Kinds of frames that hold no trackable TCP segment, named in the report by
// their lower-kebab-case String.
const (
	SkipNone              Skip = iota // none
	SkipTruncated                     // truncated
	SkipMalformed                     // malformed
	SkipUnsupportedLink               // unsupported-link-type
	SkipARP                           // arp
	SkipOtherEtherType                // other-ethertype
	SkipOtherPPP                      // other-ppp-protocol
	SkipMPLSNonIP                     // mpls-non-ip
	SkipIPFragment                    // ip-fragment
	SkipUDP                           // udp
	SkipICMP                          // icmp
	SkipICMPv6                        // icmpv6
	SkipESP                           // ipsec-esp
	SkipIPv6NoNext                    // ipv6-no-next-header
	SkipOtherIPProtocol               // other-ip-protocol
	SkipGTPSignalling                 // gtp-signalling
	SkipUnsupportedTunnel             // unsupported-tunnel
	SkipTunnelControl                 // tunnel-control
)

// SkipKinds is the number of Skip values, SkipNone included, so that a
// caller can count skips in a [SkipKinds]int array instead of a map.
const SkipKinds = int(SkipTunnelControl) + 1
