package dumps

import (
	"os"
	"testing"
)

func readTestFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// testChain is the chain of the formats dumps reads itself, in the order
// analysis.Formats tries them; the Go formats are dumps/golang's.
func testChain() Chain { return append(JVMFormats(), SocketFormats()...) }
