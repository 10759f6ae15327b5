// Package python reads what a Python process leaves behind when its sockets
// pile up: faulthandler dumps (faulthandler.dump_traceback, the handlers
// faulthandler.register and dump_traceback_later install, fatal errors),
// `py-spy dump` text and JSON, stacks printed with traceback.print_stack
// (the sys._current_frames() recipe), and the ResourceWarning Python
// prints for a socket it garbage-collects unclosed.
//
// Threads become dumps.ThreadDump records with Runtime "python" and frames
// named module.function ("socket.readinto", "http.client._read_status",
// "server.handle"), so that dumps' classifier and the report treat them as
// they treat JVM threads. Unclosed-socket warnings become
// dumps.RuntimeSocket records with the descriptor and both endpoints.
package python

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// Result is everything read from one text file of Python evidence.
type Result struct {
	Dumps     []*dumps.ThreadDump
	Processes []dumps.RuntimeProcess
	Sockets   []dumps.RuntimeSocket
	Warnings  []dumps.Warning
	// Skipped counts the lines that were none of the above (the rest of a
	// log, exception tracebacks), ignored without a warning.
	Skipped int
}

// Line patterns, compiled once. Each comment is an example.
var (
	// `Thread 0x00007f3c2a7fc700 (most recent call first):`,
	// `Current thread 0x00007f3c2f4e1740 (most recent call first):`,
	// `Stack (most recent call first):` (3.12+, one thread).
	reFaultHeader = regexp.MustCompile(`^(Current thread|Thread) (0x[0-9a-fA-F]+|\d+)(?: \[([^\]]*)\])? \(most recent call first\):$|^Stack \(most recent call first\):$`)
	// `  File "/usr/lib/python3.11/socket.py", line 706 in readinto`
	reFaultFrame = regexp.MustCompile(`^\s*File "(.*)", line (\d+) in (.+)$`)
	// `  File "/app/client.py", line 12, in fetch` (traceback)
	reTraceFrame = regexp.MustCompile(`^\s*File "(.*)", line (\d+), in (.+)$`)
	// `  File "/app/server.py", lineno 25` (tracemalloc), or `line 25`
	reMallocFrame = regexp.MustCompile(`^\s*File "(.*)", (?:lineno|line) (\d+)$`)
	// `Process 4242: python3 app.py`
	reSpyProcess = regexp.MustCompile(`^Process (\d+): (.*)$`)
	// `Python v3.11.2 (/usr/bin/python3.11)`
	reSpyVersion = regexp.MustCompile(`^Python v(\S+)(?: \((.*)\))?$`)
	// `Thread 0x7F3C2A7FC700 (idle): "worker-1"`, `Thread 4243 (active+gil)`
	reSpyThread = regexp.MustCompile(`^Thread (0x[0-9a-fA-F]+|\d+) \(([a-z+]+)\)(?:: "(.*)")?$`)
	// `    readinto (socket.py:706)`, `    handle (/app/server.py:30)`
	reSpyFrame = regexp.MustCompile(`^\s+(\S.*?) \((.+):(\d+)\)$`)
	// `# Thread: worker-1(140245)`, `Thread worker-1 (140245):` (the
	// sys._current_frames() recipes' headers)
	reStackHeader = regexp.MustCompile(`^#?\s*Thread(?: ID)?:?\s*(.*?)\s*\(?(\d+)\)?:?$`)
	// `ResourceWarning: unclosed <socket.socket fd=7, family=2, ...>`
	reUnclosed = regexp.MustCompile(`ResourceWarning: unclosed <([A-Za-z_][\w.]*) (.*)>`)
)

// state is where the reader is; each comment is a line that leads there.
type state uint8

const (
	stOutside  state = iota // anything else
	stFault                 // `Thread 0x... (most recent call first):`
	stSpy                   // `Thread 0x7F.. (idle): "MainThread"`
	stSpyLocal              // `        Locals:` under a py-spy frame
	stTrace                 // `  File "x.py", line 3, in f` (traceback order)
	stMalloc                // `Object allocated at (most recent call last):`
)

type reader struct {
	name  string
	res   Result
	state state
	cur   *dumps.ThreadDump
	th    *dumps.Thread
	seen  map[string]bool // thread ids of the current dump
	pid   int             // py-spy's process, for the dumps that follow
	// trace is the traceback block being read, in the order printed, and
	// traceHeader the line before it.
	trace       []dumps.Frame
	traceAt     int
	traceHeader string
	traceExc    bool // the block is an exception's traceback
	prev        string
	sock        *dumps.RuntimeSocket
	malloc      []dumps.Frame
}

