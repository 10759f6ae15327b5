//go:build !linux

package pcapstate

import "unsafe"

// mapChunk maps nothing on this system: every chunk is on the Go heap.
func mapChunk() unsafe.Pointer { return nil }

func unmapChunk(unsafe.Pointer) {}

// mapHuge maps nothing on this system: the caller uses the Go heap.
func mapHuge(uintptr) unsafe.Pointer { return nil }

func unmapHuge(unsafe.Pointer, uintptr) {}

func adviseHuge(unsafe.Pointer, uintptr) {}

func populateDown(unsafe.Pointer, uintptr) {}
