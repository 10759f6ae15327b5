//go:build !linux

package pcapstate_test

func resetPeakRSS() bool { return false }

func peakRSS() uint64 { return 0 }
