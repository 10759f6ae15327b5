package pcapstate

import (
	"net/netip"
	"testing"
	"time"
	"unsafe"
)

var (
	cli = netip.MustParseAddrPort("10.0.0.1:40000")
	srv = netip.MustParseAddrPort("10.0.0.2:80")
)

// sp is one segment of a scripted conversation: who sends (c or s), flags,
// seq, ack, payload length.
type sp struct {
	from  byte
	flags Flags
	seq   uint32
	ack   uint32
	n     uint32
	win   uint16
}

// replay runs the segments through a tracker, 1 ms apart, and exports the
// connections (finished ones included) as Read would.
func replay(t *testing.T, segs []sp, local ...netip.Prefix) []Conn {
	t.Helper()
	var out []Conn
	ex := exporter{names: []string{"test.pcap"}, local: local}
	tr := newTracker(func(c *conn) { out = append(out, ex.export(c, c.last)) })
	defer tr.release()
	ex.tr = tr
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
	var ts int64
	for i, p := range segs {
		seg := Segment{Seq: p.seq, Ack: p.ack, Flags: p.flags, Payload: p.n, Window: 65535}
		if p.win != 0 {
			seg.Window = p.win - 1 // win is window+1 so that 0 means "default"
		}
		src, dst := cli, srv
		if p.from == 's' {
			src, dst = srv, cli
		}
		seg.Src, seg.SrcPort, seg.Dst, seg.DstPort = src.Addr(), src.Port(), dst.Addr(), dst.Port()
		ts = base + int64(i)*int64(time.Millisecond)
		tr.add(&seg, ts, ref{file: 1, n: uint32(i + 1)})
	}
	tr.eachOpen(func(c *conn) { out = append(out, ex.export(c, ts)) })
	return out
}

// handshake opens a connection with client ISN 1000 and server ISN 5000.
var handshake = []sp{
	{'c', SYN, 1000, 0, 0, 0},
	{'s', SYN | ACK, 5000, 1001, 0, 0},
	{'c', ACK, 1001, 5001, 0, 0},
}

func script(tail ...sp) []sp { return append(append([]sp{}, handshake...), tail...) }

