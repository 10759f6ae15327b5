//go:build !linux

package pcapstate

import "unsafe"

// mapChunk maps nothing on this system: every chunk is on the Go heap.
func mapChunk() unsafe.Pointer { return nil }

func unmapChunk(unsafe.Pointer) {}

func adviseHuge(unsafe.Pointer, uintptr) {}
