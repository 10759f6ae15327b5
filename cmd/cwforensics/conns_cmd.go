package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
)

// ConnsCmd lists the TCP connections of packet captures.
type ConnsCmd struct {
	Local    []string      `placeholder:"IP|CIDR" help:"Address or network whose endpoints are local (repeatable). Without it, an endpoint in CLOSE_WAIT is the local one of its row, else the endpoint that accepted the connection."`
	State    string        `default:"all" placeholder:"STATE" help:"Which connections to list, by the local endpoint's state at capture end: all, close-wait (confirmed CLOSE_WAIT only), unconfirmed (CLOSE_WAIT the capture cannot confirm), or a state name such as established, fin-wait2, time-wait."`
	MinIdle  time.Duration `default:"0s" help:"List only connections whose local endpoint has been in its state at least this long at capture end (e.g. 5m)."`
	Format   string        `default:"table" enum:"table,tsv,json" help:"Output format: table (aligned, for people), tsv (stable, for scripts) or json (${enum})."`
	Filter   string        `placeholder:"BPF" help:"Read only packets matching this tcpdump filter expression (needs a build with libpcap)."`
	Captures []string      `arg:"" name:"capture" help:"Capture files: pcap or pcapng, optionally gzip-compressed; several files (rotated captures) are merged in timestamp order."`
}

// Help is shown below the flags by --help.
func (c *ConnsCmd) Help() string {
	return `A confirmed CLOSE_WAIT is a local endpoint whose peer sent a FIN that a later
local segment acknowledged, with no local FIN and no RST up to the end of the
capture. Times are capture times; the capture's last packet is "now".

Examples:
  cwforensics conns capture.pcap
  cwforensics conns --local 10.0.0.0/8 --state close-wait --min-idle 5m rotated-*.pcap
  cwforensics conns --format tsv --filter 'tcp port 8080' capture.pcapng.gz > conns.tsv`
}

// connsSchemaVersion is the version of the JSON conns writes.
const connsSchemaVersion = 1

// Run reads the captures and prints the connections.
func (c *ConnsCmd) Run(e *env) error {
	local, err := parsePrefixes(c.Local)
	if err != nil {
		return err
	}
	keep, retain, err := stateFilter(c.State)
	if err != nil {
		return err
	}
	// Finished connections that fail the state filter are released as the
	// capture is read, so memory follows the connections open at once.
	res, err := readCaptures(c.Captures, pcapstate.Options{Local: local, Filter: c.Filter, Retain: retain, Keep: keep, Log: e.Log})
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.Stderr, "warning: %s\n", w)
	}
	// Every open connection is in the Result, so the summary counts it all;
	// they are counted before the filters.
	confirmed, unconfirmed := closeWaitCounts(res.Conns)
	// The rows are filtered in place and written as they are formatted:
	// a capture can leave tens of thousands of connections, and neither
	// a copy of them nor the whole output is ever held in memory.
	n := 0
	for i := range res.Conns {
		if cn := &res.Conns[i]; keep(cn) && cn.Idle(res.End) >= c.MinIdle {
			res.Conns[n] = *cn
			n++
		}
	}
	clear(res.Conns[n:])
	res.Conns = res.Conns[:n]
	if n == 0 {
		res.Conns = nil
	}
	w := bufio.NewWriterSize(e.Stdout, 64<<10)
	switch c.Format {
	case "json":
		err = writeConnsJSON(w, res)
	case "tsv":
		err = writeConnsTSV(w, res.Conns, res.End)
	default:
		err = writeConnsText(w, res.Conns, res.End)
		if err == nil {
			err = writeConnsSummary(w, res, confirmed, unconfirmed)
		}
	}
	if err != nil {
		return err
	}
	return w.Flush()
}

