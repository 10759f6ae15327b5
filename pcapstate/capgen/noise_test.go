package capgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var noiseKinds = []Noise{NoiseARP, NoiseEtherType, NoiseUDP, NoiseICMP, NoiseGRE, NoiseFragment, NoiseShortIP, NoiseBadTCP}

// noiseCapture has every noise kind, IPv4 and IPv6, on every framing but
// tunnels (noise ignores them), one interface per framing.
func noiseCapture() *Capture {
	var ifaces []Interface
	for _, fr := range framings {
		if fr.f.Tunnel == NoTunnel {
			ifaces = append(ifaces, Interface{Name: fr.name, Framing: fr.f})
		}
	}
	c := New(defaultStart, ifaces...)
	for i, ifc := range ifaces {
		for _, n := range noiseKinds {
			if (n == NoiseARP || n == NoiseEtherType) && (ifc.Framing.Link == RawIP || ifc.Framing.Link == Null) {
				continue
			}
			for _, v6 := range []bool{false, true} {
				c.Noise(i, n, v6)
			}
		}
	}
	return c
}

// wantLayer is the layer gopacket must find in a noise frame.
var wantLayer = map[Noise]gopacket.LayerType{
	NoiseARP:      layers.LayerTypeARP,
	NoiseUDP:      layers.LayerTypeUDP,
	NoiseICMP:     layers.LayerTypeICMPv4,
	NoiseGRE:      layers.LayerTypeGRE,
	NoiseFragment: layers.LayerTypeIPv4,
	NoiseBadTCP:   layers.LayerTypeTCP,
}

func TestNoiseDecodes(t *testing.T) {
	c := noiseCapture()
	for i, p := range c.Packets() {
		link := c.Interfaces()[p.Iface].Framing.Link
		if link == SLL2 {
			continue // gopacket 1.1.19 has no SLL2
		}
		pkt := gopacket.NewPacket(p.Data, layers.LinkType(link.LinkType()), gopacket.Default)
		want, ok := wantLayer[p.Noise]
		if p.Noise == NoiseICMP && pkt.Layer(layers.LayerTypeIPv6) != nil {
			want = layers.LayerTypeICMPv6
		}
		switch {
		case p.Noise == NoiseShortIP || p.Noise == NoiseBadTCP:
			if pkt.ErrorLayer() == nil {
				t.Errorf("packet %d (%s %v): no decoding error in %v", i+1, c.Interfaces()[p.Iface].Name, p.Noise, pkt.Layers())
			}
		case ok && pkt.Layer(want) == nil:
			t.Errorf("packet %d (%s %v): no %v in %v", i+1, c.Interfaces()[p.Iface].Name, p.Noise, want, pkt.Layers())
		case p.Noise == NoiseFragment && pkt.Layer(layers.LayerTypeTCP) != nil:
			t.Errorf("packet %d: a fragment decoded as TCP", i+1)
		}
	}
}

// TestNoiseTshark has tshark name what each noise frame is.
func TestNoiseTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	if testing.Short() {
		t.Skip("tshark takes two seconds per file")
	}
	c := noiseCapture()
	b, err := c.Bytes(Format{Pcapng: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "noise.pcapng")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.protocols", "-e", "_ws.malformed").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != c.Len() {
		t.Fatalf("tshark read %d packets, we wrote %d", len(lines), c.Len())
	}
	want := map[Noise]string{
		NoiseARP: ":arp", NoiseEtherType: ":ethertype:data", NoiseUDP: ":udp:echo", NoiseICMP: ":icmp",
		NoiseGRE: ":gre", NoiseFragment: ":ip:data", NoiseShortIP: "", NoiseBadTCP: ":tcp",
	}
	for i, p := range c.Packets() {
		protos, malformed, _ := strings.Cut(lines[i], "\t")
		bad := p.Noise == NoiseShortIP || p.Noise == NoiseBadTCP
		if !strings.Contains(protos, want[p.Noise]) || malformed != "" && !bad {
			t.Errorf("packet %d (%s %v): tshark says %q", i+1, c.Interfaces()[p.Iface].Name, p.Noise, lines[i])
		}
	}
}
