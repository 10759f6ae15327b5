// Package golang reads Go's evidence: full goroutine dumps (debug=2,
// runtime.Stack, SIGQUIT and panic tracebacks, alone or inside a log or a
// `go test -json` stream), debug=1 goroutine profiles and debug=0 pprof
// profiles, into the record types of package dumps.
package golang

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"regexp"
	"unicode/utf8"

	"github.com/cwforensics/cwforensics/dumps"
)

// Formats lists the Go formats in the order a dumps.Chain tries them: the
// debug=1 profile, whose header is the most specific, then goroutine
// dumps, then the binary pprof profile (tried before any text format, as
// binaryKind says).
func Formats() []dumps.Format {
	return []dumps.Format{
		{Kind: dumps.KindGoroutineProfile, Match: matchGoroutineProfile, Read: func(ev *dumps.Evidence, r io.Reader) error {
			ps, warns, err := ReadGoroutineProfile(r, ev.File)
			ev.GoroutineProfiles, ev.Warnings = ps, append(ev.Warnings, warns...)
			ev.Series = profileSeries(ps)
			return err
		}},
		{Kind: dumps.KindGoroutines, Match: matchGoroutines, Read: func(ev *dumps.Evidence, r io.Reader) error {
			ds, warns, err := readGoroutineBuckets(r, ev.File)
			ev.GoroutineDumps, ev.Warnings = ds, append(ev.Warnings, warns...)
			ev.Series = goroutineSeries(ds)
			return err
		}},
		{Kind: dumps.KindPprof, Match: matchPprof, Read: func(ev *dumps.Evidence, r io.Reader) error {
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
	// A goroutine header, at a line start or inside a JSON string.
	reGoroutineMark = regexp.MustCompile(`(?m)(^` + dumps.LogStamp + `?|\\n|"Output":")goroutine \d+ (gp=0x[0-9a-f]+ m=\S+ (mp=\S+ )?)?\[[^\n]*\]:`)
	reProfileMark   = regexp.MustCompile(`(?m)^` + dumps.LogStamp + `?goroutine profile: total \d+\r?$`)
)

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

func goroutineSeries(ds []*dumps.GoroutineDump) []dumps.SeriesGroup {
	_, g, _ := (&dumps.DumpEvidence{GoroutineDumps: ds}).Snapshots()
	return dumps.CompareSeries(g)
}

func profileSeries(ps []*dumps.GoroutineProfile) []dumps.SeriesGroup {
	_, _, p := (&dumps.DumpEvidence{GoroutineProfiles: ps}).Snapshots()
	return dumps.CompareSeries(p)
}
