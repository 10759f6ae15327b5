package dumps

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// DumpEvidence holds the thread and goroutine records of one file. A file may
// hold several dumps (taken some seconds apart, or a dump inside a log that
// holds more than one): each is kept separately, in file order, and Series
// compares them when there are two or more of the same family.
type DumpEvidence struct {
	// ThreadDumps are JVM dumps (jstack, jcmd Thread.print, SIGQUIT, or the
	// JSON of jcmd Thread.dump_to_file).
	ThreadDumps []*ThreadDump `json:"thread_dumps,omitempty"`
	// GoroutineDumps are full Go tracebacks (debug=2, runtime.Stack, panics,
	// SIGQUIT).
	GoroutineDumps []*GoroutineDump `json:"goroutine_dumps,omitempty"`
	// GoroutineProfiles are the aggregated forms: debug=1 text and debug=0
	// protobuf profiles.
	GoroutineProfiles []*GoroutineProfile `json:"goroutine_profiles,omitempty"`
	// Series compares the stack groups of the dumps of this file when it
	// holds two or more dumps of one family (JVM or Go).
	Series []SeriesGroup `json:"series,omitempty"`
}

// Frame is one stack frame. File and Line are empty when the dump does not
// say (a native method, an unknown source).
type Frame struct {
	Func string `json:"func"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Module is the JVM module and version (java.base@21); empty for Go.
	Module string `json:"module,omitempty"`
	// Native marks a JVM native method.
	Native bool `json:"native,omitempty"`
	// Source is the source line a Python traceback prints under the
	// frame ("data = conn.recv(1024)"), trimmed; empty when none.
	Source string `json:"source,omitempty"`
}

func (f Frame) String() string {
	switch {
	case f.Native:
		return f.Func + " (native)"
	case f.File == "":
		return f.Func
	case f.Line == 0:
		return f.Func + " " + f.File
	}
	return f.Func + " " + f.File + ":" + itoa(f.Line)
}

// LogStamp is the RFC 3339 time that `docker logs -t` and `kubectl logs
// --timestamps` put before every line; lineSource removes it.
const LogStamp = `(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) )`

var reLogStamp = regexp.MustCompile(`^` + LogStamp)

// A textLine is one line of input with its 1-based position.
type textLine struct {
	text string
	line int
}

// lineSource yields the lines of a text file with trailing CR and spaces
// removed, and with the RFC 3339 time stamp of container logs (docker logs
// -t, kubectl logs --timestamps) removed from the start. Lines of a `go test -json` stream (objects with an "Output"
// field) are unwrapped: the Output texts are joined and split into lines
// again, each positioned at the JSON line its text began on.
type lineSource struct {
	sc      *bufio.Scanner
	n       int
	pending []textLine
	partial strings.Builder
	partAt  int
	skipped int // JSON event lines without output
}

func newLineSource(r io.Reader) *lineSource {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 4<<20) // a JSON test event holding a long line
	return &lineSource{sc: sc}
}

type testEvent struct {
	Action string  `json:"Action"`
	Output *string `json:"Output"`
}

// next returns the next line, or false at the end of input.
func (s *lineSource) next() (textLine, bool) {
	for len(s.pending) == 0 {
		if !s.sc.Scan() {
			if s.partial.Len() > 0 {
				s.pending = append(s.pending, textLine{trimEOL(s.partial.String()), s.partAt})
				s.partial.Reset()
				continue
			}
			return textLine{}, false
		}
		s.n++
		raw := s.sc.Bytes()
		if len(raw) > 1 && raw[0] == '{' && raw[1] == '"' && bytes.Contains(raw, []byte(`"Action"`)) {
			var ev testEvent
			if json.Unmarshal(raw, &ev) == nil && ev.Action != "" {
				if ev.Output == nil {
					s.skipped++
					continue
				}
				s.addOutput(*ev.Output)
				continue
			}
		}
		s.flushPartial()
		if len(raw) > 20 && raw[4] == '-' && raw[10] == 'T' {
			if loc := reLogStamp.FindIndex(raw); loc != nil {
				raw = raw[loc[1]:] // a container log time stamp
			}
		}
		s.pending = append(s.pending, textLine{trimEOL(string(raw)), s.n})
	}
	l := s.pending[0]
	if len(s.pending) == 1 {
		s.pending = s.pending[:0] // keep the array: one line at a time is the rule
	} else {
		s.pending = s.pending[1:]
	}
	return l, true
}

func (s *lineSource) addOutput(out string) {
	for out != "" {
		if s.partial.Len() == 0 {
			s.partAt = s.n
		}
		before, after, found := strings.Cut(out, "\n")
		s.partial.WriteString(before)
		if !found {
			return
		}
		s.pending = append(s.pending, textLine{trimEOL(s.partial.String()), s.partAt})
		s.partial.Reset()
		out = after
	}
}

func (s *lineSource) flushPartial() {
	if s.partial.Len() > 0 {
		s.pending = append(s.pending, textLine{trimEOL(s.partial.String()), s.partAt})
		s.partial.Reset()
	}
}

func (s *lineSource) err() error { return s.sc.Err() }

// lineParser is a multi-line dump format's state machine, fed one line at
// a time; endDump closes the dump in progress at the end of the input.
type lineParser interface {
	line(text string, n int)
	endDump()
}

// feedLines runs p over every line of r (CRLF, JSON test streams and log
// prefixes handled by lineSource). Only an I/O failure is an error.
func feedLines(r io.Reader, name string, p lineParser) error {
	src := newLineSource(r)
	for {
		l, ok := src.next()
		if !ok {
			break
		}
		p.line(l.text, l.line)
	}
	p.endDump()
	if err := src.err(); err != nil {
		return fmt.Errorf("%s:%d: %w", name, src.n+1, err)
	}
	return nil
}

// FeedLines runs a line parser of another package over every line of r,
// as feedLines does: line is called with each line's text and number, end
// at the end of the input. Only an I/O failure is an error.
func FeedLines(r io.Reader, name string, line func(text string, n int), end func()) error {
	return feedLines(r, name, funcParser{line, end})
}

// funcParser is a lineParser made of two functions.
type funcParser struct {
	lineFn func(text string, n int)
	endFn  func()
}

func (p funcParser) line(text string, n int) { p.lineFn(text, n) }
func (p funcParser) endDump()                { p.endFn() }

func trimEOL(s string) string { return strings.TrimRight(s, " \t\r") }

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Lines yields the lines of a text file to a parser of another package as
// lineSource does (trailing CR and spaces, container log stamps and `go
// test -json` wrapping removed), for a parser that pulls its lines rather
// than being fed them (FeedLines).
type Lines struct{ src *lineSource }

// NewLines returns the lines of r.
func NewLines(r io.Reader) *Lines { return &Lines{newLineSource(r)} }

// Next returns the next line and its 1-based number, or false at the end.
func (l *Lines) Next() (text string, n int, ok bool) {
	tl, ok := l.src.next()
	return tl.text, tl.line, ok
}

// Err is the I/O error that ended the lines, if any.
func (l *Lines) Err() error { return l.src.err() }
