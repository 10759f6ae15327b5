package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/serve"
)

// AnalyzeCmd correlates captures and evidence into a report.
type AnalyzeCmd struct {
	Local   []string      `placeholder:"IP|CIDR" help:"Address or network whose endpoints are local (repeatable). Default: the local addresses the socket listings show, else the endpoints in CLOSE_WAIT."`
	MinIdle time.Duration `default:"0s" help:"Leave out capture sockets in CLOSE_WAIT for less than this at capture end (e.g. 1m)."`
	MaxFDs  int           `name:"max-fds" placeholder:"N" help:"The processes' open-files limit, when no /proc/PID/limits or ulimit -n output is given."`
	FailOn  string        `name:"fail-on" default:"none" enum:"none,warning,critical" help:"Exit with status 3 when a finding reaches this severity (${enum})."`
	Output  []string      `short:"o" placeholder:"FILE" help:"Write the report to FILE (repeatable); the format comes from the extension: .html, .md or .json. Without -o the report goes to stdout."`
	Format  string        `default:"md" enum:"md,html,json" help:"Format of the report on stdout, when no -o is given (${enum})."`
	Dump    []string      `placeholder:"PID=FILE" help:"Say which process a thread or goroutine dump was taken from, when the dump and its name do not (repeatable)."`
	Filter  string        `placeholder:"BPF" help:"Read only capture packets matching this tcpdump filter expression (needs a build with libpcap)."`
	Title   string        `help:"Title of the report." default:"CLOSE_WAIT analysis"`
	Paths   []string      `arg:"" name:"path" help:"Captures, socket listings and dumps, or folders holding them (walked); each file is recognised by its content."`
}

// Help is shown below the flags by --help.
func (c *AnalyzeCmd) Help() string {
	return `Every file is recognised by its content: pcap and pcapng captures (plain or
gzip), ss, lsof, netstat, /proc/net/tcp, /proc/PID/fd and limits, ulimit -n,
jstack and jcmd thread dumps, Go goroutine dumps and profiles. The report
says what was read, what was ignored and why.

Examples:
  cwforensics analyze incident/
  cwforensics analyze -o report.html -o report.md -o report.json incident/
  cwforensics analyze --local 10.0.0.5 --fail-on critical capture.pcap ss.txt jstack.txt`
}

// exitFinding is the exit status when --fail-on is reached.
const exitFinding = 3

// Validate runs while the command line is parsed: a missing path is a usage
// error.
func (c *AnalyzeCmd) Validate() error {
	for _, p := range c.Paths {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: no such file or directory", p)
		}
	}
	for _, o := range c.Output {
		if _, err := formatOf(o); err != nil {
			return err
		}
	}
	_, err := parseDumps(c.Dump)
	return err
}

// Run reads everything, builds the report and writes it.
func (c *AnalyzeCmd) Run(e *env) error {
	m, err := c.model(e.Log, watch{ctx: context.Background()})
	if err != nil {
		return err
	}
	if err := c.write(e.Stdout, m); err != nil {
		return err
	}
	if sev := failSeverity(c.FailOn); sev != report.SeverityUnknown {
		for _, f := range m.Findings {
			if f.Severity >= sev {
				return &exitError{code: exitFinding, err: fmt.Errorf("finding %s is %s (--fail-on %s)", f.ID, f.Severity, c.FailOn)}
			}
		}
	}
	return nil
}

// watch lets a caller other than the command line follow and stop a run of
// the pipeline: serve's adapter (serve_cmd.go) fills it, Run passes only a
// context that never ends.
type watch struct {
	ctx      context.Context      // reading stops with its error once it is done
	root     string               // Paths are relative to root, and cited so
	progress func(serve.Progress) // nil: no progress; called from several goroutines
}

