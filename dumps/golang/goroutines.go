package golang

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// reGoroutineHeader matches "goroutine 1 [running]:" and the Go 1.22+
// "goroutine 1 gp=0xc000002380 m=0 mp=0x5d0f60 [running]:".
var reGoroutineHeader = regexp.MustCompile(`^goroutine (\d+) (?:gp=0x[0-9a-f]+ m=\S+ (?:mp=\S+ )?)?\[(.*)\]:$`)

// goroutine parser states; each comment is an example line that leads there.
type goState uint8

const (
	goOutside goState = iota // anything outside a goroutine: `panic: boom`, log lines
	goFunc                   // `goroutine 1 [running]:`, or a file line: a function line or the end comes next
	goFile                   // `main.main()`: its `\t/path/main.go:12 +0x1d` comes next
	goCreated                // `created by main.main in goroutine 1`: its file line comes next
	goMStack                 // `runtime stack:`: the frames of an M (fatal errors), skipped up to a blank line
)

type goParser struct {
	name string
	// keep keeps every goroutine in its dump; without it a goroutine is
	// only counted in its bucket, and the parser reuses its record.
	keep     bool
	bk       dumps.Bucketer
	count    int // goroutines in the current dump
	spare    *dumps.Goroutine
	dumps    []*dumps.GoroutineDump
	warns    []dumps.Warning
	cur      *dumps.GoroutineDump
	g        *dumps.Goroutine
	anc      *dumps.Ancestor // ancestor being read, nil when in the goroutine itself
	state    goState
	seen     idSet
	between  bool   // a non-blank line outside goroutines since the last one
	panic    string // a panic message waiting for its dump
	panicAt  int
	lastLine int
}

// ReadGoroutines parses Go goroutine dumps. Several dumps in one input (a
// goroutine id seen twice, or other text between goroutines) are returned in
// order. Only I/O failures are errors; a malformed line becomes a Warning.
func ReadGoroutines(r io.Reader, name string) ([]*dumps.GoroutineDump, []dumps.Warning, error) {
	p := &goParser{name: name, keep: true}
	err := dumps.FeedLines(r, name, p.line, p.endDump)
	return p.dumps, p.warns, err
}

// readGoroutineBuckets is ReadGoroutines without the goroutines: each is
// counted in its bucket as it is read, so memory follows the distinct
// stacks (a dump of a million goroutines across a few hundred stacks stays
// small).
func readGoroutineBuckets(r io.Reader, name string) ([]*dumps.GoroutineDump, []dumps.Warning, error) {
	p := &goParser{name: name}
	err := dumps.FeedLines(r, name, p.line, p.endDump)
	return p.dumps, p.warns, err
}

func (p *goParser) warn(line int, format string, args ...any) {
	p.warns = append(p.warns, dumps.Warning{Pos: dumps.Pos{File: p.name, Line: line}, Msg: fmt.Sprintf(format, args...)})
}

func (p *goParser) endGoroutine(line int) {
	if p.g == nil {
		return
	}
	if p.state == goFile || p.state == goCreated {
		p.warn(line, "goroutine %d: stack ends before the file:line of its last frame", p.g.ID)
	}
	g := p.g
	if g.Frames == nil {
		g.Frames = []dumps.Frame{}
	}
	it := goroutineItem(g)
	h := dumps.StackHash(it)
	if p.keep || !p.bk.Has(h) {
		// The class follows from the state and frames, which the bucket
		// key holds: a stack seen before is not classified again.
		g.Class = dumps.ClassifyGo(g.State, g.Frames)
		it.Class = g.Class
	}
	p.bk.AddHashed(h, it, !p.keep)
	p.count++
	if p.keep {
		p.cur.Goroutines = append(p.cur.Goroutines, *g)
	} else {
		p.spare = g
	}
	p.g, p.anc, p.state = nil, nil, goOutside
}

