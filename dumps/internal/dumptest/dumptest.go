// Package dumptest holds what the tests of dumps and its families share:
// the plain text form of the goldens of testdata/dumps and the list of
// their inputs.
package dumptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/internal/golden"
)

// WriteEvidence writes ev in the plain text form of the goldens of
// testdata/dumps.
func WriteEvidence(b *bytes.Buffer, ev *dumps.Evidence) {
	fmt.Fprintf(b, "kind %s\n", ev.Kind)
	for _, d := range ev.ThreadDumps {
		fmt.Fprintf(b, "\nthread dump %s pid=%d time=%q vm=%q threads=%d smr_length=%d jni_global_refs=%d reported_deadlock_count=%d\n",
			d.Pos, d.PID, d.Time, d.VM, len(d.Threads), d.SMRLength, d.JNIGlobalRefs, d.ReportedDeadlockCount)
		for _, t := range d.Threads {
			fmt.Fprintf(b, "%s %s id=%d name=%q daemon=%t prio=%d os_prio=%d cpu=%s elapsed=%s tid=%s nid=%s status=%q state=%q detail=%q",
				t.Pos, t.Kind(), t.ID, t.Name, t.Daemon, t.Prio, t.OSPrio, t.CPU, t.Elapsed, t.TID, t.NID, t.Status, t.State, t.StateDetail)
			if t.Virtual || t.Container != "" {
				fmt.Fprintf(b, " virtual=%t container=%q", t.Virtual, t.Container)
			}
			if t.Carrying != 0 {
				fmt.Fprintf(b, " carrying=%d", t.Carrying)
			}
			fmt.Fprintf(b, " class=%s\n", classString(t.Class))
			li := 0
			for fi, f := range t.Frames {
				fmt.Fprintf(b, "\tat %s\n", frameString(f))
				for ; li < len(t.Locks) && t.Locks[li].Frame <= fi; li++ {
					writeLock(b, t.Locks[li])
				}
			}
			for ; li < len(t.Locks); li++ {
				writeLock(b, t.Locks[li])
			}
			for _, l := range t.Ownable {
				writeLock(b, l)
			}
		}
		for _, c := range d.Deadlocks {
			fmt.Fprintf(b, "deadlock %s %q blocked=%q\n", c.Pos, c.Threads, c.Blocked)
		}
		for _, c := range d.ReportedDeadlocks {
			fmt.Fprintf(b, "reported deadlock %s %q blocked=%q\n", c.Pos, c.Threads, c.Blocked)
		}
		writeBuckets(b, d.Buckets)
	}
	for _, d := range ev.GoroutineDumps {
		fmt.Fprintf(b, "\ngoroutine dump %s goroutines=%d panic=%q\n", d.Pos, len(d.Goroutines), d.Panic)
		for _, g := range d.Goroutines {
			fmt.Fprintf(b, "%s goroutine %d [%s] wait=%s locked=%t elided=%t", g.Pos, g.ID, g.State, g.Wait, g.LockedToThread, g.FramesElided)
			if len(g.Flags) > 0 {
				fmt.Fprintf(b, " flags=%q leaked=%t", g.Flags, g.Leaked)
			}
			if len(g.Labels) > 0 {
				fmt.Fprintf(b, " labels=%v", g.Labels)
			}
			fmt.Fprintf(b, " class=%s\n", classString(g.Class))
			for _, f := range g.Frames {
				fmt.Fprintf(b, "\t%s\n", frameString(f))
			}
			if g.CreatedBy != nil {
				fmt.Fprintf(b, "\tcreated by %s in goroutine %d\n", frameString(*g.CreatedBy), g.CreatorID)
			}
			for _, a := range g.Ancestors {
				fmt.Fprintf(b, "\t%s originating from goroutine %d\n", a.Pos, a.ID)
				for _, f := range a.Frames {
					fmt.Fprintf(b, "\t\t%s\n", frameString(f))
				}
				if a.CreatedBy != nil {
					fmt.Fprintf(b, "\t\tcreated by %s\n", frameString(*a.CreatedBy))
				}
			}
		}
		writeBuckets(b, d.Buckets)
	}
	for _, p := range ev.GoroutineProfiles {
		fmt.Fprintf(b, "\ngoroutine profile %s total=%d groups=%d\n", p.Pos, p.Total, len(p.Groups))
		for _, g := range p.Groups {
			fmt.Fprintf(b, "%s group count=%d labels=%v class=%s\n", g.Pos, g.Count, g.Labels, classString(g.Class))
			for _, f := range g.Frames {
				fmt.Fprintf(b, "\t%s\n", frameString(f))
			}
		}
		writeBuckets(b, p.Buckets)
	}
	if len(ev.Series) > 0 {
		fmt.Fprintf(b, "\nseries\n")
		for _, s := range ev.Series {
			top := ""
			if len(s.Frames) > 0 {
				top = s.Frames[0].Func
			}
			fmt.Fprintf(b, "%s %s %s %q counts=%v class=%s top=%s\n", s.ID, s.Status, s.Kind, s.State, s.Counts, classString(s.Class), top)
		}
	}
	if len(ev.Warnings) > 0 {
		fmt.Fprintf(b, "\nwarnings\n")
		for _, w := range ev.Warnings {
			fmt.Fprintf(b, "%s\n", w)
		}
	}
}