// model reads everything and builds the report.
func (c *AnalyzeCmd) model(log *slog.Logger, wt watch) (*report.Model, error) {
	local, err := parsePrefixes(c.Local)
	if err != nil {
		return nil, err
	}
	dumpPIDs, _ := parseDumps(c.Dump)
	files, inputs, err := collect(wt.root, c.Paths)
	if err != nil {
		return nil, err
	}
	prog := newProgressCounter(wt.progress, inputs, files)
	var captures []string
	var evs []*dumps.Evidence
	for i := range inputs {
		in := &inputs[i]
		if in.Kind == "pcap" || in.Kind == "pcapng" {
			captures = append(captures, in.Path)
			continue
		}
		if in.Status != report.InputRead {
			continue
		}
		if err := wt.ctx.Err(); err != nil {
			return nil, fmt.Errorf("read evidence: %w", err)
		}
		ev, err := readEvidenceNamed(files[in.Path], in.Path)
		if err != nil {
			in.Status, in.Reason, in.Kind = report.InputFailed, err.Error(), ""
			continue
		}
		ev.File = in.Path
		evs = append(evs, ev)
		in.Records = evidenceRecords(ev)
	}
	dumps.JoinEvidence(evs)

	src := report.LocalSource{Method: report.LocalCapture, Note: "no --local and no socket listing: an endpoint in CLOSE_WAIT is taken as local, else the endpoint that accepted the connection"}
	switch {
	case len(local) > 0:
		src = report.LocalSource{Method: report.LocalFlag, Addrs: prefixStrings(local)}
	default:
		if ps, from := evidenceLocals(evs); len(ps) > 0 {
			local = ps
			src = report.LocalSource{Method: report.LocalEvidence, Addrs: prefixStrings(ps), Note: "local addresses of the sockets in " + strings.Join(from, ", ")}
		}
	}

	// The builder takes every finished connection as the captures are
	// read, keeping what the report needs of it (counts, the longest
	// transient CLOSE_WAITs): memory follows the connections open at once.
	in := report.BuildInput{
		Title: c.Title, Evidence: evs, Local: src,
		MinIdle: c.MinIdle, MaxFDs: c.MaxFDs, DumpPIDs: dumpPIDs,
	}
	builder := report.NewBuilder(in)
	var res *pcapstate.Result
	if len(captures) > 0 {
		paths := make([]string, len(captures))
		for i, p := range captures {
			paths[i] = files[p]
		}
		res, err = readCapturesNamed(paths, captures, prog.reader(wt.ctx), pcapstate.Options{Local: local, Filter: c.Filter, Retain: pcapstate.RetainAll, Keep: prog.keep(builder.Finished), Log: log})
		if err == nil {
			err = wt.ctx.Err()
		}
		if err != nil {
			return nil, err
		}
		for i := range inputs {
			for _, f := range res.Files {
				if f.Name == inputs[i].Path {
					inputs[i].Records = int(f.Packets)
				}
			}
		}
		prog.packets(res.Files)
	}
	builder.SetInputs(inputs)
	m, err := builder.Build(res)
	if err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	return m, nil
}

func failSeverity(s string) report.Severity {
	switch s {
	case "warning":
		return report.SeverityWarning
	case "critical":
		return report.SeverityCritical
	}
	return report.SeverityUnknown
}

// write writes the report to every -o file, or to stdout.
func (c *AnalyzeCmd) write(stdout io.Writer, m *report.Model) error {
	if len(c.Output) == 0 {
		return writeReport(stdout, c.Format, m)
	}
	for _, path := range c.Output {
		format, _ := formatOf(path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		bw := bufio.NewWriter(f)
		err = writeReport(bw, format, m)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write report %s: %w", path, err)
		}
	}
	return nil
}

func writeReport(w io.Writer, format string, m *report.Model) error {
	switch format {
	case "html":
		return report.WriteHTML(w, m)
	case "json":
		return report.WriteJSON(w, m)
	}
	return report.WriteMarkdown(w, m)
}

// formatOf is the report format for an output file, from its extension.
func formatOf(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return "html", nil
	case ".md", ".markdown":
		return "md", nil
	case ".json":
		return "json", nil
	}
	return "", fmt.Errorf("-o %s: unknown report format, want a .html, .md or .json file", path)
}

// parseDumps parses --dump PID=FILE values.
func parseDumps(vals []string) (map[string]int, error) {
	out := map[string]int{}
	for _, v := range vals {
		pid, file, ok := strings.Cut(v, "=")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || n <= 0 || file == "" {
			return nil, fmt.Errorf("--dump %q: want PID=FILE, e.g. --dump 1234=jstack.txt", v)
		}
		out[file] = n
	}
	return out, nil
}

