package report

import (
	"bytes"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/internal/golden"
)

// TestCountTimeline: timed `ss -s` summaries, from one file or several,
// make a series in time order; untimed ones, or a single timed one, none.
func TestCountTimeline(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 12, 3, 7, 30, s, 0, time.UTC) }
	sum := func(file string, line int, when time.Time, total, estab int) dumps.SocketSummary {
		return dumps.SocketSummary{TCP: map[string]int{"total": total, "estab": estab, "closed": 3, "orphaned": 0, "timewait": 4},
			SnapshotTime: when, Src: dumps.Pos{File: file, Line: line}}
	}
	ev := func(file string, ss ...dumps.SocketSummary) *dumps.Evidence {
		e := &dumps.Evidence{File: file}
		e.SocketSummaries = ss
		return e
	}
	tests := []struct {
		name string
		in   []*dumps.Evidence
		want string // "pos tcp estab" per point
	}{
		{"one untimed summary", []*dumps.Evidence{ev("ss-s.txt", sum("ss-s.txt", 2, time.Time{}, 10, 5))}, ""},
		{"one timed summary", []*dumps.Evidence{ev("a.txt", sum("a.txt", 2, at(1), 10, 5))}, ""},
		{"a loop in one file", []*dumps.Evidence{ev("a.txt", sum("a.txt", 2, at(1), 10, 5), sum("a.txt", 12, at(6), 14, 5))},
			"a.txt:2 10 5; a.txt:12 14 5"},
		{"two files out of order", []*dumps.Evidence{ev("b.txt", sum("b.txt", 2, at(9), 20, 6)), ev("a.txt", sum("a.txt", 2, at(1), 10, 5))},
			"a.txt:2 10 5; b.txt:2 20 6"},
		{"untimed ones left out", []*dumps.Evidence{ev("a.txt", sum("a.txt", 2, at(1), 10, 5), sum("a.txt", 9, time.Time{}, 99, 9), sum("a.txt", 12, at(6), 14, 5))},
			"a.txt:2 10 5; a.txt:12 14 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(BuildInput{Evidence: tt.in})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range m.SocketCounts {
				got = append(got, strings.Join([]string{p.Pos.String(), itoa(p.TCP), itoa(p.Estab)}, " "))
			}
			if g := strings.Join(got, "; "); g != tt.want {
				t.Errorf("series %q, want %q", g, tt.want)
			}
		})
	}
}

func itoa(n int) string { return FormatCount(n) }

// TestCountTimelineGolden renders the series of a real `date; ss -s; sleep
// 1` loop (testdata/real/sockets/ss-s-loop.txt, gen/sockets/run.sh).
func TestCountTimelineGolden(t *testing.T) {
	const file = "../testdata/real/sockets/ss-s-loop.txt"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := readDumps(bytes.NewReader(data), "ss-s-loop.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{ev}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.SocketCounts) != 3 || m.SocketCounts[0].Offset != "+0s" || m.SocketCounts[2].TCP <= m.SocketCounts[0].TCP {
		t.Fatalf("series %+v", m.SocketCounts)
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, m); err != nil {
		t.Fatal(err)
	}
	text := md.String()
	i := strings.Index(text, "## Socket counts over time")
	j := strings.Index(text, "## Inputs")
	if i < 0 || j < i {
		t.Fatalf("no socket count section:\n%s", text)
	}
	golden.Check(t, "testdata/ss-s-loop.md.golden", []byte(text[i:j]))
}

// TestKernelTimelineZones: without a capture, the timeline counts the
// sockets that timed listings show in CLOSE_WAIT per snapshot. Two
// listings taken at one instant, their times written in two zones (ss's
// date in UTC, lsof's in CET), are one point, counting their sockets
// once each, in UTC: as two points tied at one instant, their order
// followed map order.
func TestKernelTimelineZones(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	first := time.Date(2026, 12, 3, 7, 30, 0, 0, time.UTC)
	second := first.Add(time.Minute)
	sock := func(file string, line int, when time.Time, port uint16) dumps.Socket {
		return dumps.Socket{
			Src: dumps.Pos{File: file, Line: line}, Tool: dumps.KindSS, Proto: dumps.ProtoTCP, State: dumps.StateCloseWait,
			Local:        dumps.Endpoint{Addr: netip.MustParseAddr("10.0.0.5"), Port: 8080},
			Remote:       dumps.Endpoint{Addr: netip.MustParseAddr("10.0.0.9"), Port: port},
			SnapshotTime: when,
		}
	}
	ev := func(file string, socks ...dumps.Socket) *dumps.Evidence {
		e := &dumps.Evidence{File: file}
		e.Sockets = socks
		return e
	}
	in := []*dumps.Evidence{
		ev("ss.txt", sock("ss.txt", 2, first, 40001), sock("ss.txt", 3, first, 40002), sock("ss.txt", 9, second, 40001)),
		ev("lsof.txt", sock("lsof.txt", 2, first.In(cet), 40002), sock("lsof.txt", 3, first.In(cet), 40003)),
	}
	for range 20 { // map order differs from run to run
		m, err := Build(BuildInput{Evidence: in})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range m.Timeline {
			got = append(got, p.At.Format(time.RFC3339)+" "+itoa(p.Count))
		}
		if g, want := strings.Join(got, "; "), "2026-12-03T07:30:00Z 3; 2026-12-03T07:31:00Z 1"; g != want {
			t.Fatalf("timeline %q, want %q", g, want)
		}
	}
}
