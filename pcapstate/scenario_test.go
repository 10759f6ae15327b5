package pcapstate_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// scenarioFramings are the link layers, encapsulations and tunnels every
// scenario is replayed through.
var scenarioFramings = []struct {
	name string
	ifc  capgen.Interface
	ipv6 bool
}{
	{"ethernet", capgen.Interface{}, false},
	{"ethernet-ipv6", capgen.Interface{}, true},
	{"vlan", capgen.Interface{Framing: capgen.Framing{VLANs: []uint16{42}}}, false},
	{"qinq-pppoe", capgen.Interface{Framing: capgen.Framing{VLANs: []uint16{100, 200}, PPPoE: 7}}, false},
	{"mpls", capgen.Interface{Framing: capgen.Framing{MPLS: []uint32{16, 17}}}, false},
	{"sll", capgen.Interface{Framing: capgen.Framing{Link: capgen.SLL}}, false},
	{"sll2-ipv6-destopts", capgen.Interface{Framing: capgen.Framing{Link: capgen.SLL2, IPv6DestOpts: true}}, true},
	{"raw", capgen.Interface{Framing: capgen.Framing{Link: capgen.RawIP}}, false},
	{"null", capgen.Interface{Framing: capgen.Framing{Link: capgen.Null}}, false},
	{"gtp-u", capgen.Interface{Framing: capgen.Framing{Tunnel: capgen.GTPU}}, false},
	{"teredo", capgen.Interface{Framing: capgen.Framing{Tunnel: capgen.Teredo}}, true},
	{"padded-snaplen-96", capgen.Interface{Framing: capgen.Framing{Pad: true}, SnapLen: 96}, false},
}

var scenarioFormats = []struct {
	name string
	f    capgen.Format
}{
	{"pcap-us", capgen.Format{}},
	{"pcap-ns-be", capgen.Format{Nanos: true, BigEndian: true}},
	{"pcapng-ns", capgen.Format{Pcapng: true, TSResol: 9}},
	{"pcapng-gz", capgen.Format{Pcapng: true, Gzip: true}},
}

// TestScenarios replays every situation of DEVELOPERS.md's "Exact" list,
// built as real packets by capgen, in every framing and file format, and
// checks the engine's verdict on each endpoint.
func TestScenarios(t *testing.T) {
	for _, fr := range scenarioFramings {
		for _, fm := range scenarioFormats {
			if fr.name != "ethernet" && fm.name != "pcap-us" && fm.name != "pcapng-ns" {
				continue // every framing in two formats, every format on Ethernet
			}
			for _, sc := range capgen.Scenarios(capgen.Options{Interface: fr.ifc, IPv6: fr.ipv6}) {
				t.Run(fr.name+"/"+fm.name+"/"+sc.Name, func(t *testing.T) {
					checkScenario(t, sc, fm.f)
				})
			}
		}
	}
}

func checkScenario(t *testing.T, sc capgen.Scenario, f capgen.Format) {
	var inputs []pcapstate.Input
	for i := range sc.Capture.Files() {
		var b bytes.Buffer
		if err := sc.Capture.File(i).Write(&b, f); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, pcapstate.Input{Name: fmt.Sprintf("%s.%d", sc.Name, i), R: bytes.NewReader(b.Bytes())})
	}
	local := netip.PrefixFrom(sc.Local.Addr(), sc.Local.Addr().BitLen())
	res, err := pcapstate.Read(inputs, pcapstate.Options{Local: []netip.Prefix{local}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) > 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
	if len(res.Conns) != len(sc.Conns) {
		t.Fatalf("%d connections, want %d\n%s", len(res.Conns), len(sc.Conns), sc.Doc)
	}
	conns := slices.Clone(res.Conns)
	slices.SortStableFunc(conns, func(a, b pcapstate.Conn) int { return a.First.Compare(b.First) })
	for i, want := range sc.Conns {
		c := conns[i]
		if c.Local.Addr != want.Server.Addr || c.Remote.Addr != want.Client.Addr {
			t.Fatalf("conn %d: local %v remote %v, want %v %v", i, c.Local.Addr, c.Remote.Addr, want.Server.Addr, want.Client.Addr)
		}
		checkSide(t, fmt.Sprintf("conn %d server", i), c.Local, c.Verdict, want.Server, f)
		remoteVerdict := pcapstate.NotCloseWait
		if c.Remote.State == pcapstate.CloseWait {
			remoteVerdict = pcapstate.CloseWaitUnconfirmed
			if !c.Local.FINAck.IsZero() && c.Local.RST.IsZero() && c.Remote.RST.IsZero() && c.Remote.FIN.IsZero() {
				remoteVerdict = pcapstate.CloseWaitConfirmed
			}
		}
		checkSide(t, fmt.Sprintf("conn %d client", i), c.Remote, remoteVerdict, want.Client, f)
		if t.Failed() {
			t.Logf("scenario: %s", sc.Doc)
			t.Logf("why: %s", c.Why)
		}
	}
}

