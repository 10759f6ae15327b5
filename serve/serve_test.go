package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUploadAnalyseReport(t *testing.T) {
	h := start(t, Config{Workers: 2})
	files := map[string][]byte{"ss.txt": []byte("State Recv-Q\n"), "capture.pcap": bytes.Repeat([]byte{0xd4, 0xc3, 0xb2, 0xa1}, 1000)}
	code, ans := h.upload([]part{
		{field: "evidence", file: "ss.txt", data: files["ss.txt"]},
		{field: "anything", file: "capture.pcap", data: files["capture.pcap"]},
		{field: "local", data: []byte("10.0.0.5, 10.1.0.0/16")},
		{field: "name", data: []byte("checkout incident")},
	})
	if code != http.StatusCreated || !validID(ans["id"]) {
		t.Fatalf("upload: %d %v", code, ans)
	}
	a := h.wait(ans["id"])
	if a.Status != StatusDone || a.Error != "" {
		t.Fatalf("status %s, error %q", a.Status, a.Error)
	}
	if a.Name != "checkout incident" || !slices.Equal(a.Local, []string{"10.0.0.5", "10.1.0.0/16"}) {
		t.Errorf("name %q, local %v", a.Name, a.Local)
	}
	if a.Progress.Files != 2 || a.Progress.Recognised != 2 || a.Progress.BytesTotal != 4013 {
		t.Errorf("progress %+v", a.Progress)
	}
	for _, f := range a.Files {
		if f.SHA256 != sha(files[f.Name]) || f.Size != int64(len(files[f.Name])) {
			t.Errorf("file %+v: want sha %s", f, sha(files[f.Name]))
		}
	}
	h.checkStored(a.ID, files)
	if a.Verdict == nil || a.Created.IsZero() || a.Finished.Before(a.Started) {
		t.Errorf("verdict %+v, created %v started %v finished %v", a.Verdict, a.Created, a.Started, a.Finished)
	}
	// The reports are the analyzer's bytes.
	want, err := h.an.Analyze(context.Background(), filepath.Join(h.dir, "analyses", a.ID, "files"), []string{"ss.txt", "capture.pcap"}, Options{Local: a.Local}, func(Progress) {})
	if err != nil {
		t.Fatal(err)
	}
	for file, body := range map[string][]byte{"report.html": want.HTML, "report.md": want.Markdown, "report.json": want.JSON} {
		code, got, hd := h.do(h.req("GET", "/api/analyses/"+a.ID+"/"+file, nil))
		if code != http.StatusOK || !bytes.Equal(got, body) {
			t.Errorf("%s: %d, %d bytes, want %d", file, code, len(got), len(body))
		}
		if hd.Get("Content-Type") != reportTypes[file] {
			t.Errorf("%s: Content-Type %q", file, hd.Get("Content-Type"))
		}
	}
	code, _, _ = h.do(h.req("GET", "/api/analyses/"+a.ID+"/report.pdf", nil))
	if code != http.StatusNotFound {
		t.Errorf("report.pdf: %d", code)
	}
	// The list and its search.
	for q, n := range map[string]int{"": 1, "CHECKOUT": 1, "capture": 1, "nothing-like-it": 0} {
		code, body, _ := h.do(h.req("GET", "/api/analyses?q="+url.QueryEscape(q), nil))
		var l struct{ Analyses []apiAnalysis }
		if err := json.Unmarshal(body, &l); err != nil || code != http.StatusOK || len(l.Analyses) != n {
			t.Errorf("list q=%q: %d, %d analyses, want %d (%v)", q, code, len(l.Analyses), n, err)
		}
	}
}

