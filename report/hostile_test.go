package report_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/report/internal/sample"
)

func hostileModel(t *testing.T) *report.Model {
	m := sample.Hostile()
	if err := m.Finalize(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Findings[0].Process.Name, "<script>") || !strings.Contains(m.Warnings[0].Pos.File, "\x1b") {
		t.Fatal("sample.Hostile did not poison the model")
	}
	return m
}

// controlByte matches raw control bytes other than newline and tab.
var controlByte = regexp.MustCompile("[\x00-\x08\x0b-\x1f\x7f]|\u0085|\u202e")

func checkCommon(t *testing.T, format, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s: invalid UTF-8", format)
	}
	if loc := controlByte.FindStringIndex(out); loc != nil {
		t.Errorf("%s: raw control character %q at byte %d", format, out[loc[0]:loc[1]], loc[0])
	}
	for _, bad := range []string{"<script", "</textarea", "<img"} {
		if i := strings.Index(strings.ToLower(out), bad); i >= 0 {
			t.Errorf("%s: raw %q at byte %d: …%s…", format, bad, i, out[max(0, i-40):min(len(out), i+40)])
		}
	}
	if !strings.Contains(out, "alert(1)") {
		t.Errorf("%s: the hostile text was dropped instead of escaped", format)
	}
}

func TestHostileHTML(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteHTML(&b, hostileModel(t)); err != nil {
		t.Fatal(err)
	}
	out := withoutOwnScript(t, b.String())
	checkCommon(t, "html", out)
	if strings.Contains(out, "javascript:alert") && regexp.MustCompile(`(?i)(href|src)="javascript`).MatchString(out) {
		t.Error("html: javascript: URL in an attribute")
	}
	if regexp.MustCompile(`(?i)\son[a-z]+=`).MatchString(stripText(out)) {
		t.Error("html: event handler attribute inside a tag")
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", `\x1b[31mred`, "\uFFFDnul", `\u202eexe`} {
		if !strings.Contains(out, want) {
			t.Errorf("html: want escaped %q", want)
		}
	}
}

// stripText keeps only what is inside tags, where an attribute could hide.
func stripText(html string) string {
	var b strings.Builder
	for _, m := range regexp.MustCompile(`<[^>]*>`).FindAllString(html, -1) {
		b.WriteString(m)
	}
	return b.String()
}

func TestHostileMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteMarkdown(&b, hostileModel(t)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	checkCommon(t, "md", out)
	if regexp.MustCompile(`(^|[^\\])\]\(javascript`).MatchString(out) {
		t.Error("md: live javascript: link")
	}
	// Every table row has as many cell separators as its header.
	cols := 0
	for i, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := unescapedPipes(line)
		if cols == 0 {
			cols = n
			continue
		}
		if n != cols {
			t.Errorf("md line %d: %d cell separators, header has %d: %s", i+1, n, cols, line)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "# ") && !strings.HasPrefix(line, "## ") && !strings.HasPrefix(line, "### ") {
			t.Errorf("md: stray heading %q", line)
		}
	}
}

// unescapedPipes counts the | characters not preceded by an odd number of
// backslashes.
func unescapedPipes(s string) int {
	n, slashes := 0, 0
	for _, r := range s {
		switch {
		case r == '\\':
			slashes++
			continue
		case r == '|' && slashes%2 == 0:
			n++
		}
		slashes = 0
	}
	return n
}

func TestHostileJSON(t *testing.T) {
	m := hostileModel(t)
	var b bytes.Buffer
	if err := report.WriteJSON(&b, m); err != nil {
		t.Fatal(err)
	}
	checkCommon(t, "json", b.String())
	back, err := report.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	// JSON keeps the evidence exactly (escaped, not altered), invalid
	// UTF-8 aside, which becomes U+FFFD.
	want := strings.ToValidUTF8(m.Findings[0].Suspects[0].Name, "\uFFFD")
	if got := back.Findings[0].Suspects[0].Name; got != want {
		t.Errorf("suspect name after a round trip = %q, want %q", got, want)
	}
}
