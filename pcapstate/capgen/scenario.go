package capgen

import (
	"net/netip"
	"slices"
	"time"
)

// State is an endpoint's TCP state by its Linux (ss, netstat) name, as the
// conns command prints it. The empty State means the capture cannot tell,
// and a test must not assert it.
type State string

// TCP states.
const (
	SynSent     State = "SYN_SENT"
	SynRecv     State = "SYN_RECV"
	Established State = "ESTABLISHED"
	FinWait1    State = "FIN_WAIT1"
	FinWait2    State = "FIN_WAIT2"
	Closing     State = "CLOSING"
	TimeWait    State = "TIME_WAIT"
	CloseWait   State = "CLOSE_WAIT"
	LastAck     State = "LAST_ACK"
	Closed      State = "CLOSED"
)

// Verdict says whether an endpoint is in CLOSE_WAIT at the end of the
// capture, and how sure the capture makes us.
type Verdict string

// Verdicts. The empty Verdict means not in CLOSE_WAIT.
const (
	// Confirmed: the peer sent a FIN, a later segment from the endpoint
	// acknowledges it (ack >= FIN seq + 1, with 32-bit wrap-around), the
	// endpoint sent no FIN and neither side a RST until the capture ends.
	Confirmed Verdict = "confirmed"
	// Unconfirmed: the peer sent a FIN but the capture does not show the
	// endpoint acknowledging it (unacknowledged FIN, one-way capture).
	Unconfirmed Verdict = "unconfirmed"
)

// Marker is something remarkable an endpoint did, by the name the engine
// reports it under.
type Marker string

// Markers, each raised by the endpoint that sent the segment.
const (
	MarkRST              Marker = "rst"
	MarkRetransmittedFIN Marker = "retransmitted-fin"
	MarkOutOfOrderFIN    Marker = "out-of-order-fin"
	MarkKeepAlive        Marker = "keep-alive"
	MarkZeroWindow       Marker = "zero-window"
	MarkDataAfterFIN     Marker = "data-after-fin" // data sent after the peer's FIN
)

// Endpoint is what the engine must say about one end of a connection when
// the capture ends.
type Endpoint struct {
	Addr  netip.AddrPort
	State State // "": the capture cannot tell, don't assert
	// Since is when the endpoint entered State, in capture time: the
	// timestamp of the packet that moved it there (for CLOSE_WAIT the
	// peer's FIN, or the segment that filled the hole before an
	// out-of-order FIN). Zero: not asserted.
	Since     time.Time
	CloseWait Verdict
	// Packets and Bytes count the segments and payload bytes the endpoint
	// sent that are in the capture (payload from the IP lengths, including
	// bytes cut by the snaplen).
	Packets, Bytes int
	Markers        []Marker // sorted, complete; nil: none
	Evidence       Evidence
}

// Evidence are the packets behind a verdict, by number in the scenario's
// Capture (from 1; Capture.FilePos maps a number to its file and number
// there), 0 when there is none. Each is the first such packet the endpoint sent, in
// capture order.
type Evidence struct {
	SYN    int // its SYN (or SYN-ACK)
	FIN    int // its FIN
	FINAck int // its first segment acknowledging the peer's FIN
	RST    int // its RST
}

// Expect is the correct verdict on one connection.
type Expect struct {
	Client, Server Endpoint
}

// Scenario is one situation the engine must judge exactly, built as real
// packets.
type Scenario struct {
	Name string
	Doc  string // what happens and why the verdict is right
	// Capture holds the packets; it has several Files when the scenario
	// spans rotated or parallel captures, which must be read together
	// (WriteFiles writes them).
	Capture *Capture
	// Local is the endpoint to pass as --local (the server in every
	// scenario).
	Local netip.AddrPort
	// Conns are the connections in the order of their first packet. Two
	// connections on one 4-tuple are a reused port.
	Conns []Expect
}

// defaultStart is when scenario captures start unless Options.Start is
// set. It has nanoseconds, so truncation to microseconds shows.
var defaultStart = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

