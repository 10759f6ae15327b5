package golang

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

func finishProfile(p *dumps.GoroutineProfile) {
	items := make([]dumps.StackItem, len(p.Groups))
	for i := range p.Groups {
		g := &p.Groups[i]
		g.Class = dumps.ClassifyGo("", g.Frames)
		if g.Frames == nil {
			g.Frames = []dumps.Frame{}
		}
		items[i] = dumps.StackItem{Kind: "goroutine", Frames: g.Frames, Member: dumps.Member{Count: g.Count, Pos: g.Pos}, Class: g.Class}
	}
	p.Buckets = dumps.BuildBuckets(items)
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
func ReadGoroutineProfile(r io.Reader, name string) ([]*dumps.GoroutineProfile, []dumps.Warning, error) {
	var (
		profs []*dumps.GoroutineProfile
		warns []dumps.Warning
		cur   *dumps.GoroutineProfile
		grp   *dumps.ProfileGroup
	)
	warn := func(n int, format string, args ...any) {
		warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: fmt.Sprintf(format, args...)})
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
	line := func(raw string, n int) {
		text := strings.TrimSpace(raw)
		if t, ok := strings.CutPrefix(text, "goroutine profile: total "); ok {
			endProfile(n)
			k, err := strconv.Atoi(t)
			if err != nil {
				warn(n, "bad goroutine profile total %q", t)
			}
			cur = &dumps.GoroutineProfile{Pos: dumps.Pos{File: name, Line: n}, Total: k}
			return
		}
		if cur == nil {
			return // text before the profile
		}
		switch {
		case text == "":
			endGroup()
		case strings.HasPrefix(text, "# labels: "):
			if grp == nil {
				warn(n, "labels without a stack")
				return
			}
			ls, err := parseLabels(strings.TrimPrefix(text, "# labels: "))
			if err != nil {
				warn(n, "bad labels: %v", err)
				return
			}
			grp.Labels = ls
		case strings.HasPrefix(text, "#"):
			if grp == nil {
				warn(n, "frame without a stack")
				return
			}
			f, err := parseProfileFrame(strings.TrimSpace(text[1:]))
			if err != nil {
				warn(n, "%v", err)
				return
			}
			grp.Frames = append(grp.Frames, f)
		default:
			count, _, ok := strings.Cut(text, " @ ")
			k, err := strconv.Atoi(count)
			if !ok || err != nil || k < 0 {
				// The profile ended: other output follows.
				endProfile(n)
				return
			}
			endGroup()
			grp = &dumps.ProfileGroup{Pos: dumps.Pos{File: name, Line: n}, Count: k}
		}
	}
	err := dumps.FeedLines(r, name, line, func() { endProfile(0) })
	return profs, warns, err
}

// parseProfileFrame parses "0x106cd1e	time.Sleep+0xbe	/usr/local/go/src/runtime/time.go:188".
func parseProfileFrame(s string) (dumps.Frame, error) {
	f := strings.Fields(s)
	if len(f) < 2 || !strings.HasPrefix(f[0], "0x") {
		return dumps.Frame{}, fmt.Errorf("bad profile frame %q", dumps.Clip(s))
	}
	fn := f[1]
	if i := strings.LastIndex(fn, "+0x"); i > 0 {
		fn = fn[:i]
	}
	fr := dumps.Frame{Func: fn}
	if len(f) >= 3 {
		// The file may hold spaces: it is the rest of the line.
		loc := strings.TrimSpace(s[strings.Index(s, f[1])+len(f[1]):])
		file, line, err := parseGoFileLine(loc)
		if err != nil {
			return dumps.Frame{}, fmt.Errorf("bad profile frame %q: %w", dumps.Clip(s), err)
		}
		fr.File, fr.Line = file, line
	}
	return fr, nil
}

// parseLabels parses pprof labels as Go prints them, `{"key":"value", ...}`
// (debug=1) or `{"key": "value", ...}` (tracebacks), with Go quoting, into
// labels sorted by key.
func parseLabels(s string) ([]dumps.Label, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "{")
	if !ok {
		return nil, fmt.Errorf("labels %q do not start with {", dumps.Clip(s))
	}
	var ls []dumps.Label
	for {
		rest = strings.TrimLeft(rest, " ")
		if r, ok := strings.CutPrefix(rest, "}"); ok {
			if strings.TrimSpace(r) != "" {
				return nil, fmt.Errorf("text after the labels: %q", dumps.Clip(r))
			}
			break
		}
		if len(ls) > 0 {
			if rest, ok = strings.CutPrefix(rest, ","); !ok {
				return nil, fmt.Errorf("missing comma in labels %q", dumps.Clip(s))
			}
			rest = strings.TrimLeft(rest, " ")
		}
		k, r, err := unquotePrefix(rest)
		if err != nil {
			return nil, err
		}
		r, ok := strings.CutPrefix(strings.TrimLeft(r, " "), ":")
		if !ok {
			return nil, fmt.Errorf("missing colon in labels %q", dumps.Clip(s))
		}
		v, r, err := unquotePrefix(strings.TrimLeft(r, " "))
		if err != nil {
			return nil, err
		}
		ls = append(ls, dumps.Label{Key: k, Value: v})
		rest = r
	}
	slices.SortStableFunc(ls, func(a, b dumps.Label) int { return strings.Compare(a.Key, b.Key) })
	return ls, nil
}

func unquotePrefix(s string) (string, string, error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", fmt.Errorf("bad quoted label in %q", dumps.Clip(s))
	}
	v, err := strconv.Unquote(q)
	if err != nil {
		return "", "", fmt.Errorf("bad quoted label %q", dumps.Clip(q))
	}
	return v, s[len(q):], nil
}
