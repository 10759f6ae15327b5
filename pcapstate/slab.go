package pcapstate

import (
	"runtime"
	"unsafe"
)

// The slab holds the conns in chunks, so that growing it never copies them.
// A chunk is 2 MiB, a transparent huge page on Linux: the engine reads
// conns at random among tens of thousands, and with 4 KiB pages most of
// those reads would also miss the TLB; and a virtual machine takes a page
// fault 4 KiB at a time, about 11 us each on the reference machine (a
// 40 MiB slab cost 0.1 s in faults). The first chunk is smaller and on
// the Go heap, so that small captures (and the tests) map nothing; the
// slots its chunk leaves unused are never handed out.
const (
	chunkBytes = 2 << 20
	chunkSize  = chunkBytes / connBytes // conns per chunk
	firstChunk = 1024                   // conns in the first chunk
)

// chunk is a slab chunk and, when it was mapped outside the Go heap, what
// releases it.
type chunk struct {
	conns   []conn
	mapped  bool
	cleanup runtime.Cleanup // unmaps the chunk if the tracker is lost without release
}

// at returns the conn in slab slot i.
func (t *tracker) at(i uint32) *conn { return &t.chunks[i/chunkSize].conns[i%chunkSize] }

// grow adds a chunk to the slab and returns the slab slots it adds.
func (t *tracker) grow() (first, n uint32) {
	var ch chunk
	if len(t.chunks) == 0 {
		ch.conns = make([]conn, firstChunk)
	} else if p := mapChunk(); p != nil {
		ch = chunk{conns: unsafe.Slice((*conn)(p), chunkSize), mapped: true, cleanup: runtime.AddCleanup(t, unmapChunk, p)}
	} else {
		ch.conns = make([]conn, chunkSize)
	}
	t.chunks = append(t.chunks, ch)
	return uint32(len(t.chunks)-1) * chunkSize, uint32(len(ch.conns))
}

// releaseChunk returns chunk i's memory; its conns must not be used again.
func (t *tracker) releaseChunk(i int) {
	ch := &t.chunks[i]
	if ch.mapped {
		ch.cleanup.Stop()
		unmapChunk(unsafe.Pointer(unsafe.SliceData(ch.conns)))
	}
	*ch = chunk{}
}

// release returns the memory of every chunk.
func (t *tracker) release() {
	for i := range t.chunks {
		t.releaseChunk(i)
	}
	t.chunks = nil
	t.releaseHalves()
	t.table.release()
}

// compact moves the conns in the table to the front of the slab, in slab
// order, and releases the chunks it empties. It is for the end of the
// capture, before the conns are exported: at that point the slab still
// has the size of the busiest moment (the reference capture's 110,000
// conns) while most of it is free, and the Result is about to be
// allocated. The table, the free list and the linger queue are no longer
// valid afterwards. With dropFinished, finished conns (lingering in the
// table) are released instead of moved; it returns how many conns it
// kept.
func (t *tracker) compact(dropFinished bool) (kept int) {
	wc, wj := 0, 0 // where the next conn moves to
	for rc := range t.chunks {
		conns := t.chunks[rc].conns
		for rj := range conns {
			if !conns[rj].live || dropFinished && conns[rj].done() {
				continue
			}
			if rc != wc || rj != wj {
				t.chunks[wc].conns[wj] = conns[rj]
			}
			kept++
			if wj++; wj == len(t.chunks[wc].conns) {
				wc, wj = wc+1, 0
			}
		}
	}
	keep := wc
	if wj > 0 {
		// The rest of the last chunk kept holds stale copies.
		for j := range t.chunks[wc].conns[wj:] {
			t.chunks[wc].conns[wj+j].live = false
		}
		keep++
	}
	for i := keep; i < len(t.chunks); i++ {
		t.releaseChunk(i)
	}
	t.chunks = t.chunks[:keep]
	return kept
}
