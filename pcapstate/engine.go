package pcapstate

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"
	"unsafe"
)

// ref is a compact Pos: the index of the file among the inputs and the
// packet number in it. The zero ref names no packet.
type ref struct {
	file uint32 // index + 1
	n    uint32
}

// connKey identifies a 5-tuple regardless of direction: the two endpoints
// in a canonical order, plus the VLAN.
type connKey struct {
	lo, hi         addr128
	loPort, hiPort uint16
	vlan           uint16
}

// eq is k == *o, a word at a time and inlined (== on the struct calls
// memequal).
func (k *connKey) eq(o *connKey) bool {
	return k.lo[1] == o.lo[1] && k.hi[1] == o.hi[1] && k.loPort == o.loPort && k.hiPort == o.hiPort &&
		k.lo[0] == o.lo[0] && k.hi[0] == o.hi[0] && k.vlan == o.vlan
}

// addr128 is an IPv6 address, or an IPv4 address mapped into IPv6, as two
// big-endian words: it is built, compared and hashed a word at a time,
// never byte by byte (a 16-byte load of bytes just stored 8 at a time
// cannot be forwarded from the store buffer and waits for it to drain).
type addr128 [2]uint64

// words returns a as an addr128's two words. They are returned as scalars,
// in registers: an array result goes through memory (see addr128).
func words(a netip.Addr) (hi, lo uint64) {
	if a.Is4() {
		// As4's 4 bytes are forwarded from the store buffer; As16's 16
		// are not (the IPv6 case pays for it).
		b := a.As4()
		return 0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// netip returns a as an IPv4 address when v4, else as IPv6.
func (a addr128) netip(v4 bool) netip.Addr {
	if v4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(a[1]))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a[0])
	binary.BigEndian.PutUint64(b[8:], a[1])
	return netip.AddrFrom16(b)
}

// seqLT compares TCP sequence numbers with 32-bit wrap-around (RFC 1982).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }

// seqGE reports a >= b with wrap-around.
func seqGE(a, b uint32) bool { return int32(a-b) >= 0 }

// endpoint is the part of the engine's bookkeeping for one side of a
// connection that plain segments (no SYN, FIN or RST) read or write; what
// the others write is in epCold. Its address is in the connection's key.
type endpoint struct {
	nxt      uint32 // highest sequence number sent, plus one (snd.nxt)
	isn      uint32
	finSeq   uint32 // sequence number the FIN occupies
	state    State
	markers  Markers
	seqKnown bool
	synSeen  bool
	finSent  bool
	finAcked bool // the peer acknowledged our FIN
	// finHole is set while our FIN is out of order: it was sent beyond a
	// hole in our sequence space, so the peer cannot have taken it yet.
	finHole bool
	zeroWin bool  // our last advertised window was zero
	finAck  ref   // the peer's packet that acknowledged our FIN (a plain ACK, so here)
	since   int64 // when state was entered
	pkts    uint64
	bytes   uint64
}

// epCold is the rest of an endpoint's bookkeeping: the packets behind the
// verdict and the times of its FIN and CLOSE_WAIT. Only segments with a
// SYN, FIN or RST write it, and the rare changes of state into or out of
// CLOSE_WAIT that another segment causes.
type epCold struct {
	synRef ref
	finRef ref
	rstRef ref
	finAt  int64 // when our first FIN was seen
	cwAt   int64 // when CLOSE_WAIT was entered, 0 if never
	cwEnd  int64 // when it was left, 0 if not
}

// maxAnomalies is how many anomalies a connection keeps in detail; the rest
// are counted.
const maxAnomalies = 4

type anomaly struct {
	at    int64
	r     ref
	side  uint8
	state State
	ev    Event
}

