package pcapstate

import (
	"slices"
	"unsafe"
)

// connListChunk is how many Conns a chunk of a ConnList holds (5 MiB): a
// chunk that large always holds a whole 2 MiB page, usually two, which
// Add's first writes fault in at once when transparent huge pages may be
// had (adviseHuge), where the 4 KiB pages of chunks of 1,024 faulted in
// one by one: keeping the reference capture's 50,000 connections in
// CLOSE_WAIT took 16,100 page faults a conns run, 11,400 now, and conns
// 1.19 s instead of 1.25 (medians of 14 alternating runs), for at most a
// chunk more held.
const connListChunk = 8192

// connListFirst is how many Conns the first chunk holds at first: it doubles
// up to connListChunk as it fills, so that a small capture's list holds a
// few Conns, not 5 MiB (a conns run on a one-connection capture took 4-5
// MiB more resident memory with a whole first chunk).
const connListFirst = 64

// ConnList keeps the connections a caller takes from a Stream, in chunks:
// keeping n of them holds n Conns and at most a chunk more, and none is
// copied to make room once the first chunk has its full size. A slice
// grown by doubling holds its old array beside the new one while it
// copies: the end of the reference capture's read held 21 MB of Conns
// beside 32 MB that way.
type ConnList struct {
	chunks [][]Conn
	n      int
}

// Add appends a copy of *c.
func (l *ConnList) Add(c *Conn) {
	switch {
	case len(l.chunks) == 0:
		l.chunks = append(l.chunks, make([]Conn, connListFirst))
	case len(l.chunks) == 1 && l.n == len(l.chunks[0]) && l.n < connListChunk:
		// The first chunk, full before its full size: twice as large.
		grow := min(l.n, connListChunk-l.n)
		l.chunks[0] = slices.Grow(l.chunks[0], grow)[:l.n+grow]
	case l.n == len(l.chunks)*connListChunk:
		chunk := make([]Conn, connListChunk)
		adviseHuge(unsafe.Pointer(unsafe.SliceData(chunk)), uintptr(len(chunk))*unsafe.Sizeof(Conn{}))
		l.chunks = append(l.chunks, chunk)
	}
	l.chunks[l.n/connListChunk][l.n%connListChunk] = *c
	l.n++
}

// Len returns how many connections the list holds.
func (l *ConnList) Len() int { return l.n }

// At returns the i-th connection added (after Keep, the i-th kept).
func (l *ConnList) At(i int) *Conn { return &l.chunks[i/connListChunk][i%connListChunk] }

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
	used := (n + connListChunk - 1) / connListChunk
	if n < used*connListChunk {
		clear(l.chunks[used-1][n%connListChunk : min(l.n-(used-1)*connListChunk, connListChunk)])
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
	adviseHuge(unsafe.Pointer(unsafe.SliceData(keys)), uintptr(n)*unsafe.Sizeof(connKeyOrder{}))
	for i := range keys {
		keys[i] = keyOrderOf(at(i), i)
	}
	slices.SortFunc(keys, func(a, b connKeyOrder) int { return a.compare(&b) })
	return keys
}
