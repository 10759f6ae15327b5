package jvm

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// jstack parser states; each comment is an example line that leads there.
type jstackState uint8

const (
	jsOutside   jstackState = iota // between threads: `Full thread dump ...`, `2024-01-02 03:04:05`
	jsThread                       // `"main" #1 prio=5 ... runnable [0x...]` and its stack
	jsOwnable                      // `   Locked ownable synchronizers:`
	jsSMR                          // `Threads class SMR info:` until `}`
	jsDeadlock                     // `Found one Java-level deadlock:` until `Java stack information`
	jsDeadStack                    // `Java stack information for the threads listed above:`
)

type jstackParser struct {
	name    string
	dumps   []*dumps.ThreadDump
	warns   []dumps.Warning
	cur     *dumps.ThreadDump
	th      *dumps.Thread // thread being read, nil when none
	last    *dumps.Thread // last thread read, for a Locked ownable synchronizers block after a blank line
	state   jstackState
	pid     int    // a "1234:" line waiting for its dump
	timeStr string // a time line waiting for its dump
	timeAt  int
	// reported holds, for each deadlock the JVM reported in dump
	// reportedIn, what is read of it before its cycle is known; cycle is
	// the one being read.
	reported   []reportedCycle
	reportedIn *dumps.ThreadDump
	cycle      *reportedCycle
}

// reportedCycle is a deadlock of the JVM's report while it is read.
type reportedCycle struct {
	// heldBy is the JVM report's "which is held by" per thread.
	heldBy map[string]string
	order  []string
}

// ReadJstack parses JVM thread dumps: jstack, jstack -l, jcmd PID
// Thread.print or SIGQUIT output, alone or inside a log, from JDK 6 to 25.
// Several dumps in one input are returned in order. Only I/O failures are
// errors; a malformed line becomes a Warning.
func ReadJstack(r io.Reader, name string) ([]*dumps.ThreadDump, []dumps.Warning, error) {
	p := &jstackParser{name: name}
	err := dumps.FeedLines(r, name, p.line, p.endDump)
	return p.dumps, p.warns, err
}

func (p *jstackParser) warn(line int, format string, args ...any) {
	p.warns = append(p.warns, dumps.Warning{Pos: dumps.Pos{File: p.name, Line: line}, Msg: fmt.Sprintf(format, args...)})
}

func newThreadDump(pos dumps.Pos) *dumps.ThreadDump {
	return &dumps.ThreadDump{Pos: pos, SMRLength: -1, JNIGlobalRefs: -1, ReportedDeadlockCount: -1}
}

// dump returns the current dump, starting one at line when there is none
// (a file of thread stacks without the "Full thread dump" header).
func (p *jstackParser) dump(line int) *dumps.ThreadDump {
	if p.cur == nil {
		p.cur = newThreadDump(dumps.Pos{File: p.name, Line: line})
		p.takePending()
	}
	return p.cur
}

func (p *jstackParser) takePending() {
	if p.timeStr != "" {
		p.cur.Time, p.cur.Pos.Line = p.timeStr, p.timeAt
	}
	if p.pid != 0 {
		p.cur.PID = p.pid
	}
	p.timeStr, p.pid = "", 0
}

func (p *jstackParser) endThread() {
	if p.th != nil {
		finishThread(p.th)
		p.cur.Threads = append(p.cur.Threads, *p.th)
		p.last = &p.cur.Threads[len(p.cur.Threads)-1]
		p.th = nil
	}
}

func (p *jstackParser) endDump() {
	p.endThread()
	p.cycle = nil
	if p.cur != nil {
		markVMThreads(p.cur)
		dumps.FinishThreadDump(p.cur)
		p.dumps = append(p.dumps, p.cur)
	}
	p.cur, p.last, p.state = nil, nil, jsOutside
}

// finishThread marks JVM-internal threads; VM threads print no Java id and
// no java.lang.Thread.State line (JDK 6-8 Java threads print the state).
func finishThread(t *dumps.Thread) {
	t.VM = t.ID == 0 && t.State == ""
	if t.Frames == nil {
		t.Frames = []dumps.Frame{} // JSON: "frames": [] rather than null
	}
}