// Options shape every scenario.
type Options struct {
	// Interface is the one capture interface (framing and snaplen; the
	// snaplen-cut scenario sets its own snaplen).
	Interface Interface
	// IPv6 uses 2001:db8::1 and 2001:db8::2 instead of 10.0.0.1 and
	// 10.0.0.2. A Teredo framing implies it.
	IPv6  bool
	Start time.Time // zero: 2026-03-14T15:09:26.535897932Z
}

// Scenario endpoints: the client's port is ephemeral, the server is local.
const (
	clientPort = 40000
	serverPort = 8080
)

// scen builds one scenario.
type scen struct {
	o     Options
	c     *Capture
	file  int // with the scenario's capture one file of c: its index; else -1
	s     Scenario
	conns []*Conn
}

func newScen(name, doc string, o Options) *scen {
	if o.Start.IsZero() {
		o.Start = defaultStart
	}
	if o.Interface.Framing.Tunnel == Teredo {
		o.IPv6 = true
	}
	return &scen{o: o, s: Scenario{Name: name, Doc: doc}, file: -1}
}

// capture starts the capture on ifc.
func (b *scen) capture(ifc Interface) {
	b.c = New(b.o.Start, ifc)
	b.s.Capture = b.c
}

func (b *scen) conn() *Conn {
	if b.c == nil {
		b.capture(b.o.Interface)
	}
	cl, sv := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if b.o.IPv6 {
		cl, sv = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	}
	k := b.c.Conn(netip.AddrPortFrom(cl, clientPort), netip.AddrPortFrom(sv, serverPort), ConnOptions{})
	b.s.Local = k.Server()
	b.conns = append(b.conns, k)
	return k
}

// at is the timestamp of packet n.
func (b *scen) at(n int) time.Time { return b.c.pkts[n-1].Time }

// expect adds the verdict on connection k, with the counts and evidence
// of the packets k sent that are in the scenario's capture.
func (b *scen) expect(k *Conn, client, server Endpoint) {
	client.Addr, server.Addr = k.Client(), k.Server()
	var finEnd [2]uint32 // ack that covers the FIN of each side
	var finSeen [2]bool
	ep := [2]*Endpoint{&client, &server}
	nums := slices.Clone(k.Packets())
	slices.Sort(nums)
	for _, n := range nums {
		p := b.c.pkts[n-1]
		if b.file >= 0 && p.file != b.file {
			continue // in another file
		}
		d := FromServer
		if p.Src == k.Client() {
			d = FromClient
		}
		e, s := ep[d], p.Seg
		e.Packets++
		e.Bytes += s.Len
		first := func(at *int, on bool) {
			if on && *at == 0 {
				*at = n
			}
		}
		first(&e.Evidence.SYN, s.Flags&SYN != 0)
		first(&e.Evidence.FIN, s.Flags&FIN != 0)
		first(&e.Evidence.RST, s.Flags&RST != 0)
		first(&e.Evidence.FINAck, finSeen[d.peer()] && s.Flags&ACK != 0 && int32(s.Ack-finEnd[d.peer()]) >= 0)
		if s.Flags&FIN != 0 {
			finEnd[d], finSeen[d] = s.Seq+uint32(s.Len)+1, true
		}
	}
	b.s.Conns = append(b.s.Conns, Expect{Client: client, Server: server})
}

// established opens a connection with a handshake and one request and
// response.
func (b *scen) established() *Conn {
	k := b.conn()
	k.Handshake()
	k.Wait(10 * time.Millisecond)
	k.Data(FromClient, 120)
	k.ACK(FromServer)
	k.Data(FromServer, 1000)
	k.ACK(FromClient)
	k.Wait(time.Second)
	return k
}

// Scenarios builds every scenario with options o. Each call builds new
// captures; the same options give byte-identical captures.
func Scenarios(o Options) []Scenario {
	var out []Scenario
	for _, f := range scenarios {
		out = append(out, f(o))
	}
	return out
}

var scenarios = []func(Options) Scenario{
	closeWaitConfirmed,
	oneWay,
	finUnacked,
	finRetransmitted,
	finOutOfOrder,
	finWithData,
	finWithDataAckDataOnly,
	keepAliveCloseWait,
	zeroWindow,
	dataAfterFIN,
	portReuseAfterClose,
	portReuseAfterRST,
	midConnection,
	snaplenCut,
	seqWrapFIN,
	seqWrapData,
	rstAfterFIN,
	closeBoth,
	closeSimultaneous,
	localClosesFirst,
	rotatedACK,
	rotatedACKFirstFile,
	splitByDirection,
}

