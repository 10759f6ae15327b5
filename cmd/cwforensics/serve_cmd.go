package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cwforensics/cwforensics/analysis"
	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/serve"
)

// ServeCmd runs the web service.
type ServeCmd struct {
	Listen    string        `env:"CWFORENSICS_SERVE_LISTEN" default:"127.0.0.1:8080" placeholder:"ADDR" help:"Address to listen on (${default}). Any address other than loopback needs --token-file."`
	Data      string        `env:"CWFORENSICS_SERVE_DATA" default:"cwforensics-data" placeholder:"DIR" help:"Data directory: the database, the uploads and the reports (${default})."`
	MaxUpload string        `env:"CWFORENSICS_SERVE_MAX_UPLOAD" name:"max-upload" default:"2G" placeholder:"SIZE" help:"Largest upload, all files together (${default}; k, M, G, T: binary units)."`
	Workers   int           `env:"CWFORENSICS_SERVE_WORKERS" default:"2" placeholder:"N" help:"Analyses run at once (${default})."`
	Timeout   time.Duration `env:"CWFORENSICS_SERVE_TIMEOUT" default:"30m" placeholder:"D" help:"Time limit of one analysis (${default}; 0: none)."`
	TokenFile string        `env:"CWFORENSICS_SERVE_TOKEN_FILE" name:"token-file" placeholder:"F" help:"File holding the token clients must send (Authorization: Bearer, or the login form)."`
	Retention time.Duration `env:"CWFORENSICS_SERVE_RETENTION" default:"0s" placeholder:"D" help:"Delete analyses older than this, e.g. 720h (0: keep them)."`
	Grace     time.Duration `env:"CWFORENSICS_SERVE_GRACE" default:"30s" placeholder:"D" help:"On SIGTERM, how long running analyses get to finish before they are requeued (${default})."`
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

// Run serves until SIGTERM or SIGINT (e.Ctx ends).
func (c *ServeCmd) Run(e *env) error {
	return c.serve(e.Ctx, e, nil)
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

// cliAnalyzer runs analysis.Analyze for the service, with the options
// analyze passes, so that the service serves the bytes analyze writes for
// the same files. Each file is a Source named as uploaded; reading it
// counts bytes for the progress (analysis stops it with the context).
type cliAnalyzer struct{ log *slog.Logger }

func (a cliAnalyzer) Analyze(ctx context.Context, dir string, files []string, opts serve.Options, progress func(serve.Progress)) (serve.Reports, error) {
	local, err := report.ParseLocal(opts.Local)
	if err != nil {
		return serve.Reports{}, fmt.Errorf("local %w", err)
	}
	pc := &progressCounter{fn: progress, base: serve.Progress{Files: len(files)}}
	srcs := make([]analysis.Source, len(files))
	for i, name := range files {
		path := filepath.Join(dir, name)
		size := int64(-1)
		if fi, err := os.Stat(path); err == nil {
			size = fi.Size()
			pc.base.BytesTotal += size
		}
		srcs[i] = analysis.Source{Name: name, Size: size, Open: func() (io.ReadCloser, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			return &countingReader{rc: f, n: &pc.read, onRead: pc.read1MiB}, nil
		}}
	}
	pc.send()
	m, err := analysis.Analyze(ctx, srcs, analysis.Options{Title: "CLOSE_WAIT analysis", Local: local, DumpPIDs: map[string]int{}, Log: a.log})
	if err != nil {
		return serve.Reports{}, err
	}
	pc.done(m)
	var out serve.Reports
	for _, f := range []struct {
		format string
		dst    *[]byte
	}{{"html", &out.HTML}, {"md", &out.Markdown}, {"json", &out.JSON}} {
		var buf bytes.Buffer
		if err := report.Write(&buf, f.format, m); err != nil {
			return serve.Reports{}, err
		}
		*f.dst = buf.Bytes()
	}
	return out, nil
}

// progressCounter adds up the bytes read of every file.
type progressCounter struct {
	fn   func(serve.Progress)
	base serve.Progress
	read atomic.Int64
	sent atomic.Int64 // bytes read when progress was last sent
}

func (pc *progressCounter) send() {
	p := pc.base
	p.BytesRead = pc.read.Load()
	pc.fn(p)
}

// read1MiB sends the progress each time another MiB has been read.
func (pc *progressCounter) read1MiB(total int64) {
	if total-pc.sent.Load() >= 1<<20 {
		pc.sent.Store(total)
		pc.send()
	}
}

// done sends what the report says was read: the files recognised, the
// packets and connections of the captures.
func (pc *progressCounter) done(m *report.Model) {
	for _, in := range m.Inputs {
		if in.Usable() {
			pc.base.Recognised++
		}
		if in.Kind == "pcap" || in.Kind == "pcapng" {
			pc.base.Packets += int64(in.Records)
		}
	}
	pc.base.Connections = int64(m.Summary.Connections)
	pc.send()
}
