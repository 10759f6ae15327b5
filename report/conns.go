package report

import (
	"cmp"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
)

// The builder takes the capture's connections one at a time (Builder.Add),
// in any order, and keeps none of them: a capture of a million connections
// is read with the memory of those open at once. Of each it keeps counts,
// and, for the sockets the report may list as stuck, a compact summary of
// what the findings ask later (seen) and the CLOSE_WAIT spans the timeline
// draws (spans). The connections open at the end in CLOSE_WAIT or
// FIN_WAIT2 wait in ends until Build knows when the capture ended.
//
// A socket may be listed as stuck when the connection's local end is in
// CLOSE_WAIT at the end (captureCloseWait) or a listing shows its endpoints
// in CLOSE_WAIT (kernelSockets): mayBeStuck. Whether a connection is kept
// depends on it and on the evidence only, never on the connections taken
// before, so that the report does not depend on their order.

// connSeen is what the report keeps of the capture's connection of a socket
// that may be stuck, seen from the socket's end ("ours"): the latest
// connection of its endpoints when there were several.
type connSeen struct {
	first       time.Time
	vlan        uint16
	firstPacket pcapstate.Pos
	// handshake says the capture saw the SYN, and weOpened that our end
	// sent it (or looks like the client).
	handshake, weOpened bool
	// ours and theirs are the payload bytes each end sent.
	ours, theirs uint64
	// lastFrom is the end that sent the last data before a FIN
	// (SenderLocal: ours), and lastStatus and lastRequest the status and
	// method of the exchange that end began last.
	lastFrom    pcapstate.Sender
	lastStatus  uint16
	lastRequest pcapstate.Method
	// answered is the method of the other end's last request when the
	// last data was a response: the request that response answered.
	answered pcapstate.Method
	// theirFIN is the peer's FIN.
	theirFIN pcapstate.Pos
	// upgrade says an end's answer took the connection out of HTTP/1.x:
	// a 101 (Switching Protocols) or a 2xx to CONNECT. What followed was
	// another protocol (a WebSocket, HTTP/2, a proxy's tunnel), not
	// HTTP/1.x, whose message starts are all the capture's exchanges show.
	upgrade Upgrade
}

// later reports whether s is of a later connection of the endpoints than
// o: by first packet, then VLAN and position, as the capture's
// connections are ordered.
func (s *connSeen) later(o *connSeen) bool {
	if c := s.first.Compare(o.first); c != 0 {
		return c > 0
	}
	if s.vlan != o.vlan {
		return s.vlan > o.vlan
	}
	return cmp.Or(strings.Compare(s.firstPacket.File, o.firstPacket.File), cmp.Compare(s.firstPacket.Packet, o.firstPacket.Packet)) > 0
}

// openEnd is an end of a connection open at the capture's end that the
// report lists once Build knows when the capture ended: our end in
// CLOSE_WAIT (finWait2 false: fin and finAck are the peer's FIN and our
// acknowledgement of it), or our end in FIN_WAIT2 toward a peer in
// CLOSE_WAIT (finWait2: our FIN and the peer's acknowledgement).
type openEnd struct {
	k           key
	finWait2    bool
	verdict     pcapstate.Verdict
	since       time.Time
	fin, finAck pcapstate.Pos
}

// compare orders open ends by socket, then kind, time, packets and
// verdict: a total order, so that Build takes them in the same order
// whatever order they came in, sorted in one piece or in halves
// (sortSplit).
func (e *openEnd) compare(o *openEnd) int {
	if c := compareKeys(e.k, o.k); c != 0 {
		return c
	}
	if e.finWait2 != o.finWait2 {
		if e.finWait2 {
			return 1
		}
		return -1
	}
	return cmp.Or(e.since.Compare(o.since), comparePacket(e.fin, o.fin), comparePacket(e.finAck, o.finAck), cmp.Compare(e.verdict, o.verdict))
}

func comparePacket(a, b pcapstate.Pos) int {
	return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Packet, b.Packet))
}

