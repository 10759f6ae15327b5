package report

import (
	"io"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/golang"
	"github.com/cwforensics/cwforensics/dumps/jvm"
	"github.com/cwforensics/cwforensics/dumps/sockets"
)

// readDumps reads test evidence through the chain analysis.Formats builds
// (analysis imports report, so report's tests cannot call it).
func readDumps(r io.Reader, name string) (*dumps.Evidence, error) {
	var c dumps.Chain
	c = append(c, jvm.Formats()...)
	c = append(c, golang.Formats()...)
	c = append(c, sockets.Formats()...)
	return c.Read(r, name)
}
