// Package golden compares test output with golden files. Tests of every
// package use it, so that one -update flag rewrites them all:
//
//	make golden   (go test -update on the packages that link this one)
//
// and then the diff is reviewed like code.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is registered in every test binary that imports this package.
var update = flag.Bool("update", false, "rewrite golden files from current output")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Check compares got with the golden file at path; with -update it writes
// got there instead (creating the folder). A missing golden file reads as
// empty and shows up in the diff.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, _ := os.ReadFile(path)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is stale (go test -update, then review git diff):\n%s", path, diff)
	}
}