func (p *goParser) endDump() {
	p.endGoroutine(p.lastLine)
	if p.cur != nil {
		p.cur.Buckets = p.bk.Buckets()
		p.dumps = append(p.dumps, p.cur)
	}
	p.cur, p.between, p.bk, p.count = nil, false, dumps.Bucketer{}, 0
	p.seen.reset()
}

// goroutineItem is what bucketing needs of a goroutine: the creator and
// the locked and elided marks count as part of the stack.
func goroutineItem(g *dumps.Goroutine) dumps.StackItem {
	extra := ""
	if g.CreatedBy != nil {
		extra = g.CreatedBy.String()
	}
	if g.LockedToThread {
		extra += " locked"
	}
	if g.FramesElided {
		extra += " elided"
	}
	return dumps.StackItem{Kind: "goroutine", State: g.State, Frames: g.Frames, Extra: extra,
		Member: dumps.Member{ID: g.ID, Count: 1, Pos: g.Pos}, Wait: g.Wait, Class: g.Class}
}

func (p *goParser) line(raw string, n int) {
	p.lastLine = n
	text := strings.TrimSpace(raw)
	if id, bracket, ok := goroutineHeader(text); ok {
		p.header(id, bracket, n)
		return
	}
	switch p.state {
	case goOutside:
		p.outside(text, n)
	case goFunc:
		p.funcLine(raw, text, n)
	case goFile, goCreated:
		p.fileLine(text, n)
	case goMStack:
		if text == "" {
			p.state = goOutside
		}
	}
}

func (p *goParser) outside(text string, n int) {
	switch {
	case text == "":
	case text == "runtime stack:":
		p.state = goMStack
	case strings.HasPrefix(text, "panic: "), strings.HasPrefix(text, "fatal error: "), strings.HasPrefix(text, "SIGQUIT: "):
		if p.cur != nil {
			p.endDump()
		}
		if p.panic == "" {
			p.panic, p.panicAt = text, n
		}
	default:
		if p.cur != nil && p.count > 0 {
			p.between = true
		}
	}
}

// goroutineHeader splits a goroutine header into its id and the text in
// its brackets. The common form is read by hand; the Go 1.22+ form with
// gp=, m= and mp= goes through reGoroutineHeader.
func goroutineHeader(text string) (id, bracket string, ok bool) {
	rest, ok := strings.CutPrefix(text, "goroutine ")
	if !ok {
		return "", "", false
	}
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	if digits > 0 && len(rest) >= digits+4 && rest[digits] == ' ' && rest[digits+1] == '[' && strings.HasSuffix(rest, "]:") {
		return rest[:digits], rest[digits+2 : len(rest)-2], true
	}
	if m := reGoroutineHeader.FindStringSubmatch(text); m != nil {
		return m[1], m[2], true
	}
	return "", "", false
}

func (p *goParser) header(idText, bracket string, n int) {
	p.endGoroutine(n)
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		p.warn(n, "bad goroutine id %q", idText)
		return
	}
	if p.cur != nil && (p.seen.has(id) || p.between) {
		p.endDump()
	}
	if p.cur == nil {
		p.cur = &dumps.GoroutineDump{Pos: dumps.Pos{File: p.name, Line: n}}
		if p.panic != "" {
			p.cur.Panic, p.cur.Pos.Line = p.panic, p.panicAt
			p.panic = ""
		}
	}
	p.seen.add(id)
	g := p.spare
	p.spare = nil
	if g == nil {
		g = &dumps.Goroutine{}
	} else {
		*g = dumps.Goroutine{Frames: g.Frames[:0]} // counted already: reuse its record
	}
	g.Pos, g.ID = dumps.Pos{File: p.name, Line: n}, id
	p.parseState(g, bracket, n)
	p.g, p.state = g, goFunc
}

