package collect

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Runtime is what a process runs on, which decides the dumps taken of it.
type Runtime string

// Runtimes collect knows.
const (
	RuntimeUnknown Runtime = "unknown"
	RuntimeJVM     Runtime = "jvm"
	RuntimeGo      Runtime = "go"
	RuntimePython  Runtime = "python"
	RuntimeNode    Runtime = "node"
)

// Process is one process whose files and dumps are saved.
type Process struct {
	PID     int     `json:"pid"`
	Why     string  `json:"why"`               // how it was chosen: "--pid", "owns a socket on port 8080", "owns 3 CLOSE_WAIT sockets"
	Runtime Runtime `json:"runtime"`           // detected from exe, cmdline, maps and the Go build information
	Exe     string  `json:"exe,omitempty"`     // the /proc/PID/exe link
	Cmdline string  `json:"cmdline,omitempty"` // NULs shown as spaces
	UID     *uint32 `json:"uid,omitempty"`     // real uid, from status
	GID     *uint32 `json:"gid,omitempty"`     // real gid, from status
	Error   string  `json:"error,omitempty"`   // why it could not be read (gone, no permission)

	args    []string
	environ []string
	sigCgt  uint64
	cwd     string
}

// tcpStateCloseWait is CLOSE_WAIT in /proc/net/tcp's st column.
const tcpStateCloseWait = 0x08

// procSocket is a row of /proc/net/tcp{,6}: what discovery needs.
type procSocket struct {
	localPort int
	state     int
	inode     uint64
}

// parseProcNetTCP reads the rows of /proc/net/tcp or tcp6; bad rows are
// skipped (the file is saved as is for analyze, which warns about them).
func parseProcNetTCP(data []byte) []procSocket {
	var out []procSocket
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		_, port, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err1 := strconv.ParseUint(port, 16, 16)
		st, err2 := strconv.ParseUint(f[3], 16, 8)
		ino, err3 := strconv.ParseUint(f[9], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		out = append(out, procSocket{localPort: int(p), state: int(st), inode: ino})
	}
	return out
}

// choose picks the processes to save: the --pid ones, else the owners of
// sockets on the --port ones, else the owners of CLOSE_WAIT sockets.
func choose(pr Proc, pids, ports []int) ([]Process, string) {
	if len(pids) > 0 {
		out := make([]Process, 0, len(pids))
		for _, p := range uniqueSorted(pids) {
			out = append(out, Process{PID: p, Why: "--pid"})
		}
		return out, ""
	}
	var socks []procSocket
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		if data, err := pr.ReadFile(f); err == nil {
			socks = append(socks, parseProcNetTCP(data)...)
		}
	}
	want := map[uint64]string{} // inode -> why
	for _, s := range socks {
		if s.inode == 0 {
			continue
		}
		if len(ports) > 0 {
			if slices.Contains(ports, s.localPort) {
				want[s.inode] = fmt.Sprintf("owns a socket on port %d", s.localPort)
			}
		} else if s.state == tcpStateCloseWait {
			want[s.inode] = "CLOSE_WAIT"
		}
	}
	if len(want) == 0 {
		if len(ports) > 0 {
			return nil, fmt.Sprintf("no socket in /proc/net/tcp{,6} on port %s", joinInts(ports, ", "))
		}
		return nil, "no CLOSE_WAIT socket in /proc/net/tcp{,6} and no --pid or --port"
	}
	names, _ := procPIDs(pr)
	var out []Process
	for _, n := range names {
		pid, _ := strconv.Atoi(n)
		fds, _ := pr.ReadDir(n + "/fd")
		whys := map[string]bool{}
		cw := 0
		for _, fd := range fds {
			l, err := pr.Readlink(n + "/fd/" + fd)
			if err != nil || !strings.HasPrefix(l, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]"), 10, 64)
			if err != nil {
				continue
			}
			if w, ok := want[ino]; ok {
				if w == "CLOSE_WAIT" {
					cw++
				} else {
					whys[w] = true
				}
			}
		}
		switch {
		case cw > 0:
			why := fmt.Sprintf("owns %d CLOSE_WAIT sockets", cw)
			if cw == 1 {
				why = "owns a CLOSE_WAIT socket"
			}
			out = append(out, Process{PID: pid, Why: why})
		case len(whys) > 0:
			ws := make([]string, 0, len(whys))
			for w := range whys {
				ws = append(ws, w)
			}
			slices.Sort(ws)
			out = append(out, Process{PID: pid, Why: strings.Join(ws, "; ")})
		}
	}
	slices.SortFunc(out, func(a, b Process) int { return a.PID - b.PID })
	if len(out) == 0 {
		return nil, "no process owns the sockets found (not root?)"
	}
	return out, ""
}

