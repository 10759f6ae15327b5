// Package node reads Node.js diagnostic reports (process.report.writeReport,
// --report-on-signal, --report-uncaught-exception, --report-on-fatalerror;
// report versions 1 to 5, Node.js 11.8 to 24) into the process they
// describe, the JavaScript stack as a one-thread dumps.ThreadDump, and every
// libuv tcp handle as a dumps.RuntimeSocket with its descriptor, both
// endpoints and whether it is reading.
package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// Report is what is kept of one diagnostic report.
type Report struct {
	Process dumps.RuntimeProcess
	// Stack is the JavaScript stack as one thread ("main"), nil when the
	// report has none (a report made on a signal often has no frames).
	Stack   *dumps.ThreadDump
	Sockets []dumps.RuntimeSocket
	// Handles counts the libuv handles by type.
	Handles map[string]int
}

type report struct {
	Header struct {
		ReportVersion int             `json:"reportVersion"`
		Event         string          `json:"event"`
		Trigger       string          `json:"trigger"`
		DumpEventTime string          `json:"dumpEventTime"`
		ProcessID     int             `json:"processId"`
		Cwd           string          `json:"cwd"`
		CommandLine   json.RawMessage `json:"commandLine"`
		NodeVersion   string          `json:"nodejsVersion"`
	} `json:"header"`
	JavaScriptStack struct {
		Message string   `json:"message"`
		Stack   []string `json:"stack"`
	} `json:"javascriptStack"`
	Libuv []handle `json:"libuv"`
	// Workers are the worker threads' own reports, each with its handles.
	Workers    []report `json:"workers"`
	UserLimits map[string]struct {
		Soft json.RawMessage `json:"soft"`
	} `json:"userLimits"`
}

type handle struct {
	Type           string    `json:"type"`
	IsActive       *bool     `json:"is_active"`
	IsReferenced   *bool     `json:"is_referenced"`
	Address        string    `json:"address"`
	FD             *int      `json:"fd"`
	LocalEndpoint  *endpoint `json:"localEndpoint"`
	RemoteEndpoint *endpoint `json:"remoteEndpoint"`
	WriteQueueSize *uint64   `json:"writeQueueSize"`
	Readable       *bool     `json:"readable"`
	Writable       *bool     `json:"writable"`
}

type endpoint struct {
	Host string          `json:"host"`
	IP4  string          `json:"ip4"`
	IP6  string          `json:"ip6"`
	Port json.RawMessage `json:"port"`
}

// Match recognises a diagnostic report: a JSON object whose first key is
// "header" and whose head names a report version and a Node.js version.
func Match(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	t = bytes.TrimLeft(t[1:], " \t\r\n")
	return bytes.HasPrefix(t, []byte(`"header"`)) && bytes.Contains(head, []byte(`"reportVersion"`)) && bytes.Contains(head, []byte(`"nodejsVersion"`))
}

// Read reads a diagnostic report into a dumps.Evidence of kind
// node-report. A report that is not valid JSON (cut while being written)
// gives a warning and no records.
func Read(r io.Reader, name string) (*dumps.Evidence, error) {
	rep, warns, err := ReadReport(r, name)
	ev := &dumps.Evidence{File: name, Kind: dumps.KindNodeReport, Warnings: warns}
	if rep != nil {
		ev.Processes = []dumps.RuntimeProcess{rep.Process}
		ev.RuntimeSockets = rep.Sockets
		if rep.Stack != nil {
			ev.ThreadDumps = []*dumps.ThreadDump{rep.Stack}
		}
	}
	return ev, err
}

