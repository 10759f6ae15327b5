package dumps

import (
	"strings"
	"time"
)

//go:generate stringer -type=LogClass -linecomment -output=logclass_string.go

// RuntimeEvidence holds what the readers of the dumps/python, dumps/node and
// dumps/applog packages find that the JVM and Go formats do not have: the
// process a runtime report describes, sockets a runtime names with its
// descriptor and both endpoints, and typed events of application logs.
type RuntimeEvidence struct {
	// Processes are the processes runtime reports describe (a Node.js
	// diagnostic report's header, a py-spy dump's header).
	Processes []RuntimeProcess `json:"processes,omitempty"`
	// RuntimeSockets are sockets as the runtime sees them: a Node.js
	// report's libuv tcp handles, Python's ResourceWarning for an unclosed
	// socket.
	RuntimeSockets []RuntimeSocket `json:"runtime_sockets,omitempty"`
	// LogEvents are the lines of application logs that name a connection
	// or descriptor problem, in file order.
	LogEvents []LogEvent `json:"log_events,omitempty"`
	// LogLines counts the lines of the log (all of them, events or not),
	// 0 for files that are not logs.
	LogLines int `json:"log_lines,omitempty"`
}

// RuntimeProcess is a process as its runtime reports it.
type RuntimeProcess struct {
	Pos     Pos    `json:"pos"`
	Runtime string `json:"runtime"` // "node", "python"
	PID     int    `json:"pid,omitempty"`
	Version string `json:"version,omitempty"` // v20.11.1, 3.11.2
	// Command is the command line, its words joined by spaces.
	Command string `json:"command,omitempty"`
	Cwd     string `json:"cwd,omitempty"`
	// Executable is the interpreter (py-spy's "(/usr/bin/python3.11)").
	Executable string `json:"executable,omitempty"`
	// Uptime is how long the process had run when the report was made.
	Uptime time.Duration `json:"uptime_ns,omitempty"`
	// Time is when the report was made, as the report states it (zero
	// when it does not).
	Time time.Time `json:"time,omitzero"`
	// Trigger is why the report was written ("Signal", "JavaScript API",
	// "Exception").
	Trigger string `json:"trigger,omitempty"`
	// FDLimit is the soft open-files limit the report states, 0 when none
	// (or unlimited).
	FDLimit int `json:"fd_limit,omitempty"`
}

// RuntimeSocket is a TCP socket as a runtime names it: with the process and
// descriptor when the source says them, and both endpoints.
type RuntimeSocket struct {
	Src     Pos    `json:"src"`
	Runtime string `json:"runtime"` // "node", "python"
	// Source is what kind of record it is: "libuv-tcp" (a Node.js report's
	// handle) or "resource-warning" (Python's unclosed socket warning).
	Source string `json:"source"`
	PID    int    `json:"pid,omitempty"`
	// FD is the descriptor, -1 when not known (a closed handle, a Windows
	// report).
	FD     int      `json:"fd"`
	Family string   `json:"family,omitempty"` // AF_INET, AF_INET6 as written
	Local  Endpoint `json:"local"`
	Remote Endpoint `json:"remote"`
	// Active and Referenced are libuv's is_active and is_referenced. A
	// stream handle is active while it reads or has writes, connects or a
	// listen pending: an open socket that is not active is paused.
	Active     bool `json:"active,omitempty"`
	Referenced bool `json:"referenced,omitempty"`
	// Paused marks a socket that is open but read by nobody: a libuv tcp
	// handle that is neither active nor has writes queued. Such a socket
	// never sees the peer's FIN and stays in CLOSE_WAIT.
	Paused     bool   `json:"paused,omitempty"`
	WriteQueue uint64 `json:"write_queue,omitempty"`
	Readable   bool   `json:"readable,omitempty"`
	Writable   bool   `json:"writable,omitempty"`
	// Frames is where the socket was made, most recent call first, when
	// the source says (tracemalloc's "Object allocated at").
	Frames []Frame `json:"frames,omitempty"`
}

// LogClass is the kind of problem a log line names. The zero value means
// none.
type LogClass uint8

// Log event classes, by the message, never by who logged it.
const (
	LogNone           LogClass = iota // none
	LogConnReset                      // conn-reset
	LogBrokenPipe                     // broken-pipe
	LogFDExhausted                    // fd-exhausted
	LogPoolStarved                    // pool-starved
	LogUpstreamClosed                 // upstream-closed
	LogUnclosedSocket                 // unclosed-socket
	LogTimeout                        // timeout
)

