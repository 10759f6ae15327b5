package pcapstate

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// pstep is one segment of a promotion scenario: who sends it (c, the
// client, or s), its flags, seq, ack and payload, whether its header is
// cut, and how long after the previous segment it comes.
type pstep struct {
	from  byte
	flags Flags
	seq   uint32
	ack   uint32
	n     uint32
	cut   bool
	after time.Duration
}

// promotions are the ways a half stops being one (or stays one), each a
// connection of its own; the capture ends 1 s after the last segment.
var promotions = map[string][]pstep{
	"syn":                {{'c', SYN, 100, 0, 0, false, 0}},
	"syn then syn-ack":   {{'c', SYN, 100, 0, 0, false, 0}, {'s', SYN | ACK, 900, 101, 0, false, time.Millisecond}},
	"handshake and data": {{'c', SYN, 100, 0, 0, false, 0}, {'s', SYN | ACK, 900, 101, 0, false, time.Millisecond}, {'c', ACK, 101, 901, 0, false, time.Millisecond}, {'c', ACK | PSH, 101, 901, 50, false, time.Millisecond}},
	"syn retransmitted then ack": {
		{'c', SYN, 100, 0, 0, false, 0}, {'c', SYN, 100, 0, 0, false, time.Second}, {'c', SYN | ECE | CWR, 100, 0, 0, false, 2 * time.Second},
		{'c', ACK, 101, 901, 0, false, time.Second},
	},
	"syn retransmitted, never answered": {{'c', SYN, 100, 0, 0, false, 0}, {'c', SYN, 100, 0, 0, false, time.Second}, {'c', SYN, 100, 0, 0, false, 2 * time.Second}},
	"syn then rst":                      {{'c', SYN, 100, 0, 0, false, 0}, {'s', RST | ACK, 0, 101, 0, false, time.Millisecond}},
	"syn then own rst":                  {{'c', SYN, 100, 0, 0, false, 0}, {'c', RST, 101, 0, 0, false, time.Millisecond}},
	"syn then fin":                      {{'c', SYN, 100, 0, 0, false, 0}, {'c', FIN | ACK, 101, 901, 0, false, time.Millisecond}},
	"syn then data":                     {{'c', SYN, 100, 0, 0, false, 0}, {'c', ACK, 101, 901, 10, false, time.Millisecond}},
	"port reuse with another isn":       {{'c', SYN, 100, 0, 0, false, 0}, {'c', SYN, 7000, 0, 0, false, 30 * time.Second}, {'s', SYN | ACK, 900, 7001, 0, false, time.Millisecond}},
	"reuse after rst":                   {{'c', SYN, 100, 0, 0, false, 0}, {'s', RST | ACK, 0, 101, 0, false, time.Millisecond}, {'c', SYN, 5000, 0, 0, false, time.Second}},
	"reuse after linger":                {{'c', SYN, 100, 0, 0, false, 0}, {'s', RST | ACK, 0, 101, 0, false, time.Millisecond}, {'c', SYN, 5000, 0, 0, false, 3 * time.Minute}},
	"reuse of a half-open after close": {
		{'c', SYN, 100, 0, 0, false, 0}, {'s', SYN | ACK, 900, 101, 0, false, time.Millisecond}, {'c', ACK, 101, 901, 0, false, time.Millisecond},
		{'c', FIN | ACK, 101, 901, 0, false, time.Millisecond}, {'s', FIN | ACK, 901, 102, 0, false, time.Millisecond}, {'c', ACK, 102, 902, 0, false, time.Millisecond},
		{'c', SYN, 3000, 0, 0, false, time.Second}, {'c', SYN, 3000, 0, 0, false, time.Second},
	},
	"simultaneous open":      {{'c', SYN, 100, 0, 0, false, 0}, {'s', SYN, 900, 0, 0, false, time.Millisecond}},
	"syn with data":          {{'c', SYN, 100, 0, 20, false, 0}},
	"syn cut by the snaplen": {{'c', SYN, 100, 0, 0, true, 0}, {'c', SYN, 100, 0, 0, false, time.Second}},
	"retransmission cut":     {{'c', SYN, 100, 0, 0, false, 0}, {'c', SYN, 100, 0, 0, true, time.Second}},
	"syn-ack first":          {{'s', SYN | ACK, 900, 101, 0, false, 0}},
	"syn-fin":                {{'c', SYN | FIN, 100, 0, 0, false, 0}},
	"server port 80 opens":   {{'s', SYN, 900, 0, 0, false, 0}, {'s', SYN, 900, 0, 0, false, time.Second}},
}

