package jvm

import (
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// The JMX form of a JVM thread dump: java.lang.management.ThreadInfo's
// toString() for each thread of ThreadMXBean.dumpAllThreads, as application
// logs, watchdogs and admin endpoints print it. JDK 9 and later:
//
//	"pool-1-thread-1" prio=5 Id=13 WAITING on java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject@1b6d3586
//		at java.base@17.0.15/jdk.internal.misc.Unsafe.park(Native Method)
//		-  waiting on java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject@1b6d3586
//		at java.base@17.0.15/java.util.concurrent.locks.LockSupport.park(LockSupport.java:341)
//		...
//
//		Number of locked synchronizers = 1
//		- java.util.concurrent.locks.ReentrantLock$NonfairSync@4554617c
//
// JDK 6 to 8 print no "daemon" nor "prio=" before Id; a BLOCKED thread's
// header ends in `on java.lang.Object@7f31245a owned by "cache-refresher"
// Id=21`, and " (in native)" or " (suspended)" may follow. toString prints
// at most 8 frames, then "...". TDA's MBean dumper writes a variant under a
// "Full thread dump" line: `"RMI TCP Connection(23)-127.0.1.1" id=3149 in
// RUNNABLE (running in native)`, 4-space indents, jstack-style lock lines
// and "Locked synchronizers: count = 1".
var (
	reThreadInfoHead = regexp.MustCompile(`^"(.*)"((?: daemon)?(?: prio=\d+)?) [Ii]d=(\d+) (in )?(NEW|RUNNABLE|BLOCKED|WAITING|TIMED_WAITING|TERMINATED)((?: .*)?)$`)
	// A thread header, then a frame or (an empty stack) a blank line.
	reThreadInfoMark = regexp.MustCompile(`(?m)^"[^\n]*"(?: daemon)?(?: prio=\d+)? [Ii]d=\d+ (?:in )?(?:NEW|RUNNABLE|BLOCKED|WAITING|TIMED_WAITING|TERMINATED)\b[^\n]*\r?\n(?:(?:\t|    )at \S|\r?\n)`)
	// jstack's thread header, which the jstack parser reads instead.
	reJstackThreadHead = regexp.MustCompile(`(?m)^"[^\n]*"[^\n]* (?:tid|nid)=`)
)

// matchThreadInfo recognises the JMX form from its thread headers: a line
// `"name" ... Id=N STATE` followed by an indented frame or a blank line,
// in a head that has no jstack thread header (those go to ReadJstack).
func matchThreadInfo(head []byte) bool {
	return reThreadInfoMark.Match(head) && !reJstackThreadHead.Match(head)
}

// threadInfoParser reads the JMX form; its state is whether a thread is
// being read (th != nil) and whether its synchronizers list is.
type threadInfoParser struct {
	name  string
	dumps []*dumps.ThreadDump
	warns []dumps.Warning
	cur   *dumps.ThreadDump
	ids   map[int64]bool // thread ids of the current dump
	th    *dumps.Thread
	lock  dumps.Lock // the lock the header names, until the stack names it
	syncs bool       // in "Number of locked synchronizers" of th
	gap   bool       // text other than threads since the last thread
	time  string
	timeN int
}

// ReadThreadInfo parses JVM thread dumps in the JMX form (ThreadInfo's
// toString(), as logs print it, and TDA's MBean dump), alone or inside a
// log; the threads printed together make one dump, and the next dump starts
// after other text or where a thread id repeats. Only I/O failures are
// errors; a malformed line becomes a Warning.
func ReadThreadInfo(r io.Reader, name string) ([]*dumps.ThreadDump, []dumps.Warning, error) {
	p := &threadInfoParser{name: name}
	err := dumps.FeedLines(r, name, p.line, p.endDump)
	return p.dumps, p.warns, err
}

func (p *threadInfoParser) warn(n int, msg string) {
	p.warns = append(p.warns, dumps.Warning{Pos: dumps.Pos{File: p.name, Line: n}, Msg: msg})
}

func (p *threadInfoParser) endThread() {
	t := p.th
	if t == nil {
		return
	}
	for i := range t.Locks {
		if l := &t.Locks[i]; l.Frame < 0 && len(t.Frames) > 0 {
			// TDA's variant prints the locks above the frames: they belong
			// to the top frame.
			l.Frame = 0
			if l.Op == dumps.LockWaitOn && isParkFrame(t.Frames[0].Func) {
				l.Op = dumps.LockParked
			}
		}
	}
	if p.lock.Addr != "" && dumps.WaitedLock(t) == "" && !hasLock(t.Locks, dumps.LockWaitOn) {
		p.lock.Frame = min(0, len(t.Frames)-1)
		t.Locks = append(t.Locks, p.lock) // an empty stack: only the header names the lock
	}
	if t.Frames == nil {
		t.Frames = []dumps.Frame{}
	}
	p.cur.Threads = append(p.cur.Threads, *t)
	p.th, p.syncs, p.lock = nil, false, dumps.Lock{}
}

func (p *threadInfoParser) endDump() {
	p.endThread()
	if p.cur != nil && len(p.cur.Threads) > 0 {
		dumps.FinishThreadDump(p.cur)
		p.dumps = append(p.dumps, p.cur)
	}
	p.cur, p.ids, p.gap = nil, nil, false
}

func (p *threadInfoParser) line(raw string, n int) {
	text := strings.TrimSpace(raw)
	if m := reThreadInfoHead.FindStringSubmatch(raw); m != nil {
		p.header(m, n)
		return
	}
	indented := raw != "" && (raw[0] == '\t' || raw[0] == ' ')
	switch {
	case text == "":
		return // inside a thread (before its synchronizers) or between threads
	case strings.HasPrefix(text, "Full thread dump"):
		p.endDump()
		p.cur = newThreadDump(dumps.Pos{File: p.name, Line: n})
		p.cur.VM = strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(text, "Full thread dump")), ":")
		p.takeTime()
		return
	case isDumpTime(text):
		p.endThread()
		p.time, p.timeN = text, n
		p.gap = true
		return
	case p.th == nil || !indented:
		p.endThread()
		p.gap = true // log lines between dumps
		return
	}
	t := p.th
	switch {
	case strings.HasPrefix(text, "at "):
		f, err := parseStackTraceElement(strings.TrimSpace(text[3:]))
		if err != nil {
			p.warn(n, err.Error())
			return
		}
		t.Frames = append(t.Frames, f)
	case text == "...":
		// toString stops at 8 frames
	case strings.HasPrefix(text, "Number of locked synchronizers"), strings.HasPrefix(text, "Locked synchronizers:"):
		p.syncs = true
	case strings.HasPrefix(text, "- ") && p.syncs:
		l, err := parseLockRef(strings.TrimSpace(text[2:]))
		if err != nil {
			p.warn(n, err.Error())
			return
		}
		l.Op, l.Frame = dumps.LockOwnable, -1
		t.Ownable = append(t.Ownable, l)
	case strings.HasPrefix(text, "- "):
		l, err := parseThreadInfoLock(strings.TrimSpace(text[2:]), t)
		if err != nil {
			p.warn(n, err.Error())
			return
		}
		l.Frame = len(t.Frames) - 1
		t.Locks = append(t.Locks, l)
	default:
		p.warn(n, "unrecognised line in the stack of thread "+strconv.Quote(t.Name)+": "+strconv.Quote(dumps.Clip(text)))
	}
}

