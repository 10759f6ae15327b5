package pcapstate

import "errors"

// ErrNoFilter is returned when a BPF filter is asked of a build without
// libpcap (CGO_ENABLED=0 or built with the nopcap tag).
var ErrNoFilter = errors.New("BPF filters need libpcap, and this build has none (it was built with CGO_ENABLED=0 or -tags nopcap); filter the capture with tcpdump -r IN -w OUT 'EXPR' first, or use a build with libpcap")

// filter matches packets against a compiled BPF expression.
type filter interface {
	match(rec *record) (bool, error)
}
