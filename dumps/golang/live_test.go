package golang

import (
	"bytes"
	"errors"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
)

// TestLiveProfiles reads the goroutine profile of the test process itself
// in its three forms; with no goroutine starting or ending in between, the
// totals must agree. Other tests and the runtime start and end goroutines,
// so the three forms are taken again until two runs of debug=0 agree
// around them. A heap profile must be refused.
func TestLiveProfiles(t *testing.T) {
	var forms []bytes.Buffer
	for try := 0; try < 20; try++ {
		forms = make([]bytes.Buffer, 4)
		for i := range forms {
			if err := pprof.Lookup("goroutine").WriteTo(&forms[i], i%3); err != nil {
				t.Fatal(err)
			}
		}
		a, _, errA := ReadPprof(bytes.NewReader(forms[0].Bytes()), "debug0")
		b, _, errB := ReadPprof(bytes.NewReader(forms[3].Bytes()), "debug0")
		if errA == nil && errB == nil && a.Total == b.Total && runtime.NumGoroutine() == a.Total {
			break
		}
	}
	p0, w0, err := ReadPprof(bytes.NewReader(forms[0].Bytes()), "debug0")
	if err != nil || len(w0) > 0 {
		t.Fatalf("debug=0: %v %v", err, w0)
	}
	p1, w1, err := ReadGoroutineProfile(bytes.NewReader(forms[1].Bytes()), "debug1")
	if err != nil || len(w1) > 0 || len(p1) != 1 {
		t.Fatalf("debug=1: %d profiles, %v %v", len(p1), err, w1)
	}
	d2, w2, err := ReadGoroutines(bytes.NewReader(forms[2].Bytes()), "debug2")
	if err != nil || len(w2) > 0 || len(d2) != 1 {
		t.Fatalf("debug=2: %d dumps, %v %v", len(d2), err, w2)
	}
	if p0.Total != p1[0].Total || p0.Total != len(d2[0].Goroutines) || p0.Total < 2 {
		t.Errorf("totals: debug=0 %d, debug=1 %d, debug=2 %d", p0.Total, p1[0].Total, len(d2[0].Goroutines))
	}
	found := false
	for _, g := range d2[0].Goroutines {
		for _, f := range g.Frames {
			found = found || strings.HasSuffix(f.Func, "TestLiveProfiles") && strings.HasSuffix(f.File, "live_test.go")
		}
	}
	if !found {
		t.Error("the test's own frame is not in the debug=2 dump")
	}
	var heap bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&heap, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadPprof(bytes.NewReader(heap.Bytes()), "heap.pb.gz"); !errors.Is(err, ErrNotGoroutineProfile) {
		t.Errorf("heap profile: %v, want ErrNotGoroutineProfile", err)
	}
	if _, _, err := ReadPprof(strings.NewReader("\x1f\x8bnot gzip"), "bad.gz"); err == nil {
		t.Error("corrupt gzip: no error")
	}
}

// TestRuntimeStackSection checks that the M stack of a fatal error
// ("runtime stack:") neither splits the dump nor becomes a goroutine.
func TestRuntimeStackSection(t *testing.T) {
	in := "fatal error: unexpected signal during runtime execution\n" +
		"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1]\n\n" +
		"runtime stack:\nruntime.throw({0x1, 0x2})\n\t/go/src/runtime/panic.go:1047 +0x5d fp=0x1 sp=0x2 pc=0x3\n\n" +
		"goroutine 1 [syscall]:\nmain.main()\n\t/x/main.go:3 +0x1\n\n" +
		"runtime stack:\nruntime.throw({0x1, 0x2})\n\t/go/src/runtime/panic.go:1047 +0x5d\n\n" +
		"goroutine 2 [running]:\nmain.f()\n\t/x/main.go:4 +0x1\n"
	ds, warns, err := ReadGoroutines(strings.NewReader(in), "fatal.txt")
	if err != nil || len(warns) > 0 || len(ds) != 1 || len(ds[0].Goroutines) != 2 || ds[0].Panic != "fatal error: unexpected signal during runtime execution" {
		t.Fatalf("%d dumps, err %v, warnings %v", len(ds), err, warns)
	}
}
