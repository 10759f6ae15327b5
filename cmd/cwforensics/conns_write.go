package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/internal/ordered"
	"github.com/cwforensics/cwforensics/pcapstate"
)

// writeConnsJSON writes res, with conns as its connections, as the
// schema_version 1 JSON of conns, one connection at a time: the same bytes
// as encoding the whole document with two-space indentation, without
// holding it in memory. res.Conns is not read.
func writeConnsJSON(w io.Writer, res *pcapstate.Result, conns []*pcapstate.Conn) error {
	type doc struct {
		SchemaVersion int `json:"schema_version"`
		*pcapstate.Result
	}
	// Encode the document with a placeholder for the conns, then write
	// each connection in its place, indented as the array's elements.
	out := *res
	out.Conns = nil
	head, err := json.MarshalIndent(doc{connsSchemaVersion, &out}, "", "  ")
	if err != nil {
		return err
	}
	if len(conns) == 0 {
		_, err := w.Write(append(head, '\n')) // as an Encoder ends it
		return err
	}
	const hole = `"conns": null`
	before, after, ok := bytes.Cut(head, []byte(hole))
	if !ok {
		return fmt.Errorf("encode conns: no %s in the document", hole)
	}
	if _, err := w.Write(append(before, `"conns": [`...)); err != nil {
		return err
	}
	// The connections are encoded in chunks on up to 4 cores and written in
	// order (ordered.Encode); each chunk has its own encoder.
	encode := func(b []byte, from, to int) ([]byte, error) {
		buf := bytes.NewBuffer(b)
		enc := json.NewEncoder(buf)
		enc.SetIndent("    ", "  ")
		for i := from; i < to; i++ {
			if i == 0 {
				buf.WriteString("\n    ")
			} else {
				buf.WriteString(",\n    ")
			}
			if err := enc.Encode(conns[i]); err != nil {
				return buf.Bytes(), err
			}
			buf.Truncate(buf.Len() - 1) // Encode's newline
		}
		return buf.Bytes(), nil
	}
	write := func(b []byte) error {
		_, err := w.Write(b)
		return err
	}
	if err := ordered.Encode(len(conns), connsChunk, runtime.GOMAXPROCS(0), encode, write); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n  ]"); err != nil {
		return err
	}
	if _, err := w.Write(after); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// rfc3339Nano is RFC 3339 with exactly nine fractional digits, UTC.
const rfc3339Nano = "2006-01-02T15:04:05.000000000Z07:00"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(rfc3339Nano)
}

func idleOf(c *pcapstate.Conn, end time.Time) time.Duration {
	if c.Local.Since.IsZero() {
		return 0
	}
	return c.Idle(end)
}

// connsHeader is the stable TSV header of conns; columns are only ever
// added at the end.
var connsHeader = []string{
	"local_addr", "local_port", "remote_addr", "remote_port", "state", "since",
	"remote_state", "remote_since", "verdict", "idle_seconds",
	"local_packets", "remote_packets", "local_bytes", "remote_bytes",
	"first", "last", "vlan", "tunnel", "handshake", "local_opened", "local_by",
	"local_markers", "remote_markers", "first_packet", "remote_fin", "fin_ack", "why",
	"last_data_from", "local_last_request", "local_last_status", "remote_last_request", "remote_last_status",
}

// writeConnsTSV writes the TSV header and a row per connection.
func writeConnsTSV(w io.Writer, conns []*pcapstate.Conn, end time.Time) error {
	if err := writeTSVRow(w, connsHeader); err != nil {
		return err
	}
	encode := func(b []byte, from, to int) ([]byte, error) {
		for i := from; i < to; i++ {
			b = appendConnTSV(b, conns[i], end)
		}
		return b, nil
	}
	return ordered.Encode(len(conns), connsChunk, runtime.GOMAXPROCS(0), encode, func(b []byte) error {
		_, err := w.Write(b)
		return err
	})
}

// connsChunk is how many connections one goroutine encodes at a time:
// tens of thousands of rows are formatted on up to 4 cores (the reference
// capture's 50,000 rows of TSV took 0.16 s on one). The chunks' buffers are
// the only memory the writing takes, and it comes when the kept
// connections have brought the heap near the collector's target: chunks
// of 1,024 rows (700 KB) took conns' peak resident memory on the
// reference capture from 74.3 to 88-90 MiB, chunks of 256 to 77.6 MiB.
const connsChunk = 256

