// Command loadserve puts cwforensics serve under load on this machine and
// reports its peak memory and throughput: it builds the command, writes a
// synthetic capture of about -size bytes with capgen to a temporary
// folder, starts the service on a free loopback port, and at once uploads
// the capture and -small analyses of the real cases in testdata/cases (each
// with a file of its own, so that none reuses another's result). It waits
// for every analysis, stops the service with SIGTERM, removes the
// temporary folder and prints the figures. It talks only to 127.0.0.1 and
// gives up after -deadline.
//
//	go run ./testdata/tools/loadserve                 # 2 GiB capture, 50 small analyses
//	go run ./testdata/tools/loadserve -size 256M -small 10
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
	"github.com/cwforensics/cwforensics/serve"
)

func main() {
	size := flag.String("size", "2G", "size of the synthetic capture (k, M, G: binary units)")
	small := flag.Int("small", 50, "small analyses uploaded at the same time")
	workers := flag.Int("workers", 2, "the service's --workers")
	deadline := flag.Duration("deadline", 30*time.Minute, "give up after this long")
	keep := flag.Bool("keep", false, "keep the temporary folder")
	flag.Parse()
	if err := run(*size, *small, *workers, *deadline, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "loadserve:", err)
		os.Exit(1)
	}
}

func run(sizeFlag string, small, workers int, deadline time.Duration, keep bool) error {
	target, err := serve.ParseSize(sizeFlag)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	tmp, err := os.MkdirTemp("", "loadserve-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("temporary folder:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	bin := filepath.Join(tmp, "cwforensics")
	fmt.Println("building cwforensics ...")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/cwforensics").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v: %s", err, out)
	}

	capture := filepath.Join(tmp, "capture.pcap")
	t0 := time.Now()
	st, opts, err := writeCapture(capture, target)
	if err != nil {
		return err
	}
	fi, err := os.Stat(capture)
	if err != nil {
		return err
	}
	fmt.Printf("capture: %s, %d packets, %d connections (%d left in CLOSE_WAIT), written in %s\n",
		human(fi.Size()), st.Packets, st.Conns, st.CloseWait, time.Since(t0).Round(time.Millisecond))

	cases, err := filepath.Glob("testdata/cases/*")
	if err != nil || len(cases) == 0 {
		return fmt.Errorf("no testdata/cases (run from the repository root): %v", err)
	}

	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	var logb bytes.Buffer
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(port), "--data", filepath.Join(tmp, "data"),
		"--max-upload", strconv.FormatInt(fi.Size()+fi.Size()/10+(64<<20), 10), "--workers", strconv.Itoa(workers), "--timeout", "20m", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	if err := waitHealthy(ctx, base); err != nil {
		return fmt.Errorf("%w; service log:\n%s", err, logb.String())
	}
	mem := &memWatch{pid: cmd.Process.Pid, stop: make(chan struct{})}
	mem.start()

	start := time.Now()
	var wg sync.WaitGroup
	var big bigResult
	wg.Add(1)
	go func() {
		defer wg.Done()
		big = uploadBig(ctx, base, capture)
	}()
	lat := make([]time.Duration, small)
	errs := make([]error, small)
	for i := range small {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[i], errs[i] = uploadSmall(ctx, base, cases[i%len(cases)], i)
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	mem.end()

	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			fmt.Println("small analysis:", err)
		}
	}
	if big.err != nil {
		fmt.Println("large analysis:", big.err)
	}
	slices.Sort(lat)
	fmt.Printf("\nservice: --workers %d, all analyses done in %s\n", workers, wall.Round(time.Millisecond))
	fmt.Printf("large upload: %s in %s = %.0f MiB/s; analysed in %s = %.0f MiB/s, %.1f M packets/s (%s)\n",
		human(fi.Size()), big.upload.Round(time.Millisecond), mibps(fi.Size(), big.upload),
		big.analysis.Round(time.Millisecond), mibps(fi.Size(), big.analysis), float64(st.Packets)/big.analysis.Seconds()/1e6, big.verdict)
	if small > 0 {
		fmt.Printf("small analyses: %d (%d failed), each upload to done: median %s, 95th %s, max %s; %.1f analyses/s over the run\n",
			small, failed, lat[small/2].Round(time.Millisecond), lat[min(small-1, small*95/100)].Round(time.Millisecond),
			lat[small-1].Round(time.Millisecond), float64(small)/wall.Seconds())
	}
	fmt.Printf("service memory: peak RSS %s (VmHWM), highest sampled %s\n", human(mem.hwm), human(mem.peak))
	fmt.Printf("capture options: %+v\n", opts)
	if failed > 0 || big.err != nil {
		return errors.New("some analyses failed")
	}
	return nil
}

