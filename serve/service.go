// Package serve is cwforensics as a web service: a team uploads incident
// material, a bounded pool of workers analyses it, and the service keeps the
// uploads, their SHA-256 and the reports (HTML, Markdown, JSON) on disk with
// the metadata and the queue in an embedded database (bbolt) that survives
// restarts. The analysis itself is injected (Analyzer): the service adds
// no way of reading evidence of its own.
package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cwforensics/cwforensics/report"
)

// Options are the analysis options a client can set per upload.
type Options struct {
	Local []string // addresses or networks whose endpoints are local, as analyze --local
}

// Progress is how far an analysis has come.
type Progress struct {
	Files       int   `json:"files"`            // files uploaded
	Recognised  int   `json:"files_recognised"` // files read as a capture or evidence; known at the end
	BytesTotal  int64 `json:"bytes_total"`      // bytes of all the files
	BytesRead   int64 `json:"bytes_read"`       // bytes read so far
	Connections int64 `json:"connections"`      // TCP connections in the captures; known at the end
	Packets     int64 `json:"packets"`          // packets in the captures; known at the end
}

// Reports are one analysis's reports, byte for byte what analyze writes
// for the same files.
type Reports struct {
	HTML, Markdown, JSON []byte
}

// Analyzer runs the analysis on the files (names relative to dir, cited
// so in the reports). It calls progress now and then from one goroutine and
// stops early, with an error, when ctx is done.
type Analyzer interface {
	Analyze(ctx context.Context, dir string, files []string, opts Options, progress func(Progress)) (Reports, error)
}

// Config configures a Service.
type Config struct {
	Dir       string           // data directory: the database and the files
	Analyzer  Analyzer         // required
	Now       func() time.Time // the clock; required
	Log       *slog.Logger     // nil discards
	MaxUpload int64            // bytes per upload, all files together; 0: 1 GiB
	Workers   int              // analyses at once; 0: 1
	Timeout   time.Duration    // per analysis; 0: none
	Retention time.Duration    // analyses older than this are deleted by Sweep; 0: kept
	Token     string           // when set, every request needs it (bearer header or session cookie)
	// LocalOnly refuses requests whose Host is not a loopback name or
	// address: without a token, this stops DNS rebinding.
	LocalOnly bool
}

// Service is the running service: storage, queue and workers. Its Handler
// serves the pages and the API.
type Service struct {
	cfg   Config
	st    *store
	log   *slog.Logger
	csrfK []byte // signs nothing secret: double-submit tokens are random; this keys the session cookie

	mu       sync.Mutex
	queue    []string            // ids waiting, oldest first
	progress map[string]Progress // of running analyses
	wake     chan struct{}       // a job was queued
	stopping bool
	closed   bool           // the database is closing: requests get 503
	inflight sync.WaitGroup // requests being served

	uploads    context.Context // cancelled at shutdown: uploads under way fail
	stopUpload context.CancelFunc
	work       context.Context // cancelled when the grace period ends: running analyses stop
	stopWork   context.CancelFunc
	workers    sync.WaitGroup
}

// New opens the data directory, requeues analyses a crash or a restart
// interrupted and starts the workers.
func New(cfg Config) (*Service, error) {
	if cfg.Analyzer == nil || cfg.Now == nil {
		return nil, errors.New("serve: Config needs an Analyzer and a clock")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 1 << 30
	}
	cfg.Workers = max(cfg.Workers, 1)
	st, err := openStore(cfg.Dir)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, st: st, log: cfg.Log, progress: map[string]Progress{}, wake: make(chan struct{}, 1)}
	s.csrfK = sessionKey(cfg.Token)
	s.uploads, s.stopUpload = context.WithCancel(context.Background())
	s.work, s.stopWork = context.WithCancel(context.Background())
	if err := s.requeue(); err != nil {
		st.close()
		return nil, err
	}
	for range cfg.Workers {
		s.workers.Add(1)
		go s.worker()
	}
	return s, nil
}

// requeue puts every analysis not done nor failed back in the queue, in
// the order they were uploaded.
func (s *Service) requeue() error {
	all, err := s.st.list("")
	if err != nil {
		return err
	}
	for i := len(all) - 1; i >= 0; i-- {
		a := all[i]
		if a.Status != StatusQueued && a.Status != StatusRunning {
			continue
		}
		if a.Status == StatusRunning {
			if _, err := s.st.update(a.ID, func(a *Analysis) error { a.Status = StatusQueued; return nil }); err != nil {
				return err
			}
			s.log.Info("requeued interrupted analysis", "id", a.ID)
		}
		s.queue = append(s.queue, a.ID)
	}
	return nil
}