// conn is the engine's bookkeeping for one connection. ep[0] is the opener
// (the client), ep[1] the acceptor; their addresses are the key's lo and
// hi endpoints, in the order openerLo says.
//
// A conn is five cache lines (connBytes) and the slab's chunks start on a
// page, so every conn starts on a cache line. Its first three lines
// (hotBytes) hold what every segment reads or writes, the last two what a
// few do (a SYN, FIN or RST, a change into or out of CLOSE_WAIT, the
// start of an HTTP/1.x message): the engine prefetches only the lines a
// segment needs. A conn holds no pointer, so the garbage collector never
// scans the slab; the few anomalies are kept in the tracker.
type conn struct {
	key       connKey
	v4        [2]bool // whether endpoint i's address is IPv4 (not IPv6, not IPv4-mapped)
	openerLo  bool    // ep[0] is the key's lo endpoint
	handshake bool
	reused    bool
	rst       bool
	queued    bool   // on the linger queue
	live      bool   // in the table
	idx       uint32 // index in the tracker's slab
	gen       uint32 // incarnation of the slab slot, to tell stale queue entries
	ep        [2]endpoint
	last      int64
	lastRef   ref
	// lastData is the endpoint that sent the last new data before either
	// FIN, plus one; 0 if none did. Any data segment writes it.
	lastData uint8
	_        [hotBytes - 185]byte

	cold     [2]epCold
	first    int64
	firstRef ref
	nAnom    uint32
	anoms    uint32 // the anomalies kept: index+1 in tracker.anoms, 0 if none
	tunnel   Tunnel
	// method and status are, per endpoint, the method of the last HTTP/1.x
	// request and the status of the last response it began sending before
	// the peer's FIN; only a segment that begins one writes them, and none
	// does once upgrade is set.
	// They fill the conn's last bytes (TestConnLayout checks the size).
	method [2]Method
	// upgrade is how the connection left HTTP/1.x (an Upgrade) shifted
	// left by one, plus the endpoint whose answer did it; 0 while it has
	// not.
	upgrade uint8
	status  [2]uint16
}

// noteHTTP records that endpoint s began the HTTP/1.x message h, unless
// the connection left HTTP/1.x before: after a 101 (Switching Protocols)
// or a 2xx answer to CONNECT, what follows is another protocol (a
// WebSocket, HTTP/2, the TLS of a proxy's tunnel, a hijacked stream),
// whose bytes may look like a message's start ("HTTP/1.1 200" split
// across frames, a plain request sent through the tunnel), and the answer
// and its request stay the last HTTP exchange. A CONNECT answered
// otherwise (407, 403, 502) opened nothing: HTTP goes on, or the
// connection closes.
func (c *conn) noteHTTP(s int, h HTTPStart) {
	if c.upgrade != 0 {
		return
	}
	if m := h.Method(); m != MethodNone {
		c.method[s] = m
		return
	}
	st := h.Status()
	c.status[s] = st
	switch {
	case st == StatusSwitching:
		c.upgrade = uint8(UpgradeSwitching)<<1 | uint8(s)
	case st >= 200 && st < 300 && c.method[1-s] == MethodCONNECT:
		c.upgrade = uint8(UpgradeConnect)<<1 | uint8(s)
	}
}

// upgradeBy is how the connection left HTTP/1.x if endpoint s's answer
// made it leave, UpgradeNone otherwise.
func (c *conn) upgradeBy(s int) Upgrade {
	if c.upgrade == 0 || int(c.upgrade&1) != s {
		return UpgradeNone
	}
	return Upgrade(c.upgrade >> 1)
}

// StatusSwitching is HTTP's 101 Switching Protocols: a connection carries
// another protocol after it (a WebSocket, HTTP/2), and Side.LastStatus
// keeps it as the last HTTP/1.x exchange (Side.Upgrade says so).
const StatusSwitching = 101

// The size of a conn and of its hot part; a test checks the layout.
const (
	cacheLine = 64
	hotBytes  = 3 * cacheLine
	connBytes = 5 * cacheLine
)

// addr returns endpoint i's address and port as found in the key.
func (c *conn) addr(i int) (a *addr128, port uint16) {
	if (i == 0) == c.openerLo {
		return &c.key.lo, c.key.loPort
	}
	return &c.key.hi, c.key.hiPort
}

// addrPort returns endpoint i's address as the packets gave it.
func (c *conn) addrPort(i int) netip.AddrPort {
	a, port := c.addr(i)
	return netip.AddrPortFrom(a.netip(c.v4[i]), port)
}

// done reports whether the connection is over: reset, or both endpoints
// closed. A new SYN on its 5-tuple starts a new connection.
func (c *conn) done() bool {
	if c.rst {
		return true
	}
	closed := func(s State) bool { return s == Closed || s == TimeWait }
	return closed(c.ep[0].state) && closed(c.ep[1].state)
}

