package report_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/report/internal/sample"
)

func render(t *testing.T, m *report.Model, write func(*bytes.Buffer, *report.Model) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func html(t *testing.T, m *report.Model) string {
	return render(t, m, func(b *bytes.Buffer, m *report.Model) error { return report.WriteHTML(b, m) })
}

func markdown(t *testing.T, m *report.Model) string {
	return render(t, m, func(b *bytes.Buffer, m *report.Model) error { return report.WriteMarkdown(b, m) })
}

// cssRule is the declarations of every rule of the page's style sheet whose
// selector list names sel, joined.
func cssRule(page, sel string) string {
	i, j := strings.Index(page, "<style>"), strings.Index(page, "</style>")
	if i < 0 || j < i {
		return ""
	}
	var out []string
	for _, r := range regexp.MustCompile(`([^{}]+)\{([^{}]*)\}`).FindAllStringSubmatch(page[i+7:j], -1) {
		for _, s := range strings.Split(r[1], ",") {
			if strings.Join(strings.Fields(s), " ") == sel {
				out = append(out, r[2])
			}
		}
	}
	return strings.Join(out, ";")
}

// TestNavCountsStuckSockets: the navigation's socket count is our sockets in
// CLOSE_WAIT, not every row (the peer's FIN_WAIT2, transient ones).
func TestNavCountsStuckSockets(t *testing.T) {
	for _, c := range sample.Cases() {
		m := finalized(t, c)
		page := html(t, m)
		got := regexp.MustCompile(`href="#sockets">Sockets \(([0-9,]+)\)`).FindStringSubmatch(page)
		if got == nil {
			t.Errorf("%s: no socket count in the navigation", c.Name)
			continue
		}
		if want := report.FormatCount(m.Summary.CloseWait); got[1] != want {
			t.Errorf("%s: navigation counts %s sockets, want %s in CLOSE_WAIT (%d rows)", c.Name, got[1], want, len(m.Sockets))
		}
	}
}

// TestCitationsWrap: a long evidence position breaks inside its cell
// instead of overflowing the column.
func TestCitationsWrap(t *testing.T) {
	page := html(t, finalized(t, sample.Cases()[0]))
	r := cssRule(page, ".ev a")
	if !strings.Contains(r, "overflow-wrap: anywhere") || strings.Contains(r, "nowrap") {
		t.Errorf(".ev a is %q: a long citation cannot break inside its cell", r)
	}
}

// TestFramesNotBrokenPerWord: frame names keep their lines whole and scroll
// sideways in their own box instead of wrapping at every word.
func TestFramesNotBrokenPerWord(t *testing.T) {
	page := html(t, finalized(t, sample.Cases()[1]))
	li := cssRule(page, "ol.frames li")
	if !strings.Contains(li, "white-space: nowrap") || strings.Contains(li, "anywhere") {
		t.Errorf("ol.frames li is %q: frame names wrap", li)
	}
	if box := cssRule(page, "ol.frames"); !strings.Contains(box, "overflow-x: auto") {
		t.Errorf("ol.frames is %q: long frames overflow the column", box)
	}
	if !strings.Contains(cssRule(page, "table.suspects"), "table-layout: fixed") {
		t.Error("table.suspects grows with its longest frame: its layout is not fixed")
	}
}

// TestSingleBarChartCompact: a chart with a single bar is a line of text in
// a compact card, not a tall card with one thin bar.
func TestSingleBarChartCompact(t *testing.T) {
	m := finalized(t, sample.Case{Name: "python-no-capture", Model: sample.PythonNoCapture})
	page := html(t, m)
	fig := regexp.MustCompile(`(?s)<figure class="compact">\s*<figcaption>By local port.*?</figure>`).FindString(page)
	if fig == "" {
		t.Fatalf("the single-port chart is not compact:\n%s", regexp.MustCompile(`(?s)<figure.*?By local port.*?</figure>`).FindString(page))
	}
	if strings.Contains(fig, "<svg") {
		t.Errorf("compact chart still draws an SVG:\n%s", fig)
	}
	if want := fmt.Sprintf("all %d on :9000", m.Summary.CloseWait); !strings.Contains(fig, want) {
		t.Errorf("compact chart does not say %q:\n%s", want, fig)
	}
	if !strings.Contains(cssRule(page, ".charts"), "align-items: start") {
		t.Error("chart cards stretch to the height of their row")
	}
}

// TestMarkdownSaysWhatIsLeftOut: the Markdown socket table says how many
// sockets it does not show and where they are.
func TestMarkdownSaysWhatIsLeftOut(t *testing.T) {
	m := finalized(t, sample.Case{Name: "go-server-leak", Model: sample.GoServerLeak})
	md := markdown(t, m)
	want := fmt.Sprintf("%d more sockets not shown; see the JSON report", len(m.Sockets)-report.MarkdownSocketRows)
	if !strings.Contains(md, want) {
		t.Errorf("markdown does not say %q", want)
	}
}

// TestCitationsBounded: a socket citing many positions shows the first
// report.CiteRows and says how many more, in both formats.
func TestCitationsBounded(t *testing.T) {
	m := sample.Stuck(3, 1)
	for i := range 40 {
		m.Sockets[0].Evidence = append(m.Sockets[0].Evidence, report.TextPos(dumps.Pos{File: "lsof.txt", Line: 100 + i}))
	}
	n := len(m.Sockets[0].Evidence)
	if err := m.Finalize(); err != nil {
		t.Fatal(err)
	}
	more := fmt.Sprintf("and %d more", n-report.CiteRows)
	for format, out := range map[string]string{"html": html(t, m), "md": markdown(t, m)} {
		if !strings.Contains(out, more) {
			t.Errorf("%s does not say %q", format, more)
		}
		if strings.Contains(out, "lsof.txt:139") {
			t.Errorf("%s lists the 40th citation", format)
		}
	}
}
