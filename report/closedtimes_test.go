package report

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
)

// TestClosedTimesGrid: past its bound, closedTimes keeps a grid of
// counts, and the timeline made from it gives, at each cell's start, the
// exact count at the end of the cell (the instants themselves, counted by
// brute force), for instants that come out of order and spread the grid
// both ways; its memory stays the grid's.
func TestClosedTimesGrid(t *testing.T) {
	start := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(5, 6))
	const conns = 150 // fewer points than the timeline's 400: none thinned
	type span struct{ at, end int64 }
	var spans []span
	for range conns {
		// Most within a minute, a few hours away on either side, so that
		// the grid widens after it is made.
		off := time.Duration(r.IntN(60_000)) * time.Millisecond
		if r.IntN(10) == 0 {
			off = time.Duration(r.IntN(4)-2) * time.Hour
		}
		at := start.Add(time.Hour + off)
		spans = append(spans, span{at.UnixNano(), at.Add(time.Duration(1+r.IntN(5000)) * time.Millisecond).UnixNano()})
	}
	b := NewBuilder(BuildInput{}).b
	b.closed.maxExact = 20
	for _, s := range spans {
		b.closed.add(s.at, s.end)
	}
	c := &b.closed
	if !c.gridded || c.at != nil || len(c.cells) != gridCells {
		t.Fatalf("gridded %v, %d exact instants, %d cells", c.gridded, len(c.at), len(c.cells))
	}
	sum := int64(0)
	for _, d := range c.cells {
		sum += d
	}
	if sum != 0 {
		t.Errorf("the cells' changes add up to %d, want 0 (every entry has its exit)", sum)
	}
	first, last := spans[0].at, spans[0].at
	for _, s := range spans {
		first, last = min(first, s.at), max(last, s.end)
	}
	b.in.Capture = &pcapstate.Result{Start: time.Unix(0, first).UTC().Add(-time.Second), End: time.Unix(0, last).UTC().Add(time.Second)}
	b.timeline()
	exact := func(at int64) int {
		n := 0
		for _, s := range spans {
			if s.at <= at && s.end > at {
				n++
			}
		}
		return n
	}
	pts := b.m.Timeline
	if len(pts) < 3 {
		t.Fatalf("%d points", len(pts))
	}
	for _, p := range pts[1 : len(pts)-1] {
		at := p.At.UnixNano()
		if (at-c.origin)%c.width != 0 {
			t.Errorf("point at %v is not at a cell's start", p.At)
		}
		if want := exact(at + c.width - 1); p.Count != want {
			t.Errorf("point at %v (cells of %v): %d, want %d, the count at the cell's end", p.At, time.Duration(c.width), p.Count, want)
		}
	}
	if last := pts[len(pts)-1]; last.Count != 0 {
		t.Errorf("at the capture's end: %d, want 0", last.Count)
	}
}

// TestClosedTimesBounded: three million closed-later sockets over 23 hours
// hold the grid's memory, not a list of their instants.
func TestClosedTimesBounded(t *testing.T) {
	var c closedTimes
	c.maxExact = 1000
	base := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range int64(3_000_000) {
		at := base + i*int64(28*time.Millisecond)
		c.add(at, at+int64(time.Second))
	}
	if !c.gridded || cap(c.at) != 0 || len(c.cells) != gridCells {
		t.Errorf("gridded %v, %d exact instants kept, %d cells; want the grid alone", c.gridded, cap(c.at), len(c.cells))
	}
	// 23 hours in 65,536 cells: 1.28 s at least; a power of two, and no
	// more than twice what aligning the grid on it needs.
	span := 3_000_000*int64(28*time.Millisecond) + int64(time.Second)
	if least := span / gridCells; c.width < least || c.width > 4*least || c.width&(c.width-1) != 0 {
		t.Errorf("cells of %v for %v", time.Duration(c.width), time.Duration(span))
	}
}

