package jvm

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// The thread dump of Oracle (BEA) JRockit, from jrcmd PID print_threads,
// Ctrl-Break or kill -3. R26 to R28:
//
//	===== FULL THREAD DUMP ===============
//	Wed Nov 14 05:29:50 2007
//	BEA JRockit(R) R26.4.0-63_CR302700-72606-1.5.0_06-20061127-1108-win-ia32
//
//	"Main Thread" id=1 idx=0x2 tid=1256 prio=5 alive, in native, waiting
//	    -- Waiting for notification on: weblogic/t3/srvr/T3Srvr@0x01DB6168[fat lock]
//	    at java/lang/Object.wait()V(Native Method)
//	    at weblogic/t3/srvr/T3Srvr.waitForDeath()V(T3Srvr.java:730)
//	    ^-- Lock released while waiting: weblogic/t3/srvr/T3Srvr@0x01DB6168[fat lock]
//	    -- end of trace
//
//	"(GC Worker Thread 1)" id=? idx=0xc tid=4028 prio=5 alive, native_waiting, daemon
//	...
//	===== END OF THREAD DUMP ===============
//
// Frames name classes with slashes and may carry the JVM signature before
// the location; R24 (JDK 1.4) prints `"Main Thread" prio=5 id=0x80
// tid=0xf7c waiting`, frames ending in "@0x11187A10" and "--- End of stack
// trace". Other lock lines: "-- Blocked trying to get lock: X[thin lock]",
// "^-- Holding lock: X[biased lock]", "-- Parking to wait for: X". After
// the threads R27 and later list "Blocked lock chains", "Open lock chains"
// and "Circular (deadlocked) lock chains", whose lines quote threads as
// headers do; they are skipped (deadlocks come from the lock graph).
// Saved consoles often wrap long lines: a line at column 0 that continues
// a header or a frame is joined to it.
const (
	jrockitStart = "===== FULL THREAD DUMP ==============="
	jrockitEnd   = "===== END OF THREAD DUMP ==============="
)

var (
	reJRockitMark = regexp.MustCompile(`(?m)^\s*===== FULL THREAD DUMP ===============\s*$`)
	reJRockitHead = regexp.MustCompile(`(?m)^"[^\n]*" (?:id=|prio=)`)
)

// matchJRockit recognises a JRockit dump from its start line and a thread
// header line.
func matchJRockit(head []byte) bool {
	loc := reJRockitMark.FindIndex(head)
	return loc != nil && reJRockitHead.Match(head[loc[1]:])
}

// jrockit parser states; each comment is a line that leads there.
type jrockitState uint8

const (
	jrOutside jrockitState = iota // `===== END OF THREAD DUMP`, text around dumps
	jrHead                        // `===== FULL THREAD DUMP`: the time and VM lines
	jrThreads                     // `"Main Thread" id=1 ...` and the stacks
	jrChains                      // `Blocked lock chains`, until the end line
)

type jrockitParser struct {
	name  string
	dumps []*dumps.ThreadDump
	warns []dumps.Warning
	cur   *dumps.ThreadDump
	th    *dumps.Thread
	state jrockitState
	// The logical line being assembled from wrapped ones, and its number.
	pend  string
	pendN int
}

// ReadJRockit parses JRockit thread dumps, alone or inside a log, several
// to a file. Only I/O failures are errors; a malformed line becomes a
// Warning.
func ReadJRockit(r io.Reader, name string) ([]*dumps.ThreadDump, []dumps.Warning, error) {
	p := &jrockitParser{name: name}
	err := dumps.FeedLines(r, name, p.line, p.endDump)
	return p.dumps, p.warns, err
}

// line joins wrapped lines: inside the threads, a line at column 0 that is
// not a header, a blank or a dump marker continues the previous one.
func (p *jrockitParser) line(raw string, n int) {
	if p.state == jrThreads && p.pend != "" && raw != "" && raw[0] != ' ' && raw[0] != '\t' && raw[0] != '"' &&
		!strings.HasPrefix(raw, "=====") && !strings.HasSuffix(raw, "lock chains") {
		p.pend += raw
		return
	}
	p.flush()
	p.pend, p.pendN = raw, n
}

func (p *jrockitParser) flush() {
	if p.pendN > 0 {
		p.logical(p.pend, p.pendN)
	}
	p.pend, p.pendN = "", 0
}

func (p *jrockitParser) warn(n int, msg string) {
	p.warns = append(p.warns, dumps.Warning{Pos: dumps.Pos{File: p.name, Line: n}, Msg: msg})
}

