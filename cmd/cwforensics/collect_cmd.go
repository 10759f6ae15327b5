package main

import (
	"fmt"
	"os"
	"time"

	// analyze_cmd.go has a func collect: the package goes by another name here.
	saver "github.com/cwforensics/cwforensics/collect"
)

// CollectCmd saves the evidence of an incident as it happens.
type CollectCmd struct {
	PID              []int         `name:"pid" placeholder:"PID" env:"CWFORENSICS_COLLECT_PID" help:"Process to save (repeatable). Default: the processes owning sockets on --port, else those owning CLOSE_WAIT sockets."`
	Port             []int         `name:"port" placeholder:"N" env:"CWFORENSICS_COLLECT_PORT" help:"TCP port to capture and to find processes by (repeatable). Default: every TCP packet."`
	Duration         time.Duration `default:"60s" env:"CWFORENSICS_COLLECT_DURATION" help:"How long the packet capture runs (0: no capture)."`
	MaxCapture       string        `name:"max-capture-size" default:"200MB" placeholder:"SIZE" env:"CWFORENSICS_COLLECT_MAX_CAPTURE_SIZE" help:"Stop the capture before it passes this size (B, KB, MB, GB: powers of 1000; KiB, MiB, GiB)."`
	Interface        string        `default:"any" env:"CWFORENSICS_COLLECT_INTERFACE" help:"Interface to capture on (tcpdump -i)."`
	PprofURL         string        `name:"pprof-url" placeholder:"URL" env:"CWFORENSICS_COLLECT_PPROF_URL" help:"Go: the pprof address of the process (http://127.0.0.1:6060 or .../debug/pprof/goroutine); its goroutine dumps are fetched."`
	AllowRemotePprof bool          `name:"allow-remote-pprof" env:"CWFORENSICS_COLLECT_ALLOW_REMOTE_PPROF" help:"Allow a --pprof-url whose host is not loopback."`
	Dumps            int           `default:"3" env:"CWFORENSICS_COLLECT_DUMPS" help:"Thread or goroutine dumps per process."`
	DumpInterval     time.Duration `default:"5s" env:"CWFORENSICS_COLLECT_DUMP_INTERVAL" help:"Time between two dumps."`
	CommandTimeout   time.Duration `default:"30s" env:"CWFORENSICS_COLLECT_COMMAND_TIMEOUT" help:"Time limit of each command (the capture has --duration)."`
	Force            bool          `env:"CWFORENSICS_COLLECT_FORCE" help:"Write into an output folder that is not empty (files of the same names are replaced)."`
	Output           string        `short:"o" required:"" placeholder:"DIR" env:"CWFORENSICS_COLLECT_OUTPUT" help:"Folder to save into; made when missing; refused when not empty unless --force."`
}

// Help is shown below the flags by --help.
func (c *CollectCmd) Help() string {
	return `Run as root on the machine of the incident (Linux). Saves, into DIR, the folder
that 'cwforensics analyze DIR' reads: a bounded tcpdump capture, ss, lsof,
netstat and /proc/net/tcp listings at the start and at the end, each chosen
process's /proc files and fd listing, and its thread or goroutine dumps
(jcmd for JVMs, py-spy for Python, --pprof-url for Go, a diagnostic report
for Node.js started with --report-on-signal). manifest.json records every
command, its exit status and output. Nothing is sent anywhere.

Examples:
  cwforensics collect --port 8080 -o incident/
  cwforensics collect --pid 4242 --duration 2m --dumps 3 -o incident/
  cwforensics collect --port 6060 --pprof-url http://127.0.0.1:6060 -o incident/`
}

// Validate runs while the command line is parsed.
func (c *CollectCmd) Validate() error {
	if _, err := saver.ParseSize(c.MaxCapture); err != nil {
		return fmt.Errorf("--max-capture-size: %w", err)
	}
	o := c.options()
	o.Runner, o.Proc, o.Now = saver.Exec{}, saver.OSProc{}, time.Now
	return o.Check()
}

func (c *CollectCmd) options() saver.Options {
	size, _ := saver.ParseSize(c.MaxCapture)
	return saver.Options{
		Dir: c.Output, Force: c.Force, PIDs: c.PID, Ports: c.Port,
		Duration: c.Duration, MaxCaptureSize: size, Interface: c.Interface,
		PprofURL: c.PprofURL, AllowRemotePprof: c.AllowRemotePprof,
		Dumps: c.Dumps, DumpInterval: c.DumpInterval, CommandTimeout: c.CommandTimeout,
	}
}

// Run collects; an interrupt (Ctrl-C, SIGTERM: main's context) stops the
// capture and the commands and still writes what was saved.
func (c *CollectCmd) Run(e *env) error {
	o := c.options()
	o.Runner, o.Proc, o.Now, o.Log = saver.Exec{}, saver.OSProc{}, time.Now, e.Log
	o.UID = uint32(os.Geteuid())
	o.Host, _ = os.Hostname()
	if isTerminal(e.Stderr) {
		o.Progress = e.Stderr
	}
	m, err := saver.Run(e.Ctx, o)
	if err != nil {
		return fmt.Errorf("collect: %w", err)
	}
	failed := 0
	for _, s := range m.Steps {
		if s.Status == saver.StatusFailed || s.Status == saver.StatusTimeout {
			failed++
		}
	}
	e.Log.Info("collected", "dir", c.Output, "files", len(m.Files), "steps", len(m.Steps), "failed", failed)
	if o.Progress != nil {
		fmt.Fprintf(e.Stderr, "collect: %d files in %s (%d steps, %d failed; see %s)\n", len(m.Files), c.Output, len(m.Steps), failed, saver.ManifestName)
	}
	return nil
}

// isTerminal reports whether w is a terminal (a character device: also
// /dev/null, where progress lines do no harm).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
