package analysis

import (
	"io"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/applog"
	"github.com/cwforensics/cwforensics/dumps/node"
	"github.com/cwforensics/cwforensics/dumps/python"
)

// runtimeFormat is an evidence format read by one of dumps' sub-packages,
// which dumps cannot call itself (they import it for its record types).
type runtimeFormat struct {
	kind  dumps.Kind
	match func(head []byte) bool
	read  func(r io.Reader, name string) (*dumps.Evidence, error)
}

// runtimeFormats are tried in this order after dumps.RecognizeText knows
// none of its own: the Node.js report's JSON, then Python's dumps and
// warnings, then application logs, whose recogniser is the least specific.
var runtimeFormats = []runtimeFormat{
	{dumps.KindNodeReport, node.Match, node.Read},
	{dumps.KindPython, python.Match, python.Read},
	{dumps.KindAppLog, applog.Match, applog.Read},
}

// recogniseRuntime names the runtime format of head, or false.
func recogniseRuntime(head []byte) (dumps.Kind, bool) {
	if len(head) > peekLen {
		head = head[:peekLen]
	}
	for _, f := range runtimeFormats {
		if f.match(head) {
			return f.kind, true
		}
	}
	return dumps.KindUnknown, false
}

// readRuntime reads evidence of kind k: a runtime format, or one of dumps'
// formats. Dumps that are often found inside a service's log or stderr
// (jstack, Go tracebacks and profiles, Python's dumps) are read together
// with the log events of their other lines.
func readRuntime(r io.Reader, name string, k dumps.Kind) (*dumps.Evidence, error) {
	readKind := func(r io.Reader, name string) (*dumps.Evidence, error) { return dumps.ReadKind(r, name, k) }
	switch k {
	case dumps.KindNodeReport:
		return node.Read(r, name)
	case dumps.KindAppLog:
		return applog.Read(r, name)
	case dumps.KindPython, dumps.KindPySpyJSON:
		return withLogEvents(python.Read, r, name)
	case dumps.KindJstack, dumps.KindGoroutines, dumps.KindGoroutineProfile:
		return withLogEvents(readKind, r, name)
	}
	return readKind(r, name)
}

// runtimeKind reports whether k is read by readRuntime rather than by
// dumps.ReadKind alone.
func runtimeKind(k dumps.Kind) bool {
	switch k {
	case dumps.KindNodeReport, dumps.KindAppLog, dumps.KindPython, dumps.KindPySpyJSON,
		dumps.KindJstack, dumps.KindGoroutines, dumps.KindGoroutineProfile:
		return true
	}
	return false
}

// withLogEvents reads a dump with read and, from the same stream, the log
// events of its other lines: a service's stderr or log holds its log lines
// and exception tracebacks as well as the dump (a faulthandler or Go dump,
// Python's ResourceWarnings). The two readers share a pipe; nothing is held
// in memory.
func withLogEvents(read func(io.Reader, string) (*dumps.Evidence, error), r io.Reader, name string) (*dumps.Evidence, error) {
	pr, pw := io.Pipe()
	type result struct {
		events []dumps.LogEvent
		lines  int
		warns  []dumps.Warning
	}
	done := make(chan result, 1)
	go func() {
		evs, lines, warns, _ := applog.ReadLog(pr, name) // its only error is the dump reader's, below
		_, _ = io.Copy(io.Discard, pr)                   // past a line too long for the log reader
		done <- result{evs, lines, warns}
	}()
	tee := io.TeeReader(r, pw)
	ev, err := read(tee, name)
	if err == nil {
		_, err = io.Copy(io.Discard, tee) // what the dump reader left (py-spy JSON)
	}
	pw.CloseWithError(err)
	res := <-done
	if err != nil {
		return ev, err
	}
	if ev != nil && ev.Kind != dumps.KindPySpyJSON {
		ev.LogEvents, ev.LogLines = res.events, res.lines
		ev.Warnings = append(ev.Warnings, res.warns...)
	}
	return ev, nil
}