// mayBeStuck reports whether the report may list socket k as stuck: a
// listing shows it in CLOSE_WAIT, or its connection c (whose ends, as the
// report takes them, are local and remote, k being local's key) is in
// CLOSE_WAIT at the end.
func (b *builder) mayBeStuck(k, ck key, local *pcapstate.Side) bool {
	return len(b.kernelCW) > 0 && b.kernelCW[k] || k == ck && local.State == pcapstate.CloseWait
}

// keep keeps what the report needs later of connection c, whose ends are
// local and remote with k the key of local: its summary if k may be stuck,
// and the CLOSE_WAIT spans of its ends whose sockets may be.
func (b *builder) keep(c *pcapstate.Conn, local, remote *pcapstate.Side, k key, later bool) {
	if b.mayBeStuck(k, k, local) {
		s := connSeen{
			first: c.First, vlan: c.VLAN, firstPacket: c.FirstPacket, handshake: c.Handshake, weOpened: c.LocalOpened,
			ours: local.Bytes, theirs: remote.Bytes, lastFrom: c.LastDataFrom, theirFIN: remote.FIN,
			upgrade: upgradeOf(local.Upgrade, remote.Upgrade),
		}
		if local.Addr != c.Local.Addr {
			// The report takes the connection's remote end as ours.
			s.weOpened = !c.LocalOpened
			switch s.lastFrom {
			case pcapstate.SenderLocal:
				s.lastFrom = pcapstate.SenderRemote
			case pcapstate.SenderRemote:
				s.lastFrom = pcapstate.SenderLocal
			}
		}
		switch s.lastFrom {
		case pcapstate.SenderLocal:
			s.lastStatus, s.lastRequest, s.answered = local.LastStatus, local.LastRequest, remote.LastRequest
		case pcapstate.SenderRemote:
			s.lastStatus, s.lastRequest, s.answered = remote.LastStatus, remote.LastRequest, local.LastRequest
		}
		if old := b.seen[k]; old == nil || s.later(old) {
			b.seen[k] = &s
		}
	}
	// The CLOSE_WAIT of either end, but of a closed-later local end: that
	// one the timeline takes among the closed-later sockets.
	for _, end := range [2][2]*pcapstate.Side{{local, remote}, {remote, local}} {
		s := end[0]
		if s.CloseWaitAt.IsZero() || s == local && later {
			continue
		}
		ek := mkKey(s.Addr, end[1].Addr)
		if !b.mayBeStuck(ek, k, local) {
			continue
		}
		iv := interval{at: s.CloseWaitAt.UnixNano()}
		if !s.CloseWaitEnd.IsZero() {
			iv.end = s.CloseWaitEnd.UnixNano()
		}
		b.spans[ek] = append(b.spans[ek], iv)
	}
}

// openEnds lists the sockets of the ends open at the capture's end, now
// that it is known: in CLOSE_WAIT, or in FIN_WAIT2 toward a peer in
// CLOSE_WAIT.
//
// The ends are sorted by pointer, where they lie in their chunks: the
// reference capture's 50,000 ends of 128 bytes were copied at every swap
// of a sort, and into a new array at every doubling of the list while
// the capture's end was added, on one core.
func (b *builder) openEnds() {
	ends := make([]*openEnd, 0, b.ends.len())
	for _, ch := range b.ends.chunks() {
		for i := range ch {
			ends = append(ends, &ch[i])
		}
	}
	sortSplit(ends, (*openEnd).compare)
	for _, e := range ends {
		if e.finWait2 {
			b.finWait2(e)
		} else {
			b.captureCloseWait(e)
		}
	}
	b.ends = chunked[openEnd]{}
}

// kernelListsFinWait2 reports whether a listing shows socket k in
// FIN_WAIT2.
func (b *builder) kernelListsFinWait2(k key) bool {
	for _, l := range b.kernel[k] {
		if l.state == dumps.StateFinWait2 {
			return true
		}
	}
	return false
}
