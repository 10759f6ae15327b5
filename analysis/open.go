package analysis

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/report"
)

// peekLen is how much of an input its format is recognised from.
const peekLen = 64 << 10

// maxGzipLayers bounds gzip inside gzip.
const maxGzipLayers = 3

// reasonUnknown is why an input in no known format is ignored.
const reasonUnknown = "not a capture (pcap, pcapng) nor socket listing nor thread or goroutine dump nor runtime report nor log"

// opened is an input whose format is known, positioned at its first
// (decompressed, UTF-8) byte.
type opened struct {
	in       report.Input // Path, Kind; Status unknown until read
	capture  bool         // a pcap or pcapng capture, else evidence of kind
	kind     dumps.Kind
	r        *bufio.Reader
	encoding string   // "gzip", "utf-16le"... as read, for logs
	bound    *bounded // the gzip layer, nil when none
	closer   io.Closer
	id       string // pcapstate.CaptureID of the file, "" when none
}

func (o *opened) close() {
	if o.closer != nil {
		o.closer.Close()
		o.closer = nil
	}
}

// recognise opens src and finds its format from a buffered prefix, in one
// chain: gzip is decompressed (within the bound), captures and other binary
// formats are recognised by their magic numbers and structure, then UTF-16
// or a UTF-8 byte order mark is transcoded, then text formats are
// recognised by their markers. The reader handed on is the one the prefix
// was read from: nothing is opened twice. It returns the opened input, or
// nil and the Input saying why it is ignored or failed.
func recognise(ctx context.Context, src Source) (*opened, report.Input) {
	in := report.Input{Path: src.Name}
	if src.Skip.Status != report.InputUnknown {
		return nil, src.Skip
	}
	fail := func(status report.InputStatus, cause report.InputCause, reason string) (*opened, report.Input) {
		in.Status, in.Cause, in.Reason = status, cause, reason
		return nil, in
	}
	if src.Open == nil {
		return fail(report.InputIgnored, report.CauseUnreadable, "no content given")
	}
	rc, err := src.Open()
	if err != nil {
		return fail(report.InputIgnored, report.CauseUnreadable, "not readable: "+err.Error())
	}
	o := &opened{in: in, closer: rc}
	// Where the file starts, for its identity if it is a capture. A file
	// that cannot seek has none.
	start := pcapstate.CaptureStart(rc)
	raw := &counter{r: ctxReader{ctx, rc}}
	o.r = bufio.NewReaderSize(raw, peekLen)
	head, err := peek(o.r)
	for layer := 0; err == nil && len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b; layer++ {
		if layer == maxGzipLayers {
			err = fmt.Errorf("gzip nested more than %d deep", maxGzipLayers)
			break
		}
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(o.r); err != nil {
			o.close()
			return fail(report.InputFailed, report.CauseCorrupt, "bad gzip header: "+err.Error())
		}
		o.bound = &bounded{r: zr, src: raw}
		o.r = bufio.NewReaderSize(o.bound, peekLen)
		o.encoding = "gzip"
		head, err = peek(o.r)
	}
	if err != nil {
		o.close()
		if errors.Is(err, ErrInflateBound) {
			return fail(report.InputFailed, report.CauseTooLarge, err.Error())
		}
		if o.encoding != "" {
			return fail(report.InputFailed, report.CauseCorrupt, "gzip: "+err.Error())
		}
		return fail(report.InputIgnored, report.CauseUnreadable, "not readable: "+err.Error())
	}
	if len(head) == 0 {
		o.close()
		reason := "empty file"
		if o.encoding != "" {
			reason = "empty after gzip decompression"
		}
		return fail(report.InputIgnored, report.CauseEmpty, reason)
	}
	// Binary formats, by magic numbers and structure.
	if pcapstate.SniffPartial(head) {
		o.capture, o.in.Kind = true, "partial state"
		return o, o.in
	}
	if pcapstate.Sniff(head) {
		format, err := pcapstate.Recognize(head)
		if err != nil {
			o.close()
			return fail(report.InputFailed, report.CauseCorrupt, err.Error())
		}
		o.capture, o.in.Kind = true, format
		// A capture given twice by two names is found by its identity
		// (pcapstate.Input), read from the file's ends where they are.
		// A file that fails to has none.
		o.id, _ = pcapstate.CaptureIDAt(rc, start)
		return o, o.in
	}
	if k, err := Formats().RecognizeBinary(head); err == nil {
		o.kind, o.in.Kind = k, k.String()
		return o, o.in
	}
	// Text: transcoded to UTF-8, then recognised by its markers.
	if enc, mark := textEncoding(head); enc != encUTF8 {
		if _, err := o.r.Discard(mark); err != nil {
			o.close()
			return fail(report.InputIgnored, report.CauseUnreadable, "not readable: "+err.Error())
		}
		if enc == encUTF16LE || enc == encUTF16BE {
			o.r = bufio.NewReaderSize(newUTF16Reader(o.r, enc == encUTF16BE), peekLen)
		}
		o.encoding = join(o.encoding, enc)
		if head, err = peek(o.r); err != nil {
			o.close()
			return fail(report.InputIgnored, report.CauseUnreadable, "not readable: "+err.Error())
		}
	}
	k, err := Formats().RecognizeText(head)
	if err != nil {
		if rk, ok := recogniseRuntime(head); ok {
			k, err = rk, nil
		}
	}
	if err != nil {
		o.close()
		if len(head) == 0 {
			return fail(report.InputIgnored, report.CauseEmpty, "empty file")
		}
		return fail(report.InputIgnored, report.CauseFormat, reasonUnknown)
	}
	o.kind, o.in.Kind = k, k.String()
	return o, o.in
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "+" + b
}

// peek returns up to peekLen first bytes of r: fewer at the end of the
// input, an error only when reading failed.
func peek(r *bufio.Reader) ([]byte, error) {
	head, err := r.Peek(peekLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) &&
		(len(head) == 0 || !errors.Is(err, io.ErrUnexpectedEOF)) {
		// A stream cut short (a truncated gzip file) is recognised from
		// what it holds; reading it says where it ends.
		return nil, err
	}
	return head, nil
}

// readEvidence reads a recognised evidence input to its end. A gzip
// stream cut short (a truncated file) keeps what was read before the cut,
// with a warning, as a truncated plain file would.
func readEvidence(o *opened) (*dumps.Evidence, error) {
	var ev *dumps.Evidence
	var err error
	if runtimeKind(o.kind) {
		ev, err = readRuntime(o.r, o.in.Path, o.kind)
	} else {
		ev, err = Formats().ReadKind(o.r, o.in.Path, o.kind)
	}
	if err != nil && ev != nil && o.bound != nil && errors.Is(err, io.ErrUnexpectedEOF) {
		ev.Warnings = append(ev.Warnings, dumps.Warning{Pos: dumps.Pos{File: o.in.Path}, Msg: "the gzip stream is cut short (a truncated file): what came before the cut was read"})
		return ev, nil
	}
	return ev, err
}
