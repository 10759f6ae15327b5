package capgen

import (
	"bytes"
	"io"
	"net/netip"
	"testing"
	"time"
)

func TestFlood(t *testing.T) {
	for _, o := range []FloodOptions{
		{SYNs: 3000, PerSecond: 1000, Seed: 7},
		{SYNs: 3000, PerSecond: 20000, Seed: 8, Target: netip.MustParseAddrPort("[2001:db8:ffff::1]:443"),
			Framing: Framing{VLANs: []uint16{5}}, Format: Format{Pcapng: true, Gzip: true, TSResol: 9}},
	} {
		var b bytes.Buffer
		st, err := Flood(&b, o)
		if err != nil {
			t.Fatal(err)
		}
		if st.Packets != o.SYNs {
			t.Errorf("stats %+v, want %d packets", st, o.SYNs)
		}
		again := &bytes.Buffer{}
		if _, err := Flood(again, o); err != nil || !bytes.Equal(again.Bytes(), b.Bytes()) {
			t.Errorf("two floods differ (%v)", err)
		}
		o.defaults()
		got := readCapture(t, b.Bytes(), o.Format)
		if len(got) != o.SYNs {
			t.Fatalf("read %d packets, want %d", len(got), o.SYNs)
		}
		seen := map[netip.AddrPort]bool{}
		for i, g := range got {
			src, dst, tcp, err := decodeTCP(o.Framing.Link, g.data)
			if err != nil {
				t.Fatalf("packet %d: %v", i+1, err)
			}
			from := netip.AddrPortFrom(src, uint16(tcp.SrcPort))
			if to := netip.AddrPortFrom(dst, uint16(tcp.DstPort)); to != o.Target || tcpFlags(tcp) != SYN {
				t.Fatalf("packet %d: %v -> %v %v, want a SYN to %v", i+1, from, to, tcpFlags(tcp), o.Target)
			}
			if from != FloodSource(i, o.Seed, o.Target.Addr().Is6()) || seen[from] {
				t.Fatalf("packet %d: source %v repeated or not FloodSource's", i+1, from)
			}
			seen[from] = true
			if want := o.Start.Add(time.Duration(i) * time.Second / time.Duration(o.PerSecond)); !g.ci.Timestamp.Equal(o.Format.Stored(want)) {
				t.Fatalf("packet %d at %v, want %v", i+1, g.ci.Timestamp, want)
			}
		}
	}
}

// TestFloodSourceDistinct checks FloodSource on a larger range than
// TestFlood writes.
func TestFloodSourceDistinct(t *testing.T) {
	seen := make(map[netip.AddrPort]bool, 200000)
	for i := range 200000 {
		a := FloodSource(i, 1, false)
		if seen[a] || !netip.MustParsePrefix("100.64.0.0/10").Contains(a.Addr()) || a.Port() < 32768 {
			t.Fatalf("source %d: %v repeated or out of range", i, a)
		}
		seen[a] = true
	}
}

func TestFloodBadOptions(t *testing.T) {
	for _, o := range []FloodOptions{
		{Framing: Framing{Tunnel: Teredo}},
		{Format: Format{Pcapng: true, TSResol: 12}},
	} {
		if _, err := Flood(io.Discard, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
