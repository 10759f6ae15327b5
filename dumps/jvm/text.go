package jvm

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// The plain-text thread dump of jcmd PID Thread.dump_to_file FILE (JDK 21+,
// the format without -format=json): the process id, the time and the
// runtime version on three lines, then a block per thread, blocks separated
// by a blank line. JDK 24 and later:
//
//	#23 "inventory-worker-1" WAITING 2026-11-23T07:40:27.180225373Z
//	    at java.base/jdk.internal.misc.Unsafe.park(Native Method)
//	    - parking to wait for <java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject@1c2b3a4d>
//	    at java.base/java.util.concurrent.locks.LockSupport.park(LockSupport.java:371)
//
// JDK 21 to 23 print the header without state and time, a virtual thread
// with " virtual" after its name, and the frames indented by six spaces
// without "at ".
var (
	reJVMTextHead   = regexp.MustCompile(`\A\s*(\d+)\r?\n(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^\s]*)\r?\n(\S[^\r\n]*)\r?\n`)
	reJVMTextThread = regexp.MustCompile(`(?m)^#\d+ "`)
	// The part of a thread header after its name.
	reJVMTextTail = regexp.MustCompile(`^"( virtual)?(?: ([A-Z_]+))?(?: (\d{4}-\d\d-\d\dT\S+))?$`)
)

// matchJVMText recognises the text of jcmd Thread.dump_to_file: a process
// id, a time and a version on the first three lines, and a thread header.
func matchJVMText(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\ufeff"))
	return reJVMTextHead.Match(head) && reJVMTextThread.Match(head)
}

// ReadText parses the plain-text thread dump of jcmd PID
// Thread.dump_to_file. A file that does not start as such a dump is an
// error; a line that cannot be read is a Warning with its position.
func ReadText(r io.Reader, name string) (*dumps.ThreadDump, []dumps.Warning, error) {
	src := dumps.NewLines(r)
	var warns []dumps.Warning
	warn := func(n int, format string, args ...any) {
		warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: fmt.Sprintf(format, args...)})
	}
	// The three header lines, after any blank ones.
	var head []textLine
	for len(head) < 3 {
		text, n, ok := src.Next()
		if !ok {
			break
		}
		l := textLine{text, n}
		if len(head) == 0 && strings.TrimSpace(l.text) == "" {
			continue
		}
		head = append(head, l)
	}
	if len(head) < 3 {
		return nil, nil, fmt.Errorf("%s: not a jcmd Thread.dump_to_file dump: the file ends within its first three lines", name)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(head[0].text), "\ufeff"))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a jcmd Thread.dump_to_file dump: line %d is not a process id", name, head[0].line)
	}
	d := newThreadDump(dumps.Pos{File: name, Line: head[0].line})
	d.PID, d.Time, d.VM = pid, strings.TrimSpace(head[1].text), strings.TrimSpace(head[2].text)

	var t *dumps.Thread
	end := func() {
		if t != nil {
			finishThread(t)
			t.VM = false // the dump lists Java threads only
			d.Threads = append(d.Threads, *t)
			t = nil
		}
	}
	for {
		raw, n, ok := src.Next()
		if !ok {
			break
		}
		l := textLine{raw, n}
		text := strings.TrimSpace(l.text)
		switch {
		case text == "":
			end()
		case strings.HasPrefix(l.text, "#"):
			end()
			nt, err := parseJVMTextHeader(l.text)
			if err != nil {
				warn(l.line, "%v", err)
				continue
			}
			nt.Pos = dumps.Pos{File: name, Line: l.line}
			t = &nt
		case t == nil:
			warn(l.line, "line outside a thread: %q", dumps.Clip(text))
		case strings.HasPrefix(text, "- "):
			lk, err := parseLockLine(text[2:])
			if err != nil {
				warn(l.line, "thread %q: %v", t.Name, err)
				continue
			}
			lk.Frame = max(len(t.Frames)-1, 0)
			t.Locks = append(t.Locks, lk)
		default:
			f, err := parseStackTraceElement(strings.TrimPrefix(text, "at "))
			if err != nil {
				warn(l.line, "thread %q: %v", t.Name, err)
				continue
			}
			t.Frames = append(t.Frames, f)
		}
	}
	end()
	if err := src.Err(); err != nil {
		return d, warns, fmt.Errorf("%s: %w", name, err)
	}
	dumps.FinishThreadDump(d)
	return d, warns, nil
}

// parseJVMTextHeader parses `#23 "name" WAITING 2026-...Z`, `#31 ""
// virtual` and the like. The name may hold quotes: it ends at the last
// quote after which the rest is a header's tail.
func parseJVMTextHeader(s string) (dumps.Thread, error) {
	sp := strings.IndexByte(s, ' ')
	if sp < 0 || !strings.HasPrefix(s[sp+1:], `"`) {
		return dumps.Thread{}, fmt.Errorf("bad thread header %q", dumps.Clip(s))
	}
	id, err := strconv.ParseInt(s[1:sp], 10, 64)
	if err != nil {
		return dumps.Thread{}, fmt.Errorf("bad thread id in %q", dumps.Clip(s))
	}
	rest := s[sp+2:]
	for q := strings.LastIndexByte(rest, '"'); q >= 0; q = strings.LastIndexByte(rest[:q], '"') {
		if m := reJVMTextTail.FindStringSubmatch(rest[q:]); m != nil {
			return dumps.Thread{Name: rest[:q], ID: id, Virtual: m[1] != "", State: m[2]}, nil
		}
	}
	return dumps.Thread{}, fmt.Errorf("bad thread header %q", dumps.Clip(s))
}

// A textLine is one line of input with its 1-based position.
type textLine struct {
	text string
	line int
}
