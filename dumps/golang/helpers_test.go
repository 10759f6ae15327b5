package golang

import (
	"testing"

	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

const conf = "../../testdata/conformance/"

func readTestFile(tb testing.TB, path string) []byte {
	tb.Helper()
	return dumptest.ReadFile(tb, path)
}
