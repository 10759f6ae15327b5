// Package dumps holds the typed records of the evidence saved during an
// incident (socket listings, thread and goroutine dumps, runtime reports,
// logs), the classification and bucketing of stacks, the deadlock cycles
// of thread dumps, the joins across files, and the Chain of format
// recognisers. Each family of evidence has its own package that reads its
// formats into these records: dumps/sockets (ss, lsof, netstat, /proc,
// ulimit), dumps/jvm (jstack, jcmd, JRockit, JMX ThreadInfo), dumps/golang
// (Go tracebacks and profiles), dumps/python, dumps/node, dumps/applog.
// Every record and every warning carries the position it came from, so a
// report can cite it.
//
// Parsers are ReadX(r io.Reader, name string): name is used only in
// positions and messages. Only I/O failures are errors; a malformed line is a
// Warning and parsing goes on.
package dumps

import (
	"errors"
	"fmt"
)

// Pos is a position in an evidence file: the file name as the user gave it
// and a 1-based line number (0 when the position is the whole file).
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

func (p Pos) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return p.File
}

// Warning is a problem with the input that did not stop parsing: a line that
// looked like ours but could not be read, a truncated record.
type Warning struct {
	Pos Pos    `json:"pos"`
	Msg string `json:"msg"`
	// Kind says which warning this is, for the few a reader acts on
	// (the report replaces WarnNoState's); most are WarnInput, shown as
	// they are.
	Kind WarningKind `json:"kind,omitempty"`
}

// WarningKind names a warning that a reader of the records acts on, so
// that it need not recognise the warning by its text. The zero value is a
// plain problem with the input, only shown.
type WarningKind uint8

//go:generate stringer -type=WarningKind -linecomment -output=warningkind_string.go
const (
	WarnInput WarningKind = iota // input
	// WarnNoState is NoStateNote: an ss listing's rows have no State
	// column and nothing in the file names their state.
	WarnNoState // no-state
)

// MarshalText writes the kind by its name, "no-state".
func (k WarningKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

func (w Warning) String() string { return w.Pos.String() + ": " + w.Msg }

// ErrUnknownFormat is returned by a Chain's Sniff and Read for a file that is none of
// the formats this package reads.
var ErrUnknownFormat = errors.New("not a recognised evidence format")

// NoStateNote is the one note an ss listing gets, at its first row, when
// its rows have no State column (a `state` filter such as `ss -tan state
// close-wait`) and no command line in the file names the state; its
// Kind is WarnNoState. The report replaces it with one note saying where the states were taken
// from, so that a listing gets one note, not two.
const NoStateNote = "ss: rows without a State column (a `state` filter) and no command line in the file naming one state: their state is left unknown here; analyze takes it from the other listings of the same socket"

// Clip shortens text quoted in a warning.
func Clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// Bound caps text a record keeps from its input (a command line, a log
// message, a frame's name) at 300 bytes, so that a hostile line cannot
// make a record, or the report that prints it, arbitrarily large.
func Bound(s string) string {
	const max = 300
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// NextField returns the first field of s separated by spaces or tabs, and
// the rest of s after it.
func NextField(s string) (field, rest string) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' {
		j++
	}
	return s[i:j], s[j:]
}

// IntPtr returns a pointer to a copy of v, for the optional fields of the
// records (Owner.PID, Owner.FD).
func IntPtr(v int) *int { return &v }