// markVMThreads decides which threads are JVM-internal in a dump that
// prints neither Java thread ids nor java.lang.Thread.State lines (JDK 5,
// HP-UX and other pre-JDK 6 dumps), where finishThread's rule would take
// every thread for a VM thread: a thread with Java frames is an application
// thread, and one without is a VM thread when its name is one the JVM
// gives its own threads (vmThreadName).
func markVMThreads(d *dumps.ThreadDump) {
	for _, t := range d.Threads {
		if t.ID != 0 || t.State != "" {
			return // a JDK 6+ dump: the rule of finishThread holds
		}
	}
	for i := range d.Threads {
		t := &d.Threads[i]
		t.VM = len(t.Frames) == 0 && vmThreadName(t.Name)
	}
}

// vmThreadNames are the names HotSpot, JRockit and their ports give their
// internal threads, which run no Java code; numbered ones end in "#N" or a
// number, which the prefix leaves out.
var vmThreadNames = []string{
	"VM Thread", "VM Periodic Task Thread", "GC task thread", "GC Thread", "Gang worker",
	"Concurrent Mark-Sweep GC Thread", "Concurrent GC Thread", "G1 ", "Exception Catcher Thread",
	"Suspend Checker Thread", "ZGC ", "Shenandoah ",
}

func vmThreadName(name string) bool {
	if len(name) > 2 && name[0] == '(' && name[len(name)-1] == ')' {
		return true // JRockit: "(GC Main Thread)", "(Signal Handler)"
	}
	for _, p := range vmThreadNames {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func (p *jstackParser) line(raw string, n int) {
	text := strings.TrimSpace(raw)
	switch p.state {
	case jsSMR:
		if strings.HasPrefix(text, "}") {
			p.state = jsOutside
		}
		p.smrLength(text, n)
		return
	case jsDeadlock, jsDeadStack:
		if p.deadlockLine(text, n) {
			return
		}
	case jsThread:
		if p.threadLine(text, n) {
			return
		}
	case jsOwnable:
		if strings.HasPrefix(text, "- ") {
			p.ownableLine(text[2:], n)
			return
		}
		p.state = jsOutside
		if text == "" {
			return
		}
	}
	p.outsideLine(text, n)
}

// outsideLine handles a line between threads.
func (p *jstackParser) outsideLine(text string, n int) {
	switch {
	case text == "":
		p.endThread()
	case strings.HasPrefix(text, "Full thread dump"):
		// A new dump; an earlier one in the same input ends here.
		if p.cur != nil && (len(p.cur.Threads) > 0 || p.th != nil || p.cur.VM != "") {
			p.endDump()
		}
		d := p.dump(n)
		d.VM = strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(text, "Full thread dump")), ":")
	case isDumpTime(text):
		if p.cur != nil && len(p.cur.Threads) > 0 {
			p.endDump()
		}
		p.timeStr, p.timeAt = text, n
	case isPIDLine(text):
		if p.cur != nil && len(p.cur.Threads) > 0 {
			p.endDump()
		}
		p.pid, _ = strconv.Atoi(strings.TrimSuffix(text, ":"))
	case strings.HasPrefix(text, `"`) && !strings.HasSuffix(text, `":`):
		t, err := parseThreadHeader(text)
		if err != nil {
			p.warn(n, "%v", err)
			return
		}
		p.endThread()
		d := p.dump(n)
		if d.ReportedDeadlockCount >= 0 || d.JNIGlobalRefs >= 0 {
			// The trailer of the previous dump was seen without a new
			// header: this is the next dump, printed without one.
			p.endDump()
			p.dump(n)
		}
		t.Pos = dumps.Pos{File: p.name, Line: n}
		p.th, p.state = &t, jsThread
	case strings.HasPrefix(text, "Locked ownable synchronizers:"):
		if p.last == nil {
			p.warn(n, "Locked ownable synchronizers without a thread")
			return
		}
		p.state = jsOwnable
	case strings.HasPrefix(text, "Threads class SMR info:"):
		p.dump(n)
		p.state = jsSMR
	case strings.HasPrefix(text, "_java_thread_list="):
		// Only reached when the SMR header was cut off; the length is read below.
	case strings.HasPrefix(text, "JNI global ref"):
		_, v, _ := strings.Cut(text, ":")
		v, _, _ = strings.Cut(strings.TrimSpace(v), ",")
		k, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			p.warn(n, "bad JNI global refs line %q", text)
			return
		}
		p.dump(n).JNIGlobalRefs = k
	case text == "Found one Java-level deadlock:":
		d := p.dump(n)
		d.ReportedDeadlocks = append(d.ReportedDeadlocks, dumps.Deadlock{Pos: dumps.Pos{File: p.name, Line: n}})
		if p.reportedIn != d {
			p.reported, p.reportedIn = nil, d
		}
		p.reported = append(p.reported, reportedCycle{})
		p.cycle = &p.reported[len(p.reported)-1]
		p.state = jsDeadlock
	case strings.HasPrefix(text, "Found ") && strings.Contains(text, "deadlock"):
		p.foundLine(text, n)
	}
	// Anything else is text around the dump (a log, a heap summary): skipped.
	if strings.HasPrefix(text, "_java_thread_list=") {
		p.smrLength(text, n)
	}
}

