package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/cwforensics/cwforensics/analysis"
)

// Progress on stderr: the library counts (bytes through the readers cmd
// wraps around the sources, packets in pcapstate.Options.Packets), and a
// goroutine here polls the counts and redraws one line.
const (
	progressTick  = 200 * time.Millisecond // how often the line is redrawn
	progressAfter = time.Second            // auto: work shorter than this draws nothing
	progressWidth = 80                     // columns when the terminal's are unknown
)

// meter is what the reading counts and the progress line shows.
type meter struct {
	bytes   atomic.Int64
	packets atomic.Uint64
	total   int64                  // bytes of all the sources; -1 when one's size is unknown
	name    atomic.Pointer[string] // the source read from last
}

// countSources returns the sources with their reading counted in m (bytes,
// and the name of the source last read from), and sets m's total from
// their sizes.
func countSources(srcs []analysis.Source, m *meter) []analysis.Source {
	out := make([]analysis.Source, len(srcs))
	seen := map[string]bool{} // a path given twice is read once
	for i, src := range srcs {
		out[i] = src
		if src.Open == nil || src.Skip.Status != 0 || seen[src.Name] {
			continue
		}
		seen[src.Name] = true
		if src.Size < 0 || m.total < 0 {
			m.total = -1
		} else {
			m.total += src.Size
		}
		name := src.Name
		open := src.Open
		out[i].Open = func() (io.ReadCloser, error) {
			rc, err := open()
			if err != nil {
				return nil, err
			}
			return &countingReader{rc: rc, n: &m.bytes, onRead: func(int64) { m.name.Store(&name) }}, nil
		}
	}
	return out
}

// countingReader counts the bytes read through it into n, and calls
// onRead, when not nil, with the count after each read.
type countingReader struct {
	rc     io.ReadCloser
	n      *atomic.Int64
	onRead func(total int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	total := c.n.Add(int64(n))
	if c.onRead != nil {
		c.onRead(total)
	}
	return n, err
}

func (c *countingReader) Close() error { return c.rc.Close() }

// errNoSeek is Seek's and ReadAt's error when the source is not a file.
var errNoSeek = errors.New("not a file: cannot seek")

// Seek and ReadAt reach the file itself, uncounted: pcapstate.CaptureID
// reads its ends with them before its content is read. They fail when the
// source is not a file (a pipe, standard input).
func (c *countingReader) Seek(off int64, whence int) (int64, error) {
	if s, ok := c.rc.(io.Seeker); ok {
		return s.Seek(off, whence)
	}
	return 0, errNoSeek
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	if ra, ok := c.rc.(io.ReaderAt); ok {
		return ra.ReadAt(p, off)
	}
	return 0, errNoSeek
}

// progressStat is one reading of the meter.
type progressStat struct {
	Bytes   int64
	Total   int64 // -1: unknown
	Packets uint64
	Elapsed time.Duration
	Name    string // the file read from last, raw (escaped when drawn)
}

// progressLine renders the progress line, at most width-1 columns (the
// last column of a terminal wraps on some): bytes read of the total,
// packets, rate, time left, the file being read.
//
//	12.0 MiB of 48.0 MiB (25%), 104000 packets, 6.0 MiB/s, 6s left: capture.pcap
func progressLine(s progressStat, width int) string {
	var parts []string
	read := formatBytes(s.Bytes)
	known := s.Total > 0 && s.Bytes <= s.Total
	if known {
		read += fmt.Sprintf(" of %s (%d%%)", formatBytes(s.Total), s.Bytes*100/s.Total)
	}
	parts = append(parts, read)
	if s.Packets > 0 {
		word := " packets"
		if s.Packets == 1 {
			word = " packet"
		}
		parts = append(parts, strconv.FormatUint(s.Packets, 10)+word)
	}
	if s.Elapsed >= 10*time.Millisecond && s.Bytes > 0 {
		rate := float64(s.Bytes) / s.Elapsed.Seconds()
		parts = append(parts, formatBytes(int64(rate))+"/s")
		if known && s.Bytes < s.Total {
			left := time.Duration(float64(s.Total-s.Bytes) / rate * float64(time.Second))
			parts = append(parts, formatLeft(left)+" left")
		}
	}
	line := strings.Join(parts, ", ")
	if width <= 1 {
		width = progressWidth
	}
	room := width - 1 - utf8.RuneCountInString(line)
	if name := escapeCell(s.Name); name != "" && room >= 12 {
		if n := utf8.RuneCountInString(name); n > room-2 {
			// Keep the end of the name: the file, not its folders.
			r := []rune(name)
			name = "…" + string(r[n-(room-2-1):])
		}
		line += ": " + name
	}
	if r := []rune(line); len(r) > width-1 {
		line = string(r[:width-1])
	}
	return line
}

// formatBytes writes n bytes in binary units, 1 decimal past KiB.
func formatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n)/1024, 0
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	for v >= 1024 && u < len(units)-1 {
		v, u = v/1024, u+1
	}
	return fmt.Sprintf("%.1f %s", v, units[u])
}

