package sockets

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestStateCounts(t *testing.T) {
	tests := []struct {
		file string
		want string // snapshot:state=sockets/rows, space-separated
	}{
		// 10 lsof lines: 4 CLOSE_WAIT sockets, each held by two processes,
		// one of them through two fds in each.
		{"real-lsof-close-wait.txt", "0:CLOSE_WAIT=4/10"},
		{"ss-snapshots-paste.txt", "0:CLOSE_WAIT=2/2 1:CLOSE_WAIT=3/3 2:ESTABLISHED=1/1"},
		{"real-ss-loop.txt", "0:CLOSE_WAIT=4/4 1:CLOSE_WAIT=4/4 2:CLOSE_WAIT=4/4"},
		{"proc-join.txt", "0:TIME_WAIT=1/1 0:CLOSE_WAIT=2/2 0:LISTEN=1/1"},
	}
	for _, tt := range tests {
		data, err := os.ReadFile("../../testdata/sockets/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := testChain().Read(bytes.NewReader(data), tt.file)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range ev.StateCounts() {
			got = append(got, fmt.Sprintf("%d:%s=%d/%d", c.Snapshot, c.State, c.Sockets, c.Rows))
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%s: %s, want %s", tt.file, g, tt.want)
		}
	}
}
