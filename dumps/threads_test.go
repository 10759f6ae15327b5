package dumps

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/internal/golden"
	"github.com/google/go-cmp/cmp"
)

// dumpInputs lists every dump input with the golden file it is checked
// against: testdata/dumps/X.ext -> X.golden next to it; conformance and
// real inputs -> testdata/dumps/golden/<dir>_<file>.golden.
func dumpInputs(tb testing.TB) map[string]string {
	tb.Helper()
	in := map[string]string{}
	own, _ := filepath.Glob("../testdata/dumps/*")
	for _, p := range own {
		if st, err := os.Stat(p); err != nil || st.IsDir() || strings.HasSuffix(p, ".golden") || strings.HasSuffix(p, ".sh") || strings.HasSuffix(p, ".md") {
			continue
		}
		in[p] = strings.TrimSuffix(p, filepath.Ext(p)) + ".golden"
	}
	for _, dir := range []string{"conformance/jstack", "conformance/goroutines/go-profiler-notes", "conformance/goroutines/gostackparse",
		"conformance/goroutines/gotestsum", "real/jvm/jdk17", "real/jvm/jdk25", "real/go", "real/gotest"} {
		ps, _ := filepath.Glob(filepath.Join("../testdata", dir, "*"))
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
			in[p] = filepath.Join("../testdata/dumps/golden", strings.ReplaceAll(dir, "/", "_")+"_"+filepath.Base(p)+".golden")
		}
	}
	return in
}

func TestGolden(t *testing.T) {
	in := dumpInputs(t)
	if len(in) < 40 {
		t.Fatalf("found %d dump inputs, want the conformance set (40+)", len(in))
	}
	for path, want := range in {
		t.Run(filepath.Base(path), func(t *testing.T) {
			name := filepath.Base(path)
			data := readTestFile(t, path)
			ev, err := Read(bytes.NewReader(data), name)
			if ev != nil && ev.Kind == KindGoroutines {
				ev.GoroutineDumps = withGoroutines(t, data, name, ev.GoroutineDumps)
			}
			var b bytes.Buffer
			if err != nil {
				fmt.Fprintf(&b, "error: %v\n", err)
			}
			if ev != nil {
				writeEvidence(&b, ev)
			}
			golden.Check(t, want, b.Bytes())
		})
	}
}

// withGoroutines reads the goroutine dumps again with ReadGoroutines, which
// keeps every goroutine, for the goldens, and checks that Read, which
// buckets them as it reads, gave the same buckets.
func withGoroutines(t *testing.T, data []byte, name string, lean []*GoroutineDump) []*GoroutineDump {
	t.Helper()
	full, _, _ := ReadGoroutines(bytes.NewReader(data), name)
	if len(full) != len(lean) {
		t.Fatalf("ReadGoroutines found %d dumps, Read %d", len(full), len(lean))
	}
	for i := range full {
		if diff := cmp.Diff(full[i].Buckets, lean[i].Buckets); diff != "" {
			t.Errorf("dump %d: Read's buckets differ from ReadGoroutines' (-full +read):\n%s", i, diff)
		}
		if lean[i].Goroutines != nil || lean[i].Total() != len(full[i].Goroutines) {
			t.Errorf("dump %d: Read kept %d goroutines and counted %d, want none kept and %d counted", i, len(lean[i].Goroutines), lean[i].Total(), len(full[i].Goroutines))
		}
	}
	return full
}

// writeEvidence is the plain text form of the goldens.
func writeEvidence(b *bytes.Buffer, ev *Evidence) {
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

func writeLock(b *bytes.Buffer, l Lock) {
	fmt.Fprintf(b, "\t- %s addr=%s class=%s frame=%d\n", l.Op, l.Addr, l.Class, l.Frame)
}

func writeBuckets(b *bytes.Buffer, bs []Bucket) {
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

func classString(c Class) string {
	s := c.Activity.String()
	if c.Pool != "" {
		s += fmt.Sprintf("(%s)", c.Pool)
	}
	if c.Frame >= 0 {
		s += fmt.Sprintf("@%d", c.Frame)
	}
	return s
}

func frameString(f Frame) string {
	s := f.String()
	if f.Module != "" {
		s += " [" + f.Module + "]"
	}
	return s
}

func TestReadUnknown(t *testing.T) {
	_, err := Read(strings.NewReader("hello\nworld\n"), "x.txt")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("Read(junk) = %v, want ErrUnknownFormat", err)
	}
}
