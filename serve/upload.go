package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// httpError is an error with the status code the client gets.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

// uploadForm is the fields of an upload besides the files.
type uploadForm struct {
	name  string
	local []string
	csrf  string
}

// Field limits: a form field is short; a file part is bounded only by the
// upload's size limit.
const (
	maxFieldBytes = 4 << 10
	maxFields     = 64
	maxFiles      = 1000
	maxNameLen    = 100
	multipartRoom = 64 << 10 // bytes of multipart framing and fields allowed beyond MaxUpload
)

// receive streams a multipart upload to disk part by part: every part with
// a file name is a file, whatever its part name; "name", "local" and
// "csrf" are fields. On any error nothing is left on disk.
func (s *Service) receive(w http.ResponseWriter, r *http.Request) (*Analysis, uploadForm, error) {
	var form uploadForm
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "multipart/form-data" {
		return nil, form, &httpError{http.StatusUnsupportedMediaType, "the upload must be multipart/form-data, one part per file"}
	}
	if r.ContentLength > s.cfg.MaxUpload+multipartRoom {
		return nil, form, s.tooLarge()
	}
	id, err := newID()
	if err != nil {
		return nil, form, err
	}
	dir := s.st.uploadDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, form, fmt.Errorf("make upload folder: %w", err)
	}
	a, form, err := s.receiveParts(w, r, dir)
	if err != nil {
		_ = removeTree(dir)
		return nil, form, err
	}
	a.ID = id
	return a, form, nil
}

func (s *Service) tooLarge() error {
	return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than this service's limit of %s (--max-upload)", formatBytes(s.cfg.MaxUpload))}
}

// cancelReader fails reads once ctx is done: an upload stops at shutdown.
type cancelReader struct {
	ctx context.Context
	r   io.Reader
}

func (c cancelReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, errShutdown
	}
	return c.r.Read(p)
}

var errShutdown = errors.New("the service is shutting down")

func (s *Service) receiveParts(w http.ResponseWriter, r *http.Request, dir string) (*Analysis, uploadForm, error) {
	var form uploadForm
	// Bytes beyond the limit plus some room for the multipart framing fail.
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+multipartRoom)
	body := cancelReader{s.uploads, r.Body}
	ctype := r.Header.Get("Content-Type")
	_, params, _ := mime.ParseMediaType(ctype)
	if params["boundary"] == "" {
		return nil, form, &httpError{http.StatusBadRequest, "the multipart upload has no boundary"}
	}
	mr := multipart.NewReader(body, params["boundary"])
	a := &Analysis{}
	used := map[string]bool{}
	var total int64
	fields := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, form, readErr(s, err)
		}
		if part.FileName() == "" {
			fields++
			if fields > maxFields {
				return nil, form, &httpError{http.StatusBadRequest, "too many form fields"}
			}
			v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil {
				return nil, form, readErr(s, err)
			}
			if len(v) > maxFieldBytes {
				return nil, form, &httpError{http.StatusBadRequest, fmt.Sprintf("form field %q is longer than %d bytes", clip(part.FormName()), maxFieldBytes)}
			}
			switch part.FormName() {
			case "name":
				form.name = strings.TrimSpace(string(v))
			case "local":
				form.local = append(form.local, strings.FieldsFunc(string(v), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })...)
			case "csrf":
				form.csrf = string(v)
			}
			continue
		}
		if len(a.Files) >= maxFiles {
			return nil, form, &httpError{http.StatusBadRequest, fmt.Sprintf("more than %d files in one upload", maxFiles)}
		}
		name := uniqueName(sanitize(part.FileName()), used)
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, form, fmt.Errorf("store %s: %w", name, err)
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(f, h), part)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		total += n
		if err != nil {
			return nil, form, readErr(s, err)
		}
		if total > s.cfg.MaxUpload {
			return nil, form, s.tooLarge()
		}
		if err := os.Chmod(filepath.Join(dir, name), 0o400); err != nil {
			return nil, form, fmt.Errorf("store %s: %w", name, err)
		}
		a.Files = append(a.Files, File{Name: name, Original: clip(part.FileName()), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	if len(a.Files) == 0 {
		return nil, form, &httpError{http.StatusBadRequest, "the upload holds no file: send one multipart part with a file name per file"}
	}
	return a, form, nil
}

// readErr turns a failure to read the body into what the client is told.
func readErr(s *Service, err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return s.tooLarge()
	case errors.Is(err, errShutdown):
		return &httpError{http.StatusServiceUnavailable, "the service is shutting down; upload again once it is back"}
	case errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(err.Error(), "multipart"):
		return &httpError{http.StatusBadRequest, "the upload was cut short or is not valid multipart: " + err.Error()}
	}
	return &httpError{http.StatusBadRequest, "reading the upload: " + err.Error()}
}

