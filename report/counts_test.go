package report

import (
	"bytes"
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