// parseState reads the bracket of a header: "IO wait, 12 minutes",
// "running, locked to thread", "select (no cases)", and the Go 1.25+ forms
// "chan receive (leaked)", "sleep (durable), synctest bubble 3" and
// `running labels:{"k": "v"}` (GODEBUG=tracebacklabels=1).
func (p *goParser) parseState(g *dumps.Goroutine, s string, n int) {
	if i := strings.Index(s, " labels:{"); i >= 0 {
		ls, err := parseLabels(s[i+len(" labels:"):])
		if err != nil {
			p.warn(n, "goroutine %d: %v", g.ID, err)
		}
		g.Labels, s = ls, s[:i]
	}
	parts := strings.Split(s, ", ")
	g.State = parts[0]
	for _, suffix := range []string{" (scan)", " (leaked)", " (durable)"} {
		if st, ok := strings.CutSuffix(g.State, suffix); ok {
			g.State = st
			g.Flags = append(g.Flags, suffix[2:len(suffix)-1])
		}
	}
	for _, part := range parts[1:] {
		switch {
		case part == "locked to thread":
			g.LockedToThread = true
		case strings.HasSuffix(part, " minutes"):
			k, err := strconv.Atoi(strings.TrimSuffix(part, " minutes"))
			if err != nil || k < 0 {
				p.warn(n, "bad wait time %q in goroutine header", part)
				continue
			}
			g.Wait = time.Duration(k) * time.Minute
		default:
			g.Flags = append(g.Flags, part)
		}
	}
	g.Leaked = slices.Contains(g.Flags, "leaked")
}

// funcLine reads the line after a header or a file line: a function call,
// "created by", an elision or ancestor marker, or the blank line that ends
// the goroutine.
func (p *goParser) funcLine(raw, text string, n int) {
	g := p.g
	switch {
	case text == "":
		p.endGoroutine(n)
	case text == "...additional frames elided...":
		if p.anc == nil {
			g.FramesElided = true
		}
	case strings.HasPrefix(text, "created by "):
		f, creator := parseCreatedBy(strings.TrimPrefix(text, "created by "))
		if p.anc != nil {
			p.anc.CreatedBy = &f
		} else {
			g.CreatedBy, g.CreatorID = &f, creator
		}
		p.state = goCreated
	case strings.HasPrefix(text, "[originating from goroutine ") && strings.HasSuffix(text, "]:"):
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(text, "[originating from goroutine "), "]:"), 10, 64)
		if err != nil {
			p.warn(n, "bad ancestor goroutine id in %q", text)
			return
		}
		g.Ancestors = append(g.Ancestors, dumps.Ancestor{Pos: dumps.Pos{File: p.name, Line: n}, ID: id})
		p.anc = &g.Ancestors[len(g.Ancestors)-1]
	case text == "goroutine running on other thread; stack unavailable":
	case strings.HasPrefix(raw, "\t") || strings.HasPrefix(text, "pc=0x") || strings.Contains(text, "fp=0x"):
		if strings.HasPrefix(text, "pc=0x") {
			return // the pc of a "non-Go function" frame
		}
		p.warn(n, "goroutine %d: file line without a function line: %q", g.ID, dumps.Clip(text))
	default:
		f, err := parseGoCall(text)
		if err != nil {
			// A line that is not a stack frame ends the goroutine: the
			// dump was cut or is followed by other output.
			p.endGoroutine(n)
			p.outside(text, n)
			return
		}
		if f.Func == "non-Go function" {
			p.addFrame(f)
			return
		}
		p.addFrame(f)
		p.state = goFile
	}
}

func (p *goParser) addFrame(f dumps.Frame) {
	if p.anc != nil {
		p.anc.Frames = append(p.anc.Frames, f)
		return
	}
	p.g.Frames = append(p.g.Frames, f)
}

// fileLine reads "\t/usr/lib/go/src/net/fd_posix.go:55 +0x25" into the frame
// or created-by just read.
func (p *goParser) fileLine(text string, n int) {
	var f *dumps.Frame
	switch {
	case p.state == goCreated && p.anc != nil:
		f = p.anc.CreatedBy
	case p.state == goCreated:
		f = p.g.CreatedBy
	case p.anc != nil:
		f = &p.anc.Frames[len(p.anc.Frames)-1]
	default:
		f = &p.g.Frames[len(p.g.Frames)-1]
	}
	p.state = goFunc
	file, line, err := parseGoFileLine(text)
	if err != nil {
		p.warn(n, "goroutine %d: %v", p.g.ID, err)
		if text == "" {
			p.endGoroutine(n)
		}
		return
	}
	f.File, f.Line = file, line
}