func writeLock(b *bytes.Buffer, l dumps.Lock) {
	fmt.Fprintf(b, "\t- %s addr=%s class=%s frame=%d\n", l.Op, l.Addr, l.Class, l.Frame)
}

func writeBuckets(b *bytes.Buffer, bs []dumps.Bucket) {
	for _, k := range bs {
		var ids []string
		for _, m := range k.Members {
			ids = append(ids, fmt.Sprintf("%d", m.Pos.Line))
		}
		top := ""
		if len(k.Frames) > 0 {
			top = k.Frames[0].Func
		}
		fmt.Fprintf(b, "bucket %s count=%d kind=%s state=%q frames=%d wait=%s..%s class=%s top=%s lines=%s\n",
			k.ID, k.Count, k.Kind, k.State, len(k.Frames), k.MinWait, k.MaxWait, classString(k.Class), top, strings.Join(ids, ","))
	}
}

func classString(c dumps.Class) string {
	s := c.Activity.String()
	if c.Pool != "" {
		s += fmt.Sprintf("(%s)", c.Pool)
	}
	if c.Frame >= 0 {
		s += fmt.Sprintf("@%d", c.Frame)
	}
	return s
}

func frameString(f dumps.Frame) string {
	s := f.String()
	if f.Module != "" {
		s += " [" + f.Module + "]"
	}
	return s
}

// Inputs lists the dump inputs of one family with the golden file each is
// checked against: root/dumps/X.ext for which own(X.ext) holds -> X.golden
// next to it; the files of root/dir for each of dirs ->
// root/dumps/golden/<dir>_<file>.golden. root is the testdata directory
// as the test's package sees it.
func Inputs(tb testing.TB, root string, own func(name string) bool, dirs ...string) map[string]string {
	tb.Helper()
	in := map[string]string{}
	ps, _ := filepath.Glob(filepath.Join(root, "dumps", "*"))
	for _, p := range ps {
		if st, err := os.Stat(p); err != nil || st.IsDir() || strings.HasSuffix(p, ".golden") || strings.HasSuffix(p, ".sh") || strings.HasSuffix(p, ".md") {
			continue
		}
		if own(filepath.Base(p)) {
			in[p] = strings.TrimSuffix(p, filepath.Ext(p)) + ".golden"
		}
	}
	for _, dir := range dirs {
		ps, _ := filepath.Glob(filepath.Join(root, dir, "*"))
		for _, p := range ps {
			switch filepath.Ext(p) {
			case ".md", ".sh", ".java", ".go", ".py", ".tsv":
				continue // notes, generators and tables next to the dumps
			}
			if strings.HasSuffix(p, ".golden.json") {
				continue // gostackparse's oracle, checked field by field
			}
			if b := filepath.Base(p); b == "COMMANDS.txt" || b == "VERSIONS.txt" {
				continue // how the real dumps were made, not dumps
			}
			if st, err := os.Stat(p); err != nil || st.IsDir() {
				continue
			}
			in[p] = filepath.Join(root, "dumps", "golden", strings.ReplaceAll(dir, "/", "_")+"_"+filepath.Base(p)+".golden")
		}
	}
	return in
}

// ReadFile reads a test input or fails the test.
func ReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Seed adds every file matching the patterns to the corpus.
func Seed(f *testing.F, patterns ...string) {
	f.Helper()
	for _, p := range patterns {
		files, _ := filepath.Glob(p)
		for _, file := range files {
			if st, err := os.Stat(file); err != nil || st.IsDir() {
				continue
			}
			f.Add(ReadFile(f, file))
		}
	}
}

// CheckWarnings fails t for a warning of a fuzzed input without the file
// name "fuzz", a message, or (with lines) a line number.
func CheckWarnings(t *testing.T, warns []dumps.Warning, lines bool) {
	t.Helper()
	for _, w := range warns {
		if w.Pos.File != "fuzz" || (lines && w.Pos.Line < 1) || w.Msg == "" {
			t.Fatalf("bad warning %+v", w)
		}
	}
}

// BenchLines benchmarks read on the file at path, reporting lines read
// per second.
func BenchLines(b *testing.B, path string, read func([]byte) error) {
	data := ReadFile(b, path)
	lines := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	n := 0
	for b.Loop() {
		if err := read(data); err != nil {
			b.Fatal(err)
		}
		n += lines
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
}

// JSONGoldens reads every file that pattern matches (but the .golden
// files), checks that match recognises it, and compares read's evidence,
// as indented JSON, with the file's .golden beside it (go test -update
// rewrites them).
func JSONGoldens(t *testing.T, pattern string, match func([]byte) bool, read func(io.Reader, string) (*dumps.Evidence, error)) {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatalf("no file matches %s", pattern)
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".golden") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			data := ReadFile(t, file)
			if !match(data) {
				t.Errorf("%s is not recognised", file)
			}
			ev, err := read(bytes.NewReader(data), filepath.Base(file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(ev, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, file+".golden", append(got, '\n'))
		})
	}
}