// TestHostileUploads sends what a careless or hostile client sends; every
// answer is JSON with the right status, and nothing is left behind by a
// refused upload.
func TestHostileUploads(t *testing.T) {
	h := start(t, Config{MaxUpload: 64 << 10})
	tests := []struct {
		name   string
		parts  []part
		code   int
		stored map[string][]byte // files stored when accepted
	}{
		{"no file", []part{{field: "name", data: []byte("x")}}, http.StatusBadRequest, nil},
		{"nothing at all", nil, http.StatusBadRequest, nil},
		{"empty file", []part{{field: "f", file: "empty.txt"}}, http.StatusCreated, map[string][]byte{"empty.txt": {}}},
		{"not evidence", []part{{field: "f", file: "cat.jpg", data: []byte("\xff\xd8\xff\xe0 JFIF not evidence")}}, http.StatusCreated,
			map[string][]byte{"cat.jpg": []byte("\xff\xd8\xff\xe0 JFIF not evidence")}},
		{"traversal", []part{{field: "f", file: "../../etc/passwd", data: []byte("root:x:0:0")}, {field: "f", file: `..\..\boot.ini`, data: []byte("b")}},
			http.StatusCreated, map[string][]byte{"passwd": []byte("root:x:0:0"), "boot.ini": []byte("b")}},
		{"dot names", []part{{field: "f", file: "..", data: []byte("1")}, {field: "f", file: ".hidden", data: []byte("2")}, {field: "f", file: "/", data: []byte("3")}},
			http.StatusCreated, map[string][]byte{"file": []byte("1"), "hidden": []byte("2"), "file-2": []byte("3")}},
		{"html name", []part{{field: "f", file: `<img src=x onerror=alert(1)>.txt`, data: []byte("x")}}, http.StatusCreated,
			map[string][]byte{"_img_src_x_onerror_alert_1__.txt": []byte("x")}},
		{"same name twice", []part{{field: "f", file: "ss.txt", data: []byte("a")}, {field: "f", file: "SS.txt", data: []byte("b")}}, http.StatusCreated,
			map[string][]byte{"ss.txt": []byte("a"), "SS-2.txt": []byte("b")}},
		{"oversize", []part{{field: "f", file: "big.pcap", data: make([]byte, 65<<10)}}, http.StatusRequestEntityTooLarge, nil},
		{"oversize together", []part{{field: "f", file: "a", data: make([]byte, 40<<10)}, {field: "f", file: "b", data: make([]byte, 40<<10)}}, http.StatusRequestEntityTooLarge, nil},
		{"bad local", []part{{field: "f", file: "a", data: []byte("a")}, {field: "local", data: []byte("not-an-address")}}, http.StatusBadRequest, nil},
		{"long field", []part{{field: "f", file: "a", data: []byte("a")}, {field: "name", data: make([]byte, 5000)}}, http.StatusBadRequest, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := h.svc.st.list("")
			code, ans := h.upload(tc.parts)
			if code != tc.code {
				t.Fatalf("status %d, want %d (%v)", code, tc.code, ans)
			}
			if left := h.leftovers(); len(left) > 0 {
				t.Errorf("left in uploads: %v", left)
			}
			if code != http.StatusCreated {
				if ans["error"] == "" {
					t.Errorf("no error message: %v", ans)
				}
				after, _ := h.svc.st.list("")
				if len(after) != len(before) {
					t.Errorf("a refused upload was recorded")
				}
				return
			}
			a := h.wait(ans["id"])
			if a.Status != StatusDone {
				t.Errorf("status %s: %s", a.Status, a.Error)
			}
			h.checkStored(a.ID, tc.stored)
		})
	}
	// The analyses folder holds only recorded analyses, and nothing was
	// written outside the data folder.
	ents, _ := os.ReadDir(filepath.Join(h.dir, "analyses"))
	all, _ := h.svc.st.list("")
	if len(ents) != len(all) {
		t.Errorf("%d analysis folders for %d analyses", len(ents), len(all))
	}
	if _, err := os.Stat(filepath.Join(h.dir, "etc")); err == nil {
		t.Errorf("a traversal name escaped its folder")
	}
	t.Run("413 message", func(t *testing.T) {
		code, ans := h.upload([]part{{field: "f", file: "big", data: make([]byte, 70<<10)}})
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(ans["error"], "64 KiB") {
			t.Errorf("%d %q", code, ans["error"])
		}
	})
	t.Run("Content-Length over the limit", func(t *testing.T) {
		req := h.req("POST", "/api/analyses", strings.NewReader(strings.Repeat("x", 200<<10)))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		code, body, _ := h.do(req)
		if code != http.StatusRequestEntityTooLarge {
			t.Errorf("%d %s", code, body)
		}
	})
	t.Run("not multipart", func(t *testing.T) {
		req := h.req("POST", "/api/analyses", strings.NewReader(`{"file": "x"}`))
		req.Header.Set("Content-Type", "application/json")
		code, body, _ := h.do(req)
		if code != http.StatusUnsupportedMediaType || !json.Valid(body) {
			t.Errorf("%d %s", code, body)
		}
	})
	t.Run("truncated body", func(t *testing.T) {
		ctype, body := multipartBody(t, []part{{field: "f", file: "capture.pcap", data: bytes.Repeat([]byte("abcdef"), 5000)}})
		req := h.req("POST", "/api/analyses", bytes.NewReader(body[:len(body)/2]))
		req.Header.Set("Content-Type", ctype)
		code, out, _ := h.do(req)
		if code != http.StatusBadRequest || !strings.Contains(string(out), "cut short") {
			t.Errorf("%d %s", code, out)
		}
		if left := h.leftovers(); len(left) > 0 {
			t.Errorf("left in uploads: %v", left)
		}
	})
	t.Run("html name is text on the pages", func(t *testing.T) {
		code, body, _ := h.do(h.req("GET", "/?q=onerror", nil))
		if code != http.StatusOK || strings.Contains(string(body), "<img") || !strings.Contains(string(body), "_img_src") {
			t.Errorf("%d: raw markup or no match in the list", code)
		}
		all, _ := h.svc.st.list("onerror")
		code, body, _ = h.do(h.req("GET", "/analyses/"+all[0].ID, nil))
		if code != http.StatusOK || strings.Contains(string(body), "<img") || !strings.Contains(string(body), "&lt;img src=x onerror=alert(1)&gt;.txt") {
			t.Errorf("%d: the original name is not escaped text", code)
		}
	})
}

