package golang

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

func TestParseGoLines(t *testing.T) {
	for in, want := range map[string]string{
		"main.main()": "main.main",
		"net.(*conn).Read(0xc0000a2000, {0xc000300000?, 0x1000, 0x1000})": "net.(*conn).Read",
		"main.goSleep(...)":                 "main.goSleep",
		"panic({0x4b0e80?, 0xc00001c0d8?})": "panic",
		"main.F[...](...)":                  "main.F[...]",
		"non-Go function":                   "non-Go function",
	} {
		got, err := parseGoCall(in)
		if err != nil || got.Func != want {
			t.Errorf("parseGoCall(%q) = %q, %v; want %q", in, got.Func, err, want)
		}
	}
	for _, bad := range []string{"exit status 2", "FAIL\tpkg\t1.0s", "main.main("} {
		if _, err := parseGoCall(bad); err == nil {
			t.Errorf("parseGoCall(%q): no error", bad)
		}
	}
	for in, want := range map[string]dumps.Frame{
		"/usr/lib/go/src/net/fd_posix.go:55 +0x25": {File: "/usr/lib/go/src/net/fd_posix.go", Line: 55},
		"_testmain.go:47 +0x1d":                    {File: "_testmain.go", Line: 47},
		"/x/cgo.go:53":                             {File: "/x/cgo.go", Line: 53},
		"runtime/asm_amd64.s:681 +0x7d fp=0x7ffd3ddd0d50 sp=0x7ffd3ddd0d48": {File: "runtime/asm_amd64.s", Line: 681},
		"C:/Program Files/Go/src/x.go:9 +0x1":                               {File: "C:/Program Files/Go/src/x.go", Line: 9},
	} {
		file, line, err := parseGoFileLine(in)
		if err != nil || file != want.File || line != want.Line {
			t.Errorf("parseGoFileLine(%q) = %q, %d, %v; want %+v", in, file, line, err, want)
		}
	}
	for _, bad := range []string{"nocolon", "/x.go:abc +0x1", ":12"} {
		if _, _, err := parseGoFileLine(bad); err == nil {
			t.Errorf("parseGoFileLine(%q): no error", bad)
		}
	}
}