// linger is how long, in capture time, a finished connection stays in the
// table so that late retransmissions are not mistaken for a new connection
// seen mid-stream (Linux keeps TIME_WAIT for 60 s).
const linger = 2 * time.Minute

// lingering is a finished connection on the linger queue: its slab index
// and incarnation, and when it finished.
type lingering struct {
	at  int64
	h   uint64 // the key's hash
	idx uint32
	gen uint32
}

// tracker runs the state machine of every connection in the capture. Its
// memory follows the connections in the table (open, or finished within
// the linger time): a released conn's slot is reused.
type tracker struct {
	table     table
	chunks    []chunk  // the slab
	free      []uint32 // free slab indices
	ready     []uint32 // slab indices reserved for new conns, from rhead on
	rhead     int
	queue     []lingering // finished connections, in the order they finished
	qhead     int
	qahead    int                     // queue entries before it were prefetched
	retire    func(c *conn)           // called for a connection leaving the table
	created   uint64                  // connections seen
	anoms     [][maxAnomalies]anomaly // the anomalies of the conns that have some
	anomsFree []uint32                // free indices in anoms

	// The connections that have seen only their opener's SYN (see half),
	// in chunks beside the slab, with their free slots; the halfMores of
	// those whose SYN was retransmitted; how many are live.
	halfChunks   []halfChunk
	halfNext     *mapping // the next chunk's memory, being faulted in (prepareHalfChunk)
	halfFree     []uint32
	halfMore     []halfMore
	halfMoreFree []uint32
	halves       int
	// prefetched holds the addresses prefetchConns prefetches.
	prefetched [7*prefetchGroup + 4*expireAhead]uintptr
	// noHalves makes every connection a conn from its first segment, for
	// the tests that check halves against it.
	noHalves bool
}

func newTracker(retire func(c *conn)) *tracker {
	return &tracker{table: newTable(rand.Uint64()), retire: retire}
}

// prefetchGroup is how many segments' cache lines are prefetched at once.
// A core has room for only a few dozen misses in flight: a group of 32
// asked for a hundred lines or more at once (items, slots, conns or
// halves), and the prefetches past that room came too late or not at all
// (a SYN flood's table slots, 32 MiB read at random, were waited for at
// 30 ns a segment). Small groups spread the same prefetches over the
// segments run in between.
const prefetchGroup = 4

// How many groups ahead the items, the table slots and the conns are
// prefetched: 128, 64 and 32 segments.
const (
	itemsAhead = 32
	slotsAhead = 16
	connsAhead = 8
)

// run runs items through the state machines. The engine waits on memory:
// each segment reads a table slot and a conn, at random among tens of
// thousands, and a cache miss takes as long as running tens of segments.
// So run works on groups of segments as a pipeline: while it runs one
// group, it has the conns of the groups a little ahead, the table slots
// of those further ahead and the items further still on their way into
// the cache, by prefetch instructions that do not wait for the memory.
func (t *tracker) run(items []item) {
	n := len(items)
	group := func(g int) []item {
		if g >= n {
			return nil
		}
		return items[g:min(g+prefetchGroup, n)]
	}
	for g := 0; g < itemsAhead*prefetchGroup; g += prefetchGroup {
		prefetchItems(group(g))
	}
	for g := 0; g < slotsAhead*prefetchGroup; g += prefetchGroup {
		t.prefetchSlots(group(g))
	}
	for g := 0; g < connsAhead*prefetchGroup; g += prefetchGroup {
		t.prefetchConns(group(g))
	}
	for g := 0; g < n; g += prefetchGroup {
		prefetchItems(group(g + itemsAhead*prefetchGroup))
		t.prefetchSlots(group(g + slotsAhead*prefetchGroup))
		t.prefetchConns(group(g + connsAhead*prefetchGroup))
		for i := range group(g) {
			t.addItem(&items[g+i])
		}
	}
}

// prefetchItems prefetches the items themselves: the producer wrote them
// on the other core, and the first pass over a group (prefetchSlots) would
// otherwise wait for each of their cache lines to come over.
func prefetchItems(items []item) {
	if len(items) == 0 {
		return
	}
	var addrs [prefetchGroup*unsafe.Sizeof(item{})/cacheLine + 2]uintptr
	start := uintptr(unsafe.Pointer(&items[0]))
	end := start + uintptr(len(items))*unsafe.Sizeof(item{})
	na := 0
	for p := start &^ (cacheLine - 1); p < end; p += cacheLine {
		addrs[na] = p
		na++
	}
	prefetch(addrs[:na])
}

