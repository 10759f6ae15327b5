package pcapstate

import (
	"cmp"
	"math/bits"
	"net/netip"
	"slices"
	"unsafe"
)

// endpointKey is an endpoint as the engine keeps it: address, port, VLAN
// and whether the address is IPv4.
type endpointKey struct {
	a    addr128
	port uint16
	vlan uint16
	v4   bool
}

// endpoints returns h's opener and acceptor endpoints, ep[0] and ep[1] of
// the conn it stands for.
func (h *half) endpoints() (opener, acceptor endpointKey) {
	lo := endpointKey{h.lo, h.loPort, h.vlan, false}
	hi := endpointKey{h.hi, h.hiPort, h.vlan, false}
	if h.bits&halfSrcLo == 0 {
		lo, hi = hi, lo
	}
	lo.v4, hi.v4 = h.bits&halfSrcV4 != 0, h.bits&halfDstV4 != 0
	return lo, hi
}

// acceptorLocal reports whether localSide would choose the acceptor (ep[1])
// of h's connection as its local endpoint: unless the local addresses name
// the opener alone, it does, by LocalByFlag or, nothing being in
// CLOSE_WAIT, LocalByServer.
func (x *exporter) acceptorLocal(h *half) bool {
	if len(x.local) == 0 {
		return true
	}
	o, a := h.endpoints()
	s, ok := x.flagged(o.a.netip(o.v4), a.a.netip(a.v4))
	return !ok || s == 1
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
	// The sources seen, as sourceKeys, in an open-addressing set (linear
	// probing, 0 for an empty slot) at most half full, in scratch memory
	// when it is large enough. A source is added a batch at a time: the
	// set's slots of one batch are prefetched while the batch before is
	// added, so that the random reads of the set (32 MiB for two million
	// sources) do not wait for the memory one after the other.
	set   []uint64
	shift uint8 // 64 - log2(len(set))
	batch [sourceBatches]sourceBatch
	cur   int // the batch being filled; the others wait for their slots
}

// Sources are added to the set sourceBatchSize at a time, their slots
// prefetched sourceBatches-1 batches before.
const (
	sourceBatchSize = 8
	sourceBatches   = 4
)

type sourceBatch struct {
	n     int
	keys  [sourceBatchSize]uint64
	gs    [sourceBatchSize]uint32
	slots [sourceBatchSize]uintptr // the keys' first slots, for prefetching
}

type halfOpenGroup struct {
	conns, sources    uint64
	first, last       int64
	firstRef, lastRef ref
	local             netip.AddrPort
	vlan              uint16
}

// newHalfOpenSums returns sums for at most n half-open connections whose
// set of sources is spare, cleared, if its length is a power of two and at
// least 2n; else the set is allocated.
func newHalfOpenSums(spare []uint64, n int) *halfOpenSums {
	size := 1 << bits.Len(uint(max(2*n, 1024)-1))
	if len(spare) >= size && len(spare)&(len(spare)-1) == 0 {
		clear(spare)
	} else {
		spare = make([]uint64, size)
	}
	return &halfOpenSums{index: map[halfOpenKey]int{}, set: spare, shift: uint8(64 - bits.Len(uint(len(spare))-1))}
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
	s.groups[g].count(first, firstRef, last, lastRef)
	s.addSource(sourceKey(src, g), g)
}

// count counts a connection to the group whose first packet was at first
// and last at last: the group's span is the earliest first and the latest
// last, ties going to the packet read first and last.
func (h *halfOpenGroup) count(first int64, firstRef ref, last int64, lastRef ref) {
	h.conns++
	if first < h.first || first == h.first && refLess(firstRef, h.firstRef) {
		h.first, h.firstRef = first, firstRef
	}
	if last > h.last || h.lastRef == (ref{}) || last == h.last && !refLess(lastRef, h.lastRef) {
		h.last, h.lastRef = last, lastRef
	}
}

// addHalves counts the halves that are half-open connections an endpoint
// accepted (SummarizeHalfOpen is set), marks them no longer live, so that
// the Stream does not hand them over too, and returns how many. It is add
// for each, with the group of the last acceptor checked in place: a flood
// has millions of halves to one.
func (s *halfOpenSums) addHalves(tr *tracker, x *exporter) int {
	n, g := 0, -1
	var grp *halfOpenGroup
	var last endpointKey
	for _, ch := range tr.halfChunks {
		for j := range ch.halves {
			h := &ch.halves[j]
			if h.bits&(halfLive|halfReused) != halfLive || len(x.local) != 0 && !x.acceptorLocal(h) {
				continue
			}
			n++
			h.bits &^= halfLive
			a, port, src := &h.lo, h.loPort, &h.hi
			if h.bits&halfSrcLo != 0 {
				a, port, src = &h.hi, h.hiPort, &h.lo
			}
			v4 := h.bits&halfDstV4 != 0
			if g < 0 || a[1] != last.a[1] || a[0] != last.a[0] || port != last.port || h.vlan != last.vlan || v4 != last.v4 {
				last = endpointKey{*a, port, h.vlan, v4}
				g = s.group(last)
				grp = &s.groups[g]
			}
			_, lt, lr := tr.lastSYN(h)
			grp.count(h.first, h.firstRef, lt, lr)
			s.addSource(sourceKey(sourceValue(src, h.bits&halfSrcV4 != 0), g), g)
		}
	}
	return n
}

// addSource adds key, a source of group g, to the batch being filled; when
// the batch is full, it prefetches its slots and adds the oldest batch to
// the set.
func (s *halfOpenSums) addSource(key uint64, g int) {
	b := &s.batch[s.cur]
	b.keys[b.n], b.gs[b.n] = key, uint32(g)
	b.slots[b.n] = uintptr(unsafe.Pointer(&s.set[key*0x9e3779b97f4a7c15>>s.shift]))
	if b.n++; b.n == sourceBatchSize {
		prefetch(b.slots[:])
		s.cur = (s.cur + 1) % sourceBatches
		s.insert(&s.batch[s.cur])
	}
}

// sourceKey is the key of source value src among group g's sources: an
// IPv4 address exactly, with g in the bits above it; an IPv6 address's
// hash mixed with g (unchanged for the first group). It is never 0.
func sourceKey(src uint64, g int) uint64 {
	if src>>63 != 0 && g < 1<<31 {
		return src | uint64(g)<<32
	}
	if g != 0 {
		src = mix(src^uint64(g), 0x9e3779b97f4a7c15) &^ (1 << 63)
	}
	return max(src, 1)
}

// insert adds batch b's sources to the set, counting the new ones in
// their groups, and empties b.
func (s *halfOpenSums) insert(b *sourceBatch) {
	set, mask := s.set, uint64(len(s.set)-1)
	for j, key := range b.keys[:b.n] {
		i := key * 0x9e3779b97f4a7c15 >> s.shift
		for set[i] != key {
			if set[i] == 0 {
				set[i] = key
				s.groups[b.gs[j]].sources++
				break
			}
			i = (i + 1) & mask
		}
	}
	b.n = 0
}

// countSources adds the sources still in batches to the groups' counts.
func (s *halfOpenSums) countSources() {
	for i := range s.batch {
		s.insert(&s.batch[i])
	}
	s.set = nil
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
