package golden

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMakeGoldenPackages: make golden passes -update to every package that
// keeps goldens of its own under its testdata/, those whose tests reach
// this package through a helper (dumps/internal/dumptest) included, so
// that no golden is left stale by it. The goldens of the repository's
// testdata/ are shared by several packages and not checked here.
func TestMakeGoldenPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs make and go list")
	}
	for _, tool := range []string{"make", "git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	const root, module = "../..", "github.com/cwforensics/cwforensics"
	out, err := exec.Command("make", "-s", "--no-print-directory", "-C", root, "golden-packages").Output()
	if err != nil {
		t.Fatalf("make golden-packages: %v", err)
	}
	pkgs := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		pkgs[p] = true
	}
	files, err := exec.Command("git", "-C", root, "ls-files", "*.golden*").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a checkout)", err)
	}
	checked := 0
	for _, f := range strings.Fields(string(files)) {
		dir, _, ok := strings.Cut(f, "/testdata/")
		if !ok {
			continue // the repository's testdata/
		}
		checked++
		if !pkgs[module+"/"+dir] {
			t.Errorf("%s: %s is not among make golden's packages:\n%s", f, dir, out)
			pkgs[module+"/"+dir] = true // once per package
		}
	}
	if checked == 0 {
		t.Errorf("no golden file below a package's testdata/: the test checks nothing")
	}
}
