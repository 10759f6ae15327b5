package report

import (
	"testing"

	"github.com/cwforensics/cwforensics/pcapstate"
)

// TestCaptureInput checks the status a capture gets from what pcapstate
// says of it.
func TestCaptureInput(t *testing.T) {
	tests := []struct {
		name   string
		f      pcapstate.FileStats
		status InputStatus
		cause  InputCause
	}{
		{"tcp", pcapstate.FileStats{Packets: 10, Segments: 8}, InputRead, CauseNone},
		{"empty", pcapstate.FileStats{Ignored: "no packets"}, InputIgnored, CauseEmpty},
		{"link type", pcapstate.FileStats{Packets: 3, LinkTypes: []string{"linktype-147"}, UnsupportedLinkTypes: []uint32{147}, Ignored: "unsupported link type 147"}, InputIgnored, CauseLinkType},
		{"no tcp", pcapstate.FileStats{Packets: 4, LinkTypes: []string{"ethernet"}, Ignored: "no TCP segment in 4 packets (udp 4)"}, InputIgnored, CauseNoTCP},
		{"all filtered", pcapstate.FileStats{Packets: 4, Filtered: 4, LinkTypes: []string{"ethernet"}, Ignored: "all 4 packets filtered out"}, InputRead, CauseNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Name = "c.pcap"
			in := CaptureInput(&tt.f, &pcapstate.Result{})
			if in.Status != tt.status || in.Cause != tt.cause {
				t.Errorf("status %s, cause %s; want %s, %s (reason %q)", in.Status, in.Cause, tt.status, tt.cause, in.Reason)
			}
			if tt.status == InputIgnored && tt.cause != CauseEmpty && in.Reason != tt.f.Ignored {
				t.Errorf("reason %q, want pcapstate's %q", in.Reason, tt.f.Ignored)
			}
		})
	}
}