func (s *Service) enqueue(id string) {
	s.mu.Lock()
	s.queue = append(s.queue, id)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest queued id; "" when stopping.
func (s *Service) next() string {
	for {
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			return ""
		}
		if len(s.queue) > 0 {
			id := s.queue[0]
			s.queue = s.queue[1:]
			more := len(s.queue) > 0
			s.mu.Unlock()
			if more { // let another worker take the next one
				select {
				case s.wake <- struct{}{}:
				default:
				}
			}
			return id
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-s.work.Done():
			return ""
		case <-s.uploads.Done(): // shutdown began: take no new job
			return ""
		}
	}
}

func (s *Service) worker() {
	defer s.workers.Done()
	for {
		id := s.next()
		if id == "" {
			return
		}
		s.run(id)
	}
}

// run analyses one upload, or reuses the reports of an identical one.
func (s *Service) run(id string) {
	a, err := s.st.update(id, func(a *Analysis) error {
		a.Status, a.Started, a.Error = StatusRunning, s.cfg.Now(), ""
		a.Runs++
		return nil
	})
	if err != nil {
		s.log.Warn("start analysis", "id", id, "err", err)
		return
	}
	if prev := s.st.doneWithKey(a.Key); prev != "" && prev != id {
		if err := s.reuse(a, prev); err == nil {
			return
		} else {
			s.log.Info("could not reuse an identical analysis, running it", "id", id, "from", prev, "err", err)
		}
	}
	ctx := s.work
	var cancel context.CancelFunc
	if s.cfg.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	names := make([]string, len(a.Files))
	for i, f := range a.Files {
		names[i] = f.Name
	}
	s.setProgress(id, Progress{Files: len(a.Files)})
	rep, err := s.cfg.Analyzer.Analyze(ctx, s.st.filesDir(id), names, Options{Local: a.Local}, func(p Progress) {
		p.Files = len(a.Files)
		s.setProgress(id, p)
	})
	last := s.takeProgress(id)
	if err == nil {
		err = s.writeReports(id, rep)
	}
	switch {
	case err != nil && s.work.Err() != nil:
		// Shut down before it finished: run it again at the next start.
		if _, uerr := s.st.update(id, func(a *Analysis) error { a.Status, a.Progress = StatusQueued, Progress{}; return nil }); uerr != nil {
			s.log.Warn("requeue analysis", "id", id, "err", uerr)
		}
		s.log.Info("analysis interrupted by shutdown, requeued", "id", id)
	case err != nil:
		msg := err.Error()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			msg = fmt.Sprintf("the analysis took longer than the limit of %s", s.cfg.Timeout)
		}
		if _, uerr := s.st.update(id, func(a *Analysis) error {
			a.Status, a.Error, a.Finished, a.Progress = StatusFailed, msg, s.cfg.Now(), last
			return nil
		}); uerr != nil {
			s.log.Warn("save failed analysis", "id", id, "err", uerr)
		}
		s.log.Info("analysis failed", "id", id, "err", msg)
	default:
		v, verr := verdictOf(rep.JSON)
		if _, uerr := s.st.update(id, func(a *Analysis) error {
			a.Status, a.Finished, a.Progress = StatusDone, s.cfg.Now(), last
			if verr != nil {
				a.Status, a.Error = StatusFailed, verr.Error()
			}
			a.Verdict = v
			return nil
		}); uerr != nil {
			s.log.Warn("save finished analysis", "id", id, "err", uerr)
		}
		s.log.Info("analysis done", "id", id)
	}
}

