package capgen

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// Flags are TCP header flags, with their header bit values.
type Flags uint8

// TCP flags.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// Dir is the sender of a segment.
type Dir uint8

// Directions.
const (
	FromClient Dir = iota
	FromServer
)

func (d Dir) peer() Dir { return 1 - d }

// ConnOptions configure a Conn. The zero value is fine.
type ConnOptions struct {
	// Iface is the capture interface (index) the connection is seen on.
	Iface int
	// NoOptions leaves out TCP options. By default a SYN carries MSS,
	// SACK-permitted, timestamps and window scale like Linux does (20 bytes)
	// and every other segment carries NOP, NOP, timestamps (12 bytes), so a
	// small snaplen cuts the header inside its options.
	NoOptions bool
	// Framing, when set, replaces the interface's framing for this
	// connection (another VLAN, another MPLS label...). Its Link must be the
	// interface's.
	Framing *Framing
}

// Segment is one TCP segment for Conn.Send: every header field the
// generator controls.
type Segment struct {
	Dir      Dir
	Flags    Flags
	Seq, Ack uint32
	Window   uint16
	Len      int // payload bytes (Lead, then zeros)
	// Lead is the payload's first bytes (at most Len of them), e.g. an
	// HTTP request or status line.
	Lead []byte
	// Options are the raw TCP options, padded by the caller to a multiple of
	// 4 bytes; nil means the connection's default for these flags.
	Options []byte
}

type side struct {
	addr    netip.AddrPort
	mac     [6]byte
	isn     uint32
	nxt     uint32 // next sequence number this side sends
	win     uint16
	ipid    uint16
	tsBase  uint32
	tsSeen  uint32 // last TSval received from the peer
	last    Segment
	hasLast bool
	hidden  bool
	packets int
	bytes   int
}

// Conn scripts one TCP connection between a client and a server. It keeps
// both sides' next sequence numbers, so that by default every segment is
// consistent: seq is the sender's next sequence number and ack covers
// everything the peer has sent. Every method that emits a segment returns its
// packet number in the capture (from 1).
//
// Before Handshake (or without one, for a capture that starts
// mid-connection) both sides are as if the handshake had happened: their next
// sequence number is ISN+1.
type Conn struct {
	c     *Capture
	s     [2]side
	iface int
	noOpt bool
	f     *Framing
	buf   []byte
	pkts  []int // numbers of the packets it added
}

// Conn starts a connection from client to server. Both addresses must be of
// the same family (IPv4-mapped IPv6 addresses count as IPv4); on a Teredo interface they must be IPv6. The initial
// sequence numbers are derived from the ports and the number of connections
// made so far (deterministic); change them with ISN.
func (c *Capture) Conn(client, server netip.AddrPort, o ConnOptions) *Conn {
	client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	if client.Addr().Is4() != server.Addr().Is4() {
		panic(fmt.Sprintf("capgen: conn %s -> %s: mixed address families", client, server))
	}
	if o.Iface < 0 || o.Iface >= len(c.ifaces) {
		panic(fmt.Sprintf("capgen: conn %s -> %s: no interface %d", client, server, o.Iface))
	}
	f := &c.ifaces[o.Iface].Framing
	if o.Framing != nil {
		if msg := o.Framing.valid(); msg != "" || o.Framing.Link != f.Link {
			panic(fmt.Sprintf("capgen: conn %s -> %s: framing %+v on a %d link: %s", client, server, *o.Framing, f.Link.LinkType(), msg))
		}
		f = o.Framing
	}
	if f.Tunnel == Teredo && client.Addr().Is4() {
		panic(fmt.Sprintf("capgen: conn %s -> %s: Teredo carries IPv6 only", client, server))
	}
	c.conns++
	k := &Conn{c: c, iface: o.Iface, noOpt: o.NoOptions, f: f}
	k.s[FromClient] = side{addr: client, mac: [6]byte{2, 0, 0, 0, 0, 1}, win: 64240, tsBase: 1000 * uint32(c.conns)}
	k.s[FromServer] = side{addr: server, mac: [6]byte{2, 0, 0, 0, 0, 2}, win: 65160, tsBase: 500000 + 1000*uint32(c.conns)}
	n := uint32(c.conns) * 0x01000193 // a new ISN for every connection, even on a reused 4-tuple
	k.ISN(FromClient, uint32(client.Port())*0x9e3779b1^0x5ca1ab1e^n)
	k.ISN(FromServer, uint32(server.Port())*0x85ebca6b^uint32(client.Port())*0xc2b2ae35^n)
	return k
}

