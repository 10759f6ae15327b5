package pcapstate

// State is the TCP state of one endpoint, with the names Linux and netstat
// use. The zero value means unknown: nothing seen yet tells the state.
type State uint8

//go:generate stringer -type=State,Event -linecomment

// TCP states.
const (
	Unknown     State = iota // UNKNOWN
	SynSent                  // SYN_SENT
	SynRecv                  // SYN_RECV
	Established              // ESTABLISHED
	FinWait1                 // FIN_WAIT1
	FinWait2                 // FIN_WAIT2
	Closing                  // CLOSING
	TimeWait                 // TIME_WAIT
	CloseWait                // CLOSE_WAIT
	LastAck                  // LAST_ACK
	Closed                   // CLOSED
)

// MarshalText makes a State appear by name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Event is what one segment means to one endpoint: something it sent, or
// something its peer sent to it. A segment gives each endpoint one or more
// events, applied in TCP's processing order: SYN, ACK, FIN, RST.
type Event uint8

// Events, seen from one endpoint.
const (
	EvNone       Event = iota // none
	SendSYN                   // send-syn
	SendSYNACK                // send-syn-ack
	SendFIN                   // send-fin
	SendRST                   // send-rst
	SendSegment               // send-segment (an ACK or data without SYN, FIN or RST)
	RecvSYN                   // recv-syn
	RecvSYNACK                // recv-syn-ack
	RecvFIN                   // recv-fin
	RecvRST                   // recv-rst
	RecvSegment               // recv-segment
	RecvAckOfSYN              // recv-ack-of-syn (the peer acknowledged our SYN)
	RecvAckOfFIN              // recv-ack-of-fin (the peer acknowledged our FIN)
	// SendFINCrossed is a FIN whose ACK field does not cover the peer's FIN,
	// sent after the peer's FIN was seen: the two FINs crossed in flight, so
	// the sender never was in CLOSE_WAIT (a simultaneous close).
	SendFINCrossed // send-fin-crossed
)

type edge struct {
	from State
	on   Event
}

// next lists every legal edge of the state machine of one endpoint, as a
// passive observer sees it. RST sent or received closes the endpoint from any
// state (applied in apply, not listed). An edge that is not listed leaves the
// state as it is and is recorded as an anomaly, never a panic. Edges from
// Unknown serve captures that begin mid-connection.
var next = map[edge]State{
	// Opening.
	{Unknown, SendSYN}:        SynSent,
	{Closed, SendSYN}:         SynSent,
	{SynSent, SendSYN}:        SynSent, // retransmitted SYN
	{Unknown, SendSYNACK}:     SynRecv,
	{Closed, SendSYNACK}:      SynRecv,
	{SynSent, SendSYNACK}:     SynRecv, // simultaneous open
	{SynRecv, SendSYNACK}:     SynRecv, // retransmitted SYN-ACK
	{Unknown, RecvSYN}:        Unknown, // a listener; its state shows when it answers
	{Closed, RecvSYN}:         Unknown,
	{SynSent, RecvSYN}:        SynSent, // simultaneous open: our SYN-ACK follows
	{SynRecv, RecvSYN}:        SynRecv, // retransmitted SYN
	{SynSent, RecvSYNACK}:     Established,
	{Unknown, RecvSYNACK}:     Established, // the capture began after its SYN
	{Established, RecvSYNACK}: Established, // retransmitted SYN-ACK
	{SynRecv, RecvAckOfSYN}:   Established,
	{SynRecv, RecvSYNACK}:     SynRecv, // simultaneous open, our ACK of it follows

	// Segments without SYN, FIN or RST: a connection seen mid-stream is
	// established; in every other state they change nothing.
	{Unknown, SendSegment}:     Established,
	{Unknown, RecvSegment}:     Established,
	{SynSent, SendSegment}:     Established, // its ACK shows it got a SYN-ACK the capture missed
	{SynRecv, SendSegment}:     SynRecv,
	{SynSent, RecvSegment}:     SynSent,
	{SynRecv, RecvSegment}:     SynRecv,
	{Established, SendSegment}: Established,
	{Established, RecvSegment}: Established,
	{FinWait1, SendSegment}:    FinWait1,
	{FinWait1, RecvSegment}:    FinWait1,
	{FinWait2, SendSegment}:    FinWait2,
	{FinWait2, RecvSegment}:    FinWait2,
	{Closing, SendSegment}:     Closing,
	{Closing, RecvSegment}:     Closing,
	{TimeWait, SendSegment}:    TimeWait,
	{TimeWait, RecvSegment}:    TimeWait,
	{CloseWait, SendSegment}:   CloseWait, // we may still send; the peer can't
	{CloseWait, RecvSegment}:   CloseWait, // keep-alives, window probes, ACKs
	{LastAck, SendSegment}:     LastAck,
	// The ACK that closes a LAST_ACK endpoint is a segment it receives too;
	// late segments to a closed endpoint change nothing.
	{Closed, RecvSegment}:  Closed,
	{LastAck, RecvSegment}: LastAck,

	// Closing.
	{Unknown, SendFIN}:          FinWait1, // capture began mid-connection
	{Established, SendFIN}:      FinWait1,
	{SynRecv, SendFIN}:          FinWait1,
	{FinWait1, SendFIN}:         FinWait1, // retransmitted FIN
	{Closing, SendFIN}:          Closing,
	{CloseWait, SendFIN}:        LastAck, // the application closed its socket
	{CloseWait, SendFINCrossed}: Closing,
	{SynSent, SendFIN}:          FinWait1, // the SYN-ACK was not captured
	{LastAck, SendFIN}:          LastAck,
	{TimeWait, SendFIN}:         TimeWait,
	{Unknown, RecvFIN}:          CloseWait, // capture began mid-connection
	{Established, RecvFIN}:      CloseWait,
	{SynRecv, RecvFIN}:          CloseWait,
	{CloseWait, RecvFIN}:        CloseWait, // retransmitted FIN
	{FinWait1, RecvFIN}:         Closing,   // simultaneous close
	{FinWait2, RecvFIN}:         TimeWait,
	{Closing, RecvFIN}:          Closing,
	{TimeWait, RecvFIN}:         TimeWait,
	{LastAck, RecvFIN}:          LastAck,
	{FinWait1, RecvAckOfFIN}:    FinWait2,
	{Closing, RecvAckOfFIN}:     TimeWait,
	{LastAck, RecvAckOfFIN}:     Closed,
	{FinWait2, RecvAckOfFIN}:    FinWait2, // duplicate ACK
	{TimeWait, RecvAckOfFIN}:    TimeWait,
	{Closed, RecvAckOfFIN}:      Closed,
}

const (
	numStates = int(Closed) + 1
	numEvents = int(SendFINCrossed) + 1
)

// stepTable is next as an array, for the per-packet path: entry 0 means no
// edge, otherwise the state plus one.
var stepTable = func() (t [numStates][numEvents]uint8) {
	for e, to := range next {
		t[e.from][e.on] = uint8(to) + 1
	}
	for s := range numStates {
		t[s][SendRST], t[s][RecvRST] = uint8(Closed)+1, uint8(Closed)+1
	}
	return t
}()

// step returns the state after ev, and false when no edge is listed. RST
// sent or received closes the endpoint from any state.
func step(s State, ev Event) (State, bool) {
	if int(s) >= numStates || int(ev) >= numEvents {
		return s, false
	}
	to := stepTable[s][ev]
	if to == 0 {
		return s, false
	}
	return State(to - 1), true
}