// prefetchSlots prefetches the first table slot each item's lookup reads.
func (t *tracker) prefetchSlots(items []item) {
	var addrs [prefetchGroup]uintptr
	slots, mask, shift := t.table.slots, t.table.mask, t.table.shift
	for i := range items {
		addrs[i] = uintptr(unsafe.Pointer(&slots[uint32(items[i].h>>32)>>shift&mask]))
	}
	prefetch(addrs[:len(items)])
}

// prefetchConns prefetches the conns the items will run on: the hot lines
// of the conn found in the table (all of it for a FIN or RST), all of the
// free conn a SYN will likely take, and the conns (and table slots) of the
// finished connections whose linger time ends during these items. The
// table may change before the items run: this is only a hint.
func (t *tracker) prefetchConns(items []item) {
	if len(items) == 0 {
		return
	}
	addrs := &t.prefetched // not a local array, which would be zeroed at every call
	na := 0
	lines := func(c *conn, n int) {
		p := uintptr(unsafe.Pointer(c))
		for i := range n {
			addrs[na+i] = p + uintptr(i*cacheLine)
		}
		na += n
	}
	slots, mask, shift := t.table.slots, t.table.mask, t.table.shift
	newHalves := 0
	for i := range items {
		it := &items[i]
		it.hint = 0
		if it.Flags&(SYN|ACK) == SYN {
			// Most likely a new connection: a half when the SYN is
			// compactable, else a conn.
			if !t.noHalves && compactable(it) {
				// The half it will take: the free list is used from its
				// end, after the segments before these (connsAhead
				// groups, all SYNs in a flood) take their own.
				if h := t.nextHalf(connsAhead*prefetchGroup + newHalves); h != nil {
					addrs[na] = uintptr(unsafe.Pointer(h))
					na++
				}
				newHalves++
				continue
			}
			if len(t.ready)-t.rhead < (connsAhead+1)*prefetchGroup {
				lines(t.reserve(), connBytes/cacheLine)
				continue
			}
		}
		tag := uint32(it.h >> 32)
		j := tag >> shift & mask
		v := slots[j]
		for v != 0 && uint32(v>>32) != tag {
			j = (j + 1) & mask
			v = slots[j]
		}
		if v == 0 {
			continue
		}
		if uint32(v)&halfBit != 0 {
			// A half: this segment likely promotes it to a conn.
			addrs[na] = uintptr(unsafe.Pointer(t.halfAt(uint32(v)&^halfBit - 1)))
			na++
			if len(t.ready)-t.rhead < (connsAhead+1)*prefetchGroup {
				lines(t.reserve(), connBytes/cacheLine)
			}
			continue
		}
		it.hint = uint32(v)
		n := hotBytes / cacheLine
		if it.Flags&(SYN|FIN|RST) != 0 || it.http != 0 {
			n = connBytes / cacheLine
		}
		lines(t.at(uint32(v)-1), n)
	}
	// The connections expire retires during these items.
	end := items[len(items)-1].ts - int64(linger)
	for q := max(t.qahead, t.qhead); q < len(t.queue) && q < t.qhead+expireAhead && t.queue[q].at <= end; q++ {
		l := &t.queue[q]
		lines(t.at(l.idx), hotBytes/cacheLine)
		addrs[na] = uintptr(unsafe.Pointer(&slots[uint32(l.h>>32)>>shift&mask]))
		na++
		t.qahead = q + 1
	}
	prefetch(addrs[:na])
}

// expireAhead bounds how many finished connections prefetchConns prefetches
// for expire at once.
const expireAhead = 16

// lookup returns the connection with key k (hash h) if it is a conn, or
// nil.
func (t *tracker) lookup(k *connKey, h uint64) *conn {
	c, _, _ := t.find(k, h)
	return c
}

