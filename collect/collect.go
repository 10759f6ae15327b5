// Package collect saves the evidence of a CLOSE_WAIT incident while it
// happens, on Linux, as the folder `cwforensics analyze` reads: a bounded
// packet capture, the socket listings (ss, lsof, netstat, /proc/net/tcp),
// each chosen process's /proc files and fd listing, and the thread or
// goroutine dumps its runtime allows, with a manifest of every command run.
//
// Commands go through a Runner and /proc through a Proc, and the time comes
// from a clock the caller gives, so tests run fake commands on a fake /proc.
package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options says what to collect and where. Dir, Runner, Proc and Now are
// required.
type Options struct {
	Dir   string // output folder; refused when it exists and is not empty, unless Force
	Force bool

	PIDs  []int // processes to save; none: the owners of sockets on Ports, else of CLOSE_WAIT sockets
	Ports []int // ports to capture (tcpdump filter) and to find processes by

	Duration       time.Duration // how long the capture runs; 0: no capture
	MaxCaptureSize int64         // bytes; the capture stops when the next packet would pass it
	Interface      string        // tcpdump -i

	PprofURL         string // Go: the pprof base or goroutine endpoint URL; "" none
	AllowRemotePprof bool   // allow a PprofURL whose host is not loopback

	Dumps          int           // thread or goroutine dumps per process
	DumpInterval   time.Duration // between them
	CommandTimeout time.Duration // each command's limit (not the capture's)
	Parallel       int           // commands run at once; 0: 4

	Runner Runner
	Proc   Proc
	HTTP   *http.Client     // for PprofURL; nil: one with no proxy and no redirects
	Now    func() time.Time // the clock
	// Progress, when not nil, gets one line per finished step.
	Progress io.Writer
	Log      *slog.Logger
	// UID is the user collect runs as (os.Geteuid); jcmd runs as the JVM's
	// user when it differs.
	UID uint32
	// Host names the machine in the manifest.
	Host string
}

// partialDir holds the outputs until they are complete; analyze skips
// folders whose names start with a dot.
const partialDir = ".collect-partial"

// stderrLimit bounds the stderr a step keeps.
const stderrLimit = 4 << 10

type collector struct {
	o        Options
	m        *Manifest
	partial  string
	mu       sync.Mutex // m.Steps, Progress, files
	files    map[string]bool
	sem      chan struct{}
	finished int
}

// Check validates the options without touching the machine.
func (o *Options) Check() error {
	if o.Dir == "" {
		return errors.New("no output folder (-o DIR)")
	}
	if o.Runner == nil || o.Proc == nil || o.Now == nil {
		return errors.New("collect needs a runner, a /proc and a clock")
	}
	if o.Duration < 0 || o.DumpInterval < 0 || o.CommandTimeout < 0 || o.Dumps < 0 || o.MaxCaptureSize < 0 {
		return errors.New("durations, sizes and counts cannot be negative")
	}
	for _, p := range o.PIDs {
		if p <= 0 {
			return fmt.Errorf("--pid %d: not a process id", p)
		}
	}
	for _, p := range o.Ports {
		if p <= 0 || p > 65535 {
			return fmt.Errorf("--port %d: not a TCP port", p)
		}
	}
	if o.PprofURL != "" {
		if _, _, err := pprofURLs(o.PprofURL, o.AllowRemotePprof); err != nil {
			return err
		}
	}
	return nil
}

