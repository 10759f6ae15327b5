package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/serve"
)

// ServeCmd runs the web service.
type ServeCmd struct {
	Listen    string        `default:"127.0.0.1:8080" placeholder:"ADDR" help:"Address to listen on (${default}). Any address other than loopback needs --token-file."`
	Data      string        `default:"cwforensics-data" placeholder:"DIR" help:"Data directory: the database, the uploads and the reports (${default})."`
	MaxUpload string        `name:"max-upload" default:"2G" placeholder:"SIZE" help:"Largest upload, all files together (${default}; k, M, G, T: binary units)."`
	Workers   int           `default:"2" placeholder:"N" help:"Analyses run at once (${default})."`
	Timeout   time.Duration `default:"30m" placeholder:"D" help:"Time limit of one analysis (${default}; 0: none)."`
	TokenFile string        `name:"token-file" placeholder:"F" help:"File holding the token clients must send (Authorization: Bearer, or the login form)."`
	Retention time.Duration `default:"0s" placeholder:"D" help:"Delete analyses older than this, e.g. 720h (0: keep them)."`
	Grace     time.Duration `default:"30s" placeholder:"D" help:"On SIGTERM, how long running analyses get to finish before they are requeued (${default})."`
}

// Help is shown below the flags by --help.
func (c *ServeCmd) Help() string {
	return `A team uploads incident material in the browser or with curl and gets the
report analyze would write. See docs/serve.md.

Examples:
  cwforensics serve --data /var/lib/cwforensics
  cwforensics serve --listen 0.0.0.0:8080 --token-file /etc/cwforensics/token
  curl -F file=@capture.pcap -F file=@ss.txt http://127.0.0.1:8080/api/analyses`
}

// Run serves until SIGTERM or SIGINT.
func (c *ServeCmd) Run(e *env) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return c.serve(ctx, e, nil)
}