// find returns the connection with key k (hash h): a conn, or the index
// plus one of a half, or neither (nil, 0) and then the index plus one of
// the empty slot that ended the probe, where the key goes if it is added
// before the table changes (table.insertAt): a new connection costs one
// probe, not two.
func (t *tracker) find(k *connKey, h uint64) (c *conn, half, empty uint32) {
	tag := uint32(h >> 32)
	for i := t.table.home(tag); ; i = (i + 1) & t.table.mask {
		v := t.table.slots[i]
		if v == 0 {
			return nil, 0, i + 1
		}
		if uint32(v>>32) != tag {
			continue
		}
		if x := uint32(v); x&halfBit != 0 {
			if t.halfAt(x&^halfBit - 1).keyEq(k) {
				return nil, x &^ halfBit, 0
			}
		} else if c := t.at(x - 1); c.key.eq(k) {
			return c, 0, 0
		}
	}
}

// serverPort guesses, for a connection seen without its handshake, whether
// port a is the server's rather than port b: the well-known or lower port.
func serverPort(a, b uint16) bool {
	switch {
	case a < 1024 && b >= 1024:
		return true
	case b < 1024 && a >= 1024:
		return false
	case a < 32768 && b >= 32768:
		return true
	case b < 32768 && a >= 32768:
		return false
	}
	return a < b
}

// add runs one segment, captured at ts (ns) as packet r, through its
// connection's state machine.
func (t *tracker) add(seg *Segment, ts int64, r ref) {
	var it item
	it.set(seg, t.table.seed, ts, r)
	t.addItem(&it)
}

// item is a segment as the state machines take it: its connection's key
// and hash, and only the fields they read. It is what the producer hands
// to the engine, so it is kept small (88 bytes, against 96 for a Segment
// alone): every byte of it crosses from one core's cache to the other's.
type item struct {
	h        uint64 // k.hash(seed)
	ts       int64
	r        ref
	Seq, Ack uint32
	Payload  uint32
	// hint is the slab index (plus one) of the conn prefetchConns found
	// for this item, 0 if none; addItem checks it before looking up.
	hint   uint32
	key    connKey
	http   HTTPStart // the HTTP/1.x message the payload begins, if any
	Flags  Flags
	Tunnel Tunnel
	bits   itemBits
	srcLo  bool // the source is the key's lo endpoint
	srcV4  bool // the source address is IPv4
	dstV4  bool
}

// itemBits are the segment's booleans that only addItem reads, packed so
// that the item stays at 88 bytes.
type itemBits uint8

const (
	itemHeaderCut itemBits = 1 << iota // Segment.HeaderCut
	itemZeroWin                        // the segment advertises a zero window
)

// set fills it from seg, captured at ts as packet r; seed is the tracker's.
// The key's endpoints are put in a canonical order (lo, then hi) so that
// both directions of a connection have the same key. Every field is stored
// on its own, from registers: building the item as a value and copying it
// would load, 16 bytes at a time, words just stored 8 at a time, which
// waits for the stores to drain.
func (it *item) set(seg *Segment, seed uint64, ts int64, r ref) {
	s0, s1 := words(seg.Src)
	d0, d1 := words(seg.Dst)
	sp, dp := seg.SrcPort, seg.DstPort
	srcLo := s0 < d0 || (s0 == d0 && (s1 < d1 || (s1 == d1 && sp <= dp)))
	if !srcLo {
		s0, s1, d0, d1, sp, dp = d0, d1, s0, s1, dp, sp
	}
	k := &it.key
	k.lo[0], k.lo[1], k.hi[0], k.hi[1] = s0, s1, d0, d1
	k.loPort, k.hiPort, k.vlan = sp, dp, seg.VLAN
	it.h = hashKey(s0, s1, d0, d1, sp, dp, seg.VLAN, seed)
	it.ts, it.r = ts, r
	it.Seq, it.Ack, it.Payload, it.http = seg.Seq, seg.Ack, seg.Payload, seg.HTTP
	it.Flags, it.Tunnel = seg.Flags, seg.Tunnel
	var bits itemBits
	if seg.HeaderCut {
		bits |= itemHeaderCut
	}
	if seg.Window == 0 {
		bits |= itemZeroWin
	}
	it.bits = bits
	it.srcLo, it.srcV4, it.dstV4 = srcLo, seg.Src.Is4(), seg.Dst.Is4()
	it.hint = 0
}

// ports returns the segment's source and destination ports.
func (it *item) ports() (src, dst uint16) {
	if it.srcLo {
		return it.key.loPort, it.key.hiPort
	}
	return it.key.hiPort, it.key.loPort
}

