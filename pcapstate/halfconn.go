package pcapstate

// half is a connection that has seen only SYNs, all alike, from its opener:
// no answer, no data, no RST. A SYN flood leaves millions of them and a
// conn (320 bytes, five cache lines) each would be most of the engine's
// memory; a half is one cache line. It holds what the conn would hold after
// those SYNs, and becomes one (promote) as soon as any other segment of the
// connection arrives: a SYN-ACK, a RST, an ACK, data, a SYN from the other
// side or with another sequence number.
//
// The opener is the source of the SYNs: ep[0] of the conn, the key's lo
// endpoint when srcLo. Its state is SYN_SENT since first, its ISN isn and
// snd.nxt isn+1; the acceptor's is UNKNOWN, with nothing sent. A SYN
// retransmitted with the same ISN only counts: the last one's time and
// packet are kept beside, in a halfMore, since most halves never see one.
type half struct {
	// The connKey's fields, inline so that bits and tunnel fill what
	// would be its padding.
	lo, hi         addr128
	loPort, hiPort uint16
	vlan           uint16
	bits           halfBits
	tunnel         Tunnel
	first          int64 // the first SYN's time
	firstRef       ref   // and packet
	isn            uint32
	more           uint32 // index+1 in tracker.halfMore when the SYN was retransmitted, else 0
}

// halfBits are a half's flags.
type halfBits uint8

const (
	halfLive   halfBits = 1 << iota
	halfSrcLo           // the opener is the key's lo endpoint
	halfSrcV4           // the opener's address is IPv4
	halfDstV4           // the acceptor's address is IPv4
	halfReused          // the 5-tuple carried an earlier connection
)

// halfBitsOf returns the bits of a half made from seg.
func halfBitsOf(seg *item) halfBits {
	b := halfLive
	if seg.srcLo {
		b |= halfSrcLo
	}
	if seg.srcV4 {
		b |= halfSrcV4
	}
	if seg.dstV4 {
		b |= halfDstV4
	}
	return b
}

// keyEq reports whether h's key is k.
func (h *half) keyEq(k *connKey) bool {
	return h.lo[1] == k.lo[1] && h.hi[1] == k.hi[1] && h.loPort == k.loPort && h.hiPort == k.hiPort &&
		h.lo[0] == k.lo[0] && h.hi[0] == k.hi[0] && h.vlan == k.vlan
}

// halfMore is what a half keeps once its SYN was retransmitted: how many
// SYNs, the last one's time and packet.
type halfMore struct {
	last    int64
	lastRef ref
	syns    uint32
}

// halfBytes is the size of a half; a test checks it.
const halfBytes = cacheLine

// Halves per chunk: a chunk is as large as the slab's (2 MiB, mapped
// outside the Go heap with huge pages), the first one smaller and on the
// Go heap.
const (
	halfChunkSize  = chunkBytes / halfBytes
	halfFirstChunk = 1024
)

// halfBit marks a table slot that holds a half's index rather than a slab
// index.
const halfBit = 1 << 31

// halfChunk is a chunk of halves and, when it was mapped outside the Go
// heap, its mapping.
type halfChunk struct {
	halves []half
	mem    *mapping
}

// halfAt returns the half in slot i.
func (t *tracker) halfAt(i uint32) *half {
	return &t.halfChunks[i/halfChunkSize].halves[i%halfChunkSize]
}

// allocHalf takes a free half slot, growing the halves when there is none.
func (t *tracker) allocHalf() uint32 {
	if n := len(t.halfFree); n > 0 {
		idx := t.halfFree[n-1]
		t.halfFree = t.halfFree[:n-1]
		if n == halfChunkSize/2 && t.halfNext == nil && len(t.halfChunks) > 1 {
			// Halves fill the mapped chunks: the next one is made
			// ready beside the engine.
			t.prepareHalfChunk()
		}
		return idx
	}
	var ch halfChunk
	if len(t.halfChunks) == 0 {
		ch.halves = make([]half, halfFirstChunk)
	} else {
		if ch.mem, t.halfNext = t.halfNext, nil; ch.mem == nil {
			ch.mem = newMapping(chunkBytes)
		}
		ch.halves = chunkOf[half](ch.mem)
	}
	t.halfChunks = append(t.halfChunks, ch)
	first, n := uint32(len(t.halfChunks)-1)*halfChunkSize, uint32(len(ch.halves))
	t.halfFree = pushFree(t.halfFree, first+1, n-1)
	return first
}

// prepareHalfChunk maps the next half chunk and has its pages faulted in
// on another goroutine (mapping.populate), for allocHalf to take from
// t.halfNext: a SYN flood fills 64 chunks, and the other core zeroes their
// pages instead of the engine.
func (t *tracker) prepareHalfChunk() {
	if t.halfNext = newMapping(chunkBytes); t.halfNext != nil {
		t.halfNext.populate()
	}
}

// nextHalf returns the half the k-th newHalf from now will take (from 0),
// if there is one free, for prefetching.
func (t *tracker) nextHalf(k int) *half {
	if n := len(t.halfFree); n > k {
		return t.halfAt(t.halfFree[n-1-k])
	}
	return nil
}

// releaseHalves returns the memory of every half chunk.
func (t *tracker) releaseHalves() {
	t.halfNext.release()
	t.halfNext = nil
	for i := range t.halfChunks {
		t.releaseHalfChunk(i)
	}
	t.halfChunks, t.halfFree, t.halfMore, t.halfMoreFree = nil, nil, nil, nil
}

