package pcapstate

import (
	"fmt"
	"net/netip"
	"time"
)

// Pos is where a packet is: the capture file as the user named it and the
// packet's 1-based number in that file (as Wireshark numbers them).
type Pos struct {
	File   string `json:"file"`
	Packet uint64 `json:"packet"`
}

func (p Pos) String() string {
	if p.File == "" {
		return ""
	}
	return fmt.Sprintf("%s: packet %d", p.File, p.Packet)
}

// IsZero reports whether p names no packet.
func (p Pos) IsZero() bool { return p.File == "" }

// MarshalText writes a Pos the way messages cite it, "file: packet N".
func (p Pos) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Warning is a problem with a capture that did not stop the analysis: a
// truncated or corrupt file (everything before the damage was used).
type Warning struct {
	Pos    Pos    `json:"pos"`
	Offset int64  `json:"offset"` // byte offset in the file (of the decompressed data for gzip files)
	Msg    string `json:"msg"`
}

func (w Warning) String() string {
	return fmt.Sprintf("%s (byte offset %d): %s", w.Pos, w.Offset, w.Msg)
}

// Markers are notable things one endpoint did during a connection.
type Markers uint16

// Markers, set on the endpoint that sent the segment.
const (
	MarkRST              Markers = 1 << iota // rst
	MarkRetransmittedFIN                     // retransmitted-fin
	MarkOutOfOrderFIN                        // out-of-order-fin
	MarkKeepAlive                            // keep-alive
	MarkZeroWindow                           // zero-window
	MarkDataAfterPeerFIN                     // data-after-peer-fin
	MarkHeaderCut                            // header-cut
	markersEnd
)

var markerNames = [...]string{"rst", "retransmitted-fin", "out-of-order-fin", "keep-alive", "zero-window", "data-after-peer-fin", "header-cut"}

// String lists the markers, comma-separated, or "" when none.
func (m Markers) String() string { return string(m.AppendTo(nil)) }

// AppendTo appends m as String writes it to b: tables of tens of
// thousands of rows format their markers in place.
func (m Markers) AppendTo(b []byte) []byte {
	start := len(b)
	for i, name := range markerNames {
		if m&(1<<i) != 0 {
			if len(b) > start {
				b = append(b, ',')
			}
			b = append(b, name...)
		}
	}
	return b
}

// MarshalText makes Markers appear as their comma-separated names in JSON.
func (m Markers) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// Side is one endpoint of a connection: its state at the end of the capture
// and what it sent.
type Side struct {
	Addr    netip.AddrPort `json:"addr"`
	State   State          `json:"state"`
	Since   time.Time      `json:"since"` // capture time when State was entered
	Packets uint64         `json:"packets"`
	Bytes   uint64         `json:"bytes"` // TCP payload bytes sent, from the IP lengths
	Markers Markers        `json:"markers"`
	// The packets behind the verdict: this endpoint's SYN (or SYN-ACK), its
	// first FIN, the peer's packet that acknowledged that FIN, its first RST.
	SYN    Pos `json:"syn"`
	FIN    Pos `json:"fin"`
	FINAck Pos `json:"fin_ack"`
	RST    Pos `json:"rst"`
	// CloseWaitAt is when this endpoint entered CLOSE_WAIT (zero if never);
	// CloseWaitEnd is when it left (zero if still there at capture end).
	CloseWaitAt  time.Time `json:"close_wait_at"`
	CloseWaitEnd time.Time `json:"close_wait_end"`
	// LastRequest is the method of the last HTTP/1.x request this endpoint
	// began sending before the peer's FIN, and LastStatus the status code
	// of the last response it began (0 if none): the exchange the peer's
	// FIN cut off, recognised from a request or status line at the start
	// of a segment's payload.
	LastRequest Method `json:"last_request"`
	LastStatus  uint16 `json:"last_status"`
	// Upgrade says that this endpoint's answer, LastStatus, took the
	// connection out of HTTP/1.x: a 101 (Switching Protocols), or a 2xx
	// answer to the peer's CONNECT (LastRequest of the other Side), which
	// opened a tunnel. What followed was another protocol (a WebSocket,
	// HTTP/2, the TLS a proxy relays), so the last HTTP messages are not
	// the last exchange, and no later bytes were read as HTTP.
	Upgrade Upgrade `json:"upgrade"`
}