func (p *jrockitParser) endThread() {
	if p.th != nil {
		t := p.th
		t.VM = len(t.Frames) == 0 && (t.ID == 0 || vmThreadName(t.Name))
		jrockitParks(t)
		for i := range t.Locks {
			if t.Locks[i].Frame < 0 && len(t.Frames) > 0 {
				t.Locks[i].Frame = 0 // the lines above the frames are the top frame's
			}
		}
		if t.Frames == nil {
			t.Frames = []dumps.Frame{}
		}
		p.cur.Threads = append(p.cur.Threads, *t)
		p.th = nil
	}
}

func (p *jrockitParser) endDump() {
	p.flush()
	p.endDumpNow()
}

func (p *jrockitParser) endDumpNow() {
	p.endThread()
	if p.cur != nil {
		dumps.FinishThreadDump(p.cur)
		p.dumps = append(p.dumps, p.cur)
	}
	p.cur, p.state = nil, jrOutside
}

// logical handles one line after unwrapping.
func (p *jrockitParser) logical(raw string, n int) {
	text := strings.TrimSpace(raw)
	switch {
	case text == jrockitStart:
		p.endDumpNow()
		p.cur, p.state = newThreadDump(dumps.Pos{File: p.name, Line: n}), jrHead
		return
	case strings.HasPrefix(text, jrockitEnd): // a log line may follow on the same line
		p.endDumpNow()
		return
	}
	switch p.state {
	case jrOutside:
		return // text around the dumps
	case jrHead:
		switch {
		case text == "":
		case strings.HasPrefix(text, `"`):
			p.state = jrThreads
			p.logical(raw, n)
		case p.cur.Time == "":
			p.cur.Time = text
		case p.cur.VM == "":
			p.cur.VM = text
		}
		return
	case jrChains:
		return
	}
	switch {
	case text == "":
		// A thread ends at the next header: a line wrapped exactly at the
		// console's width leaves a blank line inside a stack.
	case strings.HasSuffix(text, "lock chains"):
		p.endThread()
		p.state = jrChains
	case strings.HasPrefix(text, `"`):
		p.endThread()
		t, err := parseJRockitHeader(text)
		if err != nil {
			p.warn(n, err.Error())
			return
		}
		t.Pos = dumps.Pos{File: p.name, Line: n}
		p.th = &t
	case p.th == nil:
		p.warn(n, "line outside a thread: "+strconv.Quote(dumps.Clip(text)))
	case strings.HasPrefix(text, "at "):
		f, err := parseJRockitFrame(text[3:])
		if err != nil {
			p.warn(n, err.Error())
			return
		}
		p.th.Frames = append(p.th.Frames, f)
	case text == "-- end of trace", text == "--- End of stack trace":
	case strings.HasPrefix(text, "-- "), strings.HasPrefix(text, "^-- "):
		l, ok, err := parseJRockitLock(text)
		if err != nil {
			p.warn(n, err.Error())
			return
		}
		if ok {
			l.Frame = len(p.th.Frames) - 1
			p.th.Locks = append(p.th.Locks, l)
		}
	default:
		p.warn(n, "unrecognised line in the stack of thread "+strconv.Quote(p.th.Name)+": "+strconv.Quote(dumps.Clip(text)))
	}
}

// jrockitParks marks the waits of a parked thread as parks. JRockit parks
// in Object.wait under LockSupport.whPark, so its stack shows a monitor
// wait where HotSpot shows "parking to wait for"; a sleeping thread waits
// in Object.wait under Thread.sleep.
func jrockitParks(t *dumps.Thread) {
	for _, w := range strings.Split(t.Status, ", ") {
		switch w {
		case "parked":
			for i := range t.Locks {
				if t.Locks[i].Op == dumps.LockWaitOn {
					t.Locks[i].Op = dumps.LockParked
				}
			}
		case "sleeping":
			t.StateDetail = "sleeping"
		}
	}
}