// takeTime gives the current dump a time line seen just before it.
func (p *threadInfoParser) takeTime() {
	if p.time != "" {
		p.cur.Time, p.cur.Pos.Line = p.time, p.timeN
		p.time = ""
	}
}

// header starts a thread from the submatches of reThreadInfoHead.
func (p *threadInfoParser) header(m []string, n int) {
	p.endThread()
	id, err := strconv.ParseInt(m[3], 10, 64)
	if err != nil {
		p.warn(n, "bad thread id in "+strconv.Quote(dumps.Clip(m[0])))
		return
	}
	if p.cur != nil && (p.ids[id] || p.gap && len(p.cur.Threads) > 0) {
		p.endDump()
	}
	if p.cur == nil {
		p.cur = newThreadDump(dumps.Pos{File: p.name, Line: n})
		p.takeTime()
	}
	if p.ids == nil {
		p.ids = map[int64]bool{}
	}
	p.ids[id], p.gap = true, false
	t := &dumps.Thread{Pos: dumps.Pos{File: p.name, Line: n}, Name: m[1], ID: id, State: m[5]}
	for _, a := range strings.Fields(m[2]) {
		switch {
		case a == "daemon":
			t.Daemon = true
		case strings.HasPrefix(a, "prio="):
			t.Prio, _ = strconv.Atoi(a[5:]) // the regexp allows digits only
		}
	}
	tail := m[6]
	for _, flag := range []string{" (running in native)", " (in native)", " (suspended)"} {
		if strings.HasSuffix(tail, flag) {
			tail = strings.TrimSuffix(tail, flag)
			d := strings.Trim(flag, " ()")
			if t.StateDetail != "" {
				d += ", " + t.StateDetail
			}
			t.StateDetail = d
		}
	}
	if owned := strings.LastIndex(tail, ` owned by "`); owned >= 0 {
		o := tail[owned+len(` owned by "`):]
		q := strings.LastIndex(o, `" Id=`)
		if oid, err := strconv.ParseInt(o[q+len(`" Id=`):], 10, 64); q >= 0 && err == nil {
			t.LockOwner, t.LockOwnerID = o[:q], oid
		} else {
			p.warn(n, "bad lock owner in "+strconv.Quote(dumps.Clip(m[0])))
		}
		tail = tail[:owned]
	}
	if l, ok := strings.CutPrefix(tail, " on "); ok {
		lk, err := parseLockRef(strings.TrimSpace(l))
		if err != nil {
			p.warn(n, err.Error())
		} else {
			lk.Op = dumps.LockWaitOn
			if t.State == "BLOCKED" {
				lk.Op = dumps.LockWaitEnter
			}
			p.lock = lk
		}
	} else if strings.TrimSpace(tail) != "" {
		p.warn(n, "unrecognised end of thread header "+strconv.Quote(dumps.Clip(m[0])))
	}
	p.th = t
}

