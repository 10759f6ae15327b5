package collect

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// dumps takes --dumps rounds of the thread or goroutine dumps, a
// --dump-interval apart; a Node.js report is taken once.
func (c *collector) dumps(ctx context.Context) {
	var goPIDs []int
	for _, p := range c.m.Processes {
		if p.Runtime == RuntimeGo {
			goPIDs = append(goPIDs, p.PID)
		}
	}
	if c.o.PprofURL == "" {
		for _, pid := range goPIDs {
			c.done(c.step(phaseDumps, Step{Name: "goroutine dump", PID: pid, Status: StatusSkipped, Note: "Go process and no --pprof-url: no goroutine dump"}))
		}
	}
	for i := range c.m.Processes {
		p := &c.m.Processes[i]
		if p.Runtime == RuntimeNode {
			c.nodeReport(ctx, p)
		}
	}
	for round := 1; round <= c.o.Dumps; round++ {
		if round > 1 && !sleep(ctx, c.o.DumpInterval) {
			return
		}
		var wg sync.WaitGroup
		for _, p := range c.m.Processes {
			var st *Step
			var cmd Command
			var out string
			pid := strconv.Itoa(p.PID)
			switch p.Runtime {
			case RuntimeJVM:
				cmd = c.jcmd(p)
				st = c.step(phaseDumps, Step{Name: "jcmd Thread.print", PID: p.PID, Round: round})
				if cmd.UID != nil {
					st.Note = fmt.Sprintf("run as uid %d, the JVM's user", *cmd.UID)
				}
				out = "jcmd-" + pid + "-" + strconv.Itoa(round) + ".txt"
			case RuntimePython:
				cmd = Command{Name: "py-spy", Args: []string{"dump", "--pid", pid}}
				st = c.step(phaseDumps, Step{Name: "py-spy dump", PID: p.PID, Round: round})
				out = "py-spy-" + pid + "-" + strconv.Itoa(round) + ".txt"
			default:
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); c.command(ctx, st, cmd, out, false) }()
		}
		if c.o.PprofURL != "" {
			debug2, debug1, _ := pprofURLs(c.o.PprofURL, c.o.AllowRemotePprof)
			pid := 0
			name := "goroutines"
			if len(goPIDs) == 1 {
				pid = goPIDs[0]
				name += "-" + strconv.Itoa(pid)
			}
			st2 := c.step(phaseDumps, Step{Name: "goroutine dump debug=2", PID: pid, Round: round})
			wg.Add(1)
			go func() { defer wg.Done(); c.fetch(ctx, st2, debug2, name+"-debug2-"+strconv.Itoa(round)+".txt") }()
			if round == 1 {
				st1 := c.step(phaseDumps, Step{Name: "goroutine profile debug=1", PID: pid})
				wg.Add(1)
				go func() { defer wg.Done(); c.fetch(ctx, st1, debug1, name+"-debug1.txt") }()
			}
		}
		wg.Wait()
	}
}

// jcmd is the thread dump command for a JVM: the jcmd beside its java when
// there is one (the same JDK), else the one in PATH; run as the JVM's user
// when collect runs as another, which the attach mechanism requires.
func (c *collector) jcmd(p Process) Command {
	cmd := Command{Name: "jcmd", Args: []string{strconv.Itoa(p.PID), "Thread.print", "-l"}}
	if p.Exe != "" && path.Base(p.Exe) == "java" {
		own := path.Join(path.Dir(p.Exe), "jcmd")
		if _, err := c.o.Runner.LookPath(own); err == nil {
			cmd.Name = own
		}
	}
	if p.UID != nil && p.GID != nil && *p.UID != c.o.UID {
		cmd.UID, cmd.GID = p.UID, p.GID
	}
	return cmd
}