// collect walks the paths and recognises each file by its content. It
// returns the path of every file by the name it is shown under, and the
// inputs for the report.
// With a root, the paths are relative to it and files are named relative
// to it.
func collect(root string, paths []string) (map[string]string, []report.Input, error) {
	files := map[string]string{}
	var inputs []report.Input
	add := func(path string) {
		name := filepath.ToSlash(path)
		if root != "" {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				rel = path
			}
			name = filepath.ToSlash(rel)
		}
		if _, dup := files[name]; !dup {
			files[name] = path
			inputs = append(inputs, classify(path, name))
		}
	}
	for _, p := range paths {
		if root != "" {
			p = filepath.Join(root, p)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", p, err)
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				add(path)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("walk %s: %w", p, err)
		}
	}
	slices.SortFunc(inputs, func(a, b report.Input) int { return strings.Compare(a.Path, b.Path) })
	return files, inputs, nil
}

// classify recognises one file: a capture, evidence, or neither (ignored,
// with the reason).
func classify(path, name string) report.Input {
	in := report.Input{Path: name}
	f, err := os.Open(path)
	if err != nil {
		in.Status, in.Reason = report.InputFailed, err.Error()
		return in
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		in.Status, in.Reason = report.InputFailed, err.Error()
		return in
	}
	head = head[:n]
	if kind, err := dumps.Sniff(head); err == nil {
		in.Kind, in.Status = kind.String(), report.InputRead
		return in
	}
	if pcapstate.Sniff(head) {
		if _, err := f.Seek(0, io.SeekStart); err == nil {
			format, err := pcapstate.Check(f)
			if err == nil {
				in.Kind, in.Status = format, report.InputRead
				return in
			}
			in.Status, in.Reason = report.InputIgnored, err.Error()
			return in
		}
	}
	in.Status, in.Reason = report.InputIgnored, "not a capture (pcap, pcapng) nor socket listing nor thread or goroutine dump"
	if n == 0 {
		in.Reason = "empty file"
	}
	return in
}

// readCapturesNamed reads captures from paths, naming them as names.
// wrap, when not nil, wraps each file's reader.
func readCapturesNamed(paths, names []string, wrap func(io.Reader) io.Reader, opts pcapstate.Options) (*pcapstate.Result, error) {
	inputs := make([]pcapstate.Input, 0, len(paths))
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("open capture: %w", err)
		}
		defer f.Close()
		var r io.Reader = f
		if wrap != nil {
			r = wrap(f)
		}
		inputs = append(inputs, pcapstate.Input{Name: names[i], R: r})
	}
	return pcapstate.Read(inputs, opts)
}

// evidenceRecords counts what one evidence file holds.
func evidenceRecords(ev *dumps.Evidence) int {
	n := len(ev.Sockets) + len(ev.FDs) + len(ev.Limits) + len(ev.SocketSummaries)
	for _, d := range ev.ThreadDumps {
		n += len(d.Threads)
	}
	for _, d := range ev.GoroutineDumps {
		n += d.Total()
	}
	for _, p := range ev.GoroutineProfiles {
		n += len(p.Groups)
	}
	return n
}

// evidenceLocals lists the local addresses of the TCP sockets the listings
// show, except wildcards, and the files they come from.
func evidenceLocals(evs []*dumps.Evidence) ([]netip.Prefix, []string) {
	seen := map[netip.Addr]bool{}
	var from []string
	for _, ev := range evs {
		used := false
		for _, s := range ev.Sockets {
			a := s.Local.Addr
			if s.Proto != dumps.ProtoTCP || !a.IsValid() || a.IsUnspecified() || !s.Remote.Addr.IsValid() || s.Remote.Addr.IsUnspecified() {
				continue
			}
			a = a.Unmap().WithZone("")
			if !seen[a] {
				seen[a] = true
			}
			used = true
		}
		if used {
			from = append(from, ev.File)
		}
	}
	var out []netip.Prefix
	for a := range seen {
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	if len(from) > 3 {
		from = append(from[:3], fmt.Sprintf("%d more", len(from)-3))
	}
	return out, from
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		if p.IsSingleIP() {
			out[i] = p.Addr().String()
		} else {
			out[i] = p.String()
		}
	}
	return out
}
