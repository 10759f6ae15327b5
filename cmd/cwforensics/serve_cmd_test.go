package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/serve"
)

// startServe runs the serve command on a free loopback port until the
// test ends, and returns its base URL.
func startServe(t *testing.T, c ServeCmd) string {
	t.Helper()
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.Data == "" {
		c.Data = t.TempDir()
	}
	c.MaxUpload = cmpStr(c.MaxUpload, "64M")
	c.Workers = max(c.Workers, 2)
	c.Grace = max(c.Grace, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	var stderr bytes.Buffer
	e := &env{Stdout: io.Discard, Stderr: &stderr, Log: slog.New(slog.DiscardHandler)}
	go func() { done <- c.serve(ctx, e, func(a string) { addr <- a }) }()
	select {
	case a := <-addr:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve returned %v", err)
			}
		})
		return "http://" + a
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v (%s)", err, stderr.String())
	}
	return ""
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// uploadDir posts every file of a folder, with the form fields given.
func uploadDir(t *testing.T, base, dir string, fields map[string]string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		w, _ := mw.CreateFormFile("file", e.Name())
		w.Write(data)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	resp, err := http.Post(base+"/api/analyses", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %v", resp.StatusCode, err)
	}
	return v.ID
}

func getBody(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// waitDone polls an analysis until it is done.
func waitDone(t *testing.T, base, id string) {
	t.Helper()
	for range 3000 {
		_, b := getBody(t, base+"/api/analyses/"+id)
		var a struct{ Status, Error string }
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		switch a.Status {
		case "done":
			return
		case "failed":
			t.Fatalf("analysis failed: %s", a.Error)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("analysis %s did not finish", id)
}

// TestServeReportsAreTheCLIs uploads real cases to the service and checks
// that its three reports are byte for byte what analyze writes for the
// same files, named as uploaded.
func TestServeReportsAreTheCLIs(t *testing.T) {
	inRoot(t)
	root, _ := os.Getwd()
	base := startServe(t, ServeCmd{})
	for _, tc := range []struct {
		name  string
		local string
	}{{"java-pool-leak", ""}, {"hostile-names", ""}, {"go-server-noclose", "127.0.0.1"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(root, "testdata/cases", tc.name)
			fields := map[string]string{"name": tc.name}
			args := []string{"analyze"}
			if tc.local != "" {
				fields["local"] = tc.local
				args = append(args, "--local", tc.local)
			}
			id := uploadDir(t, base, dir, fields)
			waitDone(t, base, id)

			out := t.TempDir()
			for _, f := range []string{"report.html", "report.md", "report.json"} {
				args = append(args, "-o", filepath.Join(out, f))
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					args = append(args, e.Name())
				}
			}
			t.Chdir(dir)
			if code, _, stderr := cli(t, args...); code != 0 {
				t.Fatalf("analyze: exit %d: %s", code, stderr)
			}
			for _, f := range []string{"report.html", "report.md", "report.json"} {
				want, err := os.ReadFile(filepath.Join(out, f))
				if err != nil {
					t.Fatal(err)
				}
				code, got := getBody(t, base+"/api/analyses/"+id+"/"+f)
				if code != http.StatusOK || !bytes.Equal(got, want) {
					t.Errorf("%s: %d, %d bytes differ from analyze's %d", f, code, len(got), len(want))
				}
			}
			t.Chdir(root)
		})
	}
}

func TestServeFlags(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"serve", "--listen", "0.0.0.0:0", "--data", dir}, "not a loopback address: give --token-file"},
		{[]string{"serve", "--listen", "[::]:0", "--data", dir}, "not a loopback address"},
		{[]string{"serve", "--listen", ":0", "--data", dir}, "not a loopback address"},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--token-file", short, "--data", dir}, "at least 16 characters"},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--token-file", filepath.Join(dir, "none"), "--data", dir}, "read --token-file"},
		{[]string{"serve", "--max-upload", "lots", "--data", dir}, "--max-upload"},
		{[]string{"serve", "--listen", "nonsense", "--data", dir}, "want HOST:PORT"},
	} {
		code, _, stderr := cli(t, tc.args...)
		if code != exitFailure || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.stderr)
		}
	}
}