func (p *jstackParser) smrLength(text string, n int) {
	_, v, ok := strings.Cut(text, "length=")
	if !ok {
		return
	}
	v, _, _ = strings.Cut(v, ",")
	k, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		p.warn(n, "bad SMR thread list length in %q", text)
		return
	}
	p.dump(n).SMRLength = k
}

// foundLine reads "Found 1 deadlock." or "Found 3 deadlocks.".
func (p *jstackParser) foundLine(text string, n int) {
	f := strings.Fields(text)
	if len(f) != 3 || !strings.HasPrefix(f[2], "deadlock") {
		return
	}
	k, err := strconv.Atoi(f[1])
	if err != nil {
		p.warn(n, "bad deadlock count in %q", text)
		return
	}
	p.dump(n).ReportedDeadlockCount = k
	p.state = jsOutside
	if p.cur != nil && p.reportedIn == p.cur {
		finishReported(p.cur, p.reported)
	}
}

// deadlockLine reads the JVM's deadlock report; it returns false for a line
// that ends the report.
//
//	"Thread-A":
//	  waiting to lock monitor 0x... (object 0x..., a java.lang.Object),
//	  which is held by "Thread-B"
func (p *jstackParser) deadlockLine(text string, n int) bool {
	switch {
	case strings.HasPrefix(text, "Found "):
		return false
	case strings.HasPrefix(text, "Java stack information for the threads listed above"):
		p.state = jsDeadStack
	case p.state == jsDeadlock && strings.HasPrefix(text, `"`) && strings.HasSuffix(text, `":`):
		if c := p.cycle; c != nil {
			c.order = append(c.order, text[1:len(text)-2])
		}
	case p.state == jsDeadlock && strings.HasPrefix(text, `which is held by "`) && strings.HasSuffix(text, `"`):
		if c := p.cycle; c != nil && len(c.order) > 0 {
			if c.heldBy == nil {
				c.heldBy = map[string]string{}
			}
			c.heldBy[c.order[len(c.order)-1]] = strings.TrimSuffix(strings.TrimPrefix(text, `which is held by "`), `"`)
		}
	}
	return true
}

// finishReported splits each reported deadlock into its cycle (following
// "which is held by" from the last thread listed, which is on the cycle)
// and the threads that only wait into it.
func finishReported(d *dumps.ThreadDump, rs []reportedCycle) {
	for i := range d.ReportedDeadlocks {
		c, r := &d.ReportedDeadlocks[i], &rs[i]
		if len(r.order) == 0 {
			continue
		}
		on := map[string]bool{}
		var cyc []string
		for t := r.order[len(r.order)-1]; t != "" && !on[t]; t = r.heldBy[t] {
			on[t] = true
			cyc = append(cyc, t)
		}
		c.Threads, c.Blocked = dumps.RotateLeast(cyc), nil
		for _, t := range r.order {
			if !on[t] {
				c.Blocked = append(c.Blocked, t)
			}
		}
		slices.Sort(c.Blocked)
		r.order, r.heldBy = nil, nil
	}
}