// parseThreadInfoLock parses a lock line of the JMX form after "- ":
// "locked java.lang.Object@7f31245a", "blocked on X", "waiting on X", or
// TDA's jstack-style "waiting on <0x18df8a5> (a [I)". A wait on the lock a
// parked thread waits for (its top frame is Unsafe.park) is a park.
func parseThreadInfoLock(s string, t *dumps.Thread) (dumps.Lock, error) {
	if rest, ok := strings.CutPrefix(s, "blocked on "); ok {
		l, err := parseLockRef(strings.TrimSpace(rest))
		l.Op = dumps.LockWaitEnter
		return l, err
	}
	l, err := parseLockLine(s)
	if err != nil {
		return l, err
	}
	if l.Op == dumps.LockWaitOn && len(t.Frames) > 0 && isParkFrame(t.Frames[len(t.Frames)-1].Func) {
		l.Op = dumps.LockParked
	}
	return l, nil
}

// isParkFrame reports whether a function is the JDK's park, under which a
// thread waits for a java.util.concurrent lock or condition.
func isParkFrame(fn string) bool {
	return fn == "jdk.internal.misc.Unsafe.park" || fn == "sun.misc.Unsafe.park" || strings.HasPrefix(fn, "java.util.concurrent.locks.LockSupport.park")
}

// hasLock reports whether one of ls is an operation op.
func hasLock(ls []dumps.Lock, op dumps.LockOp) bool {
	for _, l := range ls {
		if l.Op == op {
			return true
		}
	}
	return false
}
