package jvm

import (
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

// TestReadJstackShapes covers the shapes of a jstack file line by line: a
// jcmd pid line, two dumps in one file, a stack followed directly by the
// next header, a malformed line, ownable synchronizers, a heap summary and
// CRLF line ends.
func TestReadJstackShapes(t *testing.T) {
	in := `4242:
2024-01-02 03:04:05
Full thread dump OpenJDK 64-Bit Server VM (21.0.2+13 mixed mode):

"pool-1" #12 daemon prio=5 os_prio=0 cpu=1.50ms elapsed=9.00s tid=0x1 nid=0x2 waiting on condition  [0x3]
   java.lang.Thread.State: WAITING (parking)
	at jdk.internal.misc.Unsafe.park(java.base@21.0.2/Native Method)
	- parking to wait for  <0x10> (a java.util.concurrent.locks.ReentrantLock$NonfairSync)
	at com.zaxxer.hikari.util.ConcurrentBag.borrow(ConcurrentBag.java:151)
	what is this line
"holder" #13 prio=5 tid=0x4 nid=0x5 runnable  [0x6]
   java.lang.Thread.State: RUNNABLE
	at java.net.SocketInputStream.socketRead0(java.base@21.0.2/Native Method)

   Locked ownable synchronizers:
	- <0x10> (a java.util.concurrent.locks.ReentrantLock$NonfairSync)

"GC Thread#0" os_prio=0 cpu=1.00ms elapsed=9.00s tid=0x7 nid=0x8 runnable

JNI global refs: 7, weak refs: 0

Heap
 garbage-first heap   total 10240K, used 2048K [0x1, 0x2)
2024-01-02 03:04:10
Full thread dump OpenJDK 64-Bit Server VM (21.0.2+13 mixed mode):

"pool-1" #12 daemon prio=5 os_prio=0 tid=0x1 nid=0x2 waiting on condition  [0x3]
   java.lang.Thread.State: WAITING (parking)
	at jdk.internal.misc.Unsafe.park(java.base@21.0.2/Native Method)
`
	for _, text := range []string{in, strings.ReplaceAll(in, "\n", "\r\n")} {
		ds, warns, err := ReadJstack(strings.NewReader(text), "j.txt")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]dumps.Warning{{Pos: dumps.Pos{File: "j.txt", Line: 10}, Msg: `unrecognised line in the stack of thread "pool-1": "what is this line"`}}, warns); diff != "" {
			t.Errorf("warnings (-want +got):\n%s", diff)
		}
		if len(ds) != 2 {
			t.Fatalf("%d dumps, want 2", len(ds))
		}
		d := ds[0]
		if d.PID != 4242 || d.Time != "2024-01-02 03:04:05" || d.Pos.Line != 2 || len(d.Threads) != 3 || d.JNIGlobalRefs != 7 || d.SMRLength != -1 {
			t.Errorf("first dump: pid %d time %q pos %s threads %d jni %d smr %d", d.PID, d.Time, d.Pos, len(d.Threads), d.JNIGlobalRefs, d.SMRLength)
		}
		pool, holder, gc := d.Threads[0], d.Threads[1], d.Threads[2]
		if pool.Class.Activity != dumps.ActPoolBorrow || pool.Class.Pool != "HikariCP" || len(pool.Frames) != 2 || pool.StateDetail != "parking" {
			t.Errorf("pool-1: %+v", pool)
		}
		if holder.Pos.Line != 11 || holder.Class.Activity != dumps.ActSocketRead || len(holder.Ownable) != 1 || holder.Ownable[0].Addr != "0x10" {
			t.Errorf("holder: %+v", holder)
		}
		if !gc.VM || gc.Kind() != "vm-thread" || gc.Class.Activity != dumps.ActRunning {
			t.Errorf("GC thread: %+v", gc)
		}
		if d2 := ds[1]; d2.PID != 0 || d2.Time != "2024-01-02 03:04:10" || len(d2.Threads) != 1 {
			t.Errorf("second dump: %+v", d2)
		}
		if when, ok := ds[1].When(); !ok || when.Second() != 10 {
			t.Errorf("When() = %v, %t", when, ok)
		}
	}
}
