//go:build !pcap

package pcapstate

// FilterAvailable reports whether this build can apply BPF filters.
const FilterAvailable = false

func newFilter(expr string) (filter, error) {
	if expr == "" {
		return nil, nil
	}
	return nil, ErrNoFilter
}
