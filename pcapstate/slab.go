package pcapstate

import (
	"runtime"
	"sync/atomic"
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

// chunk is a slab chunk and, when it was mapped outside the Go heap, its
// mapping.
type chunk struct {
	conns []conn
	mem   *mapping
}

// at returns the conn in slab slot i.
func (t *tracker) at(i uint32) *conn { return &t.chunks[i/chunkSize].conns[i%chunkSize] }

// grow adds a chunk to the slab and returns the slab slots it adds.
func (t *tracker) grow() (first, n uint32) {
	var ch chunk
	if len(t.chunks) == 0 {
		ch.conns = make([]conn, firstChunk)
	} else {
		ch.mem = newMapping(chunkBytes)
		ch.conns = chunkOf[conn](ch.mem)
	}
	t.chunks = append(t.chunks, ch)
	return uint32(len(t.chunks)-1) * chunkSize, uint32(len(ch.conns))
}

// releaseChunk returns chunk i's memory; its conns must not be used again.
func (t *tracker) releaseChunk(i int) {
	t.chunks[i].mem.release()
	t.chunks[i] = chunk{}
}

// chunkOf returns the Ts of a chunk (chunkBytes of them) in m, or on the
// Go heap when m is nil (mapping failed).
func chunkOf[T any](m *mapping) []T {
	n := chunkBytes / unsafe.Sizeof(*new(T))
	if m == nil {
		return make([]T, n)
	}
	return unsafe.Slice((*T)(m.p), n)
}

// pushFree adds the n slots from first to the free list free, so that the
// lowest is taken first, and returns it.
func pushFree(free []uint32, first, n uint32) []uint32 {
	for i := range n {
		free = append(free, first+n-1-i)
	}
	return free
}

// mapping is memory mapped outside the Go heap (mapHuge): the slab's and
// the halves' chunks, and a large table's slots. A cleanup unmaps it if it
// is lost without release.
type mapping struct {
	cleanup runtime.Cleanup
	p       unsafe.Pointer
	n       uintptr
	// populated is closed when the goroutine populate started ends; nil
	// if none was. stop asks it to end early.
	populated chan struct{}
	stop      atomic.Bool
}

type region struct {
	p unsafe.Pointer
	n uintptr
}

// newMapping maps n bytes, a multiple of chunkBytes; nil if it cannot (the
// caller uses the Go heap instead).
func newMapping(n uintptr) *mapping {
	p := mapHuge(n)
	if p == nil {
		return nil
	}
	m := &mapping{p: p, n: n}
	m.cleanup = runtime.AddCleanup(m, func(r region) { unmapHuge(r.p, r.n) }, region{p, n})
	return m
}

// populate faults m's pages in on another goroutine, a chunk at a time
// from the top down, without writing them (populateChunk), so that the
// engine does not zero them itself as it first writes them: on a virtual
// machine whose host backs its memory lazily, that zeroing took a SYN
// flood's engine up to a quarter of its time. The other core, which the
// producer leaves idle part of the time, does it instead. release stops
// the goroutine and waits for it, so that it never outlives m.
func (m *mapping) populate() {
	m.populated = make(chan struct{})
	go func() {
		defer close(m.populated)
		for off := m.n; off >= chunkBytes && !m.stop.Load(); off -= chunkBytes {
			if !populateChunk(unsafe.Add(m.p, off-chunkBytes)) {
				return
			}
		}
	}()
}

// release unmaps m's memory, once populate's goroutine (if any) has
// ended; nil releases nothing.
func (m *mapping) release() {
	if m == nil {
		return
	}
	if m.populated != nil {
		m.stop.Store(true)
		<-m.populated
	}
	m.cleanup.Stop()
	unmapHuge(m.p, m.n)
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
