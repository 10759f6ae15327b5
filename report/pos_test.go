package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
)

func linePos(file string, n int) Pos { return TextPos(dumps.Pos{File: file, Line: n}) }

func packetPos(file string, n uint64) Pos {
	return PacketPos(pcapstate.Pos{File: file, Packet: n})
}

// texts is positions as the report prints them.
func texts(ps []Pos) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func TestPosConstructors(t *testing.T) {
	for _, tt := range []struct {
		p    Pos
		want Pos
		text string
	}{
		{TextPos(dumps.Pos{File: "ss.txt", Line: 42}), Pos{Kind: PosLine, File: "ss.txt", N: 42}, "ss.txt:42"},
		{TextPos(dumps.Pos{File: "ss.txt"}), Pos{Kind: PosFile, File: "ss.txt"}, "ss.txt"},
		{TextPos(dumps.Pos{}), Pos{}, ""},
		{PacketPos(pcapstate.Pos{File: "capture.pcap", Packet: 51234}), Pos{Kind: PosPacket, File: "capture.pcap", N: 51234}, "capture.pcap: packet 51234"},
		{PacketPos(pcapstate.Pos{}), Pos{}, ""},
		{FilePos("limits.txt"), Pos{Kind: PosFile, File: "limits.txt"}, "limits.txt"},
		{SourcePos("--max-fds"), Pos{Kind: PosSource, File: "--max-fds"}, "--max-fds"},
	} {
		if tt.p != tt.want || tt.p.String() != tt.text {
			t.Errorf("got %#v (%q), want %#v (%q)", tt.p, tt.p.String(), tt.want, tt.text)
		}
		if tt.p.IsZero() != (tt.text == "") {
			t.Errorf("%#v: IsZero = %v", tt.p, tt.p.IsZero())
		}
	}
	// The parsers print their positions as the report does.
	if d := (dumps.Pos{File: "ss.txt", Line: 42}); TextPos(d).String() != d.String() {
		t.Errorf("TextPos(%v) = %q", d, TextPos(d).String())
	}
	if c := (pcapstate.Pos{File: "capture.pcap", Packet: 7}); PacketPos(c).String() != c.String() {
		t.Errorf("PacketPos(%v) = %q", c, PacketPos(c).String())
	}
}

// TestSortPositionsNotByText checks that positions sort on their fields:
// by file, then by line or packet number. Sorting their texts, or parsing
// the texts back (as the report once did), gets each pair below wrong.
func TestSortPositionsNotByText(t *testing.T) {
	want := []Pos{
		// A capture whose name holds ": packet ": its packets in order.
		packetPos("cap: packet 3", 9),
		packetPos("cap: packet 3", 10),
		packetPos("capture.pcap", 7),
		packetPos("capture.pcap", 51234),
		linePos("jstack.txt", 118),
		linePos("jstack.txt", 1180),
		FilePos("notes"),
		// The lines of ss.txt, then a whole file whose name ends in
		// colon-digits: not line 100 of ss.txt.
		linePos("ss.txt", 9),
		linePos("ss.txt", 42),
		FilePos("ss.txt:100"),
		// A capture's packets, then a whole file named like one of its
		// packets, which is none of them.
		packetPos("t", 2),
		FilePos("t: packet 1"),
		linePos("x:2", 1),
		linePos("x:2", 10),
	}
	in := slices.Clone(want)
	slices.Reverse(in)
	in = append(in, linePos("ss.txt", 9), Pos{}, packetPos("capture.pcap", 7))
	if got := sortPositions(in); !slices.Equal(got, want) {
		t.Errorf("sortPositions =\n%q\nwant\n%q", texts(got), texts(want))
	}
	// The test can fail: sorted by text, the positions are in another order.
	byText := texts(want)
	slices.Sort(byText)
	if slices.Equal(byText, texts(want)) {
		t.Fatal("the positions sort the same by text: the test proves nothing")
	}
	if got := sortPositions(nil); got == nil || len(got) != 0 {
		t.Errorf("sortPositions(nil) = %#v, want empty non-nil", got)
	}
	// Warnings sort by position too.
	m := &Model{Warnings: []Warning{{Pos: linePos("ss.txt", 42), Msg: "b"}, {Pos: SourcePos("captures"), Msg: "c"}, {Pos: linePos("ss.txt", 9), Msg: "a"}}}
	_ = m.Finalize()
	var got []string
	for _, w := range m.Warnings {
		got = append(got, w.Pos.String())
	}
	if want := []string{"captures", "ss.txt:9", "ss.txt:42"}; !slices.Equal(got, want) {
		t.Errorf("warnings in order %q, want %q", got, want)
	}
}

