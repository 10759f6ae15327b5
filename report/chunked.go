package report

import "github.com/cwforensics/cwforensics/internal/hugepage"

// chunked is a list that grows in chunks that never move, each twice the
// size of the one before up to maxChunk elements: a long list appended to
// one element at a time, as the closed-later sockets' instants are while
// the capture streams in, would be copied at every doubling into fresh
// memory, which the kernel faults in page by page.
type chunked[T any] struct {
	full [][]T // the chunks filled, in order
	last []T   // the chunk being filled
	n    int
}

// maxChunk bounds a chunk's elements.
const maxChunk = 1 << 15

// push appends v.
func (c *chunked[T]) push(v T) {
	if len(c.last) == cap(c.last) {
		size := 256
		if cap(c.last) > 0 {
			c.full = append(c.full, c.last)
			size = min(2*cap(c.last), maxChunk)
		}
		c.last = hugepage.Make[T](0, size)
	}
	c.last = append(c.last, v)
	c.n++
}

// len returns how many elements were pushed.
func (c *chunked[T]) len() int { return c.n }

// chunks returns the chunks in order, the one being filled last.
func (c *chunked[T]) chunks() [][]T { return append(c.full[:len(c.full):len(c.full)], c.last) }

// gather returns the elements in one list, in the order they came, and
// empties c, letting go of each chunk once it is copied.
func (c *chunked[T]) gather() []T {
	if len(c.full) == 0 {
		xs := c.last
		*c = chunked[T]{}
		return xs
	}
	xs := hugepage.Make[T](0, c.n)
	for i, ch := range c.full {
		xs = append(xs, ch...)
		c.full[i] = nil
	}
	xs = append(xs, c.last...)
	*c = chunked[T]{}
	return xs
}
