package report

import (
	"io"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/chain"
)

// readDumps reads test evidence through the chain analysis reads with
// (analysis imports report, so report's tests cannot call it).
func readDumps(r io.Reader, name string) (*dumps.Evidence, error) {
	return chain.Formats().Read(r, name)
}
