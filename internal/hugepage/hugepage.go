// Package hugepage asks the kernel to back large lists with transparent huge
// pages where it can. A list's first writes fault its memory in one page at
// a time; on Linux with transparent huge pages in "madvise" mode (Ubuntu's
// and Debian's default) a 2 MiB page marked so faults in at once instead
// of 512 small ones, and on a virtual machine a fault costs several
// microseconds: the report's 50,000 sockets of the reference capture (12
// MB) took about 3,000 faults. Elsewhere, and for lists under 2 MiB, it
// does nothing.
package hugepage

import "unsafe"

// Size is a transparent huge page's size on the systems that have them.
const Size = 2 << 20

// Advise asks for huge pages over the whole Size-aligned pages inside the n
// bytes at p: memory just allocated and not yet written (its first writes
// then fault in a huge page at a time). Memory already written keeps its
// pages. Advice that cannot be had is dropped.
func Advise(p unsafe.Pointer, n uintptr) { advise(p, n) }

// Make returns make([]T, length, capacity), with huge pages asked for over
// its array (Advise) when that is at least two huge pages long, where a
// huge page lies whole inside it.
func Make[T any](length, capacity int) []T {
	xs := make([]T, length, capacity)
	if n := uintptr(capacity) * unsafe.Sizeof(*new(T)); n >= 2*Size {
		Advise(unsafe.Pointer(unsafe.SliceData(xs)), n)
	}
	return xs
}
