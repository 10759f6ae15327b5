package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cwforensics/cwforensics/analysis"
	"github.com/cwforensics/cwforensics/report"
)

// analyzeGCPercent is the garbage collector's target for analyze.
const analyzeGCPercent = 50

// AnalyzeCmd correlates captures and evidence into a report.
type AnalyzeCmd struct {
	Local     []string      `placeholder:"IP|CIDR" env:"CWFORENSICS_ANALYZE_LOCAL,CWFORENSICS_LOCAL" help:"Address or network whose endpoints are local (repeatable). Default: the local addresses the socket listings show, else the endpoints in CLOSE_WAIT."`
	MinIdle   time.Duration `default:"0s" env:"CWFORENSICS_ANALYZE_MIN_IDLE,CWFORENSICS_MIN_IDLE" help:"Leave out capture sockets in CLOSE_WAIT for less than this at capture end (e.g. 1m)."`
	MaxFDs    int           `name:"max-fds" placeholder:"N" env:"CWFORENSICS_ANALYZE_MAX_FDS" help:"The processes' open-files limit, when no /proc/PID/limits or ulimit -n output is given."`
	FailOn    string        `name:"fail-on" default:"none" enum:"none,warning,critical" env:"CWFORENSICS_ANALYZE_FAIL_ON" help:"Exit with status 3 when a finding reaches this severity (${enum}); with status 1 when an input could not be read."`
	Output    []string      `short:"o" placeholder:"FILE" env:"CWFORENSICS_ANALYZE_OUTPUT" help:"Write the report to FILE (repeatable), atomically; the format comes from the extension: .html, .md or .json. Without -o the report goes to stdout."`
	Format    string        `default:"md" enum:"md,html,json" env:"CWFORENSICS_ANALYZE_FORMAT" help:"Format of the report on stdout, when no -o is given (${enum})."`
	Dump      []string      `placeholder:"PID=FILE" env:"CWFORENSICS_ANALYZE_DUMP" help:"Say which process a thread or goroutine dump was taken from, when the dump and its name do not (repeatable)."`
	Filter    string        `placeholder:"EXPR" env:"CWFORENSICS_ANALYZE_FILTER,CWFORENSICS_FILTER" help:"Read only capture packets matching this tcpdump filter expression, e.g. 'tcp port 8080 and host 10.0.0.5' (the subset docs/analyze.md lists; a build with libpcap, make build TAGS=pcap, has the whole language)."`
	Title     string        `env:"CWFORENSICS_ANALYZE_TITLE" help:"Title of the report." default:"CLOSE_WAIT analysis"`
	Progress  string        `default:"auto" enum:"auto,always,never" env:"CWFORENSICS_ANALYZE_PROGRESS,CWFORENSICS_PROGRESS" help:"Show a progress line on stderr while reading: auto, when stderr is a terminal and reading takes more than a second; always; never (${enum})."`
	Jobs      int           `default:"0" placeholder:"N" env:"CWFORENSICS_ANALYZE_JOBS,CWFORENSICS_JOBS" help:"With several capture files (rotated captures), decode this many at once, each on its own core into a temporary spool read back in time order (same result): 0 uses every core but one when there are several files and 4 cores or more, 1 reads them in one pass."`
	StdinName string        `name:"stdin-name" placeholder:"NAME" env:"CWFORENSICS_ANALYZE_STDIN_NAME" help:"Name standard input (-) NAME in positions and the report, instead of stdin: the name of what is piped in (host-3.pcap)."`
	Paths     []string      `arg:"" name:"path" help:"Captures, socket listings and dumps, or folders holding them (walked, links followed); - is standard input. Each file is recognised by its content."`
}

// Help is shown below the flags by --help.
func (c *AnalyzeCmd) Help() string {
	return `Every input is recognised by its content, read once (pipes, process
substitution and - for standard input work as files do), gzip-decompressed
and UTF-16 transcoded when it is: pcap and pcapng captures, ss, lsof,
netstat, /proc/net/tcp, /proc/PID/fd and limits, ulimit -n, jstack and jcmd
thread dumps, Go goroutine dumps and profiles. The report lists every input
with its status: read, read-with-warnings, ignored or failed, and why.

Examples:
  cwforensics analyze incident/
  cwforensics analyze -o report.html -o report.md -o report.json incident/
  cwforensics analyze --local 10.0.0.5 --fail-on critical capture.pcap ss.txt jstack.txt
  ssh host ss -tanp | cwforensics analyze capture.pcap.gz -`
}

// exitFinding is the exit status when --fail-on is reached.
const exitFinding = 3

// Validate runs while the command line is parsed: a bad -o or --dump is a
// usage error. Paths are looked at by Run: a missing one is an error (1).
func (c *AnalyzeCmd) Validate() error {
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
	// The report's builder keeps a summary of every socket, which the
	// collector rescans at each cycle: collecting when the heap has grown
	// by half, not doubled, keeps the peak lower at about the same CPU
	// (docs/performance.md). A GOGC the user set wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(analyzeGCPercent))
	}
	local, err := report.ParseLocal(c.Local)
	if err != nil {
		return fmt.Errorf("--local %w", err)
	}
	dumpPIDs, _ := parseDumps(c.Dump)
	srcs, err := analysis.Walk(c.Paths, analysis.WalkOptions{Stdin: e.Stdin, StdinName: c.StdinName})
	if err != nil {
		return err
	}
	if err := checkOutputs(c.Output, srcs); err != nil {
		return err
	}
	var read meter
	srcs = countSources(srcs, &read)
	stop := startProgress(e, c.Progress, &read)
	m, err := analysis.Analyze(e.Ctx, srcs, analysis.Options{
		Title: c.Title, Local: local, MinIdle: c.MinIdle, MaxFDs: c.MaxFDs,
		DumpPIDs: dumpPIDs, Filter: c.Filter, Log: e.Log, Packets: &read.packets, Jobs: c.Jobs,
	})
	stop()
	if err != nil {
		return err
	}
	var lost []warning
	for _, in := range m.Inputs {
		if in.Lost() {
			lost = append(lost, warning{in.Path, in.Status.String() + ": " + in.Reason})
		}
	}
	warn(e.Stderr, lost)
	if err := c.write(e, m); err != nil {
		return err
	}
	sev := failSeverity(c.FailOn)
	if sev == report.SeverityUnknown {
		return nil
	}
	for _, f := range m.Findings {
		if f.Severity >= sev {
			return &exitError{code: exitFinding, err: fmt.Errorf("finding %s is %s (--fail-on %s)", f.ID, f.Severity, c.FailOn)}
		}
	}
	// No finding reached the severity; that is a pass only if every
	// input that may hold evidence was read.
	if len(lost) > 0 {
		return fmt.Errorf("--fail-on %s: %s could not be read, the report cannot vouch for them", c.FailOn, plural(len(lost), "input"))
	}
	return nil
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
func (c *AnalyzeCmd) write(e *env, m *report.Model) error {
	if len(c.Output) == 0 {
		return report.Write(e.Stdout, c.Format, m)
	}
	// The formats are rendered side by side: the model is only read, and
	// the JSON of a large report takes longer than the rest together.
	errs := make([]error, len(c.Output))
	var wg sync.WaitGroup
	for i, path := range c.Output {
		wg.Add(1)
		go func() {
			defer wg.Done()
			format, _ := formatOf(path)
			if err := writeAtomic(path, func(w *bufioWriter) error { return report.Write(w, format, m) }); err != nil {
				errs[i] = fmt.Errorf("write report %s: %w", path, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
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