// sanitize makes a client's file name safe to store and to cite: the last
// element of the path only, letters, digits and . _ - + @ kept, any other
// character as _, no leading dot (analyze skips hidden names), at most
// maxNameLen bytes with the extension kept.
func sanitize(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._-+@", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if strings.Trim(out, "_") == "" {
		out = "file" + out
	}
	if len(out) > maxNameLen {
		ext := filepath.Ext(out)
		if len(ext) > 16 {
			ext = ""
		}
		out = out[:maxNameLen-len(ext)] + ext
	}
	return out
}

// uniqueName adds -2, -3, ... before the extension of a name already used
// in this upload.
func uniqueName(name string, used map[string]bool) string {
	out := name
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 2; used[strings.ToLower(out)]; i++ {
		out = base + "-" + strconv.Itoa(i) + ext
	}
	used[strings.ToLower(out)] = true
	return out
}

// clip bounds an untrusted string kept in metadata: valid UTF-8, at most
// 255 bytes.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for len(s) > 255 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// formatBytes is a size in binary units, e.g. "2 GiB", "512 MiB", "300 B".
func formatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10) + " " + units[i]
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + units[i]
}

// ParseSize reads a size such as 2G, 512M, 300k or 1048576 (bytes); the
// units are binary (k = 1024).
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "ib"), "b")
	mult := int64(1)
	if t != "" {
		if i := strings.IndexByte("kmgt", t[len(t)-1]); i >= 0 {
			mult = int64(1) << (10 * (i + 1))
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a positive number of bytes with an optional k, M, G or T suffix", s)
	}
	return n * mult, nil
}

// commit moves a received upload into place, records it queued and
// queues it.
func (s *Service) commit(a *Analysis, form uploadForm) error {
	a.Name = clip(form.name)
	if a.Name == "" {
		names := make([]string, 0, 3)
		for _, f := range a.Files[:min(3, len(a.Files))] {
			names = append(names, f.Name)
		}
		a.Name = strings.Join(names, ", ")
		if len(a.Files) > 3 {
			a.Name += fmt.Sprintf(" and %d more", len(a.Files)-3)
		}
	}
	a.Local = form.local
	a.Status = StatusQueued
	a.Created = s.cfg.Now()
	a.Progress = Progress{Files: len(a.Files)}
	a.Key = uploadKey(a)
	if err := os.MkdirAll(s.st.analysisDir(a.ID), 0o700); err != nil {
		return fmt.Errorf("make analysis folder: %w", err)
	}
	if err := os.Rename(s.st.uploadDir(a.ID), s.st.filesDir(a.ID)); err != nil {
		_ = removeTree(s.st.analysisDir(a.ID))
		return fmt.Errorf("move upload into place: %w", err)
	}
	if err := s.st.put(a); err != nil {
		_ = removeTree(s.st.analysisDir(a.ID))
		return err
	}
	s.enqueue(a.ID)
	return nil
}

// uploadKey identifies identical uploads: the same files under the same
// names with the same options give the same reports.
func uploadKey(a *Analysis) string {
	h := sha256.New()
	files := slices.Clone(a.Files)
	slices.SortFunc(files, func(x, y File) int { return strings.Compare(x.Name, y.Name) })
	for _, f := range files {
		fmt.Fprintf(h, "file %q %s\n", f.Name, f.SHA256)
	}
	for _, l := range a.Local {
		fmt.Fprintf(h, "local %q\n", l)
	}
	return hex.EncodeToString(h.Sum(nil))
}