// Run collects the evidence into o.Dir and writes its manifest. A missing
// tool or a failing command is recorded in the manifest, never fatal; the
// error is for an unusable output folder or options.
func Run(ctx context.Context, o Options) (*Manifest, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.CommandTimeout == 0 {
		o.CommandTimeout = 30 * time.Second
	}
	if o.Interface == "" {
		o.Interface = "any"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if err := prepareDir(o.Dir, o.Force); err != nil {
		return nil, err
	}
	c := &collector{
		o: o, partial: filepath.Join(o.Dir, partialDir),
		files: map[string]bool{}, sem: make(chan struct{}, o.Parallel),
	}
	if err := os.RemoveAll(c.partial); err != nil {
		return nil, fmt.Errorf("clear %s: %w", c.partial, err)
	}
	if err := os.MkdirAll(c.partial, 0o700); err != nil {
		return nil, fmt.Errorf("make %s: %w", c.partial, err)
	}
	c.m = &Manifest{
		SchemaVersion: ManifestVersion, Tool: "cwforensics collect", Host: o.Host,
		Started: o.Now().UTC(),
		Settings: Settings{
			PIDs: o.PIDs, Ports: o.Ports, Duration: o.Duration.String(), MaxCaptureSize: o.MaxCaptureSize,
			Interface: o.Interface, PprofURL: o.PprofURL, Dumps: o.Dumps, DumpInterval: o.DumpInterval.String(),
			CommandTimeout: o.CommandTimeout.String(),
		},
	}
	procs, note := choose(o.Proc, o.PIDs, o.Ports)
	for i := range procs {
		inspect(o.Proc, &procs[i])
	}
	c.m.Processes, c.m.ProcessNote = procs, note
	if c.m.Processes == nil {
		c.m.Processes = []Process{}
	}

	capDone := c.startCapture(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.listings(ctx, 1) }()
	go func() { defer wg.Done(); c.dumps(ctx) }()
	wg.Wait()
	<-capDone
	c.listings(ctx, 2)

	return c.m, c.finish()
}

// prepareDir makes dir, or checks that it is empty.
func prepareDir(dir string, force bool) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("make output folder: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read output folder: %w", err)
	}
	if len(ents) > 0 && !force {
		return fmt.Errorf("output folder %s is not empty (use --force to write into it)", dir)
	}
	return nil
}

// finish moves the complete outputs into the folder and writes the
// manifest, each by a rename so no half-written file is ever seen.
func (c *collector) finish() error {
	c.m.Finished = c.o.Now().UTC()
	slices.SortStableFunc(c.m.Steps, func(a, b *Step) int { return a.phase - b.phase })
	names := make([]string, 0, len(c.files))
	for n := range c.files {
		names = append(names, n)
	}
	slices.Sort(names)
	c.m.Files = []FileEntry{}
	for _, n := range names {
		src := filepath.Join(c.partial, n)
		fi, err := os.Stat(src)
		if err != nil {
			continue
		}
		if fi.Size() == 0 {
			// A command that printed nothing (it failed, or found
			// nothing): its step says so; an empty file says nothing.
			if err := os.Remove(src); err != nil {
				return fmt.Errorf("remove empty %s: %w", n, err)
			}
			for _, st := range c.m.Steps {
				if st.Output == n {
					st.Output = ""
				}
			}
			continue
		}
		if err := os.Rename(src, filepath.Join(c.o.Dir, n)); err != nil {
			return fmt.Errorf("move %s into the output folder: %w", n, err)
		}
		c.m.Files = append(c.m.Files, FileEntry{Name: n, Size: fi.Size()})
	}
	if err := os.RemoveAll(c.partial); err != nil {
		return fmt.Errorf("remove %s: %w", c.partial, err)
	}
	b, err := c.m.Marshal()
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return writeAtomic(filepath.Join(c.o.Dir, ManifestName), b)
}

// writeAtomic writes data to a temporary file beside path and renames it.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// step records a new step in plan order and returns it.
func (c *collector) step(phase int, s Step) *Step {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &s
	st.phase = phase
	c.m.Steps = append(c.m.Steps, st)
	return st
}

// stepAfter adds a step right after parent, wherever the steps added
// since have gone, so that a fallback run in parent's goroutine is listed
// beside it whatever the timing.
func (c *collector) stepAfter(parent *Step, s Step) *Step {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &s
	st.phase = parent.phase
	i := slices.Index(c.m.Steps, parent) + 1
	c.m.Steps = slices.Insert(c.m.Steps, i, st)
	return st
}

// done marks st finished and prints its progress line.
func (c *collector) done(st *Step) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finished++
	if c.o.Progress == nil {
		return
	}
	what := st.Name
	if st.PID > 0 {
		what += " pid " + strconv.Itoa(st.PID)
	}
	if st.Round > 0 {
		what += " #" + strconv.Itoa(st.Round)
	}
	line := fmt.Sprintf("collect: %-32s %s", what, st.Status)
	if st.Output != "" && st.Size > 0 {
		line += fmt.Sprintf(" (%s, %d bytes)", st.Output, st.Size)
	}
	if st.Note != "" && st.Status != StatusOK {
		line += ": " + st.Note
	}
	fmt.Fprintln(c.o.Progress, line)
}

func (c *collector) stamp() *time.Time {
	t := c.o.Now().UTC()
	return &t
}

