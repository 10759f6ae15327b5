package pcapstate

// Interim decoder, replaced by decode.go when the decoder branch lands.

import (
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

type Decoder struct{}

func (d *Decoder) Decode(link layers.LinkType, data []byte, seg *Segment) Skip {
	p := gopacket.NewPacket(data, link, gopacket.Lazy)
	tcpL := p.Layer(layers.LayerTypeTCP)
	if tcpL == nil {
		return SkipOtherIPProtocol
	}
	t := tcpL.(*layers.TCP)
	*seg = Segment{SrcPort: uint16(t.SrcPort), DstPort: uint16(t.DstPort), Seq: t.Seq, Ack: t.Ack, Window: t.Window}
	if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		seg.Src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		seg.Dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		seg.Payload = uint32(int(ip.Length) - int(ip.IHL)*4 - int(t.DataOffset)*4)
	} else if ip, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
		seg.Src, _ = netip.AddrFromSlice(ip.SrcIP)
		seg.Dst, _ = netip.AddrFromSlice(ip.DstIP)
		seg.Payload = uint32(int(ip.Length) - int(t.DataOffset)*4)
	}
	for _, f := range []struct {
		on bool
		f  Flags
	}{{t.FIN, FIN}, {t.SYN, SYN}, {t.RST, RST}, {t.PSH, PSH}, {t.ACK, ACK}, {t.URG, URG}, {t.ECE, ECE}, {t.CWR, CWR}} {
		if f.on {
			seg.Flags |= f.f
		}
	}
	return SkipNone
}
