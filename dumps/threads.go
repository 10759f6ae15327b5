package dumps

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
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

func dumpFormats() []format {
	return []format{
		{KindJVMJSON, matchJVMJSON, func(ev *Evidence, r io.Reader) error {
			d, warns, err := ReadJVMJSON(r, ev.File)
			ev.Warnings = append(ev.Warnings, warns...)
			if d != nil {
				ev.ThreadDumps = append(ev.ThreadDumps, d)
			}
			return err
		}},
		{KindJVMText, matchJVMText, func(ev *Evidence, r io.Reader) error {
			d, warns, err := ReadJVMText(r, ev.File)
			ev.Warnings = append(ev.Warnings, warns...)
			if d != nil {
				ev.ThreadDumps = append(ev.ThreadDumps, d)
			}
			return err
		}},
		{KindJRockit, matchJRockit, func(ev *Evidence, r io.Reader) error {
			ds, warns, err := ReadJRockit(r, ev.File)
			ev.ThreadDumps, ev.Warnings = ds, append(ev.Warnings, warns...)
			ev.Series = threadSeries(ds)
			return err
		}},
		{KindJVMThreadInfo, matchThreadInfo, func(ev *Evidence, r io.Reader) error {
			ds, warns, err := ReadThreadInfo(r, ev.File)
			ev.ThreadDumps, ev.Warnings = ds, append(ev.Warnings, warns...)
			ev.Series = threadSeries(ds)
			return err
		}},
		{KindJstack, matchJstack, func(ev *Evidence, r io.Reader) error {
			ds, warns, err := ReadJstack(r, ev.File)
			ev.ThreadDumps, ev.Warnings = ds, append(ev.Warnings, warns...)
			ev.Series = threadSeries(ds)
			return err
		}},
		{KindGoroutineProfile, matchGoroutineProfile, func(ev *Evidence, r io.Reader) error {
			ps, warns, err := ReadGoroutineProfile(r, ev.File)
			ev.GoroutineProfiles, ev.Warnings = ps, append(ev.Warnings, warns...)
			ev.Series = profileSeries(ps)
			return err
		}},
		{KindGoroutines, matchGoroutines, func(ev *Evidence, r io.Reader) error {
			ds, warns, err := readGoroutineBuckets(r, ev.File)
			ev.GoroutineDumps, ev.Warnings = ds, append(ev.Warnings, warns...)
			ev.Series = goroutineSeries(ds)
			return err
		}},
		{KindPprof, matchPprof, func(ev *Evidence, r io.Reader) error {
			p, warns, err := ReadPprof(r, ev.File)
			ev.Warnings = append(ev.Warnings, warns...)
			if p != nil {
				ev.GoroutineProfiles = append(ev.GoroutineProfiles, p)
			}
			return err
		}},
	}
}

// Sniff patterns. They look for the markers a dump prints, anywhere in the
// head, so that a dump inside a log or a `go test -json` stream is found.
var (
	reJstackMark = regexp.MustCompile(`(?m)^` + logStamp + `?\s*(Full thread dump |java\.lang\.Thread\.State: )`)
	// A goroutine header, at a line start or inside a JSON string.
	reGoroutineMark = regexp.MustCompile(`(?m)(^` + logStamp + `?|\\n|"Output":")goroutine \d+ (gp=0x[0-9a-f]+ m=\S+ (mp=\S+ )?)?\[[^\n]*\]:`)
	reProfileMark   = regexp.MustCompile(`(?m)^` + logStamp + `?goroutine profile: total \d+\r?$`)
)

// logStamp is the RFC 3339 time that `docker logs -t` and `kubectl logs
// --timestamps` put before every line; lineSource removes it.
const logStamp = `(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) )`

var reLogStamp = regexp.MustCompile(`^` + logStamp)

func matchJstack(head []byte) bool { return reJstackMark.Match(head) }

func matchGoroutines(head []byte) bool { return reGoroutineMark.Match(head) }

func matchGoroutineProfile(head []byte) bool { return reProfileMark.Match(head) }

// matchPprof recognises a protocol buffer whose first fields are fields of
// a pprof Profile message (numbers 1 to 14, varint or length-delimited),
// the debug=0 form of a goroutine profile, gzipped as pprof writes it or
// already decompressed; ReadPprof checks the sample type. Other gzipped
// files are left to other formats. Without gzip the check is stricter, as
// text can pass for a few protobuf fields: three fields at least, and
// binary bytes (below a tab, or not UTF-8) among the first 512.
func matchPprof(head []byte) bool {
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return false
		}
		var buf [512]byte
		n, _ := io.ReadFull(zr, buf[:])
		return pprofFields(buf[:n]) > 0
	}
	b := head[:min(len(head), 512)]
	if !bytes.ContainsFunc(b, func(r rune) bool { return r < 0x09 || r == utf8.RuneError }) {
		return false
	}
	return pprofFields(b) >= 3
}

// pprofFields counts the leading fields of b (at most 8) that can be
// fields of a Profile message, or returns 0 when one cannot.
func pprofFields(b []byte) int {
	fields := 0
	for len(b) > 0 && fields < 8 {
		tag, k := binary.Uvarint(b)
		if k <= 0 {
			break // cut by the buffer
		}
		b = b[k:]
		field, wire := tag>>3, tag&7
		if field < 1 || field > 14 || (wire != 0 && wire != 2) {
			return 0
		}
		v, k := binary.Uvarint(b)
		if k <= 0 {
			break
		}
		b = b[k:]
		if wire == 2 {
			if v > uint64(len(b)) {
				break // continues past the buffer
			}
			b = b[v:]
		}
		fields++
	}
	return fields
}

// matchJVMJSON recognises the JSON written by jcmd Thread.dump_to_file
// -format=json: an object whose first key is "threadDump".
func matchJVMJSON(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	t = bytes.TrimLeft(t[1:], " \t\r\n")
	return bytes.HasPrefix(t, []byte(`"threadDump"`))
}

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
