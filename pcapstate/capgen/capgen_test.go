package capgen

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// formats pairs each of Variants with a format, so that every format is
// read back too.
var formats = []Format{
	{}, {Nanos: true}, {BigEndian: true}, {Nanos: true, BigEndian: true},
	{Pcapng: true}, {Pcapng: true, TSResol: 9}, {Gzip: true},
	{Pcapng: true, BigEndian: true, TSResol: 9}, {Pcapng: true, Gzip: true, TSResol: 3},
	{Nanos: true, Gzip: true}, {Pcapng: true, BigEndian: true}, {},
	{Pcapng: true, TSResol: 6}, {Nanos: true},
}

type framing struct {
	name   string
	f      Framing
	v6     bool
	format Format
}

// framings covers every framing once, each written in another format.
var framings = func() []framing {
	var out []framing
	for i, v := range Variants() {
		out = append(out, framing{v.Name, v.Options.Interface.Framing, v.Options.IPv6, formats[i%len(formats)]})
	}
	return out
}()

// read is one packet as a reader saw it.
type read struct {
	ci   gopacket.CaptureInfo
	link layers.LinkType
	data []byte
}

// readCapture reads b with pcapgo, as pcap or pcapng.
func readCapture(t testing.TB, b []byte, f Format) []read {
	t.Helper()
	var out []read
	if !f.Pcapng {
		r, err := pcapgo.NewReader(bytes.NewReader(b)) // reads gzip itself
		if err != nil {
			t.Fatalf("pcapgo: %v", err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if errors.Is(err, io.EOF) {
				return out
			}
			if err != nil {
				t.Fatalf("pcapgo: packet %d: %v", len(out)+1, err)
			}
			out = append(out, read{ci, r.LinkType(), data})
		}
	}
	var in io.Reader = bytes.NewReader(b)
	if f.Gzip {
		gz, err := gzip.NewReader(in)
		if err != nil {
			t.Fatal(err)
		}
		in = gz
	}
	// Without WantMixedLinkType pcapgo silently skips the packets of
	// interfaces whose link type differs from the first one.
	r, err := pcapgo.NewNgReader(in, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatalf("pcapgo: %v", err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("pcapgo: packet %d: %v", len(out)+1, err)
		}
		ifc, err := r.Interface(ci.InterfaceIndex)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, read{ci, ifc.LinkType, data})
	}
}

// decodeTCP decodes a whole frame with gopacket down to the innermost TCP
// layer. gopacket 1.1.19 knows neither SLL2 nor Teredo, so those two are
// unwrapped here.
func decodeTCP(link Link, data []byte) (src, dst netip.Addr, tcp *layers.TCP, err error) {
	var pkt gopacket.Packet
	if link == SLL2 {
		if len(data) < 20 {
			return src, dst, nil, fmt.Errorf("short SLL2 frame")
		}
		pkt = gopacket.NewPacket(data[20:], layers.EthernetType(binary.BigEndian.Uint16(data)), gopacket.Default)
	} else {
		pkt = gopacket.NewPacket(data, layers.LinkType(link.LinkType()), gopacket.Default)
	}
	if udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && udp.DstPort == 3544 {
		pkt = gopacket.NewPacket(udp.Payload, layers.LayerTypeIPv6, gopacket.Default)
	}
	if f := pkt.ErrorLayer(); f != nil {
		return src, dst, nil, f.Error()
	}
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(l.SrcIP)
			dst, _ = netip.AddrFromSlice(l.DstIP)
			src, dst = src.Unmap(), dst.Unmap()
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(l.SrcIP)
			dst, _ = netip.AddrFromSlice(l.DstIP)
		case *layers.TCP:
			tcp = l
		}
	}
	if tcp == nil {
		return src, dst, nil, fmt.Errorf("no TCP layer in %v", pkt.Layers())
	}
	return src, dst, tcp, nil
}

func tcpFlags(t *layers.TCP) Flags {
	var f Flags
	for _, x := range []struct {
		on bool
		f  Flags
	}{{t.FIN, FIN}, {t.SYN, SYN}, {t.RST, RST}, {t.PSH, PSH}, {t.ACK, ACK}, {t.URG, URG}, {t.ECE, ECE}, {t.CWR, CWR}} {
		if x.on {
			f |= x.f
		}
	}
	return f
}

