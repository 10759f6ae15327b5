package serve

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/pages.html.tmpl
var pageFS embed.FS

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"bytes": formatBytes,
}).ParseFS(pageFS, "templates/pages.html.tmpl"))

// page is what every page template gets.
type page struct {
	Title     string
	Nonce     string // of this response's inline script and style
	CSRF      string
	Refresh   bool // the page follows a running analysis
	MaxUpload string
	Query     string
	Analyses  []*Analysis
	Analysis  *Analysis
	Message   string
	Next      string
}

// render writes a page with a fresh nonce and the CSP that admits only
// the inline script and style carrying it.
func (s *Service) render(w http.ResponseWriter, r *http.Request, code int, name string, p page) {
	var b [18]byte
	_, _ = rand.Read(b[:])
	p.Nonce = base64.RawURLEncoding.EncodeToString(b[:])
	p.CSRF = csrfToken(w, r)
	p.MaxUpload = formatBytes(s.cfg.MaxUpload)
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, p); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+p.Nonce+"'; style-src 'nonce-"+p.Nonce+"'; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// pageError shows an error as a page with its status code.
func (s *Service) pageError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	code, title, msg := http.StatusInternalServerError, "Something went wrong", "internal error; the service's log says more"
	switch {
	case errors.As(err, &he):
		code, msg = he.code, he.msg
		title = http.StatusText(code)
		if code == http.StatusRequestEntityTooLarge || code == http.StatusBadRequest || code == http.StatusServiceUnavailable {
			w.Header().Set("Connection", "close")
		}
	case errors.Is(err, errNotFound):
		code, title, msg = http.StatusNotFound, "Not found", "no such analysis"
	case errors.Is(err, errBusy):
		code, title, msg = http.StatusConflict, "Busy", err.Error()
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.render(w, r, code, "error", page{Title: title, Message: msg})
}

func (s *Service) pageIndex(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	all, err := s.st.list(q)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "index", page{Title: "Upload", Query: q, Analyses: all})
}

func (s *Service) pageUpload(w http.ResponseWriter, r *http.Request) {
	a, err := s.upload(w, r, true)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/analyses/"+a.ID, http.StatusSeeOther)
}

func (s *Service) pageAnalysis(w http.ResponseWriter, r *http.Request) {
	a, err := s.Get(r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	live := a.Status == StatusQueued || a.Status == StatusRunning
	s.render(w, r, http.StatusOK, "analysis", page{Title: a.Name, Analysis: a, Refresh: live})
}

func (s *Service) pageDelete(w http.ResponseWriter, r *http.Request) {
	if !csrfOK(r, r.PostFormValue("csrf")) {
		s.pageError(w, r, &httpError{http.StatusForbidden, "the form's CSRF token is missing or stale: reload the page and try again"})
		return
	}
	if err := s.Delete(r.PathValue("id")); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Service) pageLogin(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", page{Title: "Log in", Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Service) pageLoginPost(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	next := safeNext(r.PostFormValue("next"))
	if !csrfOK(r, r.PostFormValue("csrf")) {
		s.render(w, r, http.StatusForbidden, "login", page{Title: "Log in", Next: next, Message: "The form's CSRF token is missing or stale: try again."})
		return
	}
	if !equal(r.PostFormValue("token"), s.cfg.Token) {
		s.log.Warn("login refused", "remote", r.RemoteAddr)
		s.render(w, r, http.StatusUnauthorized, "login", page{Title: "Log in", Next: next, Message: "Wrong token."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.sessionValue(), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: 12 * 3600})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext keeps a redirect target on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, `\`+"\r\n") {
		return "/"
	}
	return next
}