func closeWaitConfirmed(o Options) Scenario {
	b := newScen("close-wait-confirmed", "The client closes (FIN), the server acknowledges the FIN and never sends its own: the server is in confirmed CLOSE_WAIT since the FIN, the client in FIN_WAIT2 since the ACK.", o)
	k := b.established()
	fin := k.FIN(FromClient)
	ack := k.ACK(FromServer)
	k.Wait(30 * time.Second)
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func oneWay(o Options) Scenario {
	b := newScen("one-way", "Only the client's segments were captured: handshake, request, ACKs of the response (not in the capture) and FIN. Nothing shows the server received the FIN, so its CLOSE_WAIT is unconfirmed; no state is certain.", o)
	k := b.conn().Hide(FromServer)
	k.Handshake()
	k.Data(FromClient, 120)
	k.Data(FromServer, 1000)
	k.ACK(FromClient)
	k.Wait(time.Second)
	k.FIN(FromClient)
	k.ACK(FromServer)
	k.Wait(30 * time.Second)
	b.expect(k, Endpoint{}, Endpoint{CloseWait: Unconfirmed})
	return b.s
}

func finUnacked(o Options) Scenario {
	b := newScen("fin-unacked", "The client sends a FIN that no server segment acknowledges until the capture ends: the server's CLOSE_WAIT is unconfirmed, the client is in FIN_WAIT1.", o)
	k := b.established()
	fin := k.FIN(FromClient)
	k.Wait(30 * time.Second)
	b.expect(k, Endpoint{State: FinWait1, Since: b.at(fin)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Unconfirmed})
	return b.s
}

func finRetransmitted(o Options) Scenario {
	b := newScen("fin-retransmitted", "The client's FIN is retransmitted 200ms later (same seq), then the server acknowledges it: confirmed CLOSE_WAIT since the first FIN, a retransmitted-FIN marker on the client.", o)
	k := b.established()
	fin := k.FIN(FromClient)
	k.Wait(200 * time.Millisecond)
	k.Retransmit(FromClient)
	ack := k.ACK(FromServer)
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack), Markers: []Marker{MarkRetransmittedFIN}},
		Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func finOutOfOrder(o Options) Scenario {
	b := newScen("fin-out-of-order", "The client's last data segment and its FIN are captured in the wrong order: FIN first (seq beyond the hole), then the data. The server acknowledges data and FIN: confirmed CLOSE_WAIT, entered when the late data filled the hole; an out-of-order-FIN marker on the client.", o)
	k := b.established()
	data := k.Data(FromClient, 500)
	fin := k.FIN(FromClient)
	b.c.Swap(data, fin) // now packet data is the FIN, packet fin the data
	ack := k.ACK(FromServer)
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack), Markers: []Marker{MarkOutOfOrderFIN}},
		Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func finWithData(o Options) Scenario {
	b := newScen("fin-with-data", "The client's FIN rides on its last data segment (300 bytes); the server's ACK is seq+300+1: confirmed CLOSE_WAIT since that segment.", o)
	k := b.established()
	fin := k.DataFIN(FromClient, 300)
	ack := k.ACK(FromServer)
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func finWithDataAckDataOnly(o Options) Scenario {
	b := newScen("fin-with-data-ack-data-only", "The client's FIN rides on 300 bytes of data, but the server's ACK covers the data only (seq+300, not seq+301): the FIN is not acknowledged, so the CLOSE_WAIT is unconfirmed.", o)
	k := b.established()
	fin := k.DataFIN(FromClient, 300)
	s := k.Next(FromServer)
	s.Ack--
	k.Send(s)
	k.Wait(30 * time.Second)
	b.expect(k, Endpoint{State: FinWait1, Since: b.at(fin)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Unconfirmed})
	return b.s
}

func keepAliveCloseWait(o Options) Scenario {
	b := newScen("keep-alive-close-wait", "Confirmed CLOSE_WAIT, then the server sends TCP keep-alives every 75s (seq = next-1, with 0 then 1 garbage byte) that the client acknowledges: they are neither data nor FINs, the server stays in CLOSE_WAIT since the FIN; keep-alive marker on the server.", o)
	k := b.established()
	fin := k.FIN(FromClient)
	ack := k.ACK(FromServer)
	for i := range 3 {
		k.Wait(75 * time.Second)
		k.KeepAlive(FromServer, i%2)
		k.ACK(FromClient)
	}
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed, Markers: []Marker{MarkKeepAlive}})
	return b.s
}

