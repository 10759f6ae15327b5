package report

import "cmp"

// closedTimes holds when the closed-later sockets entered and left
// CLOSE_WAIT (ns since the epoch), for the timeline. Up to maxExact of each
// it keeps the instants themselves, two lists the timeline sorts in place
// (a busy capture has a million: 16 MB), added in chunks that never move
// and gathered once, by the goroutines that sort them (gather). Past that
// it keeps counts on a grid of at most gridCells cells of capture time,
// the net change of the
// count in each cell, whose width (a power of two nanoseconds) doubles as
// the instants spread: its memory then stays the grid's, however many
// connections close later, and the timeline shows each cell's change at
// the cell's start (within a width of the instants; an entry and an exit
// in one cell cancel).
type closedTimes struct {
	// adding holds the instants (0: at, 1: end) as they come; at and end
	// are each of them in one list once gathered (gather).
	adding  [2]chunked[int64]
	at, end []int64
	// maxExact is how many instants of each kind are kept exactly (0:
	// defaultMaxExact; tests set fewer).
	maxExact int
	// The grid, once gridded: cell i covers [origin+i*width,
	// origin+(i+1)*width); origin is a multiple of width.
	gridded       bool
	cells         []int64
	origin, width int64
	// lo and hi are the earliest and latest instant gridded: what the
	// grid must cover.
	lo, hi int64
}

const (
	defaultMaxExact = 1 << 21 // 2 million of each: 32 MB
	gridCells       = 1 << 16 // 512 KB of cells
)

// add notes one closed-later socket's CLOSE_WAIT, from at to end.
func (c *closedTimes) add(at, end int64) {
	if !c.gridded {
		c.adding[0].push(at)
		c.adding[1].push(end)
		if c.adding[0].len() <= cmp.Or(c.maxExact, defaultMaxExact) {
			return
		}
		c.toGrid()
		return
	}
	c.fit(min(at, end), max(at, end))
	c.cells[c.cell(at)]++
	c.cells[c.cell(end)]--
}

// gather puts the instants of one kind (0: at, 1: end) in one list, at or
// end, after those set there before, in the order they came. The two
// kinds may be gathered at once, on two goroutines: each touches its own
// kind's lists alone.
func (c *closedTimes) gather(kind int) {
	xs := &c.at
	if kind == 1 {
		xs = &c.end
	}
	if *xs == nil {
		*xs = c.adding[kind].gather()
		return
	}
	*xs = append(*xs, c.adding[kind].gather()...)
}

// cell is the index of the cell of t, an instant the grid covers. The
// offset from the origin is taken as a uint64, which holds the distance
// between any two int64s: instants decades apart, or on either side of
// the epoch, do not overflow it.
func (c *closedTimes) cell(t int64) uint64 {
	return (uint64(t) - uint64(c.origin)) / uint64(c.width)
}

// cellStart is the first instant of cell i.
func (c *closedTimes) cellStart(i int) int64 {
	return int64(uint64(c.origin) + uint64(i)*uint64(c.width))
}

// empty reports whether no closed-later socket was noted.
func (c *closedTimes) empty() bool {
	return !c.gridded && c.adding[0].len() == 0 && len(c.at) == 0
}

// toGrid moves the exact instants onto the grid.
func (c *closedTimes) toGrid() {
	lo, hi := c.adding[0].last[0], c.adding[0].last[0]
	for _, a := range c.adding {
		for _, xs := range a.chunks() {
			for _, t := range xs {
				lo, hi = min(lo, t), max(hi, t)
			}
		}
	}
	c.gridded, c.cells, c.width = true, make([]int64, gridCells), 1
	c.origin, c.lo, c.hi = lo, lo, lo
	c.fit(lo, hi)
	for kind, a := range c.adding {
		for _, xs := range a.chunks() {
			for _, t := range xs {
				c.cells[c.cell(t)] += 1 - 2*int64(kind) // +1 for an entry, -1 for an exit
			}
		}
	}
	c.adding = [2]chunked[int64]{}
}

// fit widens the grid until it covers [lo, hi] beside every instant it
// holds, moving each cell's count into the wider cell that holds it. The
// width stops doubling by 2^48 ns, when 65,536 cells cover any two int64
// instants.
func (c *closedTimes) fit(lo, hi int64) {
	c.lo, c.hi = min(c.lo, lo), max(c.hi, hi)
	n := uint64(len(c.cells))
	if c.lo >= c.origin && c.cell(c.hi) < n {
		return
	}
	w, o := c.width, int64(0)
	for {
		w *= 2
		if o = floorTo(c.lo, w); (uint64(c.hi)-uint64(o))/uint64(w) < n {
			break
		}
	}
	cells := make([]int64, n)
	for i, d := range c.cells {
		if d != 0 {
			// A cell with a count holds an instant: its start is at or
			// after the earliest, which o is at or before.
			cells[(uint64(c.cellStart(i))-uint64(o))/uint64(w)] += d
		}
	}
	c.cells, c.origin, c.width = cells, o, w
}

// floorTo rounds t down to a multiple of w.
func floorTo(t, w int64) int64 {
	r := t % w
	if r < 0 {
		r += w
	}
	return t - r
}