// parseJRockitHeader parses a thread header:
//
//	"Main Thread" id=1 idx=0x4 tid=4567 prio=5 alive, in native, waiting
//	"(GC Worker Thread 1)" id=? idx=0xc tid=4028 prio=5 alive, native_waiting, daemon
//	"Main Thread" prio=5 id=0x80 tid=0xf7c waiting
//
// The words after the attributes are the status, comma-separated; daemon
// among them marks a daemon thread. The name may hold quotes: it ends at
// the last `" ` followed by an attribute.
func parseJRockitHeader(text string) (dumps.Thread, error) {
	var t dumps.Thread
	end := -1
	for i := strings.LastIndex(text, `" `); i > 0; i = strings.LastIndex(text[:i], `" `) {
		if rest := text[i+2:]; strings.HasPrefix(rest, "id=") || strings.HasPrefix(rest, "prio=") {
			end = i
			break
		}
	}
	if end < 0 {
		return t, fmt.Errorf("bad JRockit thread header %q", dumps.Clip(text))
	}
	t.Name = text[1:end]
	rest := text[end+2:]
	for {
		tok, r := dumps.NextField(rest)
		k, v, ok := strings.Cut(tok, "=")
		if !ok || tok == "" {
			break
		}
		rest = r
		switch k {
		case "id":
			if v != "?" {
				id, err := strconv.ParseInt(v, 0, 64)
				if err != nil {
					return t, fmt.Errorf("bad id in JRockit thread header %q", dumps.Clip(text))
				}
				if !strings.HasPrefix(v, "0x") { // R24's id=0x80 is a VM handle, not a Java id
					t.ID = id
				}
			}
		case "tid":
			t.TID = v
		case "idx":
			t.NID = v
		case "prio":
			prio, err := strconv.Atoi(v)
			if err != nil {
				return t, fmt.Errorf("bad prio in JRockit thread header %q", dumps.Clip(text))
			}
			t.Prio = prio
		}
	}
	var words []string
	for _, w := range strings.Split(rest, ",") {
		if w = strings.TrimSpace(w); w == "daemon" {
			t.Daemon = true
		} else if w != "" {
			words = append(words, w)
		}
	}
	t.Status = strings.Join(words, ", ")
	return t, nil
}

// parseJRockitFrame parses the text after "at ":
//
//	java/lang/Object.wait(J)V(Native Method)
//	weblogic/t3/srvr/T3Srvr.run([Ljava/lang/String;)I(T3Srvr.java:380)
//	java/lang/Object.wait(Object.java:485)
//	jrockit/vm/Threads.waitForSignal(Native Method)@0x11187A10
//
// The class's slashes become dots and the signature is dropped.
func parseJRockitFrame(s string) (dumps.Frame, error) {
	if at := strings.LastIndex(s, ")@0x"); at >= 0 && dumps.HexOnly(s[at+4:]) {
		s = s[:at+1]
	}
	open := strings.LastIndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") {
		return dumps.Frame{}, fmt.Errorf("bad stack frame %q", dumps.Clip(s))
	}
	fn := s[:open]
	if sig := strings.IndexByte(fn, '('); sig >= 0 {
		fn = fn[:sig]
	}
	if fn == "" {
		return dumps.Frame{}, fmt.Errorf("bad stack frame %q", dumps.Clip(s))
	}
	return parseJavaFrame(strings.ReplaceAll(fn, "/", ".") + s[open:])
}

// parseJRockitLock parses a lock line; ok is false for lines that name no
// lock operation the graph uses (a thin lock's "Lock released" note of
// other kinds is kept as held).
func parseJRockitLock(text string) (l dumps.Lock, ok bool, err error) {
	ops := []struct {
		prefix string
		op     dumps.LockOp
	}{
		{"-- Waiting for notification on:", dumps.LockWaitOn},
		{"-- Blocked trying to get lock:", dumps.LockWaitEnter},
		{"-- Parking to wait for:", dumps.LockParked},
		{"^-- Holding lock:", dumps.LockHeld},
		{"^-- Lock released while waiting:", dumps.LockHeld}, // as jstack's "- locked" under a wait
	}
	for _, o := range ops {
		if rest, found := strings.CutPrefix(text, o.prefix); found {
			l, err := parseJRockitLockRef(strings.TrimSpace(rest))
			l.Op = o.op
			return l, err == nil, err
		}
	}
	return dumps.Lock{}, false, nil // other notes ("-- Waiting for ...", "^-- ...")
}

// parseJRockitLockRef parses "weblogic/t3/srvr/T3Srvr@0x01DB6168[fat lock]".
func parseJRockitLockRef(s string) (dumps.Lock, error) {
	if b := strings.IndexByte(s, '['); b > 0 {
		s = s[:b]
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return dumps.Lock{}, fmt.Errorf("bad lock reference %q", dumps.Clip(s))
	}
	return dumps.Lock{Addr: s[at+1:], Class: strings.ReplaceAll(s[:at], "/", ".")}, nil
}
