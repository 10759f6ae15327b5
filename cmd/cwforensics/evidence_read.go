package main

import (
	"bufio"
	"errors"
	"fmt"
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

// runtimeFormats are tried in this order after dumps.Sniff knows none of
// its own: the Node.js report's JSON, then Python's dumps and warnings,
// then application logs, whose recogniser is the least specific (a log
// with a faulthandler dump in it is read as Python).
var runtimeFormats = []runtimeFormat{
	{dumps.KindNodeReport, node.Match, node.Read},
	{dumps.KindPython, python.Match, python.Read},
	{dumps.KindAppLog, applog.Match, applog.Read},
}

// sniffEvidence names the format of the evidence whose first bytes are head:
// one of dumps' formats, or one of runtimeFormats.
func sniffEvidence(head []byte) (dumps.Kind, bool) {
	if kind, err := dumps.Sniff(head); err == nil {
		return kind, true
	}
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	for _, f := range runtimeFormats {
		if f.match(head) {
			return f.kind, true
		}
	}
	return dumps.KindUnknown, false
}

// readEvidence recognises the format of r and reads it.
func readEvidence(r io.Reader, name string) (*dumps.Evidence, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if kind, err := dumps.Sniff(head); err == nil {
		switch kind {
		case dumps.KindJstack, dumps.KindGoroutines, dumps.KindGoroutineProfile:
			// Dumps are often found inside a service's log or stderr.
			return withLogEvents(dumps.Read, br, name)
		}
		return dumps.Read(br, name)
	}
	if python.Match(head) && !node.Match(head) {
		return withLogEvents(python.Read, br, name)
	}
	for _, f := range runtimeFormats {
		if f.match(head) {
			ev, err := f.read(br, name)
			if err != nil {
				return ev, fmt.Errorf("read %s as %s: %w", name, f.kind, err)
			}
			return ev, nil
		}
	}
	return nil, fmt.Errorf("%s: %w (expected ss, lsof, netstat, /proc, jstack, Go goroutine output, a Python or Node.js dump, or an application log)", name, dumps.ErrUnknownFormat)
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
