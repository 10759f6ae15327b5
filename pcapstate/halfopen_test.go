package pcapstate

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// isHalfOpen is the test's own reading of Options.SummarizeHalfOpen on a
// Conn: accepted by the local endpoint, which sent nothing; the remote
// sent only SYNs; open at the end, no anomaly.
func isHalfOpen(c *Conn) bool {
	return c.Handshake && !c.Reused && !c.LocalOpened && c.AnomalyCount == 0 && c.Local.Packets == 0 &&
		c.Remote.State == SynSent && c.Remote.Bytes == 0 && c.Remote.Markers == 0
}

var addrCmp = gocmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })

// readBoth reads the same captures without and with SummarizeHalfOpen.
func readBoth(t *testing.T, open func() []Input, opts Options) (all, summed *Result) {
	t.Helper()
	all, err := Read(open(), opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.SummarizeHalfOpen = true
	summed, err = Read(open(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return all, summed
}

// checkSummary checks that summed's Conns are all's less the half-open
// ones, and that its HalfOpen counts them.
func checkSummary(t *testing.T, all, summed *Result) {
	t.Helper()
	var rest []Conn
	counts := map[halfOpenKey]uint64{}
	for i := range all.Conns {
		if c := &all.Conns[i]; isHalfOpen(c) {
			counts[halfOpenKey{c.Local.Addr, c.VLAN}]++
		} else {
			rest = append(rest, *c)
		}
	}
	if diff := gocmp.Diff(rest, summed.Conns, addrCmp); diff != "" {
		t.Errorf("Conns less the half-open ones differ (-want +got):\n%s", diff)
	}
	got := map[halfOpenKey]uint64{}
	for _, h := range summed.HalfOpen {
		got[halfOpenKey{h.Local, h.VLAN}] = h.Conns
	}
	if diff := gocmp.Diff(counts, got, gocmp.Comparer(func(a, b halfOpenKey) bool { return a == b })); diff != "" {
		t.Errorf("half-open counts differ (-want +got):\n%s", diff)
	}
	if all.HalfOpen != nil {
		t.Errorf("HalfOpen %v without SummarizeHalfOpen", all.HalfOpen)
	}
}

func TestSummarizeHalfOpenFlood(t *testing.T) {
	o := capgen.FloodOptions{SYNs: 3000, PerSecond: 1000, Seed: 3}
	var b bytes.Buffer
	if _, err := capgen.Flood(&b, o); err != nil {
		t.Fatal(err)
	}
	open := func() []Input { return []Input{{Name: "flood.pcap", R: bytes.NewReader(b.Bytes())}} }
	all, summed := readBoth(t, open, Options{Retain: RetainNone})
	if len(all.Conns) != o.SYNs || len(summed.Conns) != 0 {
		t.Fatalf("%d conns without summary, %d with; want %d and 0", len(all.Conns), len(summed.Conns), o.SYNs)
	}
	start := time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)
	sources := map[netip.Addr]bool{}
	for i := range o.SYNs {
		sources[capgen.FloodSource(i, o.Seed, false).Addr()] = true
	}
	want := []HalfOpen{{
		Local: netip.MustParseAddrPort("10.255.0.1:80"), Conns: 3000, Sources: uint64(len(sources)),
		First: start, FirstPacket: Pos{"flood.pcap", 1},
		Last: start.Add(2999 * time.Millisecond), LastPacket: Pos{"flood.pcap", 3000},
	}}
	if diff := gocmp.Diff(want, summed.HalfOpen, addrCmp); diff != "" {
		t.Errorf("HalfOpen (-want +got):\n%s", diff)
	}
	checkSummary(t, all, summed)
}

// TestSummarizeHalfOpenZeek checks the summary on every Zeek capture read
// together: only half-open connections leave Conns.
func TestSummarizeHalfOpenZeek(t *testing.T) {
	traces, err := filepath.Glob(filepath.Join(zeekDir, "traces", "*"))
	if err != nil || len(traces) == 0 {
		t.Fatalf("no traces in %s: %v", zeekDir, err)
	}
	open := func() []Input {
		var inputs []Input
		for _, p := range traces {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, Input{Name: filepath.Base(p), R: bytes.NewReader(b)})
		}
		return inputs
	}
	all, summed := readBoth(t, open, Options{})
	checkSummary(t, all, summed)
	t.Logf("%d conns, %d half-open in %d groups", len(all.Conns), len(all.Conns)-len(summed.Conns), len(summed.HalfOpen))
}

// TestSummarizeHalfOpenMixed reads a flood with ordinary traffic (a Load
// capture, with connections left in CLOSE_WAIT): only the flood leaves
// Conns. With the flood's sources declared local, its SYNs are outgoing
// connections nobody answered: those stay in Conns.
func TestSummarizeHalfOpenMixed(t *testing.T) {
	var flood, load bytes.Buffer
	if _, err := capgen.Flood(&flood, capgen.FloodOptions{SYNs: 500, PerSecond: 100000, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	st, err := capgen.Load(&load, capgen.LoadOptions{Conns: 300, Open: 30, LeakEvery: 5, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	open := func() []Input {
		return []Input{{Name: "flood.pcap", R: bytes.NewReader(flood.Bytes())}, {Name: "load.pcap", R: bytes.NewReader(load.Bytes())}}
	}
	all, summed := readBoth(t, open, Options{Retain: RetainAll})
	checkSummary(t, all, summed)
	confirmed := 0
	for _, c := range summed.Conns {
		if c.Verdict == CloseWaitConfirmed {
			confirmed++
		}
	}
	if len(summed.Conns) != 300 || confirmed != st.CloseWait || len(summed.HalfOpen) != 1 || summed.HalfOpen[0].Conns != 500 {
		t.Errorf("%d conns (%d confirmed CLOSE_WAIT), half-open %+v; want 300 (%d), 500", len(summed.Conns), confirmed, summed.HalfOpen, st.CloseWait)
	}
	all, summed = readBoth(t, open, Options{Local: []netip.Prefix{netip.MustParsePrefix("100.64.0.0/10")}})
	if len(summed.Conns) != len(all.Conns) || summed.HalfOpen != nil {
		t.Errorf("outgoing SYNs: %d conns summarized as %d and %v", len(all.Conns), len(summed.Conns), summed.HalfOpen)
	}
}
