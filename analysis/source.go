package analysis

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cwforensics/cwforensics/report"
)

// Source is one input: a name, used in positions and messages only, and how
// to open it. Open is called at most once, and what it returns is read from
// its first byte to its end exactly once, so a pipe or an upload is read as
// a file is.
type Source struct {
	Name string
	Open func() (io.ReadCloser, error)
	// Skip, when its Status is set, says the source is listed but not
	// opened: a walk found it unusable (an unreadable or too deep folder,
	// a dangling link, a file reached again through a link).
	Skip report.Input
	// Walked says the source was found in a folder rather than named:
	// a command that reads one kind of input passes over the others.
	Walked bool
	// Stdin marks standard input ("-"), whatever its name.
	Stdin bool
	// Size is how many bytes Open's reader gives, when known before
	// opening (a regular file; a gzip file counts compressed), for a
	// progress display; -1 when unknown (a pipe, standard input).
	Size int64
}

// Bytes is a Source over data held in memory.
func Bytes(name string, data []byte) Source {
	return Source{Name: name, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(string(data))), nil
	}}
}

// Reader is a Source over an open reader (standard input, an upload).
func Reader(name string, r io.Reader) Source {
	return Source{Name: name, Size: -1, Open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}
}

// StdinName is how standard input ("-") is named in positions, unless
// WalkOptions.StdinName names it.
const StdinName = "stdin"

// WalkOptions tune Walk.
type WalkOptions struct {
	// Stdin is what "-" reads; nil makes "-" an error.
	Stdin io.Reader
	// StdinName names "-" in positions and partial states; "" is
	// StdinName. A capture piped from each of several hosts, named for
	// its host, can then be merged with the others, which one name for
	// all would make the same capture read twice.
	StdinName string
	// MaxDepth bounds how deep folders are walked below a path given;
	// 0 means DefaultMaxDepth.
	MaxDepth int
}

// DefaultMaxDepth is how many folder levels Walk descends by default.
const DefaultMaxDepth = 32

// Walk turns paths as given on a command line into Sources, named as the
// paths are written (with forward slashes). "-" is standard input. A file,
// a named pipe or a /dev/fd/N of process substitution is one source, and so
// is what a link points to. A folder is walked in name order, following
// links, skipping folders whose names start with a dot; every folder is
// walked once (folders are known by device and inode, so a link loop ends),
// and a file reached twice is listed once more as a duplicate. Inside a
// folder, a folder that cannot be read or lies deeper than MaxDepth, a
// dangling link, and a pipe, socket or device file are listed with the
// reason instead of aborting the walk. A path given that does not exist or
// cannot be looked at is an error.
func Walk(paths []string, opts WalkOptions) ([]Source, error) {
	w := walker{opts: opts, dirs: map[fileID]string{}, files: map[fileID]string{}}
	if w.opts.MaxDepth <= 0 {
		w.opts.MaxDepth = DefaultMaxDepth
	}
	stdin := false
	name := cmp.Or(opts.StdinName, StdinName)
	for _, p := range paths {
		if p == "-" {
			if stdin || opts.Stdin == nil {
				return nil, errors.New("-: standard input can be read once, and only from the command line")
			}
			stdin = true
			src := Reader(name, opts.Stdin)
			src.Stdin = true
			w.out = append(w.out, src)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, unwrapPath(err))
		}
		if fi.IsDir() {
			w.dir(p, fi, 0)
			continue
		}
		w.file(p, fi, false)
	}
	if stdin {
		// Sources are known by name (a path given twice is read once):
		// standard input named as another source would be dropped or
		// would drop it. Names are compared cleaned, as pcapstate tells
		// captures apart ("./a.pcap" is a.pcap).
		clean := filepath.Clean(filepath.FromSlash(name))
		for _, s := range w.out {
			if !s.Stdin && filepath.Clean(filepath.FromSlash(s.Name)) == clean {
				return nil, fmt.Errorf("-: standard input is named %s, as is a path given; give it another name", name)
			}
		}
	}
	return w.out, nil
}

// unwrapPath drops the *fs.PathError around err, whose path the message
// already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type walker struct {
	opts  WalkOptions
	dirs  map[fileID]string // folders walked, by identity -> name
	files map[fileID]string // files listed, by identity -> name
	out   []Source
}

// skip lists a source that is not opened.
func (w *walker) skip(name string, status report.InputStatus, cause report.InputCause, reason string) {
	w.out = append(w.out, Source{Name: name, Walked: true, Skip: report.Input{Path: name, Status: status, Cause: cause, Reason: reason}})
}

func (w *walker) file(path string, fi fs.FileInfo, walked bool) {
	name := filepath.ToSlash(path)
	if id, ok := idOf(fi); ok {
		if first, dup := w.files[id]; dup {
			w.skip(name, report.InputIgnored, report.CauseDuplicate, "same file as "+first)
			return
		}
		w.files[id] = name
	}
	if walked && !fi.Mode().IsRegular() {
		// A pipe met in a folder may never be written to: reading it
		// would hang the walk. Named on the command line, it is read.
		w.skip(name, report.InputIgnored, report.CauseNotRegular, "not a regular file ("+fileType(fi.Mode())+"); name it to read it")
		return
	}
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	w.out = append(w.out, Source{Name: name, Walked: walked, Size: size, Open: func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, unwrapPath(err)
		}
		return f, nil
	}})
}

func (w *walker) dir(path string, fi fs.FileInfo, depth int) {
	name := filepath.ToSlash(path)
	if id, ok := idOf(fi); ok {
		if first, seen := w.dirs[id]; seen {
			w.skip(name, report.InputIgnored, report.CauseDuplicate, "same folder as "+first+" (a link), walked once")
			return
		}
		w.dirs[id] = name
	}
	if depth > w.opts.MaxDepth {
		w.skip(name, report.InputIgnored, report.CauseTooDeep, fmt.Sprintf("folder more than %d levels deep, not walked", w.opts.MaxDepth))
		return
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		w.skip(name, report.InputIgnored, report.CauseUnreadable, "folder not readable: "+unwrapPath(err).Error())
		if len(entries) == 0 {
			return
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, e := range entries {
		p := filepath.Join(path, e.Name())
		fi, err := os.Stat(p) // follows links
		if err != nil {
			reason := "not readable: " + unwrapPath(err).Error()
			if li, lerr := os.Lstat(p); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
				target, _ := os.Readlink(p)
				reason = "dangling link to " + target + ": " + unwrapPath(err).Error()
			}
			w.skip(filepath.ToSlash(p), report.InputIgnored, report.CauseUnreadable, reason)
			continue
		}
		if fi.IsDir() {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			w.dir(p, fi, depth+1)
			continue
		}
		w.file(p, fi, true)
	}
}

// fileType names the type of a file that is not regular.
func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return m.Type().String()
}