// threadLine reads a line of a thread's stack; it returns false for a line
// that is not part of it.
func (p *jstackParser) threadLine(text string, n int) bool {
	t := p.th
	switch {
	case text == "":
		p.endThread()
		p.state = jsOutside
		return true
	case strings.HasPrefix(text, "at "):
		f, err := parseJavaFrame(text[3:])
		if err != nil {
			p.warn(n, "%v", err)
			return true
		}
		t.Frames = append(t.Frames, f)
	case strings.HasPrefix(text, "- "):
		l, err := parseLockLine(text[2:])
		if err != nil {
			p.warn(n, "%v", err)
			return true
		}
		l.Frame = len(t.Frames) - 1
		t.Locks = append(t.Locks, l)
		if l.Op == dumps.LockWaitEnter {
			t.LockOwner, t.LockOwnerID = lockOwnerSuffix(text)
		}
	case strings.HasPrefix(text, "java.lang.Thread.State:"):
		st := strings.TrimSpace(strings.TrimPrefix(text, "java.lang.Thread.State:"))
		st, detail, _ := strings.Cut(st, " ")
		t.State = st
		t.StateDetail = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(detail), "("), ")")
	case strings.HasPrefix(text, "Carrying virtual thread #"), strings.HasPrefix(text, "Mounted virtual thread #"):
		_, v, _ := strings.Cut(text, "#")
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			p.warn(n, "bad carried virtual thread id in %q", text)
			return true
		}
		t.Carrying = id
		if strings.HasPrefix(text, "Mounted") {
			t.MountedAt = len(t.Frames)
		}
	case strings.HasPrefix(text, "Locked ownable synchronizers:"):
		p.endThread()
		p.state = jsOwnable
	case strings.HasPrefix(text, `"`), strings.HasPrefix(text, "Full thread dump"), strings.HasPrefix(text, "JNI global"),
		strings.HasPrefix(text, "Found "), isDumpTime(text):
		// The stack ended without a blank line.
		p.endThread()
		p.state = jsOutside
		return false
	case strings.HasPrefix(text, "No compile task"), strings.HasPrefix(text, "Compiling:"):
		// Compiler thread detail lines.
	default:
		p.warn(n, "unrecognised line in the stack of thread %q: %q", t.Name, dumps.Clip(text))
	}
	return true
}

func (p *jstackParser) ownableLine(text string, n int) {
	if text == "None" || p.last == nil {
		return
	}
	text = strings.TrimPrefix(strings.TrimPrefix(text, "locked "), "Locked ") // Spring Boot writes "Locked"
	l, err := parseLockRef(text)
	if err != nil {
		p.warn(n, "%v", err)
		return
	}
	l.Op, l.Frame = dumps.LockOwnable, -1
	p.last.Ownable = append(p.last.Ownable, l)
}

// lockOwnerSuffix reads the owner Spring Boot's text thread dump writes
// after a lock a thread waits to enter: `... (a java.lang.Object) owned by
// "cache-refresher" t@21`; "" and 0 when the line names none.
func lockOwnerSuffix(line string) (string, int64) {
	i := strings.LastIndex(line, ` owned by "`)
	if i < 0 {
		return "", 0
	}
	o := line[i+len(` owned by "`):]
	q := strings.LastIndex(o, `" t@`)
	if q < 0 {
		return "", 0
	}
	id, err := strconv.ParseInt(o[q+len(`" t@`):], 10, 64)
	if err != nil {
		return "", 0
	}
	return o[:q], id
}

func isDumpTime(s string) bool {
	if len(s) != len(time.DateTime) {
		return false
	}
	_, err := time.Parse(time.DateTime, s)
	return err == nil
}