// appendConnTSV appends the TSV row of c, the columns of connsHeader, to
// b. Cells are formatted in place, so that tens of thousands of rows make
// no garbage; text from the input (file names) is escaped as escapeCell
// does.
func appendConnTSV(b []byte, c *pcapstate.Conn, end time.Time) []byte {
	b = c.Local.Addr.Addr().AppendTo(b)
	b = strconv.AppendUint(append(b, '\t'), uint64(c.Local.Addr.Port()), 10)
	b = c.Remote.Addr.Addr().AppendTo(append(b, '\t'))
	b = strconv.AppendUint(append(b, '\t'), uint64(c.Remote.Addr.Port()), 10)
	b = append(append(b, '\t'), c.Local.State.String()...)
	b = appendTime(append(b, '\t'), c.Local.Since)
	b = append(append(b, '\t'), c.Remote.State.String()...)
	b = appendTime(append(b, '\t'), c.Remote.Since)
	b = append(append(b, '\t'), verdictCell(c.Verdict)...)
	b = strconv.AppendFloat(append(b, '\t'), idleOf(c, end).Seconds(), 'f', -1, 64)
	b = strconv.AppendUint(append(b, '\t'), c.Local.Packets, 10)
	b = strconv.AppendUint(append(b, '\t'), c.Remote.Packets, 10)
	b = strconv.AppendUint(append(b, '\t'), c.Local.Bytes, 10)
	b = strconv.AppendUint(append(b, '\t'), c.Remote.Bytes, 10)
	b = appendTime(append(b, '\t'), c.First)
	b = appendTime(append(b, '\t'), c.Last)
	b = strconv.AppendUint(append(b, '\t'), uint64(c.VLAN), 10)
	b = append(append(b, '\t'), tunnelCell(c.Tunnel)...)
	b = strconv.AppendBool(append(b, '\t'), c.Handshake)
	b = strconv.AppendBool(append(b, '\t'), c.LocalOpened)
	b = append(append(b, '\t'), c.LocalBy.String()...)
	b = c.Local.Markers.AppendTo(append(b, '\t'))
	b = c.Remote.Markers.AppendTo(append(b, '\t'))
	b = appendPos(append(b, '\t'), c.FirstPacket)
	b = appendPos(append(b, '\t'), c.Remote.FIN)
	b = appendPos(append(b, '\t'), c.Remote.FINAck)
	b = appendEscaped(append(b, '\t'), c.Why)
	b = appendSender(append(b, '\t'), c.LastDataFrom)
	b = appendMethod(append(b, '\t'), c.Local.LastRequest)
	b = appendStatus(append(b, '\t'), c.Local.LastStatus)
	b = appendMethod(append(b, '\t'), c.Remote.LastRequest)
	b = appendStatus(append(b, '\t'), c.Remote.LastStatus)
	return append(b, '\n')
}

// appendSender appends local or remote, nothing for neither.
func appendSender(b []byte, s pcapstate.Sender) []byte {
	if s == pcapstate.SenderNone {
		return b
	}
	return append(b, s.String()...)
}

// appendMethod appends an HTTP method, nothing for none.
func appendMethod(b []byte, m pcapstate.Method) []byte {
	if m == pcapstate.MethodNone {
		return b
	}
	return append(b, m.String()...)
}

// appendStatus appends an HTTP status code, nothing for none.
func appendStatus(b []byte, code uint16) []byte {
	if code == 0 {
		return b
	}
	return strconv.AppendUint(b, uint64(code), 10)
}

// appendTime appends fmtTime(t).
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return t.UTC().AppendFormat(b, rfc3339Nano)
}

// appendPos appends p.String(), escaped.
func appendPos(b []byte, p pcapstate.Pos) []byte {
	if p.IsZero() {
		return b
	}
	b = appendEscaped(b, p.File)
	return strconv.AppendUint(append(b, ": packet "...), p.Packet, 10)
}

func verdictCell(v pcapstate.Verdict) string {
	if v == pcapstate.NotCloseWait {
		return ""
	}
	return v.String()
}

func tunnelCell(t pcapstate.Tunnel) string {
	if t == pcapstate.TunnelNone {
		return ""
	}
	return t.String()
}

// writeConnsText writes the table for people: fewer columns, durations
// rounded, aligned in columns as a tabwriter would, without holding the
// rows (writeAligned formats each twice).
func writeConnsText(w io.Writer, conns []*pcapstate.Conn, end time.Time) error {
	header := []string{"LOCAL", "REMOTE", "STATE", "SINCE", "IDLE", "PEER", "VERDICT", "PKTS", "BYTES", "MARKERS", "LAST"}
	return writeAlignedRows(w, len(conns)+1, runtime.GOMAXPROCS(0), func(i int, b []byte, ends []int) ([]byte, []int) {
		if i == 0 {
			for _, h := range header {
				b = append(b, h...)
				ends = append(ends, len(b))
			}
			return b, ends
		}
		return appendConnText(b, ends, conns[i-1], end)
	})
}