func checkSide(t *testing.T, who string, got pcapstate.Side, v pcapstate.Verdict, want capgen.Endpoint, f capgen.Format) {
	t.Helper()
	if want.State != "" && got.State.String() != string(want.State) {
		t.Errorf("%s: state %v, want %v", who, got.State, want.State)
	}
	wantV := pcapstate.NotCloseWait
	switch want.CloseWait {
	case capgen.Confirmed:
		wantV = pcapstate.CloseWaitConfirmed
	case capgen.Unconfirmed:
		wantV = pcapstate.CloseWaitUnconfirmed
	}
	if v != wantV {
		t.Errorf("%s: verdict %v, want %v", who, v, wantV)
	}
	if !want.Since.IsZero() {
		ws := want.Since
		if !f.Nanos && !(f.Pcapng && f.TSResol == 9) {
			ws = ws.Truncate(1000) // microsecond timestamps
		}
		if !got.Since.Equal(ws) {
			t.Errorf("%s: since %v, want %v", who, got.Since, ws)
		}
	}
	if int(got.Packets) != want.Packets || int(got.Bytes) != want.Bytes {
		t.Errorf("%s: %d packets %d bytes, want %d %d", who, got.Packets, got.Bytes, want.Packets, want.Bytes)
	}
	var gm []string
	for _, m := range strings.Split(got.Markers.String(), ",") {
		if m != "" && m != "header-cut" && m != "rst" {
			gm = append(gm, strings.Replace(m, "data-after-peer-fin", "data-after-fin", 1))
		}
	}
	var wm []string
	for _, m := range want.Markers {
		if m != capgen.MarkRST {
			wm = append(wm, string(m))
		}
	}
	slices.Sort(gm)
	slices.Sort(wm)
	if !slices.Equal(gm, wm) {
		t.Errorf("%s: markers %v, want %v", who, gm, wm)
	}
}

// TestNoiseCounted mixes frames that hold no trackable TCP segment into a
// capture with a CLOSE_WAIT: each is counted under its kind, none is
// dropped silently, and the verdict is unchanged.
func TestNoiseCounted(t *testing.T) {
	sc := capgen.Scenarios(capgen.Options{})[0] // close-wait-confirmed
	c := sc.Capture
	want := map[string]uint64{}
	for n, kind := range map[capgen.Noise]string{
		capgen.NoiseARP:       "arp",
		capgen.NoiseEtherType: "other-ethertype",
		capgen.NoiseUDP:       "udp",
		capgen.NoiseICMP:      "icmp",
		capgen.NoiseGRE:       "tunnel-control",
		capgen.NoiseFragment:  "ip-fragment",
		capgen.NoiseShortIP:   "truncated",
		capgen.NoiseBadTCP:    "malformed",
	} {
		c.Noise(0, n, false)
		want[kind]++
	}
	var b bytes.Buffer
	if err := c.Write(&b, capgen.Format{}); err != nil {
		t.Fatal(err)
	}
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "noise.pcap", R: &b}}, pcapstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, s := range res.Skipped {
		got[s.Kind] = s.Packets
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("skipped %v, want %v", got, want)
	}
	if res.Segments+res.NonTCP() != res.Packets || len(res.Conns) != 1 || res.Conns[0].Verdict != pcapstate.CloseWaitConfirmed {
		t.Errorf("%d packets, %d segments, %d non-TCP, conns %+v", res.Packets, res.Segments, res.NonTCP(), res.Conns)
	}
}

// TestRetainNone: with RetainNone the result holds only connections still
// open at the end, none of the finished ones lingering in the table.
func TestRetainNone(t *testing.T) {
	for _, sc := range capgen.Scenarios(capgen.Options{}) {
		var b bytes.Buffer
		if err := sc.Capture.Write(&b, capgen.Format{}); err != nil {
			t.Fatal(err)
		}
		res, err := pcapstate.Read([]pcapstate.Input{{Name: "x", R: &b}}, pcapstate.Options{Retain: pcapstate.RetainNone})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Conns {
			if c.Local.RST != (pcapstate.Pos{}) || c.Remote.RST != (pcapstate.Pos{}) ||
				(c.Local.State == pcapstate.Closed || c.Local.State == pcapstate.TimeWait) && (c.Remote.State == pcapstate.Closed || c.Remote.State == pcapstate.TimeWait) {
				t.Errorf("%s: finished connection %v-%v kept", sc.Name, c.Local.Addr, c.Remote.Addr)
			}
		}
	}
}
