package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// asCLI, set in a test binary's environment, makes it run as cwforensics,
// so that a test can run shell recipes that call the command by name.
const asCLI = "CWFORENSICS_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		os.Exit(runContext(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// cliOnPath puts a cwforensics command that runs this test binary first on
// a PATH it returns.
func cliOnPath(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\n%s=1 exec %q \"$@\"\n", asCLI, exe)
	if err := os.WriteFile(filepath.Join(bin, "cwforensics"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin + string(os.PathListSeparator) + os.Getenv("PATH")
}

// docBlock returns the shell block of a doc between <!-- name --> and
// <!-- /name -->.
func docBlock(t *testing.T, path, name string) string {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "<!-- "+name+" -->")
	block, _, ok2 := strings.Cut(block, "<!-- /"+name+" -->")
	_, block, ok3 := strings.Cut(block, "```sh\n")
	block, _, ok4 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 || !ok4 {
		t.Fatalf("%s has no %s block", path, name)
	}
	return block
}

// TestScaleRecipe runs docs/scale.md's one-host recipe (xargs -P over
// partial, then analyze) on rotated gzip-compressed captures of a load
// with leaks, and checks that the merged partial states list exactly the
// connections the captures do.
func TestScaleRecipe(t *testing.T) {
	dir, caps := recipeFolder(t)
	runRecipe(t, dir, "one-host-recipe")
	parts, _ := filepath.Glob(filepath.Join(dir, "partial", "*.cwfp"))
	if len(parts) != len(caps) {
		t.Fatalf("%d partial states for %d captures", len(parts), len(caps))
	}
	checkRecipeReport(t, dir, `"kind": "pcap, from partial state partial/capture-03.pcap.gz.cwfp"`)
	sameConns(t, dir, caps, filepath.Join(dir, "partial"))
}

// TestScaleTreeRecipe runs docs/scale.md's tree of merges on one host
// (partial on each capture, partial on those four at a time, then analyze
// on the merged ones), and checks that the report still lists every
// capture with the partial states it came through, and that the merged
// partial states list exactly the connections the captures do.
func TestScaleTreeRecipe(t *testing.T) {
	dir, caps := recipeFolder(t)
	runRecipe(t, dir, "tree-recipe")
	merged, _ := filepath.Glob(filepath.Join(dir, "merged", "*.cwfp"))
	if want := (len(caps) + 3) / 4; len(merged) != want {
		t.Fatalf("%d merged partial states for %d captures, want %d", len(merged), len(caps), want)
	}
	checkRecipeReport(t, dir, `"kind": "pcap, from partial state merged/capture-00.pcap.gz.cwfp (merged from partial/capture-03.pcap.gz.cwfp)"`)
	sameConns(t, dir, caps, filepath.Join(dir, "merged"))
}

// recipeFolder writes the folder the recipes run in: rotated
// gzip-compressed captures of a load with leaks (capture-*.pcap.gz) and
// evidence/.
func recipeFolder(t *testing.T) (string, []string) {
	t.Helper()
	for _, tool := range []string{"bash", "xargs", "nproc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s to run the recipe with", tool) // the recipe is GNU/Linux's
		}
	}
	inRoot(t)
	dir := t.TempDir()
	var b bytes.Buffer
	if _, err := capgen.Load(&b, capgen.LoadOptions{Conns: 4000, Open: 400, LeakEvery: 9, Step: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var caps []string
	for i, f := range splitPcapFile(t, b.Bytes(), 9973) {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(f)
		zw.Close()
		name := filepath.Join(dir, fmt.Sprintf("capture-%02d.pcap.gz", i))
		if err := os.WriteFile(name, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		caps = append(caps, name)
	}
	os.MkdirAll(filepath.Join(dir, "evidence"), 0o755)
	ss, err := os.ReadFile("testdata/cases/java-pool-leak/ss-tanpoei.txt")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "evidence", "ss.txt"), ss, 0o644)
	return dir, caps
}

// runRecipe runs docs/scale.md's block name in dir.
func runRecipe(t *testing.T, dir, name string) {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", docBlock(t, "docs/scale.md", name))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+cliOnPath(t))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("recipe: %v\n%s", err, out)
	}
}

// checkRecipeReport checks the recipe's report files, and that the JSON
// lists the captures behind the partial states, one of them with kind.
func checkRecipeReport(t *testing.T, dir, kind string) {
	t.Helper()
	for _, f := range []string{"report.html", "report.json"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	js, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if !bytes.Contains(js, []byte(`"path": "capture-03.pcap.gz"`)) {
		t.Errorf("the report does not list the captures behind the partial states")
	}
	if !bytes.Contains(js, []byte(kind)) {
		t.Errorf("the report does not say %s", kind)
	}
}

// sameConns checks that conns on the folder of partial states lists what
// it lists on the captures, with their CLOSE_WAIT.
func sameConns(t *testing.T, dir string, caps []string, folder string) {
	t.Helper()
	code, fromCaps, stderr := cli(t, append([]string{"conns", "--jobs", "1", "--format", "tsv"}, caps...)...)
	if code != 0 {
		t.Fatalf("conns on the captures: exit %d: %s", code, stderr)
	}
	code, fromParts, stderr := cli(t, "conns", "--format", "tsv", folder)
	if code != 0 {
		t.Fatalf("conns on the partial states: exit %d: %s", code, stderr)
	}
	// Positions name the captures as partial named them: without the folder.
	fromCaps = strings.ReplaceAll(fromCaps, dir+"/", "")
	if fromParts != fromCaps {
		t.Errorf("conns differs between the partial states and the captures")
	}
	if n := strings.Count(fromParts, "\tCLOSE_WAIT\t"); n < 4000/9 {
		t.Errorf("%d CLOSE_WAIT rows, want at least %d", n, 4000/9)
	}
}

func splitPcapFile(t *testing.T, b []byte, n int) [][]byte {
	t.Helper()
	files, err := capgen.SplitPcap(b, n)
	if err != nil {
		t.Fatal(err)
	}
	return files
}