// formatLeft writes a time left to the second: 45s, 3m05s, 2h07m.
func formatLeft(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second) // rounded up: never "0s left"
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}

// progress draws the meter on w until stop is called.
type progress struct {
	w       io.Writer
	m       *meter
	after   time.Duration // draw only once the work has taken this long
	width   func() int
	start   time.Time
	done    chan struct{}
	wg      sync.WaitGroup
	drawn   int // runes of the line on screen; 0 when none
	stopped bool
}

// startProgress starts drawing m on e.Stderr as mode (--progress) says:
// auto draws when stderr is a terminal and the work takes more than a
// second, always draws from the start on any stderr, never draws nothing.
// The returned function stops and clears the line; call it before
// anything else is written to stderr.
func startProgress(e *env, mode string, m *meter) (stop func()) {
	fd, tty := terminalFD(e.Stderr)
	after, draw := progressDelay(mode, tty)
	if !draw {
		return func() {}
	}
	width := func() int { return progressWidth }
	if tty {
		width = func() int {
			if w, _, err := term.GetSize(fd); err == nil && w > 0 {
				return w
			}
			return progressWidth
		}
	}
	p := &progress{w: e.Stderr, m: m, after: after, width: width, start: time.Now(), done: make(chan struct{})}
	p.wg.Add(1)
	go p.run()
	return p.stop
}

// progressDelay says whether --progress mode draws on a stderr that is a
// terminal or not, and after how long.
func progressDelay(mode string, tty bool) (after time.Duration, draw bool) {
	switch {
	case mode == "always":
		return 0, true
	case mode == "auto" && tty:
		return progressAfter, true
	}
	return 0, false
}

// terminalFD says whether w is a terminal, and its descriptor.
func terminalFD(w io.Writer) (int, bool) {
	f, ok := w.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

func (p *progress) run() {
	defer p.wg.Done()
	t := time.NewTicker(progressTick)
	defer t.Stop()
	if p.after == 0 {
		p.draw()
	}
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			if time.Since(p.start) >= p.after {
				p.draw()
			}
		}
	}
}

func (p *progress) stat() progressStat {
	s := progressStat{Bytes: p.m.bytes.Load(), Total: p.m.total, Packets: p.m.packets.Load(), Elapsed: time.Since(p.start)}
	if n := p.m.name.Load(); n != nil {
		s.Name = *n
	}
	return s
}

// draw redraws the line: back to the start of the line, the new text,
// blanks over what is left of the old one.
func (p *progress) draw() {
	line := progressLine(p.stat(), p.width())
	n := utf8.RuneCountInString(line)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", max(p.drawn-n, 0)))
	p.drawn = max(n, p.drawn)
}

// stop ends the drawing; with always it draws the last counts first. The
// line is then cleared, leaving the cursor where it was found.
func (p *progress) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	close(p.done)
	p.wg.Wait()
	if p.after == 0 {
		p.draw()
	}
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.drawn))
	}
}
