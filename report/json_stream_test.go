package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/report/internal/sample"
)

// TestWriteJSONStreamsSockets: the JSON written a socket at a time is
// byte for byte the model encoded whole and made safe, with many sockets,
// none, an empty list and hostile strings.
func TestWriteJSONStreamsSockets(t *testing.T) {
	empty := sample.Empty()
	empty.Sockets = []report.Socket{}
	none := sample.Empty()
	none.Sockets = nil
	for name, m := range map[string]*report.Model{
		"hostile": sample.Hostile(), "stuck": sample.Stuck(300, 3), "chunks": sample.Stuck(2500, 7), "empty list": empty, "nil": none,
	} {
		t.Run(name, func(t *testing.T) {
			writesAsEncoded(t, m)
		})
	}
}

// writesAsEncoded checks that WriteJSON writes m as encodedWhole does,
// showing where they differ.
func writesAsEncoded(t *testing.T, m *report.Model) {
	t.Helper()
	var got bytes.Buffer
	if err := report.WriteJSON(&got, m); err != nil {
		t.Fatal(err)
	}
	want := encodedWhole(t, m)
	if !bytes.Equal(got.Bytes(), want) {
		i := 0
		for i < min(got.Len(), len(want)) && got.Bytes()[i] == want[i] {
			i++
		}
		t.Fatalf("differs at byte %d of %d: got %q, want %q", i, len(want), got.Bytes()[max(0, i-80):min(got.Len(), i+80)], want[max(0, i-80):min(len(want), i+80)])
	}
}

// encodedWhole is m encoded whole by encoding/json and made safe as
// WriteJSON promises: what WriteJSON's own encoding must equal.
func encodedWhole(t testing.TB, m *report.Model) []byte {
	var whole bytes.Buffer
	enc := json.NewEncoder(&whole)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	// A byte that is no UTF-8 is escaped as U+FFFD; a real U+FFFD, which
	// is visible and which encoding/json writes raw, stays raw.
	var want []byte
	for b := whole.Bytes(); len(b) > 0; {
		r, size := utf8.DecodeRune(b)
		if r != '\n' && r != '\t' && ((r == utf8.RuneError && size == 1) || unicode.IsControl(r) || invisible(r)) {
			want = fmt.Appendf(want, `\u%04x`, r)
		} else {
			want = append(want, b[:size]...)
		}
		b = b[size:]
	}
	return want
}

// invisible lists the characters the report shows as escapes besides
// control characters (docs/report.md): the bidi overrides, embeddings and
// isolates, the direction marks, the line and paragraph separators and
// the byte order mark.
func invisible(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') ||
		r == '\u200e' || r == '\u200f' || r == '\u2028' || r == '\u2029' || r == '\ufeff'
}

// FuzzWriteJSONSocket: a socket with any strings, numbers, addresses and
// evidence is written as encoding/json writes it, made safe.
func FuzzWriteJSONSocket(f *testing.F) {
	f.Add("10.0.0.1:8080-10.0.0.2:5000", "java", "<b>&\u2028\x7f\xc2\x85\u202e\xff\"\\\b\f\r\t\x01", "cap.pcap", []byte{10, 0, 0, 1}, uint16(8080), int64(3e9), 42, 7, uint64(51234), true, uint8(2))
	f.Add("", "", "", "", []byte{}, uint16(0), int64(-1), 0, 0, uint64(0), false, uint8(0))
	f.Add("k", "p\u2029", "\U0001f600\u00e9", "ss.txt", []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(443), int64(1), -3, 1<<20, uint64(1<<40), false, uint8(3))
	f.Fuzz(func(t *testing.T, key, process, text, file string, addr []byte, port uint16, age int64, pid, fd int, n uint64, lower bool, nev uint8) {
		a, _ := netip.AddrFromSlice(addr)
		s := report.Socket{
			Key: key, Process: process, SinceText: text, AgeText: text, Finding: text,
			Local: report.Endpoint{Addr: a, Port: port}, Remote: report.Endpoint{Addr: a.Unmap(), Port: ^port},
			Status: report.Status(nev % 8), Age: time.Duration(age), AgeLowerBound: lower, PID: pid, FD: fd,
		}
		if nev%5 != 0 {
			s.Since = time.Unix(0, age).UTC()
		}
		switch nev % 3 {
		case 1:
			s.Evidence = []report.Pos{}
		case 2:
			s.Evidence = []report.Pos{report.FilePos(file), report.SourcePos(text)}
			for i := range nev % 7 {
				s.Evidence = append(s.Evidence, report.Pos{Kind: report.PosKind(i % 5), File: file, N: n + uint64(i)})
			}
		}
		m := sample.Empty()
		m.Sockets = []report.Socket{s, s}
		var got bytes.Buffer
		if err := report.WriteJSON(&got, m); err != nil {
			t.Fatal(err)
		}
		if want := encodedWhole(t, m); !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("got\n%s\nwant\n%s", got.Bytes(), want)
		}
	})
}

// TestVerdictCountsGrouped: the verdict writes counts as the rest of the
// report does, with thousands separators.
func TestVerdictCountsGrouped(t *testing.T) {
	m := sample.Stuck(1200, 1)
	if err := m.Finalize(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains([]byte(m.Verdict.Text), []byte("1,200 sockets in CLOSE_WAIT")) {
		t.Errorf("verdict %q does not say 1,200 sockets", m.Verdict.Text)
	}
}