func TestEngineSituations(t *testing.T) {
	srvNet := netip.PrefixFrom(srv.Addr(), 32)
	tests := []struct {
		name        string
		segs        []sp
		local       []netip.Prefix
		wantConns   int
		localAddr   netip.AddrPort
		localState  State
		remoteState State
		verdict     Verdict
		localMarks  Markers
		remoteMarks Markers
	}{
		{
			name: "confirmed CLOSE_WAIT",
			segs: script(
				sp{'c', ACK | PSH, 1001, 5001, 100, 0},
				sp{'s', ACK, 5001, 1101, 0, 0},
				sp{'c', FIN | ACK, 1101, 5001, 0, 0},
				sp{'s', ACK, 5001, 1102, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait2, verdict: CloseWaitConfirmed,
		},
		{
			name:      "unacknowledged FIN",
			segs:      script(sp{'c', FIN | ACK, 1001, 5001, 0, 0}),
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait1, verdict: CloseWaitUnconfirmed,
		},
		{
			name: "ACK that covers data but not the FIN",
			segs: script(
				sp{'c', FIN | ACK | PSH, 1001, 5001, 100, 0},
				sp{'s', ACK, 5001, 1101, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait1, verdict: CloseWaitUnconfirmed,
		},
		{
			name: "FIN on a data segment",
			segs: script(
				sp{'c', FIN | ACK | PSH, 1001, 5001, 100, 0},
				sp{'s', ACK, 5001, 1102, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait2, verdict: CloseWaitConfirmed,
		},
		{
			name: "one-way capture",
			segs: []sp{
				{'c', SYN, 1000, 0, 0, 0},
				{'c', ACK, 1001, 5001, 0, 0},
				{'c', ACK | PSH, 1001, 5001, 10, 0},
				{'c', FIN | ACK, 1011, 5001, 0, 0},
			},
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait1, verdict: CloseWaitUnconfirmed,
		},
		{
			name: "retransmitted FIN",
			segs: script(
				sp{'c', FIN | ACK, 1001, 5001, 0, 0},
				sp{'c', FIN | ACK, 1001, 5001, 0, 0},
				sp{'s', ACK, 5001, 1002, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait2, verdict: CloseWaitConfirmed,
			remoteMarks: MarkRetransmittedFIN,
		},
		{
			name: "out-of-order FIN",
			segs: script(
				sp{'c', FIN | ACK, 1101, 5001, 0, 0},
				sp{'s', ACK, 5001, 1001, 0, 0}, // duplicate ACK: the data is missing
				sp{'c', ACK | PSH, 1001, 5001, 100, 0},
				sp{'s', ACK, 5001, 1102, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait2, verdict: CloseWaitConfirmed,
			remoteMarks: MarkOutOfOrderFIN,
		},
		{
			name: "out-of-order FIN whose hole is never seen filled",
			segs: script(
				sp{'c', FIN | ACK, 1101, 5001, 0, 0},
				sp{'s', ACK, 5001, 1001, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait1, verdict: CloseWaitUnconfirmed,
			remoteMarks: MarkOutOfOrderFIN,
		},
		{
			name: "keep-alives and a zero window in CLOSE_WAIT",
			segs: script(
				sp{'c', FIN | ACK, 1001, 5001, 0, 0},
				sp{'s', ACK, 5001, 1002, 0, 1},
				sp{'s', ACK, 5000, 1002, 0, 0},
				sp{'c', ACK, 1002, 5001, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait2, verdict: CloseWaitConfirmed,
			localMarks: MarkKeepAlive | MarkZeroWindow,
		},
		{
			name: "data after the peer's FIN (half-close)",
			segs: script(
				sp{'c', FIN | ACK, 1001, 5001, 0, 0},
				sp{'s', ACK, 5001, 1002, 0, 0},
				sp{'s', ACK | PSH, 5001, 1002, 500, 0},
				sp{'c', ACK, 1002, 5501, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait2, verdict: CloseWaitConfirmed,
			localMarks: MarkDataAfterPeerFIN,
		},
		{
			name: "RST after FIN",
			segs: script(
				sp{'c', FIN | ACK, 1001, 5001, 0, 0},
				sp{'s', ACK, 5001, 1002, 0, 0},
				sp{'s', RST, 5001, 0, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: Closed, remoteState: Closed, verdict: NotCloseWait,
			localMarks: MarkRST,
		},
		{
			name: "normal close, peer first",
			segs: script(
				sp{'c', FIN | ACK, 1001, 5001, 0, 0},
				sp{'s', ACK, 5001, 1002, 0, 0},
				sp{'s', FIN | ACK, 5001, 1002, 0, 0},
				sp{'c', ACK, 1002, 5002, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: Closed, remoteState: TimeWait,
		},
		{
			name: "FIN-ACK that acknowledges our FIN goes straight to TIME_WAIT",
			segs: script(
				sp{'s', FIN | ACK, 5001, 1001, 0, 0},
				sp{'c', FIN | ACK, 1001, 5002, 0, 0},
				sp{'s', ACK, 5002, 1002, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: TimeWait, remoteState: Closed,
		},
		{
			name: "simultaneous close",
			segs: script(
				sp{'c', FIN | ACK, 1001, 5001, 0, 0},
				sp{'s', FIN | ACK, 5001, 1001, 0, 0},
				sp{'s', ACK, 5002, 1002, 0, 0},
				sp{'c', ACK, 1002, 5002, 0, 0},
			),
			wantConns: 1, localAddr: srv, localState: TimeWait, remoteState: TimeWait,
		},
		{
			name: "local closes first, the peer never does (remote leak)",
			segs: script(
				sp{'s', FIN | ACK, 5001, 1001, 0, 0},
				sp{'c', ACK, 1001, 5002, 0, 0},
			),
			local:     []netip.Prefix{srvNet},
			wantConns: 1, localAddr: srv, localState: FinWait2, remoteState: CloseWait,
		},
		{
			name: "without --local the CLOSE_WAIT endpoint is the local one",
			segs: script(
				sp{'s', FIN | ACK, 5001, 1001, 0, 0},
				sp{'c', ACK, 1001, 5002, 0, 0},
			),
			wantConns: 1, localAddr: cli, localState: CloseWait, remoteState: FinWait2, verdict: CloseWaitConfirmed,
		},
		{
			name: "capture begins mid-connection",
			segs: []sp{
				{'c', ACK | PSH, 7000, 9000, 50, 0},
				{'s', ACK, 9000, 7050, 0, 0},
				{'c', FIN | ACK, 7050, 9000, 0, 0},
				{'s', ACK, 9000, 7051, 0, 0},
			},
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait2, verdict: CloseWaitConfirmed,
		},
		{
			name: "sequence numbers wrap around across the FIN",
			segs: []sp{
				{'c', SYN, 0xffffff00, 0, 0, 0},
				{'s', SYN | ACK, 5000, 0xffffff01, 0, 0},
				{'c', ACK, 0xffffff01, 5001, 0, 0},
				{'c', ACK | PSH, 0xffffff01, 5001, 0x200, 0},
				{'c', FIN | ACK, 0x101, 5001, 0, 0},
				{'s', ACK, 5001, 0x102, 0, 0},
			},
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait2, verdict: CloseWaitConfirmed,
		},
		{
			name: "an ACK below the FIN across the wrap is not an acknowledgement",
			segs: []sp{
				{'c', SYN, 0xffffff00, 0, 0, 0},
				{'s', SYN | ACK, 5000, 0xffffff01, 0, 0},
				{'c', ACK | FIN, 0xffffff01, 5001, 0, 0},
				{'s', ACK, 5001, 0xffffff01, 0, 0},
			},
			wantConns: 1, localAddr: srv, localState: CloseWait, remoteState: FinWait1, verdict: CloseWaitUnconfirmed,
		},
		{
			name: "port reuse after a close starts a new connection",
			segs: script(
				sp{'c', FIN | ACK, 1001, 5001, 0, 0},
				sp{'s', ACK, 5001, 1002, 0, 0},
				sp{'s', FIN | ACK, 5001, 1002, 0, 0},
				sp{'c', ACK, 1002, 5002, 0, 0},
				sp{'c', SYN, 90000, 0, 0, 0},
				sp{'s', SYN | ACK, 70000, 90001, 0, 0},
				sp{'c', ACK, 90001, 70001, 0, 0},
				sp{'c', FIN | ACK, 90001, 70001, 0, 0},
				sp{'s', ACK, 70001, 90002, 0, 0},
			),
			wantConns: 2, localAddr: srv, localState: CloseWait, remoteState: FinWait2, verdict: CloseWaitConfirmed,
		},
		{
			name: "port reuse after a RST starts a new connection",
			segs: script(
				sp{'s', RST | ACK, 5001, 1001, 0, 0},
				sp{'c', SYN, 90000, 0, 0, 0},
				sp{'s', SYN | ACK, 70000, 90001, 0, 0},
				sp{'c', ACK, 90001, 70001, 0, 0},
			),
			wantConns: 2, localAddr: srv, localState: Established, remoteState: Established,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conns := replay(t, tt.segs, tt.local...)
			if len(conns) != tt.wantConns {
				t.Fatalf("got %d connections, want %d: %+v", len(conns), tt.wantConns, conns)
			}
			c := conns[len(conns)-1] // the latest incarnation
			if c.Local.Addr != tt.localAddr {
				t.Errorf("local = %v, want %v", c.Local.Addr, tt.localAddr)
			}
			if c.Local.State != tt.localState || c.Remote.State != tt.remoteState {
				t.Errorf("states local %v remote %v, want %v %v", c.Local.State, c.Remote.State, tt.localState, tt.remoteState)
			}
			if c.Verdict != tt.verdict {
				t.Errorf("verdict = %v (%s), want %v", c.Verdict, c.Why, tt.verdict)
			}
			if c.Local.Markers != tt.localMarks || c.Remote.Markers != tt.remoteMarks {
				t.Errorf("markers local %q remote %q, want %q %q", c.Local.Markers, c.Remote.Markers, tt.localMarks, tt.remoteMarks)
			}
			if tt.wantConns > 1 && !c.Reused {
				t.Errorf("second incarnation not marked reused")
			}
		})
	}
}

// TestStateTable drives single endpoints through the table: events in,
// states out.
func TestStateTable(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
		want   State
		anom   int
	}{
		{"active open", []Event{SendSYN, RecvSYNACK}, Established, 0},
		{"passive open", []Event{RecvSYN, SendSYNACK, RecvAckOfSYN}, Established, 0},
		{"capture begins at the SYN-ACK", []Event{RecvSYNACK, RecvFIN}, CloseWait, 0},
		{"passive close", []Event{SendSYN, RecvSYNACK, RecvFIN}, CloseWait, 0},
		{"passive close completes", []Event{SendSYN, RecvSYNACK, RecvFIN, SendFIN, RecvAckOfFIN}, Closed, 0},
		{"active close", []Event{SendSYN, RecvSYNACK, SendFIN, RecvAckOfFIN, RecvFIN}, TimeWait, 0},
		{"simultaneous close", []Event{SendSYN, RecvSYNACK, SendFIN, RecvFIN, RecvAckOfFIN}, TimeWait, 0},
		{"keep-alives in CLOSE_WAIT", []Event{RecvFIN, SendSegment, RecvSegment}, CloseWait, 0},
		{"mid-stream FIN", []Event{RecvFIN}, CloseWait, 0},
		{"mid-stream own FIN", []Event{SendFIN, RecvAckOfFIN}, FinWait2, 0},
		{"RST from anywhere", []Event{SendSYN, RecvSYNACK, RecvFIN, RecvRST}, Closed, 0},
		{"FIN before SYN is answered is an anomaly", []Event{SendSYN, RecvFIN}, SynSent, 1},
		{"FINs that crossed: never in CLOSE_WAIT", []Event{SendSYN, RecvSYNACK, RecvFIN, SendFINCrossed, RecvAckOfFIN}, TimeWait, 0},
		{"ACK of a FIN never sent is an anomaly", []Event{SendSYN, RecvSYNACK, RecvAckOfFIN}, Established, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, c := newTracker(nil), &conn{}
			for i, ev := range tt.events {
				tr.apply(c, 0, ev, int64(i+1), ref{})
			}
			if got := c.ep[0].state; got != tt.want || int(c.nAnom) != tt.anom {
				t.Errorf("state %v with %d anomalies, want %v with %d", got, c.nAnom, tt.want, tt.anom)
			}
		})
	}
}

// TestNormalCloseNoAnomaly: the last ACK of a normal close is both the ACK
// of the FIN and a segment received by the LAST_ACK endpoint; neither is an
// anomaly.
func TestNormalCloseNoAnomaly(t *testing.T) {
	conns := replay(t, script(
		sp{'c', FIN | ACK, 1001, 5001, 0, 0},
		sp{'s', ACK, 5001, 1002, 0, 0},
		sp{'s', FIN | ACK, 5001, 1002, 0, 0},
		sp{'c', ACK, 1002, 5002, 0, 0},
	))
	if len(conns) != 1 || conns[0].AnomalyCount != 0 {
		t.Errorf("anomalies %d: %+v", conns[0].AnomalyCount, conns[0].Anomalies)
	}
}

// TestConnLayout checks the layout the prefetches rely on: a conn is
// connBytes, its hot fields are in its first hotBytes, and chunks of conns
// start on a cache line.
func TestConnLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is laid out for 64-bit platforms")
	}
	if got := unsafe.Sizeof(conn{}); got != connBytes {
		t.Errorf("a conn is %d bytes, want %d", got, connBytes)
	}
	if got := unsafe.Sizeof(item{}); got != 88 {
		t.Errorf("an item is %d bytes, want 88 (every byte crosses between cores)", got)
	}
	if got := unsafe.Offsetof(conn{}.cold); got != hotBytes {
		t.Errorf("the cold fields start at byte %d, want %d", got, hotBytes)
	}
	tr := newTracker(nil)
	for range firstChunk + 2*chunkSize {
		tr.newConn(&item{Flags: SYN}, 0)
	}
	defer tr.release()
	for i, ch := range tr.chunks {
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(ch.conns))); p%cacheLine != 0 {
			t.Errorf("chunk %d starts at %#x, not on a cache line", i, p)
		}
	}
}
