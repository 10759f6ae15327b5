package pcapstate

import (
	"bytes"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// TestEngineChurnMemory runs 40,000 connections, 100 open at once, through
// a tracker and checks that its bookkeeping follows the connections open or
// lingering, not those ever seen: the slab, the table, the free list, the
// reserved slots and the linger queue. The reserved slots' queue once grew
// by an entry per connection (16 MB of appends on the reference capture),
// because the reserves ran ahead of the takes and it never emptied.
func TestEngineChurnMemory(t *testing.T) {
	const conns, open = 40000, 100
	var buf bytes.Buffer
	// A packet every 5 ms: a connection lasts about 6.5 s of capture time,
	// so the linger time (2 minutes) holds about 1,900 finished ones.
	if _, err := capgen.Load(&buf, capgen.LoadOptions{Conns: conns, Open: open, Step: 5 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	pr, err := openCapture(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	tr := newTracker(func(*conn) {})
	defer tr.release()
	var (
		dec Decoder
		seg Segment
		rec record
	)
	items := make([]item, 0, batchSize)
	maxReady, maxQueue, maxFree := 0, 0, 0
	for i := uint32(1); pr.next(&rec) == nil; i++ {
		if dec.Decode(rec.link, rec.data, &seg) != SkipNone {
			continue
		}
		items = items[:len(items)+1]
		items[len(items)-1].set(&seg, tr.table.seed, rec.ts, ref{1, i})
		if len(items) == cap(items) {
			tr.run(items)
			items = items[:0]
			maxReady = max(maxReady, cap(tr.ready))
			maxQueue = max(maxQueue, cap(tr.queue))
			maxFree = max(maxFree, cap(tr.free))
		}
	}
	tr.run(items)
	if tr.created != conns {
		t.Fatalf("%d connections seen, want %d", tr.created, conns)
	}
	slab := 0
	for _, ch := range tr.chunks {
		slab += len(ch.conns)
	}
	t.Logf("%d connections: slab %d conns, table %d slots, at most %d reserved, %d queued, %d free", conns, slab, len(tr.table.slots), maxReady, maxQueue, maxFree)
	// What is open or lingering at once is about 2,000 connections here
	// (the slab grows by chunks of 6,553): each bound leaves room for that,
	// and is far below one per connection. The reserved slots outstanding
	// are a few dozen, and the queue's front is cut once 1,024 are taken.
	for _, b := range []struct {
		what  string
		n     int
		bound int
	}{
		{"slab conns", slab, conns / 4},
		{"table slots", len(tr.table.slots), conns / 4},
		{"reserved slots", maxReady, 4096},
		{"linger queue", maxQueue, conns / 4},
		{"free list", maxFree, conns / 4},
	} {
		if b.n > b.bound {
			t.Errorf("%s: %d entries for %d connections, %d open at once: it grows with the connections seen", b.what, b.n, conns, open)
		}
	}
}