// serve runs the service until ctx is done; ready, when not nil, gets the
// address listened on.
func (c *ServeCmd) serve(ctx context.Context, e *env, ready func(addr string)) error {
	maxUpload, err := serve.ParseSize(c.MaxUpload)
	if err != nil {
		return fmt.Errorf("--max-upload: %w", err)
	}
	token := ""
	if c.TokenFile != "" {
		raw, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return fmt.Errorf("read --token-file: %w", err)
		}
		token = strings.TrimSpace(string(raw))
		if len(token) < 16 {
			return fmt.Errorf("--token-file %s: the token must be at least 16 characters", c.TokenFile)
		}
	}
	loopback, err := isLoopback(c.Listen)
	if err != nil {
		return err
	}
	if !loopback && token == "" {
		return fmt.Errorf("--listen %s is not a loopback address: give --token-file so that only your team can use it", c.Listen)
	}
	svc, err := serve.New(serve.Config{
		Dir: c.Data, Analyzer: cliAnalyzer{log: e.Log}, Now: time.Now, Log: e.Log,
		MaxUpload: maxUpload, Workers: c.Workers, Timeout: c.Timeout, Retention: c.Retention,
		Token: token, LocalOnly: token == "",
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		_ = svc.Shutdown(context.Background())
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: nil, MaxHeaderBytes: 64 << 10}
	e.Log.Info("serving", "addr", ln.Addr().String(), "data", c.Data, "token", token != "")
	fmt.Fprintf(e.Stderr, "cwforensics: serving on http://%s (data in %s)\n", ln.Addr(), c.Data)
	if ready != nil {
		ready(ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if c.Retention > 0 {
		go sweep(ctx, svc, e, c.Retention)
	}
	select {
	case err := <-served:
		_ = svc.Shutdown(context.Background())
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	e.Log.Info("shutting down", "grace", c.Grace)
	grace, cancel := context.WithTimeout(context.Background(), c.Grace)
	defer cancel()
	// The service first: uploads under way fail and answer 503, then the
	// server waits for the responses; analyses get the grace period.
	errc := make(chan error, 1)
	go func() { errc <- svc.Shutdown(grace) }()
	if err := srv.Shutdown(grace); err != nil {
		_ = srv.Close()
	}
	return <-errc
}

// sweep applies the retention now and then.
func sweep(ctx context.Context, svc *serve.Service, e *env, retention time.Duration) {
	every := min(max(retention/10, time.Minute), time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := svc.Sweep(); err != nil {
			e.Log.Warn("retention", "err", err)
		} else if n > 0 {
			e.Log.Info("retention", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// isLoopback says whether a listen address is on loopback only.
func isLoopback(listen string) (bool, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false, fmt.Errorf("--listen %s: want HOST:PORT: %w", listen, err)
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback(), nil
}

// cliAnalyzer runs analyze's pipeline for the service, so that the service
// serves the bytes analyze writes for the same files. It is the one place
// to switch when the analysis becomes a library entry point.
type cliAnalyzer struct{ log *slog.Logger }

func (a cliAnalyzer) Analyze(ctx context.Context, dir string, files []string, opts serve.Options, progress func(serve.Progress)) (serve.Reports, error) {
	c := AnalyzeCmd{Local: opts.Local, Paths: files, Title: "CLOSE_WAIT analysis", FailOn: "none", Format: "md"}
	m, err := c.model(a.log, watch{ctx: ctx, root: dir, progress: progress})
	if err != nil {
		return serve.Reports{}, err
	}
	var out serve.Reports
	for _, f := range []struct {
		format string
		dst    *[]byte
	}{{"html", &out.HTML}, {"md", &out.Markdown}, {"json", &out.JSON}} {
		var buf bytes.Buffer
		if err := writeReport(&buf, f.format, m); err != nil {
			return serve.Reports{}, err
		}
		*f.dst = buf.Bytes()
	}
	return out, nil
}

// progressCounter follows a run of the pipeline for watch.progress.
type progressCounter struct {
	fn    func(serve.Progress)
	base  serve.Progress
	read  atomic.Int64
	sent  atomic.Int64 // bytes read when progress was last sent
	conns atomic.Int64
}

func newProgressCounter(fn func(serve.Progress), inputs []report.Input, files map[string]string) *progressCounter {
	pc := &progressCounter{fn: fn}
	if fn == nil {
		return pc
	}
	for _, in := range inputs {
		if in.Status == report.InputRead {
			pc.base.Recognised++
		}
		if in.Kind == "pcap" || in.Kind == "pcapng" {
			if fi, err := os.Stat(files[in.Path]); err == nil {
				pc.base.BytesTotal += fi.Size()
			}
		}
	}
	pc.send()
	return pc
}

func (pc *progressCounter) send() {
	p := pc.base
	p.BytesRead, p.Connections = pc.read.Load(), pc.conns.Load()
	pc.fn(p)
}

// reader counts the bytes read and stops reading once ctx is done; nil
// (no wrapping) for the command line.
func (pc *progressCounter) reader(ctx context.Context) func(io.Reader) io.Reader {
	if pc.fn == nil && ctx.Done() == nil {
		return nil
	}
	return func(r io.Reader) io.Reader { return &countingReader{r: r, ctx: ctx, pc: pc} }
}

// keep counts the finished connections on their way to k.
func (pc *progressCounter) keep(k func(*pcapstate.Conn) bool) func(*pcapstate.Conn) bool {
	if pc.fn == nil {
		return k
	}
	return func(c *pcapstate.Conn) bool {
		pc.conns.Add(1)
		return k(c)
	}
}

// packets sends the final counts once the captures are read.
func (pc *progressCounter) packets(files []pcapstate.FileStats) {
	if pc.fn == nil {
		return
	}
	for _, f := range files {
		pc.base.Packets += int64(f.Packets)
	}
	pc.send()
}

type countingReader struct {
	r   io.Reader
	ctx context.Context
	pc  *progressCounter
}

var errStopped = errors.New("analysis stopped")

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, fmt.Errorf("%w: %w", errStopped, err)
	}
	n, err := c.r.Read(p)
	total := c.pc.read.Add(int64(n))
	if c.pc.fn != nil && total-c.pc.sent.Load() >= 1<<20 {
		c.pc.sent.Store(total)
		c.pc.send()
	}
	return n, err
}
