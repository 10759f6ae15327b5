// Package jvm reads the thread dumps of Java virtual machines: jstack and
// jcmd dumps.Thread.print (and SIGQUIT output in a log), jcmd
// dumps.Thread.dump_to_file in JSON and text, JRockit's, and JMX ThreadInfo
// printouts, into the record types of package dumps (dumps.ThreadDump, dumps.Thread,
// dumps.Lock), with the deadlock cycles of the lock-wait graph.
package jvm

import (
	"bytes"
	"io"
	"regexp"

	"github.com/cwforensics/cwforensics/dumps"
)

// Formats lists the JVM dump formats in the order a dumps.Chain tries them:
// jcmd JSON and text, JRockit, JMX ThreadInfo, then jstack, whose marker
// is the least specific.
func Formats() []dumps.Format {
	return []dumps.Format{
		{Kind: dumps.KindJVMJSON, Match: matchJVMJSON, Read: func(ev *dumps.Evidence, r io.Reader) error {
			d, warns, err := ReadJSON(r, ev.File)
			ev.Warnings = append(ev.Warnings, warns...)
			if d != nil {
				ev.ThreadDumps = append(ev.ThreadDumps, d)
			}
			return err
		}},
		{Kind: dumps.KindJVMText, Match: matchJVMText, Read: func(ev *dumps.Evidence, r io.Reader) error {
			d, warns, err := ReadText(r, ev.File)
			ev.Warnings = append(ev.Warnings, warns...)
			if d != nil {
				ev.ThreadDumps = append(ev.ThreadDumps, d)
			}
			return err
		}},
		{Kind: dumps.KindJRockit, Match: matchJRockit, Read: func(ev *dumps.Evidence, r io.Reader) error {
			ds, warns, err := ReadJRockit(r, ev.File)
			ev.ThreadDumps, ev.Warnings = ds, append(ev.Warnings, warns...)
			ev.Series = threadSeries(ds)
			return err
		}},
		{Kind: dumps.KindJVMThreadInfo, Match: matchThreadInfo, Read: func(ev *dumps.Evidence, r io.Reader) error {
			ds, warns, err := ReadThreadInfo(r, ev.File)
			ev.ThreadDumps, ev.Warnings = ds, append(ev.Warnings, warns...)
			ev.Series = threadSeries(ds)
			return err
		}},
		{Kind: dumps.KindJstack, Match: matchJstack, Read: func(ev *dumps.Evidence, r io.Reader) error {
			ds, warns, err := ReadJstack(r, ev.File)
			ev.ThreadDumps, ev.Warnings = ds, append(ev.Warnings, warns...)
			ev.Series = threadSeries(ds)
			return err
		}},
	}
}

// Sniff patterns. They look for the markers a dump prints, anywhere in the
// head, so that a dump inside a log or a `go test -json` stream is found.
var (
	reJstackMark = regexp.MustCompile(`(?m)^` + dumps.LogStamp + `?\s*(Full thread dump |java\.lang\.Thread\.State: )`)
)

func matchJstack(head []byte) bool { return reJstackMark.Match(head) }

// matchJVMJSON recognises the JSON written by jcmd dumps.Thread.dump_to_file
// -format=json: an object whose first key is "threadDump".
func matchJVMJSON(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	t = bytes.TrimLeft(t[1:], " \t\r\n")
	return bytes.HasPrefix(t, []byte(`"threadDump"`))
}

func threadSeries(ds []*dumps.ThreadDump) []dumps.SeriesGroup {
	jvm, _, _ := (&dumps.DumpEvidence{ThreadDumps: ds}).Snapshots()
	return dumps.CompareSeries(jvm)
}
