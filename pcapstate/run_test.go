package pcapstate

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// TestRunMatchesAdd checks the engine's pipeline (run: prefetching, slots
// reserved for SYNs, the conn found while prefetching handed to addItem)
// against running each segment alone (add): the same connections with the
// same states, counts, markers and packets. The same items run through a
// second tracker too, as the benchmark replays them, so that what a run
// leaves in them cannot mislead the next.
func TestRunMatchesAdd(t *testing.T) {
	var capture bytes.Buffer
	if _, err := capgen.Load(&capture, capgen.LoadOptions{Conns: 6000, Open: 2500, LeakEvery: 7, Seed: 3, Step: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	pr, err := openCapture(&capture)
	if err != nil {
		t.Fatal(err)
	}
	var (
		dec   Decoder
		seg   Segment
		rec   record
		segs  []Segment
		times []int64
	)
	for pr.next(&rec) == nil {
		if dec.Decode(rec.link, rec.data, &seg) == SkipNone {
			segs = append(segs, seg)
			times = append(times, rec.ts)
		}
	}
	ex := exporter{names: []string{"load.pcap"}}
	// conns runs the segments through a tracker and returns every
	// connection, sorted.
	conns := func(feed func(tr *tracker)) []Conn {
		var out []Conn
		tr := newTracker(func(c *conn) { out = append(out, ex.export(c, c.last)) })
		defer tr.release()
		tr.table.seed = 42
		ex.tr = tr
		feed(tr)
		tr.eachOpen(func(c *conn) { out = append(out, ex.export(c, times[len(times)-1])) })
		SortConns(out)
		return out
	}
	want := conns(func(tr *tracker) {
		for i := range segs {
			tr.add(&segs[i], times[i], ref{1, uint32(i + 1)})
		}
	})
	items := make([]item, len(segs))
	for i := range segs {
		items[i].set(&segs[i], 42, times[i], ref{1, uint32(i + 1)})
	}
	for round := range 2 {
		got := conns(func(tr *tracker) {
			for b := 0; b < len(items); b += batchSize {
				tr.run(items[b:min(b+batchSize, len(items))])
			}
		})
		if len(got) != len(want) {
			t.Fatalf("round %d: %d connections, want %d", round, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("round %d: connection %d differs:\n got %+v\nwant %+v", round, i, got[i], want[i])
			}
		}
	}
	if len(want) < 6000 {
		t.Errorf("%d connections, want all 6000", len(want))
	}
}

// TestRunStaleHint sets up, inside one group, a connection released by
// its linger time, its slab slot taken by a connection seen mid-stream,
// and then a late segment of the released one, whose hint (found before
// the group ran) names the slot now holding the other connection: the
// late segment must start a connection of its own, not join the other.
func TestRunStaleHint(t *testing.T) {
	a := [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")}
	b := [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.3:40001"), netip.MustParseAddrPort("10.0.0.2:80")}
	seg := func(ep [2]netip.AddrPort, fromClient bool, f Flags, seq, ack uint32) Segment {
		src, dst := ep[0], ep[1]
		if !fromClient {
			src, dst = dst, src
		}
		return Segment{Src: src.Addr(), SrcPort: src.Port(), Dst: dst.Addr(), DstPort: dst.Port(), Flags: f, Seq: seq, Ack: ack, Window: 1000}
	}
	// a opens and closes.
	life := []Segment{
		seg(a, true, SYN, 100, 0), seg(a, false, SYN|ACK, 500, 101), seg(a, true, ACK, 101, 501),
		seg(a, true, FIN|ACK, 101, 501), seg(a, false, FIN|ACK, 501, 102), seg(a, true, ACK, 102, 502),
	}
	base := int64(1e18)
	var items []item
	for i := range life {
		var it item
		it.set(&life[i], 42, base+int64(i), ref{1, uint32(i + 1)})
		items = append(items, it)
	}
	// Long after: a segment that makes a's linger end, b seen mid-stream
	// (it takes a's slot), then a late retransmission of a's last ACK.
	late := base + int64(10*linger)
	for i, s := range []Segment{seg(b, true, ACK, 7000, 9000), seg(b, false, ACK, 9000, 7000), seg(a, true, ACK, 102, 502)} {
		var it item
		it.set(&s, 42, late+int64(i), ref{1, uint32(len(life) + i + 1)})
		items = append(items, it)
	}
	var released []*conn
	tr := newTracker(func(c *conn) { cp := *c; released = append(released, &cp) })
	defer tr.release()
	tr.table.seed = 42
	tr.run(items[:len(life)])
	// The late group: prefetchConns runs on it before any of it does, as
	// in run; its items must find a's conn then.
	group := items[len(life):]
	tr.prefetchConns(group)
	if group[2].hint == 0 {
		t.Fatal("the late segment of a found no conn while prefetching")
	}
	for i := range group {
		tr.addItem(&group[i])
	}
	if len(released) != 1 {
		t.Fatalf("%d connections released, want a", len(released))
	}
	if tr.table.n != 2 {
		t.Errorf("%d connections in the table, want b and the late a", tr.table.n)
	}
	hb := items[len(life)].h
	if c := tr.lookup(&items[len(life)].key, hb); c == nil || c.ep[0].pkts+c.ep[1].pkts != 2 {
		t.Errorf("b's conn has the wrong packets: %+v", c)
	}
}
