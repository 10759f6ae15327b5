package report

import (
	"testing"
	"unicode/utf8"
)

// TestAllVisible: allVisible, which skips ASCII a byte at a time, agrees
// with needsRewrite read rune by rune, so that visible (HTML, Markdown)
// and writeSafe (JSON) leave alone exactly the same texts.
func TestAllVisible(t *testing.T) {
	for _, s := range []string{
		"", "plain ascii", "tab\tand\nnewline", "del\x7f", "nul\x00", "cr\r", "esc\x1b[31m",
		"c1\u0085", "bidi\u202e", "isolate\u2066", "ls\u2028", "bom\ufeff", "lrm\u200e",
		"format\u0605", "é ü 漢字", "bad\xff", "cut\xe6\xbc",
	} {
		want := true
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if needsRewrite(r, size) {
				want = false
			}
			i += size
		}
		if got := allVisible([]byte(s)); got != want {
			t.Errorf("allVisible(%q) = %v, want %v", s, got, want)
		}
	}
}