// writeConnsJSON writes res as the schema_version 1 JSON of conns, one
// connection at a time: the same bytes as encoding the whole document
// with two-space indentation, without holding it in memory.
func writeConnsJSON(w io.Writer, res *pcapstate.Result) error {
	type doc struct {
		SchemaVersion int `json:"schema_version"`
		*pcapstate.Result
	}
	conns := res.Conns
	if len(conns) == 0 {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc{connsSchemaVersion, res})
	}
	// Encode the document with a placeholder for the conns, then write
	// each connection in its place, indented as the array's elements.
	out := *res
	out.Conns = nil
	head, err := json.MarshalIndent(doc{connsSchemaVersion, &out}, "", "  ")
	if err != nil {
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
	// One encoder into one buffer for all of them: it reuses its buffers.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	for i := range conns {
		buf.Reset()
		if err := enc.Encode(&conns[i]); err != nil {
			return err
		}
		b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		sep := ",\n    "
		if i == 0 {
			sep = "\n    "
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
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

// readCaptures opens the capture files and reads them together, naming
// each as typed.
func readCaptures(paths []string, opts pcapstate.Options) (*pcapstate.Result, error) {
	return readCapturesNamed(paths, paths, nil, opts)
}

// parsePrefixes parses --local values: an address is a one-address prefix.
func parsePrefixes(vals []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if p, err := netip.ParsePrefix(s); err == nil {
				out = append(out, p.Masked())
				continue
			}
			a, err := netip.ParseAddr(strings.Trim(s, "[]"))
			if err != nil {
				return nil, fmt.Errorf("--local %q: not an IP address or CIDR network", s)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}

// stateFilter returns the predicate for --state, and which finished
// connections the engine must retain for it (a finished connection is
// CLOSED or TIME_WAIT on both sides).
func stateFilter(s string) (func(*pcapstate.Conn) bool, pcapstate.Retain, error) {
	norm := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	switch norm {
	case "ALL", "":
		return func(*pcapstate.Conn) bool { return true }, pcapstate.RetainAll, nil
	case "CLOSE_WAIT":
		return func(c *pcapstate.Conn) bool { return c.Verdict == pcapstate.CloseWaitConfirmed }, pcapstate.RetainNone, nil
	case "UNCONFIRMED":
		return func(c *pcapstate.Conn) bool { return c.Verdict == pcapstate.CloseWaitUnconfirmed }, pcapstate.RetainNone, nil
	}
	for st := pcapstate.Unknown; st <= pcapstate.Closed; st++ {
		if st.String() == norm || strings.ReplaceAll(st.String(), "_", "") == norm {
			retain := pcapstate.RetainNone
			if st == pcapstate.Closed || st == pcapstate.TimeWait {
				retain = pcapstate.RetainAll
			}
			return func(c *pcapstate.Conn) bool { return c.Local.State == st }, retain, nil
		}
	}
	return nil, 0, fmt.Errorf("--state %q: want all, close-wait, unconfirmed or a TCP state name (established, syn-sent, syn-recv, fin-wait1, fin-wait2, closing, time-wait, last-ack, closed, unknown)", s)
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
}

// writeConnsTSV writes the TSV header and a row per connection.
func writeConnsTSV(w io.Writer, conns []pcapstate.Conn, end time.Time) error {
	if err := writeTSVRow(w, connsHeader); err != nil {
		return err
	}
	var row []byte
	for i := range conns {
		row = appendConnTSV(row[:0], &conns[i], end)
		if _, err := w.Write(row); err != nil {
			return err
		}
	}
	return nil
}

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
	b = appendMarkers(append(b, '\t'), c.Local.Markers)
	b = appendMarkers(append(b, '\t'), c.Remote.Markers)
	b = appendPos(append(b, '\t'), c.FirstPacket)
	b = appendPos(append(b, '\t'), c.Remote.FIN)
	b = appendPos(append(b, '\t'), c.Remote.FINAck)
	b = appendEscaped(append(b, '\t'), c.Why)
	return append(b, '\n')
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

// appendMarkers appends m.String() without building it when empty.
func appendMarkers(b []byte, m pcapstate.Markers) []byte {
	if m == 0 {
		return b
	}
	return append(b, m.String()...)
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
func writeConnsText(w io.Writer, conns []pcapstate.Conn, end time.Time) error {
	header := []string{"LOCAL", "REMOTE", "STATE", "SINCE", "IDLE", "PEER", "VERDICT", "PKTS", "BYTES", "MARKERS"}
	return writeAligned(w, len(conns)+1, func(i int, cells []string) []string {
		if i == 0 {
			return append(cells, header...)
		}
		c := &conns[i-1]
		markers := c.Local.Markers.String()
		if m := c.Remote.Markers.String(); m != "" {
			if markers != "" {
				markers += " "
			}
			markers += "peer:" + m
		}
		since := ""
		if !c.Local.Since.IsZero() {
			since = c.Local.Since.UTC().Format("2006-01-02 15:04:05.000")
		}
		return append(cells, c.Local.Addr.String(), c.Remote.Addr.String(), c.Local.State.String(), since,
			idleOf(c, end).Round(time.Millisecond).String(), c.Remote.State.String(), verdictCell(c.Verdict),
			strconv.FormatUint(c.Local.Packets, 10)+"/"+strconv.FormatUint(c.Remote.Packets, 10),
			strconv.FormatUint(c.Local.Bytes, 10)+"/"+strconv.FormatUint(c.Remote.Bytes, 10), markers)
	})
}

// closeWaitCounts counts the confirmed and unconfirmed CLOSE_WAIT
// endpoints among conns.
func closeWaitCounts(conns []pcapstate.Conn) (confirmed, unconfirmed int) {
	for i := range conns {
		switch conns[i].Verdict {
		case pcapstate.CloseWaitConfirmed:
			confirmed++
		case pcapstate.CloseWaitUnconfirmed:
			unconfirmed++
		}
	}
	return confirmed, unconfirmed
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

// Validate runs while the command line is parsed: a missing file is a usage
// error.
func (c *ConnsCmd) Validate() error { return existingFiles(c.Captures) }