// ISN sets the initial sequence number of dir's side (and its next sequence
// number to isn+1). Call it before the side sends anything.
func (k *Conn) ISN(dir Dir, isn uint32) *Conn {
	k.s[dir].isn, k.s[dir].nxt = isn, isn+1
	return k
}

// Nxt is the next sequence number dir's side will send.
func (k *Conn) Nxt(dir Dir) uint32 { return k.s[dir].nxt }

// Client and Server return the endpoints.
func (k *Conn) Client() netip.AddrPort { return k.s[FromClient].addr }

// Server returns the server endpoint.
func (k *Conn) Server() netip.AddrPort { return k.s[FromServer].addr }

// Packets returns the numbers of the packets the connection added, in the
// order they were sent (Capture.Swap moves them, not the numbers).
func (k *Conn) Packets() []int { return k.pkts }

// Counts returns how many packets and payload bytes from dir's side are in
// the capture.
func (k *Conn) Counts(dir Dir) (packets, bytes int) {
	return k.s[dir].packets, k.s[dir].bytes
}

// Hide makes the capture miss every later segment from dir, as in a one-way
// capture: the segments still move dir's sequence numbers, but are not
// added to the capture and Send returns 0 for them.
func (k *Conn) Hide(dir Dir) *Conn { k.s[dir].hidden = true; return k }

// Wait moves the capture clock by d.
func (k *Conn) Wait(d time.Duration) *Conn { k.c.Wait(d); return k }

// Next returns the segment dir's side would send next with ACK set: seq is
// its next sequence number, ack covers all the peer sent, with its current
// window. Change fields and pass it to Send for odd cases.
func (k *Conn) Next(dir Dir) Segment {
	s := &k.s[dir]
	return Segment{Dir: dir, Flags: ACK, Seq: s.nxt, Ack: k.s[dir.peer()].nxt, Window: s.win}
}

// Handshake emits SYN, SYN-ACK and ACK and returns the SYN's packet number.
func (k *Conn) Handshake() int {
	syn := k.Send(Segment{Dir: FromClient, Flags: SYN, Seq: k.s[FromClient].isn, Window: k.s[FromClient].win})
	k.Send(Segment{Dir: FromServer, Flags: SYN | ACK, Seq: k.s[FromServer].isn, Ack: k.s[FromClient].nxt, Window: k.s[FromServer].win})
	k.ACK(FromClient)
	return syn
}

// Data emits n payload bytes from dir (PSH, ACK).
func (k *Conn) Data(dir Dir, n int) int {
	s := k.Next(dir)
	s.Flags |= PSH
	s.Len = n
	return k.Send(s)
}

// Message emits n payload bytes from dir (PSH, ACK) that begin with lead,
// e.g. "HTTP/1.1 500 Internal Server Error\r\n".
func (k *Conn) Message(dir Dir, lead string, n int) int {
	s := k.Next(dir)
	s.Flags |= PSH
	s.Len, s.Lead = max(n, len(lead)), []byte(lead)
	return k.Send(s)
}

// ACK emits a pure acknowledgment from dir of everything the peer sent.
func (k *Conn) ACK(dir Dir) int { return k.Send(k.Next(dir)) }

// FIN emits a FIN (with ACK) from dir.
func (k *Conn) FIN(dir Dir) int {
	s := k.Next(dir)
	s.Flags |= FIN
	return k.Send(s)
}

// DataFIN emits n payload bytes and the FIN in one segment from dir: its
// acknowledgment is seq+n+1.
func (k *Conn) DataFIN(dir Dir, n int) int {
	s := k.Next(dir)
	s.Flags |= FIN | PSH
	s.Len = n
	return k.Send(s)
}

// RST emits a reset (with ACK) from dir at its next sequence number.
func (k *Conn) RST(dir Dir) int {
	s := k.Next(dir)
	s.Flags = RST | ACK
	s.Window = 0
	return k.Send(s)
}