// ReadReport reads one diagnostic report. Only I/O failures are errors.
func ReadReport(r io.Reader, name string) (*Report, []dumps.Warning, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	rep, warns := decodeReport(data, name)
	if rep == nil {
		return nil, warns, nil
	}
	h := rep.Header
	out := &Report{Handles: map[string]int{}}
	out.Process = dumps.RuntimeProcess{
		Pos: dumps.Pos{File: name, Line: keyLine(data, `"header"`)}, Runtime: "node", PID: h.ProcessID,
		Version: dumps.Bound(h.NodeVersion), Cwd: dumps.Bound(h.Cwd), Command: dumps.Bound(commandLine(h.CommandLine)), Trigger: dumps.Bound(h.Trigger),
	}
	if t, err := time.Parse(time.RFC3339, h.DumpEventTime); err == nil {
		out.Process.Time = t.UTC()
	} else if t, err := time.Parse("2006-01-02T15:04:05Z07:00", h.DumpEventTime); err == nil {
		out.Process.Time = t.UTC()
	}
	if up, ok := uptime(data); ok {
		out.Process.Uptime = up
	}
	if l, ok := rep.UserLimits["open_files"]; ok {
		if n, err := strconv.Atoi(strings.Trim(string(l.Soft), `"`)); err == nil && n > 0 {
			out.Process.FDLimit = n
		}
	}
	if st := jsStack(rep.JavaScriptStack.Stack); len(st) > 0 {
		d := &dumps.ThreadDump{Pos: dumps.Pos{File: name, Line: keyLine(data, `"javascriptStack"`)}, Runtime: "node", PID: h.ProcessID, SMRLength: -1, JNIGlobalRefs: -1, ReportedDeadlockCount: -1}
		d.Threads = []dumps.Thread{{Pos: d.Pos, Name: "main", Status: dumps.Bound(rep.JavaScriptStack.Message), Frames: st}}
		dumps.FinishThreadDump(d)
		out.Stack = d
	}
	handleLines := handlePositions(data)
	handles := rep.Libuv
	for _, w := range rep.Workers {
		handles = append(handles, w.Libuv...) // cited at the "workers" line
	}
	workersAt := keyLine(data, `"workers"`)
	for i, hd := range handles {
		out.Handles[hd.Type]++
		if hd.Type != "tcp" {
			continue
		}
		s := dumps.RuntimeSocket{Src: dumps.Pos{File: name}, Runtime: "node", Source: "libuv-tcp", PID: h.ProcessID, FD: -1}
		switch {
		case i >= len(rep.Libuv):
			s.Src.Line = workersAt
		case i < len(handleLines):
			s.Src.Line = handleLines[i]
		}
		if hd.FD != nil {
			s.FD = *hd.FD
		}
		s.Active = hd.IsActive != nil && *hd.IsActive
		s.Referenced = hd.IsReferenced != nil && *hd.IsReferenced
		s.Readable = hd.Readable != nil && *hd.Readable
		s.Writable = hd.Writable != nil && *hd.Writable
		if hd.WriteQueueSize != nil {
			s.WriteQueue = *hd.WriteQueueSize
		}
		var err error
		if s.Local, err = hd.LocalEndpoint.parse(); err != nil {
			warns = append(warns, dumps.Warning{Pos: s.Src, Msg: "tcp handle local endpoint: " + err.Error()})
		}
		if s.Remote, err = hd.RemoteEndpoint.parse(); err != nil {
			warns = append(warns, dumps.Warning{Pos: s.Src, Msg: "tcp handle remote endpoint: " + err.Error()})
		}
		if s.Local.Addr.Is6() {
			s.Family = "AF_INET6"
		} else if s.Local.Addr.IsValid() {
			s.Family = "AF_INET"
		}
		// A connected stream that neither reads nor writes: libuv marks a
		// stream active while reading (or with a write, connect or listen
		// pending), so an inactive one with an empty write queue is paused.
		s.Paused = !s.Active && s.Remote.Port != 0 && s.WriteQueue == 0
		out.Sockets = append(out.Sockets, s)
	}
	return out, warns, nil
}

