package pcapstate

import (
	"errors"
	"fmt"

	"github.com/cwforensics/cwforensics/pcapstate/filter"
)

// matcher matches packets against a filter expression.
type matcher interface {
	match(rec *record) (bool, error)
}

// goFilter is the pure-Go filter (package filter), compiled once per link
// type as packets of that type arrive.
type goFilter struct {
	expr  *filter.Expr
	progs map[uint32]*filter.Program
	// The program of the last packet's link type: captures rarely mix
	// link types, so this spares a map lookup per packet.
	lastLink uint32
	last     *filter.Program
	// fallback, when not nil, matches the packets of link types the
	// pure-Go filter does not know (the libpcap build sets it).
	fallback func() (matcher, error)
	fb       matcher
}

// newGoFilter parses expr and compiles it for Ethernet, so that a bad
// expression fails before any file is read.
func newGoFilter(expr string) (*goFilter, error) {
	e, err := filter.Parse(expr)
	if err != nil {
		return nil, err
	}
	f := &goFilter{expr: e, progs: map[uint32]*filter.Program{}}
	p, err := e.Compile(linkEthernet)
	if err != nil {
		return nil, err
	}
	f.progs[linkEthernet], f.lastLink, f.last = p, linkEthernet, p
	return f, nil
}

const linkEthernet = 1

func (f *goFilter) match(rec *record) (bool, error) {
	p := f.last
	if rec.rawLink != f.lastLink || p == nil {
		var ok bool
		p, ok = f.progs[rec.rawLink]
		if !ok {
			var err error
			p, err = f.expr.Compile(rec.rawLink)
			if err != nil {
				if errors.Is(err, filter.ErrUnsupported) && f.fallback != nil {
					return f.matchFallback(rec)
				}
				return false, fmt.Errorf("link type %s: %w", linkName(rec.rawLink), err)
			}
			f.progs[rec.rawLink] = p
		}
		f.lastLink, f.last = rec.rawLink, p
	}
	if p == nil {
		return f.matchFallback(rec)
	}
	return p.Match(rec.data, rec.origLen), nil
}

// matchFallback matches a packet of a link type only the fallback knows.
func (f *goFilter) matchFallback(rec *record) (bool, error) {
	if f.fb == nil {
		fb, err := f.fallback()
		if err != nil {
			return false, err
		}
		f.fb = fb
	}
	f.progs[rec.rawLink] = nil // a nil program: use the fallback
	f.lastLink, f.last = rec.rawLink, nil
	return f.fb.match(rec)
}
