package pcapstate

import (
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// eachOpen calls f on every connection in the table, conns in slab order
// and then halves as the conns they stand for (one conn reused for all).
func (t *tracker) eachOpen(f func(c *conn)) {
	for _, ch := range t.chunks {
		for i := range ch.conns {
			if c := &ch.conns[i]; c.live {
				f(c)
			}
		}
	}
	var hc conn
	t.eachHalf(func(h *half) {
		hc = conn{live: true}
		t.fill(&hc, h)
		f(&hc)
	})
}

// TestHalfLayout checks that a half is one cache line, and that its chunks
// start on one.
func TestHalfLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is laid out for 64-bit platforms")
	}
	if got := unsafe.Sizeof(half{}); got != halfBytes {
		t.Errorf("a half is %d bytes, want %d", got, halfBytes)
	}
	tr := newTracker(nil)
	defer tr.release()
	for range halfFirstChunk + 2*halfChunkSize {
		tr.allocHalf()
	}
	for i, ch := range tr.halfChunks {
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(ch.halves))); p%cacheLine != 0 {
			t.Errorf("half chunk %d starts at %#x, not on a cache line", i, p)
		}
	}
}

// TestFloodEngineMemory runs a SYN flood's segments (100,000 distinct
// sources, one SYN each, to one port) through a tracker and bounds the
// engine's memory per half-open connection: its halves, table slots and
// slab. With a conn each it would be over 320 bytes; TestFloodMemory
// bounds the whole read of issue 13's flood, when its capture is made.
func TestFloodEngineMemory(t *testing.T) {
	const n = 100000
	tr := newTracker(func(*conn) {})
	defer tr.release()
	dst := netip.MustParseAddrPort("10.255.0.1:80")
	base := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC).UnixNano()
	items := make([]item, 0, batchSize)
	for i := range n {
		src := capgen.FloodSource(i, 1, false)
		seg := Segment{Src: src.Addr(), SrcPort: src.Port(), Dst: dst.Addr(), DstPort: dst.Port(), Flags: SYN, Seq: uint32(i) * 7919, Window: 1024}
		items = append(items, item{})
		items[len(items)-1].set(&seg, tr.table.seed, base+int64(i)*int64(50*time.Microsecond), ref{1, uint32(i + 1)})
		if len(items) == cap(items) || i == n-1 {
			tr.run(items)
			items = items[:0]
		}
	}
	bytes := len(tr.table.slots) * 8
	for _, ch := range tr.halfChunks {
		bytes += len(ch.halves) * halfBytes
	}
	for _, ch := range tr.chunks {
		bytes += len(ch.conns) * connBytes
	}
	per := float64(bytes) / n
	t.Logf("%d half-open connections: %d halves, %d slab chunks, %.1f bytes each", n, tr.halves, len(tr.chunks), per)
	if tr.halves != n || tr.created != n {
		t.Errorf("%d halves, %d connections seen, want %d", tr.halves, tr.created, n)
	}
	if per > 128 {
		t.Errorf("the engine holds %.1f bytes per half-open connection, want at most 128", per)
	}
}