// KeepAlive emits a keep-alive probe from dir: seq is the next sequence
// number less one, with n (0 or 1) garbage bytes, so it carries no new
// data.
func (k *Conn) KeepAlive(dir Dir, n int) int {
	s := k.Next(dir)
	s.Seq--
	s.Len = n
	return k.Send(s)
}

// Window sets dir's advertised window and emits an ACK that carries it
// (win 0: a zero-window advertisement; then a non-zero one: a window update).
func (k *Conn) Window(dir Dir, win uint16) int {
	k.s[dir].win = win
	return k.ACK(dir)
}

// Retransmit emits the last segment dir sent again, with the same seq,
// ack, flags and length (a retransmitted FIN, say). It panics if dir has
// sent nothing yet.
func (k *Conn) Retransmit(dir Dir) int {
	if !k.s[dir].hasLast {
		panic("capgen: retransmit before any segment")
	}
	return k.Send(k.s[dir].last)
}

// Send emits s as is (nil Options: the default ones). It moves the sender's
// next sequence number forward when s ends beyond it (wrap-around aware), so
// Next and the following segments stay consistent. It panics on options
// that are not a multiple of 4 bytes or longer than 40, and on a segment
// too long for an IP packet.
func (k *Conn) Send(s Segment) int {
	from, to := &k.s[s.Dir], &k.s[s.Dir.peer()]
	opts := s.Options
	if opts == nil && !k.noOpt {
		opts = k.defaultOptions(s)
	}
	if len(opts)%4 != 0 || len(opts) > 40 || s.Len < 0 || 20+len(opts)+s.Len > 65535-40-8 {
		panic(fmt.Sprintf("capgen: segment with %d bytes of options and %d of payload", len(opts), s.Len))
	}
	end := s.Seq + uint32(s.Len)
	if s.Flags&SYN != 0 {
		end++
	}
	if s.Flags&FIN != 0 {
		end++
	}
	if int32(end-from.nxt) > 0 {
		from.nxt = end
	}
	from.ipid++
	from.last, from.hasLast = s, true
	if from.hidden {
		return 0
	}
	h := hdr{
		src: from.addr, dst: to.addr, srcMAC: from.mac, dstMAC: to.mac,
		fromClient: s.Dir == FromClient, ipid: from.ipid,
		seq: s.Seq, ack: s.Ack, flags: s.Flags, window: s.Window,
		opts: opts, payload: s.Len, lead: s.Lead,
	}
	k.buf = appendFrame(k.buf[:0], k.f, &h)
	from.packets++
	from.bytes += s.Len
	n := k.c.Add(k.iface, append([]byte(nil), k.buf...))
	p := &k.c.pkts[n-1]
	p.Src, p.Dst, p.Seg = from.addr, to.addr, s
	p.Seg.Options = opts
	k.pkts = append(k.pkts, n)
	return n
}

// tsval is the sender's TCP timestamp: milliseconds of capture time.
func (k *Conn) tsval(s *side) uint32 {
	return s.tsBase + uint32(k.c.now.UnixMilli())
}

func (k *Conn) defaultOptions(s Segment) []byte {
	from, to := &k.s[s.Dir], &k.s[s.Dir.peer()]
	tsv := k.tsval(from)
	to.tsSeen = tsv
	tsecr := from.tsSeen
	if s.Flags&SYN != 0 {
		mss := uint16(1460)
		if !from.addr.Addr().Is4() {
			mss = 1440
		}
		o := make([]byte, 0, 20)
		o = append(o, 2, 4)
		o = binary.BigEndian.AppendUint16(o, mss)
		o = append(o, 4, 2, 8, 10)
		o = binary.BigEndian.AppendUint32(o, tsv)
		o = binary.BigEndian.AppendUint32(o, tsecr)
		return append(o, 1, 3, 3, 7) // NOP, window scale 7
	}
	o := make([]byte, 0, 12)
	o = append(o, 1, 1, 8, 10)
	o = binary.BigEndian.AppendUint32(o, tsv)
	return binary.BigEndian.AppendUint32(o, tsecr)
}