// Read reads Python evidence into a dumps.Evidence of kind python. Only I/O
// failures are errors; a malformed line is a warning.
func Read(r io.Reader, name string) (*dumps.Evidence, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(512)
	if isSpyJSON(head) {
		d, p, warns, err := ReadSpyJSON(br, name)
		ev := &dumps.Evidence{File: name, Kind: dumps.KindPySpyJSON, Warnings: warns}
		if d != nil {
			ev.ThreadDumps = append(ev.ThreadDumps, d)
			ev.Processes = append(ev.Processes, p)
		}
		return ev, err
	}
	res, err := ReadText(br, name)
	ev := &dumps.Evidence{File: name, Kind: dumps.KindPython, Warnings: res.Warnings}
	ev.ThreadDumps = res.Dumps
	ev.Processes = res.Processes
	ev.RuntimeSockets = res.Sockets
	if len(ev.ThreadDumps) > 1 {
		// Dumps taken some seconds apart (SIGUSR1 twice): which stacks stay.
		snaps, _, _ := ev.Snapshots()
		ev.Series = dumps.CompareSeries(snaps)
	}
	return ev, err
}

// ReadText reads faulthandler dumps, py-spy dump text, traceback stacks
// and unclosed-socket ResourceWarnings from r, in any mix (a service's
// stderr holds them all).
func ReadText(r io.Reader, name string) (*Result, error) {
	p := &reader{name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		p.line(strings.TrimRight(sc.Text(), " \t\r"), n)
	}
	p.endBlock()
	p.endDump()
	if err := sc.Err(); err != nil {
		return &p.res, fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	return &p.res, nil
}

func (p *reader) warn(line int, format string, args ...any) {
	p.res.Warnings = append(p.res.Warnings, dumps.Warning{Pos: dumps.Pos{File: p.name, Line: line}, Msg: fmt.Sprintf(format, args...)})
}

func (p *reader) line(text string, n int) {
	defer func() { p.prev = text }()
	switch p.state {
	case stFault:
		if m := reFaultFrame.FindStringSubmatch(text); m != nil {
			p.addFrame(m[1], m[2], m[3], n)
			return
		}
		if t := strings.TrimSpace(text); t == "..." || t == "<no Python frame>" {
			return // faulthandler's cut (over 100 frames) or a thread without Python code
		}
		p.endThread()
		p.state = stOutside
	case stSpy, stSpyLocal:
		if m := reSpyFrame.FindStringSubmatch(text); m != nil && p.th != nil {
			p.state = stSpy
			p.addFrame(m[2], m[3], m[1], n)
			return
		}
		if strings.TrimSpace(text) == "Locals:" {
			p.state = stSpyLocal
			return
		}
		if p.state == stSpyLocal && strings.HasPrefix(text, "        ") {
			return // `            sock: <socket.socket fd=7 ...>`
		}
		if strings.HasPrefix(text, "    ") && strings.Contains(text, "(") && p.th != nil && !strings.Contains(text, ".py") {
			return // a native frame (--native): `    epoll_wait (libc.so.6)`
		}
		p.endThread()
		p.state = stOutside
	case stTrace:
		if m := reTraceFrame.FindStringSubmatch(text); m != nil {
			p.trace = append(p.trace, frame(m[1], m[2], m[3]))
			return
		}
		if strings.HasPrefix(text, "    ") && len(p.trace) > 0 && p.trace[len(p.trace)-1].Source == "" {
			p.trace[len(p.trace)-1].Source = dumps.Bound(strings.TrimSpace(text))
			return
		}
		p.endBlock()
	case stMalloc:
		if m := reMallocFrame.FindStringSubmatch(text); m != nil {
			p.malloc = append(p.malloc, frame(m[1], m[2], ""))
			return
		}
		if strings.HasPrefix(text, "    ") && len(p.malloc) > 0 && p.malloc[len(p.malloc)-1].Source == "" {
			p.malloc[len(p.malloc)-1].Source = dumps.Bound(strings.TrimSpace(text))
			return
		}
		p.endBlock()
	}
	p.outside(text, n)
}

// outside handles a line that starts something or is skipped.
func (p *reader) outside(text string, n int) {
	switch {
	case text == "":
		return
	case strings.HasPrefix(text, "Fatal Python error:"), strings.HasPrefix(text, "Timeout ("):
		p.endDump() // a fatal error or dump_traceback_later starts a dump
		return
	}
	if !mayStart(text) {
		p.other(text)
		return
	}
	if m := reFaultHeader.FindStringSubmatch(text); m != nil {
		id := m[2]
		if id == "" {
			id = "stack"
		}
		if p.seen[id] {
			p.endDump() // the same thread again: the next dump (SIGUSR1 twice)
		}
		d := p.dump(n)
		t := dumps.Thread{Pos: dumps.Pos{File: p.name, Line: n}, NID: m[2], Name: m[3]}
		t.ID = threadID(m[2])
		if strings.HasPrefix(m[1], "Current") {
			t.Status = "current"
		}
		if d.PID == 0 {
			d.PID = p.pid
		}
		p.seen[id] = true
		p.th, p.state = &t, stFault
		return
	}
	if m := reSpyProcess.FindStringSubmatch(text); m != nil {
		p.endDump()
		pid, _ := strconv.Atoi(m[1])
		p.pid = pid
		p.res.Processes = append(p.res.Processes, dumps.RuntimeProcess{Pos: dumps.Pos{File: p.name, Line: n}, Runtime: "python", PID: pid, Command: dumps.Bound(m[2])})
		p.dump(n).PID = pid
		return
	}
	if m := reSpyVersion.FindStringSubmatch(text); m != nil && len(p.res.Processes) > 0 {
		pr := &p.res.Processes[len(p.res.Processes)-1]
		pr.Version, pr.Executable = m[1], m[2]
		return
	}
	if m := reSpyThread.FindStringSubmatch(text); m != nil {
		if p.seen[m[1]] {
			p.endDump()
		}
		d := p.dump(n)
		if d.PID == 0 {
			d.PID = p.pid
		}
		p.seen[m[1]] = true
		t := dumps.Thread{Pos: dumps.Pos{File: p.name, Line: n}, NID: m[1], Name: m[3]}
		t.Status, _, _ = strings.Cut(m[2], "+")
		t.ID = threadID(m[1]) // the thread's ident, or its native id
		p.th, p.state = &t, stSpy
		return
	}
	if m := reUnclosed.FindStringSubmatch(text); m != nil {
		s, err := parseUnclosed(m[1], m[2])
		if err != nil {
			p.warn(n, "%v", err)
			return
		}
		s.Src = dumps.Pos{File: p.name, Line: n}
		p.res.Sockets = append(p.res.Sockets, s)
		p.sock = &p.res.Sockets[len(p.res.Sockets)-1]
		return
	}
	if strings.HasPrefix(text, "Object allocated at (most recent call last):") && p.sock != nil {
		p.state, p.malloc = stMalloc, nil
		return
	}
	if m := reTraceFrame.FindStringSubmatch(text); m != nil {
		p.state = stTrace
		p.trace = []dumps.Frame{frame(m[1], m[2], m[3])}
		p.traceAt, p.traceHeader = n, p.prev
		p.traceExc = strings.HasPrefix(strings.TrimSpace(p.prev), "Traceback (most recent call last)")
		return
	}
	p.other(text)
}

// mayStart is the cheap test before the patterns of outside: a line that
// can start a thread, a dump, a warning or a traceback block.
func mayStart(text string) bool {
	t := strings.TrimLeft(text, " \t")
	return strings.HasPrefix(t, "Thread") || strings.HasPrefix(t, "Current thread") || strings.HasPrefix(t, "Stack (") ||
		strings.HasPrefix(t, "Process ") || strings.HasPrefix(t, "Python v") || strings.HasPrefix(t, `File "`) ||
		strings.HasPrefix(t, "Object allocated at") || strings.Contains(text, "ResourceWarning: unclosed <")
}

// other handles a line that starts nothing: the source line under a
// warning, or other output, which ends a dump.
func (p *reader) other(text string) {
	if p.sock != nil && strings.HasPrefix(text, "  ") {
		return // the source line under a warning
	}
	if p.cur != nil && len(p.cur.Threads) > 0 && !reStackHeader.MatchString(strings.TrimSpace(text)) {
		p.endDump() // other output ends a dump; a thread's header does not
	}
	p.res.Skipped++
}

func (p *reader) dump(n int) *dumps.ThreadDump {
	if p.cur == nil {
		p.cur = &dumps.ThreadDump{Pos: dumps.Pos{File: p.name, Line: n}, Runtime: "python", SMRLength: -1, JNIGlobalRefs: -1, ReportedDeadlockCount: -1}
		p.seen = map[string]bool{}
	}
	return p.cur
}

func (p *reader) addFrame(file, line, fn string, n int) {
	if p.th == nil {
		return
	}
	if len(p.th.Frames) >= maxFrames {
		if len(p.th.Frames) == maxFrames {
			p.warn(n, "thread %s: more than %d frames, the rest left out", p.th.NID, maxFrames)
			p.th.Frames = append(p.th.Frames, dumps.Frame{Func: "..."})
		}
		return
	}
	p.th.Frames = append(p.th.Frames, frame(file, line, fn))
}

// maxFrames bounds a stack; faulthandler itself stops at 100.
const maxFrames = 1000

func (p *reader) endThread() {
	if p.th != nil && p.cur != nil {
		p.cur.Threads = append(p.cur.Threads, *p.th)
	}
	p.th = nil
}

func (p *reader) endDump() {
	p.endThread()
	if p.cur != nil {
		if len(p.cur.Threads) > 0 {
			dumps.FinishThreadDump(p.cur)
			p.res.Dumps = append(p.res.Dumps, p.cur)
		}
		p.cur = nil
	}
	if p.state == stFault || p.state == stSpy || p.state == stSpyLocal {
		p.state = stOutside
	}
}

// endBlock ends a traceback or tracemalloc block.
func (p *reader) endBlock() {
	switch p.state {
	case stTrace:
		if p.traceExc {
			p.res.Skipped += len(p.trace) // an exception, not a thread
		} else {
			slices.Reverse(p.trace) // printed most recent call last
			t := dumps.Thread{Pos: dumps.Pos{File: p.name, Line: p.traceAt}, Frames: p.trace}
			if m := reStackHeader.FindStringSubmatch(strings.TrimSpace(p.traceHeader)); m != nil {
				t.Name = strings.TrimSpace(m[1])
				t.ID, _ = strconv.ParseInt(m[2], 10, 64)
				t.Pos.Line--
			}
			key := "trace:" + strconv.FormatInt(t.ID, 10) + t.Name
			if p.seen[key] {
				p.endDump()
			}
			p.dump(t.Pos.Line)
			p.seen[key] = true
			p.cur.Threads = append(p.cur.Threads, t)
		}
		p.trace = nil
	case stMalloc:
		if p.sock != nil {
			slices.Reverse(p.malloc)
			p.sock.Frames = p.malloc
		}
		p.malloc, p.sock = nil, nil
	}
	p.state = stOutside
}

// threadID reads a thread id as printed, hex (0x7f3c2a7fc700) or decimal;
// 0 when it is neither or does not fit.
func threadID(s string) int64 {
	base := 10
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		s, base = h, 16
	}
	id, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return 0
	}
	return id
}

