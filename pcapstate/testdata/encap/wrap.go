//go:build ignore

// Wrap rewrites the frames of a real capture (Ethernet, TCP between two
// namespaces, made by make-captures.sh) in the encapsulations the build
// machine's kernel cannot make, one capture per family, with the headers
// the RFCs and vendors define:
//
//	gre.pcap       GRE over IPv4 (and over IPv6 every fifth frame), cycling
//	               through plain, keyed, keyed and sequenced, and checksum,
//	               key and sequence number (RFC 2784, 2890)
//	erspan.pcap    the Ethernet frames in ERSPAN type I, II and III (with the
//	               platform-specific subheader on every other type III)
//	geneve.pcap    Geneve over UDP 6081 with an option, carrying the Ethernet
//	               frame and, every other frame, the bare IP packet
//	ipip.pcap      IP in IP: 4in4, 6in4, 4in6, 6in6
//	ppp.pcap       link type PPP (9), with and without the HDLC address and
//	               control bytes
//	ppp-hdlc.pcap  link type PPP_HDLC (50)
//	chdlc.pcap     link type C_HDLC (104), Cisco HDLC
//	pbb.pcap       802.1ah: B-tag and I-tag before the customer frame
//	vntag.pcap     a VN-Tag before the frame's ethertype
//
// Usage: go run wrap.go base.pcap outdir
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

type frame struct {
	ci   gopacket.CaptureInfo
	data []byte // Ethernet
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run wrap.go base.pcap outdir")
		os.Exit(2)
	}
	frames, err := read(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := os.Args[2]
	// The client is the sender of the first frame: it gets the outer
	// address .1, the server .2.
	client := ipOf(frames[0].data[14:], true)
	type wrapper struct {
		name string
		link layers.LinkType
		wrap func(i int, eth []byte, fromClient bool) []byte
	}
	for _, w := range []wrapper{
		{"gre.pcap", layers.LinkTypeEthernet, gre},
		{"erspan.pcap", layers.LinkTypeEthernet, erspan},
		{"geneve.pcap", layers.LinkTypeEthernet, geneve},
		{"ipip.pcap", layers.LinkTypeEthernet, ipip},
		{"ppp.pcap", layers.LinkTypePPP, ppp},
		{"ppp-hdlc.pcap", layers.LinkTypePPP_HDLC, pppHDLC},
		{"chdlc.pcap", layers.LinkTypeC_HDLC, chdlc},
		{"pbb.pcap", layers.LinkTypeEthernet, pbb},
		{"vntag.pcap", layers.LinkTypeEthernet, vntag},
	} {
		f, err := os.Create(filepath.Join(out, w.name))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pw := pcapgo.NewWriter(f)
		if err := pw.WriteFileHeader(65535, w.link); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i, fr := range frames {
			b := w.wrap(i, fr.data, ipOf(fr.data[14:], true) == client)
			ci := fr.ci
			ci.CaptureLength, ci.Length = len(b), len(b)
			if err := pw.WritePacket(ci, b); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func read(path string) ([]frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, err
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("%s: link type %v, want Ethernet", path, r.LinkType())
	}
	var frames []frame
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return frames, nil
		}
		if err != nil {
			return nil, err
		}
		frames = append(frames, frame{ci, data})
	}
}

// ipOf returns the source (or destination) address of an IP packet as a
// string.
func ipOf(ip []byte, src bool) string {
	if ip[0]>>4 == 4 {
		if src {
			return fmt.Sprint(ip[12:16])
		}
		return fmt.Sprint(ip[16:20])
	}
	if src {
		return fmt.Sprint(ip[8:24])
	}
	return fmt.Sprint(ip[24:40])
}

