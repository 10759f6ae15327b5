package jvm

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

func TestParseJVMTextHeader(t *testing.T) {
	tests := []struct {
		in      string
		want    dumps.Thread
		wantErr bool
	}{
		{`#23 "inventory-worker-1" WAITING 2026-11-23T07:40:27.180225373Z`, dumps.Thread{ID: 23, Name: "inventory-worker-1", State: "WAITING"}, false},
		{`#1 "main"`, dumps.Thread{ID: 1, Name: "main"}, false},        // JDK 21
		{`#31 "" virtual`, dumps.Thread{ID: 31, Virtual: true}, false}, // JDK 21
		{`#31 "" virtual WAITING 2026-01-02T03:04:05Z`, dumps.Thread{ID: 31, Virtual: true, State: "WAITING"}, false},
		{`#5 "say "hi" now" RUNNABLE 2026-01-02T03:04:05Z`, dumps.Thread{ID: 5, Name: `say "hi" now`, State: "RUNNABLE"}, false},
		{`#6 "a" b" BLOCKED`, dumps.Thread{ID: 6, Name: `a" b`, State: "BLOCKED"}, false},
		{`#x "a"`, dumps.Thread{}, true},
		{`#5 a`, dumps.Thread{}, true},
		{`#5 "unterminated`, dumps.Thread{}, true},
		{`#5 "a" lowercase`, dumps.Thread{}, true},
	}
	for _, tt := range tests {
		got, err := parseJVMTextHeader(tt.in)
		if (err != nil) != tt.wantErr || (err == nil && !cmp.Equal(got, tt.want)) {
			t.Errorf("parseJVMTextHeader(%q) = %+v, %v; want %+v, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// jvmText21 is the shape of the text JDK 21 writes (written by hand: this
// machine has JDK 17 and 25): no state, " virtual", frames indented by six
// spaces without "at ".
const jvmText21 = `4242
2025-01-02T03:04:05.123456Z
21.0.2+13-58

#1 "main"
      java.base/java.lang.Thread.sleep0(Native Method)
      java.base/java.lang.Thread.sleep(Thread.java:509)
      app//demo.Main.main(Main.java:7)

#30 "" virtual
      java.base/sun.nio.ch.NioSocketImpl.park(NioSocketImpl.java:191)
      java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:309)
      java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099)
      bad frame
stray line
`

func TestReadText(t *testing.T) {
	d, warns, err := ReadText(strings.NewReader(jvmText21), "dump.txt")
	if err != nil {
		t.Fatal(err)
	}
	if d.PID != 4242 || d.VM != "21.0.2+13-58" || d.Time != "2025-01-02T03:04:05.123456Z" || len(d.Threads) != 2 {
		t.Fatalf("pid %d vm %q time %q threads %d", d.PID, d.VM, d.Time, len(d.Threads))
	}
	want := []dumps.Warning{
		{Pos: dumps.Pos{File: "dump.txt", Line: 14}, Msg: `thread "": bad stack frame "bad frame"`},
		{Pos: dumps.Pos{File: "dump.txt", Line: 15}, Msg: `thread "": bad stack frame "stray line"`},
	}
	if diff := cmp.Diff(want, warns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if m := d.Threads[0]; m.Name != "main" || m.Pos.Line != 5 || len(m.Frames) != 3 || m.Frames[2] != (dumps.Frame{Func: "demo.Main.main", File: "Main.java", Line: 7, Module: "app"}) {
		t.Errorf("main %+v", m)
	}
	if v := d.Threads[1]; !v.Virtual || v.ID != 30 || v.Class.Activity != dumps.ActSocketRead {
		t.Errorf("virtual thread %+v", v)
	}
	for _, bad := range []string{"", "4242\n", "java\n2025-01-02T03:04:05Z\n21\n\n#1 \"main\"\n"} {
		if _, _, err := ReadText(strings.NewReader(bad), "x.txt"); err == nil {
			t.Errorf("ReadText(%q): no error", bad)
		}
	}
	if k, _ := chain().Sniff([]byte(jvmText21)); k != dumps.KindJVMText {
		t.Errorf("Sniff = %s, want jvm-text", k)
	}
}

// TestJVMTextMatchesJSON reads the two dumps a real JDK 25 wrote one after
// the other with jcmd Thread.dump_to_file, as text and as JSON: every
// thread the same (id, name, state, virtual or not, frames, locks, what it
// is doing; the text names no thread containers), except the Attach
// Listener, which was serving each jcmd; the same deadlock.
func TestJVMTextMatchesJSON(t *testing.T) {
	dir := "../../testdata/real/jvm/jdk25/"
	td, warns, err := ReadText(bytes.NewReader(readTestFile(t, dir+"thread-dump-to-file.txt")), "text")
	if err != nil || len(warns) > 0 {
		t.Fatalf("text: %v %v", err, warns)
	}
	f, err := os.Open(dir + "threads.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	jd, _, err := ReadJSON(f, "json")
	if err != nil {
		t.Fatal(err)
	}
	if td.PID != jd.PID || td.VM != jd.VM || len(td.Threads) != len(jd.Threads) || len(td.Threads) < 20 {
		t.Fatalf("pid %d/%d, version %q/%q, %d/%d threads", td.PID, jd.PID, td.VM, jd.VM, len(td.Threads), len(jd.Threads))
	}
	byID := map[int64]dumps.Thread{}
	for _, th := range jd.Threads {
		byID[th.ID] = th
	}
	// The text names no thread containers.
	norm := func(th dumps.Thread) dumps.Thread {
		th.Pos, th.Container = dumps.Pos{}, ""
		th.Locks = slices.Clone(th.Locks)
		slices.SortFunc(th.Locks, func(a, b dumps.Lock) int { return strings.Compare(a.Op.String()+a.Addr, b.Op.String()+b.Addr) })
		return th
	}
	for _, th := range td.Threads {
		if th.Name == "Attach Listener" {
			continue
		}
		if diff := cmp.Diff(norm(byID[th.ID]), norm(th)); diff != "" {
			t.Errorf("thread #%d %q (-json +text):\n%s", th.ID, th.Name, diff)
		}
	}
	if len(td.Deadlocks) != 1 || len(jd.Deadlocks) != 1 || !reflect.DeepEqual(td.Deadlocks[0].Threads, jd.Deadlocks[0].Threads) {
		t.Errorf("deadlocks %v, json %v", td.Deadlocks, jd.Deadlocks)
	}
}
