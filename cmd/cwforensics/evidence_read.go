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
	if _, err := dumps.Sniff(head); err == nil {
		return dumps.Read(br, name)
	}
	if python.Match(head) && !node.Match(head) {
		return readPython(br, name)
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

// readPython reads Python evidence and, from the same stream, the log
// events of its other lines: a service's stderr holds its log lines and
// exception tracebacks as well as faulthandler dumps and ResourceWarnings.
func readPython(r io.Reader, name string) (*dumps.Evidence, error) {
	pr, pw := io.Pipe()
	type result struct {
		events []dumps.LogEvent
		lines  int
		warns  []dumps.Warning
		err    error
	}
	done := make(chan result, 1)
	go func() {
		evs, lines, warns, err := applog.ReadLog(pr, name)
		_, _ = io.Copy(io.Discard, pr) // past a line too long for the log reader
		done <- result{evs, lines, warns, err}
	}()
	tee := io.TeeReader(r, pw)
	ev, err := python.Read(tee, name)
	if err == nil {
		_, err = io.Copy(io.Discard, tee) // what the Python reader left (py-spy JSON)
	}
	pw.CloseWithError(err)
	res := <-done
	if err != nil {
		return ev, fmt.Errorf("read %s as %s: %w", name, dumps.KindPython, err)
	}
	if ev.Kind == dumps.KindPython {
		ev.LogEvents, ev.LogLines = res.events, res.lines
		ev.Warnings = append(ev.Warnings, res.warns...)
	}
	return ev, nil
}
