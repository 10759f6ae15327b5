package golang

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/pprof/profile"
)

// ErrNotGoroutineProfile is returned by ReadPprof for a valid pprof profile
// of another kind (heap, CPU).
var ErrNotGoroutineProfile = errors.New("not a goroutine profile")

// maxPprofSize bounds what ReadPprof reads: goroutine profiles of even very
// large programs are a few MB.
const maxPprofSize = 256 << 20

// ReadPprof parses a debug=0 goroutine profile (a gzipped protocol buffer
// from pprof.Lookup("goroutine").WriteTo(w, 0) or /debug/pprof/goroutine).
// A file that is not a pprof profile, or a profile of another kind, is an
// error; a sample with an unusable value is a Warning.
func ReadPprof(r io.Reader, name string) (*dumps.GoroutineProfile, []dumps.Warning, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPprofSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxPprofSize {
		return nil, nil, fmt.Errorf("%s: profile larger than %d bytes", name, maxPprofSize)
	}
	prof, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a pprof profile: %w", name, err)
	}
	vi := slices.IndexFunc(prof.SampleType, func(t *profile.ValueType) bool { return t.Type == "goroutine" })
	if vi < 0 {
		var types []string
		for _, t := range prof.SampleType {
			types = append(types, t.Type)
		}
		return nil, nil, fmt.Errorf("%s: %w (sample types %s)", name, ErrNotGoroutineProfile, strings.Join(types, ","))
	}
	var warns []dumps.Warning
	p := &dumps.GoroutineProfile{Pos: dumps.Pos{File: name}}
	for i, s := range prof.Sample {
		if vi >= len(s.Value) || s.Value[vi] < 0 {
			warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name}, Msg: fmt.Sprintf("sample %d: no goroutine count", i+1)})
			continue
		}
		g := dumps.ProfileGroup{Pos: dumps.Pos{File: name}, Count: int(s.Value[vi]), Frames: pprofFrames(s.Location), Labels: pprofLabels(s)}
		p.Total += g.Count
		p.Groups = append(p.Groups, g)
	}
	finishProfile(p)
	return p, warns, nil
}

// pprofFrames lists the frames of a sample, leaf first; a location with
// inlined calls holds several lines, the innermost first.
func pprofFrames(locs []*profile.Location) []dumps.Frame {
	var fs []dumps.Frame
	for _, l := range locs {
		for _, ln := range l.Line {
			f := dumps.Frame{Line: int(ln.Line)}
			if ln.Function != nil {
				f.Func, f.File = ln.Function.Name, ln.Function.Filename
			}
			fs = append(fs, f)
		}
		if len(l.Line) == 0 {
			fs = append(fs, dumps.Frame{Func: fmt.Sprintf("0x%x", l.Address)})
		}
	}
	return fs
}

func pprofLabels(s *profile.Sample) []dumps.Label {
	var ls []dumps.Label
	for k, vs := range s.Label {
		for _, v := range vs {
			ls = append(ls, dumps.Label{Key: k, Value: v})
		}
	}
	slices.SortFunc(ls, func(a, b dumps.Label) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return ls
}