// output opens the partial file name for appending, registering it.
func (c *collector) output(name string) (*os.File, error) {
	c.mu.Lock()
	c.files[name] = true
	c.mu.Unlock()
	return os.OpenFile(filepath.Join(c.partial, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

// stepOutput opens a step's output file and names it in the step; when it
// cannot, the step has failed with the reason.
func (c *collector) stepOutput(st *Step, out string) (*os.File, bool) {
	f, err := c.output(out)
	if err != nil {
		st.Status, st.Error = StatusFailed, err.Error()
		return nil, false
	}
	st.Output = out
	return f, true
}

// header is the date line and the prompt that start a listing, so that
// analyze dates the listing and knows the command (and the pid of
// /proc/PID files).
func (c *collector) header(t time.Time, argv []string) []byte {
	return []byte("date: " + t.UTC().Format(stampLayout) + "\n$ " + strings.Join(argv, " ") + "\n")
}

// stampLayout is the date line's layout: RFC 3339 in UTC with a fixed
// number of digits.
const stampLayout = "2006-01-02T15:04:05.000000Z07:00"

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (w *countWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return n, err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu   sync.Mutex
	max  int
	b    []byte
	cut  bool
	seen func([]byte) // called with every write, when set
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
		t.cut = true
	}
	if t.seen != nil {
		t.seen(t.b)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.ToValidUTF8(string(bytes.TrimSpace(t.b)), "?")
	if t.cut && s != "" {
		s = "..." + s
	}
	return s
}

// acquire takes a slot of the command pool.
func (c *collector) acquire(ctx context.Context) bool {
	select {
	case c.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *collector) release() { <-c.sem }

// command runs cmd with the command timeout, appending its output to the
// file out after a header when header is true. It fills in st.
func (c *collector) command(ctx context.Context, st *Step, cmd Command, out string, header bool) {
	defer c.done(st)
	st.Argv = cmd.Argv()
	if _, err := c.o.Runner.LookPath(cmd.Name); err != nil {
		st.Status, st.Note = StatusMissing, cmd.Name+" is not installed"
		return
	}
	if !c.acquire(ctx) {
		st.Status, st.Error = StatusSkipped, "interrupted"
		return
	}
	defer c.release()
	f, ok := c.stepOutput(st, out)
	if !ok {
		return
	}
	defer f.Close()
	st.Started = c.stamp()
	if header {
		if _, err := f.Write(c.header(*st.Started, st.Argv)); err != nil {
			st.Status, st.Error = StatusFailed, err.Error()
			return
		}
	}
	cw := &countWriter{w: f}
	errb := &tailBuffer{max: stderrLimit}
	cctx, cancel := context.WithTimeout(ctx, c.o.CommandTimeout)
	defer cancel()
	code, err := c.o.Runner.Run(cctx, cmd, cw, errb)
	st.Finished = c.stamp()
	st.Size, st.Stderr = cw.n, errb.String()
	if code >= 0 {
		st.ExitCode = &code
	}
	switch {
	case errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		st.Status, st.Error = StatusTimeout, fmt.Sprintf("stopped after %s (--command-timeout)", c.o.CommandTimeout)
	case err != nil:
		st.Status, st.Error = StatusFailed, err.Error()
	case code == 1 && cmd.Name == "lsof" && st.Size == 0:
		st.Status, st.Note = StatusOK, "lsof found no TCP socket (exit status 1)"
	case code != 0:
		st.Status, st.Error = StatusFailed, fmt.Sprintf("exit status %d", code)
	default:
		st.Status = StatusOK
	}
	if header {
		f.Write([]byte("\n"))
	}
}

// readProcFile copies /proc/name into out, after a header when header is
// true; nulToSpace shows a cmdline's NULs as spaces.
func (c *collector) readProcFile(st *Step, name, out string, header, nulToSpace bool) {
	defer c.done(st)
	st.Read = "/proc/" + name
	st.Started = c.stamp()
	data, err := c.o.Proc.ReadFile(name)
	st.Finished = c.stamp()
	if err != nil {
		st.Status, st.Error = StatusFailed, err.Error()
		return
	}
	if nulToSpace {
		data = append(bytes.ReplaceAll(bytes.TrimRight(data, "\x00"), []byte{0}, []byte{' '}), '\n')
	}
	f, ok := c.stepOutput(st, out)
	if !ok {
		return
	}
	defer f.Close()
	if header {
		data = append(c.header(*st.Started, []string{"cat", st.Read}), append(data, '\n')...)
	}
	n, err := f.Write(data)
	st.Size = int64(n)
	if err != nil {
		st.Status, st.Error = StatusFailed, err.Error()
		return
	}
	st.Status = StatusOK
}

// listings takes one round of the socket listings and the processes' fd
// listings (round 1 at the start, 2 at the end), in parallel.
func (c *collector) listings(ctx context.Context, round int) {
	phase := phaseFirst
	if round > 1 {
		phase = phaseLast
	}
	var wg sync.WaitGroup
	run := func(st *Step, cmd Command, out string) {
		wg.Add(1)
		go func() { defer wg.Done(); c.command(ctx, st, cmd, out, true) }()
	}
	run(c.step(phase, Step{Name: "ss", Round: round}), Command{Name: "ss", Args: []string{"-tanpoei"}}, "ss-tanpoei.txt")
	run(c.step(phase, Step{Name: "lsof", Round: round}), Command{Name: "lsof", Args: []string{"-nP", "-iTCP"}}, "lsof-iTCP.txt")
	run(c.step(phase, Step{Name: "netstat", Round: round}), Command{Name: "netstat", Args: []string{"-antp"}}, "netstat-antp.txt")
	// ps in UTC: lstart prints local time without a zone. Its etimes
	// under the date line gives the start as well.
	ps := c.step(phase, Step{Name: "ps", Round: round, Note: "run with TZ=UTC"})
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.command(ctx, ps, Command{Name: "ps", Args: []string{"-eo", "pid,ppid,lstart,etimes,args"}, Env: []string{"TZ=UTC"}}, "ps-eo.txt", true)
		// BusyBox's ps (Alpine, distroless debug images) knows neither
		// lstart nor etimes and exits 1 ("bad -o argument 'lstart'"):
		// its etime under the date line dates the start. A BusyBox built
		// without FEATURE_PS_TIME (Debian's) has no etime either: the
		// names then, and /proc/PID/stat dates the processes collected.
		// A BusyBox built without CONFIG_DESKTOP has no -o at all
		// ("invalid option -- 'o'", exit 1): its plain ps still names
		// every process ("PID USER VSZ STAT COMMAND"), but neither
		// parents nor start times. Then, or when there is no ps at all,
		// /proc itself lists them (procPS).
		prev, parents := ps, true // parents: prev's listing has them
		for _, fall := range []struct {
			args    []string
			out     string
			parents bool
		}{
			{[]string{"-o", "pid,ppid,etime,args"}, "ps-o.txt", true},
			{[]string{"-o", "pid,ppid,args"}, "ps-o.txt", true},
			{nil, "ps.txt", false},
		} {
			if prev.Status != StatusFailed || prev.ExitCode == nil || *prev.ExitCode == 0 || ctx.Err() != nil {
				break
			}
			fb := c.stepAfter(prev, Step{Name: "ps", Round: round, Note: "BusyBox fallback: " + strings.Join(prev.Argv, " ") + " failed"})
			c.command(ctx, fb, Command{Name: "ps", Args: fall.args}, fall.out, true)
			prev, parents = fb, fall.parents
		}
		if ctx.Err() != nil || prev.Status == StatusOK && parents {
			return
		}
		why := strings.Join(prev.Argv, " ") + " " + string(prev.Status)
		if prev.Status == StatusOK {
			why = "ps has no -o: no parents or start times"
		}
		c.procListing(c.stepAfter(prev, Step{Name: "proc processes", Round: round, Note: "from /proc: " + why}), "ps-proc.txt")
	}()
	for _, t := range []string{"tcp", "tcp6"} {
		c.readProcFile(c.step(phase, Step{Name: "proc net " + t, Round: round}), "net/"+t, "proc-net-"+t+".txt", true, false)
	}
	if round == 1 {
		// btime: the boot time that dates /proc/PID/stat's starttime.
		c.readProcFile(c.step(phase, Step{Name: "proc stat"}), "stat", "proc-stat.txt", true, false)
	}
	for _, p := range c.m.Processes {
		pid := strconv.Itoa(p.PID)
		pre := "proc-" + pid + "-"
		if round == 1 {
			c.readProcFile(c.step(phase, Step{Name: "proc limits", PID: p.PID}), pid+"/limits", pre+"limits.txt", true, false)
			c.readProcFile(c.step(phase, Step{Name: "proc cmdline", PID: p.PID}), pid+"/cmdline", pre+"cmdline.txt", true, true)
			c.readProcFile(c.step(phase, Step{Name: "proc stat", PID: p.PID}), pid+"/stat", pre+"stat.txt", true, false)
			c.readProcFile(c.step(phase, Step{Name: "proc status", PID: p.PID}), pid+"/status", pre+"status.txt", false, false)
		}
		run(c.step(phase, Step{Name: "fd listing", PID: p.PID, Round: round}), Command{Name: "ls", Args: []string{"-l", "/proc/" + pid + "/fd"}}, pre+"fd.txt")
	}
	wg.Wait()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