// pprofURLs makes the goroutine endpoint's debug=2 and debug=1 URLs from a
// pprof base URL (http://localhost:6060, .../debug/pprof/) or the endpoint
// itself (.../debug/pprof/goroutine). A host that is not loopback is
// refused unless allowRemote: the evidence stays on this machine.
func pprofURLs(raw string, allowRemote bool) (debug2, debug1 string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("--pprof-url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", fmt.Errorf("--pprof-url %q: want an http or https URL", raw)
	}
	host := u.Hostname()
	if host == "" {
		return "", "", fmt.Errorf("--pprof-url %q: no host", raw)
	}
	if !allowRemote && !isLoopback(host) {
		return "", "", fmt.Errorf("--pprof-url %q: %s is not a loopback address (127.0.0.0/8, ::1, localhost); --allow-remote-pprof allows it", raw, host)
	}
	p := strings.TrimSuffix(u.Path, "/")
	switch {
	case strings.HasSuffix(p, "/goroutine"):
	case strings.HasSuffix(p, "/debug/pprof"):
		p += "/goroutine"
	case p == "":
		p = "/debug/pprof/goroutine"
	default:
		return "", "", fmt.Errorf("--pprof-url %q: want the pprof base (http://localhost:6060, .../debug/pprof/) or its goroutine endpoint", raw)
	}
	u.Path, u.RawPath, u.Fragment = p, "", ""
	q := u.Query()
	q.Set("debug", "2")
	u.RawQuery = q.Encode()
	debug2 = u.String()
	q.Set("debug", "1")
	u.RawQuery = q.Encode()
	return debug2, u.String(), nil
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpClient is the client for the pprof endpoint: no proxy (the request
// must not leave the machine through one), no redirects (nor through one).
func (c *collector) httpClient() *http.Client {
	if c.o.HTTP != nil {
		return c.o.HTTP
	}
	return &http.Client{
		Transport: &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// fetch saves the body of a GET of u into out.
func (c *collector) fetch(ctx context.Context, st *Step, u, out string) {
	defer c.done(st)
	st.URL = u
	if !c.acquire(ctx) {
		st.Status, st.Error = StatusSkipped, "interrupted"
		return
	}
	defer c.release()
	st.Started = c.stamp()
	cctx, cancel := context.WithTimeout(ctx, c.o.CommandTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, u, nil)
	if err != nil {
		st.Status, st.Error = StatusFailed, err.Error()
		return
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		st.Finished = c.stamp()
		st.Status, st.Error = StatusFailed, err.Error()
		return
	}
	defer resp.Body.Close()
	code := resp.StatusCode
	st.ExitCode = &code
	if code != http.StatusOK {
		st.Finished = c.stamp()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, stderrLimit))
		st.Status, st.Error, st.Stderr = StatusFailed, "HTTP "+resp.Status, strings.ToValidUTF8(strings.TrimSpace(string(body)), "?")
		return
	}
	f, ok := c.stepOutput(st, out)
	if !ok {
		return
	}
	defer f.Close()
	n, err := io.Copy(f, resp.Body)
	st.Finished, st.Size = c.stamp(), n
	if err != nil {
		st.Status, st.Error = StatusFailed, err.Error()
		return
	}
	st.Status = StatusOK
}

// sigUSR2 is the signal Node.js writes its diagnostic report on by default.
const sigUSR2 = syscall.Signal(0xc)

// nodeOptions is what a Node.js process's command line and NODE_OPTIONS say
// about its diagnostic report.
type nodeOptions struct {
	onSignal bool   // --report-on-signal
	signal   string // --report-signal, default SIGUSR2
	dir      string // --report-directory / --report-dir
	filename string // --report-filename
}

func parseNodeOptions(args, environ []string) nodeOptions {
	o := nodeOptions{signal: "SIGUSR2"}
	// Node's own options come before the script; what follows is the
	// script's. NODE_OPTIONS holds only Node's.
	var all []string
	for i, a := range args {
		if i > 0 && (a == "--" || !strings.HasPrefix(a, "-")) {
			break
		}
		if i > 0 {
			all = append(all, a)
		}
	}
	for _, e := range environ {
		if v, ok := strings.CutPrefix(e, "NODE_OPTIONS="); ok {
			all = append(all, strings.Fields(v)...)
		}
	}
	for i := 0; i < len(all); i++ {
		a := all[i]
		k, v, hasV := strings.Cut(a, "=")
		val := func() string {
			if hasV {
				return v
			}
			if i+1 < len(all) {
				i++
				return all[i]
			}
			return ""
		}
		switch k {
		case "--report-on-signal", "--experimental-report-on-signal":
			o.onSignal = true
		case "--report-signal":
			o.signal = val()
		case "--report-directory", "--report-dir":
			o.dir = val()
		case "--report-filename":
			o.filename = val()
		}
	}
	return o
}

// nodeReport asks a Node.js process for its diagnostic report, only when
// it was started with --report-on-signal on SIGUSR2 and its status shows it
// catches SIGUSR2 (otherwise SIGUSR2 would kill it), and copies the report
// into the folder.
func (c *collector) nodeReport(ctx context.Context, p *Process) {
	st := c.step(phaseDumps, Step{Name: "node report", PID: p.PID})
	defer c.done(st)
	no := parseNodeOptions(p.args, p.environ)
	switch {
	case !no.onSignal:
		st.Status, st.Note = StatusSkipped, "not started with --report-on-signal (command line or NODE_OPTIONS): no signal sent"
		return
	case no.signal != "SIGUSR2":
		st.Status, st.Note = StatusSkipped, "--report-signal "+no.signal+": only SIGUSR2 is sent"
		return
	case p.sigCgt&(1<<(uint(sigUSR2)-1)) == 0:
		st.Status, st.Note = StatusSkipped, "the process does not catch SIGUSR2 (SigCgt in /proc/PID/status): no signal sent"
		return
	}
	dir := no.dir
	if dir == "" {
		dir = p.cwd
	}
	if !path.IsAbs(dir) {
		dir = path.Join(p.cwd, dir)
	}
	pid := strconv.Itoa(p.PID)
	root := pid + "/root" // the process's own view of the file system
	want := func(name string) bool {
		if no.filename != "" {
			return name == no.filename
		}
		return strings.HasPrefix(name, "report.") && strings.HasSuffix(name, ".json") && strings.Contains(name, "."+pid+".")
	}
	before := map[string]bool{}
	if names, err := c.o.Proc.ReadDir(root + dir); err == nil {
		for _, n := range names {
			before[n] = true
		}
	}
	st.Started = c.stamp()
	st.Note = "SIGUSR2 sent; report read from " + dir
	if err := c.o.Proc.Signal(p.PID, sigUSR2); err != nil {
		st.Finished = c.stamp()
		st.Status, st.Error = StatusFailed, "send SIGUSR2: "+err.Error()
		return
	}
	deadline := time.NewTimer(c.o.CommandTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		names, _ := c.o.Proc.ReadDir(root + dir)
		slices.Sort(names)
		for _, n := range names {
			if !want(n) || (before[n] && no.filename == "") {
				continue
			}
			data, err := c.o.Proc.ReadFile(root + path.Join(dir, n))
			if err != nil || !completeJSON(data) {
				continue // still being written
			}
			out := "node-report-" + pid + ".json"
			st.Read = path.Join(dir, n)
			f, err := c.output(out)
			if err == nil {
				_, err = f.Write(data)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			st.Finished = c.stamp()
			if err != nil {
				st.Status, st.Error = StatusFailed, err.Error()
				return
			}
			st.Output, st.Size, st.Status = out, int64(len(data)), StatusOK
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			st.Finished = c.stamp()
			st.Status, st.Error = StatusTimeout, "no report appeared in "+dir
			return
		case <-ctx.Done():
			st.Status, st.Error = StatusFailed, "interrupted"
			return
		}
	}
}

// completeJSON reports whether data ends like a finished JSON document.
func completeJSON(data []byte) bool {
	s := strings.TrimSpace(string(data))
	return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")
}
