package sockets

import "testing"

func TestLsofUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"java":            "java",
		`order\x20`:       "order ",
		`order\x20gatewa`: "order gatewa",
		`a\x1bb`:          "a\x1bb",
		`bad\xzz`:         `bad\xzz`,
		`cut\x2`:          `cut\x2`,
		`back\slash`:      `back\slash`,
		`end\x`:           `end\x`,
	} {
		if got := lsofUnescape(in); got != want {
			t.Errorf("lsofUnescape(%q) = %q, want %q", in, got, want)
		}
	}
}