// parseGoCall parses a function line: "main.main()", "net.(*conn).Read(0xc0000a2000,
// {0xc000300000?, 0x1000, 0x1000})", "main.goSleep(...)", "panic({0x4b0e80?, 0xc00001c0d8?})",
// "main.F[...](...)". The arguments are dropped: they hold addresses.
func parseGoCall(s string) (dumps.Frame, error) {
	if s == "non-Go function" {
		return dumps.Frame{Func: s}, nil
	}
	if !strings.HasSuffix(s, ")") {
		return dumps.Frame{}, fmt.Errorf("not a function call: %q", dumps.Clip(s))
	}
	open := strings.LastIndexByte(s, '(')
	// Arguments hold no parentheses, except "(...)".
	if strings.HasSuffix(s, "(...)") {
		open = len(s) - 5
	}
	if open <= 0 || strings.ContainsAny(s[:open], " \t") {
		return dumps.Frame{}, fmt.Errorf("not a function call: %q", dumps.Clip(s))
	}
	return dumps.Frame{Func: s[:open]}, nil
}

// parseCreatedBy parses what follows "created by": "main.main in goroutine 1"
// (Go 1.21+), "net/http.(*Server).Serve" or, before Go 1.17 in some builds,
// "main.main(0x1)".
func parseCreatedBy(s string) (dumps.Frame, int64) {
	var creator int64
	if fn, id, ok := strings.Cut(s, " in goroutine "); ok {
		if k, err := strconv.ParseInt(id, 10, 64); err == nil {
			creator = k
			s = fn
		}
	}
	if f, err := parseGoCall(s); err == nil {
		return f, creator
	}
	return dumps.Frame{Func: s}, creator
}

// parseGoFileLine parses "/path/file.go:123 +0x1d", "_testmain.go:47 +0x1d",
// "/path/file.go:12" or "file.go:12 +0x1d fp=0x... sp=0x... pc=0x...".
func parseGoFileLine(s string) (string, int, error) {
	if i := strings.Index(s, " +0x"); i >= 0 {
		s = s[:i]
	} else if i := strings.Index(s, " fp=0x"); i >= 0 {
		s = s[:i]
	}
	colon := strings.LastIndexByte(s, ':')
	if colon <= 0 {
		return "", 0, fmt.Errorf("bad file:line %q", dumps.Clip(s))
	}
	line, err := strconv.Atoi(s[colon+1:])
	if err != nil || line < 0 {
		return "", 0, fmt.Errorf("bad line number in %q", dumps.Clip(s))
	}
	return s[:colon], line, nil
}

// idSet is a set of goroutine ids: a bitmap for the ids below 1<<26 (the
// runtime hands them out from 1 upwards, so a dump of a million goroutines
// takes 128 KiB, not a map of a million entries), a map for the rest.
type idSet struct {
	bits []uint64
	more map[int64]struct{}
}

const idSetBits = 1 << 26

func (s *idSet) has(id int64) bool {
	if id >= 0 && id < idSetBits {
		w := int(id >> 6)
		return w < len(s.bits) && s.bits[w]&(1<<(id&63)) != 0
	}
	_, ok := s.more[id]
	return ok
}

func (s *idSet) add(id int64) {
	if id >= 0 && id < idSetBits {
		w := int(id >> 6)
		if w >= len(s.bits) {
			s.bits = slices.Grow(s.bits, w+1-len(s.bits))[:w+1]
		}
		s.bits[w] |= 1 << (id & 63)
		return
	}
	if s.more == nil {
		s.more = map[int64]struct{}{}
	}
	s.more[id] = struct{}{}
}

// reset empties the set, keeping the bitmap's memory.
func (s *idSet) reset() {
	clear(s.bits)
	s.bits, s.more = s.bits[:0], nil
}
