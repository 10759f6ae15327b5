package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// TestAppendJSONStringEveryRune: appendJSONString writes every rune, and
// every byte alone (invalid UTF-8 from 0x80 on), as encoding/json quotes
// it made safe by writeSafe, between ASCII letters and next to each
// other, so that its table of raw ASCII and its escapes hold for all of
// them.
func TestAppendJSONStringEveryRune(t *testing.T) {
	var texts []string
	for b := range 256 {
		texts = append(texts, "a"+string([]byte{byte(b)})+"z", string([]byte{byte(b), byte(b)}))
	}
	var run []rune
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		run = append(run, r, 'x')
		if len(run) == 512 || r == utf8.MaxRune {
			texts = append(texts, string(run))
			run = run[:0]
		}
	}
	for _, s := range texts {
		enc, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		w := bufio.NewWriter(&want)
		if err := writeSafe(w, enc); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if got := appendJSONString(nil, s); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%+q: got %s, want %s", s, got, want.Bytes())
		}
	}
}
