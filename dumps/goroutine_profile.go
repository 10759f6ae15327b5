package dumps

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// GoroutineProfile is an aggregated goroutine profile: the debug=1 text
// ("goroutine profile: total K") or the debug=0 protobuf. Goroutines with
// the same stack are one Group with a count; the profile has no ids, states
// or wait times.
type GoroutineProfile struct {
	Pos Pos `json:"pos"`
	// Total is the goroutine count the profile states (the debug=1 header;
	// the sum of the sample values for debug=0).
	Total  int            `json:"total"`
	Groups []ProfileGroup `json:"groups"`
	// Buckets groups the groups by stack; debug=1 can list one stack
	// several times with different labels.
	Buckets []Bucket `json:"buckets"`
}

// ProfileGroup is one stack of a profile and how many goroutines have it.
type ProfileGroup struct {
	Pos    Pos     `json:"pos"`
	Count  int     `json:"count"`
	Frames []Frame `json:"frames"`
	// Labels are the pprof labels, sorted by key.
	Labels []Label `json:"labels,omitempty"`
	Class  Class   `json:"class"`
}

// Label is one pprof label.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func finishProfile(p *GoroutineProfile) {
	items := make([]stackItem, len(p.Groups))
	for i := range p.Groups {
		g := &p.Groups[i]
		g.Class = classifyGo("", g.Frames)
		if g.Frames == nil {
			g.Frames = []Frame{}
		}
		items[i] = stackItem{kind: "goroutine", frames: g.Frames, member: Member{Count: g.Count, Pos: g.Pos}, class: g.Class}
	}
	p.Buckets = buildBuckets(items)
}

// ReadGoroutineProfile parses debug=1 goroutine profiles:
//
//	goroutine profile: total 6
//	2 @ 0x103b125 0x106cd1f 0x13ac44a 0x106fd81
//	# labels: {"test_label":"test_value"}
//	#	0x106cd1e	time.Sleep+0xbe	/usr/local/go/src/runtime/time.go:188
//
// Several profiles in one input are returned in order. A header total that
// differs from the sum of the counts is a Warning.
func ReadGoroutineProfile(r io.Reader, name string) ([]*GoroutineProfile, []Warning, error) {
	var (
		profs []*GoroutineProfile
		warns []Warning
		cur   *GoroutineProfile
		grp   *ProfileGroup
	)
	warn := func(n int, format string, args ...any) {
		warns = append(warns, Warning{Pos{name, n}, fmt.Sprintf(format, args...)})
	}
	endGroup := func() {
		if grp != nil {
			cur.Groups = append(cur.Groups, *grp)
			grp = nil
		}
	}
	endProfile := func(n int) {
		if cur == nil {
			return
		}
		endGroup()
		sum := 0
		for _, g := range cur.Groups {
			sum += g.Count
		}
		if sum != cur.Total {
			warn(cur.Pos.Line, "goroutine profile says total %d but its groups count %d", cur.Total, sum)
		}
		finishProfile(cur)
		profs = append(profs, cur)
		cur = nil
	}
	src := newLineSource(r)
	for {
		l, ok := src.next()
		if !ok {
			break
		}
		text, n := strings.TrimSpace(l.text), l.line
		if t, ok := strings.CutPrefix(text, "goroutine profile: total "); ok {
			endProfile(n)
			k, err := strconv.Atoi(t)
			if err != nil {
				warn(n, "bad goroutine profile total %q", t)
			}
			cur = &GoroutineProfile{Pos: Pos{name, n}, Total: k}
			continue
		}
		if cur == nil {
			continue // text before the profile
		}
		switch {
		case text == "":
			endGroup()
		case strings.HasPrefix(text, "# labels: "):
			if grp == nil {
				warn(n, "labels without a stack")
				continue
			}
			ls, err := parseLabels(strings.TrimPrefix(text, "# labels: "))
			if err != nil {
				warn(n, "bad labels: %v", err)
				continue
			}
			grp.Labels = ls
		case strings.HasPrefix(text, "#"):
			if grp == nil {
				warn(n, "frame without a stack")
				continue
			}
			f, err := parseProfileFrame(strings.TrimSpace(text[1:]))
			if err != nil {
				warn(n, "%v", err)
				continue
			}
			grp.Frames = append(grp.Frames, f)
		default:
			count, _, ok := strings.Cut(text, " @ ")
			k, err := strconv.Atoi(count)
			if !ok || err != nil || k < 0 {
				// The profile ended: other output follows.
				endProfile(n)
				continue
			}
			endGroup()
			grp = &ProfileGroup{Pos: Pos{name, n}, Count: k}
		}
	}
	endProfile(0)
	if err := src.err(); err != nil {
		return profs, warns, fmt.Errorf("%s:%d: %w", name, src.n+1, err)
	}
	return profs, warns, nil
}

// parseProfileFrame parses "0x106cd1e	time.Sleep+0xbe	/usr/local/go/src/runtime/time.go:188".
func parseProfileFrame(s string) (Frame, error) {
	f := strings.Fields(s)
	if len(f) < 2 || !strings.HasPrefix(f[0], "0x") {
		return Frame{}, fmt.Errorf("bad profile frame %q", clip(s))
	}
	fn := f[1]
	if i := strings.LastIndex(fn, "+0x"); i > 0 {
		fn = fn[:i]
	}
	fr := Frame{Func: fn}
	if len(f) >= 3 {
		// The file may hold spaces: it is the rest of the line.
		loc := strings.TrimSpace(s[strings.Index(s, f[1])+len(f[1]):])
		file, line, err := parseGoFileLine(loc)
		if err != nil {
			return Frame{}, fmt.Errorf("bad profile frame %q: %w", clip(s), err)
		}
		fr.File, fr.Line = file, line
	}
	return fr, nil
}

// parseLabels parses pprof labels as Go prints them, `{"key":"value", ...}`
// (debug=1) or `{"key": "value", ...}` (tracebacks), with Go quoting, into
// labels sorted by key.
func parseLabels(s string) ([]Label, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "{")
	if !ok {
		return nil, fmt.Errorf("labels %q do not start with {", clip(s))
	}
	var ls []Label
	for {
		rest = strings.TrimLeft(rest, " ")
		if r, ok := strings.CutPrefix(rest, "}"); ok {
			if strings.TrimSpace(r) != "" {
				return nil, fmt.Errorf("text after the labels: %q", clip(r))
			}
			break
		}
		if len(ls) > 0 {
			if rest, ok = strings.CutPrefix(rest, ","); !ok {
				return nil, fmt.Errorf("missing comma in labels %q", clip(s))
			}
			rest = strings.TrimLeft(rest, " ")
		}
		k, r, err := unquotePrefix(rest)
		if err != nil {
			return nil, err
		}
		r, ok := strings.CutPrefix(strings.TrimLeft(r, " "), ":")
		if !ok {
			return nil, fmt.Errorf("missing colon in labels %q", clip(s))
		}
		v, r, err := unquotePrefix(strings.TrimLeft(r, " "))
		if err != nil {
			return nil, err
		}
		ls = append(ls, Label{k, v})
		rest = r
	}
	slices.SortStableFunc(ls, func(a, b Label) int { return strings.Compare(a.Key, b.Key) })
	return ls, nil
}

func unquotePrefix(s string) (string, string, error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", fmt.Errorf("bad quoted label in %q", clip(s))
	}
	v, err := strconv.Unquote(q)
	if err != nil {
		return "", "", fmt.Errorf("bad quoted label %q", clip(q))
	}
	return v, s[len(q):], nil
}
