//go:build !amd64 && !arm64

package pcapstate

// prefetch does nothing on this architecture: the engine runs without
// prefetching, slower on large captures.
func prefetch(addrs []uintptr) {}
