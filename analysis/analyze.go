// Package analysis is the one way in for every input: it opens sources
// (files, pipes, standard input, uploads) once each, recognises their format
// from a buffered prefix (decompressing gzip and transcoding UTF-16 on the
// way), reads captures and evidence, and builds the report. The command
// line and the HTTP service both call Analyze; Walk turns command-line paths
// into Sources.
package analysis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/report"
)

// Options tune Analyze.
type Options struct {
	Title string
	// Local lists the networks whose endpoints are local; empty, they are
	// chosen from the evidence (report.ChooseLocal).
	Local []netip.Prefix
	// MinIdle leaves out capture sockets in CLOSE_WAIT for less than this.
	MinIdle time.Duration
	// MaxFDs, when not 0, is the fd limit of every process.
	MaxFDs int
	// DumpPIDs links dump files, by source name, to processes.
	DumpPIDs map[string]int
	// Filter is a BPF expression capture packets must match.
	Filter string
	// Log receives debug diagnostics; nil discards them.
	Log *slog.Logger
	// Packets, when not nil, counts the capture packets read so far, for
	// a progress display (pcapstate.Options.Packets).
	Packets *atomic.Uint64
	// Jobs is pcapstate.Options.Jobs for the captures; 0 chooses
	// (ChooseJobs).
	Jobs int
}

// ErrNothingUsable is wrapped by Analyze's error when no input could be
// read: there is no report to make.
var ErrNothingUsable = errors.New("nothing usable was read")

// NothingUsableError is Analyze's error when no input could be read: it
// lists what was tried.
type NothingUsableError struct{ Inputs []report.Input }

func (e *NothingUsableError) Error() string {
	if len(e.Inputs) == 0 {
		return ErrNothingUsable.Error() + ": no input given"
	}
	var lines []string
	for i, in := range e.Inputs {
		if i == maxListed {
			lines = append(lines, fmt.Sprintf("and %d more", len(e.Inputs)-maxListed))
			break
		}
		lines = append(lines, in.StatusLine())
	}
	return fmt.Sprintf("%s from %d %s: %s", ErrNothingUsable, len(e.Inputs), plural(len(e.Inputs), "input"), strings.Join(lines, "; "))
}

func (e *NothingUsableError) Unwrap() error { return ErrNothingUsable }

// maxListed is how many inputs the error of a run with nothing usable
// names; Inputs has them all.
const maxListed = 20

// Analyze reads every source once, captures and evidence, and builds the
// report. Every source appears in the report's inputs with its status:
// read, read with warnings, ignored with the reason, failed. A run where
// no source could be read returns a *NothingUsableError; other errors are
// a bad filter, an I/O failure of a capture that stops the merge, or ctx
// ending.
func Analyze(ctx context.Context, srcs []Source, opts Options) (*report.Model, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		inputs []report.Input
		evs    []*dumps.Evidence
		caps   []*opened
	)
	defer func() {
		for _, c := range caps {
			c.close()
		}
	}()
	for _, src := range sortSources(srcs) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o, in := recognise(ctx, src)
		if o == nil {
			log.Debug("input not read", "file", src.Name, "status", in.Status, "reason", in.Reason)
			inputs = append(inputs, in)
			continue
		}
		log.Debug("input recognised", "file", src.Name, "kind", o.in.Kind, "encoding", o.encoding)
		if o.capture {
			caps = append(caps, o)
			continue
		}
		ev, err := readEvidence(o)
		o.close()
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			inputs = append(inputs, failed(o, err))
			continue
		}
		evs = append(evs, ev)
		inputs = append(inputs, report.EvidenceInput(ev))
	}
	dumps.JoinEvidence(evs) // fd listings give the sockets of other files their owners
	local, from := report.ChooseLocal(opts.Local, evs)

	// The builder takes the connections one at a time as the stream hands
	// them over, the finished ones while the captures are read, keeping
	// what the report needs of each: memory follows the connections open
	// at once. Half-open connections (a SYN flood can leave millions) are
	// only counted, per local endpoint: the report notes them and lists
	// none.
	builder := report.NewBuilder(report.BuildInput{
		Title: opts.Title, Evidence: evs, Local: from,
		MinIdle: opts.MinIdle, MaxFDs: opts.MaxFDs, DumpPIDs: opts.DumpPIDs,
	})
	var res *pcapstate.Result
	if len(caps) > 0 {
		cs, err := streamCaptures(ctx, caps, pcapstate.Options{Local: local, Filter: opts.Filter, Retain: pcapstate.RetainAll, OmitWhy: true, SummarizeHalfOpen: true, Log: log, Packets: opts.Packets, Jobs: opts.Jobs})
		if err != nil {
			return nil, err
		}
		addAll(cs, builder)
		cs.Close()
		if err := cs.Err(); err != nil {
			return nil, err
		}
		res = cs.Result()
		for i := range res.Files {
			inputs = append(inputs, captureInput(caps[res.Files[i].Input], &res.Files[i], res))
		}
	}
	if !slices.ContainsFunc(inputs, report.Input.Usable) {
		return nil, &NothingUsableError{Inputs: inputs}
	}
	builder.SetInputs(inputs)
	m, err := builder.Build(res)
	if err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	return m, nil
}

