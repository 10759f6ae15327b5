package capgen

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tsharkFields are the fields the tshark test reads, in -e order.
var tsharkFields = []string{
	"frame.time_epoch", "frame.len", "frame.cap_len",
	"ip.src", "ipv6.src", "tcp.srcport", "tcp.dstport",
	"tcp.seq_raw", "tcp.ack_raw", "tcp.flags", "tcp.len", "tcp.window_size_value",
	"tcp.checksum.status", "_ws.malformed",
}

// tsharkCase is one file for tshark and who is local in each of its
// packets' scenarios.
type tsharkCase struct {
	name   string
	c      *Capture
	format Format
	local  []netip.AddrPort // per packet: the scenario's server
}

// tsharkCases builds one pcapng with one scenario per framing, each on its
// own interface (tshark takes two seconds to start, so one file covers all
// framings), and one file per other format.
func tsharkCases() []tsharkCase {
	all := &Capture{}
	var local []netip.AddrPort
	for i, fr := range framings {
		o := Options{Interface: Interface{Framing: fr.f}, IPv6: fr.v6, Start: defaultStart.Add(time.Duration(i) * time.Hour)}
		scens := Scenarios(o)
		s := scens[i%len(scens)]
		if fr.name == "ipv6-destopts" {
			s = snaplenCut(o)
		}
		ifc := s.Capture.ifaces[0]
		ifc.Name = fr.name + "/" + s.Name
		all.ifaces = append(all.ifaces, ifc)
		for _, p := range s.Capture.pkts {
			p.Iface = len(all.ifaces) - 1
			all.pkts = append(all.pkts, p)
			local = append(local, s.Local)
		}
	}
	out := []tsharkCase{{"framings.pcapng", all, Format{Pcapng: true, TSResol: 9}, local}}
	for _, f := range []struct {
		name string
		f    Format
	}{
		{"pcap", Format{}},
		{"pcap-ns-be", Format{Nanos: true, BigEndian: true}},
		{"pcap-be.gz", Format{BigEndian: true, Gzip: true}},
		{"pcapng-be.gz", Format{Pcapng: true, BigEndian: true, Gzip: true}},
	} {
		s := closeWaitConfirmed(Options{IPv6: f.f.BigEndian})
		local := make([]netip.AddrPort, s.Capture.Len())
		for i := range local {
			local[i] = s.Local
		}
		out = append(out, tsharkCase{f.name, s.Capture, f.f, local})
	}
	return out
}

// TestTshark has tshark, an independent reader, decode one scenario per
// framing and one file per format, and wants back every header field we
// wrote, with good checksums. It is skipped when tshark is not installed
// (apt-get install tshark).
func TestTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	if testing.Short() {
		t.Skip("tshark takes two seconds per file")
	}
	dir := t.TempDir()
	for i, tc := range tsharkCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := tc.c.Bytes(tc.format)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, fmt.Sprint(i))
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-n", "-r", path, "-o", "tcp.check_checksum:TRUE", "-o", "tcp.relative_sequence_numbers:FALSE", "-T", "fields", "-E", "separator=/t"}
			for _, f := range tsharkFields {
				args = append(args, "-e", f)
			}
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(tshark, args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("tshark: %v\n%s", err, stderr.String())
			}
			for _, l := range strings.Split(stderr.String(), "\n") {
				if l != "" && !strings.Contains(l, "could be dangerous") {
					t.Errorf("tshark: %s", l)
				}
			}
			got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if len(got) != tc.c.Len() {
				t.Fatalf("tshark read %d packets, we wrote %d", len(got), tc.c.Len())
			}
			for n, p := range tc.c.Packets() {
				if w := tsharkWant(tc.c, p, tc.format, p.Src != tc.local[n]); got[n] != w {
					t.Errorf("packet %d (%s):\n got %q\nwant %q", n+1, tc.c.ifaces[p.Iface].Name, got[n], w)
				}
			}
		})
	}
}

// tsharkWant is the line tshark must print for p.
func tsharkWant(c *Capture, p Packet, f Format, fromClient bool) string {
	ifc := c.Interfaces()[p.Iface]
	ts := f.Stored(p.Time)
	caplen := min(len(p.Data), int(ifc.snapLen()))
	v4src, v6src := "", ""
	if ifc.Framing.Tunnel != NoTunnel {
		if fromClient {
			v4src = "192.0.2.1"
		} else if ifc.Framing.Tunnel == GTPU {
			v4src = "192.0.2.2"
		} else {
			v4src = "198.51.100.1"
		}
	}
	if p.Src.Addr().Is4() {
		v4src = strings.TrimPrefix(v4src+","+p.Src.Addr().String(), ",")
	} else {
		v6src = p.Src.Addr().String()
	}
	cksum := "1" // good
	if caplen < len(p.Data) {
		cksum = "2" // unverified: the segment was cut
	}
	return strings.Join([]string{
		fmt.Sprintf("%d.%09d", ts.Unix(), ts.Nanosecond()),
		fmt.Sprint(len(p.Data)), fmt.Sprint(caplen),
		v4src, v6src, fmt.Sprint(p.Src.Port()), fmt.Sprint(p.Dst.Port()),
		fmt.Sprint(p.Seg.Seq), fmt.Sprint(p.Seg.Ack), fmt.Sprintf("0x%04x", uint8(p.Seg.Flags)),
		fmt.Sprint(p.Seg.Len), fmt.Sprint(p.Seg.Window), cksum, "",
	}, "\t")
}