// promotionItems lays every scenario out on a 5-tuple of its own (the
// clients numbered from 10.0.1.1, the server 10.0.0.2:80, or its IPv6
// form for every other scenario) and merges them in time order.
func promotionItems(t *testing.T, names []string, seed uint64) []item {
	t.Helper()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	type timed struct {
		ts  int64
		seg Segment
	}
	var all []timed
	for i, name := range names {
		cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 1, byte(i + 1)}), uint16(40000+i))
		srv := netip.MustParseAddrPort("10.0.0.2:80")
		if i%2 == 1 {
			cli = netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf("2001:db8::1:%x", i+1)), uint16(40000+i))
			srv = netip.MustParseAddrPort("[2001:db8::2]:80")
		}
		ts := base + int64(i)*int64(time.Microsecond)
		for _, s := range promotions[name] {
			ts += int64(s.after)
			src, dst := cli, srv
			if s.from == 's' {
				src, dst = srv, cli
			}
			all = append(all, timed{ts, Segment{
				Src: src.Addr(), SrcPort: src.Port(), Dst: dst.Addr(), DstPort: dst.Port(),
				Seq: s.seq, Ack: s.ack, Flags: s.flags, Payload: s.n, HeaderCut: s.cut, Window: 64240,
			}})
		}
	}
	// Stable by time: each scenario's segments keep their order.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].ts < all[j-1].ts; j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	items := make([]item, len(all))
	for i := range all {
		items[i].set(&all[i].seg, seed, all[i].ts, ref{1, uint32(i + 1)})
	}
	return items
}

// runTracker runs items through a tracker, with or without halves, one
// at a time (add's path) or in batches (run's pipeline), and returns every
// connection as Read exports it, sorted, and how many were seen.
func runTracker(items []item, noHalves, pipeline bool) ([]Conn, uint64) {
	ex := exporter{names: []string{"p.pcap"}}
	var out []Conn
	tr := newTracker(func(c *conn) { out = append(out, ex.export(c, c.last)) })
	defer tr.release()
	tr.table.seed, tr.noHalves = 42, noHalves
	ex.tr = tr
	its := append([]item(nil), items...)
	if pipeline {
		for b := 0; b < len(its); b += 7 {
			tr.run(its[b:min(b+7, len(its))])
		}
	} else {
		for i := range its {
			tr.addItem(&its[i])
		}
	}
	end := its[len(its)-1].ts + int64(time.Second)
	tr.eachOpen(func(c *conn) { out = append(out, ex.export(c, end)) })
	SortConns(out)
	return out, tr.created
}

// TestHalfPromotion runs each promotion scenario alone, then all of them
// together, with halves and without (every connection a conn from its
// first segment): the same connections, states, counts and packets.
func TestHalfPromotion(t *testing.T) {
	var names []string
	for name := range promotions {
		names = append(names, name)
	}
	// A fixed order, so that the tuples are the same from run to run.
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	check := func(t *testing.T, names []string) {
		items := promotionItems(t, names, 42)
		want, wantN := runTracker(items, true, false)
		for _, pipeline := range []bool{false, true} {
			got, gotN := runTracker(items, false, pipeline)
			if diff := gocmp.Diff(want, got, addrCmp); diff != "" {
				t.Errorf("pipeline %v: conns with halves differ from the full path (-full +halves):\n%s", pipeline, diff)
			}
			if gotN != wantN {
				t.Errorf("pipeline %v: %d connections seen, want %d", pipeline, gotN, wantN)
			}
		}
		if len(want) == 0 {
			t.Error("no connection")
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) { check(t, []string{name}) })
	}
	t.Run("all", func(t *testing.T) { check(t, names) })
}

// TestHalvesStayHalves checks that a flood's SYNs, retransmitted or not,
// take no slab conn, and that the first answer promotes one.
func TestHalvesStayHalves(t *testing.T) {
	items := promotionItems(t, []string{"syn", "syn retransmitted, never answered", "syn", "syn then syn-ack"}, 42)
	tr := newTracker(func(*conn) {})
	defer tr.release()
	answer := -1
	for i := range items {
		if items[i].Flags&ACK != 0 {
			answer = i
			continue
		}
		tr.addItem(&items[i])
	}
	if answer < 0 {
		t.Fatal("no SYN-ACK")
	}
	if tr.halves != 4 || len(tr.chunks) != 0 || tr.created != 4 {
		t.Fatalf("%d halves, %d slab chunks and %d connections before the SYN-ACK, want 4, none and 4", tr.halves, len(tr.chunks), tr.created)
	}
	a := &items[answer]
	tr.addItem(a)
	if tr.halves != 3 || tr.table.n != 4 || tr.lookup(&a.key, a.h) == nil || tr.created != 4 {
		t.Errorf("after the SYN-ACK: %d halves, %d in the table, %d connections; want 3 and 4 with a conn for it, and 4", tr.halves, tr.table.n, tr.created)
	}
}