// checkRead compares what pcapgo and gopacket read back with what c holds.
func checkRead(t *testing.T, c *Capture, f Format, got []read) {
	t.Helper()
	pkts := c.Packets()
	if len(got) != len(pkts) {
		t.Fatalf("read %d packets, wrote %d", len(got), len(pkts))
	}
	for i, p := range pkts {
		g := got[i]
		ifc := c.Interfaces()[p.Iface]
		// gopacket keeps link types in a uint8: SLL2 (276) reads back as 20.
		if want := layers.LinkType(ifc.Framing.Link.LinkType() & 0xff); g.link != want {
			t.Errorf("packet %d: link type %v, want %v", i+1, g.link, want)
		}
		if want := f.Stored(p.Time); !g.ci.Timestamp.Equal(want) {
			t.Errorf("packet %d: time %v, want %v", i+1, g.ci.Timestamp, want)
		}
		if g.ci.Length != len(p.Data) || g.ci.CaptureLength != min(len(p.Data), int(ifc.snapLen())) {
			t.Errorf("packet %d: length %d captured %d, want %d and snaplen %d", i+1, g.ci.Length, g.ci.CaptureLength, len(p.Data), ifc.snapLen())
		}
		if g.ci.CaptureLength < len(p.Data) {
			checkCut(t, i+1, c, p, g.data)
			continue
		}
		if !bytes.Equal(g.data, p.Data) {
			t.Errorf("packet %d: data differs", i+1)
		}
		src, dst, tcp, err := decodeTCP(ifc.Framing.Link, g.data)
		if err != nil {
			t.Errorf("packet %d: gopacket: %v", i+1, err)
			continue
		}
		s := p.Seg
		if src != p.Src.Addr() || dst != p.Dst.Addr() || uint16(tcp.SrcPort) != p.Src.Port() || uint16(tcp.DstPort) != p.Dst.Port() {
			t.Errorf("packet %d: %v:%d -> %v:%d, want %v -> %v", i+1, src, tcp.SrcPort, dst, tcp.DstPort, p.Src, p.Dst)
		}
		if tcp.Seq != s.Seq || tcp.Ack != s.Ack || tcpFlags(tcp) != s.Flags || tcp.Window != s.Window || len(tcp.Payload) != s.Len {
			t.Errorf("packet %d: seq %d ack %d flags %#x win %d len %d, want %d %d %#x %d %d", i+1,
				tcp.Seq, tcp.Ack, tcpFlags(tcp), tcp.Window, len(tcp.Payload), s.Seq, s.Ack, s.Flags, s.Window, s.Len)
		}
		if int(tcp.DataOffset)*4 != 20+len(s.Options) {
			t.Errorf("packet %d: TCP header %d bytes, want %d", i+1, tcp.DataOffset*4, 20+len(s.Options))
		}
	}
}

// checkCut checks a frame cut inside its TCP header by hand: gopacket
// rejects such a header, the engine must not.
func checkCut(t *testing.T, n int, c *Capture, p Packet, data []byte) {
	t.Helper()
	v6 := !p.Src.Addr().Is4()
	off := TCPOffset(c.Interfaces()[p.Iface].Framing, v6)
	if len(data) < off+14 {
		t.Fatalf("packet %d: cut at %d, before the TCP flags (header at %d)", n, len(data), off)
	}
	h := data[off:]
	be := binary.BigEndian
	if be.Uint16(h) != p.Src.Port() || be.Uint16(h[2:]) != p.Dst.Port() || be.Uint32(h[4:]) != p.Seg.Seq ||
		be.Uint32(h[8:]) != p.Seg.Ack || Flags(h[13]) != p.Seg.Flags {
		t.Errorf("packet %d: cut header % x does not match %+v", n, h[:14], p.Seg)
	}
	// The IP length still counts the whole payload.
	var ipLen int
	if v6 {
		ext := 0
		if c.Interfaces()[p.Iface].Framing.IPv6DestOpts {
			ext = 8
		}
		ipLen = int(be.Uint16(data[off-ext-40+4:])) - ext - 20 - len(p.Seg.Options)
	} else {
		ipLen = int(be.Uint16(data[off-20+2:])) - 40 - len(p.Seg.Options)
	}
	if ipLen != p.Seg.Len {
		t.Errorf("packet %d: payload from IP length %d, want %d", n, ipLen, p.Seg.Len)
	}
}

