package golang

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

// gostackparse's golden JSON (DataDog/gostackparse test-fixtures).
type gspFrame struct {
	Func string
	File string
	Line int
}

type gspGoroutine struct {
	ID             int64
	State          string
	Wait           time.Duration
	LockedToThread bool
	Stack          []gspFrame
	FramesElided   bool
	CreatedBy      *gspFrame
	Ancestor       *gspGoroutine
}

func gspFrames(fs []dumps.Frame) []gspFrame {
	out := []gspFrame{}
	for _, f := range fs {
		out = append(out, gspFrame{f.Func, f.File, f.Line})
	}
	return out
}

func gspCreated(f *dumps.Frame) *gspFrame {
	if f == nil {
		return nil
	}
	return &gspFrame{f.Func, f.File, f.Line}
}

// TestConformanceGostackparse checks every goroutine of every gostackparse
// fixture against gostackparse's own parse, field by field.
func TestConformanceGostackparse(t *testing.T) {
	goldens, _ := filepath.Glob(conf + "goroutines/gostackparse/*.golden.json")
	if len(goldens) != 7 {
		t.Fatalf("found %d gostackparse goldens, want 7", len(goldens))
	}
	for _, gp := range goldens {
		txt := strings.TrimSuffix(gp, ".golden.json") + ".txt"
		t.Run(filepath.Base(txt), func(t *testing.T) {
			var want struct {
				Errors     []string
				Goroutines []gspGoroutine
			}
			if err := json.Unmarshal(readTestFile(t, gp), &want); err != nil {
				t.Fatal(err)
			}
			ds, warns, err := ReadGoroutines(bytes.NewReader(readTestFile(t, txt)), filepath.Base(txt))
			if err != nil || len(warns) > 0 {
				t.Fatalf("ReadGoroutines: err %v, warnings %v", err, warns)
			}
			var got []gspGoroutine
			for _, d := range ds {
				for _, g := range d.Goroutines {
					gg := gspGoroutine{ID: g.ID, State: g.State, Wait: g.Wait, LockedToThread: g.LockedToThread,
						Stack: gspFrames(g.Frames), FramesElided: g.FramesElided, CreatedBy: gspCreated(g.CreatedBy)}
					// gostackparse nests ancestors; we list them nearest first.
					at := &gg.Ancestor
					for _, a := range g.Ancestors {
						*at = &gspGoroutine{ID: a.ID, Stack: gspFrames(a.Frames), CreatedBy: gspCreated(a.CreatedBy)}
						at = &(*at).Ancestor
					}
					got = append(got, gg)
				}
			}
			if diff := cmp.Diff(want.Goroutines, got); diff != "" {
				t.Errorf("goroutines differ from gostackparse (-want +got):\n%s", diff)
			}
			if len(got) == 0 {
				t.Error("no goroutines")
			}
		})
	}
}

// TestConformanceProfilerNotes checks that the debug=0, debug=1 and debug=2
// forms of each go-profiler-notes snapshot agree on the goroutine total
// (and runtime.Stack for the pprof.lookup snapshots), and on the groups.
func TestConformanceProfilerNotes(t *testing.T) {
	dir := conf + "goroutines/go-profiler-notes/"
	for _, c := range []struct {
		prefix       string
		total, stack int // stack: distinct stacks in debug=0
		runtimeStack bool
	}{
		{"1.pprof.lookup", 6, 5, true},
		{"2.pprof.lookup", 9, 8, true},
		{"1.net.http.pprof", 10, 9, false},
		{"2.net.http.pprof", 10, 9, false},
	} {
		t.Run(c.prefix, func(t *testing.T) {
			read := func(file string) *dumps.Evidence {
				ev, err := dumps.Chain(Formats()).Read(bytes.NewReader(readTestFile(t, dir+file)), file)
				if err != nil {
					t.Fatal(err)
				}
				if len(ev.Warnings) > 0 {
					t.Errorf("%s: warnings %v", file, ev.Warnings)
				}
				return ev
			}
			d0 := read(c.prefix + ".goroutine.debug0.pb.gz")
			d1 := read(c.prefix + ".goroutine.debug1.txt")
			d2 := read(c.prefix + ".goroutine.debug2.txt")
			if d0.Kind != dumps.KindPprof || d1.Kind != dumps.KindGoroutineProfile || d2.Kind != dumps.KindGoroutines {
				t.Fatalf("kinds %s %s %s, want pprof goroutine-profile goroutines", d0.Kind, d1.Kind, d2.Kind)
			}
			p0, p1 := d0.GoroutineProfiles[0], d1.GoroutineProfiles[0]
			n2 := 0
			for _, d := range d2.GoroutineDumps {
				n2 += d.Total()
			}
			sum1 := 0
			for _, g := range p1.Groups {
				sum1 += g.Count
			}
			if p0.Total != c.total || p1.Total != c.total || sum1 != c.total || n2 != c.total {
				t.Errorf("totals debug0 %d, debug1 header %d, debug1 sum %d, debug2 %d; want %d", p0.Total, p1.Total, sum1, n2, c.total)
			}
			if len(p0.Groups) != c.stack {
				t.Errorf("debug0 has %d stacks, want %d", len(p0.Groups), c.stack)
			}
			// debug=1 prints the same stacks as debug=0, without the runtime
			// frames the goroutine parks in. (The net/http forms were three
			// requests: goroutines moved between them, only totals agree.)
			if c.runtimeStack {
				if diff := cmp.Diff(groupKeys(p0.Groups), groupKeys(p1.Groups)); diff != "" {
					t.Errorf("debug0 and debug1 groups differ (-debug0 +debug1):\n%s", diff)
				}
			}
			if c.runtimeStack {
				rs := read(strings.TrimSuffix(c.prefix, ".pprof.lookup") + ".runtime.stack.txt")
				if n := rs.GoroutineDumps[0].Total(); n != c.total {
					t.Errorf("runtime.Stack has %d goroutines, want %d", n, c.total)
				}
			}
		})
	}
}

