package pcapstate

import (
	"slices"
	"unsafe"

	"github.com/cwforensics/cwforensics/internal/hugepage"
)

// connListChunk is how many Conns a chunk of a ConnList holds after the
// first: three 2 MiB pages of them (9,830, 6 MiB), placed on page
// boundaries (newConnChunk), which Add's first writes fault in 2 MiB at a
// time when transparent huge pages may be had. Chunks of 8,192 Conns at
// the heap's placement held two whole 2 MiB pages and 4 KiB pages at
// their ends, and the first chunk, grown by doubling to that size, only 4
// KiB pages: keeping the reference capture's 50,000 connections in
// CLOSE_WAIT took 3,800 page faults at the end of a conns run, after the
// captures were read, where a fault costs several microseconds.
const connListChunk = 3 * chunkBytes / int(unsafe.Sizeof(Conn{}))

// connListFirst is how many Conns the first chunk holds at first: it
// doubles up to connListFirstMax as it fills, so that a small capture's
// list holds a few Conns, not 6 MiB (a conns run on a one-connection
// capture took 4-5 MiB more resident memory with a whole first chunk).
const (
	connListFirst    = 64
	connListFirstMax = 1024
)

// ConnList keeps the connections a caller takes from a Stream, in chunks:
// keeping n of them holds n Conns and at most a chunk more, and none is
// copied to make room once the first chunk has its full size. A slice
// grown by doubling holds its old array beside the new one while it
// copies: the end of the reference capture's read held 21 MB of Conns
// beside 32 MB that way.
type ConnList struct {
	chunks [][]Conn // the first of up to connListFirstMax, then of connListChunk
	n      int
}

// Add appends a copy of *c.
func (l *ConnList) Add(c *Conn) {
	switch {
	case len(l.chunks) == 0:
		l.chunks = append(l.chunks, make([]Conn, connListFirst))
	case len(l.chunks) == 1 && l.n == len(l.chunks[0]) && l.n < connListFirstMax:
		// The first chunk, full before its full size: twice as large.
		l.chunks[0] = slices.Grow(l.chunks[0], l.n)[:2*l.n]
	case l.n == l.start(len(l.chunks)):
		l.chunks = append(l.chunks, newConnChunk())
	}
	*l.At(l.n) = *c
	l.n++
}

// newConnChunk returns a chunk of connListChunk Conns that begins within
// a Conn after a 2 MiB boundary, with transparent huge pages asked for
// over the three 2 MiB pages from there: the chunk is allocated a 2 MiB
// page longer, which stays untouched.
func newConnChunk() []Conn {
	size := unsafe.Sizeof(Conn{})
	all := make([]Conn, connListChunk+chunkBytes/int(size)+2)
	p := unsafe.Pointer(unsafe.SliceData(all))
	skip := (chunkBytes - uintptr(p)%chunkBytes) % chunkBytes // to the boundary
	hugepage.Advise(unsafe.Add(p, skip), 3*chunkBytes)
	off := int((skip + size - 1) / size)
	return all[off : off+connListChunk : off+connListChunk]
}

// start is the index of chunk k's first Conn.
func (l *ConnList) start(k int) int {
	if k == 0 {
		return 0
	}
	return len(l.chunks[0]) + (k-1)*connListChunk
}

// Len returns how many connections the list holds.
func (l *ConnList) Len() int { return l.n }

// At returns the i-th connection added (after Keep, the i-th kept).
func (l *ConnList) At(i int) *Conn {
	if first := len(l.chunks[0]); i >= first {
		i -= first
		return &l.chunks[1+i/connListChunk][i%connListChunk]
	}
	return &l.chunks[0][i]
}

// Keep keeps, in their order, the connections keep reports true for, and
// releases the chunks left empty.
func (l *ConnList) Keep(keep func(*Conn) bool) {
	n := 0
	for i := range l.n {
		if c := l.At(i); keep(c) {
			if n != i {
				*l.At(n) = *c
			}
			n++
		}
	}
	// The chunks left empty are released whole; only the rest of the
	// last one kept is cleared (the strings and anomalies it held).
	used := 0
	for used < len(l.chunks) && l.start(used) < n {
		used++
	}
	if used > 0 {
		last, from := l.chunks[used-1], l.start(used-1)
		clear(last[n-from : min(l.n-from, len(last))])
	}
	clear(l.chunks[used:])
	l.chunks, l.n = l.chunks[:used], n
}

// Sorted returns the connections in the order SortConns puts them in, as
// pointers into the list: valid until the list's next Keep.
func (l *ConnList) Sorted() []*Conn {
	keys := sortKeys(l.n, l.At)
	out := make([]*Conn, len(keys))
	for i := range keys {
		out[i] = l.At(int(keys[i].i))
	}
	return out
}

// sortKeys returns the sort keys of the n connections at(i) returns, in
// SortConns' order.
func sortKeys(n int, at func(int) *Conn) []connKeyOrder {
	keys := make([]connKeyOrder, n)
	hugepage.Advise(unsafe.Pointer(unsafe.SliceData(keys)), uintptr(n)*unsafe.Sizeof(connKeyOrder{}))
	for i := range keys {
		keys[i] = keyOrderOf(at(i), i)
	}
	slices.SortFunc(keys, func(a, b connKeyOrder) int { return a.compare(&b) })
	return keys
}