// TestServeToken: a non-loopback listener with a token answers only with
// the token.
func TestServeToken(t *testing.T) {
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	base := startServe(t, ServeCmd{Listen: "127.0.0.1:0", TokenFile: tokFile})
	if code, _ := getBody(t, base+"/api/analyses"); code != http.StatusUnauthorized {
		t.Errorf("without token: %d", code)
	}
	req, _ := http.NewRequest("GET", base+"/api/analyses", nil)
	req.Header.Set("Authorization", "Bearer 0123456789abcdef0123456789abcdef")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with token: %d", resp.StatusCode)
	}
}

// TestCLIAnalyzerProgressAndCancel: the adapter reports the bytes it read,
// the files recognised, the packets and connections, and stops on its
// context.
func TestCLIAnalyzerProgressAndCancel(t *testing.T) {
	inRoot(t)
	dir, _ := filepath.Abs("testdata/cases/java-pool-leak")
	files := []string{"capture.pcap", "ss-tanpoei.txt", "jstack.txt", "COMMANDS.txt"}
	var total int64
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	var last serve.Progress
	calls := 0
	a := cliAnalyzer{log: slog.New(slog.DiscardHandler)}
	rep, err := a.Analyze(context.Background(), dir, files, serve.Options{}, func(p serve.Progress) { last = p; calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if calls < 2 || last.Recognised != 3 || last.BytesTotal != total || last.BytesRead == 0 || last.BytesRead > total || last.Packets == 0 || last.Connections == 0 {
		t.Errorf("%d progress calls, last %+v", calls, last)
	}
	if !bytes.Contains(rep.Markdown, []byte("ss-tanpoei.txt:")) || bytes.Contains(rep.Markdown, []byte(dir)) {
		t.Errorf("the report does not cite the files by their names alone")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Analyze(ctx, dir, files, serve.Options{}, func(serve.Progress) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled analysis: %v", err)
	}
	if _, err := a.Analyze(context.Background(), dir, files, serve.Options{Local: []string{"nonsense"}}, func(serve.Progress) {}); err == nil {
		t.Errorf("a bad local address was taken")
	}
}

// TestServeDocExamples runs docs/serve.md's curl session (curl and jq
// needed) against a service with a token, in a folder holding the files it
// uploads, and checks what it leaves: the Markdown report, the analysis
// deleted.
func TestServeDocExamples(t *testing.T) {
	inRoot(t)
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	doc, err := os.ReadFile("docs/serve.md")
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(doc, []byte("```sh\nT=\"Authorization"))
	if start < 0 {
		t.Fatal("docs/serve.md has no curl session starting with T=\"Authorization")
	}
	block := doc[start+len("```sh\n"):]
	block = block[:bytes.Index(block, []byte("```"))]

	work := t.TempDir()
	tokFile := filepath.Join(work, "token")
	os.WriteFile(tokFile, []byte("doc-example-token-0123456789\n"), 0o600)
	for dst, src := range map[string]string{"capture.pcap": "capture.pcap", "ss.txt": "ss-tanpoei.txt", "jstack.txt": "jstack.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata/cases/java-pool-leak", src))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(work, dst), data, 0o600)
	}
	base := startServe(t, ServeCmd{TokenFile: tokFile})
	script := strings.NewReplacer("/etc/cwforensics/token", tokFile, "http://127.0.0.1:8080", base).Replace(string(block))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the doc's session failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte(`"done"`)) || !bytes.Contains(out, []byte("checkout incident")) {
		t.Errorf("the session printed:\n%s", out)
	}
	md, err := os.ReadFile(filepath.Join(work, "report.md"))
	if err != nil || !bytes.HasPrefix(md, []byte("# CLOSE\\_WAIT analysis")) {
		t.Errorf("report.md: %v %.80q", err, md)
	}
	req, _ := http.NewRequest("GET", base+"/api/analyses", nil)
	req.Header.Set("Authorization", "Bearer doc-example-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l struct{ Analyses []any }
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || len(l.Analyses) != 0 {
		t.Errorf("after the session's DELETE: %d analyses, %v", len(l.Analyses), err)
	}
}