// MarshalText makes a LogClass appear by name in JSON.
func (c LogClass) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// LogEvent is one line of an application log that names a connection or
// descriptor problem.
type LogEvent struct {
	Pos Pos `json:"pos"`
	// Time is the line's time stamp, zero when it has none; a stamp
	// without a zone is read as UTC.
	Time  time.Time `json:"time,omitzero"`
	Class LogClass  `json:"class"`
	// Level is the severity as written (ERROR, warn, 3), empty when none.
	Level string `json:"level,omitempty"`
	// Program is who logged it when the line says (syslog tag, journal
	// _COMM or SYSLOG_IDENTIFIER, a logger field); PID likewise.
	Program string `json:"program,omitempty"`
	PID     int    `json:"pid,omitempty"`
	// Message is the line's message, clipped to 300 bytes.
	Message string `json:"message"`
	// Endpoint is an address:port the message names, as written.
	Endpoint string `json:"endpoint,omitempty"`
}

// FinishThreadDump classifies the threads of a dump read by another package
// (Python, Node.js: d.Runtime says which) and groups them into buckets, as
// the JVM readers do for theirs.
func FinishThreadDump(d *ThreadDump) {
	if d.Runtime == "" {
		finishThreadDump(d)
		return
	}
	items := make([]StackItem, len(d.Threads))
	for i := range d.Threads {
		t := &d.Threads[i]
		if t.Frames == nil {
			t.Frames = []Frame{}
		}
		t.Class = classifyScript(t)
		items[i] = StackItem{Kind: t.Kind(), State: t.State, Frames: t.Frames,
			Member: Member{ID: t.ID, Name: t.Name, Count: 1, Pos: t.Pos}, Class: t.Class}
	}
	d.Buckets = BuildBuckets(items)
}

// sourceRules classify the top frame of a Python stack by its source line
// when the call itself is a C function that no frame shows
// (socket.recv, socket.sendall).
var sourceRules = []struct {
	call string
	act  Activity
}{
	{".recv(", ActSocketRead},
	{".recv_into(", ActSocketRead},
	{".recvfrom(", ActSocketRead},
	{".recvmsg(", ActSocketRead},
	{".sendall(", ActSocketWrite},
	{".send(", ActSocketWrite},
	{".sendmsg(", ActSocketWrite},
	{".accept(", ActAccept},
	{".connect(", ActConnect},
	{"select.select(", ActSelect},
	{".poll(", ActSelect},
}

// classifyScript classifies a Python or Node.js thread: the frame rules
// (which hold Python's standard library and clients as module.function),
// then the top frame's source line, then the state the dump gives.
func classifyScript(t *Thread) Class {
	if c, ok := classifyFrames(t.Frames); ok {
		return c
	}
	c := Class{Frame: -1}
	if len(t.Frames) > 0 {
		c.Frame, c.Func = 0, t.Frames[0].Func
		src := t.Frames[0].Source
		for _, r := range sourceRules {
			if strings.Contains(src, r.call) {
				c.Activity = r.act
				if _, cr := findRule(connRules, t.Frames); cr.pool != "" {
					c.Pool = cr.pool
				}
				return c
			}
		}
	}
	if _, cr := findRule(connRules, t.Frames); cr.pool != "" {
		c.Pool = cr.pool
	}
	switch {
	case hasFunc(t.Frames, "concurrent.futures.thread._worker") && hasFunc(t.Frames, "queue.get"):
		c.Activity = ActIdle // an executor worker waiting for work
	case len(t.Frames) > 0 && (strings.HasPrefix(c.Func, "threading.wait") || strings.HasPrefix(c.Func, "threading._wait_for_tstate_lock") || strings.HasPrefix(c.Func, "queue.get")):
		c.Activity = ActCondWait
	case len(t.Frames) > 0 && strings.HasPrefix(c.Func, "threading.") && strings.Contains(t.Frames[0].Source, ".acquire("):
		c.Activity = ActLockWait
	case t.Status == "active":
		c.Activity = ActRunning // py-spy: on a CPU or holding the GIL
	case t.Status == "idle" && len(t.Frames) == 0:
		c.Activity = ActIdle
	}
	return c
}
