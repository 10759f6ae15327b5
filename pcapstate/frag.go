package pcapstate

import "net/netip"

// fragPos places an IPv4 fragment of a TCP segment in its datagram: the
// datagram's identification, the fragment's first and end byte offsets in
// the datagram's payload, and whether more fragments follow. end is 0 when
// the frame is no such fragment.
type fragPos struct {
	id         uint16
	start, end uint32
	more       bool
}

// Fragment reassembly bounds: datagrams followed at once, and how long one
// waits for its missing fragments (Linux's ipfrag_time).
const (
	maxPendingFrags = 64
	fragTimeout     = 30e9 // ns of capture time
)

// fragTable completes the payload length of TCP segments whose IPv4
// datagram was fragmented. The first fragment holds the TCP header and
// gives the segment (Decode marks it Fragment), but its IP length is the
// fragment's; the later fragments give the datagram's length. The segment
// is held until the fragments add up, then released with the whole
// payload at the time of the fragment that completed it, as the receiver
// reassembles it; a datagram never completed (a fragment lost or not
// captured) releases its segment with the payload of the fragments seen,
// when it times out or the capture ends. No payload bytes are kept.
type fragTable struct {
	pending []pendingFrag
	// ready holds the segments released by the last call, to be handed
	// to the engine in order.
	ready []readyFrag
}

type pendingFrag struct {
	src, dst netip.Addr
	id       uint16
	first    int64 // capture time of the first fragment seen
	have     uint32
	end      uint32 // the datagram's payload length, 0 until its last fragment
	hasSeg   bool
	seg      Segment // the segment of the first fragment
	segAt    int64
	segRef   ref
}

type readyFrag struct {
	seg Segment
	ts  int64
	r   ref
}

// add records a fragment seen at ts as packet r: seg is the segment of a
// first fragment (Fragment set) or what Decode filled for a later one
// (addresses and fragPos). It returns whether t.ready has segments to
// release.
func (t *fragTable) add(seg *Segment, ts int64, r ref) bool {
	t.ready = t.ready[:0]
	t.expire(ts)
	i := -1
	for j := range t.pending {
		if p := &t.pending[j]; p.id == seg.frag.id && p.src == seg.Src && p.dst == seg.Dst {
			i = j
			break
		}
	}
	if i < 0 {
		if len(t.pending) == maxPendingFrags {
			t.release(0, t.pending[0].segAt)
		}
		t.pending = append(t.pending, pendingFrag{src: seg.Src, dst: seg.Dst, id: seg.frag.id, first: ts})
		i = len(t.pending) - 1
	}
	p := &t.pending[i]
	p.have += seg.frag.end - seg.frag.start
	if !seg.frag.more {
		p.end = seg.frag.end
	}
	if seg.Fragment && !p.hasSeg {
		p.hasSeg, p.seg, p.segAt, p.segRef = true, *seg, ts, r
	}
	if p.hasSeg && p.end != 0 && p.have >= p.end {
		// The later fragments' bytes are the TCP payload the first
		// fragment's length left out.
		p.seg.Payload += p.end - p.seg.frag.end
		t.release(i, ts)
	}
	return len(t.ready) > 0
}

// expire releases the datagrams that waited longer than fragTimeout.
func (t *fragTable) expire(now int64) {
	for i := 0; i < len(t.pending); {
		if p := &t.pending[i]; now-p.first > fragTimeout {
			t.release(i, p.segAt)
			continue
		}
		i++
	}
}

// flush releases every datagram still waiting: the capture has ended.
func (t *fragTable) flush() {
	t.ready = t.ready[:0]
	for len(t.pending) > 0 {
		t.release(0, t.pending[0].segAt)
	}
}

// release drops pending datagram i, handing its segment, if it has one,
// to ready at time ts.
func (t *fragTable) release(i int, ts int64) {
	if p := &t.pending[i]; p.hasSeg {
		p.seg.frag = fragPos{}
		t.ready = append(t.ready, readyFrag{p.seg, ts, p.segRef})
	}
	t.pending = append(t.pending[:i], t.pending[i+1:]...)
}
