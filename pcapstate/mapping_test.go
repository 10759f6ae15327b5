package pcapstate

import "testing"

// TestMappingPopulateEnds checks that release waits for the goroutine
// populate started, so that it never faults in memory unmapped (or mapped
// again by someone else) after its owner released it.
func TestMappingPopulateEnds(t *testing.T) {
	m := newMapping(4 * chunkBytes)
	if m == nil {
		t.Skip("no memory mapped outside the Go heap on this system")
	}
	m.populate()
	m.release()
	select {
	case <-m.populated:
	default:
		t.Fatal("populate's goroutine outlived release")
	}
}