var (
	macA, macB = []byte{2, 0, 0x77, 0, 0, 1}, []byte{2, 0, 0x77, 0, 0, 2}
	outer4     = [2][]byte{{10, 77, 0, 1}, {10, 77, 0, 2}}
	outer6     = [2][]byte{
		{0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		{0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
	}
)

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func sum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// eth is an outer Ethernet header from the client's side or the server's.
func eth(fromClient bool, et uint16) []byte {
	if fromClient {
		return cat(macB, macA, u16(et))
	}
	return cat(macA, macB, u16(et))
}

// ip4 is an outer IPv4 header of protocol proto around payload.
func ip4(fromClient bool, proto byte, id uint16, payload []byte) []byte {
	s, d := outer4[0], outer4[1]
	if !fromClient {
		s, d = d, s
	}
	h := cat([]byte{0x45, 0}, u16(uint16(20+len(payload))), u16(id), []byte{0x40, 0, 64, proto, 0, 0}, s, d)
	binary.BigEndian.PutUint16(h[10:], sum(h))
	return cat(h, payload)
}

// ip6 is an outer IPv6 header of next header nh around payload.
func ip6(fromClient bool, nh byte, payload []byte) []byte {
	s, d := outer6[0], outer6[1]
	if !fromClient {
		s, d = d, s
	}
	return cat([]byte{0x60, 0, 0, 0}, u16(uint16(len(payload))), []byte{nh, 64}, s, d, payload)
}

// udp is a UDP header (checksum 0, as VXLAN and Geneve senders may send
// over IPv4) around payload.
func udp(sp, dp uint16, payload []byte) []byte {
	return cat(u16(sp), u16(dp), u16(uint16(8+len(payload))), []byte{0, 0}, payload)
}

func etherType(eth []byte) uint16 { return binary.BigEndian.Uint16(eth[12:]) }

func gre(i int, e []byte, c bool) []byte {
	inner, et := e[14:], etherType(e)
	var h []byte
	switch i % 4 {
	case 0:
		h = cat([]byte{0, 0}, u16(et))
	case 1:
		h = cat([]byte{0x20, 0}, u16(et), []byte{0, 0, 0, 42})
	case 2:
		h = cat([]byte{0x30, 0}, u16(et), []byte{0, 0, 0, 42}, binary.BigEndian.AppendUint32(nil, uint32(i)))
	case 3:
		h = cat([]byte{0xb0, 0}, u16(et), []byte{0, 0, 0, 0}, []byte{0, 0, 0, 42}, binary.BigEndian.AppendUint32(nil, uint32(i)))
		binary.BigEndian.PutUint16(h[4:], sum(cat(h, inner)))
	}
	if i%5 == 4 {
		return cat(eth(c, 0x86dd), ip6(c, 47, cat(h, inner)))
	}
	return cat(eth(c, 0x0800), ip4(c, 47, uint16(i), cat(h, inner)))
}

func erspan(i int, e []byte, c bool) []byte {
	seq := binary.BigEndian.AppendUint32(nil, uint32(i))
	var p []byte
	switch i % 3 {
	case 0: // type I: GRE without a sequence number, no ERSPAN header
		p = cat([]byte{0, 0, 0x88, 0xbe}, e)
	case 1: // type II: version 1, VLAN 0, COS 0, session 7; index 0
		p = cat([]byte{0x10, 0, 0x88, 0xbe}, seq, []byte{0x10, 0, 0, 7, 0, 0, 0, 0}, e)
	case 2: // type III: version 2, session 7, timestamp, SGT, frame type 0, hardware ID 1
		h := cat([]byte{0x20, 0, 0, 7}, binary.BigEndian.AppendUint32(nil, uint32(i)*1000), []byte{0, 0, 0, 1 << 4})
		if i%2 == 1 {
			h[11] |= 1 // O: a platform-specific subheader follows
			h = append(h, 0x0c, 0, 0, 0, 0, 0, 0, 0)
		}
		p = cat([]byte{0x10, 0, 0x22, 0xeb}, seq, h, e)
	}
	return cat(eth(c, 0x0800), ip4(c, 47, uint16(i), p))
}

func geneve(i int, e []byte, c bool) []byte {
	opt := []byte{0x01, 0x02, 0x80, 1, 0, 0, 0, byte(i)} // class 0x0102, type 0x80, 4 bytes
	var p []byte
	if i%2 == 0 {
		p = cat([]byte{2, 0, 0x65, 0x58, 0, 0x10, 0, 0}, opt, e)
	} else {
		p = cat([]byte{2, 0}, u16(etherType(e)), []byte{0, 0x10, 0, 0}, opt, e[14:])
	}
	return cat(eth(c, 0x0800), ip4(c, 17, uint16(i), udp(uint16(40000+i%8), 6081, p)))
}

func ipip(i int, e []byte, c bool) []byte {
	inner := e[14:]
	nh := byte(4)
	if etherType(e) == 0x86dd {
		nh = 41
	}
	if i%2 == 0 {
		return cat(eth(c, 0x0800), ip4(c, nh, uint16(i), inner))
	}
	return cat(eth(c, 0x86dd), ip6(c, nh, inner))
}

func pppProto(e []byte) []byte {
	if etherType(e) == 0x86dd {
		return []byte{0, 0x57}
	}
	return []byte{0, 0x21}
}

func ppp(i int, e []byte, c bool) []byte {
	if i%2 == 0 {
		return cat([]byte{0xff, 0x03}, pppProto(e), e[14:])
	}
	return cat(pppProto(e), e[14:])
}

func pppHDLC(i int, e []byte, c bool) []byte {
	return cat([]byte{0xff, 0x03}, pppProto(e), e[14:])
}

func chdlc(i int, e []byte, c bool) []byte {
	return cat([]byte{0x0f, 0}, u16(etherType(e)), e[14:])
}

func pbb(i int, e []byte, c bool) []byte {
	btag := []byte{0, 10}               // B-VID 10
	itag := []byte{0, 0x01, 0x00, 0x2a} // I-SID 0x01002a
	return cat(eth(c, 0x88a8)[:12], u16(0x88a8), btag, u16(0x88e7), itag, e)
}

func vntag(i int, e []byte, c bool) []byte {
	tag := []byte{0x80, 0x05, 0x00, 0x02} // direction, pointer, destination VIF 5, source VIF 2
	return cat(e[:12], u16(0x8926), tag, e[12:])
}