func TestGoroutineHeaders(t *testing.T) {
	in := "goroutine 7 [IO wait, 12 minutes, locked to thread]:\n" +
		"main.f()\n\t/x/main.go:3 +0x1\n\n" +
		"goroutine 8 gp=0xc000002380 m=0 mp=0x5d0f60 [running]:\n" +
		"main.g()\n\t/x/main.go:4 +0x1\n\n" +
		"goroutine 9 gp=0xc000003380 m=nil [select, 3 minutes, syncbubble]:\n" +
		"main.h()\n\t/x/main.go:5 +0x1\n" +
		"created by main.main in goroutine 1\n\t/x/main.go:9 +0x2\n\n" +
		"goroutine 10 [chan receive, bad minutes]:\n" +
		"main.i()\n\t/x/main.go:6 +0x1\n\n" +
		`goroutine 11 gp=0xc000003380 m=nil [chan receive (leaked), 2 minutes, synctest bubble 3 labels:{"a]": "x\ty", "b": "2"}]:` + "\n" +
		"main.j()\n\t/x/main.go:7 +0x1\n\n" +
		"goroutine 12 [select (no cases) (scan)]:\n" +
		"main.k()\n\t/x/main.go:8 +0x1\n"
	ds, warns, err := ReadGoroutines(strings.NewReader(in), "g.txt")
	if err != nil || len(ds) != 1 {
		t.Fatalf("ReadGoroutines: %d dumps, %v", len(ds), err)
	}
	gs := ds[0].Goroutines
	if len(gs) != 6 {
		t.Fatalf("%d goroutines, want 6", len(gs))
	}
	if g := gs[4]; g.ID != 11 || g.State != "chan receive" || !g.Leaked || g.Wait != 2*time.Minute ||
		!cmp.Equal(g.Flags, []string{"leaked", "synctest bubble 3"}) || !cmp.Equal(g.Labels, []dumps.Label{{Key: "a]", Value: "x\ty"}, {Key: "b", Value: "2"}}) {
		t.Errorf("goroutine 11: %+v", g)
	}
	if g := gs[5]; g.State != "select (no cases)" || !cmp.Equal(g.Flags, []string{"scan"}) || g.Class.Activity != dumps.ActChanWait {
		t.Errorf("goroutine 12: %+v", g)
	}
	if g := gs[0]; g.ID != 7 || g.State != "IO wait" || g.Wait != 12*time.Minute || !g.LockedToThread {
		t.Errorf("goroutine 7: %+v", g)
	}
	if g := gs[1]; g.ID != 8 || g.State != "running" {
		t.Errorf("goroutine 8: %+v", g)
	}
	if g := gs[2]; g.ID != 9 || g.State != "select" || g.Wait != 3*time.Minute || !cmp.Equal(g.Flags, []string{"syncbubble"}) ||
		g.CreatedBy == nil || g.CreatedBy.Line != 9 || g.CreatorID != 1 {
		t.Errorf("goroutine 9: %+v", g)
	}
	if diff := cmp.Diff([]dumps.Warning{{Pos: dumps.Pos{File: "g.txt", Line: 15}, Msg: `bad wait time "bad minutes" in goroutine header`}}, warns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestSeveralDumpsAndLogs checks that dumps are found between log lines,
// split into a series, and read the same with CRLF line ends.
func TestSeveralDumpsAndLogs(t *testing.T) {
	g := func(id int, fn string) string {
		return "goroutine " + strconv.Itoa(id) + " [chan receive]:\n" + fn + "()\n\t/x/main.go:3 +0x1\n\n"
	}
	in := "2024/01/02 INFO starting\n" + g(1, "main.a") + g(2, "main.b") +
		"2024/01/02 WARN dumping again\n" + g(1, "main.a") + g(3, "main.b") + g(4, "main.b") + "2024/01/02 INFO bye\n"
	for _, text := range []string{in, strings.ReplaceAll(in, "\n", "\r\n")} {
		ev, err := dumps.Chain(Formats()).Read(strings.NewReader(text), "app.log")
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != dumps.KindGoroutines || len(ev.GoroutineDumps) != 2 || len(ev.Warnings) != 0 {
			t.Fatalf("kind %s, %d dumps, warnings %v", ev.Kind, len(ev.GoroutineDumps), ev.Warnings)
		}
		if len(ev.Series) != 2 || ev.Series[0].Status != dumps.SeriesGrowing || ev.Series[0].Frames[0].Func != "main.b" ||
			!cmp.Equal(ev.Series[0].Counts, []int{1, 2}) || ev.Series[1].Status != dumps.SeriesPersistent {
			t.Errorf("series %+v", ev.Series)
		}
	}
}

func TestParseLabels(t *testing.T) {
	for in, want := range map[string][]dumps.Label{
		`{"test_label":"test_value"}`:      {{Key: "test_label", Value: "test_value"}},
		`{"b": "2", "a": "1"}`:             {{Key: "a", Value: "1"}, {Key: "b", Value: "2"}},
		`{"k":"\xff\u00e9", "x":"a,b:c}"}`: {{Key: "k", Value: "\xffé"}, {Key: "x", Value: "a,b:c}"}},
		`{}`:                               nil,
	} {
		got, err := parseLabels(in)
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("parseLabels(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`"a":"b"`, `{"a" "b"}`, `{"a":"b" "c":"d"}`, `{"a":b}`, `{"a":"b"} x`, `{"a":"b"`} {
		if _, err := parseLabels(bad); err == nil {
			t.Errorf("parseLabels(%s): no error", bad)
		}
	}
}

// TestContainerLogStamps checks that a dump from `kubectl logs --timestamps`
// reads like the plain one.
func TestContainerLogStamps(t *testing.T) {
	plain := readTestFile(t, conf+"goroutines/gostackparse/waitsince.txt")
	var stamped strings.Builder
	for i, l := range strings.SplitAfter(string(plain), "\n") {
		if l != "" {
			fmt.Fprintf(&stamped, "2024-01-02T03:04:%02d.%09dZ %s", i%60, i, l)
		}
	}
	a, err := dumps.Chain(Formats()).Read(bytes.NewReader(plain), "x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := dumps.Chain(Formats()).Read(strings.NewReader(stamped.String()), "x")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("stamped dump reads differently (-plain +stamped):\n%s", diff)
	}
}

// TestOwnDumps checks the Go dumps made on this machine
// (testdata/dumps/gen): the leak shows as a growing group, and the
// debug=0/1/2 totals agree.
func TestOwnDumps(t *testing.T) {
	read := func(name string) *dumps.Evidence {
		ev, err := dumps.Chain(Formats()).Read(bytes.NewReader(readTestFile(t, "../../testdata/dumps/"+name)), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Warnings) > 0 {
			t.Errorf("%s: warnings %v", name, ev.Warnings)
		}
		return ev
	}
	gev := read("go-debug2-series.txt")
	if len(gev.GoroutineDumps) != 3 || len(gev.Series) == 0 || gev.Series[0].Status != dumps.SeriesGrowing {
		t.Errorf("goroutine series: %d dumps, first group %+v", len(gev.GoroutineDumps), gev.Series[:min(1, len(gev.Series))])
	}
	d0, d1, d2 := read("go-goroutine-debug0.pb.gz"), read("go-goroutine-debug1.txt"), read("go-goroutine-debug2.txt")
	if a, b, c := d0.GoroutineProfiles[0].Total, d1.GoroutineProfiles[0].Total, d2.GoroutineDumps[0].Total(); a != b || b != c {
		t.Errorf("goroutine totals debug0 %d, debug1 %d, debug2 %d", a, b, c)
	}
	sq := read("go-sigquit.log")
	if len(sq.GoroutineDumps) != 1 || sq.GoroutineDumps[0].Panic != "SIGQUIT: quit" || sq.GoroutineDumps[0].Total() < 30 {
		t.Errorf("SIGQUIT dump: %d dumps", len(sq.GoroutineDumps))
	}
}
