package pcapstate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Rotated captures read in parallel: with Options.Jobs above 1 and two or
// more capture files among the inputs, each capture's partial state is
// written by its own goroutine (Jobs at a time, in the order the files are
// given) into a spool file, and the Stream reads the spools as it would
// read partial states, each as soon as its first records are written. The
// result is the one reading the captures gives (a partial state's
// guarantee); the decoding of the captures, which bounds the speed of a
// gzip-compressed or many-file input, runs on the machine's cores.

// errSpoolStopped ends a spool's writer when the Stream is closed first.
var errSpoolStopped = errors.New("stream closed")

// spool is a file one goroutine writes a partial state into while another
// reads it: reading waits for what is not written yet.
type spool struct {
	f    *os.File
	mu   sync.Mutex
	cond *sync.Cond
	size int64
	done bool
	err  error // the writer's, when it failed
	stop bool  // the reader is gone: the writer stops
	// name is the file's name when it could not be removed while open
	// (Windows refuses to), for close to remove it.
	name string
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "cwforensics-spool-*.cwfp")
	if err != nil {
		return nil, fmt.Errorf("spool for parallel reading: %w", err)
	}
	// The file has no name once created: nothing is left behind, whatever
	// ends the process. Where an open file cannot be removed (Windows),
	// close removes it.
	sp := &spool{f: f}
	if os.Remove(f.Name()) != nil {
		sp.name = f.Name()
	}
	sp.cond = sync.NewCond(&sp.mu)
	return sp, nil
}

// stopped reports whether the reader is gone.
func (sp *spool) stopped() bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.stop
}

func (sp *spool) Write(p []byte) (int, error) {
	if sp.stopped() {
		return 0, errSpoolStopped
	}
	n, err := sp.f.WriteAt(p, sp.size)
	sp.mu.Lock()
	sp.size += int64(n)
	sp.cond.Broadcast()
	sp.mu.Unlock()
	return n, err
}

// finish says the writer is done, with its error if it failed.
func (sp *spool) finish(err error) {
	sp.mu.Lock()
	sp.done, sp.err = true, err
	sp.cond.Broadcast()
	sp.mu.Unlock()
}

// close stops the writer and releases the file, once the writer is done.
func (sp *spool) close() {
	sp.mu.Lock()
	sp.stop = true
	for !sp.done {
		sp.cond.Wait()
	}
	sp.mu.Unlock()
	sp.f.Close()
	if sp.name != "" {
		os.Remove(sp.name)
	}
}

// spoolReader reads a spool from its start.
type spoolReader struct {
	sp  *spool
	off int64
}

func (r *spoolReader) Read(p []byte) (int, error) {
	sp := r.sp
	sp.mu.Lock()
	for r.off >= sp.size && !sp.done {
		sp.cond.Wait()
	}
	size, err := sp.size, sp.err
	sp.mu.Unlock()
	if r.off >= size {
		if err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	n, rerr := sp.f.ReadAt(p[:min(int64(len(p)), size-r.off)], r.off)
	r.off += int64(n)
	if rerr != nil && !errors.Is(rerr, io.EOF) {
		return n, rerr
	}
	return n, nil
}

// spoolCaptures starts writing the partial state of each capture (an
// opened reader, srcs[i] for inputs[i]) into a spool, jobs at a time, and
// returns the readers of the spools. stop, called once, stops the
// writers and releases the spools.
func spoolCaptures(srcs []*source, expr string, jobs int, dir string) ([]io.Reader, func(), error) {
	spools := make([]*spool, len(srcs))
	readers := make([]io.Reader, len(srcs))
	for i := range srcs {
		sp, err := newSpool(dir)
		if err != nil {
			for _, s := range spools[:i] {
				s.finish(nil)
				s.close()
			}
			return nil, nil, err
		}
		spools[i], readers[i] = sp, &spoolReader{sp: sp}
	}
	// The writers read the captures through sources of their own: the
	// Stream's become partial state sources, reading the spools.
	own := make([]*source, len(srcs))
	for i, src := range srcs {
		own[i] = &source{name: src.name, pr: src.pr}
	}
	slots := make(chan struct{}, jobs)
	go func() {
		for i, src := range own {
			slots <- struct{}{}
			go func() {
				defer func() { <-slots }()
				if spools[i].stopped() {
					// Closed before this writer's turn: its capture is
					// not read at all.
					spools[i].finish(errSpoolStopped)
					return
				}
				spools[i].finish(writeSpool(spools[i], src, expr))
			}()
		}
	}()
	stop := func() {
		for _, sp := range spools {
			sp.mu.Lock()
			sp.stop = true
			sp.mu.Unlock()
		}
		for _, sp := range spools {
			sp.close()
		}
	}
	return readers, stop, nil
}

// writeSpool writes the partial state of one opened capture into sp.
func writeSpool(sp *spool, src *source, expr string) error {
	// A filter is compiled per writer: its programs are cached per link
	// type as packets come, and the writers run at once.
	filter, err := newFilter(expr)
	if err != nil {
		return err
	}
	st := FileStats{Name: src.name, linkSeen: map[uint32]bool{}}
	src.stats, src.idx = &st, 0
	pw := newPartWriter(sp, partialHeader{Version: PartialVersion, Filter: expr, Files: []partialFile{{Name: src.name, Format: src.pr.format(), ID: src.id}}})
	p := &producer{srcs: []*source{src}, filter: filter}
	if err := p.writePartial(pw); err != nil {
		return err
	}
	return pw.close(trailerOf([]FileStats{st}))
}
