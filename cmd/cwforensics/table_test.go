package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/google/go-cmp/cmp"
)

// tabwriterText is what text/tabwriter (minimum width 0, padding 2,
// spaces) writes for rows of cells escaped with escapeCell: the reference
// writeAlignedRows is held to.
func tabwriterText(t *testing.T, rows [][]string) string {
	t.Helper()
	var want bytes.Buffer
	tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		for i, c := range r {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, escapeCell(c))
		}
		fmt.Fprint(tw, "\n")
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	return want.String()
}

// TestWriteAlignedRowsWorkers: rows measured and written in chunks on
// several goroutines are aligned as on one, as text/tabwriter aligns them,
// with each column's widest cell (non-ASCII, or escaped) in another
// chunk.
func TestWriteAlignedRowsWorkers(t *testing.T) {
	const n = 5*alignedChunk + 17
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{strconv.Itoa(i), "x", "y", "last " + strconv.Itoa(i)}
	}
	rows[3][0] = "wide in the first chunk"
	rows[2*alignedChunk+1][1] = "büro, ünïcode in the third"
	rows[n-1][2] = "tab\there, escaped in the last"
	rows[4*alignedChunk+2][3] = strings.Repeat("a last cell is never padded ", 4)
	want := tabwriterText(t, rows)
	for _, workers := range []int{1, 2, 3, 4, 8} {
		var got bytes.Buffer
		err := writeAlignedRows(&got, n, workers, func(i int, b []byte, ends []int) ([]byte, []int) {
			for _, c := range rows[i] {
				b = append(b, c...)
				ends = append(ends, len(b))
			}
			return b, ends
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.String()); diff != "" {
			t.Errorf("%d workers: differs from text/tabwriter (-tabwriter +writeAlignedRows):\n%s", workers, diff)
		}
	}
}

// TestWriteConnsTextCells: conns' table, its cells formatted in place, is
// what the same cells made as strings (fmt, String methods) give aligned
// by text/tabwriter, over every kind of cell: both families, an unknown
// since, markers on either side or both, requests and statuses on either
// side, who sent the last data, and more rows than one goroutine formats.
func TestWriteConnsTextCells(t *testing.T) {
	end := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var conns []*pcapstate.Conn
	for i := range 3*alignedChunk + 5 {
		c := &pcapstate.Conn{
			Local:  pcapstate.Side{Addr: netip.MustParseAddrPort(fmt.Sprintf("10.0.%d.%d:%d", i/250, i%250, 8000+i%7)), State: pcapstate.CloseWait, Packets: uint64(i), Bytes: uint64(i * 1000)},
			Remote: pcapstate.Side{Addr: netip.MustParseAddrPort(fmt.Sprintf("[2001:db8::%x]:%d", i, 40000+i)), State: pcapstate.FinWait2, Packets: uint64(2 * i), Bytes: uint64(i * i)},
		}
		if i%5 != 0 {
			c.Local.Since = end.Add(-time.Duration(i) * 1234567 * time.Microsecond)
		}
		c.Local.Markers = pcapstate.Markers(i % 4)
		c.Remote.Markers = pcapstate.Markers(i / 3 % 8)
		c.Verdict = pcapstate.Verdict(i % 3)
		c.Local.LastRequest = pcapstate.Method(i % 3)
		c.Remote.LastStatus = uint16(i % 2 * 200)
		c.Remote.LastRequest = pcapstate.Method(i / 2 % 3)
		c.Local.LastStatus = uint16(i / 7 % 2 * 503)
		c.LastDataFrom = pcapstate.Sender(i % 3)
		c.Remote.Upgrade = pcapstate.Upgrade(i / 11 % 3)
		conns = append(conns, c)
	}
	rows := [][]string{{"LOCAL", "REMOTE", "STATE", "SINCE", "IDLE", "PEER", "VERDICT", "PKTS", "BYTES", "MARKERS", "LAST"}}
	for _, c := range conns {
		markers := c.Local.Markers.String()
		if m := c.Remote.Markers.String(); m != "" {
			markers = strings.TrimSpace(markers + " peer:" + m)
		}
		since := ""
		if !c.Local.Since.IsZero() {
			since = c.Local.Since.UTC().Format("2006-01-02 15:04:05.000")
		}
		var last []string
		for _, s := range []struct {
			prefix string
			side   pcapstate.Side
		}{{"", c.Local}, {"peer:", c.Remote}} {
			if s.side.LastRequest != pcapstate.MethodNone {
				last = append(last, s.prefix+s.side.LastRequest.String())
			}
			if s.side.LastStatus != 0 {
				last = append(last, s.prefix+strconv.Itoa(int(s.side.LastStatus)))
			}
		}
		if u := max(c.Local.Upgrade, c.Remote.Upgrade); u != pcapstate.UpgradeNone {
			last = append(last, "upgrade:"+u.String())
		}
		switch c.LastDataFrom {
		case pcapstate.SenderLocal:
			last = append(last, "data:local")
		case pcapstate.SenderRemote:
			last = append(last, "data:peer")
		}
		verdict := ""
		if c.Verdict != pcapstate.NotCloseWait {
			verdict = c.Verdict.String()
		}
		rows = append(rows, []string{c.Local.Addr.String(), c.Remote.Addr.String(), c.Local.State.String(), since,
			idleOf(c, end).Round(time.Millisecond).String(), c.Remote.State.String(), verdict,
			fmt.Sprintf("%d/%d", c.Local.Packets, c.Remote.Packets), fmt.Sprintf("%d/%d", c.Local.Bytes, c.Remote.Bytes),
			markers, strings.Join(last, " ")})
	}
	var got bytes.Buffer
	if err := writeConnsText(&got, conns, end); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tabwriterText(t, rows), got.String()); diff != "" {
		t.Errorf("conns' table differs from its cells made as strings (-strings +written):\n%s", diff)
	}
}

// TestConnsSummaryWhateverState: the line under the table counts the
// connections in CLOSE_WAIT whatever --state lists (the engine hands over
// only the open connections the filter may keep, and those in
// CLOSE_WAIT), on a bundled case that ends with ESTABLISHED, TIME_WAIT and
// CLOSE_WAIT connections.
func TestConnsSummaryWhateverState(t *testing.T) {
	inRoot(t)
	const capture = "testdata/cases/fd-exhaustion/capture.pcap"
	summary := func(state string) string {
		code, out, stderr := cli(t, "conns", "--progress", "never", "--state", state, capture)
		if code != 0 {
			t.Fatalf("--state %s: exit %d: %s", state, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1]
	}
	want := summary("all")
	if !strings.Contains(want, "61 CLOSE_WAIT (confirmed)") {
		t.Fatalf("--state all: summary %q, want 61 in CLOSE_WAIT", want)
	}
	for _, state := range []string{"close-wait", "established", "time-wait", "syn-sent", "unconfirmed"} {
		if got := summary(state); got != want {
			t.Errorf("--state %s: summary %q, want %q", state, got, want)
		}
	}
}