// isPIDLine matches the "1234:" line jcmd prints first.
func isPIDLine(s string) bool {
	if len(s) < 2 || s[len(s)-1] != ':' {
		return false
	}
	for i := 0; i < len(s)-1; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseThreadHeader parses a thread header line:
//
//	"main" #1 [5379] prio=5 os_prio=31 cpu=274.58ms elapsed=0.61s tid=0x0000 nid=5379 runnable  [0x0000]
//	"VM Thread" os_prio=31 cpu=2.52ms elapsed=0.61s tid=0x000 nid=17923 runnable
//	"Handler" daemon prio=10 tid=0x00002ad4 nid=0x4745 waiting for monitor entry [0x00002ad4]
//	"Timer-180" - Thread t@332
func parseThreadHeader(text string) (dumps.Thread, error) {
	var t dumps.Thread
	end := strings.LastIndex(text, `" `)
	if end <= 0 {
		if len(text) > 1 && strings.HasSuffix(text, `"`) {
			end = len(text) - 1 // a name alone
		} else {
			return t, fmt.Errorf("bad thread header %q: no closing quote", dumps.Clip(text))
		}
	}
	t.Name = text[1:end]
	rest := strings.TrimSpace(text[end+1:])
	if r, ok := strings.CutPrefix(rest, "- Thread t@"); ok {
		id, err := strconv.ParseInt(strings.TrimSpace(r), 10, 64)
		if err != nil {
			return t, fmt.Errorf("bad thread id in header %q", dumps.Clip(text))
		}
		t.ID = id
		return t, nil
	}
	f := strings.Fields(rest)
	i := 0
	for ; i < len(f); i++ {
		attr, err := headerAttr(&t, f[i])
		if err != nil {
			return t, fmt.Errorf("bad %s in thread header %q", f[i], dumps.Clip(text))
		}
		if !attr {
			break
		}
	}
	// The rest is the status, then the stack address: "waiting on condition [0x...]".
	var st []string
	for ; i < len(f); i++ {
		if isStackRange(f[i]) {
			break
		}
		st = append(st, f[i])
	}
	t.Status = strings.Join(st, " ")
	return t, nil
}

// isStackRange reports whether a header word is the stack address range
// that ends a thread header: "[0x00007f...]", "[0xa967c000..0xa967c1c0]",
// or HP-UX's "[9fffffffb6f00000..9fffffffb6f00a40]" without 0x.
func isStackRange(w string) bool {
	if !strings.HasPrefix(w, "[") || !strings.HasSuffix(w, "]") {
		return false
	}
	a, _, _ := strings.Cut(w[1:len(w)-1], "..")
	return dumps.HexOnly(strings.TrimPrefix(a, "0x"))
}

// headerAttr reads one attribute of a thread header into t; it returns
// false for a word that is not an attribute (the status begins there).
func headerAttr(t *dumps.Thread, tok string) (bool, error) {
	var err error
	switch {
	case tok == "daemon":
		t.Daemon = true
	case tok == "virtual":
	case strings.HasPrefix(tok, "#"):
		t.ID, err = strconv.ParseInt(tok[1:], 10, 64)
	case strings.HasPrefix(tok, "[") && strings.HasSuffix(tok, "]") && !strings.HasPrefix(tok, "[0x"):
		// [5379]: the OS thread id in decimal (JDK 19+), also in nid.
	case strings.HasPrefix(tok, "prio="):
		t.Prio, err = strconv.Atoi(tok[5:])
	case strings.HasPrefix(tok, "os_prio="):
		t.OSPrio, err = strconv.Atoi(tok[8:])
	case strings.HasPrefix(tok, "cpu="):
		t.CPU, err = time.ParseDuration(tok[4:])
	case strings.HasPrefix(tok, "elapsed="):
		t.Elapsed, err = time.ParseDuration(tok[8:])
	case strings.HasPrefix(tok, "tid="):
		t.TID = tok[4:]
	case strings.HasPrefix(tok, "nid="):
		t.NID = tok[4:]
	case strings.Contains(tok, "="):
		// allocated=, defined_classes= and attributes of later JDKs.
	default:
		return false, nil
	}
	return true, err
}

// parseJavaFrame parses the text after "at ":
//
//	java.io.FileInputStream.readBytes(java.base@25/Native Method)
//	java.io.FileInputStream.read(java.base@25/FileInputStream.java:281)
//	com.Foo$$Lambda/0x0000.run(Unknown Source)
func parseJavaFrame(s string) (dumps.Frame, error) {
	open := strings.IndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") {
		return dumps.Frame{}, fmt.Errorf("bad stack frame %q", dumps.Clip(s))
	}
	f := dumps.Frame{Func: s[:open]}
	loc := s[open+1 : len(s)-1]
	// "loader/module@version/File.java:12": file names hold no slash.
	if slash := strings.LastIndexByte(loc, '/'); slash >= 0 {
		f.Module, loc = strings.Trim(loc[:slash], "/"), loc[slash+1:]
	}
	switch loc {
	case "Native Method":
		f.Native = true
		return f, nil
	case "Unknown Source", "":
		return f, nil
	}
	file, line, ok := strings.Cut(loc, ":")
	f.File = file
	if ok {
		n, err := strconv.Atoi(line)
		if err != nil {
			return dumps.Frame{}, fmt.Errorf("bad line number in stack frame %q", dumps.Clip(s))
		}
		f.Line = n
	}
	return f, nil
}

