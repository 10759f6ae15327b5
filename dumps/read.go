package dumps

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Kind is the format of an evidence file, as recognised by Sniff from its
// content (never from its name).
type Kind uint8

//go:generate stringer -type=Kind -linecomment

// Kinds of evidence. The zero value means unknown.
const (
	KindUnknown          Kind = iota // unknown
	KindSS                           // ss
	KindSSSummary                    // ss-summary
	KindLsof                         // lsof
	KindLsofFields                   // lsof-fields
	KindNetstat                      // netstat
	KindProcNetTCP                   // proc-net-tcp
	KindProcFD                       // proc-fd
	KindProcLimits                   // proc-limits
	KindUlimit                       // ulimit
	KindJstack                       // jstack
	KindJVMJSON                      // jvm-json
	KindGoroutines                   // goroutines
	KindGoroutineProfile             // goroutine-profile
	KindPprof                        // pprof
	KindJVMText                      // jvm-text
	KindJVMThreadInfo                // jvm-threadinfo
	KindJRockit                      // jrockit
	KindPython                       // python
	KindPySpyJSON                    // py-spy-json
	KindNodeReport                   // node-report
	KindAppLog                       // app-log
	KindPS                           // ps
	KindProcStat                     // proc-stat
	KindProcCmdline                  // proc-cmdline
)

// MarshalText makes a Kind appear by name in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// sniffLen is how much of a file Sniff looks at.
const sniffLen = 64 << 10

// Format is one kind of evidence: how to recognise it from the first bytes
// of a file and how to read the whole file into an Evidence. Each family
// of evidence lists its formats (jvm.Formats, golang.Formats,
// sockets.Formats).
type Format struct {
	Kind  Kind
	Match func(head []byte) bool
	Read  func(ev *Evidence, r io.Reader) error
}

// Chain is the formats in the order they are tried: the most specific
// markers first. The matchers of sockets.Formats share the last head they
// looked at, so a Chain is built for each file, never shared between
// goroutines.
type Chain []Format

// Evidence is everything read from one evidence file.
type Evidence struct {
	File string `json:"file"`
	Kind Kind   `json:"kind"`
	SocketEvidence
	DumpEvidence
	RuntimeEvidence
	Warnings []Warning `json:"warnings"`
}

// Sniff reports the format of the evidence whose first bytes are head (up to
// 64 KiB are looked at), or ErrUnknownFormat. It is Recognize.
func (c Chain) Sniff(head []byte) (Kind, error) { return c.Recognize(head) }

// Recognize reports the format of the evidence whose first bytes are head
// (up to 64 KiB are looked at; decompressed, and UTF-8 for text), or an
// error wrapping ErrUnknownFormat: binary formats first, by their magic and
// structure, then text formats by their markers. A caller with its own
// steps between the two (transcoding text) calls RecognizeBinary and
// RecognizeText.
func (c Chain) Recognize(head []byte) (Kind, error) {
	if k, err := c.RecognizeBinary(head); err == nil {
		return k, nil
	}
	return c.RecognizeText(head)
}

// RecognizeBinary recognises the binary evidence formats (a pprof protocol
// buffer, gzipped or not) from head, or returns ErrUnknownFormat. Markers of
// text formats can appear inside binary data, so these go first.
func (c Chain) RecognizeBinary(head []byte) (Kind, error) {
	f, err := c.sniff(head, true)
	return f.Kind, err
}

// RecognizeText recognises the text evidence formats from head, which must
// be UTF-8 (transcoded when the file was not), or returns ErrUnknownFormat.
func (c Chain) RecognizeText(head []byte) (Kind, error) {
	f, err := c.sniff(head, false)
	return f.Kind, err
}

// binaryKind reports whether a format is binary: recognised by its
// structure before any text marker is looked for.
func binaryKind(k Kind) bool { return k == KindPprof }

// sniff finds the first format of c of the binary or text group that
// matches head.
func (c Chain) sniff(head []byte, binary bool) (Format, error) {
	if len(head) > sniffLen {
		head = head[:sniffLen]
	}
	for _, f := range c {
		if binaryKind(f.Kind) == binary && f.Match(head) {
			return f, nil
		}
	}
	return Format{}, ErrUnknownFormat
}

// formatOf returns the format of kind k.
func (c Chain) formatOf(k Kind) (Format, bool) {
	for _, f := range c {
		if f.Kind == k {
			return f, true
		}
	}
	return Format{}, false
}

// Read recognises the format of r and reads it. name is the file name used in
// positions. A file in no known format gives an error wrapping
// ErrUnknownFormat; a malformed part of a known format gives warnings.
func (c Chain) Read(r io.Reader, name string) (*Evidence, error) {
	br := bufio.NewReaderSize(r, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	k, err := c.Recognize(head)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (expected ss, lsof, netstat, /proc, jstack or Go goroutine output)", name, err)
	}
	return c.ReadKind(br, name, k)
}

// ReadKind reads r, whose format Recognize found to be k, from its first
// byte: nothing is sniffed again. name is the file name used in positions.
func (c Chain) ReadKind(r io.Reader, name string, k Kind) (*Evidence, error) {
	f, ok := c.formatOf(k)
	if !ok {
		return nil, fmt.Errorf("%s: %w (kind %s)", name, ErrUnknownFormat, k)
	}
	ev := &Evidence{File: name, Kind: f.Kind}
	if err := f.Read(ev, r); err != nil {
		return ev, fmt.Errorf("read %s as %s: %w", name, f.Kind, err)
	}
	return ev, nil
}
