package dumps

import (
	"time"
)

// ThreadDump is one JVM thread dump: jstack, jstack -l, jcmd PID
// Thread.print, the SIGQUIT output, or jcmd Thread.dump_to_file -format=json.
type ThreadDump struct {
	// Pos is where the dump starts (its time or "Full thread dump" line).
	Pos Pos `json:"pos"`
	// Runtime is "" for a JVM dump, "python" for a Python one (faulthandler,
	// py-spy, traceback.print_stack) and "node" for a Node.js report's
	// JavaScript stack; see FinishThreadDump.
	Runtime string `json:"runtime,omitempty"`
	// PID is the process id when the dump prints it (jcmd's first line
	// "1234:", the JSON dump's processId); 0 when it does not.
	PID int `json:"pid,omitempty"`
	// Time is the time the dump prints before "Full thread dump", as
	// printed ("2024-01-02 03:04:05", local time of the JVM's host).
	Time string `json:"time,omitempty"`
	// VM is the text after "Full thread dump", e.g. "OpenJDK 64-Bit Server
	// VM (21.0.2+13 mixed mode, sharing)".
	VM      string   `json:"vm,omitempty"`
	Threads []Thread `json:"threads"`
	// SMRLength is the length of "Threads class SMR info" (JDK 11+), the
	// number of Java threads the JVM says the dump lists; -1 when absent.
	SMRLength int `json:"smr_length"`
	// JNIGlobalRefs is from "JNI global refs: N" or "JNI global
	// references: N"; -1 when absent.
	JNIGlobalRefs int `json:"jni_global_refs"`
	// Deadlocks are the cycles of the lock-wait graph, computed by us.
	Deadlocks []Deadlock `json:"deadlocks,omitempty"`
	// ReportedDeadlocks are the JVM's own "Found one Java-level deadlock"
	// sections; ReportedDeadlockCount is N from "Found N deadlock(s).", -1
	// when the dump has no such line.
	ReportedDeadlocks     []Deadlock `json:"reported_deadlocks,omitempty"`
	ReportedDeadlockCount int        `json:"reported_deadlock_count"`
	// Buckets groups the threads with identical stacks.
	Buckets []Bucket `json:"buckets"`
}

// When parses Time (which carries no zone) as UTC; ok is false when the dump
// printed no time.
func (d *ThreadDump) When() (t time.Time, ok bool) {
	t, err := time.Parse(time.DateTime, d.Time)
	if err != nil {
		t, err = time.Parse(time.RFC3339Nano, d.Time) // the JSON dump's time
	}
	return t, err == nil
}

// Thread is one thread of a JVM dump.
type Thread struct {
	Pos  Pos    `json:"pos"`
	Name string `json:"name"`
	// ID is the Java thread id ("#12", or "t@12" in VisualVM dumps); 0 for
	// threads that print none.
	ID int64 `json:"id,omitempty"`
	// VM is true for a JVM-internal thread (GC, compiler, VM Thread): a
	// thread without a Java id nor a java.lang.Thread.State line.
	VM     bool `json:"vm,omitempty"`
	Daemon bool `json:"daemon,omitempty"`
	Prio   int  `json:"prio,omitempty"`
	OSPrio int  `json:"os_prio,omitempty"`
	// CPU and Elapsed are from cpu= and elapsed= (JDK 11+).
	CPU     time.Duration `json:"cpu_ns,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
	TID     string        `json:"tid,omitempty"`
	// NID is the native thread id as printed (hex before JDK 19).
	NID string `json:"nid,omitempty"`
	// Status is the header's text after nid ("waiting on condition").
	Status string `json:"status,omitempty"`
	// State is the java.lang.Thread.State (RUNNABLE, BLOCKED, WAITING,
	// TIMED_WAITING, NEW, TERMINATED) and StateDetail the rest of that line
	// ("on object monitor", "parking", "sleeping").
	State       string `json:"state,omitempty"`
	StateDetail string `json:"state_detail,omitempty"`
	// Virtual marks a virtual thread and Container its thread container
	// (JSON dumps only: jstack does not list virtual threads).
	Virtual   bool   `json:"virtual,omitempty"`
	Container string `json:"container,omitempty"`
	// Carrying is the id of the virtual thread this carrier runs, 0 if none
	// ("Carrying virtual thread #N", or "Mounted virtual thread #N" in JDK
	// 25, after which the virtual thread's own frames follow the carrier's:
	// they start at Frames[MountedAt]).
	Carrying  int64   `json:"carrying,omitempty"`
	MountedAt int     `json:"mounted_at,omitempty"`
	Frames    []Frame `json:"frames"`
	// Locks are the lock lines under the frames, in order.
	Locks []Lock `json:"locks,omitempty"`
	// Ownable lists "Locked ownable synchronizers" (jstack -l).
	Ownable []Lock `json:"ownable,omitempty"`
	// LockOwner and LockOwnerID name the thread that holds the lock this
	// thread waits for, when the dump says (the JMX form's `owned by "x"
	// Id=5`); the lock graph uses them when the owner's own stack, cut at 8
	// frames, no longer shows the lock.
	LockOwner   string `json:"lock_owner,omitempty"`
	LockOwnerID int64  `json:"lock_owner_id,omitempty"`
	// Class is what the thread is doing, for the report.
	Class Class `json:"class"`
}

// Kind is "thread" for a Java thread and "vm-thread" for a JVM-internal one.
func (t *Thread) Kind() string {
	if t.VM {
		return "vm-thread"
	}
	return "thread"
}

// LockOp is what a thread does with a lock.
type LockOp uint8

// Lock operations, from the "- ..." lines of a stack.
const (
	LockUnknown   LockOp = iota // unknown
	LockHeld                    // locked
	LockWaitEnter               // waiting to lock
	LockWaitOn                  // waiting on
	LockParked                  // parking to wait for
	LockRelock                  // waiting to re-lock in wait()
	LockElided                  // eliminated
	LockOwnable                 // ownable synchronizer
)

var lockOpNames = [...]string{"unknown", "locked", "waiting to lock", "waiting on", "parking to wait for", "waiting to re-lock in wait()", "eliminated", "ownable synchronizer"}

func (o LockOp) String() string {
	if int(o) < len(lockOpNames) {
		return lockOpNames[o]
	}
	return "LockOp(" + itoa(int(o)) + ")"
}

// MarshalText makes a LockOp appear by name in JSON.
func (o LockOp) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Lock is one lock line: the object address ("0x000000076ab62208", or
// "Class@hash" in VisualVM dumps) and its class. Frame is the index of the
// frame the line is under (-1 for ownable synchronizers).
type Lock struct {
	Op    LockOp `json:"op"`
	Addr  string `json:"addr,omitempty"`
	Class string `json:"class,omitempty"`
	Frame int    `json:"frame"`
}

// Deadlock is one cycle of threads each waiting for a lock the next holds.
// Threads are names in cycle order, starting with the least name. Blocked
// are threads outside the cycle whose chain of waits leads into it (the JVM
// lists those it walked through before reaching the cycle), sorted.
type Deadlock struct {
	Threads []string `json:"threads"`
	Blocked []string `json:"blocked,omitempty"`
	Pos     Pos      `json:"pos"`
}