// TestReadHalvesMatchFullPath reads a flood mixed with ordinary traffic
// (whose connections all start with a SYN that becomes a half) with and
// without halves, summarized or not: the same Result.
func TestReadHalvesMatchFullPath(t *testing.T) {
	var flood, load bytes.Buffer
	if _, err := capgen.Flood(&flood, capgen.FloodOptions{SYNs: 3000, PerSecond: 2000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := capgen.Load(&load, capgen.LoadOptions{Conns: 2000, Open: 200, LeakEvery: 9, Seed: 6, Step: 5 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	open := func() []Input {
		return []Input{{Name: "flood.pcap", R: bytes.NewReader(flood.Bytes())}, {Name: "load.pcap", R: bytes.NewReader(load.Bytes())}}
	}
	for _, opts := range []Options{{Retain: RetainAll}, {Retain: RetainNone, SummarizeHalfOpen: true}, {Retain: RetainCloseWait, SummarizeHalfOpen: true, Local: []netip.Prefix{netip.MustParsePrefix("100.64.0.0/10")}}} {
		got, err := Read(open(), opts)
		if err != nil {
			t.Fatal(err)
		}
		opts.noHalves = true
		want, err := Read(open(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(want, got, addrCmp, gocmp.AllowUnexported(FileStats{})); diff != "" {
			t.Errorf("%+v: Result with halves differs from the full path (-full +halves):\n%s", opts, diff)
		}
		if opts.SummarizeHalfOpen && opts.Local == nil && (len(got.HalfOpen) != 1 || got.HalfOpen[0].Conns != 3000) {
			t.Errorf("half-open %+v, want the flood's 3000", got.HalfOpen)
		}
	}
}

// TestHalfOpenSources reads two floods at once, to two local endpoints
// (their SYNs interleaved in time) and with ordinary traffic between
// them: each endpoint's count and distinct sources, with halves and
// without.
func TestHalfOpenSources(t *testing.T) {
	targets := []netip.AddrPort{netip.MustParseAddrPort("10.255.0.1:80"), netip.MustParseAddrPort("[2001:db8::80]:443")}
	syns := []int{6000, 5000}
	var floods [2]bytes.Buffer
	want := map[netip.AddrPort][2]uint64{}
	for i, target := range targets {
		o := capgen.FloodOptions{SYNs: syns[i], PerSecond: 3000, Seed: uint64(i + 11), Target: target}
		if _, err := capgen.Flood(&floods[i], o); err != nil {
			t.Fatal(err)
		}
		sources := map[netip.Addr]bool{}
		for j := range o.SYNs {
			sources[capgen.FloodSource(j, o.Seed, i == 1).Addr()] = true
		}
		want[target] = [2]uint64{uint64(o.SYNs), uint64(len(sources))}
	}
	var load bytes.Buffer
	if _, err := capgen.Load(&load, capgen.LoadOptions{Conns: 500, Open: 50, LeakEvery: 7, Seed: 8}); err != nil {
		t.Fatal(err)
	}
	open := func() []Input {
		return []Input{
			{Name: "a.pcap", R: bytes.NewReader(floods[0].Bytes())}, {Name: "b.pcap", R: bytes.NewReader(floods[1].Bytes())},
			{Name: "load.pcap", R: bytes.NewReader(load.Bytes())},
		}
	}
	for _, noHalves := range []bool{false, true} {
		res, err := Read(open(), Options{Retain: RetainNone, SummarizeHalfOpen: true, noHalves: noHalves})
		if err != nil {
			t.Fatal(err)
		}
		got := map[netip.AddrPort][2]uint64{}
		for _, h := range res.HalfOpen {
			got[h.Local] = [2]uint64{h.Conns, h.Sources}
		}
		if diff := gocmp.Diff(want, got, addrCmp); diff != "" {
			t.Errorf("noHalves %v: half-open conns and sources per endpoint (-want +got):\n%s", noHalves, diff)
		}
	}
}

// FuzzHalves reads arbitrary captures with halves and without (every
// connection a conn from its first segment), counting the half-open
// connections or listing them: the Results must be the same.
func FuzzHalves(f *testing.F) {
	for _, path := range append(traceFiles(f), decEncapCaptures(f)...) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 64<<10 {
			continue
		}
		f.Add(data, false)
		f.Add(data[:len(data)*2/3], true)
	}
	f.Fuzz(func(t *testing.T, data []byte, summarize bool) {
		read := func(noHalves bool) *Result {
			res, err := Read([]Input{{Name: "fuzz.pcap", R: bytes.NewReader(data)}}, Options{SummarizeHalfOpen: summarize, noHalves: noHalves})
			if err != nil {
				return nil
			}
			return res
		}
		got, want := read(false), read(true)
		if diff := gocmp.Diff(want, got, addrCmp, gocmp.AllowUnexported(FileStats{})); diff != "" {
			t.Fatalf("Result with halves differs from the full path (-full +halves):\n%s", diff)
		}
	})
}