// groupKeys is "count frames..." per stack group, with the leading runtime
// frames dropped and groups of equal stacks merged, sorted. The goroutine
// writing the profile is left out: each form was written by other code.
func groupKeys(gs []dumps.ProfileGroup) []string {
	m := map[string]int{}
	for _, g := range gs {
		if slices.ContainsFunc(g.Frames, func(f dumps.Frame) bool { return strings.HasPrefix(f.Func, "runtime/pprof.writeRuntimeProfile") }) {
			continue
		}
		fs := g.Frames
		for len(fs) > 1 && strings.HasPrefix(fs[0].Func, "runtime.") && !strings.HasPrefix(fs[0].Func, "runtime/") {
			fs = fs[1:]
		}
		var b strings.Builder
		for _, f := range fs {
			fmt.Fprintf(&b, " %s:%d", f.Func, f.Line)
		}
		m[b.String()] += g.Count
	}
	var keys []string
	for k, n := range m {
		keys = append(keys, fmt.Sprintf("%d%s", n, k))
	}
	slices.Sort(keys)
	return keys
}

// TestConformanceGotestsum checks that the panic tracebacks inside test
// output and inside the go test -json stream are found, and that both give
// the same goroutines.
func TestConformanceGotestsum(t *testing.T) {
	dir := conf + "goroutines/gotestsum/"
	summarize := func(file string) (string, []string) {
		ev, err := dumps.Chain(Formats()).Read(bytes.NewReader(readTestFile(t, dir+file)), file)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != dumps.KindGoroutines || len(ev.GoroutineDumps) != 1 {
			t.Fatalf("%s: kind %s, %d dumps; want one goroutine dump", file, ev.Kind, len(ev.GoroutineDumps))
		}
		ds, _, err := ReadGoroutines(bytes.NewReader(readTestFile(t, dir+file)), file)
		if err != nil || len(ds) != 1 {
			t.Fatalf("%s: ReadGoroutines: %d dumps, %v", file, len(ds), err)
		}
		d := ds[0]
		var gs []string
		for _, g := range d.Goroutines {
			gs = append(gs, fmt.Sprintf("%d [%s] %d frames", g.ID, g.State, len(g.Frames)))
		}
		return d.Panic, gs
	}
	p1, g1 := summarize("panic-race-1-summary.txt")
	p2, g2 := summarize("go-test-json-panic-race-1.out")
	if p1 != "panic: test timed out after 1s" || p2 != p1 {
		t.Errorf("panics %q and %q, want the test timeout", p1, p2)
	}
	if len(g1) < 3 {
		t.Errorf("summary: %d goroutines, want 3 or more: %v", len(g1), g1)
	}
	if diff := cmp.Diff(g1, g2); diff != "" {
		t.Errorf("summary and JSON stream differ:\n%s", diff)
	}
	p3, g3 := summarize("missing-test-fail-event.txt")
	if p3 != "panic: runtime error: index out of range [1] with length 1" || len(g3) == 0 {
		t.Errorf("missing-test-fail-event: panic %q, goroutines %v", p3, g3)
	}
}
