package pcapstate

import (
	"slices"
	"unsafe"
)

// connListChunk is how many Conns a chunk of a ConnList holds (640 KB).
const connListChunk = 1024

// ConnList keeps the connections a caller takes from a Stream, in chunks:
// keeping n of them holds n Conns and at most a chunk more, and none is
// copied to make room. A slice grown by doubling holds its old array beside
// the new one while it copies: the end of the reference capture's read
// held 21 MB of Conns beside 32 MB that way.
type ConnList struct {
	chunks [][]Conn
	n      int
}

// Add appends a copy of *c.
func (l *ConnList) Add(c *Conn) {
	if l.n == len(l.chunks)*connListChunk {
		l.chunks = append(l.chunks, make([]Conn, connListChunk))
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
