package pcapstate

import (
	"cmp"
	"net/netip"
	"slices"
)

// endpointKey is an endpoint as the engine keeps it: address, port, VLAN
// and whether the address is IPv4.
type endpointKey struct {
	a    addr128
	port uint16
	vlan uint16
	v4   bool
}

// opener returns the address of h's opener and whether it is IPv4.
func (h *half) opener() (*addr128, bool) {
	if h.bits&halfSrcLo != 0 {
		return &h.lo, h.bits&halfSrcV4 != 0
	}
	return &h.hi, h.bits&halfSrcV4 != 0
}

// acceptor returns h's acceptor endpoint.
func (h *half) acceptor() endpointKey {
	if h.bits&halfSrcLo != 0 {
		return endpointKey{h.hi, h.hiPort, h.vlan, h.bits&halfDstV4 != 0}
	}
	return endpointKey{h.lo, h.loPort, h.vlan, h.bits&halfDstV4 != 0}
}

// acceptorLocal reports whether the local endpoint of h's connection is
// its acceptor, as localSide would choose it (nothing is in CLOSE_WAIT).
func (x *exporter) acceptorLocal(h *half) bool {
	if len(x.local) == 0 {
		return true
	}
	oa, o4 := h.opener()
	ak := h.acceptor()
	lo, la := x.isLocal(oa.netip(o4)), x.isLocal(ak.a.netip(ak.v4))
	return lo == la || la
}

// sourceValue is the value sources are counted by: an IPv4 address
// itself, with the top bit set; an IPv6 address hashed, without it.
func sourceValue(a *addr128, v4 bool) uint64 {
	if v4 {
		return 1<<63 | uint64(uint32(a[1]))
	}
	return hashKey(a[0], a[1], 0, 0, 0, 0, 0, 0x736f7572636573) &^ (1 << 63)
}

// halfOpenSums adds up the half-open connections per local endpoint.
type halfOpenSums struct {
	index  map[halfOpenKey]int // group by local endpoint and VLAN
	groups []halfOpenGroup
	// The last endpoint looked up and its group: a flood has one.
	lastKey endpointKey
	lastG   int
	// The connections' source values, in the order added, in scratch
	// memory when it is large enough; their groups when there are
	// several.
	vals, tmp []uint64
	gids      []uint32
}

type halfOpenGroup struct {
	conns, sources    uint64
	first, last       int64
	firstRef, lastRef ref
	local             netip.AddrPort
	vlan              uint16
}

// newHalfOpenSums returns sums that put the sources' values in spare, if
// it is large enough, as long as it has room for twice their number.
func newHalfOpenSums(spare []uint64) *halfOpenSums {
	return &halfOpenSums{index: map[halfOpenKey]int{}, vals: spare[:0], tmp: spare[len(spare)/2:]}
}

// group returns the index of the group of local endpoint k.
func (s *halfOpenSums) group(k endpointKey) int {
	if len(s.groups) > 0 && k == s.lastKey {
		return s.lastG
	}
	hk := halfOpenKey{netip.AddrPortFrom(k.a.netip(k.v4), k.port), k.vlan}
	g, ok := s.index[hk]
	if !ok {
		g = len(s.groups)
		s.index[hk] = g
		s.groups = append(s.groups, halfOpenGroup{local: hk.local, vlan: k.vlan, first: 1<<63 - 1})
		if g == 1 {
			s.gids = make([]uint32, len(s.vals), max(cap(s.vals)/2, len(s.vals)))
		}
	}
	s.lastKey, s.lastG = k, g
	return g
}

// refLess orders packets as the inputs are ordered.
func refLess(a, b ref) bool { return a.file < b.file || a.file == b.file && a.n < b.n }

// add counts a half-open connection to local endpoint k from the source
// whose value is src, whose first packet was at first and last at last.
func (s *halfOpenSums) add(k endpointKey, src uint64, first int64, firstRef ref, last int64, lastRef ref) {
	g := s.group(k)
	h := &s.groups[g]
	h.conns++
	if first < h.first || first == h.first && refLess(firstRef, h.firstRef) {
		h.first, h.firstRef = first, firstRef
	}
	if last > h.last || h.lastRef == (ref{}) || last == h.last && !refLess(lastRef, h.lastRef) {
		h.last, h.lastRef = last, lastRef
	}
	if len(s.vals) == len(s.tmp) {
		// Out of scratch memory: the rest on the Go heap.
		s.vals = append(s.vals[:len(s.vals):len(s.vals)], src)
		s.tmp = nil
	} else {
		s.vals = append(s.vals, src)
	}
	if s.gids != nil {
		s.gids = append(s.gids, uint32(g))
	}
}

// countSources counts each group's distinct sources: the values are
// grouped (when there are several groups) and each group's sorted.
func (s *halfOpenSums) countSources() {
	vals := s.vals
	if len(s.groups) > 1 {
		grouped := make([]uint64, len(vals))
		next := make([]int, len(s.groups)) // where group g's next value goes
		off := 0
		for i, g := range s.groups {
			next[i] = off
			off += int(g.conns)
		}
		for i, v := range vals {
			g := s.gids[i]
			grouped[next[g]] = v
			next[g]++
		}
		vals = grouped
	}
	if len(s.tmp) < len(vals) {
		s.tmp = make([]uint64, len(vals))
	}
	off := uint64(0)
	for i := range s.groups {
		n := s.groups[i].conns
		seg := vals[off : off+n]
		radixSort(seg, s.tmp[:n])
		d := uint64(0)
		for j := range seg {
			if j == 0 || seg[j] != seg[j-1] {
				d++
			}
		}
		s.groups[i].sources = d
		off += n
	}
	s.vals, s.tmp, s.gids = nil, nil, nil
}

// radixSort sorts v, using tmp (as long) as scratch: four passes of 16
// bits, linear where a comparison sort of millions of values is not.
func radixSort(v, tmp []uint64) {
	if len(v) < 1<<12 {
		slices.Sort(v)
		return
	}
	var count [1 << 16]int
	src, dst := v, tmp
	for shift := 0; shift < 64; shift += 16 {
		clear(count[:])
		for _, x := range src {
			count[x>>shift&0xffff]++
		}
		if count[src[0]>>shift&0xffff] == len(src) {
			continue // one digit: this pass would move nothing
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, x := range src {
			d := x >> shift & 0xffff
			dst[count[d]] = x
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &v[0] {
		copy(v, src)
	}
}

// result returns the groups as HalfOpen values, sorted by local endpoint
// then VLAN.
func (s *halfOpenSums) result(x *exporter) []HalfOpen {
	var out []HalfOpen
	for _, g := range s.groups {
		out = append(out, HalfOpen{
			Local: g.local, VLAN: g.vlan, Conns: g.conns, Sources: g.sources,
			First: nsTime(g.first), FirstPacket: x.pos(g.firstRef),
			Last: nsTime(g.last), LastPacket: x.pos(g.lastRef),
		})
	}
	slices.SortFunc(out, func(a, b HalfOpen) int {
		if c := a.Local.Compare(b.Local); c != 0 {
			return c
		}
		return cmp.Compare(a.VLAN, b.VLAN)
	})
	return out
}
