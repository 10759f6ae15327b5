package dumps

import (
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The -update flag may also be defined by other golden tests of this
// package: it is defined here only when no earlier file did (files
// initialise in name order, and this one sorts last), and read by name.
var _ = defineUpdateFlag()

func defineUpdateFlag() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files from current output")
	}
	return true
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// goldenCheck compares got with the golden file at path, or rewrites it
// with -update.
func goldenCheck(t *testing.T, path string, got []byte) {
	t.Helper()
	if updating() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, _ := os.ReadFile(path) // a missing file reads as empty and shows up in the diff
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is stale (go test -update, then review git diff):\n%s", path, diff)
	}
}

func readTestFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