// addItem runs one segment through its connection's state machine.
func (t *tracker) addItem(seg *item) {
	ts, r := seg.ts, seg.r
	t.expire(ts)
	var c *conn
	var empty uint32 // the empty slot find ended at, plus one
	if seg.hint != 0 {
		// The conn prefetchConns found, if it is still the one in the
		// table for this key (there is one at most): no second probe.
		if h := t.at(seg.hint - 1); h.live && h.key.eq(&seg.key) {
			c = h
		}
	}
	if c == nil {
		var hi uint32
		if c, hi, empty = t.find(&seg.key, seg.h); hi != 0 {
			// A half: a retransmission of its SYN leaves it one, any
			// other segment makes it a conn.
			if h := t.halfAt(hi - 1); h.retransmits(seg) {
				t.resyn(h, seg)
				return
			}
			c = t.promote(hi-1, seg.h)
		}
	}
	f := seg.Flags
	reused := false
	if c != nil && f&(SYN|ACK|RST) == SYN && c.done() {
		t.drop(c)
		c, reused = nil, true
	}
	if c == nil {
		if !t.noHalves && compactable(seg) {
			t.newHalf(seg, reused, empty)
			return
		}
		c = t.newConn(seg, empty)
		c.reused = reused
	}
	// The sender is ep[0] when it has ep[0]'s address, port and family.
	srcPort, _ := seg.ports()
	s := 1
	src := &seg.key.hi
	if seg.srcLo {
		src = &seg.key.lo
	}
	if a, port := c.addr(0); srcPort == port && *src == *a && seg.srcV4 == c.v4[0] {
		s = 0
	}
	e, p := &c.ep[s], &c.ep[1-s]
	e.pkts++
	e.bytes += uint64(seg.Payload)
	c.last, c.lastRef = ts, r
	if seg.bits&itemHeaderCut != 0 {
		e.markers |= MarkHeaderCut
	}
	if f&RST != 0 {
		e.markers |= MarkRST
		if ec := &c.cold[s]; ec.rstRef == (ref{}) {
			ec.rstRef = r
		}
		c.rst = true
		t.apply(c, s, SendRST, ts, r)
		t.apply(c, 1-s, RecvRST, ts, r)
		t.finish(c, ts)
		return
	}

	// Sequence space: SYN and FIN occupy one number each.
	end := seg.Seq + seg.Payload
	if f&SYN != 0 {
		end++
		if f&ACK == 0 || !e.synSeen {
			e.isn, e.synSeen = seg.Seq, true
		}
		if ec := &c.cold[s]; ec.synRef == (ref{}) {
			ec.synRef = r
		}
		c.handshake = c.handshake || f&ACK == 0 || p.synSeen
	}
	if f&FIN != 0 {
		end++
	}
	hole := false // a hole before this segment's FIN
	if e.seqKnown {
		switch {
		case f&FIN != 0 && e.finSent && seg.Seq+seg.Payload == e.finSeq:
			e.markers |= MarkRetransmittedFIN
		case f&FIN != 0 && seqLT(e.nxt, seg.Seq):
			e.markers |= MarkOutOfOrderFIN
			hole = true
		case f&(SYN|FIN) == 0 && seg.Payload <= 1 && seg.Seq == e.nxt-1 && !p.zeroWin:
			// A zero-window probe has the same shape; it is told apart by
			// the peer's closed window.
			e.markers |= MarkKeepAlive
		}
		if seg.Payload > 0 && p.finSent && seqLT(e.nxt, seg.Seq+seg.Payload) {
			e.markers |= MarkDataAfterPeerFIN
		}
	}
	if !e.seqKnown || seqLT(e.nxt, end) {
		// New data before either FIN: the last exchange seen before the
		// peer's FIN. A segment that begins an HTTP/1.x message has the
		// whole conn prefetched (prefetchConns).
		if seg.Payload > 0 && !p.finSent && !e.finSent {
			c.lastData = uint8(s) + 1
			if seg.http != 0 {
				c.noteHTTP(s, seg.http)
			}
		}
		e.nxt, e.seqKnown = end, true
	}
	if f&SYN == 0 {
		e.zeroWin = seg.bits&itemZeroWin != 0
		if e.zeroWin {
			e.markers |= MarkZeroWindow
		}
	}
	// The segment that fills the hole before an out-of-order FIN delivers
	// the FIN: the peer enters CLOSE_WAIT now.
	if e.finHole && f&FIN == 0 && seg.Seq+seg.Payload == e.finSeq {
		e.finHole = false
		t.apply(c, 1-s, RecvFIN, ts, r)
	}

	// Events in TCP's processing order: SYN, ACK, FIN.
	if f&SYN != 0 {
		if f&ACK != 0 {
			t.apply(c, s, SendSYNACK, ts, r)
			t.apply(c, 1-s, RecvSYNACK, ts, r)
		} else {
			t.apply(c, s, SendSYN, ts, r)
			t.apply(c, 1-s, RecvSYN, ts, r)
		}
	}
	if f&ACK != 0 {
		if f&SYN == 0 && p.state == SynRecv && p.synSeen && seqGE(seg.Ack, p.isn+1) {
			t.apply(c, 1-s, RecvAckOfSYN, ts, r)
		}
		if p.finSent && !p.finAcked && seqGE(seg.Ack, p.finSeq+1) {
			if p.finHole {
				// Acknowledging the FIN proves the hole was filled.
				p.finHole = false
				t.apply(c, s, RecvFIN, ts, r)
			}
			p.finAcked, p.finAck = true, r
			t.apply(c, 1-s, RecvAckOfFIN, ts, r)
		}
	}
	if f&FIN != 0 {
		if fs := seg.Seq + seg.Payload; !e.finSent || seqLT(e.finSeq, fs) {
			if !e.finSent {
				c.cold[s].finRef, c.cold[s].finAt = r, ts
			}
			e.finSent, e.finSeq = true, fs
		}
		ev := SendFIN
		if e.state == CloseWait && p.finSent && (f&ACK == 0 || seqLT(seg.Ack, p.finSeq+1)) {
			ev = SendFINCrossed
		}
		t.apply(c, s, ev, ts, r)
		if hole {
			// The peer takes the FIN only when the hole is filled.
			e.finHole = true
		} else if !e.finHole {
			t.apply(c, 1-s, RecvFIN, ts, r)
		}
	}
	if f&(SYN|FIN) == 0 {
		t.apply(c, s, SendSegment, ts, r)
		t.apply(c, 1-s, RecvSegment, ts, r)
	}
	if c.done() {
		t.finish(c, ts)
	}
}