// releaseHalfChunk returns half chunk i's memory; its halves must not be
// used again.
func (t *tracker) releaseHalfChunk(i int) {
	t.halfChunks[i].mem.release()
	t.halfChunks[i] = halfChunk{}
}

// compactable reports whether seg may start a half: a SYN and nothing else
// the engine reads (no ACK, FIN or RST, no payload, its header whole).
func compactable(seg *item) bool {
	return seg.Flags&(SYN|ACK|FIN|RST) == SYN && seg.Payload == 0 && seg.bits&itemHeaderCut == 0
}

// newHalf adds the connection of seg, a compactable SYN, as a half;
// empty is as table.insertAt takes it.
func (t *tracker) newHalf(seg *item, reused bool, empty uint32) {
	idx := t.allocHalf()
	h := t.halfAt(idx)
	k := &seg.key
	// Field by field, every one of them: a composite literal is built on
	// the stack and copied 16 bytes at a time, and those loads of bytes
	// just stored 8 at a time wait for the store buffer to drain (the
	// flood's engine spent a third of its time there).
	bits := halfBitsOf(seg)
	if reused {
		bits |= halfReused
	}
	h.lo = k.lo
	h.hi = k.hi
	h.loPort, h.hiPort, h.vlan, h.bits, h.tunnel = k.loPort, k.hiPort, k.vlan, bits, seg.Tunnel
	h.first, h.firstRef, h.isn, h.more = seg.ts, seg.r, seg.Seq, 0
	t.created++
	t.halves++
	t.table.insertAt(empty, seg.h, idx|halfBit)
}

// retransmits reports whether seg, a segment of h's connection, is a
// retransmission of its SYN that leaves the connection a half: the same
// SYN, from the same endpoint, with the same ISN.
func (h *half) retransmits(seg *item) bool {
	return compactable(seg) && halfBitsOf(seg) == h.bits&^halfReused && seg.Seq == h.isn
}

// resyn counts seg, a retransmission of h's SYN.
func (t *tracker) resyn(h *half, seg *item) {
	if h.more == 0 {
		if n := len(t.halfMoreFree); n > 0 {
			h.more, t.halfMoreFree = t.halfMoreFree[n-1]+1, t.halfMoreFree[:n-1]
			t.halfMore[h.more-1] = halfMore{syns: 1}
		} else {
			t.halfMore = append(t.halfMore, halfMore{syns: 1})
			h.more = uint32(len(t.halfMore))
		}
	}
	m := &t.halfMore[h.more-1]
	m.syns++
	m.last, m.lastRef = seg.ts, seg.r
}

// lastSYN returns h's SYN count and its last SYN's time and packet.
func (t *tracker) lastSYN(h *half) (syns uint32, last int64, lastRef ref) {
	if h.more == 0 {
		return 1, h.first, h.firstRef
	}
	m := &t.halfMore[h.more-1]
	return m.syns, m.last, m.lastRef
}

// fill sets c to the conn the engine would have made of h's SYNs.
func (t *tracker) fill(c *conn, h *half) {
	syns, last, lastRef := t.lastSYN(h)
	// Field by field, as newHalf writes a half: the key and the v4 pair
	// as values would be built on the stack and loaded back wider than
	// they were stored, which waits for the store buffer (where the
	// stores clearing c are) to drain.
	k := &c.key
	k.lo = h.lo
	k.hi = h.hi
	k.loPort, k.hiPort, k.vlan = h.loPort, h.hiPort, h.vlan
	c.first, c.firstRef, c.tunnel = h.first, h.firstRef, h.tunnel
	c.openerLo = h.bits&halfSrcLo != 0
	c.v4[0] = h.bits&halfSrcV4 != 0
	c.v4[1] = h.bits&halfDstV4 != 0
	c.reused, c.handshake = h.bits&halfReused != 0, true
	c.last, c.lastRef = last, lastRef
	e := &c.ep[0]
	e.pkts, e.isn, e.synSeen, e.nxt, e.seqKnown = uint64(syns), h.isn, true, h.isn+1, true
	e.state, e.since = SynSent, h.first
	c.cold[0].synRef = h.firstRef
}

// freeHalf recycles half idx (and its halfMore).
func (t *tracker) freeHalf(h *half, idx uint32) {
	if h.more != 0 {
		t.halfMoreFree = append(t.halfMoreFree, h.more-1)
	}
	h.bits, h.more = 0, 0
	t.halfFree = append(t.halfFree, idx)
	t.halves--
}

// promote turns half idx, whose key hashes to hash, into a conn in the
// slab, in its place in the table, and returns the conn.
func (t *tracker) promote(idx uint32, hash uint64) *conn {
	h := t.halfAt(idx)
	c := t.takeConn()
	t.fill(c, h)
	t.table.replace(hash, idx|halfBit, c.idx)
	t.freeHalf(h, idx)
	return c
}

// eachHalf calls f on every live half, in slot order.
func (t *tracker) eachHalf(f func(h *half)) {
	for _, ch := range t.halfChunks {
		for j := range ch.halves {
			if h := &ch.halves[j]; h.bits&halfLive != 0 {
				f(h)
			}
		}
	}
}
