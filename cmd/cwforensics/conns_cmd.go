package main

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/analysis"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/report"
)

// ConnsCmd lists the TCP connections of packet captures.
type ConnsCmd struct {
	Local     []string      `placeholder:"IP|CIDR" env:"CWFORENSICS_CONNS_LOCAL,CWFORENSICS_LOCAL" help:"Address or network whose endpoints are local (repeatable). Without it, an endpoint in CLOSE_WAIT is the local one of its row, else the endpoint that accepted the connection."`
	State     string        `default:"all" placeholder:"STATE" env:"CWFORENSICS_CONNS_STATE" help:"Which connections to list, by the local endpoint's state at capture end: all, close-wait (confirmed CLOSE_WAIT only), unconfirmed (CLOSE_WAIT the capture cannot confirm), or a state name such as established, fin-wait2, time-wait."`
	MinIdle   time.Duration `default:"0s" env:"CWFORENSICS_CONNS_MIN_IDLE,CWFORENSICS_MIN_IDLE" help:"List only connections whose local endpoint has been in its state at least this long at capture end (e.g. 5m)."`
	Format    string        `default:"table" enum:"table,tsv,json" env:"CWFORENSICS_CONNS_FORMAT" help:"Output format: table (aligned, for people), tsv (stable, for scripts) or json (${enum})."`
	Filter    string        `placeholder:"EXPR" env:"CWFORENSICS_CONNS_FILTER,CWFORENSICS_FILTER" help:"Read only packets matching this tcpdump filter expression, e.g. 'tcp port 8080 and host 10.0.0.5' (the subset docs/conns.md lists; a build with libpcap, make build TAGS=pcap, has the whole language)."`
	Progress  string        `default:"auto" enum:"auto,always,never" env:"CWFORENSICS_CONNS_PROGRESS,CWFORENSICS_PROGRESS" help:"Show a progress line on stderr while reading: auto, when stderr is a terminal and reading takes more than a second; always; never (${enum})."`
	Jobs      int           `default:"0" placeholder:"N" env:"CWFORENSICS_CONNS_JOBS,CWFORENSICS_JOBS" help:"With several capture files (rotated captures), decode this many at once, each on its own core into a temporary spool read back in time order (same result): 0 uses every core but one when there are several files and 4 cores or more, 1 reads them in one pass."`
	StdinName string        `name:"stdin-name" placeholder:"NAME" env:"CWFORENSICS_CONNS_STDIN_NAME" help:"Name standard input (-) NAME in positions, instead of stdin: the name of the capture piped in (host-3.pcap)."`
	Captures  []string      `arg:"" name:"capture" help:"Capture files: pcap or pcapng, optionally gzip-compressed, or folders of them; - is standard input; several files (rotated captures) are merged in timestamp order."`
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
	local, err := report.ParseLocal(c.Local)
	if err != nil {
		return fmt.Errorf("--local %w", err)
	}
	keep, retain, open, err := stateFilter(c.State)
	if err != nil {
		return err
	}
	srcs, err := analysis.Walk(c.Captures, analysis.WalkOptions{Stdin: e.Stdin, StdinName: c.StdinName})
	if err != nil {
		return err
	}
	var read meter
	srcs = countSources(srcs, &read)
	stop := startProgress(e, c.Progress, &read)
	cs, skipped, err := analysis.StreamCaptures(e.Ctx, srcs, pcapstate.Options{Local: local, Filter: c.Filter, Retain: retain, Open: open, OmitWhy: c.Format == "table", SummarizeHalfOpen: !listsHalfOpen(c.State), Log: e.Log, Packets: &read.packets, Jobs: c.Jobs})
	if err != nil {
		stop()
		return err
	}
	// The connections that fail the state filter are dropped as they are
	// handed over (the finished ones while the captures are read), so
	// memory follows the connections listed. The summary counts every
	// connection, before the filters.
	var conns pcapstate.ConnList
	confirmed, unconfirmed := 0, 0
	for cs.Next() {
		cn := cs.Conn()
		switch cn.Verdict {
		case pcapstate.CloseWaitConfirmed:
			confirmed++
		case pcapstate.CloseWaitUnconfirmed:
			unconfirmed++
		}
		if keep(cn) {
			conns.Add(cn)
		}
	}
	cs.Close()
	stop()
	if err := cs.Err(); err != nil {
		return err
	}
	res := cs.Result()
	var ws []warning
	for _, in := range skipped {
		ws = append(ws, warning{in.Path, in.Status.String() + ": " + in.Reason})
	}
	for _, w := range res.Warnings {
		ws = append(ws, warning{fmt.Sprintf("%s (byte offset %d)", w.Pos, w.Offset), w.Msg})
	}
	warn(e.Stderr, ws)
	// How long a connection has been in its state is known once the
	// captures' end is: the idle filter comes last, in place. The rows are
	// written as they are formatted: a capture can leave tens of thousands
	// of connections, and neither a copy of them nor the whole output is
	// ever held in memory.
	conns.Keep(func(cn *pcapstate.Conn) bool { return cn.Idle(res.End) >= c.MinIdle })
	sorted := conns.Sorted()
	// A capture that gave no TCP segment says why: in the JSON's files,
	// under the table, and on stderr with TSV, whose stdout is the rows.
	ignored := ignoredCaptures(res)
	w := bufio.NewWriterSize(e.Stdout, 64<<10)
	switch c.Format {
	case "json":
		err = writeConnsJSON(w, res, sorted)
	case "tsv":
		err = writeConnsTSV(w, sorted, res.End)
		for _, s := range ignored {
			fmt.Fprintf(e.Stderr, "warning: %s\n", s)
		}
	default:
		err = writeConnsText(w, sorted, res.End)
		if err == nil {
			err = writeConnsSummary(w, res, confirmed, unconfirmed)
		}
		for _, s := range ignored {
			if err == nil {
				_, err = fmt.Fprintf(w, "%s\n", s)
			}
		}
	}
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if res.Segments == 0 && res.Filtered == 0 {
		// Nothing could be read: not an empty list of connections.
		return fmt.Errorf("no TCP segment in any capture: %s", strings.Join(ignored, "; "))
	}
	return nil
}