// TestPosText checks that positions are written in JSON as the report
// prints them, and that reading one back prints the same.
func TestPosText(t *testing.T) {
	for _, p := range []Pos{
		linePos("ss.txt", 42), packetPos("capture.pcap", 51234), packetPos("capture.pcap", 0),
		FilePos("notes"), FilePos("ss.txt:100"), FilePos("odd:007"), FilePos("f:+7"), FilePos("g:-7"), FilePos("h:0"), FilePos("b: packet 01"), FilePos("a: packet x"),
		packetPos("cap: packet 3", 9), linePos("x:2", 1), SourcePos("--max-fds"), {},
	} {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := json.Marshal(p.String()); string(b) != string(want) {
			t.Errorf("json of %#v = %s, want %s", p, b, want)
		}
		var back Pos
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.String() != p.String() {
			t.Errorf("%s read back prints %q", b, back.String())
		}
		if strings.Contains(p.File, ":") || p.Kind == PosSource {
			continue // the text is ambiguous; it prints the same
		}
		if back != p {
			t.Errorf("%s read back as %#v, want %#v", b, back, p)
		}
	}
	var omit struct {
		P Pos `json:"p,omitzero"`
	}
	if b, _ := json.Marshal(omit); string(b) != "{}" {
		t.Errorf("a zero position with omitzero = %s, want {}", b)
	}
}

// TestRenderedPositionOrder checks that every writer cites a socket's
// positions in their order, not in their texts' order, in the HTML
// evidence index too.
func TestRenderedPositionOrder(t *testing.T) {
	m := &Model{Sockets: []Socket{{Local: testEP("10.0.0.4", 8080), Remote: testEP("10.0.0.9", 5000), Status: StatusConfirmed,
		Evidence: []Pos{linePos("ss.txt", 42), packetPos("capture.pcap", 51234), linePos("ss.txt", 9), packetPos("capture.pcap", 7)}}}}
	if err := m.Finalize(); err != nil {
		t.Fatal(err)
	}
	order := []string{"capture.pcap: packet 7", "capture.pcap: packet 51234", "ss.txt:9", "ss.txt:42"}
	for name, write := range map[string]func(*bytes.Buffer, *Model) error{
		"html":     func(b *bytes.Buffer, m *Model) error { return WriteHTML(b, m) },
		"markdown": func(b *bytes.Buffer, m *Model) error { return WriteMarkdown(b, m) },
		"json":     func(b *bytes.Buffer, m *Model) error { return WriteJSON(b, m) },
	} {
		var b bytes.Buffer
		if err := write(&b, m); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		// Each citation ends where the next begins: after a quote, a
		// comma or a tag.
		for _, from := range []int{0, strings.LastIndex(out, "Evidence index")} {
			if from < 0 {
				continue // only the HTML page has an index
			}
			last := -1
			for _, p := range order {
				i := -1
				for _, end := range []string{`"`, ",", "<", " |"} {
					if j := strings.Index(out[from:], p+end); j >= 0 && (i < 0 || j < i) {
						i = j
					}
				}
				if i < 0 || i < last {
					t.Errorf("%s: %q at %d, after the position before it (%d)", name, p, i, last)
				}
				last = i
			}
		}
	}
}
