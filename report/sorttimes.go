package report

import (
	"math/bits"
	"slices"
)

// sortTimes sorts instants (ns since the epoch) in place. A busy capture
// has about a million closed-later sockets, each with two instants, which
// the timeline sorts. They are sorted by an in-place radix sort on their
// offsets from the earliest, a byte a level from the top (American flag
// sort), down to runs small enough for slices.Sort: no memory beside the
// list (TestTimelineMemory), and 950,000 instants over 10 minutes take
// about half of pdqsort's time (BenchmarkSortTimes).
func sortTimes(xs []int64) {
	if len(xs) < flagSortMin {
		slices.Sort(xs)
		return
	}
	lo, hi := slices.Min(xs), slices.Max(xs)
	span := uint64(hi) - uint64(lo) // the offsets fit in a uint64 whatever lo and hi are
	if span == 0 {
		return
	}
	flagSort(xs, uint64(lo), max(0, bits.Len64(span)-8))
}

// flagSortMin is the shortest run flagSort sorts by radix.
const flagSortMin = 1 << 10

// flagSort sorts xs in place by the byte of their offsets from lo at
// shift and then, within each bucket, by the bytes below it.
func flagSort(xs []int64, lo uint64, shift int) {
	digit := func(x int64) int { return int((uint64(x) - lo) >> shift & 0xff) }
	var count, next, end [256]int
	for _, x := range xs {
		count[digit(x)]++
	}
	at := 0
	for d, c := range count {
		next[d] = at
		at += c
		end[d] = at
	}
	for b := range 256 {
		for next[b] < end[b] {
			x := xs[next[b]]
			d := digit(x)
			for d != b {
				// Put x where its bucket fills, and carry on with the
				// one it displaces.
				xs[next[d]], x = x, xs[next[d]]
				next[d]++
				d = digit(x)
			}
			xs[next[b]] = x
			next[b]++
		}
	}
	start := 0
	for b := range 256 {
		run := xs[start:end[b]]
		start = end[b]
		switch {
		case len(run) < 2:
		case len(run) < flagSortMin || shift == 0:
			slices.Sort(run)
		default:
			flagSort(run, lo, max(0, shift-8))
		}
	}
}

// sortSplit sorts xs by cmp, which must order any two elements that differ
// (a total order), as slices.SortFunc does; a long list's halves are sorted
// on two goroutines and then merged, through a copy of the first half.
func sortSplit[T any](xs []T, cmp func(a, b T) int) {
	if len(xs) < parallelMin {
		slices.SortFunc(xs, cmp)
		return
	}
	half := len(xs) / 2
	both(true, func() { slices.SortFunc(xs[half:], cmp) }, func() { slices.SortFunc(xs[:half], cmp) })
	lo := slices.Clone(xs[:half])
	i, j, k := 0, half, 0 // k <= j: the merged never overtake the second half
	for i < len(lo) && j < len(xs) {
		if cmp(xs[j], lo[i]) < 0 {
			xs[k], j = xs[j], j+1
		} else {
			xs[k], i = lo[i], i+1
		}
		k++
	}
	copy(xs[k:], lo[i:]) // what is left of the second half is in place
}
