package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{180 * time.Millisecond, "180ms"},
		{999 * time.Millisecond, "999ms"},
		{time.Second, "1s"},
		{59*time.Second + 999*time.Millisecond, "59s"},
		{time.Minute, "1m00s"},
		{14*time.Minute + 32*time.Second + 900*time.Millisecond, "14m32s"},
		{time.Hour + 3*time.Minute + 59*time.Second, "1h03m"},
		{23*time.Hour + 59*time.Minute, "23h59m"},
		{3*24*time.Hour + 4*time.Hour + 59*time.Minute, "3d04h"},
		{-90 * time.Second, "-1m30s"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestCount: a count in a sentence is written as FormatCount writes it by
// %d and %v, and as an int by other verbs.
func TestCount(t *testing.T) {
	for _, tt := range []struct {
		format string
		n      int
		want   string
	}{
		{"%d sockets", 50_000, "50,000 sockets"},
		{"%v", 1_234_567, "1,234,567"},
		{"%d", -4096, "-4,096"},
		{"%d", 999, "999"},
		{"%x", 255, "ff"},
	} {
		if got := fmt.Sprintf(tt.format, count(tt.n)); got != tt.want {
			t.Errorf("Sprintf(%q, count(%d)) = %q, want %q", tt.format, tt.n, got, tt.want)
		}
	}
}

func TestFormatCountGrowthConfidence(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4096: "-4,096"} {
		if got := FormatCount(n); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", n, got, want)
		}
	}
	for g, want := range map[float64]string{0: "0/min", 0.04: "0/min", -0.04: "0/min", 9.25: "+9.2/min", -2: "-2.0/min"} {
		if got := FormatGrowth(g); got != want {
			t.Errorf("FormatGrowth(%v) = %q, want %q", g, got, want)
		}
	}
	for c, want := range map[float64]string{0: "low", 0.39: "low", 0.4: "medium", 0.74: "medium", 0.75: "high", 1: "high"} {
		if got := ConfidenceLabel(c); got != want {
			t.Errorf("ConfidenceLabel(%v) = %q, want %q", c, got, want)
		}
	}
}

func TestMDEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text 10.0.0.1:80", "plain text 10.0.0.1:80"},
		{"a|b", `a\|b`},
		{"`x`", "\\`x\\`"},
		{"*b* _i_ ~s~", `\*b\* \_i\_ \~s\~`},
		{"<script>", "&lt;script&gt;"},
		{"a & b", "a &amp; b"},
		{"[x](javascript:alert(1))", `\[x\](javascript:alert(1))`},
		{"# title", `\# title`},
		{"a # b", "a # b"},
		{"- item", `\- item`},
		{"line\nbreak\r\n", "line break  "},
		{"esc\x1b[31m", `esc\\x1b\[31m`},
		{"nul\x00", `nul\\x00`},
		{"rtl\u202eexe", `rtl\\u202eexe`},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{`back\slash`, `back\\slash`},
	}
	for _, tt := range tests {
		if got := mdEscape(tt.in); got != tt.want {
			t.Errorf("mdEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMDCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"defer conn.Close()", "`defer conn.Close()`"},
		{"a`b", "``a`b``"},
		{"`x`", "`` `x` ``"},
		{"ss -tan | wc -l", `ss -tan \| wc -l`},
		{"<b>", "&lt;b&gt;"},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in); got != tt.want {
			t.Errorf("mdCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVisible(t *testing.T) {
	in := "ok\n\tline \x1b[31m\x00 \x7f \u0085 \u202e \xfe end"
	got := string(visible([]byte(in)))
	want := "ok\n\tline \\x1b[31m\\x00 \\x7f \\x85 \\u202e \uFFFD end"
	if got != want {
		t.Errorf("visible(%q) = %q, want %q", in, got, want)
	}
	if s := "clean <b> text\n"; string(visible([]byte(s))) != s {
		t.Errorf("visible changed clean text")
	}
}

func TestSpans(t *testing.T) {
	got := spans("use `defer c.Close()` after `Dial`.")
	want := []Span{{"use ", false}, {"defer c.Close()", true}, {" after ", false}, {"Dial", true}, {".", false}}
	if !slices.Equal(got, want) {
		t.Errorf("spans = %+v, want %+v", got, want)
	}
}

// FuzzMDEscape checks the escape's invariants on any input: one line, no
// control character, no raw markup character, every pipe escaped.
func FuzzMDEscape(f *testing.F) {
	for _, s := range []string{"a|b", "<script>alert(1)</script>", "[x](javascript:1)", "\x1b[31m\x00\n", "\\|", "# h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := mdEscape(s)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 in %q", got)
		}
		if strings.ContainsAny(got, "<>\n\r") {
			t.Fatalf("raw markup or line break in %q", got)
		}
		if strings.IndexFunc(got, func(r rune) bool { return needsRewrite(r, 1) && r != utf8.RuneError }) >= 0 {
			t.Fatalf("control character in %q", got)
		}
		if n := unescapedPipes(got); n != 0 {
			t.Fatalf("%d unescaped pipes in %q", n, got)
		}
	})
}

// unescapedPipes counts the | characters not preceded by an odd number of
// backslashes: the ones that would split a Markdown table cell.
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

func TestAxis(t *testing.T) {
	for _, tt := range []struct{ peak, max, step int }{
		{0, 1, 1}, {1, 1, 1}, {3, 3, 1}, {4, 4, 1}, {5, 6, 2}, {8, 8, 2}, {9, 10, 5}, {20, 20, 5},
		{50, 60, 20}, {137, 150, 50}, {200, 200, 50}, {4097, 6000, 2000},
	} {
		if m, s := axis(tt.peak); m != tt.max || s != tt.step {
			t.Errorf("axis(%d) = %d, %d; want %d, %d", tt.peak, m, s, tt.max, tt.step)
		}
	}
}

func TestTopOf(t *testing.T) {
	counts := map[barKey]int{portKey(8080): 40, portKey(9090): 3}
	for i := range 20 {
		counts[portKey(uint16(33000+i))] = 1
	}
	got := topOf(counts, "ports")
	want := []Bar{{Label: ":8080", Count: 40}, {Label: ":9090", Count: 3}, {Label: "20 ports, 1 each", Count: 20}}
	if !slices.Equal(got, want) {
		t.Errorf("topOf = %+v, want %+v", got, want)
	}
	many := map[barKey]int{}
	for i := range 12 {
		many[portKey(uint16(8000+i))] = 2 + i
	}
	got = topOf(many, "ports")
	if len(got) != topBars || got[0] != (Bar{Label: ":8011", Count: 13}) || got[topBars-1] != (Bar{Label: "5 others", Count: 2 + 3 + 4 + 5 + 6}) {
		t.Errorf("topOf(12 ports) = %+v", got)
	}
}
