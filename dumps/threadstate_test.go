package dumps

import "testing"

func TestThreadState(t *testing.T) {
	tests := []struct {
		state, status, want string
	}{
		{"TIMED_WAITING", "waiting on condition", "TIMED_WAITING"},
		{"", "runnable", "RUNNABLE"},
		{"", "waiting for monitor entry", "BLOCKED"},
		{"", "in Object.wait()", "WAITING"},
		{"", "waiting on condition", "WAITING"},
		{"", "alive, in native, waiting, daemon", "WAITING"},
		{"", "alive, blocked (on thin lock), daemon", "BLOCKED"},
		{"", "alive, in native, sleeping", "TIMED_WAITING"},
		{"", "alive, in native, parked, daemon", "WAITING"},
		{"", "alive, in native, daemon", "RUNNABLE"},
		{"", "alive, native_waiting, daemon", "RUNNABLE"},
		{"", "suspended", ""},
	}
	for _, tt := range tests {
		if got := threadState(&Thread{State: tt.state, Status: tt.status}); got != tt.want {
			t.Errorf("threadState(%q, %q) = %q, want %q", tt.state, tt.status, got, tt.want)
		}
	}
}