func TestConcurrentUploads(t *testing.T) {
	h := start(t, Config{Workers: 3})
	const n = 20
	var wg sync.WaitGroup
	ids := make([]string, n)
	datas := make([][]byte, n)
	errs := make(chan error, n)
	for i := range n {
		datas[i] = bytes.Repeat([]byte(fmt.Sprintf("upload %d\n", i)), 2000+i*100)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctype, body := multipartBody(t, []part{{field: "f", file: "ss.txt", data: datas[i]}, {field: "f", file: "jstack.txt", data: datas[i][:100]}})
			resp, err := http.Post(h.srv.URL+"/api/analyses", ctype, bytes.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var v map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusCreated {
				errs <- fmt.Errorf("upload %d: %d %v %v", i, resp.StatusCode, v, err)
				return
			}
			ids[i] = v["id"]
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for i, id := range ids {
		a := h.wait(id)
		if a.Status != StatusDone {
			t.Errorf("%s: %s %s", id, a.Status, a.Error)
		}
		h.checkStored(id, map[string][]byte{"ss.txt": datas[i], "jstack.txt": datas[i][:100]})
		_, md, _ := h.do(h.req("GET", "/api/analyses/"+id+"/report.md", nil))
		if !strings.Contains(string(md), sha(datas[i])) {
			t.Errorf("%s: the report does not cite its upload's hash", id)
		}
	}
}

func TestReuseIdenticalUpload(t *testing.T) {
	h := start(t, Config{})
	parts := []part{{field: "f", file: "ss.txt", data: []byte("same")}, {field: "local", data: []byte("10.0.0.1")}}
	_, first := h.upload(parts)
	a1 := h.wait(first["id"])
	_, second := h.upload(parts)
	a2 := h.wait(second["id"])
	if a2.ReusedFrom != a1.ID || a2.Status != StatusDone || h.an.calls.Load() != 1 {
		t.Fatalf("reused from %q, status %s, analyzer ran %d times", a2.ReusedFrom, a2.Status, h.an.calls.Load())
	}
	_, r1, _ := h.do(h.req("GET", "/api/analyses/"+a1.ID+"/report.json", nil))
	_, r2, _ := h.do(h.req("GET", "/api/analyses/"+a2.ID+"/report.json", nil))
	if !bytes.Equal(r1, r2) {
		t.Errorf("reused report differs")
	}
	// Other options are another analysis.
	_, third := h.upload(parts[:1])
	if a3 := h.wait(third["id"]); a3.ReusedFrom != "" || h.an.calls.Load() != 2 {
		t.Errorf("an upload with other options reused %q", a3.ReusedFrom)
	}
	// Once the first is deleted, the second still has its reports, and a
	// new identical upload reuses whichever is left or runs again.
	if code, _, _ := h.do(h.req("DELETE", "/api/analyses/"+a1.ID, nil)); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if code, _, _ := h.do(h.req("GET", "/api/analyses/"+a2.ID+"/report.json", nil)); code != http.StatusOK {
		t.Errorf("report of the reusing analysis: %d", code)
	}
	_, fourth := h.upload(parts)
	if a4 := h.wait(fourth["id"]); a4.Status != StatusDone {
		t.Errorf("after delete: %s %s", a4.Status, a4.Error)
	}
}

func TestDelete(t *testing.T) {
	an := &fakeAnalyzer{block: make(chan struct{}), started: make(chan string, 1)}
	h := start(t, Config{Analyzer: an})
	_, ans := h.upload([]part{{field: "f", file: "a.txt", data: []byte("a")}})
	id := ans["id"]
	<-an.started
	code, body, _ := h.do(h.req("DELETE", "/api/analyses/"+id, nil))
	if code != http.StatusConflict || !json.Valid(body) {
		t.Errorf("delete while running: %d %s", code, body)
	}
	close(an.block)
	h.wait(id)
	if code, _, _ := h.do(h.req("DELETE", "/api/analyses/"+id, nil)); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "analyses", id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("files left after delete: %v", err)
	}
	for _, path := range []string{"/api/analyses/" + id, "/api/analyses/" + id + "/report.md", "/api/analyses/zz", "/api/analyses/..%2f..%2fetc%2fpasswd"} {
		code, body, _ := h.do(h.req("GET", path, nil))
		if code != http.StatusNotFound {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	if code, _, _ := h.do(h.req("DELETE", "/api/analyses/"+id, nil)); code != http.StatusNotFound {
		t.Errorf("delete again: %d", code)
	}
}

func TestReportNotReady(t *testing.T) {
	an := &fakeAnalyzer{block: make(chan struct{}), started: make(chan string, 1)}
	h := start(t, Config{Analyzer: an})
	_, ans := h.upload([]part{{field: "f", file: "a.txt", data: []byte("a")}})
	<-an.started
	code, a := h.get(ans["id"])
	if code != http.StatusOK || a.Status != StatusRunning || a.Progress.BytesTotal != 1 || a.Progress.Files != 1 {
		t.Errorf("running: %d %s %+v", code, a.Status, a.Progress)
	}
	code, body, _ := h.do(h.req("GET", "/api/analyses/"+ans["id"]+"/report.html", nil))
	if code != http.StatusConflict || !strings.Contains(string(body), "running") {
		t.Errorf("report while running: %d %s", code, body)
	}
	page, pbody, _ := h.do(h.req("GET", "/analyses/"+ans["id"], nil))
	if page != http.StatusOK || !strings.Contains(string(pbody), `id="live"`) {
		t.Errorf("analysis page while running: %d", page)
	}
	close(an.block)
	h.wait(ans["id"])
}

func TestTimeout(t *testing.T) {
	an := &fakeAnalyzer{block: make(chan struct{})}
	h := start(t, Config{Analyzer: an, Timeout: 50 * time.Millisecond})
	_, ans := h.upload([]part{{field: "f", file: "a.txt", data: []byte("a")}})
	a := h.wait(ans["id"])
	if a.Status != StatusFailed || !strings.Contains(a.Error, "longer than the limit of 50ms") {
		t.Errorf("%s %q", a.Status, a.Error)
	}
	code, body, _ := h.do(h.req("GET", "/analyses/"+a.ID, nil))
	if code != http.StatusOK || !strings.Contains(string(body), "The analysis failed") {
		t.Errorf("page of a failed analysis: %d", code)
	}
}

// TestRestartMidAnalysis kills the service (no shutdown: the database is
// closed under the running worker, as a crash would leave it) while an
// analysis runs; the next start runs it again, from the same files.
func TestRestartMidAnalysis(t *testing.T) {
	dir := t.TempDir()
	an := &fakeAnalyzer{block: make(chan struct{}), started: make(chan string, 1)}
	h := start(t, Config{Dir: dir, Analyzer: an})
	data := []byte("jstack output that must survive")
	_, ans := h.upload([]part{{field: "f", file: "jstack.txt", data: data}})
	<-an.started
	h.srv.Close()
	if err := h.svc.st.close(); err != nil { // the crash
		t.Fatal(err)
	}
	crashed := h.svc
	h.svc = nil
	defer func() { crashed.stopWork(); crashed.workers.Wait() }()

	h2 := start(t, Config{Dir: dir})
	a := h2.wait(ans["id"])
	if a.Status != StatusDone || a.Runs != 2 {
		t.Fatalf("after restart: %s (%s), runs %d", a.Status, a.Error, a.Runs)
	}
	h2.checkStored(a.ID, map[string][]byte{"jstack.txt": data})
	_, md, _ := h2.do(h2.req("GET", "/api/analyses/"+a.ID+"/report.md", nil))
	if !strings.Contains(string(md), sha(data)) {
		t.Errorf("report after restart: %s", md)
	}
}

// TestShutdown: an analysis that outlives the grace period is requeued and
// runs at the next start; a queued one stays queued; an upload under way
// fails with 503 and leaves nothing.
func TestShutdown(t *testing.T) {
	dir := t.TempDir()
	an := &fakeAnalyzer{block: make(chan struct{}), started: make(chan string, 2)}
	h := start(t, Config{Dir: dir, Analyzer: an})
	_, first := h.upload([]part{{field: "f", file: "a.txt", data: []byte("a")}})
	<-an.started
	_, second := h.upload([]part{{field: "f", file: "b.txt", data: []byte("b")}})

	// An upload that stalls halfway.
	pr, pw := io.Pipe()
	ctype, body := multipartBody(t, []part{{field: "f", file: "big.pcap", data: bytes.Repeat([]byte("x"), 1<<20)}})
	req := h.req("POST", "/api/analyses", pr)
	req.Header.Set("Content-Type", ctype)
	resc := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			resc <- 0
			return
		}
		resp.Body.Close()
		resc <- resp.StatusCode
	}()
	if _, err := pw.Write(body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}
	for len(h.leftovers()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.svc.Shutdown(ctx) }()
	// The next read sees the shutdown. The write is not waited for: once
	// the client has the 503 it may stop reading the body, and a write to
	// the pipe would then block until pw.Close (it hung this test for 10
	// minutes once, under load).
	go func() { _, _ = pw.Write(body[len(body)/2 : len(body)/2+4096]) }()
	select {
	case code := <-resc:
		if code != http.StatusServiceUnavailable {
			t.Errorf("upload during shutdown: %d, want 503", code)
		}
	case <-time.After(time.Minute):
		t.Fatal("no answer to the upload under way a minute after the shutdown began")
	}
	pw.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Shutdown has not returned a minute after its 100 ms grace period")
	}
	h.svc = nil
	h.srv.Close()

	h2 := start(t, Config{Dir: dir})
	if left := h2.leftovers(); len(left) > 0 {
		t.Errorf("left in uploads: %v", left)
	}
	all, _ := h2.svc.st.list("")
	if len(all) != 2 {
		t.Errorf("%d analyses after restart, want 2", len(all))
	}
	for _, id := range []string{first["id"], second["id"]} {
		if a := h2.wait(id); a.Status != StatusDone {
			t.Errorf("%s after restart: %s %s", id, a.Status, a.Error)
		}
	}
}