func TestFramingsReadBack(t *testing.T) {
	for _, fr := range framings {
		t.Run(fr.name, func(t *testing.T) {
			for _, s := range Scenarios(Options{Interface: Interface{Framing: fr.f}, IPv6: fr.v6}) {
				b, err := s.Capture.Bytes(fr.format)
				if err != nil {
					t.Fatalf("%s: %v", s.Name, err)
				}
				checkRead(t, s.Capture, fr.format, readCapture(t, b, fr.format))
			}
		})
	}
}

// TestMatchesGopacket re-serializes every decoded frame with gopacket
// (lengths and checksums computed by gopacket) and wants the same bytes.
func TestMatchesGopacket(t *testing.T) {
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	for _, v6 := range []bool{false, true} {
		for _, s := range Scenarios(Options{IPv6: v6}) {
			if s.Name == "snaplen-cut" {
				continue
			}
			for i, p := range s.Capture.Packets() {
				pkt := gopacket.NewPacket(p.Data, layers.LinkTypeEthernet, gopacket.Default)
				var ls []gopacket.SerializableLayer
				for _, l := range pkt.Layers() {
					switch l := l.(type) {
					case *layers.Ethernet:
						ls = append(ls, l)
					case *layers.IPv4:
						ls = append(ls, l)
					case *layers.IPv6:
						ls = append(ls, l)
					case *layers.TCP:
						if err := l.SetNetworkLayerForChecksum(pkt.NetworkLayer()); err != nil {
							t.Fatal(err)
						}
						ls = append(ls, l, gopacket.Payload(l.Payload))
					}
				}
				buf := gopacket.NewSerializeBuffer()
				if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
					t.Fatalf("%s packet %d: %v", s.Name, i+1, err)
				}
				if !bytes.Equal(buf.Bytes(), p.Data) {
					t.Errorf("%s (ipv6 %v) packet %d:\n got % x\nwant % x", s.Name, v6, i+1, p.Data, buf.Bytes())
				}
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	formats := []Format{{}, {Nanos: true, BigEndian: true}, {Pcapng: true, TSResol: 9}, {Pcapng: true, Gzip: true}}
	for _, fr := range framings {
		a := Scenarios(Options{Interface: Interface{Framing: fr.f}, IPv6: fr.v6})
		b := Scenarios(Options{Interface: Interface{Framing: fr.f}, IPv6: fr.v6})
		for i := range a {
			for _, f := range formats {
				x, err1 := a[i].Capture.Bytes(f)
				y, err2 := b[i].Capture.Bytes(f)
				if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
					t.Errorf("%s %s %+v: two builds differ (%v, %v)", fr.name, a[i].Name, f, err1, err2)
				}
			}
		}
	}
}

func TestSnaplenCutsFrames(t *testing.T) {
	for _, fr := range framings {
		s := snaplenCut(Options{Interface: Interface{Framing: fr.f}, IPv6: fr.v6})
		off := TCPOffset(fr.f, fr.v6)
		b, err := s.Capture.Bytes(fr.format)
		if err != nil {
			t.Fatal(err)
		}
		got := readCapture(t, b, fr.format)
		for i, g := range got {
			if g.ci.CaptureLength != off+26 {
				t.Errorf("%s packet %d: captured %d bytes, want %d (6 into the TCP options)", fr.name, i+1, g.ci.CaptureLength, off+26)
			}
		}
		checkRead(t, s.Capture, fr.format, got)
	}
}

func TestPcapngInterfaces(t *testing.T) {
	c := New(defaultStart,
		Interface{Name: "eth0", Framing: Framing{VLANs: []uint16{7}}},
		Interface{Name: "any", Framing: Framing{Link: SLL2}, SnapLen: 96},
		Interface{Name: "tun0", Framing: Framing{Link: RawIP}},
	)
	for i := range 3 {
		k := c.Conn(netip.MustParseAddrPort(fmt.Sprintf("10.0.%d.1:4000%d", i, i)), netip.MustParseAddrPort("10.0.9.9:443"), ConnOptions{Iface: i})
		k.Handshake()
		k.Data(FromServer, 1000)
		k.FIN(FromClient)
	}
	for _, f := range []Format{{Pcapng: true}, {Pcapng: true, BigEndian: true, TSResol: 9}} {
		b, err := c.Bytes(f)
		if err != nil {
			t.Fatal(err)
		}
		got := readCapture(t, b, f)
		checkRead(t, c, f, got)
		r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.ReadPacketData(); err != nil { // interfaces are read lazily
			t.Fatal(err)
		}
		for i, name := range []string{"eth0", "any", "tun0"} {
			ifc, err := r.Interface(i)
			if err != nil || ifc.Name != name {
				t.Errorf("interface %d: %q, %v; want %q", i, ifc.Name, err, name)
			}
		}
	}
	if _, err := c.Bytes(Format{}); err == nil {
		t.Error("pcap with three link types: no error")
	}
}

func TestRotate(t *testing.T) {
	s := rotatedACK(Options{})
	c := s.Capture
	if c.Files() != 2 {
		t.Fatalf("%d files, want 2", c.Files())
	}
	a, b := c.File(0), c.File(1)
	if a.Len()+b.Len() != c.Len() || b.Len() == 0 {
		t.Fatalf("files of %d and %d packets, capture %d", a.Len(), b.Len(), c.Len())
	}
	last := a.Packets()[a.Len()-1]
	if last.Seg.Flags&FIN == 0 {
		t.Errorf("first file ends with %+v, want the FIN", last.Seg)
	}
	if f, n := c.FilePos(a.Len() + 1); f != 1 || n != 1 {
		t.Errorf("FilePos(%d) = %d, %d; want 1, 1", a.Len()+1, f, n)
	}
	first := rotatedACKFirstFile(Options{})
	if first.Capture.Len() != a.Len() {
		t.Errorf("rotated-ack-first-file has %d packets, want %d", first.Capture.Len(), a.Len())
	}
}

func TestSwapKeepsTimeOrder(t *testing.T) {
	s := finOutOfOrder(Options{})
	var prev time.Time
	for i, p := range s.Capture.Packets() {
		if p.Time.Before(prev) {
			t.Errorf("packet %d goes back in time", i+1)
		}
		prev = p.Time
	}
}

// TestScenarioVerdicts checks each scenario's CLOSE_WAIT verdicts against
// the packets with the rule of issue 3, written here independently of the
// engine: the peer's FIN, a later ACK of it by the endpoint, no FIN from the
// endpoint and no RST. It guards the scenarios, not the engine.
func TestScenarioVerdicts(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		for _, s := range Scenarios(Options{IPv6: v6}) {
			if s.Doc == "" || len(s.Conns) == 0 || s.Local != s.Conns[0].Server.Addr {
				t.Errorf("%s: doc, conns or local missing", s.Name)
			}
			conns := splitConns(s.Capture.Packets())
			if len(conns) != len(s.Conns) {
				t.Fatalf("%s: %d connections in the packets, %d expected", s.Name, len(conns), len(s.Conns))
			}
			for i, e := range s.Conns {
				for _, ep := range []struct {
					e    Endpoint
					peer netip.AddrPort
				}{{e.Client, e.Server.Addr}, {e.Server, e.Client.Addr}} {
					if got := oracle(conns[i], ep.e.Addr, ep.peer); got != ep.e.CloseWait {
						t.Errorf("%s conn %d: %v: verdict %q by the packets, %q expected", s.Name, i+1, ep.e.Addr, got, ep.e.CloseWait)
					}
					if ep.e.CloseWait != "" && ep.e.State != CloseWait && ep.e.State != "" {
						t.Errorf("%s: %v: verdict %q with state %s", s.Name, ep.e.Addr, ep.e.CloseWait, ep.e.State)
					}
					ev := ep.e.Evidence
					if ep.e.CloseWait == Confirmed && (ev.FINAck == 0 || ev.FIN != 0 || ev.RST != 0) {
						t.Errorf("%s: %v: confirmed with evidence %+v", s.Name, ep.e.Addr, ev)
					}
					if !slices.IsSorted(ep.e.Markers) {
						t.Errorf("%s: markers not sorted", s.Name)
					}
				}
			}
		}
	}
}

