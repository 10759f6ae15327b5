package main

import (
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The -update flag and checkGolden are shared by every golden test of the
// command (one definition per package).
var update = flag.Bool("update", false, "rewrite golden files from current output")

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
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