func TestRetention(t *testing.T) {
	h := start(t, Config{Retention: 24 * time.Hour})
	_, old := h.upload([]part{{field: "f", file: "a.txt", data: []byte("old")}})
	h.wait(old["id"])
	h.clock.Add(25 * time.Hour)
	_, young := h.upload([]part{{field: "f", file: "a.txt", data: []byte("young")}})
	h.wait(young["id"])
	n, err := h.svc.Sweep()
	if err != nil || n != 1 {
		t.Fatalf("swept %d, %v", n, err)
	}
	if code, _ := h.get(old["id"]); code != http.StatusNotFound {
		t.Errorf("old analysis: %d", code)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "analyses", old["id"])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old files kept: %v", err)
	}
	if code, _ := h.get(young["id"]); code != http.StatusOK {
		t.Errorf("young analysis: %d", code)
	}
}

func TestToken(t *testing.T) {
	const tok = "s3cret-token-for-tests-only"
	h := start(t, Config{Token: tok})
	parts := []part{{field: "f", file: "a.txt", data: []byte("a")}}

	code, ans := h.upload(parts)
	if code != http.StatusUnauthorized || ans["error"] == "" {
		t.Errorf("no token: %d %v", code, ans)
	}
	code, _ = h.upload(parts, bearer("wrong"))
	if code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	code, ans = h.upload(parts, bearer(tok))
	if code != http.StatusCreated {
		t.Fatalf("bearer: %d %v", code, ans)
	}
	h.wait(ans["id"], bearer(tok))
	for _, path := range []string{"/api/analyses", "/api/analyses/" + ans["id"], "/api/analyses/" + ans["id"] + "/report.html"} {
		if code, _, hd := h.do(h.req("GET", path, nil)); code != http.StatusUnauthorized || hd.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s without token: %d", path, code)
		}
	}
	if code, _, _ := h.do(h.req("DELETE", "/api/analyses/"+ans["id"], nil)); code != http.StatusUnauthorized {
		t.Errorf("DELETE without token: %d", code)
	}
	if code, _, _ := h.do(h.req("GET", "/healthz", nil)); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
	// Pages send to the login form.
	code, _, hd := h.do(h.req("GET", "/analyses/"+ans["id"], nil))
	if code != http.StatusSeeOther || !strings.HasPrefix(hd.Get("Location"), "/login?next=") {
		t.Errorf("page without login: %d %s", code, hd.Get("Location"))
	}
	// The login form: CSRF cookie and field, then the session cookie.
	code, body, hd := h.do(h.req("GET", "/login", nil))
	csrf := formCSRF(t, body)
	cookie := cookieNamed(hd, csrfCookie)
	if code != http.StatusOK || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login page: %d, cookie %+v", code, cookie)
	}
	login := func(token, field string) (int, http.Header) {
		req := h.req("POST", "/login", strings.NewReader(url.Values{"token": {token}, "csrf": {field}, "next": {"/analyses/" + ans["id"]}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		code, _, hd := h.do(req)
		return code, hd
	}
	if code, _ := login(tok, "forged"); code != http.StatusForbidden {
		t.Errorf("login without CSRF token: %d", code)
	}
	if code, hd := login("wrong", csrf); code != http.StatusUnauthorized || cookieNamed(hd, sessionCookie) != nil {
		t.Errorf("login with a wrong token: %d", code)
	}
	code, hd = login(tok, csrf)
	session := cookieNamed(hd, sessionCookie)
	if code != http.StatusSeeOther || session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || hd.Get("Location") != "/analyses/"+ans["id"] {
		t.Fatalf("login: %d %+v %s", code, session, hd.Get("Location"))
	}
	if strings.Contains(session.Value, tok) {
		t.Errorf("the session cookie holds the token")
	}
	withSession := func(r *http.Request) { r.AddCookie(session); r.AddCookie(cookie) }
	req := h.req("GET", "/analyses/"+ans["id"], nil)
	withSession(req)
	if code, _, _ := h.do(req); code != http.StatusOK {
		t.Errorf("page with session: %d", code)
	}
	// A session in the browser must add the CSRF token to write.
	code, _ = h.upload(parts, withSession)
	if code != http.StatusForbidden {
		t.Errorf("API upload by cookie without CSRF field: %d", code)
	}
	code, _ = h.upload(append(parts, part{field: "csrf", data: []byte(csrf)}), withSession)
	if code != http.StatusCreated {
		t.Errorf("API upload by cookie with CSRF field: %d", code)
	}
	if code, _, _ := h.do(h.req("GET", "/login?next=//evil.example/", nil)); code != http.StatusOK {
		t.Errorf("login page: %d", code)
	}
	if got := safeNext("//evil.example/"); got != "/" {
		t.Errorf("safeNext kept %q", got)
	}
}

func TestCSRFAndCrossSite(t *testing.T) {
	h := start(t, Config{})
	// A form post needs the token of the page's cookie.
	_, body, hd := h.do(h.req("GET", "/", nil))
	csrf, cookie := formCSRF(t, body), cookieNamed(hd, csrfCookie)
	post := func(field string, mod ...func(*http.Request)) (int, http.Header) {
		parts := []part{{field: "file", file: "a.txt", data: []byte("a")}}
		if field != "" {
			parts = append(parts, part{field: "csrf", data: []byte(field)})
		}
		ctype, b := multipartBody(t, parts)
		req := h.req("POST", "/analyses", bytes.NewReader(b))
		req.Header.Set("Content-Type", ctype)
		req.AddCookie(cookie)
		for _, m := range mod {
			m(req)
		}
		code, _, hd := h.do(req)
		return code, hd
	}
	if code, _ := post(""); code != http.StatusForbidden {
		t.Errorf("form without CSRF token: %d", code)
	}
	// Another token of the same length: its first character changed
	// (a token that begins with "x" must not get "x" again).
	wrong := "x"
	if csrf[0] == 'x' {
		wrong = "y"
	}
	if code, _ := post(wrong + csrf[1:]); code != http.StatusForbidden {
		t.Errorf("form with a wrong CSRF token: %d", code)
	}
	code, hd := post(csrf)
	if code != http.StatusSeeOther || !strings.HasPrefix(hd.Get("Location"), "/analyses/") {
		t.Fatalf("form upload: %d %s", code, hd.Get("Location"))
	}
	id := strings.TrimPrefix(hd.Get("Location"), "/analyses/")
	h.wait(id)
	if code, _ := post(csrf, func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }); code != http.StatusForbidden {
		t.Errorf("cross-origin form: %d", code)
	}
	if code, _ := post(csrf, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }); code != http.StatusForbidden {
		t.Errorf("cross-site form: %d", code)
	}
	// Deleting from the page.
	del := func(field string) int {
		req := h.req("POST", "/analyses/"+id+"/delete", strings.NewReader(url.Values{"csrf": {field}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		code, _, _ := h.do(req)
		return code
	}
	if code := del("nope"); code != http.StatusForbidden {
		t.Errorf("delete without CSRF token: %d", code)
	}
	if code := del(csrf); code != http.StatusSeeOther {
		t.Errorf("delete: %d", code)
	}
	if code, _ := h.get(id); code != http.StatusNotFound {
		t.Errorf("after delete: %d", code)
	}
}

func TestLocalOnly(t *testing.T) {
	h := start(t, Config{LocalOnly: true})
	for host, want := range map[string]int{"localhost:8080": 200, "127.0.0.1:8080": 200, "[::1]:8080": 200, "127.0.0.1": 200,
		"evil.example:8080": http.StatusMisdirectedRequest, "10.0.0.5:8080": http.StatusMisdirectedRequest} {
		req := h.req("GET", "/api/analyses", nil)
		req.Host = host
		if code, _, _ := h.do(req); code != want {
			t.Errorf("Host %s: %d, want %d", host, code, want)
		}
	}
}

func TestPagesAndHeaders(t *testing.T) {
	h := start(t, Config{})
	_, ans := h.upload([]part{{field: "f", file: "a.txt", data: []byte("a")}, {field: "name", data: []byte(`<script>alert("x")</script>`)}})
	h.wait(ans["id"])
	nonceRe := regexp.MustCompile(`script-src 'nonce-([^']+)'`)
	var nonces []string
	for _, path := range []string{"/", "/analyses/" + ans["id"], "/?q=script"} {
		code, body, hd := h.do(h.req("GET", path, nil))
		if code != http.StatusOK {
			t.Fatalf("%s: %d", path, code)
		}
		csp := hd.Get("Content-Security-Policy")
		m := nonceRe.FindStringSubmatch(csp)
		if m == nil || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("%s: CSP %q", path, csp)
		}
		nonces = append(nonces, m[1])
		for _, tag := range regexp.MustCompile(`<(script|style)[^>]*>`).FindAllString(string(body), -1) {
			if !strings.Contains(tag, `nonce="`+m[1]+`"`) {
				t.Errorf("%s: %s without the response's nonce", path, tag)
			}
		}
		if strings.Contains(string(body), `<script>alert`) {
			t.Errorf("%s: the analysis name is markup", path)
		}
		if regexp.MustCompile(`(src|href|action)="(https?:)?//`).Match(body) {
			t.Errorf("%s references another site", path)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if hd.Get(k) != v {
				t.Errorf("%s: %s %q", path, k, hd.Get(k))
			}
		}
	}
	if nonces[0] == nonces[1] {
		t.Errorf("the nonce is not per response")
	}
	_, body, hd := h.do(h.req("GET", "/api/analyses/"+ans["id"]+"/report.html", nil))
	csp := hd.Get("Content-Security-Policy")
	if !strings.Contains(csp, "sandbox allow-scripts;") && !strings.HasSuffix(csp, "sandbox allow-scripts") ||
		!strings.Contains(csp, "'sha256-") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "allow-same-origin") {
		t.Errorf("report CSP %q", csp)
	}
	// The only script allowed is the report's own, by its hash ('none'
	// when the report lists no socket and so has no script).
	hasScript := bytes.Contains(body, []byte(`<script id="cwf-script">`))
	if want := "script-src " + scriptHashes(body) + ";"; hasScript == (scriptHashes(body) == "'none'") || !strings.Contains(csp, want) {
		t.Errorf("report CSP %q does not allow exactly the report's own script (%s)", csp, want)
	}
	if want := styleHashes(body); !strings.Contains(csp, want) {
		t.Errorf("report CSP lacks the hashes of its styles")
	}
	code, body, _ := h.do(h.req("GET", "/healthz", nil))
	if code != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("healthz: %d %s", code, body)
	}
	code, body, _ = h.do(h.req("GET", "/api/nothing", nil))
	if code != http.StatusNotFound || !json.Valid(body) {
		t.Errorf("unknown endpoint: %d %s", code, body)
	}
	code, _, _ = h.do(h.req("GET", "/analyses/0123456789abcdef", nil))
	if code != http.StatusNotFound {
		t.Errorf("unknown analysis page: %d", code)
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"ss.txt": "ss.txt", "../../etc/passwd": "passwd", `C:\dumps\jstack.txt`: "jstack.txt", "..": "file", ".": "file",
		"": "file", ".bashrc": "bashrc", "a b\x00c.txt": "a_b_c.txt", "jstack-ü.txt": "jstack-_.txt",
		strings.Repeat("a", 300) + ".pcap": strings.Repeat("a", 95) + ".pcap", "<b>x</b>": "b_", "<i>x.txt": "_i_x.txt",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]int64{"2G": 2 << 30, "512M": 512 << 20, "300k": 300 << 10, "1024": 1024, "1GiB": 1 << 30, "8MB": 8 << 20} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-1", "G", "1.5G", "9999999999T"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) took it", in)
		}
	}
}

func formCSRF(t *testing.T, body []byte) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field in the form")
	}
	return string(m[1])
}

func cookieNamed(hd http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: hd}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSecondServiceOnSameData(t *testing.T) {
	h := start(t, Config{})
	_, err := New(Config{Dir: h.dir, Analyzer: &fakeAnalyzer{}, Now: h.clock.Now})
	if err == nil || !strings.Contains(err.Error(), "another cwforensics serve") {
		t.Errorf("second service: %v", err)
	}
}

// TestScriptHashes: the report's own script is allowed by the hash of its
// text, and nothing else that looks like a script is.
func TestScriptHashes(t *testing.T) {
	page := []byte(`<p>&lt;script&gt;x</p><script id="cwf-script">(function () {})();</script>`)
	h := sha256.Sum256([]byte("(function () {})();"))
	if got, want := scriptHashes(page), "'sha256-"+base64.StdEncoding.EncodeToString(h[:])+"'"; got != want {
		t.Errorf("scriptHashes = %s, want %s", got, want)
	}
	if got := scriptHashes([]byte(`<script>alert(1)</script>`)); got != "'none'" {
		t.Errorf("a script that is not the report's own is allowed: %s", got)
	}
}
