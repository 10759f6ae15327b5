package analysis

import (
	"context"
	"fmt"
	"io"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/report"
)

// StreamCaptures starts reading the sources as captures, together, merged
// in timestamp order as pcapstate.Stream does, each opened once: Next hands
// over their connections, and Close closes them. A source named (not
// walked) that is not a capture is an error naming it; a walked one, and
// anything ignored, is returned among the inputs passed over.
func StreamCaptures(ctx context.Context, srcs []Source, opts pcapstate.Options) (*Captures, []report.Input, error) {
	caps, skipped, err := openCaptures(ctx, srcs)
	if err != nil {
		return nil, skipped, err
	}
	cs, err := streamCaptures(ctx, caps, opts)
	if err != nil {
		for _, c := range caps {
			c.close()
		}
		return nil, skipped, err
	}
	return cs, skipped, nil
}

// openCaptures recognises the sources and opens the captures and partial
// states among them. A source named (not walked) that is neither is an
// error naming it; a walked one, and anything ignored, is returned among
// the inputs passed over.
func openCaptures(ctx context.Context, srcs []Source) ([]*opened, []report.Input, error) {
	var caps []*opened
	closeAll := func() {
		for _, c := range caps {
			c.close()
		}
	}
	var skipped []report.Input
	for _, src := range srcs {
		o, in := recognise(ctx, src)
		switch {
		case o != nil && o.capture:
			caps = append(caps, o)
			continue
		case o != nil:
			o.close()
			in.Status, in.Cause, in.Reason = report.InputIgnored, report.CauseFormat, in.Kind+" evidence, not a capture"
		}
		if !src.Walked {
			closeAll()
			if in.Cause == report.CauseFormat && in.Kind == "" {
				return nil, nil, fmt.Errorf("%s: %w", src.Name, pcapstate.ErrNotCapture)
			}
			return nil, nil, fmt.Errorf("%s: %w (%s)", src.Name, pcapstate.ErrNotCapture, in.Reason)
		}
		skipped = append(skipped, in)
	}
	if len(caps) == 0 {
		return nil, skipped, fmt.Errorf("no capture among the %d inputs", len(srcs))
	}
	return caps, skipped, nil
}

// WritePartial writes to w the partial state of the captures among srcs
// (pcapstate.WritePartial), each opened once, recognised by content as
// StreamCaptures recognises them; the partial states among them are
// merged into it.
func WritePartial(ctx context.Context, srcs []Source, w io.Writer, opts pcapstate.Options) (pcapstate.PartialStats, []report.Input, error) {
	caps, skipped, err := openCaptures(ctx, srcs)
	if err != nil {
		return pcapstate.PartialStats{}, skipped, err
	}
	defer func() {
		for _, c := range caps {
			c.close()
		}
	}()
	st, err := pcapstate.WritePartial(w, captureInputs(caps), opts)
	// A context ending while the captures were read cuts them short, which
	// reading takes as damage: the partial state would look whole.
	if cerr := ctx.Err(); cerr != nil {
		return st, skipped, cerr
	}
	return st, skipped, err
}

// ReadEvidence reads the sources as evidence files, each opened once, and
// joins them (dumps.JoinEvidence). A source named (not walked) that is not
// evidence, or whose reading fails, is an error naming it; a walked one is
// returned among the inputs passed over.
func ReadEvidence(ctx context.Context, srcs []Source) ([]*dumps.Evidence, []report.Input, error) {
	var evs []*dumps.Evidence
	var skipped []report.Input
	for _, src := range srcs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		o, in := recognise(ctx, src)
		switch {
		case o != nil && !o.capture:
			ev, err := readEvidence(o)
			o.close()
			if err != nil {
				return nil, nil, err
			}
			evs = append(evs, ev)
			continue
		case o != nil:
			o.close()
			in.Status, in.Cause, in.Reason = report.InputIgnored, report.CauseFormat, "a "+in.Kind+" capture, not evidence"
		}
		if !src.Walked {
			if in.Cause == report.CauseFormat && in.Kind == "" {
				return nil, nil, fmt.Errorf("%s: %w (expected ss, lsof, netstat, /proc, jstack, Go goroutine output, a Python or Node.js dump, or an application log)", src.Name, dumps.ErrUnknownFormat)
			}
			return nil, nil, fmt.Errorf("%s: %w (%s)", src.Name, dumps.ErrUnknownFormat, in.Reason)
		}
		skipped = append(skipped, in)
	}
	dumps.JoinEvidence(evs)
	return evs, skipped, nil
}
