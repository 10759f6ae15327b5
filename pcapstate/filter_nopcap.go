//go:build !pcap

package pcapstate

// newFilter returns the matcher of a filter expression, nil for none. This
// build has the pure-Go filter only: an expression outside its subset is
// an error that says which part and names the libpcap build.
func newFilter(expr string) (matcher, error) {
	if expr == "" {
		return nil, nil
	}
	f, err := newGoFilter(expr)
	if err != nil {
		return nil, err
	}
	return f, nil
}
