package jvm

import (
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
	"github.com/cwforensics/cwforensics/dumps/sockets"
)

const conf = "../../testdata/conformance/"

func readTestFile(tb testing.TB, path string) []byte {
	tb.Helper()
	return dumptest.ReadFile(tb, path)
}

// chain is the JVM formats and the socket listings, which the JVM inputs
// hold next to the dumps, in the order of analysis.Formats; analysis
// tests the whole chain.
func chain() dumps.Chain { return append(Formats(), sockets.Formats()...) }

// sniffLen is how much of a file a dumps.Chain looks at.
const sniffLen = 64 << 10
