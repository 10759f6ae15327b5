package jvm

import (
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

// TestReadJRockitShapes covers a JRockit R28 dump in a log: the header
// block, a socket reader, a thread blocked on a lock another holds, a
// parked pool worker, a VM thread, a header and a frame wrapped by the
// console, the lock chains after the threads, and the end line with a log
// line glued to it.
func TestReadJRockitShapes(t *testing.T) {
	in := `<log> starting
===== FULL THREAD DUMP ===============
Mon Oct 10 13:44:28 2011
Oracle JRockit(R) R28.1.4-7-144370-1.6.0_26-20110617-2130-linux-x86_64

"ExecuteThread: '1' for queue: 'weblogic.socket.Muxer'" id=24 idx=0x54 tid=21 prio=5 alive, in native, daemon
    at jrockit/net/SocketNativeIO.readBytesPinned(Ljava/io/FileDescriptor;[BIII)I(Native Method)
    at jrockit/net/SocketNativeIO.socketRead(SocketNativeIO.java:32)
    at java/net/SocketInputStream.socketRead0(Ljava/io/FileDescriptor;[BIII)I(SocketInputStream.java)
    ^-- Holding lock: java/lang/String@0x630c588[thin lock]
    -- end of trace

"worker-2" id=25 idx=0x58 tid=22 prio=5 alive, blocked,
daemon
    -- Blocked trying to get lock: java/lang/String@0x630c588[thin lock]
    at com/app/Cache.get(Ljava/lang/String;)Ljava/lang/Object;(Cache.ja
va:10)
    -- end of trace

"pool-1-thread-1" id=26 idx=0x5c tid=23 prio=5 alive, in native, parked
    -- Waiting for notification on: java/lang/Object@0x100[fat lock]
    at java/lang/Object.wait(J)V(Native Method)
    at java/util/concurrent/locks/LockSupport.whPark(ZJ)V(Native Method)
    ^-- Lock released while waiting: java/lang/Object@0x100[fat lock]
    at java/util/concurrent/ThreadPoolExecutor.getTask(ThreadPoolExecutor.java:947)
    -- end of trace

"(GC Worker Thread 1)" id=? idx=0xc tid=4028 prio=5 alive, native_waiting, daemon

Blocked lock chains
===================
Chain 1:
"worker-2" id=25 idx=0x58 tid=22 waiting for java/lang/String@0x630c588 held by:
"ExecuteThread: '1' for queue: 'weblogic.socket.Muxer'" id=24 idx=0x54 tid=21 (active)

===== END OF THREAD DUMP ===============<log> next
<log> after
`
	ds, warns, err := ReadJRockit(strings.NewReader(in), "jr.txt")
	if err != nil || len(warns) != 0 {
		t.Fatalf("warnings %v, err %v", warns, err)
	}
	if len(ds) != 1 {
		t.Fatalf("%d dumps, want 1", len(ds))
	}
	d := ds[0]
	if d.Pos.Line != 2 || d.Time != "Mon Oct 10 13:44:28 2011" || !strings.HasPrefix(d.VM, "Oracle JRockit(R) R28") || len(d.Threads) != 4 {
		t.Fatalf("dump %s time %q vm %q, %d threads", d.Pos, d.Time, d.VM, len(d.Threads))
	}
	mux, w2, pool, gc := d.Threads[0], d.Threads[1], d.Threads[2], d.Threads[3]
	if mux.Name != "ExecuteThread: '1' for queue: 'weblogic.socket.Muxer'" || mux.ID != 24 || mux.TID != "21" || !mux.Daemon ||
		mux.Status != "alive, in native" || mux.Class.Activity != dumps.ActSocketRead || mux.Frames[2].Func != "java.net.SocketInputStream.socketRead0" {
		t.Errorf("muxer: %+v", mux)
	}
	wantLock := []dumps.Lock{{Op: dumps.LockWaitEnter, Addr: "0x630c588", Class: "java.lang.String", Frame: 0}}
	if diff := cmp.Diff(wantLock, w2.Locks); diff != "" || !w2.Daemon || w2.Status != "alive, blocked" || w2.Class.Activity != dumps.ActLockWait ||
		len(w2.Frames) != 1 || w2.Frames[0] != (dumps.Frame{Func: "com.app.Cache.get", File: "Cache.java", Line: 10}) {
		t.Errorf("wrapped, blocked thread: %+v\n%s", w2, diff)
	}
	if pool.Class.Activity != dumps.ActIdle || pool.Locks[0].Op != dumps.LockParked {
		t.Errorf("parked pool worker: %+v", pool)
	}
	if !gc.VM || gc.ID != 0 || gc.Kind() != "vm-thread" {
		t.Errorf("GC worker: %+v", gc)
	}
}

func TestParseJRockitFrame(t *testing.T) {
	tests := []struct {
		in   string
		want dumps.Frame
	}{
		{"java/lang/Object.wait(J)V(Native Method)", dumps.Frame{Func: "java.lang.Object.wait", Native: true}},
		{"weblogic/t3/srvr/T3Srvr.run([Ljava/lang/String;)I(T3Srvr.java:380)", dumps.Frame{Func: "weblogic.t3.srvr.T3Srvr.run", File: "T3Srvr.java", Line: 380}},
		{"java/lang/Object.wait(Object.java:485)", dumps.Frame{Func: "java.lang.Object.wait", File: "Object.java", Line: 485}},
		{"jrockit/vm/Threads.waitForSignal(Native Method)@0x11187A10", dumps.Frame{Func: "jrockit.vm.Threads.waitForSignal", Native: true}},
		{"jrockit/vm/Locks.wait(Ljava/lang/Object;J)V(Unknown Source)", dumps.Frame{Func: "jrockit.vm.Locks.wait"}},
	}
	for _, tt := range tests {
		got, err := parseJRockitFrame(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseJRockitFrame(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "(Native Method)", "no parens", "x(y"} {
		if _, err := parseJRockitFrame(bad); err == nil {
			t.Errorf("parseJRockitFrame(%q): no error", bad)
		}
	}
}

func TestMatchJRockit(t *testing.T) {
	tests := []struct {
		name, head string
		want       bool
	}{
		{"dump", "===== FULL THREAD DUMP ===============\nWed Nov 14 05:29:50 2007\n\n\"Main Thread\" id=1 idx=0x2 tid=1256 prio=5 alive\n", true},
		{"r24", "x\n===== FULL THREAD DUMP ===============\n\n\"Main Thread\" prio=5 id=0x80 tid=0xf7c waiting\n", true},
		{"marker in a sentence", "grep for '===== FULL THREAD DUMP ===============' in the log\n\"a\" id=1 x\n", false},
		{"marker without threads", "===== FULL THREAD DUMP ===============\n", false},
		{"hotspot", "Full thread dump OpenJDK:\n\n\"main\" #1 prio=5 tid=0x1 nid=0x2 runnable\n", false},
	}
	for _, tt := range tests {
		if got := matchJRockit([]byte(tt.head)); got != tt.want {
			t.Errorf("%s: matchJRockit = %v, want %v", tt.name, got, tt.want)
		}
	}
}
