package jvm

import (
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

// TestReadThreadInfoShapes covers the JMX form line by line: JDK 8 and JDK
// 9+ headers, a BLOCKED thread whose owner's stack was cut before the lock
// (the header's "owned by" closes the deadlock), a parked pool worker, the
// "..." cut, locked synchronizers, an empty stack, a log line between two
// dumps and a repeated thread id starting the next dump.
func TestReadThreadInfoShapes(t *testing.T) {
	in := `12:00:00.000 INFO [main] dumping threads
"main" Id=1 RUNNABLE (in native)
	at java.net.SocketInputStream.socketRead0(Native Method)
	at java.net.SocketInputStream.read(SocketInputStream.java:150)

"pool-1-thread-1" daemon prio=5 Id=12 WAITING on java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject@1a2b3c
	at java.base@17.0.15/jdk.internal.misc.Unsafe.park(Native Method)
	-  waiting on java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject@1a2b3c
	at java.base@17.0.15/java.util.concurrent.locks.LockSupport.park(LockSupport.java:341)
	at java.base@17.0.15/java.util.concurrent.ThreadPoolExecutor.getTask(ThreadPoolExecutor.java:1062)
	...

"a "quoted" name" Id=5 BLOCKED on java.lang.Object@aa owned by "b" Id=6
	at app//Foo.left(Foo.java:10)
	-  blocked on java.lang.Object@aa
	-  locked java.lang.Object@bb
	at app//Foo.run(Foo.java:20)

"b" Id=6 BLOCKED on java.lang.Object@bb owned by "a "quoted" name" Id=5
	at app//Foo.right(Foo.java:30)
	-  blocked on java.lang.Object@bb
	...

	Number of locked synchronizers = 1
	- java.util.concurrent.locks.ReentrantLock$NonfairSync@4554617c

"idle" Id=7 WAITING on java.lang.Object@cc

"bad" Id=8 RUNNABLE
	at no frame here
12:00:02.000 INFO [main] dumping threads again
"main" Id=1 RUNNABLE
"main" Id=1 RUNNABLE
`
	ds, warns, err := ReadThreadInfo(strings.NewReader(in), "log.txt")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]dumps.Warning{{Pos: dumps.Pos{File: "log.txt", Line: 30}, Msg: `bad stack frame "no frame here"`}}, warns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if len(ds) != 3 || len(ds[0].Threads) != 6 || len(ds[1].Threads) != 1 || len(ds[2].Threads) != 1 {
		t.Fatalf("%d dumps; want 3 of 6, 1 and 1 threads", len(ds))
	}
	th := ds[0].Threads
	if m := th[0]; m.ID != 1 || m.State != "RUNNABLE" || m.StateDetail != "in native" || m.Class.Activity != dumps.ActSocketRead || m.Pos.Line != 2 {
		t.Errorf("main: %+v", m)
	}
	if w := th[1]; !w.Daemon || w.Prio != 5 || w.Frames[0].Module != "java.base@17.0.15" || w.Class.Activity != dumps.ActIdle ||
		len(w.Locks) != 1 || w.Locks[0].Op != dumps.LockParked || w.Locks[0].Frame != 0 {
		t.Errorf("pool worker: %+v", w)
	}
	a, b := th[2], th[3]
	if a.Name != `a "quoted" name` || a.LockOwner != "b" || a.LockOwnerID != 6 || a.Locks[0].Op != dumps.LockWaitEnter || a.Locks[1].Op != dumps.LockHeld {
		t.Errorf("a: %+v", a)
	}
	if b.LockOwner != `a "quoted" name` || len(b.Ownable) != 1 || b.Ownable[0].Addr != "java.util.concurrent.locks.ReentrantLock$NonfairSync@4554617c" {
		t.Errorf("b: %+v", b)
	}
	if len(ds[0].Deadlocks) != 1 || !cmp.Equal(ds[0].Deadlocks[0].Threads, []string{`a "quoted" name`, "b"}) ||
		a.Class.Activity != dumps.ActDeadlocked || b.Class.Activity != dumps.ActDeadlocked {
		t.Errorf("deadlocks %+v; a %v, b %v", ds[0].Deadlocks, a.Class, b.Class)
	}
	if idle := th[4]; len(idle.Locks) != 1 || idle.Locks[0].Addr != "java.lang.Object@cc" || idle.Locks[0].Op != dumps.LockWaitOn || idle.Class.Activity != dumps.ActCondWait {
		t.Errorf("empty stack waiting on a monitor: %+v", idle)
	}
}

