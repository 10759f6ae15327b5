package serve

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSanitize: whatever name a client sends, the stored name stays in its
// folder, is not hidden, is short and is plain ASCII.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"ss.txt", "../../etc/passwd", `C:\x\y.txt`, "..", ".", "", ".bashrc", "<img src=x>.txt", "a\x00b", "jstack-ü.txt", strings.Repeat("é", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := sanitize(name)
		if got == "" || got == "." || got == ".." || strings.HasPrefix(got, ".") || strings.ContainsAny(got, `/\`) || len(got) > maxNameLen || !utf8.ValidString(got) {
			t.Fatalf("sanitize(%q) = %q", name, got)
		}
		for _, r := range got {
			if r > 0x7e || r < 0x20 {
				t.Fatalf("sanitize(%q) = %q holds %q", name, got, r)
			}
		}
	})
}

// FuzzUpload sends arbitrary multipart bodies: the answer is 201 or a JSON
// error among the upload's statuses, and a refused upload leaves nothing.
func FuzzUpload(f *testing.F) {
	ctype, body := multipartBody(f, []part{{field: "f", file: "ss.txt", data: []byte("State\n")}, {field: "local", data: []byte("10.0.0.1")}})
	f.Add(ctype[strings.Index(ctype, "boundary=")+9:], body)
	f.Add("b", []byte("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../x\"\r\n\r\nabc\r\n--b--\r\n"))
	f.Add("b", []byte("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\nabc"))
	f.Add("b", []byte(""))
	h := start(f, Config{MaxUpload: 4 << 10})
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		req := httptest.NewRequest("POST", "/api/analyses", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=\""+strings.ReplaceAll(boundary, `"`, "")+"\"")
		req.Host = "127.0.0.1"
		rec := httptest.NewRecorder()
		h.svc.Handler().ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusCreated, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("answer is not JSON: %s", rec.Body)
		}
		if left := h.leftovers(); len(left) > 0 {
			t.Fatalf("left in uploads: %v", left)
		}
	})
}