// decodeReport decodes the report's top-level fields one at a time, so
// that a report cut while being written keeps the fields before the cut
// (the header, the stacks; the libuv handles come later) with a warning.
// It returns nil when not even the opening brace is there.
func decodeReport(data []byte, name string) (*report, []dumps.Warning) {
	dec := json.NewDecoder(bytes.NewReader(data))
	warn := func(err error) []dumps.Warning {
		line := lineOf(data, err)
		if line == 0 {
			line = bytes.Count(data[:dec.InputOffset()], []byte("\n")) + 1
		}
		return []dumps.Warning{{Pos: dumps.Pos{File: name, Line: line}, Msg: "node report cut or malformed: " + err.Error()}}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if err == nil {
			err = errors.New("not a JSON object")
		}
		return nil, warn(err)
	}
	rep := &report{}
	fields := map[string]any{"header": &rep.Header, "javascriptStack": &rep.JavaScriptStack, "libuv": &rep.Libuv, "workers": &rep.Workers, "userLimits": &rep.UserLimits}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return rep, warn(err)
		}
		key, _ := t.(string)
		var v any = new(json.RawMessage)
		if f, ok := fields[key]; ok {
			v = f
		}
		if err := dec.Decode(v); err != nil {
			return rep, warn(err)
		}
	}
	return rep, nil
}

// parse reads an endpoint: the address from ip4 or ip6 (Node 13+), or from
// host when it is an address (Node 12 prints only host and port); a host
// name is kept as written.
func (e *endpoint) parse() (dumps.Endpoint, error) {
	var ep dumps.Endpoint
	if e == nil {
		return ep, nil
	}
	for _, s := range []string{e.IP4, e.IP6, e.Host} {
		if a, err := netip.ParseAddr(s); err == nil {
			ep.Addr = a.Unmap()
			break
		}
	}
	if !ep.Addr.IsValid() {
		ep.Host = dumps.Bound(e.Host)
	}
	p := strings.Trim(string(e.Port), `"`)
	if p == "" || p == "null" {
		return ep, nil
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return ep, fmt.Errorf("port %q: %w", dumps.Bound(p), err)
	}
	ep.Port = uint16(n)
	return ep, nil
}

// commandLine joins the header's commandLine array (a string in some
// hand-made reports).
func commandLine(raw json.RawMessage) string {
	var words []string
	if json.Unmarshal(raw, &words) == nil {
		return strings.Join(words, " ")
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// jsStack reads the javascriptStack lines into frames, most recent first
// as V8 prints them. Lines that are not frames ("No stack.",
// "Unavailable.") are left out.
func jsStack(lines []string) []dumps.Frame {
	var fs []dumps.Frame
	for _, l := range lines {
		if f, ok := dumps.ParseJSFrame(l); ok {
			fs = append(fs, f)
		}
	}
	return fs
}

// reUptime finds the header's processUptime (Node 16.?+: seconds).
var reUptime = regexp.MustCompile(`"processUptime"\s*:\s*([0-9.]+)`)

func uptime(data []byte) (time.Duration, bool) {
	m := reUptime.FindSubmatch(data)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil || f < 0 || f > 1e9 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// keyLine is the 1-based line of the first occurrence of key, 0 when
// absent.
func keyLine(data []byte, key string) int {
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// handlePositions lists the line of every libuv handle's "type" key, in
// order, so that each tcp handle can be cited (a compact report puts them
// all on line 1).
func handlePositions(data []byte) []int {
	i := bytes.Index(data, []byte(`"libuv"`))
	if i < 0 {
		return nil
	}
	var lines []int
	line := bytes.Count(data[:i], []byte("\n")) + 1
	rest := data[i:]
	end := bytes.Index(rest, []byte(`"workers"`))
	if end < 0 {
		end = len(rest)
	}
	rest = rest[:end]
	for {
		j := bytes.Index(rest, []byte(`"type"`))
		if j < 0 {
			return lines
		}
		line += bytes.Count(rest[:j], []byte("\n"))
		lines = append(lines, line)
		rest = rest[j+len(`"type"`):]
	}
}

// lineOf is the line of a JSON syntax error's offset, 0 when unknown.
func lineOf(data []byte, err error) int {
	var se *json.SyntaxError
	if !errors.As(err, &se) || se.Offset <= 0 || se.Offset > int64(len(data)) {
		return 0
	}
	return bytes.Count(data[:se.Offset], []byte("\n")) + 1
}
