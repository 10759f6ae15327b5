package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// runtimeTables are the tables of what runtime reports and logs hold
// (docs/evidence.md), each nil when empty:
//
//	processes: source, runtime, pid, version, uptime (s), time, trigger,
//	           fd_limit, command
//	runtime sockets: source, runtime, record (libuv-tcp, resource-warning),
//	           pid, fd, local, remote, state (paused, active, inactive, or
//	           unclosed for a warning), write_queue, allocated (the
//	           innermost application frame where the socket was made)
//	log events: source, time (RFC 3339, UTC), class, level, program, pid,
//	           endpoint, message
func runtimeTables(evs []*dumps.Evidence) []*table {
	procs := &table{header: []string{"source", "runtime", "pid", "version", "uptime", "time", "trigger", "fd_limit", "command"}}
	socks := &table{header: []string{"source", "runtime", "record", "pid", "fd", "local", "remote", "state", "write_queue", "allocated"}}
	logs := &table{header: []string{"source", "time", "class", "level", "program", "pid", "endpoint", "message"}}
	for _, ev := range evs {
		for _, p := range ev.Processes {
			procs.add(p.Pos.String(), p.Runtime, optInt(p.PID), p.Version, optSeconds(p.Uptime), optTime(p.Time), p.Trigger, optInt(p.FDLimit), p.Command)
		}
		for _, s := range ev.RuntimeSockets {
			fd := ""
			if s.FD >= 0 {
				fd = strconv.Itoa(s.FD)
			}
			socks.add(s.Src.String(), s.Runtime, s.Source, optInt(s.PID), fd, endpointText(s.Local), endpointText(s.Remote),
				runtimeSocketState(s), strconv.FormatUint(s.WriteQueue, 10), allocatedAt(s.Frames))
		}
		for _, e := range ev.LogEvents {
			logs.add(e.Pos.String(), optTime(e.Time), e.Class.String(), e.Level, e.Program, optInt(e.PID), e.Endpoint, e.Message)
		}
	}
	var out []*table
	for _, t := range []*table{procs, socks, logs} {
		if len(t.rows) > 0 {
			out = append(out, t)
		}
	}
	return out
}

func runtimeSocketState(s dumps.RuntimeSocket) string {
	switch {
	case s.Source == "resource-warning":
		return "unclosed"
	case s.Paused:
		return "paused"
	case s.Active:
		return "active"
	}
	return "inactive"
}

// allocatedAt is the innermost frame of the allocation traceback outside
// the standard library, or the innermost one.
func allocatedAt(fs []dumps.Frame) string {
	if len(fs) == 0 {
		return ""
	}
	f := fs[0]
	if i := dumps.AppFrame(fs); i >= 0 {
		f = fs[i]
	}
	return f.String()
}

func endpointText(e dumps.Endpoint) string {
	a, p := e.AddrString(), e.PortString()
	switch {
	case a == "" && p == "":
		return ""
	case strings.Contains(a, ":"):
		return "[" + a + "]:" + p
	}
	return a + ":" + p
}

func optInt(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func optSeconds(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return seconds(d)
}

func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
