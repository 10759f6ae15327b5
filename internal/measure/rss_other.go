//go:build !linux

package measure

// ResetPeakRSS reports that the peak resident memory cannot be measured here.
func ResetPeakRSS() bool { return false }

// PeakRSS returns 0: not measured on this OS.
func PeakRSS() uint64 { return 0 }