// splitConns splits packets into connections: a SYN without ACK starts a
// new one.
func splitConns(pkts []Packet) [][]Packet {
	var out [][]Packet
	for _, p := range pkts {
		if p.Seg.Flags&(SYN|ACK) == SYN || len(out) == 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], p)
	}
	return out
}

func oracle(pkts []Packet, ep, peer netip.AddrPort) Verdict {
	var fin uint32
	finSeen, acked := false, false
	for _, p := range pkts {
		if p.Seg.Flags&RST != 0 {
			return ""
		}
		if p.Src == peer && p.Seg.Flags&FIN != 0 {
			fin, finSeen = p.Seg.Seq+uint32(p.Seg.Len), true
		}
		if p.Src == ep {
			if p.Seg.Flags&FIN != 0 {
				return ""
			}
			if finSeen && p.Seg.Flags&ACK != 0 && int32(p.Seg.Ack-(fin+1)) >= 0 {
				acked = true
			}
		}
	}
	switch {
	case acked:
		return Confirmed
	case finSeen:
		return Unconfirmed
	}
	return ""
}

func TestConnSequence(t *testing.T) {
	c := New(defaultStart)
	k := c.Conn(netip.MustParseAddrPort("10.0.0.1:1234"), netip.MustParseAddrPort("10.0.0.2:80"), ConnOptions{NoOptions: true})
	k.ISN(FromClient, 0xfffffffe).ISN(FromServer, 100)
	k.Handshake()
	d := k.DataFIN(FromClient, 10)
	a := k.ACK(FromServer)
	ka := k.KeepAlive(FromServer, 1)
	rt := k.Retransmit(FromClient)
	p := c.Packets()
	want := []struct {
		n        int
		seq, ack uint32
		flags    Flags
		len      int
	}{
		{1, 0xfffffffe, 0, SYN, 0},
		{2, 100, 0xffffffff, SYN | ACK, 0},
		{3, 0xffffffff, 101, ACK, 0},
		{d, 0xffffffff, 101, FIN | PSH | ACK, 10},
		{a, 101, 10, ACK, 0}, // 0xffffffff + 10 + FIN wraps to 10
		{ka, 100, 10, ACK, 1},
		{rt, 0xffffffff, 101, FIN | PSH | ACK, 10},
	}
	for _, w := range want {
		s := p[w.n-1].Seg
		if s.Seq != w.seq || s.Ack != w.ack || s.Flags != w.flags || s.Len != w.len || len(s.Options) != 0 {
			t.Errorf("packet %d: %+v, want seq %#x ack %#x flags %#x len %d", w.n, s, w.seq, w.ack, w.flags, w.len)
		}
	}
	if n, b := k.Counts(FromClient); n != 4 || b != 20 {
		t.Errorf("client counts %d packets %d bytes, want 4 and 20", n, b)
	}
}

func TestInvalidFramingPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("VLAN on a raw IP link: no panic")
		}
	}()
	New(defaultStart, Interface{Framing: Framing{Link: RawIP, VLANs: []uint16{1}}})
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	f := Format{Pcapng: true, Gzip: true}
	s := rotatedACK(Options{})
	paths, err := s.WriteFiles(dir, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[1]) != "rotated-ack.1.pcapng.gz" {
		t.Fatalf("paths %q", paths)
	}
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		checkRead(t, s.Capture.File(i), f, readCapture(t, b, f))
	}
}

// TestEvidence pins the evidence packets of a few scenarios, counted by
// hand: the handshake is packets 1-3, the request and response 4-7.
func TestEvidence(t *testing.T) {
	byName := map[string]Scenario{}
	for _, s := range Scenarios(Options{}) {
		byName[s.Name] = s
	}
	for _, tc := range []struct {
		name           string
		client, server Evidence
		serverPackets  int
	}{
		{"close-wait-confirmed", Evidence{SYN: 1, FIN: 8}, Evidence{SYN: 2, FINAck: 9}, 4},
		{"fin-out-of-order", Evidence{SYN: 1, FIN: 8}, Evidence{SYN: 2, FINAck: 10}, 4},
		{"fin-retransmitted", Evidence{SYN: 1, FIN: 8}, Evidence{SYN: 2, FINAck: 10}, 4},
		{"fin-with-data-ack-data-only", Evidence{SYN: 1, FIN: 8}, Evidence{SYN: 2}, 4},
		{"close-simultaneous", Evidence{SYN: 1, FIN: 8}, Evidence{SYN: 2, FIN: 9}, 4},
		{"close-both", Evidence{SYN: 1, FIN: 8, FINAck: 11}, Evidence{SYN: 2, FIN: 10, FINAck: 9}, 5},
		{"rst-after-fin", Evidence{SYN: 1, FIN: 8}, Evidence{SYN: 2, FINAck: 9, RST: 10}, 5},
		{"mid-connection", Evidence{FIN: 5}, Evidence{FINAck: 6}, 3},
		{"one-way", Evidence{SYN: 1, FIN: 5}, Evidence{}, 0},
		{"rotated-ack", Evidence{SYN: 1, FIN: 8}, Evidence{SYN: 2, FINAck: 9}, 4},
		{"rotated-ack-first-file", Evidence{SYN: 1, FIN: 8}, Evidence{SYN: 2}, 3},
	} {
		s, ok := byName[tc.name]
		if !ok {
			t.Errorf("no scenario %s", tc.name)
			continue
		}
		e := s.Conns[0]
		if e.Client.Evidence != tc.client || e.Server.Evidence != tc.server || e.Server.Packets != tc.serverPackets {
			t.Errorf("%s: client %+v server %+v (%d packets), want %+v %+v (%d)", tc.name,
				e.Client.Evidence, e.Server.Evidence, e.Server.Packets, tc.client, tc.server, tc.serverPackets)
		}
	}
	s := byName["port-reuse-after-rst"]
	if len(s.Conns) != 2 || s.Conns[0].Client.Evidence.RST != 8 || s.Conns[1].Client.Evidence.SYN != 9 {
		t.Errorf("port-reuse-after-rst: %+v", s.Conns)
	}
}

