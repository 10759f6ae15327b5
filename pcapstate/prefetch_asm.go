//go:build amd64 || arm64

package pcapstate

// prefetch asks the CPU to bring the cache lines at addrs into its caches
// and returns without waiting for them. An address is only a hint: a bad
// one does not fault. Go has no prefetch of its own; a load would wait.
//
//go:noescape
func prefetch(addrs []uintptr)
