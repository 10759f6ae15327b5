package report_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/report/internal/sample"
)

// TestReportSizeBounded renders incidents of 45k and 400k stuck sockets:
// the HTML page and the Markdown stay small and say what they leave out,
// the JSON keeps every socket.
func TestReportSizeBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 445k sockets")
	}
	const maxHTML, maxMD = 8 << 20, 256 << 10
	for _, tt := range []struct{ n, procs int }{{45_000, 1}, {400_000, 3}} {
		t.Run(fmt.Sprintf("%d-sockets-%d-procs", tt.n, tt.procs), func(t *testing.T) {
			m := sample.Stuck(tt.n, tt.procs)
			if err := m.Finalize(); err != nil {
				t.Fatal(err)
			}
			if m.Summary.CloseWait != tt.n {
				t.Fatalf("model has %d stuck sockets, want %d", m.Summary.CloseWait, tt.n)
			}
			page := html(t, m)
			if len(page) > maxHTML {
				t.Errorf("HTML is %d bytes, over %d", len(page), maxHTML)
			}
			checkSelfContained(t, page)
			if got := strings.Count(page, `<tr id="sock-`); got != report.HTMLSocketRows {
				t.Errorf("HTML lists %d sockets, want %d", got, report.HTMLSocketRows)
			}
			hidden := len(m.Sockets) - report.HTMLSocketRows
			if want := fmt.Sprintf("%s more sockets not shown", report.FormatCount(hidden)); !strings.Contains(page, want) {
				t.Errorf("HTML does not say %q", want)
			}
			if !strings.Contains(page, "complete list is in the JSON report") {
				t.Error("HTML does not point at the JSON report for the complete list")
			}
			if want := fmt.Sprintf(`<td class="num">%s</td><td class="num">100%%</td>`, report.FormatCount(tt.n/tt.procs)); tt.procs == 1 && !strings.Contains(page, want) {
				t.Errorf("HTML has no aggregate row %q for the one process", want)
			}
			md := markdown(t, m)
			if len(md) > maxMD {
				t.Errorf("Markdown is %d bytes, over %d", len(md), maxMD)
			}
			if want := fmt.Sprintf("%s more sockets not shown; see the JSON report", report.FormatCount(len(m.Sockets)-report.MarkdownSocketRows)); !strings.Contains(md, want) {
				t.Errorf("Markdown does not say %q", want)
			}
			t.Logf("%d sockets: HTML %d bytes, Markdown %d bytes", len(m.Sockets), len(page), len(md))
			if tt.n > 50_000 {
				return // the JSON of 400k sockets is 250 MB: the smaller case shows it keeps them all
			}
			var js bytes.Buffer
			if err := report.WriteJSON(&js, m); err != nil {
				t.Fatal(err)
			}
			back, err := report.ReadJSON(&js)
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Sockets) != len(m.Sockets) {
				t.Errorf("JSON has %d sockets, want all %d", len(back.Sockets), len(m.Sockets))
			}
		})
	}
}