func TestConnFraming(t *testing.T) {
	c := New(defaultStart, Interface{Framing: Framing{VLANs: []uint16{10}}})
	cl, sv := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:8080")
	c.Conn(cl, sv, ConnOptions{}).Handshake()
	c.Conn(cl, sv, ConnOptions{Framing: &Framing{VLANs: []uint16{20}}}).Handshake()
	var vlans []uint16
	for _, p := range c.Packets() {
		pkt := gopacket.NewPacket(p.Data, layers.LinkTypeEthernet, gopacket.Default)
		if q, ok := pkt.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q); ok {
			vlans = append(vlans, q.VLANIdentifier)
		}
	}
	if want := []uint16{10, 10, 10, 20, 20, 20}; !slices.Equal(vlans, want) {
		t.Errorf("VLANs %v, want %v", vlans, want)
	}
	b, err := c.Bytes(Format{})
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, c, Format{}, readCapture(t, b, Format{}))
}

func TestSplitFiles(t *testing.T) {
	s := splitByDirection(Options{})
	c := s.Capture
	if c.Files() != 2 {
		t.Fatalf("%d files, want 2", c.Files())
	}
	for i, want := range []netip.AddrPort{s.Conns[0].Client.Addr, s.Local} {
		f := c.File(i)
		if f.Len() == 0 {
			t.Fatalf("file %d is empty", i)
		}
		for _, p := range f.Packets() {
			if p.Src != want {
				t.Errorf("file %d has a packet from %v", i, p.Src)
			}
		}
	}
	if f, n := c.FilePos(2); f != 1 || n != 1 { // the SYN-ACK
		t.Errorf("FilePos(2) = %d, %d; want 1, 1", f, n)
	}
	if f, n := c.FilePos(3); f != 0 || n != 2 {
		t.Errorf("FilePos(3) = %d, %d; want 0, 2", f, n)
	}
}

func TestFormatStored(t *testing.T) {
	ts := time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC)
	for _, tc := range []struct {
		f    Format
		nano int
	}{
		{Format{}, 123456000},
		{Format{Nanos: true}, 123456789},
		{Format{Pcapng: true}, 123456000},
		{Format{Pcapng: true, TSResol: 9}, 123456789},
		{Format{Pcapng: true, TSResol: 3}, 123000000},
		{Format{Pcapng: true, Nanos: true}, 123456000}, // Nanos is for classic pcap only
	} {
		if got := tc.f.Stored(ts).Nanosecond(); got != tc.nano {
			t.Errorf("%+v: %d ns, want %d", tc.f, got, tc.nano)
		}
	}
}

// TestSplitPcap: the files SplitPcap makes hold every packet once, in
// order, at most n each; a cut file is an error.
func TestSplitPcap(t *testing.T) {
	var b bytes.Buffer
	st, err := Load(&b, LoadOptions{Conns: 50, Open: 5})
	if err != nil {
		t.Fatal(err)
	}
	files, err := SplitPcap(b.Bytes(), 97)
	if err != nil {
		t.Fatal(err)
	}
	if want := (int(st.Packets) + 96) / 97; len(files) != want {
		t.Fatalf("%d files, want %d", len(files), want)
	}
	var joined []byte
	for i, f := range files {
		if i == 0 {
			joined = append(joined, f...)
		} else {
			joined = append(joined, f[24:]...)
		}
	}
	if !bytes.Equal(joined, b.Bytes()) {
		t.Error("the files do not add up to the capture")
	}
	if _, err := SplitPcap(b.Bytes()[:b.Len()-3], 97); err == nil {
		t.Error("a cut capture was split")
	}
}
