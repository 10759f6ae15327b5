package report

import (
	"slices"
	"testing"
)

// TestChunked: whatever the count, the chunks hold the elements pushed in
// order, gather gives them back in one list and empties the list, and no
// chunk outgrows maxChunk.
func TestChunked(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 257, 256 + 512, 3*maxChunk + 1} {
		var c chunked[int]
		want := make([]int, n)
		for i := range n {
			want[i] = i * 7
			c.push(i * 7)
		}
		if c.len() != n {
			t.Errorf("%d pushed: len %d", n, c.len())
		}
		var joined []int
		for _, ch := range c.chunks() {
			if cap(ch) > maxChunk {
				t.Errorf("%d pushed: a chunk of %d", n, cap(ch))
			}
			joined = append(joined, ch...)
		}
		if !slices.Equal(joined, want) {
			t.Errorf("%d pushed: the chunks hold %d elements, not those pushed", n, len(joined))
		}
		if got := c.gather(); !slices.Equal(got, want) {
			t.Errorf("%d pushed: gathered %d elements, not those pushed", n, len(got))
		}
		if c.len() != 0 || len(c.chunks()) != 1 || len(c.chunks()[0]) != 0 {
			t.Errorf("%d pushed: not empty after gather", n)
		}
	}
}