func zeroWindow(o Options) Scenario {
	b := newScen("zero-window", "The client uploads until the server advertises a zero window; 2s later the server opens its window again, then the client closes and the server acknowledges the FIN: confirmed CLOSE_WAIT, zero-window marker on the server.", o)
	k := b.established()
	k.Data(FromClient, 1400)
	k.Data(FromClient, 1400)
	k.Window(FromServer, 0)
	k.Wait(2 * time.Second)
	k.Window(FromServer, 65160)
	fin := k.FIN(FromClient)
	ack := k.ACK(FromServer)
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed, Markers: []Marker{MarkZeroWindow}})
	return b.s
}

func dataAfterFIN(o Options) Scenario {
	b := newScen("data-after-fin", "After the client's FIN (acknowledged), the server still sends 500 bytes, which the client acknowledges: legal in CLOSE_WAIT, so still confirmed, with a data-after-fin marker on the server.", o)
	k := b.established()
	fin := k.FIN(FromClient)
	ack := k.ACK(FromServer)
	k.Wait(time.Second)
	k.Data(FromServer, 500)
	k.ACK(FromClient)
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed, Markers: []Marker{MarkDataAfterFIN}})
	return b.s
}

func portReuseAfterClose(o Options) Scenario {
	b := newScen("port-reuse-after-close", "A connection closes normally (client first), then 2s later a new SYN on the same 4-tuple opens a second connection that ends in confirmed CLOSE_WAIT: two connections, the first closed (client TIME_WAIT, server CLOSED).", o)
	k := b.established()
	k.FIN(FromClient)
	k.ACK(FromServer)
	sfin := k.FIN(FromServer)
	last := k.ACK(FromClient)
	b.expect(k, Endpoint{State: TimeWait, Since: b.at(sfin)}, Endpoint{State: Closed, Since: b.at(last)})
	k.Wait(2 * time.Second)
	k2 := b.established()
	fin := k2.FIN(FromClient)
	ack := k2.ACK(FromServer)
	b.expect(k2, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func portReuseAfterRST(o Options) Scenario {
	b := newScen("port-reuse-after-rst", "A connection is reset by the client, then a new SYN on the same 4-tuple opens a second connection that ends in confirmed CLOSE_WAIT: two connections, the first CLOSED on both ends.", o)
	k := b.established()
	rst := k.RST(FromClient)
	b.expect(k, Endpoint{State: Closed, Since: b.at(rst), Markers: []Marker{MarkRST}}, Endpoint{State: Closed, Since: b.at(rst)})
	k.Wait(time.Second)
	k2 := b.established()
	fin := k2.FIN(FromClient)
	ack := k2.ACK(FromServer)
	b.expect(k2, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func midConnection(o Options) Scenario {
	b := newScen("mid-connection", "The capture starts in the middle of a connection (no handshake): data both ways, then the client's FIN and the server's ACK of it. Confirmed CLOSE_WAIT (which end is local comes from --local, here the server).", o)
	k := b.conn()
	k.Data(FromServer, 1000)
	k.ACK(FromClient)
	k.Data(FromClient, 200)
	k.ACK(FromServer)
	k.Wait(time.Second)
	fin := k.FIN(FromClient)
	ack := k.ACK(FromServer)
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func snaplenCut(o Options) Scenario {
	b := newScen("snaplen-cut", "close-wait-confirmed with a snaplen that cuts every frame 6 bytes into the TCP options (all segments carry timestamps): ports, flags, seq and ack are whole, payload lengths come from the IP header. Confirmed CLOSE_WAIT.", o)
	ifc := o.Interface
	ifc.SnapLen = uint32(TCPOffset(ifc.Framing, b.o.IPv6) + 20 + 6)
	b.capture(ifc)
	k := b.established()
	k.Data(FromClient, 1400)
	k.ACK(FromServer)
	fin := k.FIN(FromClient)
	ack := k.ACK(FromServer)
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func seqWrapFIN(o Options) Scenario {
	b := newScen("seq-wrap-fin", "Both ISNs sit just below 2^32: the server's response wraps its sequence numbers, and the client's FIN has seq 0xffffffff, so the server's ACK of it is 0 (an ACK of the data alone, 0xffffffff, comes first and must not count). Confirmed CLOSE_WAIT.", o)
	k := b.conn()
	k.ISN(FromClient, 0xffffffff-1-120-100) // SYN, request, data, then FIN at 0xffffffff
	k.ISN(FromServer, 0xfffffff0)
	k.Handshake()
	k.Data(FromClient, 120)
	k.ACK(FromServer)
	k.Data(FromServer, 1000) // 0xfffffff1 .. 0x000003d8
	k.ACK(FromClient)
	k.Data(FromClient, 100)
	k.ACK(FromServer) // ack 0xffffffff
	fin := k.FIN(FromClient)
	ack := k.ACK(FromServer) // ack 0
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func seqWrapData(o Options) Scenario {
	b := newScen("seq-wrap-data", "The client's last data segment crosses 2^32 and its FIN sits just after the wrap (seq 0x000002c5); the server acknowledges it: confirmed CLOSE_WAIT.", o)
	k := b.conn()
	k.ISN(FromClient, 0xfffffe00)
	k.Handshake()
	k.Data(FromClient, 1220) // 0xfffffe01 .. 0x000002c4
	k.ACK(FromServer)
	k.Data(FromServer, 100)
	k.ACK(FromClient)
	fin := k.FIN(FromClient)
	ack := k.ACK(FromServer)
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func rstAfterFIN(o Options) Scenario {
	b := newScen("rst-after-fin", "The client's FIN is acknowledged (CLOSE_WAIT for a while), then the server resets the connection: not CLOSE_WAIT, both ends CLOSED; rst marker on the server.", o)
	k := b.established()
	k.FIN(FromClient)
	k.ACK(FromServer)
	k.Wait(5 * time.Second)
	rst := k.RST(FromServer)
	b.expect(k, Endpoint{State: Closed, Since: b.at(rst)}, Endpoint{State: Closed, Since: b.at(rst), Markers: []Marker{MarkRST}})
	return b.s
}

func closeBoth(o Options) Scenario {
	b := newScen("close-both", "A normal close: the client's FIN, the server's ACK, the server's FIN, the client's ACK. The client ends in TIME_WAIT (since the server's FIN), the server CLOSED (since the last ACK). No CLOSE_WAIT.", o)
	k := b.established()
	k.FIN(FromClient)
	k.ACK(FromServer)
	k.Wait(5 * time.Millisecond)
	sfin := k.FIN(FromServer)
	last := k.ACK(FromClient)
	b.expect(k, Endpoint{State: TimeWait, Since: b.at(sfin)}, Endpoint{State: Closed, Since: b.at(last)})
	return b.s
}

func closeSimultaneous(o Options) Scenario {
	b := newScen("close-simultaneous", "Both ends send a FIN before receiving the other's: the server's FIN acknowledges the client's data but not its FIN. The capture ends before either ACK of a FIN, so both ends are CLOSING. Not CLOSE_WAIT, though the client's FIN comes first in the capture.", o)
	k := b.established()
	k.FIN(FromClient)
	s := k.Next(FromServer)
	s.Flags |= FIN
	s.Ack-- // has not received the client's FIN
	sfin := k.Send(s)
	// The client entered CLOSING when the server's FIN reached it; when the
	// client's FIN reached the server the capture cannot tell.
	b.expect(k, Endpoint{State: Closing, Since: b.at(sfin)}, Endpoint{State: Closing})
	return b.s
}

func localClosesFirst(o Options) Scenario {
	b := newScen("local-closes-first", "The server (local) closes first and the client acknowledges its FIN but never closes: the server is in FIN_WAIT2, the client (remote) in confirmed CLOSE_WAIT, which is the remote's leak.", o)
	k := b.established()
	fin := k.FIN(FromServer)
	ack := k.ACK(FromClient)
	k.Wait(60 * time.Second)
	b.expect(k, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed}, Endpoint{State: FinWait2, Since: b.at(ack)})
	return b.s
}

// rotated builds the two-file capture of rotated-ack.
func rotated(b *scen) (k *Conn, fin, ack int) {
	k = b.established()
	fin = k.FIN(FromClient)
	b.c.Rotate()
	k.Wait(time.Second)
	ack = k.ACK(FromServer)
	k.Wait(30 * time.Second)
	return k, fin, ack
}

func rotatedACK(o Options) Scenario {
	b := newScen("rotated-ack", "The client's FIN is the last packet of the first file; the server's ACK of it is in the second file (tcpdump -C/-G rotation). Read together: confirmed CLOSE_WAIT since the FIN. The first file alone is rotated-ack-first-file.", o)
	k, fin, ack := rotated(b)
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

func rotatedACKFirstFile(o Options) Scenario {
	b := newScen("rotated-ack-first-file", "The first file of rotated-ack alone: it ends with the client's FIN, not yet acknowledged, so the CLOSE_WAIT is unconfirmed.", o)
	k, fin, _ := rotated(b)
	b.s.Capture, b.file = b.c.File(0), 0
	b.expect(k, Endpoint{State: FinWait1, Since: b.at(fin)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Unconfirmed})
	return b.s
}

func splitByDirection(o Options) Scenario {
	b := newScen("split-by-direction", "Two files written at the same time, one per direction (as by two capture processes): the client's segments in the first, the server's in the second, overlapping in time. Merged in timestamp order they give close-wait-confirmed: confirmed CLOSE_WAIT since the FIN. Either file alone is a one-way capture.", o)
	k := b.established()
	fin := k.FIN(FromClient)
	ack := k.ACK(FromServer)
	k.Wait(30 * time.Second)
	for _, n := range k.Packets() {
		if b.c.pkts[n-1].Src == k.Server() {
			b.c.SetFile(n, 1)
		}
	}
	b.expect(k, Endpoint{State: FinWait2, Since: b.at(ack)}, Endpoint{State: CloseWait, Since: b.at(fin), CloseWait: Confirmed})
	return b.s
}

// TCPOffset returns where the TCP header starts in a frame of framing f
// (without Pad) for IPv4 or IPv6 endpoints.
func TCPOffset(f Framing, v6 bool) int {
	a, z := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if v6 {
		a, z = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	}
	f.Pad = false
	h := hdr{src: netip.AddrPortFrom(a, 1), dst: netip.AddrPortFrom(z, 2)}
	return len(appendFrame(nil, &f, &h)) - 20
}

// Variant is one way to frame every scenario.
type Variant struct {
	Name    string
	Options Options
}

// Variants returns one Options per framing, so engine tests can run every
// scenario under each: plain, padded, 802.1Q and QinQ Ethernet, MPLS,
// PPPoE, SLL, SLL2, raw IP, BSD loopback, GTP-U (IPv4 and IPv6 inside),
// Teredo and an IPv6 extension header; IPv4 and IPv6 alternate.
func Variants() []Variant {
	v := func(name string, f Framing, v6 bool) Variant {
		return Variant{name, Options{Interface: Interface{Framing: f}, IPv6: v6}}
	}
	return []Variant{
		v("ethernet", Framing{}, false),
		v("ethernet-pad", Framing{Pad: true}, false),
		v("dot1q", Framing{VLANs: []uint16{42}}, true),
		v("qinq", Framing{VLANs: []uint16{100, 42}}, false),
		v("mpls", Framing{MPLS: []uint32{16, 17}}, false),
		v("pppoe", Framing{PPPoE: 0x1234}, true),
		v("sll", Framing{Link: SLL}, false),
		v("sll2", Framing{Link: SLL2}, true),
		v("raw", Framing{Link: RawIP}, false),
		v("null", Framing{Link: Null}, true),
		v("gtpu", Framing{Tunnel: GTPU}, false),
		v("gtpu-ipv6", Framing{Tunnel: GTPU}, true),
		v("teredo", Framing{Tunnel: Teredo}, true),
		v("ipv6-destopts", Framing{IPv6DestOpts: true}, true),
	}
}
