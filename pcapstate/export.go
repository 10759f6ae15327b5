package pcapstate

import (
	"net/netip"
	"strconv"
	"time"
)

// exporter turns the engine's compact bookkeeping into Conn values.
type exporter struct {
	names   []string
	local   []netip.Prefix
	tr      *tracker // the tracker whose conns are exported
	omitWhy bool     // Options.OmitWhy
}

func (x *exporter) pos(r ref) Pos {
	if r.file == 0 || int(r.file) > len(x.names) {
		return Pos{}
	}
	return Pos{File: x.names[r.file-1], Packet: uint64(r.n)}
}

func nsTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func (x *exporter) isLocal(a netip.Addr) bool {
	for _, p := range x.local {
		if p.Contains(a.Unmap()) || p.Contains(a) {
			return true
		}
	}
	return false
}

// confirmed reports whether endpoint s of c is in a confirmed CLOSE_WAIT:
// the peer sent a FIN, a later segment from s acknowledged it, and s sent
// no FIN and nobody a RST.
func (c *conn) confirmed(s int) bool {
	e, p := &c.ep[s], &c.ep[1-s]
	return e.state == CloseWait && p.finSent && p.finAcked && !e.finSent && !c.rst
}

// localSide chooses which endpoint of c is local, and by which rule.
func (x *exporter) localSide(c *conn) (int, LocalRule) {
	if len(x.local) > 0 {
		if s, ok := x.flagged(c.addrPort(0).Addr(), c.addrPort(1).Addr()); ok {
			return s, LocalByFlag
		}
	}
	// Confirmed CLOSE_WAIT first, then any CLOSE_WAIT, then the acceptor.
	for _, s := range []int{1, 0} {
		if c.confirmed(s) {
			return s, LocalByCloseWait
		}
	}
	for _, s := range []int{1, 0} {
		if c.ep[s].state == CloseWait {
			return s, LocalByCloseWait
		}
	}
	return 1, LocalByServer
}

// flagged returns which of addresses a0 and a1 the local addresses name,
// if they name exactly one: localSide's first rule.
func (x *exporter) flagged(a0, a1 netip.Addr) (int, bool) {
	l0, l1 := x.isLocal(a0), x.isLocal(a1)
	if l0 == l1 {
		return 0, false
	}
	if l0 {
		return 0, true
	}
	return 1, true
}

// sideInto writes endpoint s of c into *out, every field.
func (x *exporter) sideInto(out *Side, c *conn, s int) {
	e, ec := &c.ep[s], &c.cold[s]
	out.LastRequest = c.method[s]
	out.LastStatus = c.status[s]
	out.Upgrade = c.upgradeBy(s)
	out.Addr = c.addrPort(s)
	out.State = e.state
	out.Since = nsTime(e.since)
	out.Packets = e.pkts
	out.Bytes = e.bytes
	out.Markers = e.markers
	out.SYN = x.pos(ec.synRef)
	out.FIN = x.pos(ec.finRef)
	out.FINAck = x.pos(e.finAck)
	out.RST = x.pos(ec.rstRef)
	out.CloseWaitAt = nsTime(ec.cwAt)
	out.CloseWaitEnd = nsTime(ec.cwEnd)
}

// exportInto describes c as seen at time end into *out, every field,
// whatever it held: a Conn built as a value and then copied into a batch
// or the Stream's current Conn (640 bytes) cost its copy, for each of a
// million connections handed over (TestExportIntoEveryField).
func (x *exporter) exportInto(out *Conn, c *conn, end int64) {
	x.settle(c)
	l, rule := x.localSide(c)
	le, re := &c.ep[l], &c.ep[1-l]
	x.sideInto(&out.Local, c, l)
	x.sideInto(&out.Remote, c, 1-l)
	out.LocalBy = rule
	out.LocalOpened = l == 0
	out.VLAN = c.key.vlan
	out.Tunnel = c.tunnel
	out.First = nsTime(c.first)
	out.Last = nsTime(c.last)
	out.FirstPacket = x.pos(c.firstRef)
	out.LastPacket = x.pos(c.lastRef)
	out.Handshake = c.handshake
	out.OneWay = le.pkts == 0 || re.pkts == 0
	out.Reused = c.reused
	out.AnomalyCount = int(c.nAnom)
	out.LastDataFrom = SenderNone
	switch int(c.lastData) - 1 {
	case l:
		out.LastDataFrom = SenderLocal
	case 1 - l:
		out.LastDataFrom = SenderRemote
	}
	out.Anomalies = nil
	for _, a := range x.tr.anomalies(c) {
		out.Anomalies = append(out.Anomalies, Anomaly{Pos: x.pos(a.r), At: nsTime(a.at), Local: int(a.side) == l, State: a.state, Event: a.ev})
	}
	out.Verdict, out.Why = NotCloseWait, ""
	if le.state == CloseWait {
		out.Verdict, out.Why = x.explain(c, l, end)
	}
}

// settle gives c, a connection open at the capture's end, the states it
// ends in: a FIN behind a hole the capture never saw filled counts as
// received. Settling twice changes nothing.
func (x *exporter) settle(c *conn) {
	for s := range c.ep {
		if e := &c.ep[s]; e.finHole && !c.rst {
			// The capture ends before the hole in front of this FIN was
			// seen filled: the peer may have the FIN (the capture missed
			// the data) or not. Count it as received, unconfirmed.
			e.finHole = false
			x.tr.apply(c, 1-s, RecvFIN, c.cold[s].finAt, c.cold[s].finRef)
		}
	}
}

// explain gives the verdict on a local endpoint in CLOSE_WAIT and the
// packets behind it. The text is built on the stack and allocated once, at
// its size: tens of thousands of connections can be left in CLOSE_WAIT.
func (x *exporter) explain(c *conn, l int, end int64) (Verdict, string) {
	if x.omitWhy {
		if c.confirmed(l) {
			return CloseWaitConfirmed, ""
		}
		return CloseWaitUnconfirmed, ""
	}
	le, re := &c.ep[l], &c.ep[1-l]
	var buf [320]byte
	b := append(buf[:0], "remote FIN at "...)
	b = appendPos(b, x.pos(c.cold[1-l].finRef))
	if c.confirmed(l) {
		b = append(b, ", acknowledged by the local endpoint at "...)
		b = appendPos(b, x.pos(c.ep[1-l].finAck))
		b = append(b, "; no local FIN and no RST up to the capture end ("...)
		b = nsTime(end).AppendFormat(b, time.RFC3339Nano)
		b = append(b, ')')
		return CloseWaitConfirmed, string(b)
	}
	switch {
	case le.pkts == 0:
		b = append(b, "; nothing was seen from the local endpoint (one-way capture), so the FIN may never have arrived"...)
	case !re.finAcked:
		b = append(b, "; no later segment from the local endpoint acknowledges it"...)
	default:
		b = append(b, "; the state machine does not support it"...)
	}
	return CloseWaitUnconfirmed, string(b)
}

// appendPos appends p.String() to b.
func appendPos(b []byte, p Pos) []byte {
	if p.File == "" {
		return b
	}
	b = append(b, p.File...)
	b = append(b, ": packet "...)
	return strconv.AppendUint(b, p.Packet, 10)
}
