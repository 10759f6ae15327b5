package capgen

import (
	"bytes"
	"io"
	"net/netip"
	"testing"
)

func TestLoad(t *testing.T) {
	for _, o := range []LoadOptions{
		{Conns: 500, Open: 40, LeakEvery: 7, Seed: 3, SnapLen: 96},
		{Conns: 500, Open: 40, LeakEvery: 7, Seed: 4, SnapLen: 120, IPv6: true,
			Framing: Framing{VLANs: []uint16{5}}, Format: Format{Pcapng: true, Gzip: true, TSResol: 9}},
	} {
		checkLoad(t, o)
	}
}

func checkLoad(t *testing.T, o LoadOptions) {
	t.Helper()
	var b bytes.Buffer
	st, err := Load(&b, o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Conns != 500 || st.Packets != 500*13-2*(500/7) || st.CloseWait != 500/7 || st.MaxOpen != 40 {
		t.Errorf("stats %+v", st)
	}
	again := &bytes.Buffer{}
	if _, err := Load(again, o); err != nil || !bytes.Equal(again.Bytes(), b.Bytes()) {
		t.Errorf("two loads differ (%v)", err)
	}
	got := readCapture(t, b.Bytes(), o.Format)
	if len(got) != st.Packets {
		t.Fatalf("read %d packets, stats say %d", len(got), st.Packets)
	}
	// Rebuild the segments with gopacket (frames are cut after the TCP
	// options, so headers decode) and judge every connection with
	// the test oracle.
	conns := map[netip.AddrPort][]Packet{}
	var order []netip.AddrPort
	interleaved := false
	var prev netip.AddrPort
	for i, g := range got {
		if g.ci.CaptureLength != min(int(o.SnapLen), g.ci.Length) {
			t.Fatalf("packet %d: captured %d of %d", i+1, g.ci.CaptureLength, g.ci.Length)
		}
		src, dst, tcp, err := decodeTCP(o.Framing.Link, g.data)
		if err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		p := Packet{Src: netip.AddrPortFrom(src, uint16(tcp.SrcPort)), Dst: netip.AddrPortFrom(dst, uint16(tcp.DstPort))}
		p.Seg = Segment{Flags: tcpFlags(tcp), Seq: tcp.Seq, Ack: tcp.Ack, Len: g.ci.Length - TCPOffset(o.Framing, o.IPv6) - int(tcp.DataOffset)*4}
		client := p.Src
		if tcp.SrcPort == 8080 {
			client = p.Dst
		}
		if _, ok := conns[client]; !ok {
			order = append(order, client)
		}
		if i > 0 && client != prev && len(conns[client]) > 0 {
			interleaved = true
		}
		prev = client
		conns[client] = append(conns[client], p)
	}
	if !interleaved {
		t.Error("connections are not interleaved")
	}
	if len(order) != 500 {
		t.Fatalf("%d connections, want 500", len(order))
	}
	for i := range 500 {
		client, server := o.Endpoints(i)
		want := Verdict("")
		if o.Leaks(i) {
			want = Confirmed
		}
		if got := oracle(conns[client], server, client); got != want {
			t.Errorf("conn %d %v: server verdict %q, want %q", i, client, got, want)
		}
		for _, p := range conns[client] {
			if p.Seg.Flags&PSH != 0 && p.Seg.Len != 100 {
				t.Errorf("conn %d: data segment of %d bytes", i, p.Seg.Len)
			}
		}
	}
}

// BenchmarkLoad measures how fast Load writes a capture.
func BenchmarkLoad(b *testing.B) {
	packets := 0
	for b.Loop() {
		st, err := Load(io.Discard, LoadOptions{Conns: 20000, Open: 6000, LeakEvery: 100})
		if err != nil {
			b.Fatal(err)
		}
		packets += st.Packets
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}

func TestLoadBadOptions(t *testing.T) {
	for _, o := range []LoadOptions{
		{Framing: Framing{Tunnel: Teredo}},
		{Framing: Framing{Link: RawIP, VLANs: []uint16{1}}},
		{Format: Format{Pcapng: true, TSResol: 12}},
	} {
		if _, err := Load(io.Discard, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