// appendConnText appends the cells of c's row of the table for people to
// b, and the end of each to ends: formatted in place, as appendConnTSV's.
func appendConnText(b []byte, ends []int, c *pcapstate.Conn, end time.Time) ([]byte, []int) {
	b = c.Local.Addr.AppendTo(b)
	ends = append(ends, len(b))
	b = c.Remote.Addr.AppendTo(b)
	ends = append(ends, len(b))
	b = append(b, c.Local.State.String()...)
	ends = append(ends, len(b))
	if !c.Local.Since.IsZero() {
		b = c.Local.Since.UTC().AppendFormat(b, "2006-01-02 15:04:05.000")
	}
	ends = append(ends, len(b))
	b = append(b, idleOf(c, end).Round(time.Millisecond).String()...)
	ends = append(ends, len(b))
	b = append(b, c.Remote.State.String()...)
	ends = append(ends, len(b))
	b = append(b, verdictCell(c.Verdict)...)
	ends = append(ends, len(b))
	b = strconv.AppendUint(b, c.Local.Packets, 10)
	b = strconv.AppendUint(append(b, '/'), c.Remote.Packets, 10)
	ends = append(ends, len(b))
	b = strconv.AppendUint(b, c.Local.Bytes, 10)
	b = strconv.AppendUint(append(b, '/'), c.Remote.Bytes, 10)
	ends = append(ends, len(b))
	start := len(b)
	b = c.Local.Markers.AppendTo(b)
	if c.Remote.Markers != 0 {
		if len(b) > start {
			b = append(b, ' ')
		}
		b = c.Remote.Markers.AppendTo(append(b, "peer:"...))
	}
	ends = append(ends, len(b))
	b = appendLast(b, c)
	return b, append(ends, len(b))
}

// appendLast appends the table's LAST: the TSV's last exchange in one
// cell, the local endpoint's last request method and response status bare
// and the peer's after "peer:", as MARKERS has them, then how an answer
// took the connection out of HTTP/1.x (upgrade:101, upgrade:connect) and
// who sent the last data (data:local or data:peer); for example
// "peer:GET data:peer", a request left unanswered, or "200 peer:CONNECT
// upgrade:connect data:local", a proxy's tunnel.
func appendLast(b []byte, c *pcapstate.Conn) []byte {
	start := len(b)
	add := func(prefix string, s pcapstate.Side) {
		if s.LastRequest != pcapstate.MethodNone {
			b = appendMethod(append(append(b, ' '), prefix...), s.LastRequest)
		}
		if s.LastStatus != 0 {
			b = appendStatus(append(append(b, ' '), prefix...), s.LastStatus)
		}
	}
	add("", c.Local)
	add("peer:", c.Remote)
	if u := max(c.Local.Upgrade, c.Remote.Upgrade); u != pcapstate.UpgradeNone {
		b = append(append(b, " upgrade:"...), u.String()...)
	}
	switch c.LastDataFrom {
	case pcapstate.SenderLocal:
		b = append(b, " data:local"...)
	case pcapstate.SenderRemote:
		b = append(b, " data:peer"...)
	}
	if len(b) == start {
		return b
	}
	// Every part began with a space: the first is dropped.
	return append(b[:start], b[start+1:]...)
}

// writeConnsSummary writes the line under the table: what the captures
// held, with the CLOSE_WAIT counts of every connection (not only those
// listed).
func writeConnsSummary(w io.Writer, res *pcapstate.Result, confirmed, unconfirmed int) error {
	var skipped []string
	for _, s := range res.Skipped {
		skipped = append(skipped, fmt.Sprintf("%s %d", s.Kind, s.Packets))
	}
	nonTCP := ""
	if len(skipped) > 0 {
		nonTCP = " (" + strings.Join(skipped, ", ") + ")"
	}
	span := ""
	if !res.Start.IsZero() {
		span = fmt.Sprintf(", %s to %s", fmtTime(res.Start), fmtTime(res.End))
	}
	_, err := fmt.Fprintf(w, "\n%s, %d CLOSE_WAIT (confirmed), %d unconfirmed, %s, %d non-TCP%s, %d filtered out, %s%s\n",
		plural(int(res.Connections), "connection"), confirmed, unconfirmed, plural(int(res.Packets), "packet"),
		res.NonTCP(), nonTCP, res.Filtered, plural(len(res.Warnings), "warning"), span)
	return err
}

// plural is "1 connection" or "2 connections".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
