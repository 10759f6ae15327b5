package jvm

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

func TestParseThreadHeader(t *testing.T) {
	for _, c := range []struct {
		in   string
		want dumps.Thread
	}{
		{`"main" #3 [5379] prio=5 os_prio=31 cpu=274.58ms elapsed=0.61s allocated=44228K defined_classes=1953 tid=0x000000014a83fa00 nid=5379 runnable  [0x000000016b3d1000]`,
			dumps.Thread{Name: "main", ID: 3, Prio: 5, OSPrio: 31, CPU: 274580 * time.Microsecond, Elapsed: 610 * time.Millisecond, TID: "0x000000014a83fa00", NID: "5379", Status: "runnable"}},
		{`"Handling GET /x : ajp-8009-133" daemon prio=10 tid=0x00002ad443486800 nid=0x4745 waiting for monitor entry [0x00002ad476030000]`,
			dumps.Thread{Name: "Handling GET /x : ajp-8009-133", Daemon: true, Prio: 10, TID: "0x00002ad443486800", NID: "0x4745", Status: "waiting for monitor entry"}},
		{`"VM Thread" os_prio=31 cpu=2.52ms elapsed=0.61s tid=0x000000014b011200 nid=17923 runnable  `,
			dumps.Thread{Name: "VM Thread", OSPrio: 31, CPU: 2520 * time.Microsecond, Elapsed: 610 * time.Millisecond, TID: "0x000000014b011200", NID: "17923", Status: "runnable"}},
		{`"Timer-180" - Thread t@332`, dumps.Thread{Name: "Timer-180", ID: 332}},
		{`"a "quoted" name" #7 prio=5 tid=0x1 nid=0x2 in Object.wait()  [0x3]`,
			dumps.Thread{Name: `a "quoted" name`, ID: 7, Prio: 5, TID: "0x1", NID: "0x2", Status: "in Object.wait()"}},
		{`"ForkJoinPool-1-worker-1" #65 [62471] daemon prio=5 os_prio=31 cpu=305.89ms elapsed=15.79s allocated=39288B defined_classes=4 tid=0x000000013e056a00  [0x0000000174151000]`,
			dumps.Thread{Name: "ForkJoinPool-1-worker-1", ID: 65, Daemon: true, Prio: 5, OSPrio: 31, CPU: 305890 * time.Microsecond, Elapsed: 15790 * time.Millisecond, TID: "0x000000013e056a00"}},
	} {
		got, err := parseThreadHeader(c.in)
		if err != nil {
			t.Errorf("parseThreadHeader(%q): %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("parseThreadHeader(%q) (-want +got):\n%s", c.in, diff)
		}
	}
	for _, bad := range []string{`"unterminated`, `"x" #abc prio=5`, `"x" prio=high`, `"x" cpu=5parsecs`} {
		if _, err := parseThreadHeader(bad); err == nil {
			t.Errorf("parseThreadHeader(%q): no error", bad)
		}
	}
}

func TestParseJavaFrameAndLocks(t *testing.T) {
	for in, want := range map[string]dumps.Frame{
		"java.io.FileInputStream.readBytes(java.base@25/Native Method)":                     {Func: "java.io.FileInputStream.readBytes", Module: "java.base@25", Native: true},
		"java.io.FileInputStream.read(java.base@25/FileInputStream.java:281)":               {Func: "java.io.FileInputStream.read", File: "FileInputStream.java", Line: 281, Module: "java.base@25"},
		"com.Foo$$Lambda/0x000007fc0113c400.generate(Unknown Source)":                       {Func: "com.Foo$$Lambda/0x000007fc0113c400.generate"},
		"java.lang.Object.wait(Native Method)":                                              {Func: "java.lang.Object.wait", Native: true},
		"demo.Main.main(app//Main.java:12)":                                                 {Func: "demo.Main.main", File: "Main.java", Line: 12, Module: "app"},
		"sun.reflect.GeneratedMethodAccessor718.invoke(Unknown Source)":                     {Func: "sun.reflect.GeneratedMethodAccessor718.invoke"},
		"java.lang.invoke.LambdaForm$DMH/0x0000.invokeVirtual(java.base@25/LambdaForm$DMH)": {Func: "java.lang.invoke.LambdaForm$DMH/0x0000.invokeVirtual", File: "LambdaForm$DMH", Module: "java.base@25"},
	} {
		got, err := parseJavaFrame(in)
		if err != nil || got != want {
			t.Errorf("parseJavaFrame(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"noparen", "x(Foo.java:12", "(Foo.java:1)", "x(Foo.java:twelve)"} {
		if _, err := parseJavaFrame(bad); err == nil {
			t.Errorf("parseJavaFrame(%q): no error", bad)
		}
	}
	for in, want := range map[string]dumps.Lock{
		"locked <0x000000052f820a68> (a java.lang.ProcessImpl$ProcessPipeInputStream)":        {Op: dumps.LockHeld, Addr: "0x000000052f820a68", Class: "java.lang.ProcessImpl$ProcessPipeInputStream"},
		"waiting to lock <0x1> (a java.lang.Object)":                                          {Op: dumps.LockWaitEnter, Addr: "0x1", Class: "java.lang.Object"},
		"waiting on <0x2> (a java.util.TaskQueue)":                                            {Op: dumps.LockWaitOn, Addr: "0x2", Class: "java.util.TaskQueue"},
		"parking to wait for  <0x3> (a java.util.concurrent.locks.ReentrantLock$NonfairSync)": {Op: dumps.LockParked, Addr: "0x3", Class: "java.util.concurrent.locks.ReentrantLock$NonfairSync"},
		"waiting to re-lock in wait() <0x4> (a java.lang.Object)":                             {Op: dumps.LockRelock, Addr: "0x4", Class: "java.lang.Object"},
		"eliminated <owner is scalar replaced> (a java.lang.Object)":                          {Op: dumps.LockElided, Class: "java.lang.Object"},
		"waiting on <no object reference available>":                                          {Op: dumps.LockWaitOn},
		"locked java.io.BufferedInputStream@5284339c":                                         {Op: dumps.LockHeld, Addr: "java.io.BufferedInputStream@5284339c", Class: "java.io.BufferedInputStream"},
	} {
		got, err := parseLockLine(in)
		if err != nil || got != want {
			t.Errorf("parseLockLine(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"holding <0x1>", "locked <0x1", "locked nothing"} {
		if _, err := parseLockLine(bad); err == nil {
			t.Errorf("parseLockLine(%q): no error", bad)
		}
	}
}

// TestOwnDumps checks the JVM dumps made on this machine
// (testdata/dumps/gen): Java threads equal the SMR length, our deadlock
// cycles equal the JVM's, and the leak shows as a growing group. dumps/golang
// checks the Go ones.
func TestOwnDumps(t *testing.T) {
	read := func(name string) *dumps.Evidence {
		ev, err := chain().Read(bytes.NewReader(readTestFile(t, "../../testdata/dumps/"+name)), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Warnings) > 0 {
			t.Errorf("%s: warnings %v", name, ev.Warnings)
		}
		return ev
	}
	for _, name := range []string{"jstack-jdk17.txt", "jstack-l-jdk17.txt", "jcmd-thread-print-jdk17.txt", "jstack-series-in-log.txt"} {
		ev := read(name)
		for _, d := range ev.ThreadDumps {
			java := 0
			for _, th := range d.Threads {
				if !th.VM {
					java++
				}
			}
			if d.SMRLength < 0 || java != d.SMRLength {
				t.Errorf("%s: %d Java threads, SMR length %d", d.Pos, java, d.SMRLength)
			}
			// Two deadlocks: on monitors (dead-A/B) and on ReentrantLocks
			// (jucdead-A/B). The owner of a ReentrantLock shows only with -l,
			// so without it we find the monitor cycle alone.
			jvm, ours := cycleSet(d.ReportedDeadlocks), cycleSet(d.Deadlocks)
			withL := name == "jstack-l-jdk17.txt" || name == "jcmd-thread-print-jdk17.txt"
			switch {
			case d.ReportedDeadlockCount != 2 || len(jvm) != 2:
				t.Errorf("%s: JVM reports %d deadlocks: %v", d.Pos, d.ReportedDeadlockCount, jvm)
			case withL && !cmp.Equal(ours, jvm):
				t.Errorf("%s: our deadlocks %v, the JVM's %v", d.Pos, ours, jvm)
			case !withL && !cmp.Equal(ours, []string{"dead-A -> dead-B"}):
				t.Errorf("%s: our deadlocks %v, want the monitor cycle only", d.Pos, ours)
			}
		}
	}
	if d := read("jcmd-thread-print-jdk17.txt").ThreadDumps[0]; d.PID == 0 {
		t.Error("jcmd dump: no pid")
	}
	ev := read("jstack-series-in-log.txt")
	if len(ev.ThreadDumps) != 3 || len(ev.Series) == 0 || ev.Series[0].Status != dumps.SeriesGrowing || !strings.HasPrefix(ev.Series[0].Frames[0].Func, "Leak.lambda$main$") {
		t.Errorf("jstack series: %d dumps, first group %+v", len(ev.ThreadDumps), ev.Series[:min(1, len(ev.Series))])
	}
}

// TestRecordsAndSeriesAcrossFiles follows the leaking worker threads from
// one jstack file into the three dumps of another, taken later.
func TestRecordsAndSeriesAcrossFiles(t *testing.T) {
	var snaps []dumps.Snapshot
	total := 0
	for _, name := range []string{"jstack-jdk17.txt", "jstack-series-in-log.txt"} {
		ev, err := chain().Read(bytes.NewReader(readTestFile(t, "../../testdata/dumps/"+name)), name)
		if err != nil {
			t.Fatal(err)
		}
		rs := ev.Records()
		for _, r := range rs {
			if r.Kind == "vm-thread" && r.ID != -1 || r.Count != 1 || r.Pos.Line < 1 {
				t.Fatalf("record %+v", r)
			}
		}
		total += len(rs)
		jvm, g, p := ev.Snapshots()
		if len(g)+len(p) != 0 {
			t.Fatalf("%s: Go snapshots from a JVM dump", name)
		}
		snaps = append(snaps, jvm...)
	}
	if len(snaps) != 4 || snaps[0].Time == "" || snaps[0].Time >= snaps[3].Time {
		t.Fatalf("snapshots %d, times %q .. %q", len(snaps), snaps[0].Time, snaps[len(snaps)-1].Time)
	}
	gs := dumps.CompareSeries(snaps)
	if len(gs) == 0 || gs[0].Status != dumps.SeriesGrowing || gs[0].Class.Activity != dumps.ActLockWait || gs[0].Counts[0] >= gs[0].Counts[3] {
		t.Errorf("first group %+v, want the growing workers", gs[0])
	}
	if total < 4*30 {
		t.Errorf("%d records in four dumps", total)
	}
}
