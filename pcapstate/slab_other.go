//go:build !linux

package pcapstate

import "unsafe"

// mapHuge maps nothing on this system: the caller uses the Go heap.
func mapHuge(uintptr) unsafe.Pointer { return nil }

func unmapHuge(unsafe.Pointer, uintptr) {}

func populateChunk(unsafe.Pointer) bool { return false }
