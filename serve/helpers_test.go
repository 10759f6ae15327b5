package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/report"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeAnalyzer reads every file (so a missing or changed file shows) and
// writes reports that name the files and their hashes. When block is not
// nil, it waits for it (or ctx) after sending on started.
type fakeAnalyzer struct {
	block   chan struct{}
	started chan string
	calls   atomic.Int32
}

func (f *fakeAnalyzer) Analyze(ctx context.Context, dir string, files []string, opts Options, progress func(Progress)) (Reports, error) {
	f.calls.Add(1)
	var lines []string
	var total int64
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return Reports{}, fmt.Errorf("read %s: %w", name, err)
		}
		total += int64(len(data))
		h := sha256.Sum256(data)
		lines = append(lines, name+" "+hex.EncodeToString(h[:]))
	}
	progress(Progress{Recognised: len(files), BytesTotal: total, BytesRead: total / 2})
	if f.started != nil {
		f.started <- dir
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return Reports{}, ctx.Err()
		}
	}
	m := &report.Model{Title: "fake " + strings.Join(opts.Local, ",")}
	m.Verdict.Text = fmt.Sprintf("%d files", len(files))
	m.Verdict.Severity = report.SeverityWarning
	if err := m.Finalize(); err != nil {
		return Reports{}, err
	}
	var js bytes.Buffer
	if err := report.WriteJSON(&js, m); err != nil {
		return Reports{}, err
	}
	body := strings.Join(lines, "\n")
	return Reports{HTML: []byte("<!DOCTYPE html><style>p{}</style><pre>" + body + "</pre>"), Markdown: []byte(body), JSON: js.Bytes()}, nil
}

// harness is a service behind an httptest server.
type harness struct {
	t     testing.TB
	svc   *Service
	srv   *httptest.Server
	dir   string
	clock *clock
	an    *fakeAnalyzer
}

func start(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, dir: cfg.Dir, clock: newClock()}
	if h.dir == "" {
		h.dir = t.TempDir()
	}
	cfg.Dir = h.dir
	if cfg.Analyzer == nil {
		h.an = &fakeAnalyzer{}
		cfg.Analyzer = h.an
	} else if fa, ok := cfg.Analyzer.(*fakeAnalyzer); ok {
		h.an = fa
	}
	if cfg.Now == nil {
		cfg.Now = h.clock.Now
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.svc = svc
	h.srv = httptest.NewServer(svc.Handler())
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	h.srv.Close()
	if h.svc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = h.svc.Shutdown(ctx)
		h.svc = nil
	}
}

// part is one multipart part: a file when file is not "", else a field.
type part struct {
	field, file string
	data        []byte
}

func multipartBody(t testing.TB, parts []part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.file != "" {
			w, err = mw.CreateFormFile(p.field, p.file)
		} else {
			w, err = mw.CreateFormField(p.field)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

// do sends a request and returns the status and body.
func (h *harness) do(req *http.Request) (int, []byte, http.Header) {
	h.t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, body, resp.Header
}

func (h *harness) req(method, path string, body io.Reader) *http.Request {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	return req
}

// upload posts parts to the API and returns the status and the decoded
// answer.
func (h *harness) upload(parts []part, mod ...func(*http.Request)) (int, map[string]string) {
	h.t.Helper()
	ctype, body := multipartBody(h.t, parts)
	req := h.req("POST", "/api/analyses", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	for _, m := range mod {
		m(req)
	}
	code, out, _ := h.do(req)
	var v map[string]string
	if err := json.Unmarshal(out, &v); err != nil {
		h.t.Fatalf("answer %d is not JSON: %q", code, out)
	}
	return code, v
}

// get fetches an analysis from the API.
func (h *harness) get(id string, mod ...func(*http.Request)) (int, apiAnalysis) {
	h.t.Helper()
	req := h.req("GET", "/api/analyses/"+id, nil)
	for _, m := range mod {
		m(req)
	}
	code, body, _ := h.do(req)
	var a apiAnalysis
	a.Analysis = &Analysis{}
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &a); err != nil {
			h.t.Fatalf("decode %s: %v", body, err)
		}
	}
	return code, a
}

// wait polls until the analysis is done or failed.
func (h *harness) wait(id string, mod ...func(*http.Request)) apiAnalysis {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		code, a := h.get(id, mod...)
		if code != http.StatusOK {
			h.t.Fatalf("GET %s: %d", id, code)
		}
		if a.Status == StatusDone || a.Status == StatusFailed {
			return a
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("analysis %s did not finish", id)
	return apiAnalysis{}
}

// checkStored checks that the stored files are the uploaded ones, byte
// for byte.
func (h *harness) checkStored(id string, want map[string][]byte) {
	h.t.Helper()
	ents, err := os.ReadDir(filepath.Join(h.dir, "analyses", id, "files"))
	if err != nil {
		h.t.Fatal(err)
	}
	if len(ents) != len(want) {
		h.t.Errorf("%d files stored, want %d", len(ents), len(want))
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(h.dir, "analyses", id, "files", name))
		if err != nil {
			h.t.Errorf("stored %s: %v", name, err)
			continue
		}
		if sha256.Sum256(got) != sha256.Sum256(data) {
			h.t.Errorf("stored %s differs from the upload", name)
		}
	}
}

// leftovers lists what is in the uploads folder.
func (h *harness) leftovers() []string {
	ents, _ := os.ReadDir(filepath.Join(h.dir, "uploads"))
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
