//go:build e2e

package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestServeInChromium drives the service's pages in headless Chromium as a
// person would: it chooses a real case's files in the upload form's file
// input, submits, watches the progress page turn into the report, reads
// what the report says, finds the analysis in the searchable list and
// deletes it. Every page must run under its Content-Security-Policy without
// a violation or a script error. Screenshots go to out/e2e/. Run by make
// e2e (go test -tags e2e -run TestServeInChromium ./cmd/cwforensics);
// E2E_CASE picks the case (java-pool-leak).
func TestServeInChromium(t *testing.T) {
	inRoot(t)
	root, _ := os.Getwd()
	chromium := os.Getenv("E2E_CHROMIUM")
	if chromium == "" {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				chromium = p
				break
			}
		}
	}
	if chromium == "" {
		t.Fatal("no chromium: apt-get install -y chromium, or make e2e, which does")
	}
	caseName := os.Getenv("E2E_CASE")
	if caseName == "" {
		caseName = "java-pool-leak"
	}
	caseDir := filepath.Join(root, "testdata/cases", caseName)
	var files []string
	ents, err := os.ReadDir(caseDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			files = append(files, filepath.Join(caseDir, e.Name()))
		}
	}
	out := filepath.Join(root, "out/e2e")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}

	base := startServe(t, ServeCmd{})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		// Nothing but the service's loopback address resolves.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1280, 1600),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()

	// Every console error, script exception and CSP violation fails the test.
	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError || ev.Entry.Level == log.LevelWarning ||
				strings.Contains(ev.Entry.Text, "Content Security Policy") {
				problems = append(problems, fmt.Sprintf("%s %s: %s (%s)", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeWarning {
				problems = append(problems, fmt.Sprintf("console %s", ev.Type))
			}
		}
	})
	// shot saves the whole page, or with viewport the window only: a full
	// page screenshot leaves out the report's sandboxed frame, which runs
	// in a process of its own.
	shot := func(name string, viewport ...bool) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var png []byte
			act := chromedp.FullScreenshot(&png, 100)
			if len(viewport) > 0 {
				act = chromedp.CaptureScreenshot(&png)
			}
			if err := act.Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(out, name), png, 0o644)
		})
	}

	// Upload through the form.
	var location string
	err = chromedp.Run(ctx,
		log.Enable(),
		runtime.Enable(),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#upload", chromedp.ByID),
		chromedp.SetUploadFiles("#files", files, chromedp.ByID),
		chromedp.SetValue("#name", "e2e "+caseName, chromedp.ByID),
		chromedp.WaitVisible("#chosen li", chromedp.ByQuery),
		shot("serve-upload.png"),
		chromedp.Click(`#upload button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#status", chromedp.ByID),
		chromedp.Location(&location),
	)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if !strings.Contains(location, "/analyses/") {
		t.Fatalf("after the upload the browser is at %s", location)
	}
	id := location[strings.LastIndex(location, "/")+1:]

	// The progress page polls and turns into the report by itself.
	var status, fileRows string
	err = chromedp.Run(ctx,
		chromedp.WaitVisible("#report", chromedp.ByID),
		chromedp.Text("#status", &status, chromedp.ByID),
		chromedp.Text("#files", &fileRows, chromedp.ByID),
		chromedp.Sleep(time.Second), // the frame's layout
		shot("serve-analysis.png", true),
	)
	if err != nil {
		t.Fatalf("waiting for the report: %v", err)
	}
	if !strings.EqualFold(status, "done") {
		t.Errorf("status %q", status)
	}
	if !strings.Contains(fileRows, "capture.pcap") || !strings.Contains(fileRows, sha256File(t, filepath.Join(caseDir, "capture.pcap"))) {
		t.Errorf("the files table lacks capture.pcap or its SHA-256:\n%s", fileRows)
	}

	// The report, as the frame shows it.
	var verdict, title string
	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/api/analyses/"+id+"/report.html"),
		chromedp.WaitVisible("#verdict", chromedp.ByID),
		chromedp.Text("#verdict", &verdict, chromedp.ByID),
		chromedp.Text("h1", &title, chromedp.ByQuery),
		shot("serve-report.png"),
	)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if title != "CLOSE_WAIT analysis" || !strings.Contains(verdict, "CLOSE_WAIT") || !strings.Contains(verdict, "pid") {
		t.Errorf("report title %q, verdict %q", title, verdict)
	}
	if caseName == "java-pool-leak" && !strings.Contains(verdict, "Connection pool leaks connections in java") {
		t.Errorf("verdict %q", verdict)
	}

	// The list finds it by name, with its verdict; the page deletes it.
	var row string
	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.SetValue(`input[name=q]`, "e2e "+caseName, chromedp.ByQuery),
		chromedp.Submit(`input[name=q]`, chromedp.ByQuery),
		chromedp.WaitVisible("#analyses", chromedp.ByID),
		chromedp.Text("#analyses tbody", &row, chromedp.ByQuery),
		shot("serve-list.png"),
	)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if !strings.Contains(row, "e2e "+caseName) || !strings.Contains(strings.ToLower(row), "done") {
		t.Errorf("list row %q", row)
	}
	var after string
	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/analyses/"+id),
		chromedp.Click(`form[action$="/delete"] button`, chromedp.ByQuery),
		chromedp.WaitVisible("#upload", chromedp.ByID),
		chromedp.Navigate(base+"/analyses/"+id),
		chromedp.Text("#error", &after, chromedp.ByID),
	)
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if !strings.Contains(after, "no such analysis") {
		t.Errorf("after delete the page says %q", after)
	}

	mu.Lock()
	defer mu.Unlock()
	var real []string
	for _, p := range problems {
		// The deleted analysis's page answers 404 on purpose.
		if strings.Contains(p, "404") && strings.Contains(p, id) {
			continue
		}
		real = append(real, p)
	}
	if len(real) > 0 {
		t.Errorf("the browser reported:\n%s", strings.Join(real, "\n"))
	}
	t.Logf("screenshots in %s: serve-upload.png, serve-analysis.png, serve-report.png, serve-list.png", out)
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(data))
}
