package report

import (
	"cmp"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
)

// thinAll is thin as it was over a slice of every point: the reference the
// streamed thin must match.
func thinAll(pts []Point, n int) []Point {
	if len(pts) <= n {
		return pts
	}
	out := []Point{pts[0]}
	step := float64(len(pts)-2) / float64(n-2)
	for i := 0; i < n-2; i++ {
		lo, hi := 1+int(float64(i)*step), 1+int(float64(i+1)*step)
		best := pts[lo]
		for _, p := range pts[lo:min(hi, len(pts)-1)] {
			if p.Count > best.Count {
				best = p
			}
		}
		out = append(out, best)
	}
	return append(out, pts[len(pts)-1])
}

// TestThinStreamed checks thin, which sees each point once in order,
// against thinAll on every length around the limit and some far above it.
func TestThinStreamed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, total := range []int{1, 2, 3, 9, 10, 11, 12, 13, 19, 20, 21, 39, 40, 41, 99, 1000, 1001, 4093, 100_003} {
		for _, n := range []int{3, 10, 400} {
			pts := make([]Point, total)
			for i := range pts {
				pts[i] = Point{At: t0.Add(time.Duration(i) * time.Millisecond), Count: r.IntN(50)}
			}
			got := thin(total, n, slices.Values(pts), func(p Point) int { return p.Count })
			if want := thinAll(pts, n); !slices.Equal(got, want) {
				t.Errorf("thin of %d points to %d: %d points, want %d\n got %v\nwant %v", total, n, len(got), len(want), got, want)
			}
		}
	}
}

// TestTimelineMemory gives the timeline 300,000 closed-later sockets,
// each entering and leaving CLOSE_WAIT at its own instant, and checks it
// against every point thinned (thinAll) and that it allocates no more than
// 64 KiB (it takes 20 KB): made as before, the events and a Point for each
// of the 600,000 instants, as this test makes its reference, allocate over
// 200 MB (500 MB on issue 13's reference capture).
func TestTimelineMemory(t *testing.T) {
	const conns = 300_000
	start := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	end := start.Add(conns * time.Millisecond)
	r := rand.New(rand.NewPCG(3, 4))
	fill := func(b *builder) {
		b.in.Capture = &pcapstate.Result{Start: start, End: end}
		b.closed.at, b.closed.end = make([]int64, conns), make([]int64, conns)
		for i := range conns {
			at := start.Add(time.Duration(i)*time.Millisecond + time.Duration(r.IntN(1000))*time.Microsecond)
			b.closed.at[i] = at.UnixNano()
			b.closed.end[i] = at.Add(time.Second + time.Duration(r.IntN(60_000))*time.Millisecond).UnixNano()
		}
	}
	b := NewBuilder(BuildInput{}).b
	fill(b)
	// Every point, as the timeline was made before it was streamed.
	var evs []timeEvent
	for i := range b.closed.at {
		evs = append(evs, timeEvent{b.closed.at[i], 1}, timeEvent{b.closed.end[i], -1})
	}
	pts := everyPoint(evs, start, end)
	want := thinAll(pts, 400)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.timeline()
	runtime.ReadMemStats(&after)
	if !slices.Equal(b.m.Timeline, want) {
		t.Fatalf("timeline of %d points, want %d (of %d before thinning)", len(b.m.Timeline), len(want), len(pts))
	}
	const limit = 64 << 10
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("the timeline of %d closed-later sockets allocated %d bytes", conns, got)
	if got > limit {
		t.Errorf("the timeline of %d closed-later sockets allocated %d bytes, want at most %d", conns, got, limit)
	}
}

// TestTimelineEdges: the timeline's first instant merges into the capture's
// start only when it is the start, its last is the end only when it is the
// end, for few points and for more than are kept, and a capture whose
// start is no instant (ns since the epoch in an int64) keeps every instant.
func TestTimelineEdges(t *testing.T) {
	start := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name           string
		conns          int
		atStart, atEnd bool
		start          time.Time
	}{
		{name: "few", conns: 3},
		{name: "few, at both ends", conns: 3, atStart: true, atEnd: true},
		{name: "many, at the start", conns: 1000, atStart: true},
		{name: "many, at the end", conns: 1000, atEnd: true},
		{name: "start no instant", conns: 5, start: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "none", conns: 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			first := start
			if !c.start.IsZero() {
				first = c.start
			}
			end := start.Add(time.Duration(c.conns+2) * time.Second)
			b := NewBuilder(BuildInput{}).b
			b.in.Capture = &pcapstate.Result{Start: first, End: end}
			var pts []timeEvent
			for i := range c.conns {
				at, out := start.Add(time.Duration(i+1)*time.Second), start.Add(time.Duration(i+2)*time.Second+time.Millisecond)
				if i == 0 && c.atStart {
					at = start
				}
				if i == c.conns-1 && c.atEnd {
					out = end
				}
				b.closed.at, b.closed.end = append(b.closed.at, at.UnixNano()), append(b.closed.end, out.UnixNano())
				pts = append(pts, timeEvent{at.UnixNano(), 1}, timeEvent{out.UnixNano(), -1})
			}
			want := thinAll(everyPoint(pts, first, end), 400)
			if c.conns == 0 {
				want = nil // no event: the kernel's listings make the timeline, and there are none
			}
			b.timeline()
			if !slices.Equal(b.m.Timeline, want) {
				t.Errorf("timeline %v\nwant %v", b.m.Timeline, want)
			}
		})
	}
}

// everyPoint is the timeline of evs from start to end before thinning,
// made the plain way: every event sorted, a point at each instant with
// the count after its events, the first merged into start when it is
// start, and end unless the last instant is it.
func everyPoint(evs []timeEvent, start, end time.Time) []Point {
	evs = slices.Clone(evs)
	slices.SortFunc(evs, func(a, c timeEvent) int { return cmp.Compare(a.at, c.at) })
	pts := []Point{{At: start}}
	n := 0
	for i, e := range evs {
		n += e.delta
		if i+1 < len(evs) && evs[i+1].at == e.at {
			continue
		}
		if at := time.Unix(0, e.at).UTC(); pts[len(pts)-1].At.Equal(at) {
			pts[len(pts)-1].Count = n
		} else {
			pts = append(pts, Point{At: at, Count: n})
		}
	}
	if !pts[len(pts)-1].At.Equal(end) {
		pts = append(pts, Point{At: end, Count: n})
	}
	return pts
}