// frame builds a frame whose function is named module.function.
func frame(file, line, fn string) dumps.Frame {
	l, _ := strconv.Atoi(line)
	f := dumps.Frame{File: file, Line: l, Func: fn}
	if mod := Module(file); mod != "" && fn != "" {
		f.Func = mod + "." + fn
	}
	return f
}

// Module is the dotted module name of a source file as a traceback prints
// it: the path below site-packages, dist-packages, lib/pythonX.Y or Lib, a
// relative path (py-spy prints paths relative to sys.path), or the base
// name of another absolute path, without .py and __init__
// ("/usr/lib/python3.11/http/client.py" is http.client). Frozen modules
// ("<frozen importlib._bootstrap>") keep their name; other names in angle
// brackets ("<string>") give "".
func Module(file string) string {
	if strings.HasPrefix(file, "<frozen ") && strings.HasSuffix(file, ">") {
		return strings.TrimSuffix(strings.TrimPrefix(file, "<frozen "), ">")
	}
	if strings.HasPrefix(file, "<") {
		return ""
	}
	f := strings.ReplaceAll(file, `\`, "/")
	rel := ""
	for _, mark := range []string{"/site-packages/", "/dist-packages/"} {
		if i := strings.LastIndex(f, mark); i >= 0 {
			rel = f[i+len(mark):]
			break
		}
	}
	if rel == "" {
		if i := strings.Index(f, "/lib/python"); i >= 0 {
			if j := strings.IndexByte(f[i+len("/lib/python"):], '/'); j >= 0 {
				rel = f[i+len("/lib/python")+j+1:]
			}
		} else if i := strings.LastIndex(f, "/Lib/"); i >= 0 {
			rel = f[i+len("/Lib/"):] // a CPython source tree, a Windows install
		}
	}
	switch {
	case rel != "":
	case !strings.HasPrefix(f, "/") && !strings.HasPrefix(f, ".") && !(len(f) > 2 && f[1] == ':'):
		rel = f // relative to sys.path, as py-spy prints: http/client.py
	default:
		// Another absolute path: the file's name, or its package's for an
		// __init__.py.
		dir, base := "", f
		if i := strings.LastIndexByte(f, '/'); i >= 0 {
			dir, base = f[:i], f[i+1:]
		}
		if base == "__init__.py" && dir != "" {
			base = dir[strings.LastIndexByte(dir, '/')+1:]
		}
		rel = base
	}
	rel = strings.TrimSuffix(rel, ".py")
	rel = strings.TrimSuffix(rel, "/__init__")
	return strings.ReplaceAll(rel, "/", ".")
}

// parseUnclosed reads the repr of a socket from a ResourceWarning: typ is
// "socket.socket" or "ssl.SSLSocket", attrs the rest ("fd=7, family=2,
// type=1, proto=6, laddr=('127.0.0.1', 8080), raddr=('127.0.0.1', 50312)").
func parseUnclosed(typ, attrs string) (dumps.RuntimeSocket, error) {
	s := dumps.RuntimeSocket{Runtime: "python", Source: "resource-warning", FD: -1}
	if !strings.HasSuffix(typ, "socket") && !strings.HasSuffix(typ, "Socket") {
		return s, fmt.Errorf("unclosed %s: not a socket", dumps.Bound(typ))
	}
	for rest := attrs; rest != ""; {
		rest = strings.TrimLeft(rest, ", ")
		key, val, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		if strings.HasPrefix(val, "(") {
			end := strings.IndexByte(val, ')')
			if end < 0 {
				return s, fmt.Errorf("unclosed socket: %s has no closing parenthesis", key)
			}
			ep, err := parseAddr(val[1:end])
			if err != nil {
				return s, fmt.Errorf("unclosed socket: %s: %w", key, err)
			}
			switch key {
			case "laddr":
				s.Local = ep
			case "raddr":
				s.Remote = ep
			}
			rest = val[end+1:]
			continue
		}
		v, after, _ := strings.Cut(val, ",")
		rest = after
		switch key {
		case "fd":
			fd, err := strconv.Atoi(v)
			if err != nil {
				return s, fmt.Errorf("unclosed socket: fd %q: %w", dumps.Bound(v), err)
			}
			s.FD = fd
		case "family":
			s.Family = familyName(v)
		}
	}
	return s, nil
}

// familyName spells a socket family as AF_INET or AF_INET6, whether Python
// printed the number (2, 10) or the enum (AddressFamily.AF_INET).
func familyName(v string) string {
	switch v {
	case "2":
		return "AF_INET"
	case "10", "23", "30":
		return "AF_INET6" // Linux, Windows, macOS
	case "1":
		return "AF_UNIX"
	}
	return strings.TrimPrefix(v, "AddressFamily.")
}

// parseAddr reads a Python address tuple's inside: "'127.0.0.1', 8080" or
// "'::1', 8080, 0, 0".
func parseAddr(s string) (dumps.Endpoint, error) {
	host, rest, ok := strings.Cut(s, ",")
	if !ok {
		return dumps.Endpoint{}, errors.New("no port")
	}
	host = strings.Trim(strings.TrimSpace(host), `'"`)
	port, _, _ := strings.Cut(strings.TrimSpace(rest), ",")
	n, err := strconv.ParseUint(strings.TrimSpace(port), 10, 16)
	if err != nil {
		return dumps.Endpoint{}, fmt.Errorf("port %q: %w", dumps.Bound(port), err)
	}
	ep := dumps.Endpoint{Port: uint16(n)}
	if a, err := netip.ParseAddr(host); err == nil {
		ep.Addr = a.Unmap()
	} else {
		ep.Host = dumps.Bound(host)
	}
	return ep, nil
}

// Match reports whether head holds Python evidence: a faulthandler or
// py-spy header, py-spy JSON, a ResourceWarning for an unclosed socket, or
// two or more traceback frame lines with a thread header or no exception
// ("Traceback (most recent call last):") among them.
func Match(head []byte) bool {
	if isSpyJSON(head) {
		return true
	}
	frames, exc, headers := 0, 0, 0
	for line := range bytes.Lines(head) {
		t := strings.TrimRight(string(line), "\r\n")
		switch {
		case reFaultHeader.MatchString(t), reUnclosed.MatchString(t):
			return true
		case reSpyProcess.MatchString(t):
			return bytes.Contains(head, []byte("\nPython v"))
		case reTraceFrame.MatchString(t):
			frames++
		case strings.HasPrefix(t, "Traceback (most recent call last)"):
			exc++
		case strings.Contains(t, "Thread") && reStackHeader.MatchString(strings.TrimSpace(t)):
			headers++
		}
	}
	return frames >= 2 && (exc == 0 || headers > 0)
}
