// Command cwforensics analyses TCP connections stuck in CLOSE_WAIT after an
// incident: packet captures, saved socket listings and thread or goroutine
// dumps in, the connections, the processes and the code that hold them out.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Globals are the flags every command shares.
type Globals struct {
	LogLevel string `default:"warn" enum:"debug,info,warn,error" env:"CWFORENSICS_LOG_LEVEL" help:"Log level for diagnostics on stderr (${enum})."`
	LogJSON  bool   `env:"CWFORENSICS_LOG_JSON" help:"Write diagnostics on stderr as JSON lines."`
}

// CLI is the command line: one field per command, each in its own <name>_cmd.go.
type CLI struct {
	Globals

	Version kong.VersionFlag `help:"Print the version and exit."`

	Analyze  AnalyzeCmd  `cmd:"" help:"Correlate captures, socket listings and dumps into a report of the root cause."`
	Conns    ConnsCmd    `cmd:"" help:"List the TCP connections in packet captures and their states at capture end."`
	Partial  PartialCmd  `cmd:"" help:"Write the partial state of a slice of the captures, for conns and analyze to merge with the others."`
	Evidence EvidenceCmd `cmd:"" help:"Parse saved socket listings, thread and goroutine dumps, runtime reports and logs, and print the records."`
	Serve    ServeCmd    `cmd:"" help:"Run a web service where a team uploads incident material and gets the report."`
	Collect  CollectCmd  `cmd:"" help:"Save the evidence of an incident as it happens (Linux, as root), as the folder analyze reads."`
}

// env is what every command's Run gets: what to read for "-", where to
// write and where to log.
type env struct {
	Ctx    context.Context
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Log    *slog.Logger
}

// exitError carries an exit status other than 1 out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	// Ctrl-C or SIGTERM stops the reading: no report is written (a report
	// being written is finished, atomically). A second one kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	os.Exit(runContext(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// exitCalled is what kong's exit hook panics with, so run can return the code
// instead of the process exiting from inside kong.
type exitCalled struct{ code int }

// run parses args, runs the command and returns the process exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdin, stdout, stderr)
}

// runContext is run whose reading stops when ctx is done.
func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var cli CLI
	defer func() {
		if r := recover(); r != nil {
			ec, ok := r.(exitCalled)
			if !ok {
				panic(r)
			}
			code = ec.code
		}
	}()
	parser, err := kong.New(&cli,
		kong.Name("cwforensics"),
		kong.Description("Post-incident analysis of TCP connections stuck in CLOSE_WAIT."),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Vars{"version": version},
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { panic(exitCalled{c}) }),
	)
	if err != nil {
		fmt.Fprintf(stderr, "cwforensics: %v\n", err)
		return exitFailure
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "cwforensics: %s\n", escapeCell(err.Error()))
		fmt.Fprintln(stderr, "Run 'cwforensics --help' for usage.")
		return exitUsage
	}
	log := newLogger(stderr, cli.Globals)
	e := &env{Ctx: ctx, Stdin: stdin, Stdout: stdout, Stderr: stderr, Log: log}
	if err := kctx.Run(e); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			err = errors.New("interrupted: nothing written")
		}
		fmt.Fprintf(stderr, "cwforensics: %s\n", escapeCell(err.Error()))
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return exitFailure
	}
	return exitOK
}

func newLogger(w io.Writer, g Globals) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.LogLevel)); err != nil {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if g.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// warning is one line warn writes: where, and what (grouped by).
type warning struct{ pos, msg string }

// warn writes warnings to stderr, one a line, escaped as table cells are
// (a file name or evidence never reaches the terminal raw), and folds the
// warnings with the same message into the first: "pos: msg (and 41 more
// like it)".
func warn(w io.Writer, ws []warning) {
	type group struct {
		first warning
		n     int
	}
	var order []string
	groups := map[string]*group{}
	for _, x := range ws {
		g := groups[x.msg]
		if g == nil {
			g = &group{first: x}
			groups[x.msg] = g
			order = append(order, x.msg)
		}
		g.n++
	}
	for _, k := range order {
		g := groups[k]
		line := "warning: " + escapeCell(g.first.msg)
		if g.first.pos != "" {
			line = "warning: " + escapeCell(g.first.pos) + ": " + escapeCell(g.first.msg)
		}
		if g.n > 1 {
			line += fmt.Sprintf(" (and %d more like it)", g.n-1)
		}
		fmt.Fprintln(w, line)
	}
}
