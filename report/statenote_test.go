package report

import (
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