// writeCapture writes a capgen.Load capture of about target bytes: the
// number of connections is scaled from a small sample of the same shape.
func writeCapture(path string, target int64) (capgen.LoadStats, capgen.LoadOptions, error) {
	o := capgen.LoadOptions{Conns: 10000, Open: 5000, Payload: 1200, LeakEvery: 100, Seed: 1, Step: 200 * time.Microsecond}
	var cw countWriter
	if _, err := capgen.Load(&cw, o); err != nil {
		return capgen.LoadStats{}, o, err
	}
	o.Conns = max(int(float64(o.Conns)*float64(target)/float64(cw.n)), 100)
	f, err := os.Create(path)
	if err != nil {
		return capgen.LoadStats{}, o, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	st, err := capgen.Load(w, o)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return st, o, err
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

type bigResult struct {
	upload, analysis time.Duration
	verdict          string
	err              error
}

// uploadBig streams the capture through a pipe (never whole in memory)
// and waits for its analysis.
func uploadBig(ctx context.Context, base, path string) bigResult {
	var r bigResult
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		defer f.Close()
		w, err := mw.CreateFormFile("file", filepath.Base(path))
		if err == nil {
			_, err = io.Copy(w, f)
		}
		if err == nil {
			err = mw.WriteField("name", "load test: large capture")
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	t0 := time.Now()
	id, err := post(ctx, base, mw.FormDataContentType(), pr)
	r.upload = time.Since(t0)
	if err != nil {
		r.err = err
		return r
	}
	t1 := time.Now()
	a, err := waitDone(ctx, base, id)
	r.analysis, r.err = time.Since(t1), err
	if a.Verdict != nil {
		r.verdict = a.Verdict.Severity + ": " + strconv.Itoa(a.Verdict.CloseWait) + " in CLOSE_WAIT"
	}
	return r
}

// uploadSmall uploads a case's files plus one of its own and waits for
// the analysis; it returns the time from upload to done.
func uploadSmall(ctx context.Context, base, dir string, i int) (time.Duration, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, err
		}
		w, _ := mw.CreateFormFile("file", e.Name())
		w.Write(data)
	}
	w, _ := mw.CreateFormFile("file", "note.txt")
	fmt.Fprintf(w, "load test upload %d\n", i)
	mw.WriteField("name", fmt.Sprintf("load test %d: %s", i, filepath.Base(dir)))
	mw.Close()
	t0 := time.Now()
	id, err := post(ctx, base, mw.FormDataContentType(), &buf)
	if err != nil {
		return 0, err
	}
	a, err := waitDone(ctx, base, id)
	if err == nil && a.ReusedFrom != "" {
		err = fmt.Errorf("%s reused %s", id, a.ReusedFrom)
	}
	return time.Since(t0), err
}

func post(ctx context.Context, base, ctype string, body io.Reader) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/analyses", body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var v struct{ ID, Error string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("upload: %d %s %v", resp.StatusCode, v.Error, err)
	}
	return v.ID, nil
}

func waitDone(ctx context.Context, base, id string) (*serve.Analysis, error) {
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/analyses/"+id, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		var a serve.Analysis
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		switch a.Status {
		case serve.StatusDone:
			return &a, nil
		case serve.StatusFailed:
			return &a, fmt.Errorf("analysis %s failed: %s", id, a.Error)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitHealthy(ctx context.Context, base string) error {
	for range 200 {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("the service did not come up")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// memWatch samples the service's resident memory every 20ms and reads its
// high-water mark at the end.
type memWatch struct {
	pid       int
	stop      chan struct{}
	done      sync.WaitGroup
	peak, hwm int64
}

func (m *memWatch) start() {
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _ := status(m.pid, "VmRSS:"); rss > m.peak {
				m.peak = rss
			}
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
}

func (m *memWatch) end() {
	close(m.stop)
	m.done.Wait()
	m.hwm, _ = status(m.pid, "VmHWM:")
}

// status reads a "kB" field of /proc/PID/status, in bytes.
func status(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func mibps(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }
