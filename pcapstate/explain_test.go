package pcapstate

import (
	"strings"
	"testing"
)

// TestWritePos checks that explain's allocation-free writePos writes what
// Pos.String does.
func TestWritePos(t *testing.T) {
	for _, p := range []Pos{{}, {File: "a.pcap", Packet: 1}, {File: "dir/b c.pcapng.gz", Packet: 1<<64 - 1}, {File: "x", Packet: 0}} {
		var b strings.Builder
		writePos(&b, p)
		if got, want := b.String(), p.String(); got != want {
			t.Errorf("writePos(%#v) = %q, want %q", p, got, want)
		}
	}
}
