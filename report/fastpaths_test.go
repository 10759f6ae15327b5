package report

import (
	"cmp"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestSortTimes: the radix sort orders as slices.Sort does, for short and
// long lists, spans of one instant to the whole int64 range, negative
// instants, duplicates and lists already in order or reversed.
func TestSortTimes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func(i int) int64{
		"capture":  func(int) int64 { return 1_773_500_000e9 + r.Int64N(600e9) },
		"same":     func(int) int64 { return 42 },
		"full":     func(int) int64 { return int64(r.Uint64()) },
		"negative": func(int) int64 { return -r.Int64N(1 << 50) },
		"extremes": func(i int) int64 { return []int64{math.MinInt64, math.MaxInt64, 0, -1, 1}[i%5] },
		"ordered":  func(i int) int64 { return int64(i) * 1000 },
		"reversed": func(i int) int64 { return -int64(i) * 7 },
		"few":      func(int) int64 { return r.Int64N(3) << 40 },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, 100, 1 << 12, 100_000} {
			xs := make([]int64, n)
			for i := range xs {
				xs[i] = gen(i)
			}
			want := slices.Clone(xs)
			slices.Sort(want)
			sortTimes(xs)
			if !slices.Equal(xs, want) {
				t.Errorf("%s, %d: not sorted as slices.Sort sorts", name, n)
			}
		}
	}
}

// TestSortSplit: sorting the halves on two goroutines and merging them
// orders keys as slices.SortFunc does, for lists shorter than parallelMin
// (sorted in one piece), of odd and even lengths, in order, reversed and
// shuffled, with keys alike but for the local address's third and fourth
// bytes and the remote port.
func TestSortSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 17, parallelMin - 1, parallelMin, parallelMin + 1, 50_001} {
		for _, order := range []string{"shuffled", "ordered", "reversed"} {
			ks := make([]key, n)
			for i := range ks {
				ks[i] = mkKey(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 16), byte(i >> 8)}), 80), netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, 1}), uint16(i)))
			}
			switch order {
			case "shuffled":
				r.Shuffle(n, func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
			case "reversed":
				slices.Reverse(ks)
			}
			want := slices.Clone(ks)
			slices.SortFunc(want, compareKeys)
			sortSplit(ks, compareKeys)
			if !slices.Equal(ks, want) {
				t.Errorf("%d keys, %s: not sorted as slices.SortFunc sorts", n, order)
			}
		}
	}
}

func BenchmarkSortTimes(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]int64, 950_000)
	for i := range xs {
		xs[i] = 1_773_500_000e9 + r.Int64N(600e9)
	}
	ys := make([]int64, len(xs))
	b.Run("radix", func(b *testing.B) {
		for b.Loop() {
			copy(ys, xs)
			sortTimes(ys)
		}
	})
	b.Run("pdqsort", func(b *testing.B) {
		for b.Loop() {
			copy(ys, xs)
			slices.Sort(ys)
		}
	})
}

// TestSortSockets: sorting the sockets by their indices gives the order
// sorting them in place gives.
func TestSortSockets(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 7, 1000} {
		socks := make([]Socket, n)
		for i := range socks {
			socks[i] = Socket{Key: strconv.Itoa(r.IntN(1 << 30)), Status: Status(r.IntN(8)), Age: time.Duration(r.IntN(5)), PID: i}
		}
		want := slices.Clone(socks)
		slices.SortFunc(want, func(a, b Socket) int {
			return cmp.Or(compareBool(b.Status.Stuck(), a.Status.Stuck()), cmp.Compare(b.Age, a.Age),
				cmp.Compare(statusRank(a.Status), statusRank(b.Status)), cmp.Compare(a.Key, b.Key))
		})
		sortSockets(socks)
		if !slices.EqualFunc(socks, want, func(a, b Socket) bool { return a.PID == b.PID }) {
			t.Errorf("%d sockets: order differs", n)
		}
	}
}

// TestSocketKey: the key is the two endpoints as Endpoint.String prints
// them, joined by "-", for IPv4, IPv4-mapped IPv6, IPv6 with a zone and
// the zero address.
func TestSocketKey(t *testing.T) {
	for _, c := range []struct{ l, r string }{
		{"10.0.0.4:8080", "10.0.0.9:51544"},
		{"[::ffff:10.0.0.4]:80", "[2001:db8::1]:443"},
		{"[fe80::1%a-very-long-interface-name-beyond-the-buffer]:22", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
	} {
		l, r := netip.MustParseAddrPort(c.l), netip.MustParseAddrPort(c.r)
		le, re := Endpoint{l.Addr(), l.Port()}, Endpoint{r.Addr(), r.Port()}
		if got, want := SocketKey(le, re), le.String()+"-"+re.String(); got != want {
			t.Errorf("SocketKey = %q, want %q", got, want)
		}
	}
	var zero Endpoint
	if got, want := SocketKey(zero, zero), zero.String()+"-"+zero.String(); got != want {
		t.Errorf("zero SocketKey = %q, want %q", got, want)
	}
}