// TestClosedTimesExtremes: instants on either side of the epoch and
// centuries apart (a capture's clock can say anything) are gridded
// without overflowing the offsets: every count lands in the cell that
// holds its instant, and the changes still add up to nothing.
func TestClosedTimesExtremes(t *testing.T) {
	spans := [][2]int64{
		{-5, 7}, {0, 1}, {1 << 40, 1<<40 + 9},
		{math.MinInt64 + 3, math.MinInt64 + 100}, {math.MaxInt64 - 100, math.MaxInt64 - 1},
		{-1 << 62, 1 << 62},
	}
	var c closedTimes
	c.maxExact = 2
	for _, s := range spans {
		c.add(s[0], s[1])
	}
	if !c.gridded {
		t.Fatal("not gridded")
	}
	sum := int64(0)
	for _, d := range c.cells {
		sum += d
	}
	if sum != 0 {
		t.Errorf("the cells' changes add up to %d, want 0", sum)
	}
	for _, s := range spans {
		for _, at := range s {
			i := (uint64(at) - uint64(c.origin)) / uint64(c.width)
			if i >= gridCells {
				t.Errorf("%d: cell %d of %d", at, i, gridCells)
				continue
			}
			if st := int64(uint64(c.origin) + i*uint64(c.width)); st > at || uint64(at)-uint64(st) >= uint64(c.width) {
				t.Errorf("%d: in the cell from %d, %d wide", at, st, c.width)
			}
		}
	}
}

// TestClosedTimesBeforeStart: a grid whose first cell begins before the
// capture does gives no timeline point before the capture's start, and
// the points stay in time order.
func TestClosedTimesBeforeStart(t *testing.T) {
	start := time.Date(2026, 3, 14, 12, 0, 0, 123_456_789, time.UTC)
	b := NewBuilder(BuildInput{}).b
	b.closed.maxExact = 2
	for i := range 10 {
		at := start.Add(time.Duration(i) * 7 * time.Minute)
		b.closed.add(at.UnixNano(), at.Add(3*time.Second).UnixNano())
	}
	if !b.closed.gridded || b.closed.origin >= start.UnixNano() {
		t.Fatalf("gridded %v, origin %d: the test needs a grid from before the start %d", b.closed.gridded, b.closed.origin, start.UnixNano())
	}
	b.in.Capture = &pcapstate.Result{Start: start, End: start.Add(2 * time.Hour)}
	b.timeline()
	pts := b.m.Timeline
	for i, p := range pts {
		if p.At.Before(start) {
			t.Errorf("point %d at %v, before the capture's start %v", i, p.At, start)
		}
		if i > 0 && !p.At.After(pts[i-1].At) {
			t.Errorf("point %d at %v, not after %v", i, p.At, pts[i-1].At)
		}
	}
	if pts[0].Count != 1 {
		t.Errorf("at the start: %d, want 1 (the first socket entered CLOSE_WAIT then)", pts[0].Count)
	}
}

// TestClosedTimesChunks: instants added past a chunk's size come back
// whole from the sort, and moved onto the grid from several chunks, each
// counts once.
func TestClosedTimesChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n = 3*maxChunk + 17 // the chunks grow to their largest and fill it again
	var ats, ends []int64
	b := NewBuilder(BuildInput{}).b
	for range n {
		at := r.Int64N(1e12)
		end := at + r.Int64N(1e9)
		ats, ends = append(ats, at), append(ends, end)
		b.closed.add(at, end)
	}
	if len(b.closed.adding[0].full) < 2 {
		t.Fatalf("%d full chunks, want several", len(b.closed.adding[0].full))
	}
	b.sortClosed()
	b.closedSorting.Wait()
	slices.Sort(ats)
	slices.Sort(ends)
	if !slices.Equal(b.closed.at, ats) || !slices.Equal(b.closed.end, ends) {
		t.Errorf("gathered and sorted: %d and %d instants, not the %d added", len(b.closed.at), len(b.closed.end), n)
	}

	g := closedTimes{maxExact: 3*256 + 5} // gridded from three chunks
	for i := range g.maxExact + 1 {
		g.add(ats[i], ends[i])
	}
	if !g.gridded {
		t.Fatal("not gridded")
	}
	want := make([]int64, len(g.cells))
	for i := range g.maxExact + 1 {
		want[g.cell(ats[i])]++
		want[g.cell(ends[i])]--
	}
	if !slices.Equal(g.cells, want) {
		t.Error("the grid's cells are not the changes of the instants added")
	}
}
