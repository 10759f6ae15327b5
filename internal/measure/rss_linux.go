package measure

import (
	"bytes"
	"os"
	"strconv"
)

// ResetPeakRSS starts a new measurement of the process's peak resident
// memory (Linux 4.0 and later); it reports whether that is possible.
func ResetPeakRSS() bool { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil }

// PeakRSS returns the process's peak resident memory since ResetPeakRSS:
// every page it touched, Go heap or not.
func PeakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
