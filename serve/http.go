package serve

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Cookie names. Both are HttpOnly and SameSite=Strict.
const (
	sessionCookie = "cwf_session" // HMAC of the token: proves a login
	csrfCookie    = "cwf_csrf"    // random; every form echoes it
)

// Handler serves the pages and the JSON API:
//
//	GET  /                         upload form and past analyses (?q= searches names)
//	POST /analyses                 upload from the form, then to its page
//	GET  /analyses/{id}            progress, then the report
//	POST /analyses/{id}/delete     delete from its page
//	GET  /login, POST /login       the token form, when a token is set
//	POST   /api/analyses           multipart upload -> 201 {"id": ...}
//	GET    /api/analyses           list (?q=)
//	GET    /api/analyses/{id}      status and progress
//	GET    /api/analyses/{id}/report.{html,md,json}
//	DELETE /api/analyses/{id}
//	GET  /healthz
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /{$}", s.pageIndex)
	mux.HandleFunc("POST /analyses", s.pageUpload)
	mux.HandleFunc("GET /analyses/{id}", s.pageAnalysis)
	mux.HandleFunc("POST /analyses/{id}/delete", s.pageDelete)
	mux.HandleFunc("GET /login", s.pageLogin)
	mux.HandleFunc("POST /login", s.pageLoginPost)
	mux.HandleFunc("POST /api/analyses", s.apiUpload)
	mux.HandleFunc("GET /api/analyses", s.apiList)
	mux.HandleFunc("GET /api/analyses/{id}", s.apiGet)
	mux.HandleFunc("DELETE /api/analyses/{id}", s.apiDelete)
	mux.HandleFunc("GET /api/analyses/{id}/{file}", s.apiReport)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		jsonError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return s.logged(s.secured(mux))
}

// statusWriter records the status and size of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logged writes one structured access log line per request.
func (s *Service) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		sw := &statusWriter{ResponseWriter: w}
		s.mu.Lock()
		closed := s.closed
		if !closed {
			s.inflight.Add(1)
		}
		s.mu.Unlock()
		if closed {
			sw.Header().Set("Connection", "close")
			jsonError(sw, http.StatusServiceUnavailable, "the service is shutting down")
		} else {
			func() {
				defer s.inflight.Done() // even if the handler panics
				h.ServeHTTP(sw, r)
			}()
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", cmpInt(sw.code, http.StatusOK)), slog.Int64("bytes", sw.bytes),
			slog.Int64("request_bytes", r.ContentLength),
			slog.Duration("duration", s.cfg.Now().Sub(start)), slog.String("remote", r.RemoteAddr))
	})
}

