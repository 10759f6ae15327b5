package pcapstate

import "testing"

// TestAppendPos checks that explain's allocation-free appendPos writes
// what Pos.String does.
func TestAppendPos(t *testing.T) {
	for _, p := range []Pos{{}, {File: "a.pcap", Packet: 1}, {File: "dir/b c.pcapng.gz", Packet: 1<<64 - 1}, {File: "x", Packet: 0}} {
		if got, want := string(appendPos([]byte("x"), p)), "x"+p.String(); got != want {
			t.Errorf("appendPos(%#v) = %q, want %q", p, got, want)
		}
	}
}