// inspect fills in what /proc says about p: its command, user and runtime.
func inspect(pr Proc, p *Process) {
	dir := strconv.Itoa(p.PID)
	cmdline, err := pr.ReadFile(dir + "/cmdline")
	if err != nil {
		p.Error = fmt.Sprintf("read /proc/%d/cmdline: %v", p.PID, err)
		p.Runtime = RuntimeUnknown
		return
	}
	p.args = splitNUL(cmdline)
	p.Cmdline = strings.Join(p.args, " ")
	p.Exe, _ = pr.Readlink(dir + "/exe")
	p.cwd, _ = pr.Readlink(dir + "/cwd")
	if env, err := pr.ReadFile(dir + "/environ"); err == nil {
		p.environ = splitNUL(env)
	}
	if st, err := pr.ReadFile(dir + "/status"); err == nil {
		p.UID, p.GID, p.sigCgt = parseStatus(st)
	}
	maps, _ := pr.ReadFile(dir + "/maps")
	p.Runtime = detectRuntime(p.Exe, p.args, maps)
	if p.Runtime == RuntimeUnknown && isGoBinary(pr, dir+"/exe") {
		p.Runtime = RuntimeGo
	}
}

// detectRuntime names the runtime from the executable's name, the first
// argument and the shared libraries mapped.
func detectRuntime(exe string, args []string, maps []byte) Runtime {
	names := []string{path.Base(strings.TrimSuffix(exe, " (deleted)"))}
	if len(args) > 0 {
		names = append(names, path.Base(args[0]))
	}
	for _, n := range names {
		switch {
		case n == "java" || n == "javaw":
			return RuntimeJVM
		case n == "node" || n == "nodejs":
			return RuntimeNode
		case strings.HasPrefix(n, "python") || strings.HasPrefix(n, "pypy"):
			return RuntimePython
		}
	}
	switch {
	case bytes.Contains(maps, []byte("/libjvm.so")):
		return RuntimeJVM
	case bytes.Contains(maps, []byte("/libnode.so")):
		return RuntimeNode
	case bytes.Contains(maps, []byte("/libpython")):
		return RuntimePython
	}
	return RuntimeUnknown
}

// isGoBinary reports whether the executable carries Go build information.
func isGoBinary(pr Proc, name string) bool {
	f, err := pr.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = buildinfo.Read(f)
	return err == nil
}

// parseStatus reads the real uid and gid and the caught-signals mask.
func parseStatus(st []byte) (uid, gid *uint32, sigCgt uint64) {
	for _, line := range strings.Split(string(st), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "Uid", "Gid":
			n, err := strconv.ParseUint(f[0], 10, 32)
			if err != nil {
				continue
			}
			u := uint32(n)
			if k == "Uid" {
				uid = &u
			} else {
				gid = &u
			}
		case "SigCgt":
			sigCgt, _ = strconv.ParseUint(f[0], 16, 64)
		}
	}
	return uid, gid, sigCgt
}

func splitNUL(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

func uniqueSorted(xs []int) []int {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

func joinInts(xs []int, sep string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, sep)
}