// listsHalfOpen reports whether the --state filter s can list a
// connection still half-open at the end (a remote SYN the local endpoint
// never answered, whose local state is UNKNOWN). When it cannot, Read
// only counts them (Result.HalfOpen): a SYN flood leaves millions.
func listsHalfOpen(s string) bool {
	norm := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	return norm == "ALL" || norm == "" || norm == pcapstate.Unknown.String()
}

// ignoredCaptures says, for each capture that gave no TCP segment, why:
// "ignored capture x.pcap: unsupported link type 147".
func ignoredCaptures(res *pcapstate.Result) []string {
	var out []string
	for _, f := range res.Files {
		if f.Ignored != "" {
			out = append(out, fmt.Sprintf("ignored capture %s: %s", escapeCell(f.Name), f.Ignored))
		}
	}
	return out
}

// stateFilter returns the predicate for --state, which finished
// connections the engine must retain for it (a finished connection is
// CLOSED or TIME_WAIT on both sides), and which of those open at the end
// it must hand over (pcapstate.Options.Open; nil: all): those the
// predicate may keep, and those in CLOSE_WAIT, which the summary counts.
func stateFilter(s string) (func(*pcapstate.Conn) bool, pcapstate.Retain, []pcapstate.State, error) {
	norm := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	closeWait := []pcapstate.State{pcapstate.CloseWait}
	switch norm {
	case "ALL", "":
		return func(*pcapstate.Conn) bool { return true }, pcapstate.RetainAll, nil, nil
	case "CLOSE_WAIT":
		return func(c *pcapstate.Conn) bool { return c.Verdict == pcapstate.CloseWaitConfirmed }, pcapstate.RetainNone, closeWait, nil
	case "UNCONFIRMED":
		return func(c *pcapstate.Conn) bool { return c.Verdict == pcapstate.CloseWaitUnconfirmed }, pcapstate.RetainNone, closeWait, nil
	}
	for st := pcapstate.Unknown; st <= pcapstate.Closed; st++ {
		if st.String() == norm || strings.ReplaceAll(st.String(), "_", "") == norm {
			retain := pcapstate.RetainNone
			if st == pcapstate.Closed || st == pcapstate.TimeWait {
				retain = pcapstate.RetainAll
			}
			// The connections in CLOSE_WAIT are handed over whatever
			// the state: the summary counts them.
			return func(c *pcapstate.Conn) bool { return c.Local.State == st }, retain, []pcapstate.State{st, pcapstate.CloseWait}, nil
		}
	}
	return nil, 0, nil, fmt.Errorf("--state %q: want all, close-wait, unconfirmed or a TCP state name (established, syn-sent, syn-recv, fin-wait1, fin-wait2, closing, time-wait, last-ack, closed, unknown)", s)
}
