package pcapstate

import (
	"testing"
	"unsafe"
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