// reuse copies the reports of the done analysis prev, made from identical
// uploads.
func (s *Service) reuse(a *Analysis, prev string) error {
	p, err := s.st.get(prev)
	if err != nil || p.Status != StatusDone {
		return fmt.Errorf("load analysis %s: %w", prev, cmpErr(err, errNotFound))
	}
	var rep Reports
	for _, r := range []struct {
		format string
		dst    *[]byte
	}{{"html", &rep.HTML}, {"md", &rep.Markdown}, {"json", &rep.JSON}} {
		if *r.dst, err = os.ReadFile(s.st.reportPath(prev, r.format)); err != nil {
			return fmt.Errorf("read report of %s: %w", prev, err)
		}
	}
	if err := s.writeReports(a.ID, rep); err != nil {
		return err
	}
	_, err = s.st.update(a.ID, func(a *Analysis) error {
		a.Status, a.Finished, a.Verdict, a.Progress, a.ReusedFrom = StatusDone, s.cfg.Now(), p.Verdict, p.Progress, prev
		return nil
	})
	if err == nil {
		s.log.Info("analysis reused an identical upload's reports", "id", a.ID, "from", prev)
	}
	return err
}

func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// writeReports writes the three reports, each through a temporary file
// renamed into place.
func (s *Service) writeReports(id string, rep Reports) error {
	for _, r := range []struct {
		format string
		data   []byte
	}{{"html", rep.HTML}, {"md", rep.Markdown}, {"json", rep.JSON}} {
		dst := s.st.reportPath(id, r.format)
		tmp := dst + ".tmp"
		if err := os.WriteFile(tmp, r.data, 0o600); err != nil {
			return fmt.Errorf("write %s report: %w", r.format, err)
		}
		if err := os.Rename(tmp, dst); err != nil {
			return fmt.Errorf("write %s report: %w", r.format, err)
		}
	}
	return nil
}

// verdictOf reads the headline out of the JSON report.
func verdictOf(js []byte) (*Verdict, error) {
	m, err := report.ReadJSON(bytes.NewReader(js))
	if err != nil {
		return nil, fmt.Errorf("read the analysis's json report: %w", err)
	}
	return &Verdict{Text: m.Verdict.Text, Severity: m.Verdict.Severity.String(), Category: m.Verdict.Category.String(),
		Findings: len(m.Findings), CloseWait: m.Summary.CloseWait}, nil
}

func (s *Service) setProgress(id string, p Progress) {
	s.mu.Lock()
	s.progress[id] = p
	s.mu.Unlock()
}

func (s *Service) takeProgress(id string) Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.progress[id]
	delete(s.progress, id)
	return p
}

// Get returns an analysis with its live progress.
func (s *Service) Get(id string) (*Analysis, error) {
	if !validID(id) {
		return nil, errNotFound
	}
	a, err := s.st.get(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if p, ok := s.progress[id]; ok && a.Status == StatusRunning {
		a.Progress = p
	}
	s.mu.Unlock()
	return a, nil
}

// Delete removes an analysis and its files. A queued or running analysis
// is refused (errBusy): the worker owns its files.
func (s *Service) Delete(id string) error {
	a, err := s.Get(id)
	if err != nil {
		return err
	}
	if a.Status == StatusQueued || a.Status == StatusRunning {
		return errBusy
	}
	return s.st.remove(id)
}

var errBusy = errors.New("the analysis is queued or running; delete it once it is done or failed")

// Sweep deletes done and failed analyses older than the retention, and
// returns how many.
func (s *Service) Sweep() (int, error) {
	if s.cfg.Retention <= 0 {
		return 0, nil
	}
	all, err := s.st.list("")
	if err != nil {
		return 0, err
	}
	cut := s.cfg.Now().Add(-s.cfg.Retention)
	n := 0
	for _, a := range all {
		if (a.Status == StatusDone || a.Status == StatusFailed) && a.Created.Before(cut) {
			if err := s.st.remove(a.ID); err != nil && !errors.Is(err, errNotFound) {
				return n, err
			}
			n++
			s.log.Info("retention: deleted analysis", "id", a.ID, "created", a.Created)
		}
	}
	return n, nil
}

// Shutdown stops the service: uploads under way fail, no job is started,
// running analyses get until ctx is done to finish and are then stopped and
// requeued. Once requests under way have ended, the database is closed
// and later requests get 503.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.stopUpload()
	done := make(chan struct{})
	go func() { s.workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.stopWork()
		<-done
	}
	s.stopWork()
	// Requests under way end (uploads were told to stop) before the
	// database closes; later ones are refused.
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.inflight.Wait()
	if err := s.st.close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// newID is 16 random hex digits.
func newID() (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		return "", fmt.Errorf("make id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// ReportPath is the file holding an analysis's report in format (html, md
// or json), for tests and tools.
func (s *Service) ReportPath(id, format string) string {
	return filepath.Clean(s.st.reportPath(id, format))
}
