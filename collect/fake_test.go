package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// fakeRunner runs commands as Go functions keyed by program name; a program
// without one is not installed.
type fakeRunner struct {
	mu    sync.Mutex
	progs map[string]func(ctx context.Context, c Command, stdout, stderr io.Writer) (int, error)
	ran   []Command
}

func (r *fakeRunner) LookPath(name string) (string, error) {
	if _, ok := r.progs[name]; ok {
		return "/usr/bin/" + name, nil
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

func (r *fakeRunner) Run(ctx context.Context, c Command, stdout, stderr io.Writer) (int, error) {
	r.mu.Lock()
	r.ran = append(r.ran, c)
	r.mu.Unlock()
	return r.progs[c.Name](ctx, c, stdout, stderr)
}

func (r *fakeRunner) commands(name string) []Command {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Command
	for _, c := range r.ran {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// print is a program that prints text and exits with code.
func print(text string, code int) func(context.Context, Command, io.Writer, io.Writer) (int, error) {
	return func(_ context.Context, _ Command, stdout, _ io.Writer) (int, error) {
		io.WriteString(stdout, text)
		return code, nil
	}
}

// fakeProc is a /proc of maps.
type fakeProc struct {
	mu      sync.Mutex
	files   map[string][]byte
	links   map[string]string
	signals []string
	// onSignal runs when a signal is sent (a Node.js process writing its report).
	onSignal func(pid int, sig syscall.Signal)
}

func (p *fakeProc) ReadFile(name string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.files[name]; ok {
		return slices.Clone(b), nil
	}
	return nil, fmt.Errorf("open /proc/%s: %w", name, os.ErrNotExist)
}

func (p *fakeProc) ReadDir(name string) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := map[string]bool{}
	prefix := strings.TrimSuffix(name, "/") + "/"
	if name == "." {
		prefix = ""
	}
	for _, m := range []map[string]string{p.links, toLinks(p.files)} {
		for k := range m {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				first, _, _ := strings.Cut(rest, "/")
				seen[first] = true
			}
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("open /proc/%s: %w", name, os.ErrNotExist)
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

func toLinks(files map[string][]byte) map[string]string {
	m := map[string]string{}
	for k := range files {
		m[k] = ""
	}
	return m
}

func (p *fakeProc) Readlink(name string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.links[name]; ok {
		return l, nil
	}
	return "", fmt.Errorf("readlink /proc/%s: %w", name, os.ErrNotExist)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func (p *fakeProc) Open(name string) (File, error) {
	b, err := p.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return nopCloser{bytes.NewReader(b)}, nil
}

func (p *fakeProc) Signal(pid int, sig syscall.Signal) error {
	p.mu.Lock()
	p.signals = append(p.signals, fmt.Sprintf("%d %s", pid, sig))
	f := p.onSignal
	p.mu.Unlock()
	if f == nil {
		return errors.New("no such process")
	}
	f(pid, sig)
	return nil
}

func (p *fakeProc) set(name string, data string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.files[name] = []byte(data)
}

// stepClock is a clock that moves a millisecond per reading.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func pathBase(s string) string { return path.Base(s) }
