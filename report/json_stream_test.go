package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
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
		"hostile": sample.Hostile(), "stuck": sample.Stuck(300, 3), "empty list": empty, "nil": none,
	} {
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			if err := report.WriteJSON(&got, m); err != nil {
				t.Fatal(err)
			}
			var whole bytes.Buffer
			enc := json.NewEncoder(&whole)
			enc.SetIndent("", "  ")
			if err := enc.Encode(m); err != nil {
				t.Fatal(err)
			}
			var want []byte
			for _, r := range whole.String() {
				if r != '\n' && r != '\t' && (r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
					want = fmt.Appendf(want, `\u%04x`, r)
					continue
				}
				want = utf8.AppendRune(want, r)
			}
			if !bytes.Equal(got.Bytes(), want) {
				i := 0
				for i < min(got.Len(), len(want)) && got.Bytes()[i] == want[i] {
					i++
				}
				t.Fatalf("differs at byte %d: got %q, want %q", i, got.Bytes()[max(0, i-40):min(got.Len(), i+40)], want[max(0, i-40):min(len(want), i+40)])
			}
		})
	}
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
