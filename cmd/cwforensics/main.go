// Command cwforensics analyses TCP connections stuck in CLOSE_WAIT after an
// incident: packet captures, saved socket listings and thread or goroutine
// dumps in, the connections, the processes and the code that hold them out.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/alecthomas/kong"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Globals are the flags every command shares.
type Globals struct {
	LogLevel string `default:"warn" enum:"debug,info,warn,error" help:"Log level for diagnostics on stderr (${enum})."`
	LogJSON  bool   `help:"Write diagnostics on stderr as JSON lines."`
}

// CLI is the command line: one field per command, each in its own <name>_cmd.go.
type CLI struct {
	Globals

	Version kong.VersionFlag `env:"-" help:"Print the version and exit."`

	Analyze  AnalyzeCmd  `cmd:"" help:"Correlate captures, socket listings and dumps into a report of the root cause."`
	Conns    ConnsCmd    `cmd:"" help:"List the TCP connections in packet captures and their states at capture end."`
	Evidence EvidenceCmd `cmd:"" help:"Parse saved socket listings and thread or goroutine dumps and print the records."`
	Collect  CollectCmd  `cmd:"" help:"Save the evidence of an incident as it happens (Linux, as root), as the folder analyze reads."`
}

// env is what every command's Run gets: where to write and where to log.
type env struct {
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
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exitCalled is what kong's exit hook panics with, so run can return the code
// instead of the process exiting from inside kong.
type exitCalled struct{ code int }

// run parses args, runs the command and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) (code int) {
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
		kong.DefaultEnvars("CWFORENSICS"),
		kong.Vars{"version": version},
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { panic(exitCalled{c}) }),
	)
	if err != nil {
		fmt.Fprintf(stderr, "cwforensics: %v\n", err)
		return exitFailure
	}
	ctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "cwforensics: %v\n", err)
		fmt.Fprintln(stderr, "Run 'cwforensics --help' for usage.")
		return exitUsage
	}
	log := newLogger(stderr, cli.Globals)
	if err := ctx.Run(&env{Stdout: stdout, Stderr: stderr, Log: log}); err != nil {
		fmt.Fprintf(stderr, "cwforensics: %v\n", err)
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

// existingFiles checks that every path names a readable regular file. It
// stands in for kong's existingfile type, which makes paths absolute: the
// paths must stay as the user typed them, because positions in the output
// cite them.
func existingFiles(paths []string) error {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: no such file", p)
		}
		if fi.IsDir() {
			return fmt.Errorf("%s: is a directory, not a file", p)
		}
	}
	return nil
}
