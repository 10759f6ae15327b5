package pcapstate

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// decBenchFrames is every frame of every Zeek conformance capture.
func decBenchFrames(b *testing.B) []decFrame {
	var all []decFrame
	for _, path := range decZeekCaptures(b) {
		all = append(all, decReadFrames(b, path)...)
	}
	return all
}

// BenchmarkDecode decodes every packet of the Zeek captures (4516 frames of
// every kind: plain, VLAN, MPLS, PPPoE over QinQ, GTP-U, Teredo, non-TCP).
func BenchmarkDecode(b *testing.B) {
	frames := decBenchFrames(b)
	var d Decoder
	var seg Segment
	packets, segments := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames {
			if d.Decode(f.link, f.data, &seg) == SkipNone {
				segments++
			}
		}
		packets += len(frames)
	}
	if segments == 0 {
		b.Fatal("no segment decoded")
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkDecodingLayerParser is the reference the style guide names:
// gopacket's DecodingLayerParser over preallocated layers, on the same
// frames, for comparison only (it has no DecodingLayer for MPLS or PPPoE in
// gopacket v1.1.19 and decodes neither Teredo nor GTP-U in
// fragments nor cut TCP headers, and gives no payload length by itself).
func BenchmarkDecodingLayerParser(b *testing.B) {
	frames := decBenchFrames(b)
	var (
		eth   layers.Ethernet
		dot1q layers.Dot1Q
		ip4   layers.IPv4
		ip6   layers.IPv6
		tcp   layers.TCP
		udp   layers.UDP
		gtp   layers.GTPv1U
		pl    gopacket.Payload
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp, &udp, &gtp, &pl)
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 16)
	packets, segments := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames {
			_ = p.DecodeLayers(f.data, &decoded) // errors are the unsupported layers, ignored here
			for _, t := range decoded {
				if t == layers.LayerTypeTCP {
					segments++
				}
			}
		}
		packets += len(frames)
	}
	if segments == 0 {
		b.Fatal("no segment decoded")
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkDecodeEncap decodes every frame of the encapsulation captures
// (testdata/encap and testdata/public: GRE, ERSPAN, VXLAN, Geneve, IP in
// IP, PPP, HDLC, NFLOG, IPoIB, PBB, VN-Tag, fragments).
func BenchmarkDecodeEncap(b *testing.B) {
	var frames []decFrame
	for _, path := range decEncapCaptures(b) {
		frames = append(frames, decReadFrames(b, path)...)
	}
	var d Decoder
	var seg Segment
	packets, segments := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames {
			if d.Decode(f.link, f.data, &seg) == SkipNone {
				segments++
			}
		}
		packets += len(frames)
	}
	if segments == 0 {
		b.Fatal("no segment decoded")
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}