func cmpInt(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// secured sets the security headers, refuses foreign Host names on a
// local-only listener, cross-site writes, and requests without the token.
func (s *Service) secured(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		if s.cfg.LocalOnly && !loopbackHost(r.Host) {
			jsonError(w, http.StatusMisdirectedRequest, "this service answers only to localhost, 127.0.0.1 or [::1]; start it with --token-file to serve other names")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions && crossSite(r) {
			jsonError(w, http.StatusForbidden, "cross-site request refused")
			return
		}
		if r.URL.Path == "/healthz" || r.URL.Path == "/login" || s.authorized(r) {
			h.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") || r.Method != http.MethodGet {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cwforensics"`)
			jsonError(w, http.StatusUnauthorized, "a token is needed: send Authorization: Bearer TOKEN, or log in at /login")
			return
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	})
}

// loopbackHost says whether a Host header names this machine's loopback.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// crossSite says whether a browser sent a request from another origin:
// Sec-Fetch-Site when the browser sends it, else Origin against Host.
// Clients that send neither (curl, scripts) are not browsers.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host
}

// authorized checks the bearer token or the session cookie, in constant
// time. Without a token every request is.
func (s *Service) authorized(r *http.Request) bool {
	if s.cfg.Token == "" {
		return true
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		return ok && equal(strings.TrimSpace(tok), s.cfg.Token)
	}
	c, err := r.Cookie(sessionCookie)
	return err == nil && equal(c.Value, s.sessionValue())
}

func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// sessionKey derives the key of the session cookie from the token, so that
// the cookie never holds the token and changing the token ends sessions.
func sessionKey(token string) []byte {
	h := sha256.Sum256([]byte("cwforensics session key\x00" + token))
	return h[:]
}

func (s *Service) sessionValue() string {
	m := hmac.New(sha256.New, s.csrfK)
	m.Write([]byte("session"))
	return hex.EncodeToString(m.Sum(nil))
}

// csrfToken returns the client's CSRF token, setting the cookie when it
// has none.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return v
}

// csrfOK checks a form's token against the cookie.
func csrfOK(r *http.Request, field string) bool {
	c, err := r.Cookie(csrfCookie)
	return err == nil && c.Value != "" && field != "" && equal(c.Value, field)
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code, out = http.StatusInternalServerError, []byte(`{"error": "encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(append(out, '\n'))
}

// fail answers an error: its own status for an httpError, 404 for an
// unknown id, 409 for a busy analysis, else 500 (logged, not shown).
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		if he.code == http.StatusRequestEntityTooLarge || he.code == http.StatusBadRequest || he.code == http.StatusServiceUnavailable {
			w.Header().Set("Connection", "close") // the rest of the body is not read
		}
		jsonError(w, he.code, he.msg)
	case errors.Is(err, errNotFound):
		jsonError(w, http.StatusNotFound, "no such analysis")
	case errors.Is(err, errBusy):
		jsonError(w, http.StatusConflict, err.Error())
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		jsonError(w, http.StatusInternalServerError, "internal error; the service's log says more")
	}
}

func (s *Service) healthz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	queued, running, stopping := len(s.queue), len(s.progress), s.stopping
	s.mu.Unlock()
	code, status := http.StatusOK, "ok"
	if stopping {
		code, status = http.StatusServiceUnavailable, "stopping"
	}
	writeJSON(w, code, map[string]any{"status": status, "queued": queued, "running": running})
}

// upload receives, checks and queues an upload: the API's and the form's.
func (s *Service) upload(w http.ResponseWriter, r *http.Request, needCSRF bool) (*Analysis, error) {
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	if stopping {
		return nil, &httpError{http.StatusServiceUnavailable, "the service is shutting down; upload again once it is back"}
	}
	a, form, err := s.receive(w, r)
	if err != nil {
		return nil, err
	}
	bad := func(e error) (*Analysis, error) {
		_ = removeTree(s.st.uploadDir(a.ID))
		return nil, e
	}
	if needCSRF && !csrfOK(r, form.csrf) {
		return bad(&httpError{http.StatusForbidden, "the form's CSRF token is missing or stale: reload the page and upload again"})
	}
	for _, l := range form.local {
		if _, err := netip.ParsePrefix(l); err != nil {
			if _, err := netip.ParseAddr(l); err != nil {
				return bad(&httpError{http.StatusBadRequest, fmt.Sprintf("local %q: want an IP address or a CIDR network", clip(l))})
			}
		}
	}
	if err := s.commit(a, form); err != nil {
		return bad(err)
	}
	s.log.Info("upload stored", "id", a.ID, "files", len(a.Files), "bytes", totalSize(a))
	return a, nil
}

func totalSize(a *Analysis) int64 {
	var n int64
	for _, f := range a.Files {
		n += f.Size
	}
	return n
}

func (s *Service) apiUpload(w http.ResponseWriter, r *http.Request) {
	// A browser posting with the session cookie must prove the page sent it.
	needCSRF := s.cfg.Token != "" && r.Header.Get("Authorization") == ""
	a, err := s.upload(w, r, needCSRF)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/analyses/"+a.ID)
	writeJSON(w, http.StatusCreated, map[string]string{"id": a.ID})
}

// apiAnalysis is an analysis as the API shows it.
type apiAnalysis struct {
	*Analysis
	Reports map[string]string `json:"reports,omitempty"`
}

func view(a *Analysis) apiAnalysis {
	v := apiAnalysis{Analysis: a}
	if a.Files == nil {
		a.Files = []File{}
	}
	if a.Local == nil {
		a.Local = []string{}
	}
	if a.Status == StatusDone {
		v.Reports = map[string]string{}
		for _, f := range []string{"html", "md", "json"} {
			v.Reports[f] = "/api/analyses/" + a.ID + "/report." + f
		}
	}
	return v
}

func (s *Service) apiList(w http.ResponseWriter, r *http.Request) {
	all, err := s.st.list(r.URL.Query().Get("q"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]apiAnalysis, len(all))
	for i, a := range all {
		if a.Status == StatusRunning {
			if live, err := s.Get(a.ID); err == nil {
				a = live
			}
		}
		out[i] = view(a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"analyses": out})
}

func (s *Service) apiGet(w http.ResponseWriter, r *http.Request) {
	a, err := s.Get(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view(a))
}

func (s *Service) apiDelete(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Token != "" && r.Header.Get("Authorization") == "" && !csrfOK(r, r.Header.Get("X-CSRF-Token")) {
		jsonError(w, http.StatusForbidden, "a browser session must send the X-CSRF-Token header")
		return
	}
	if err := s.Delete(r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

var reportTypes = map[string]string{
	"report.html": "text/html; charset=utf-8",
	"report.md":   "text/markdown; charset=utf-8",
	"report.json": "application/json; charset=utf-8",
}

func (s *Service) apiReport(w http.ResponseWriter, r *http.Request) {
	ctype, ok := reportTypes[r.PathValue("file")]
	if !ok {
		jsonError(w, http.StatusNotFound, "no such report: want report.html, report.md or report.json")
		return
	}
	a, err := s.Get(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if a.Status != StatusDone {
		jsonError(w, http.StatusConflict, fmt.Sprintf("the analysis is %s; its reports exist once it is done", a.Status))
		return
	}
	format := strings.TrimPrefix(r.PathValue("file"), "report.")
	data, err := os.ReadFile(s.st.reportPath(a.ID, format))
	if err != nil {
		s.fail(w, r, fmt.Errorf("read report: %w", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	if format == "html" {
		// The page may be shown in the analysis page's frame; its inline
		// styles and its own script (which pages the socket table) are
		// allowed by hash, in a sandbox of an opaque origin; nothing else
		// runs or loads.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src "+styleHashes(data)+"; script-src "+scriptHashes(data)+
			"; frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox allow-scripts")
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
	if r.URL.Query().Get("download") != "" {
		h.Set("Content-Disposition", `attachment; filename="cwforensics-`+a.ID+"."+format+`"`)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

var (
	scriptElem = regexp.MustCompile(`(?s)<script id="cwf-script">(.*?)</script>`)
	styleElem  = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	styleAttr  = regexp.MustCompile(` style="([^"]*)"`)
)

// scriptHashes lists CSP hashes of the report's own script, the one the
// report template writes; "'none'" when the page has none.
func scriptHashes(page []byte) string {
	var out []string
	for _, m := range scriptElem.FindAllSubmatch(page, -1) {
		h := sha256.Sum256(m[1])
		out = append(out, "'sha256-"+base64.StdEncoding.EncodeToString(h[:])+"'")
	}
	if len(out) == 0 {
		return "'none'"
	}
	return strings.Join(out, " ")
}

// styleHashes lists CSP hashes of the page's style elements and style
// attributes.
func styleHashes(page []byte) string {
	seen := map[string]bool{}
	var out []string
	add := func(b []byte) {
		h := sha256.Sum256(b)
		v := "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, m := range styleElem.FindAllSubmatch(page, -1) {
		add(m[1])
	}
	attrs := styleAttr.FindAllSubmatch(page, -1)
	if len(attrs) > 0 {
		out = append(out, "'unsafe-hashes'")
		for _, m := range attrs {
			add(m[1])
		}
	}
	if len(out) == 0 {
		return "'none'"
	}
	return strings.Join(out, " ")
}