// parseLockLine parses a lock line after "- ":
//
//	locked <0x000000052f820a68> (a java.lang.ProcessImpl$ProcessPipeInputStream)
//	waiting to lock <0x...> (a java.lang.Object)
//	waiting on <0x...> (a java.util.TaskQueue)
//	parking to wait for  <0x...> (a java.util.concurrent.locks.ReentrantLock$NonfairSync)
//	waiting to re-lock in wait() <0x...> (a java.lang.Object)
//	eliminated <owner is scalar replaced> (a java.lang.Object)
//	locked java.io.BufferedInputStream@5284339c
func parseLockLine(s string) (dumps.Lock, error) {
	ops := []struct {
		prefix string
		op     dumps.LockOp
	}{
		{"locked ", dumps.LockHeld},
		{"waiting to lock ", dumps.LockWaitEnter},
		{"waiting on ", dumps.LockWaitOn},
		{"parking to wait for ", dumps.LockParked},
		{"waiting to re-lock in wait() ", dumps.LockRelock},
		{"eliminated ", dumps.LockElided},
	}
	for _, o := range ops {
		if rest, ok := strings.CutPrefix(s, o.prefix); ok {
			l, err := parseLockRef(strings.TrimSpace(rest))
			l.Op = o.op
			return l, err
		}
	}
	return dumps.Lock{}, fmt.Errorf("unrecognised lock line %q", dumps.Clip(s))
}

// parseLockRef parses "<0x...> (a java.lang.Object)", "<no object reference
// available>", "java.io.BufferedInputStream@5284339c" or, in the text of
// jcmd Thread.dump_to_file, "<java.lang.Object@5284339c>".
func parseLockRef(s string) (dumps.Lock, error) {
	var l dumps.Lock
	if strings.HasPrefix(s, "<") {
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return l, fmt.Errorf("bad lock reference %q", dumps.Clip(s))
		}
		a := s[1:end]
		if at := strings.LastIndexByte(a, '@'); at > 0 && !strings.HasPrefix(a, "0x") {
			return dumps.Lock{Addr: a, Class: a[:at]}, nil
		}
		if strings.HasPrefix(a, "0x") || dumps.HexOnly(a) { // Spring Boot: the identity hash without 0x
			l.Addr = a
		}
		rest := strings.TrimSpace(s[end+1:])
		if c, ok := strings.CutPrefix(rest, "(a "); ok {
			c, _, _ = strings.Cut(c, ")") // Spring Boot: `) owned by "x" t@5` may follow
			l.Class = c
		}
		return l, nil
	}
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		return dumps.Lock{Addr: s, Class: s[:at]}, nil
	}
	return l, fmt.Errorf("bad lock reference %q", dumps.Clip(s))
}
