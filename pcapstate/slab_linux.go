package pcapstate

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapHuge maps n bytes (a multiple of chunkBytes) outside the Go heap, on
// a chunkBytes boundary, with transparent huge pages asked for; nil if it
// cannot.
func mapHuge(n uintptr) unsafe.Pointer {
	// Map a chunk more and unmap what lies outside the aligned middle.
	p, err := unix.MmapPtr(-1, 0, nil, n+chunkBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil
	}
	start := uintptr(p)
	aligned := (start + chunkBytes - 1) &^ (chunkBytes - 1)
	if head := aligned - start; head > 0 {
		_ = unix.MunmapPtr(p, head)
	}
	if tail := start + n + chunkBytes - (aligned + n); tail > 0 {
		_ = unix.MunmapPtr(unsafe.Add(p, aligned+n-start), tail)
	}
	q := unsafe.Add(p, aligned-start)
	// Without huge pages (disabled, or another page size) the memory
	// still works with small ones.
	_ = unix.Madvise(unsafe.Slice((*byte)(q), n), unix.MADV_HUGEPAGE)
	return q
}

// unmapHuge returns n bytes from mapHuge to the system.
func unmapHuge(p unsafe.Pointer, n uintptr) { _ = unix.MunmapPtr(p, n) }

// populateChunk faults in the chunk at p (in memory from mapHuge) without
// writing it (MADV_POPULATE_WRITE, Linux 5.14 and later); it reports
// false if it cannot (earlier kernels refuse it: the pages fault in when
// written). A chunk already faulted in costs a page-table walk.
func populateChunk(p unsafe.Pointer) bool {
	return unix.Madvise(unsafe.Slice((*byte)(p), chunkBytes), unix.MADV_POPULATE_WRITE) == nil
}