// sortSources orders the sources by name, as the report lists them, and
// drops a source named as an earlier one (a path given twice).
func sortSources(srcs []Source) []Source {
	out := slices.Clone(srcs)
	slices.SortStableFunc(out, func(a, b Source) int { return cmp.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b Source) bool { return a.Name == b.Name })
}

// Captures are the connections of captures read together, as their
// pcapstate.Stream hands them over (see StreamCaptures), until the context
// ends.
type Captures struct {
	s    *pcapstate.Stream
	ctx  context.Context
	caps []*opened
	n    int
	err  error
}

// ctxEvery is how many connections Captures hands over between two looks
// at its context.
const ctxEvery = 4096

// streamCaptures starts reading the recognised captures together; Close
// closes them.
func streamCaptures(ctx context.Context, caps []*opened, opts pcapstate.Options) (*Captures, error) {
	if opts.Jobs == 0 {
		opts.Jobs = ChooseJobs(len(caps), runtime.NumCPU())
	}
	s, err := pcapstate.NewStream(captureInputs(caps), opts)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	return &Captures{s: s, ctx: ctx, caps: caps}, nil
}

// captureInputs are the opened captures as pcapstate reads them, by
// their paths.
func captureInputs(caps []*opened) []pcapstate.Input {
	ins := make([]pcapstate.Input, len(caps))
	for i, c := range caps {
		ins[i] = pcapstate.Input{Name: c.in.Path, R: c.r, ID: c.id}
	}
	return ins
}

// Next advances to the next connection, as pcapstate.Stream.Next does,
// and returns false when the context ends.
func (c *Captures) Next() bool {
	if c.err != nil {
		return false
	}
	if c.n++; c.n%ctxEvery == 0 {
		if c.err = c.ctx.Err(); c.err != nil {
			return false
		}
	}
	if c.s.Next() {
		return true
	}
	c.err = cmp.Or(c.ctx.Err(), c.s.Err())
	return false
}

// NextBatch hands over the next connections at once, as
// pcapstate.Stream.NextBatch does, and returns nil when the context ends.
func (c *Captures) NextBatch(reuse []pcapstate.Conn) []pcapstate.Conn {
	if c.err != nil {
		return nil
	}
	if c.err = c.ctx.Err(); c.err != nil {
		return nil
	}
	if b := c.s.NextBatch(reuse); b != nil {
		c.n += len(b)
		return b
	}
	c.err = cmp.Or(c.ctx.Err(), c.s.Err())
	return nil
}

// Conn returns the connection Next advanced to, valid until the next
// call to Next.
func (c *Captures) Conn() *pcapstate.Conn { return c.s.Conn() }

// Err returns what ended the connections early: the context's end or the
// stream's error.
func (c *Captures) Err() error { return c.err }

// Result is the stream's Result (pcapstate.Stream.Result), complete once
// Next has returned false and Err is nil.
func (c *Captures) Result() *pcapstate.Result { return c.s.Result() }

// Close stops reading and closes the captures.
func (c *Captures) Close() {
	c.s.Close()
	for _, o := range c.caps {
		o.close()
	}
}

// captureInput is the Input of a capture read: as report.CaptureInput
// says, failed when its gzip layer passed the decompression bound.
func captureInput(o *opened, f *pcapstate.FileStats, res *pcapstate.Result) report.Input {
	in := report.CaptureInput(f, res)
	if f.Via != "" {
		in.Kind += ", from partial state " + f.ViaChain()
	}
	if o.bound != nil && o.bound.tripped != nil {
		in.Status, in.Cause, in.Reason = report.InputFailed, report.CauseTooLarge, o.bound.tripped.Error()
		in.Warnings, in.FirstWarnings = 0, nil
	}
	return in
}

// failed is the Input of a recognised source whose reading failed.
func failed(o *opened, err error) report.Input {
	in := o.in
	in.Status, in.Cause, in.Reason = report.InputFailed, report.CauseCorrupt, err.Error()
	if errors.Is(err, ErrInflateBound) {
		in.Cause = report.CauseTooLarge
	}
	return in
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// ChooseJobs is how many capture files are decoded at once
// (pcapstate.Options.Jobs) when the user does not say: every core but the
// engine's when there are several files and at least 4 cores, else 1. On
// 2 cores the one pass is faster: its producer and engine already use
// both, and a spooled capture costs about twice the CPU (docs/scale.md).
func ChooseJobs(files, cores int) int {
	if files < 2 || cores < 4 {
		return 1
	}
	return min(files, cores-1)
}