// Verdict is what the capture proves about the local endpoint's CLOSE_WAIT.
type Verdict uint8

// Verdicts.
const (
	NotCloseWait         Verdict = iota // -
	CloseWaitConfirmed                  // confirmed
	CloseWaitUnconfirmed                // unconfirmed
)

//go:generate stringer -type=Verdict,LocalRule -linecomment

// MarshalText makes a Verdict appear by name in JSON.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// LocalRule says how the local endpoint of a connection was chosen.
type LocalRule uint8

// Rules, in the order they are tried.
const (
	LocalByFlag      LocalRule = iota // flag (the only endpoint inside --local)
	LocalByCloseWait                  // close-wait (the endpoint in CLOSE_WAIT)
	LocalByServer                     // server (the endpoint that accepted the connection)
)

// MarshalText makes a LocalRule appear by name in JSON.
func (r LocalRule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Sender says which endpoint of a connection sent something.
type Sender uint8

// Senders. The zero value means neither.
const (
	SenderNone   Sender = iota // none
	SenderLocal                // local
	SenderRemote               // remote
)

//go:generate stringer -type=Sender -linecomment

// MarshalText writes a Sender by name, and no sender as "".
func (s Sender) MarshalText() ([]byte, error) {
	if s == SenderNone {
		return []byte{}, nil
	}
	return []byte(s.String()), nil
}

// Anomaly is a segment that did not fit the state machine: an event with no
// edge from the endpoint's state. Anomalies are data, never errors.
type Anomaly struct {
	Pos   Pos       `json:"pos"`
	At    time.Time `json:"at"`
	Local bool      `json:"local"` // whether it happened to the local endpoint
	State State     `json:"state"`
	Event Event     `json:"event"`
}

// MarshalText makes an Event appear by name in JSON.
func (e Event) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// Conn is one TCP connection: one incarnation of a 5-tuple, from its first
// packet (a SYN, or mid-stream) to its last.
type Conn struct {
	Local   Side      `json:"local"`
	Remote  Side      `json:"remote"`
	LocalBy LocalRule `json:"local_by"`
	// LocalOpened is true when the local endpoint opened the connection (sent
	// the SYN, or looks like the client when no handshake was seen).
	LocalOpened bool      `json:"local_opened"`
	VLAN        uint16    `json:"vlan"`
	Tunnel      Tunnel    `json:"tunnel"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	FirstPacket Pos       `json:"first_packet"`
	LastPacket  Pos       `json:"last_packet"`
	// Handshake is true when the SYN of the opener was seen; false means the
	// capture began mid-connection.
	Handshake bool `json:"handshake"`
	// OneWay is true when only one endpoint's packets were seen.
	OneWay bool `json:"one_way"`
	// Reused is true when the 5-tuple carried an earlier connection in the
	// capture.
	Reused bool `json:"reused"`
	// LastDataFrom is the endpoint that sent the last new data before
	// either FIN (for an endpoint in CLOSE_WAIT, before its peer's FIN).
	LastDataFrom Sender `json:"last_data_from"`
	// Verdict and Why explain the local endpoint's CLOSE_WAIT, if any.
	Verdict      Verdict   `json:"verdict"`
	Why          string    `json:"why"`
	Anomalies    []Anomaly `json:"anomalies"`
	AnomalyCount int       `json:"anomaly_count"`
}

// MarshalText makes a Tunnel appear by name in JSON.
func (t Tunnel) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Idle returns how long the local endpoint has been in its state at end.
func (c *Conn) Idle(end time.Time) time.Duration { return end.Sub(c.Local.Since) }
