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
)

// MarshalText makes a Kind appear by name in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// sniffLen is how much of a file Sniff looks at.
const sniffLen = 64 << 10

// A format is one kind of evidence: how to recognise it from the first bytes
// of a file and how to read the whole file into an Evidence.
type format struct {
	kind  Kind
	match func(head []byte) bool
	read  func(ev *Evidence, r io.Reader) error
}

// formats lists every format in the order Sniff tries them: dumps first,
// whose markers are the most specific, then socket listings.
func formats() []format {
	return append(dumpFormats(), socketFormats()...)
}

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
func Sniff(head []byte) (Kind, error) { return Recognize(head) }

// Recognize reports the format of the evidence whose first bytes are head
// (up to 64 KiB are looked at; decompressed, and UTF-8 for text), or an
// error wrapping ErrUnknownFormat: binary formats first, by their magic and
// structure, then text formats by their markers. A caller with its own
// steps between the two (transcoding text) calls RecognizeBinary and
// RecognizeText.
func Recognize(head []byte) (Kind, error) {
	if k, err := RecognizeBinary(head); err == nil {
		return k, nil
	}
	return RecognizeText(head)
}

// RecognizeBinary recognises the binary evidence formats (a pprof protocol
// buffer, gzipped or not) from head, or returns ErrUnknownFormat. Markers of
// text formats can appear inside binary data, so these go first.
func RecognizeBinary(head []byte) (Kind, error) {
	f, err := sniff(head, true)
	return f.kind, err
}

// RecognizeText recognises the text evidence formats from head, which must
// be UTF-8 (transcoded when the file was not), or returns ErrUnknownFormat.
func RecognizeText(head []byte) (Kind, error) {
	f, err := sniff(head, false)
	return f.kind, err
}

// binaryKind reports whether a format is binary: recognised by its
// structure before any text marker is looked for.
func binaryKind(k Kind) bool { return k == KindPprof }

// sniff finds the first format of formats() of the binary or text group
// that matches head.
func sniff(head []byte, binary bool) (format, error) {
	if len(head) > sniffLen {
		head = head[:sniffLen]
	}
	for _, f := range formats() {
		if binaryKind(f.kind) == binary && f.match(head) {
			return f, nil
		}
	}
	return format{}, ErrUnknownFormat
}

// formatOf returns the format of kind k.
func formatOf(k Kind) (format, bool) {
	for _, f := range formats() {
		if f.kind == k {
			return f, true
		}
	}
	return format{}, false
}

// Read recognises the format of r and reads it. name is the file name used in
// positions. A file in no known format gives an error wrapping
// ErrUnknownFormat; a malformed part of a known format gives warnings.
func Read(r io.Reader, name string) (*Evidence, error) {
	br := bufio.NewReaderSize(r, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	k, err := Recognize(head)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (expected ss, lsof, netstat, /proc, jstack or Go goroutine output)", name, err)
	}
	return ReadKind(br, name, k)
}

// ReadKind reads r, whose format Recognize found to be k, from its first
// byte: nothing is sniffed again. name is the file name used in positions.
func ReadKind(r io.Reader, name string, k Kind) (*Evidence, error) {
	f, ok := formatOf(k)
	if !ok {
		return nil, fmt.Errorf("%s: %w (kind %s)", name, ErrUnknownFormat, k)
	}
	ev := &Evidence{File: name, Kind: f.kind}
	if err := f.read(ev, r); err != nil {
		return ev, fmt.Errorf("read %s as %s: %w", name, f.kind, err)
	}
	return ev, nil
}