func TestMatchThreadInfo(t *testing.T) {
	tests := []struct {
		name, head string
		want       bool
	}{
		{"jdk8", "\"main\" Id=1 RUNNABLE\n\tat Foo.main(Foo.java:1)\n", true},
		{"jdk17 in a log", "12:00 INFO x\n\"main\" prio=5 Id=1 RUNNABLE\n\tat app//Foo.main(Foo.java:1)\n", true},
		{"empty stack then blank", "\"Signal Dispatcher\" daemon prio=9 Id=4 RUNNABLE\n\n", true},
		{"tda mbean", "Full thread dump x\n\n\"t\" id=3 in TIMED_WAITING\n    at java.lang.Object.wait(Native Method)\n", true},
		{"jstack", "\"main\" #1 prio=5 tid=0x1 nid=0x2 runnable\n   java.lang.Thread.State: RUNNABLE\n\tat Foo.main(Foo.java:1)\n\"x\" Id=1 RUNNABLE\n\n", false},
		{"phrase in a message", "error: thread \"main\" Id=1 RUNNABLE was slow\n\tat Foo.main(Foo.java:1)\n", false},
		{"header without a stack", "\"main\" Id=1 RUNNABLE\nnext log line\n", false},
	}
	for _, tt := range tests {
		if got := matchThreadInfo([]byte(tt.head)); got != tt.want {
			t.Errorf("%s: matchThreadInfo = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestVMThreadsWithoutState checks a JDK 5 dump, which prints neither Java
// thread ids nor Thread.State lines: threads with Java frames are
// application threads, frameless ones are VM threads only by their names,
// and their activity comes from the header's status.
func TestVMThreadsWithoutState(t *testing.T) {
	in := `Full thread dump Java HotSpot(TM) Client VM (1.5.0_06-b05 mixed mode):

"Timer-0" daemon prio=1 tid=0x08222940 nid=0x2d53 in Object.wait() [0xa95fa000..0xa95fb0c0]
	at java.lang.Object.wait(Native Method)
	- waiting on <0x8b0c8e98> (a java.util.TaskQueue)
	at java.util.TimerThread.mainLoop(Timer.java:474)
	- locked <0x8b0c8e98> (a java.util.TaskQueue)

"http-8080-1" prio=1 tid=0x0822 nid=0x2d54 waiting for monitor entry [0xa95fa000..0xa95fb0c0]
	at com.app.Cache.get(Cache.java:10)
	- waiting to lock <0x8b0c8e00> (a java.lang.Object)

"reader" daemon prio=10 tid=600000000407e3f0 nid=1190 lwp_id=9991964 runnable [9fffffffb8100000..9fffffffb8100c40]
	at java.net.SocketInputStream.socketRead0(Native Method)

"DestroyJavaVM" prio=1 tid=0x0805c840 nid=0x2d42 waiting on condition [0x00000000..0xbff16fb0]

"Low Memory Detector" daemon prio=1 tid=0x080a4f60 nid=0x2d4b runnable [0x00000000..0x00000000]

"VM Thread" prio=1 tid=0x08092ca8 nid=0x2d47 runnable

"GC task thread#0 (ParallelGC)" prio=1 tid=0x1 nid=0x2 runnable
`
	ds, warns, err := ReadJstack(strings.NewReader(in), "j5.txt")
	if err != nil || len(warns) != 0 || len(ds) != 1 {
		t.Fatalf("%d dumps, warnings %v, err %v", len(ds), warns, err)
	}
	want := []struct {
		name string
		vm   bool
		act  dumps.Activity
	}{
		{"Timer-0", false, dumps.ActCondWait},
		{"http-8080-1", false, dumps.ActLockWait},
		{"reader", false, dumps.ActSocketRead},
		{"DestroyJavaVM", false, dumps.ActIdle},
		{"Low Memory Detector", false, dumps.ActRunning},
		{"VM Thread", true, dumps.ActRunning},
		{"GC task thread#0 (ParallelGC)", true, dumps.ActRunning},
	}
	th := ds[0].Threads
	if len(th) != len(want) {
		t.Fatalf("%d threads, want %d", len(th), len(want))
	}
	for i, w := range want {
		if th[i].Name != w.name || th[i].VM != w.vm || th[i].Class.Activity != w.act {
			t.Errorf("thread %d: %q vm=%v %v; want %q vm=%v %v", i, th[i].Name, th[i].VM, th[i].Class.Activity, w.name, w.vm, w.act)
		}
	}
	if th[2].Status != "runnable" {
		t.Errorf("HP-UX stack range left in the status: %q", th[2].Status)
	}
}

// TestReadSpringBootThreadDump reads the text form of Spring Boot's
// /actuator/threaddump (PlainTextThreadDumpFormatter): VisualVM-style
// headers, identity hashes without 0x, "owned by" after a lock wait,
// "Locked" ownable synchronizers. Its deadlock is found from the locks.
func TestReadSpringBootThreadDump(t *testing.T) {
	in := `2024-05-06 07:08:09
Full thread dump OpenJDK 64-Bit Server VM (17.0.10+7 mixed mode, sharing):

"http-nio-8080-exec-1" - Thread t@31
   java.lang.Thread.State: BLOCKED
	at com.app.Cache.get(Cache.java:10)
	- waiting to lock <7f31245a> (a java.lang.Object) owned by "http-nio-8080-exec-2" t@32
	- locked <6d6f6e28> (a java.lang.String)

   Locked ownable synchronizers:
	- None

"http-nio-8080-exec-2" - Thread t@32
   java.lang.Thread.State: WAITING
	at java.base@17.0.10/jdk.internal.misc.Unsafe.park(Native Method)
	- parking to wait for <1b6d3586> (a java.util.concurrent.locks.ReentrantLock$NonfairSync)
	at com.app.Cache.put(Cache.java:20)
	- locked <7f31245a> (a java.lang.Object)

   Locked ownable synchronizers:
	- Locked <4554617c> (a java.util.concurrent.ThreadPoolExecutor$Worker)

"http-nio-8080-exec-3" - Thread t@33
   java.lang.Thread.State: BLOCKED
	at com.app.Names.intern(Names.java:5)
	- waiting to lock <6d6f6e28> (a java.lang.String) owned by "http-nio-8080-exec-1" t@31

   Locked ownable synchronizers:
	- Locked <1b6d3586> (a java.util.concurrent.locks.ReentrantLock$NonfairSync)

`
	ev, err := chain().Read(strings.NewReader(in), "threaddump.txt")
	if err != nil || ev.Kind != dumps.KindJstack || len(ev.Warnings) != 0 || len(ev.ThreadDumps) != 1 {
		t.Fatalf("kind %s, warnings %v, err %v", ev.Kind, ev.Warnings, err)
	}
	th := ev.ThreadDumps[0].Threads
	e1, e2 := th[0], th[1]
	if e1.ID != 31 || e1.LockOwner != "http-nio-8080-exec-2" || e1.LockOwnerID != 32 ||
		e1.Locks[0] != (dumps.Lock{Op: dumps.LockWaitEnter, Addr: "7f31245a", Class: "java.lang.Object", Frame: 0}) {
		t.Errorf("exec-1: %+v", e1)
	}
	if len(e2.Ownable) != 1 || e2.Ownable[0].Addr != "4554617c" || e2.Ownable[0].Class != "java.util.concurrent.ThreadPoolExecutor$Worker" {
		t.Errorf("exec-2 synchronizers: %+v", e2.Ownable)
	}
	d := ev.ThreadDumps[0].Deadlocks
	if len(d) != 1 || !cmp.Equal(d[0].Threads, []string{"http-nio-8080-exec-1", "http-nio-8080-exec-2", "http-nio-8080-exec-3"}) {
		t.Errorf("deadlocks: %+v", d)
	}
}