// apply moves endpoint s of c along the edge for ev.
func (t *tracker) apply(c *conn, s int, ev Event, ts int64, r ref) {
	e := &c.ep[s]
	to, ok := step(e.state, ev)
	if !ok {
		t.addAnomaly(c, anomaly{at: ts, r: r, side: uint8(s), state: e.state, ev: ev})
		return
	}
	if to == e.state {
		return
	}
	switch ec := &c.cold[s]; {
	case to == CloseWait:
		ec.cwAt, ec.cwEnd = ts, 0
	case ev == SendFINCrossed:
		ec.cwAt = 0 // it never was in CLOSE_WAIT
	case e.state == CloseWait:
		ec.cwEnd = ts
	}
	e.state, e.since = to, ts
}

// addAnomaly records an anomaly of c: the first maxAnomalies in t.anoms,
// out of the conn (few connections have any); the rest are only counted.
func (t *tracker) addAnomaly(c *conn, a anomaly) {
	if c.nAnom < maxAnomalies {
		if c.anoms == 0 {
			if n := len(t.anomsFree); n > 0 {
				c.anoms, t.anomsFree = t.anomsFree[n-1]+1, t.anomsFree[:n-1]
			} else {
				t.anoms = append(t.anoms, [maxAnomalies]anomaly{})
				c.anoms = uint32(len(t.anoms))
			}
		}
		t.anoms[c.anoms-1][c.nAnom] = a
	}
	if c.nAnom < math.MaxUint32 {
		c.nAnom++
	}
}

// anomalies returns the anomalies kept for c.
func (t *tracker) anomalies(c *conn) []anomaly {
	if c.anoms == 0 {
		return nil
	}
	return t.anoms[c.anoms-1][:min(c.nAnom, maxAnomalies)]
}

