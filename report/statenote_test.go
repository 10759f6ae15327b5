package report

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
)

// TestStateFilterNote: an ss listing with a state filter (no State column)
// gets one note, at its first row, saying where its states came from, and
// not the parser's note that they are unknown beside it.
func TestStateFilterNote(t *testing.T) {
	const full = "State      Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
		"CLOSE-WAIT 1      0      10.0.0.1:8080      10.0.0.2:51234    users:((\"api\",pid=7,fd=9))\n"
	const filtered = "Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
		"1      0      10.0.0.1:8080      10.0.0.2:51234    users:((\"api\",pid=7,fd=9))\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string // the notes about ss-state.txt and ss-close-wait.txt
	}{
		{"from another listing", map[string]string{"ss.txt": full, "ss-state.txt": filtered},
			[]string{"ss-state.txt:2: the listing prints no state (an ss state filter); states were taken from the same socket in another listing"}},
		{"from the file name", map[string]string{"ss-close-wait.txt": filtered},
			[]string{"ss-close-wait.txt:2: the listing prints no state (an ss state filter); states were taken from the file name ss-close-wait.txt"}},
		{"nowhere", map[string]string{"ss-state.txt": filtered},
			[]string{"ss-state.txt:2: " + dumps.NoStateNote}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var evs []*dumps.Evidence
			for _, name := range []string{"ss.txt", "ss-state.txt", "ss-close-wait.txt"} {
				text, ok := tt.files[name]
				if !ok {
					continue
				}
				ev, err := readDumps(strings.NewReader(text), name)
				if err != nil {
					t.Fatal(err)
				}
				evs = append(evs, ev)
			}
			m, err := Build(BuildInput{Evidence: evs})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range m.Warnings {
				if strings.Contains(w.Msg, "State column") || strings.Contains(w.Msg, "prints no state") {
					got = append(got, w.Pos.String()+": "+w.Msg)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestStateFilterNoteByKind: the report knows the parser's note by its
// kind, not its text. A real `ss -tanp state close-wait` (saved as
// ss-close-wait.txt, so the file name says the state) gets the report's
// note in place of the parser's, whatever the parser's words; another
// warning that quotes them is shown as it is.
func TestStateFilterNoteByKind(t *testing.T) {
	data, err := os.ReadFile("../testdata/real/sockets/ss-tanp-state-close-wait.txt")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := readDumps(bytes.NewReader(data), "ss-close-wait.txt")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ev.Warnings, func(w dumps.Warning) bool { return w.Kind == dumps.WarnNoState })
	if i < 0 {
		t.Fatalf("the parser's note has no kind: %v", ev.Warnings)
	}
	// The parser's words may change; the report's note must not.
	ev.Warnings[i].Msg = "ss: no State column"
	quoted := dumps.Warning{Pos: dumps.Pos{File: "ss-close-wait.txt", Line: 9}, Msg: dumps.NoStateNote}
	ev.Warnings = append(ev.Warnings, quoted)
	m, err := Build(BuildInput{Evidence: []*dumps.Evidence{ev}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range m.Warnings {
		got = append(got, w.Pos.String()+": "+w.Msg)
	}
	want := []string{
		"ss-close-wait.txt:2: the listing prints no state (an ss state filter); states were taken from the file name ss-close-wait.txt",
		"ss-close-wait.txt:9: " + dumps.NoStateNote,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