// alloc takes a free slab slot, growing the slab when there is none.
func (t *tracker) alloc() uint32 {
	if n := len(t.free); n > 0 {
		idx := t.free[n-1]
		t.free = t.free[:n-1]
		return idx
	}
	idx, n := t.grow()
	t.free = pushFree(t.free, idx+1, n-1)
	return idx
}

// reserve takes a free slab slot for a connection about to be created and
// returns its conn, for prefetching; newConn uses the reserved slots first,
// in the order they were reserved.
func (t *tracker) reserve() *conn {
	idx := t.alloc()
	t.ready = append(t.ready, idx)
	return t.at(idx)
}

// takeConn takes a slab slot, reserved ones first, and returns its conn,
// cleared and live.
func (t *tracker) takeConn() *conn {
	var idx uint32
	if t.rhead < len(t.ready) {
		idx = t.ready[t.rhead]
		if t.rhead++; t.rhead == len(t.ready) {
			t.ready, t.rhead = t.ready[:0], 0
		} else if t.rhead >= 1024 && t.rhead*2 > len(t.ready) {
			// The reserves run ahead of the takes and the queue may
			// never empty: its front is cut so that it follows the
			// reserves outstanding, not the connections ever made.
			t.ready, t.rhead = t.ready[:copy(t.ready, t.ready[t.rhead:])], 0
		}
	} else {
		idx = t.alloc()
	}
	c := t.at(idx)
	*c = conn{idx: idx, gen: c.gen + 1, live: true}
	return c
}

// newConn adds the connection of seg; empty is as table.insertAt takes it.
func (t *tracker) newConn(seg *item, empty uint32) *conn {
	c := t.takeConn()
	idx := c.idx
	t.created++
	openerSrc := true
	switch f := seg.Flags; {
	case f&(SYN|ACK) == SYN:
	case f&(SYN|ACK) == SYN|ACK:
		openerSrc = false
	case serverPort(seg.ports()):
		openerSrc = false
	}
	if k := &seg.key; k.lo == k.hi && k.loPort == k.hiPort && seg.srcV4 == seg.dstV4 {
		openerSrc = true // both ends are the same: ep[0] is the source
	}
	c.key, c.first, c.firstRef, c.tunnel = seg.key, seg.ts, seg.r, seg.Tunnel
	c.openerLo = openerSrc == seg.srcLo
	c.v4 = [2]bool{seg.srcV4, seg.dstV4}
	if !openerSrc {
		c.v4[0], c.v4[1] = c.v4[1], c.v4[0]
	}
	t.table.insertAt(empty, seg.h, idx)
	return c
}

// finish queues a finished connection for retirement after the linger time.
func (t *tracker) finish(c *conn, ts int64) {
	if !c.queued {
		c.queued = true
		t.queue = append(t.queue, lingering{ts, c.key.hash(t.table.seed), c.idx, c.gen})
	}
}

// expire retires the finished connections whose linger time has passed.
func (t *tracker) expire(now int64) {
	for t.qhead < len(t.queue) {
		l := t.queue[t.qhead]
		if now-l.at < int64(linger) {
			break
		}
		t.qhead++
		c := t.at(l.idx)
		if c.gen != l.gen || !c.live || !c.queued {
			continue
		}
		if !c.done() {
			c.queued = false // revived: a late segment reopened it
			continue
		}
		// A finished conn's last packet is the one that finished it, or
		// a later one that left it finished.
		if now-c.last < int64(linger) {
			t.queue = append(t.queue, lingering{c.last, l.h, l.idx, l.gen})
			continue
		}
		t.dropHashed(c, l.h)
	}
	if t.qhead > 4096 && t.qhead*2 > len(t.queue) {
		t.queue = t.queue[:copy(t.queue, t.queue[t.qhead:])]
		t.qahead = max(t.qahead-t.qhead, 0)
		t.qhead = 0
	}
}

// drop removes c from the table, hands it to retire and recycles it.
func (t *tracker) drop(c *conn) { t.dropHashed(c, c.key.hash(t.table.seed)) }

// dropHashed is drop for a conn whose key hashes to h.
func (t *tracker) dropHashed(c *conn, h uint64) {
	t.table.remove(h, c.idx)
	c.queued, c.live = false, false
	t.retire(c)
	if c.anoms != 0 {
		t.anomsFree = append(t.anomsFree, c.anoms-1)
		c.anoms = 0
	}
	t.free = append(t.free, c.idx)
}
