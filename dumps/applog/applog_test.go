package applog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
	"github.com/google/go-cmp/cmp"
)

// TestGolden compares the records of every file of testdata/ with its
// .golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	dumptest.JSONGoldens(t, "testdata/*", Match, Read)
}

func TestClassify(t *testing.T) {
	for msg, want := range map[string]dumps.LogClass{
		"accept tcp [::]:8080: accept4: too many open files; retrying in 5ms":                 dumps.LogFDExhausted,
		"java.net.SocketException: Too many open files":                                       dumps.LogFDExhausted,
		"Error: connect EMFILE 10.0.0.9:443":                                                  dumps.LogFDExhausted,
		"OSError: [Errno 24] Too many open files":                                             dumps.LogFDExhausted,
		"org.apache.http.conn.ConnectionPoolTimeoutException: Timeout waiting for connection": dumps.LogPoolStarved,
		"HikariPool-1 - Connection is not available, request timed out after 30000ms.":        dumps.LogPoolStarved,
		"net/http: request canceled (Client.Timeout exceeded while awaiting headers)":         dumps.LogPoolStarved,
		"upstream prematurely closed connection while reading response header from upstream":  dumps.LogUpstreamClosed,
		"read ECONNRESET":                                dumps.LogConnReset,
		"[Errno 104] Connection reset by peer":           dumps.LogConnReset,
		"write: broken pipe":                             dumps.LogBrokenPipe,
		"Error: write EPIPE":                             dumps.LogBrokenPipe,
		"ResourceWarning: unclosed <socket.socket fd=3>": dumps.LogUnclosedSocket,
		"Read timed out":                                 dumps.LogTimeout,
		"request completed":                              dumps.LogNone,
		"reset the counter":                              dumps.LogNone,
	} {
		if got := Classify(msg); got != want {
			t.Errorf("Classify(%q) = %v, want %v", msg, got, want)
		}
	}
}

func TestMatch(t *testing.T) {
	for text, want := range map[string]bool{
		"State Recv-Q Send-Q Local Address:Port Peer Address:Port\nESTAB 0 0 10.0.0.5:22 10.0.0.7:5000\nESTAB 0 0 10.0.0.5:22 10.0.0.7:5001\n": false,
		"hello\nworld\nfoo\n": false,
		"2026-12-02 10:00:00 a\n2026-12-02 10:00:01 b\n2026-12-02 10:00:02 c\n":                        true,
		"2026-12-02 10:00:00 a\n\tat x\n\tat y\n2026-12-02 10:00:01 b\nplain\n2026-12-02 10:00:02 c\n": true,
		"2026-12-02 10:00:00 a\nplain\nplain\nplain\n2026-12-02 10:00:02 c\n":                          false,
		"a=1 b=2 msg=x\na=1 b=2 msg=y\na=1 b=2 msg=z\n":                                                true,
		"2026-12-02 10:00:00 one line only\n":                                                          false,
		// journalctl -o short-precise: a syslog prefix with microseconds.
		"Dec 03 09:12:01.823026 vm relay[10]: a\nDec 03 09:12:01.823100 vm relay[10]: b\nDec 03 09:12:02.000001 vm relay[10]: c\n": true,
		// Node.js's stderr with one or two --trace-warnings blocks and
		// nothing else: too few lines for the count, a log by its shape.
		"(node:6050) MaxListenersExceededWarning: Possible EventEmitter memory leak detected.\n    at _addListener (node:events:598:17)\n    at Socket.<anonymous> (/srv/relay.js:22:10)\n": true,
		"(node:6050) UpstreamWarning: down\n    at Socket.<anonymous> (/srv/relay.js:32:13)\n(node:6050) Warning: again\n    at f (/srv/relay.js:40:1)\n":                                   true,
		"listening\n(node:6050) UpstreamWarning: down\n    at Socket.<anonymous> (/srv/relay.js:32:13)\n":                                                                                   true,
		// A warning without its stack (no --trace-warnings), a stack without
		// Node's warning line, a JVM stack under a Node-like line: not enough.
		"(node:6050) Warning: x\n(Use `node --trace-warnings ...` to show where the warning was created)\n": false,
		"Error: x\n    at f (/srv/a.js:1:1)\n":                                false,
		"(node:6050) Warning: x\n\tat java.net.Socket.read(Socket.java:10)\n": false,
		"(node:6050) Warning: x\n\n    at f (/srv/a.js:1:1)\n":                false,
	} {
		if got := Match([]byte(text)); got != want {
			t.Errorf("Match(%q) = %v, want %v", text, got, want)
		}
	}
}

// TestContinuationTime: an exception line under a stamped line takes its
// time, level and program.
func TestContinuationTime(t *testing.T) {
	evs, _, _, err := ReadLog(strings.NewReader("2026-12-02 10:05:01.123 ERROR accept failed\njava.io.IOException: Too many open files\n\tat x\n"), "l")
	if err != nil || len(evs) != 1 {
		t.Fatal(err, evs)
	}
	if evs[0].Pos.Line != 2 || evs[0].Time.Format("15:04:05.000") != "10:05:01.123" || evs[0].Level != "ERROR" {
		t.Errorf("event = %+v", evs[0])
	}
}

func TestCap(t *testing.T) {
	var b strings.Builder
	for range maxPerClass + 5 {
		b.WriteString("2026-12-02 10:05:01 ERROR read: connection reset by peer\n")
	}
	evs, lines, warns, err := ReadLog(strings.NewReader(b.String()), "l")
	if err != nil || len(evs) != maxPerClass || lines != maxPerClass+5 || len(warns) != 1 || !strings.HasPrefix(warns[0].Msg, "5 more conn-reset") {
		t.Errorf("%d events, %d lines, warnings %v, err %v", len(evs), lines, warns, err)
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, file := range files {
		if !strings.HasSuffix(file, ".golden") {
			f.Add(dumptest.ReadFile(f, file))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Match(data)
		for line := range strings.Lines(string(data)) {
			line = strings.TrimRight(line, " \t\r\n")
			if host, journal, noPID, e := monotonicLine(line); journal != reJournalMonotonic.MatchString(line) ||
				!journal && noPID != reMonotonicNoPID.MatchString(line) || (journal || noPID) && host != "" && !strings.Contains(line, "] "+host+" ") {
				t.Fatalf("monotonicLine(%q) = %q %v %v, not the regexps' reading", line, host, journal, noPID)
			} else if want := monotonicByRegexp(line); e != want {
				t.Fatalf("monotonicLine(%q) = %+v, the regexps' reading %+v", line, e, want)
			}
			sh, e, plain, parsed := shapeAndPrefix(line)
			if want := lineShape(line); sh != want {
				t.Fatalf("shapeAndPrefix(%q) shape %d, lineShape's %d", line, sh, want)
			}
			if parsed {
				if we, wplain := parsePrefix(line, sh); e != we || plain != wplain {
					t.Fatalf("shapeAndPrefix(%q) = %+v %v, parsePrefix's %+v %v", line, e, plain, we, wplain)
				}
			}
		}
		ev, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil && !errors.Is(err, bufio.ErrTooLong) {
			t.Fatalf("in-memory input failed: %v", err)
		}
		for _, e := range ev.LogEvents {
			if e.Pos.Line < 1 || e.Class == dumps.LogNone {
				t.Fatalf("bad event %+v", e)
			}
		}
	})
}

// TestJSStacks: the JavaScript stacks a log prints become Node.js thread
// dumps, one per pid, each stack named by the line above it.
func TestJSStacks(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // per dump "pid:thread name/first frame,..." separated by "; "
	}{
		{"node process warning with --trace-warnings",
			"2026-12-03T07:28:33.304Z report 1: body skipped\n(node:23891) UnconsumedBodyWarning: report 1\n    at poll (/srv/client.js:22:18)\n    at listOnTimeout (node:internal/timers:581:17)\n(node:23891) UnconsumedBodyWarning: report 2\n    at poll (/srv/client.js:22:18)\n",
			"23891:UnconsumedBodyWarning: report 1/poll,UnconsumedBodyWarning: report 2/poll"},
		{"an error in a time-stamped log, no pid",
			"2026-12-03 10:00:00 ERROR request failed\nError: socket hang up\n    at connResetException (node:internal/errors:720:14)\n    at Socket.socketOnEnd (node:_http_client:525:23)\n    at fetchAll (/srv/app.js:40:3)\n",
			"0:Error: socket hang up/connResetException"},
		{"two processes in a journal",
			"2026-12-03T10:00:00+0000 host app[10]: Error: x\n    at a (/srv/a.js:1:1)\n2026-12-03T10:00:01+0000 host app[11]: Error: y\n    at b (/srv/b.js:2:2)\n",
			"10:Error: x/a; 11:Error: y/b"},
		// A frame of another process inside a stack neither ends it nor
		// joins it: the journal interleaves processes' lines, and frames a
		// and c are one stack of pid 10 (TestJSStacksInterleaved checks the
		// frames; node-two-journal-short.log is a real run). Splitting it
		// at b, as once, made a nameless second stack of c.
		{"journal lines of two processes interleaved in a stack",
			"Dec 03 12:20:31 vm relay[10]: (node:10) Warning: x\nDec 03 12:20:31 vm relay[10]:     at a (/srv/a.js:1:1)\nDec 03 12:20:31 vm other[11]:     at b (/srv/b.js:2:2)\nDec 03 12:20:31 vm relay[10]:     at c (/srv/a.js:3:3)\n",
			"10:Warning: x/a; 11:stack/b"},
		{"a prefixed line with an indented message that is no frame",
			"2026-12-03T12:20:31+0000 vm relay[10]: Error: x\n2026-12-03T12:20:31+0000 vm relay[10]:   errno: -111,\n",
			""},
		// The other prefixes a stack's lines may carry, written as
		// rsyslog's templates and journalctl's formats print them
		// (each has a real fixture too, read by TestJSStacksTwoWriters).
		{"rsyslog's traditional format",
			"Dec  3 09:12:01 vm relay[10]: (node:10) Warning: x\nDec  3 09:12:01 vm relay[10]:     at a (/srv/a.js:1:1)\nDec  3 09:12:01 vm relay[10]:     at b (/srv/a.js:2:2)\n",
			"10:Warning: x/a"},
		{"RFC 5424 (rsyslog's RSYSLOG_SyslogProtocol23Format)",
			"<12>1 2026-12-03T09:12:01.823026+00:00 vm relay 10 - -  (node:10) Warning: x\n<12>1 2026-12-03T09:12:01.823026+00:00 vm relay 10 - -      at a (/srv/a.js:1:1)\n",
			"10:Warning: x/a"},
		{"journalctl -o short-precise",
			"Dec 03 09:12:01.823026 vm relay[10]: (node:10) Warning: x\nDec 03 09:12:01.823026 vm relay[10]:     at a (/srv/a.js:1:1)\n",
			"10:Warning: x/a"},
		{"journalctl -o short-monotonic",
			"[ 1234.567890] vm relay[10]: (node:10) Warning: x\n[ 1234.567901] vm relay[10]:     at a (/srv/a.js:1:1)\n",
			"10:Warning: x/a"},
		{"journalctl -o short-unix",
			"1796289121.823026 vm relay[10]: (node:10) Warning: x\n1796289121.823100 vm relay[10]:     at a (/srv/a.js:1:1)\n",
			"10:Warning: x/a"},
		{"journalctl -o short-full",
			"Thu 2026-12-03 09:12:01 UTC vm relay[10]: (node:10) Warning: x\nThu 2026-12-03 09:12:01 UTC vm relay[10]:     at a (/srv/a.js:1:1)\n",
			"10:Warning: x/a"},
		// No fixture: journalctl prints this for an entry without _PID
		// (TestJournalMonotonicNoPID).
		{"journalctl -o short-monotonic, a program without a pid under a journal's host",
			"[    0.100000] vm kernel: Linux\n[ 1234.567890] vm relay: (node:10) Warning: x\n[ 1234.567901] vm relay:     at a (/srv/a.js:1:1)\n",
			"0:Warning: x/a"},
		{"Java frames are not JavaScript",
			"2026-12-03 10:00:00 ERROR x\njava.io.IOException: Too many open files\n\tat java.net.ServerSocket.accept(ServerSocket.java:10)\n",
			""},
		{"a stack with no line above",
			"    at a (/srv/a.js:1:1)\n",
			"0:stack/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Read(strings.NewReader(tt.in), "l")
			if err != nil {
				t.Fatal(err)
			}
			var ds []string
			for _, d := range ev.ThreadDumps {
				var ts []string
				for _, th := range d.Threads {
					ts = append(ts, th.Name+"/"+th.Frames[0].Func)
				}
				ds = append(ds, strconv.Itoa(d.PID)+":"+strings.Join(ts, ","))
				if d.Runtime != "node" || len(d.Buckets) == 0 {
					t.Errorf("dump %+v not finished as Node.js's", d.Pos)
				}
			}
			if got := strings.Join(ds, "; "); got != tt.want {
				t.Errorf("stacks %q, want %q", got, tt.want)
			}
		})
	}
}

// TestJSStacksInterleaved: in a journal or syslog file a stack is read per
// writer (program and pid): another writer's line, frame or not, neither
// ends nor joins it, and a stack's header is its writer's last line before
// its first frame, when it is among the last maxRecent lines that are no
// frame. A line that names no writer ends every stack, as on stderr; so
// does a writer's silence for more than maxStackGap lines.
func TestJSStacksInterleaved(t *testing.T) {
	gap := strings.Repeat("Dec 03 12:20:32 vm other[11]: tick\n", maxStackGap+1)
	tests := []struct {
		name string
		in   string
		want string // per stack "pid@line name: frames", by line
	}{
		{"two stacks' lines interleaved, headers too",
			"Dec 03 12:20:31 vm app[10]: Error: a\nDec 03 12:20:31 vm app[11]: Error: b\nDec 03 12:20:31 vm app[10]:     at f (/srv/a.js:1:1)\nDec 03 12:20:31 vm app[11]:     at g (/srv/b.js:1:1)\nDec 03 12:20:31 vm app[10]:     at h (/srv/a.js:2:2)\nDec 03 12:20:31 vm app[11]:     at k (/srv/b.js:2:2)\n",
			"10@1 Error: a: f,h; 11@2 Error: b: g,k"},
		{"a line of another process inside a stack",
			"Dec 03 12:20:31 vm app[10]: Error: a\nDec 03 12:20:31 vm app[10]:     at f (/srv/a.js:1:1)\nDec 03 12:20:31 vm sshd[99]: Accepted publickey for root\nDec 03 12:20:31 vm app[10]:     at h (/srv/a.js:2:2)\n",
			"10@1 Error: a: f,h"},
		{"the writer's next line ends its stack",
			"Dec 03 12:20:31 vm app[10]: Error: a\nDec 03 12:20:31 vm app[10]:     at f (/srv/a.js:1:1)\nDec 03 12:20:31 vm app[10]: Error: b\nDec 03 12:20:31 vm app[10]:     at h (/srv/a.js:2:2)\n",
			"10@1 Error: a: f; 10@3 Error: b: h"},
		{"same pid, another program: another writer",
			"Dec 03 12:20:31 vm app[10]: Error: a\nDec 03 12:20:31 vm app[10]:     at f (/srv/a.js:1:1)\nDec 03 12:20:31 vm sidecar[10]: Error: b\nDec 03 12:20:31 vm app[10]:     at h (/srv/a.js:2:2)\n",
			"10@1 Error: a: f,h"},
		{"a line naming no writer ends every stack",
			"Dec 03 12:20:31 vm app[10]: Error: a\nDec 03 12:20:31 vm app[10]:     at f (/srv/a.js:1:1)\n-- Boot 0123456789abcdef --\nDec 03 12:20:31 vm app[10]:     at h (/srv/a.js:2:2)\n",
			"10@1 Error: a: f; 10@4 stack: h"},
		{"a stack silent for maxStackGap+1 lines is ended",
			"Dec 03 12:20:31 vm app[10]: Error: a\nDec 03 12:20:31 vm app[10]:     at f (/srv/a.js:1:1)\n" + gap + "Dec 03 12:20:33 vm app[10]:     at h (/srv/a.js:2:2)\n",
			"10@1 Error: a: f; 10@" + strconv.Itoa(maxStackGap+4) + " stack: h"},
		// The bound: maxStackGap lines without a frame end the stack,
		// one fewer does not.
		{"a stack silent for maxStackGap lines is ended",
			"Dec 03 12:20:31 vm app[10]: Error: a\nDec 03 12:20:31 vm app[10]:     at f (/srv/a.js:1:1)\n" + strings.Repeat("Dec 03 12:20:32 vm other[11]: tick\n", maxStackGap) + "Dec 03 12:20:33 vm app[10]:     at h (/srv/a.js:2:2)\n",
			"10@1 Error: a: f; 10@" + strconv.Itoa(maxStackGap+3) + " stack: h"},
		{"a stack silent for maxStackGap-1 lines goes on",
			"Dec 03 12:20:31 vm app[10]: Error: a\nDec 03 12:20:31 vm app[10]:     at f (/srv/a.js:1:1)\n" + strings.Repeat("Dec 03 12:20:32 vm other[11]: tick\n", maxStackGap-1) + "Dec 03 12:20:33 vm app[10]:     at h (/srv/a.js:2:2)\n",
			"10@1 Error: a: f,h"},
		{"a header under maxRecent-1 lines of others",
			"Dec 03 12:20:31 vm app[10]: Error: a\n" + strings.Repeat("Dec 03 12:20:31 vm other[11]: tick\n", maxRecent-1) + "Dec 03 12:20:31 vm app[10]:     at f (/srv/a.js:1:1)\n",
			"10@1 Error: a: f"},
		{"a header under maxRecent lines of others is not looked for",
			"Dec 03 12:20:31 vm app[10]: Error: a\n" + strings.Repeat("Dec 03 12:20:31 vm other[11]: tick\n", maxRecent) + "Dec 03 12:20:31 vm app[10]:     at f (/srv/a.js:1:1)\n",
			"10@" + strconv.Itoa(maxRecent+2) + " stack: f"},
		{"stderr: bare frames under Node's warnings",
			"(node:5) Warning: a\n    at f (/srv/a.js:1:1)\n(node:5) Warning: b\n    at h (/srv/a.js:2:2)\n",
			"5@1 Warning: a: f; 5@3 Warning: b: h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Read(strings.NewReader(tt.in), "l")
			if err != nil {
				t.Fatal(err)
			}
			type stack struct {
				line int
				s    string
			}
			var got []stack
			for _, d := range ev.ThreadDumps {
				for _, th := range d.Threads {
					var fs []string
					for _, f := range th.Frames {
						fs = append(fs, f.Func)
					}
					got = append(got, stack{th.Pos.Line, fmt.Sprintf("%d@%d %s: %s", d.PID, th.Pos.Line, th.Name, strings.Join(fs, ","))})
				}
			}
			slices.SortStableFunc(got, func(a, b stack) int { return a.line - b.line })
			var ss []string
			for _, g := range got {
				ss = append(ss, g.s)
			}
			if s := strings.Join(ss, "; "); s != tt.want {
				t.Errorf("stacks %q\nwant   %q", s, tt.want)
			}
		})
	}
}

// TestJSStacksPrefixed reads one run of line-relay (testdata/gen/node-stderr-stacks)
// as journald and rsyslog wrote it: every line of a stack carries the
// journal's or syslog's prefix, and each stack must be read as from the
// plain stderr, at the line of its header, with the prefix's pid.
func TestJSStacksPrefixed(t *testing.T) {
	type stack struct {
		pid, line, frames int
		name, first, last string
	}
	want := func(pid0 int) []stack {
		return []stack{
			{pid0, 2, 1, "Error: connect ECONNREFUSED 127.0.0.1:18198", "TCPConnectWrap.afterConnect [as oncomplete]", "TCPConnectWrap.afterConnect [as oncomplete]"},
			{6125, 10, 5, "UpstreamWarning: upstream 127.0.0.1:18198 down (ECONNREFUSED), relaying nothing", "Socket.<anonymous>", "process.processTicksAndRejections"},
			{6125, 16, 11, dumps.Clip("MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 close listeners added to [Socket]. MaxListeners is 10. Use emitter.setMaxListeners() to increase limit"), "genericNodeError", "TCP.onStreamRead"},
		}
	}
	for file, pid0 := range map[string]int{
		"node-journal-short.log":     6125, // journalctl -o short
		"node-journal-short-iso.log": 6125, // journalctl -o short-iso
		"node-rsyslog.log":           6125, // rsyslog, RSYSLOG_FileFormat
		"node-journal-cat.log":       0,    // journalctl -o cat: no prefix, no pid on the error
	} {
		t.Run(file, func(t *testing.T) {
			data := dumptest.ReadFile(t, "testdata/"+file)
			if !Match(data) {
				t.Errorf("not recognised")
			}
			ev, err := Read(bytes.NewReader(data), file)
			if err != nil {
				t.Fatal(err)
			}
			var got []stack
			for _, d := range ev.ThreadDumps {
				for _, th := range d.Threads {
					if th.Pos.File != file {
						t.Errorf("position %v", th.Pos)
					}
					got = append(got, stack{d.PID, th.Pos.Line, len(th.Frames), th.Name, th.Frames[0].Func, th.Frames[len(th.Frames)-1].Func})
				}
			}
			slices.SortFunc(got, func(a, b stack) int { return a.line - b.line })
			if diff := cmp.Diff(want(pid0), got, cmp.AllowUnexported(stack{})); diff != "" {
				t.Errorf("stacks (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJournalShortForms: an event under journalctl's other short forms
// takes the prefix's program, pid and wall time where the form has one;
// a kernel ring buffer line (dmesg: "[  12.345678] TCP: ...") is no
// journal line and names no program.
func TestJournalShortForms(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 12, 1, 0, time.UTC)
	tests := []struct {
		line string
		time time.Time
		prog string
		pid  int
	}{
		{"[ 1234.567890] vm relay[10]: Error: read ECONNRESET", time.Time{}, "relay", 10},
		{"1796289121.823026 vm relay[10]: Error: read ECONNRESET", at.Add(823026 * time.Microsecond), "relay", 10},
		{"Thu 2026-12-03 09:12:01 UTC vm relay[10]: Error: read ECONNRESET", at, "relay", 10},
		// Another zone's name gives no offset: the time is left out, on
		// whatever machine reads it, that zone's own too (time.Local below).
		{"Thu 2026-12-03 10:12:01 CET vm relay[10]: Error: read ECONNRESET", time.Time{}, "relay", 10},
		// A zone without a name prints its offset, which gives the time;
		// a name in mixed case is a name. The stamps are one entry's as
		// journalctl (systemd 252) printed it under TZ=Asia/Dubai,
		// America/Sao_Paulo, Asia/Kathmandu and Pacific/Guam.
		{"Thu 2026-12-03 20:37:47 +04 vm zt[12254]: Error: read ECONNRESET", time.Date(2026, 12, 3, 16, 37, 47, 0, time.UTC), "zt", 12254},
		{"Thu 2026-12-03 13:37:47 -03 vm zt[12254]: Error: read ECONNRESET", time.Date(2026, 12, 3, 16, 37, 47, 0, time.UTC), "zt", 12254},
		{"Thu 2026-12-03 22:22:47 +0545 vm zt[12254]: Error: read ECONNRESET", time.Date(2026, 12, 3, 16, 37, 47, 0, time.UTC), "zt", 12254},
		{"Fri 2026-12-04 02:37:47 ChST vm zt[12254]: Error: read ECONNRESET", time.Time{}, "zt", 12254},
		{"[   12.345678] TCP: request_sock_TCP: connection reset", time.Time{}, "", 0},
		{"[   12.345678] vm kernel: TCP: request_sock_TCP: connection reset", time.Time{}, "kernel", 0},
	}
	local := time.Local
	time.Local = time.FixedZone("CET", 3600) // a reader in Berlin
	t.Cleanup(func() { time.Local = local })
	for _, tt := range tests {
		evs, _, _, err := ReadLog(strings.NewReader(tt.line+"\n"), "l")
		if err != nil || len(evs) != 1 {
			t.Fatalf("%q: %d events, %v", tt.line, len(evs), err)
		}
		e := evs[0]
		if !e.Time.Equal(tt.time) || e.Program != tt.prog || e.PID != tt.pid {
			t.Errorf("%q: time %v program %q pid %d, want %v %q %d", tt.line, e.Time, e.Program, e.PID, tt.time, tt.prog, tt.pid)
		}
	}
}

// TestDmesgNotJournal: dmesg prints short-monotonic's stamp before the
// kernel's messages, many of which start with two words and a colon (a
// device's driver and name, a subsystem); they are no journal lines, which
// journalctl prints as "host prog[pid]:" or, for the kernel, "host
// kernel:" (and "host prog:" for an entry without a pid, taken only under
// a host such lines named: TestJournalMonotonicNoPID). The dmesg lines are
// this machine's (Linux 6.18) and the brief's usb line.
func TestDmesgNotJournal(t *testing.T) {
	tests := []struct {
		line string
		want shape
	}{
		{"[    1.234567] usb 1-1: new high-speed USB device number 2 using xhci_hcd", shapeOther},
		{"[    0.100596] CPU topo: Max. logical packages:   1", shapeOther},
		{"[    0.400020] platform rtc_cmos: registered platform RTC device (no PNP device found)", shapeOther},
		{"[    0.435244] virtio_blk virtio1: 1/0/0 default/read/poll queues", shapeOther},
		{"[ 6920.724460] lo: left promiscuous mode", shapeOther},
		{"[ 1234.567890] vm relay[10]: Error: read ECONNRESET", shapeSyslog},
		{"[    0.000000] vm kernel: Linux version 6.18.44", shapeSyslog},
	}
	for _, tt := range tests {
		// Each as a file's first line.
		if got := new(journalHosts).shape(tt.line); got != tt.want {
			t.Errorf("shape(%q) = %d, want %d", tt.line, got, tt.want)
		}
	}
}

// TestJSStacksTwoWriters reads one run of two line-loggers
// (testdata/gen/node-stderr-stacks/two.sh) as journald and rsyslog wrote
// it: the two processes logged a stack each, a line at a time, from the
// same moment, so their headers and frames alternate line by line. Each
// stack must be read whole, at its own header's line, with its writer's
// pid, in every form: journalctl -o short, -o short-monotonic,
// -o short-precise, -o short-unix and -o short-full, and rsyslog's
// RSYSLOG_FileFormat, RSYSLOG_TraditionalFileFormat and
// RSYSLOG_SyslogProtocol23Format (RFC 5424).
func TestJSStacksTwoWriters(t *testing.T) {
	type stack struct {
		pid, line, frames int
		name, first, last string
		act               dumps.Activity
	}
	want := []stack{
		{19432, 3, 6, "Error: b: request from 127.0.0.1:44750 kept open", "Socket.<anonymous>", "TCP.onStreamRead", dumps.ActRunning},
		{19431, 4, 6, "Error: a: request from 127.0.0.1:53592 kept open", "Socket.<anonymous>", "TCP.onStreamRead", dumps.ActRunning},
	}
	for _, file := range []string{
		"node-two-journal-short.log",
		"node-two-journal-short-monotonic.log",
		"node-two-journal-short-precise.log",
		"node-two-journal-short-unix.log",
		"node-two-journal-short-full.log",
		"node-two-rsyslog.log",
		"node-two-rsyslog-traditional.log",
		"node-two-rsyslog-5424.log",
	} {
		t.Run(file, func(t *testing.T) {
			data := dumptest.ReadFile(t, "testdata/"+file)
			if !Match(data) {
				t.Errorf("not recognised")
			}
			ev, err := Read(bytes.NewReader(data), file)
			if err != nil {
				t.Fatal(err)
			}
			var got []stack
			for _, d := range ev.ThreadDumps {
				for _, th := range d.Threads {
					got = append(got, stack{d.PID, th.Pos.Line, len(th.Frames), th.Name, th.Frames[0].Func, th.Frames[len(th.Frames)-1].Func, th.Class.Activity})
				}
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(stack{})); diff != "" {
				t.Errorf("stacks (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLineReadOnce: the stack reader and the event reader share what they
// read of a line (its shape, its prefix), whichever reads it first, so
// that a line's writer is parsed once. Each step below is readLog's for
// one line; the checks are that the reading of one reader is there for
// the other.
func TestLineReadOnce(t *testing.T) {
	js := &jsStacks{name: "l"}
	rd := eventReader{name: "l", js: js, dropped: map[dumps.LogClass]int{}, kept: map[dumps.LogClass]int{}}
	n := 0
	step := func(text string) *logLine {
		n++
		l := &logLine{recentLine: recentLine{text: text, n: n}}
		if js.line(l, &rd.lastRaw) {
			return l
		}
		rd.take(l)
		js.keep(l)
		return l
	}
	recent := func(n int) *recentLine {
		r := js.recentAt(n)
		if r == nil {
			t.Fatalf("line %d not kept", n)
		}
		return r
	}

	// An event line, no stack open: the event reader's reading is kept
	// for the stack reader.
	step("Dec 03 12:20:31 vm app[10]: Error: read ECONNRESET")
	if r := recent(1); !r.parsed || r.prog != "app" || r.pid != 10 {
		t.Errorf("event line kept as %+v, want its reading", *r)
	}
	// A line that is no event, then a frame of its writer: the stack
	// reader reads it as the header, through the event reader's lastRaw.
	step("Dec 03 12:20:31 vm app[11]: (node:11) Warning: x")
	if recent(2).parsed || rd.lastRaw.parsed {
		t.Fatalf("line 2 read before a stack needed it")
	}
	step("Dec 03 12:20:31 vm app[11]:     at f (/srv/a.js:1:1)")
	if !rd.lastRaw.parsed || rd.lastRaw.n != 2 || rd.lastRaw.prog != "app" {
		t.Errorf("the header's reading is not the event reader's: lastRaw %+v", rd.lastRaw.recentLine)
	}
	// While a stack is open, a line is keyed at once: its event takes
	// that reading.
	l := step("Dec 03 12:20:31 vm app[12]: Error: write EPIPE")
	if !l.parsed || rd.lastRaw.n != l.n || !rd.lastRaw.parsed {
		t.Errorf("line keyed for the open stack not shared: %+v", l.recentLine)
	}
	// A line that is no event and reads as nothing yet, then a
	// continuation event: the event reader's reading of it is given to
	// the stack reader's copy.
	step("-- Boot 0123 --") // no writer: ends every stack
	step("Dec 03 12:20:32 vm app[13]: request failed")
	if recent(6).parsed {
		t.Fatalf("line 6 read before it was needed")
	}
	step("    errno: ECONNRESET")
	if r := recent(6); !r.parsed || r.prog != "app" || r.pid != 13 {
		t.Errorf("the continuation's reading of line 6 not kept: %+v", *r)
	}
	if len(rd.events) != 3 || rd.events[2].Program != "app" || rd.events[2].PID != 13 {
		t.Errorf("events %+v", rd.events)
	}
	// A line whose shape names no writer, looked at for a prefixed
	// frame's header: its shape is the event reader's too. Then a bare
	// frame under it: it is parsed for the stack's name through lastRaw.
	step(`{"msg":"polling","pid":14}`)
	step("Dec 03 12:20:33 vm app[15]:     at g (/srv/b.js:1:1)")
	if !rd.lastRaw.shaped || rd.lastRaw.n != 8 {
		t.Errorf("the shape read for the stack is not lastRaw's: %+v", rd.lastRaw.recentLine)
	}
	step(`{"msg":"polled","pid":14}`)
	step("    at h (/srv/c.js:1:1)")
	if !rd.lastRaw.parsed || rd.lastRaw.n != 10 || rd.lastRaw.msg != "polled" {
		t.Errorf("the header read for the stack's name is not lastRaw's: %+v", rd.lastRaw.recentLine)
	}
}

// TestJournalShortTimes reads the times of one run's lines as journalctl
// printed them (testdata/gen/node-stderr-stacks/two.sh): -o short-unix's
// are the entries' times to the microsecond, -o short-full's (printed
// with --utc) the same to the second, in UTC, and -o short-precise's are
// left out, having no year, as -o short's are. Every line has its
// writer's program and pid in each form.
func TestJournalShortTimes(t *testing.T) {
	read := func(file string) []dumps.LogEvent {
		data := dumptest.ReadFile(t, "testdata/"+file)
		var evs []dumps.LogEvent
		for line := range strings.Lines(string(data)) {
			l := logLine{recentLine: recentLine{text: strings.TrimRight(line, "\n")}}
			evs = append(evs, l.event())
		}
		return evs
	}
	unix, full, precise := read("node-two-journal-short-unix.log"), read("node-two-journal-short-full.log"), read("node-two-journal-short-precise.log")
	if len(unix) != 16 || len(full) != len(unix) || len(precise) != len(unix) {
		t.Fatalf("%d, %d and %d lines", len(unix), len(full), len(precise))
	}
	// The run's first line, as -o short-unix printed it: 1796311833.957297.
	if first := time.Date(2026, 12, 3, 15, 30, 33, 957297000, time.UTC); !unix[0].Time.Equal(first) {
		t.Errorf("first short-unix time %v, want %v", unix[0].Time, first)
	}
	for i := range unix {
		u, f, p := unix[i], full[i], precise[i]
		if u.Time.IsZero() || u.Time.Location() != time.UTC || u.Time.Nanosecond()%1000 != 0 {
			t.Errorf("line %d: short-unix time %v", i+1, u.Time)
		}
		if !f.Time.Equal(u.Time.Truncate(time.Second)) || f.Time.Location() != time.UTC {
			t.Errorf("line %d: short-full time %v, want %v", i+1, f.Time, u.Time.Truncate(time.Second))
		}
		if !p.Time.IsZero() {
			t.Errorf("line %d: short-precise time %v, want none (no year)", i+1, p.Time)
		}
		if u.Message != f.Message || u.Message != p.Message {
			t.Errorf("line %d: not the same entry: %q, %q, %q", i+1, u.Message, f.Message, p.Message)
		}
		if u.Program != "line-logger" || u.PID == 0 || f.Program != u.Program || f.PID != u.PID || p.Program != u.Program || p.PID != u.PID {
			t.Errorf("line %d: writers %s[%d], %s[%d], %s[%d]", i+1, u.Program, u.PID, f.Program, f.PID, p.Program, p.PID)
		}
	}
}

// TestJournalMonotonicNoPID: under -o short-monotonic's stamp, journalctl
// prints an entry with neither _PID nor SYSLOG_PID as "host prog:" (an
// audit record without a pid, an entry imported from another machine),
// which dmesg's device lines look like ("usb 1-1:"). Such a line is a
// journal line when a journal line of the file ("host prog[pid]:", "host
// kernel:") named its host before it; alone, or under another host, it
// names no program, and takes the writer of the line before it as any
// plain line does. Each line below is an event; want is each event's
// "program[pid]" in order, "" for none.
func TestJournalMonotonicNoPID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"after the kernel's line",
			"[    0.100000] vm kernel: TCP: connection reset\n[ 1234.567890] vm audit: type=1400 msg=connection reset\n",
			[]string{"kernel[0]", "audit[0]"}},
		{"after a program's line with a pid",
			"[   12.000000] vm app[10]: read ECONNRESET\n[   13.000000] vm unknown: read ECONNRESET\n[   14.000000] vm app[10]: read ECONNRESET\n",
			[]string{"app[10]", "unknown[0]", "app[10]"}},
		// Refused.
		{"alone: no journal line named its host",
			"[ 1234.567890] vm audit: connection reset\n[ 1235.000000] vm kernel: connection reset\n",
			[]string{"", "kernel[0]"}},
		{"under another host",
			"[   12.000000] vm app[10]: read ECONNRESET\n[   13.000000] db audit: read ECONNRESET\n",
			[]string{"app[10]", "app[10]"}},
		{"dmesg, device lines only",
			"[    1.234567] usb 1-1: connection reset\n[    1.234600] usb 1-1: connection reset again\n[    2.000000] virtio_net virtio0: connection reset\n",
			[]string{"", "", ""}},
		{"a word then a colon but no blank: a PCI address",
			"[   12.000000] vm app[10]: read ECONNRESET\n[   13.000000] vm 0000:00:01.0: connection reset\n",
			[]string{"app[10]", "app[10]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, _, _, err := ReadLog(strings.NewReader(tt.in), "l")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range evs {
				w := ""
				if e.Program != "" {
					w = fmt.Sprintf("%s[%d]", e.Program, e.PID)
				}
				got = append(got, w)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("writers (-want +got):\n%s", diff)
			}
		})
	}
	// journalctl ends a line of an empty message after the colon.
	var hosts journalHosts
	for _, tt := range []struct {
		line string
		want bool
	}{
		{"[   13.000000] vm relay:", false}, // no host named yet
		{"[   12.000000] vm app[10]: x", true},
		{"[   13.000000] vm relay:", true},
		{"[   13.000000] vm relay:x", false},
		{"[   13.000000] vm relay[x]: ", false},
	} {
		if _, got := hosts.see(tt.line); got != tt.want {
			t.Errorf("see(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
	// Only the first maxJournalHosts hosts are kept.
	hosts = nil
	for i := range maxJournalHosts + 1 {
		hosts.see(fmt.Sprintf("[    1.000000] h%d app[1]: x", i))
	}
	if _, ok := hosts.see("[    2.000000] h0 relay: x"); !ok {
		t.Errorf("the first host is not kept")
	}
	if _, ok := hosts.see(fmt.Sprintf("[    2.000000] h%d relay: x", maxJournalHosts)); ok {
		t.Errorf("host %d of %d kept", maxJournalHosts+1, maxJournalHosts)
	}
	// A journal of pid-less lines after a kernel line is a log by its
	// shape; a dmesg of device lines is not.
	for in, want := range map[string]bool{
		"[    0.100000] vm kernel: Linux\n[    1.000000] vm audit: a\n[    2.000000] vm audit: b\n[    3.000000] vm audit: c\n":   true,
		"[    1.000000] vm audit: a\n[    2.000000] vm audit: b\n[    3.000000] vm audit: c\n[    4.000000] vm audit: d\n":        false,
		"[    1.234567] usb 1-1: a\n[    1.300000] usb 1-1: b\n[    2.000000] CPU topo: c\n[    3.000000] platform rtc_cmos: d\n": false,
	} {
		if got := Match([]byte(in)); got != want {
			t.Errorf("Match(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestMonotonicLine holds monotonicLine to the two regexps it stands for
// on the edges of each part (FuzzRead does on every line of its inputs).
func TestMonotonicLine(t *testing.T) {
	for _, line := range []string{
		"[    1.000000] vm kernel:", "[    1.000000] vm kernel: x", "[    1.000000] vm kernel[3]: x",
		"[    1.000000] vm kernelx: x", "[    1.000000] vm kernel", "[    1.000000] vm app[]: x",
		"[    1.000000] vm app[1]", "[    1.000000] vm app[1]x: x", "[    1.000000] vm app[1]:",
		"[    1.000000] vm app:", "[    1.000000] vm app: x", "[    1.000000] vm app:x",
		"[    1.000000] vm app :", "[    1.000000] vm  app[1]: x", "[1.000000] vm app[1]: x",
		"[ 1.00000] vm app[1]: x", "[ 1.0000000] vm app[1]: x", "[ 1.000000]vm app[1]: x",
		"[ .000000] vm app[1]: x", "[    1.000000] vm:x app[1]: x", "[    1.000000] v\vm app[1]: x",
		"[    1.000000] vm a\vpp: x", "[    1.000000] vm app[1]:\tx", "[    1.000000] usb 1-1: x",
		"[    1.000000] pci 0000:00:01.0: x", "[    1.000000]  vm app[1]: x", "[", "[    1.000000] ",
		" [    1.000000] vm app[1]: x", "[    1.000000] vm \xff[1]: x", "[    1.000000] vm \xff: x",
		// journalctl --no-hostname.
		"[    1.000000] app[1]: x", "[    1.000000] app[1]:x", "[    1.000000] app[1]:", "[    1.000000] kernel: x",
		"[    1.000000] kernel:", "[    1.000000] app: x", "[    1.000000] app:x y", "[    1.000000] app[]: x",
		"[    1.000000] app[1]x: y", "[    1.000000] 0000:00:01.0: x", "[    1.000000] a:b c: x", "[    1.000000] app[1]:\tx",
		// An IPv6 address as the host.
		"[    1.000000] fe80:: app[1]: x", "[    1.000000] fe80:: kernel: x", "[    1.000000] ::1 app: x", "[    1.000000] fe80::1%eth0 app[1]: x",
		"[    1.000000] fe80::% app[1]: x", "[    1.000000] 1:2:3:4:5:6:7:8 app[1]: x", "[    1.000000] 1:2:3:4:5:6:7 app[1]: x",
		"[    1.000000] fe80:: x", "[    1.000000] fe80::g app[1]: x", "[    1.000000] :: app:", "[    1.000000] fe80::%a:b app[1]: x",
	} {
		host, journal, noPID, e := monotonicLine(line)
		if journal != reJournalMonotonic.MatchString(line) || !journal && noPID != reMonotonicNoPID.MatchString(line) {
			t.Errorf("monotonicLine(%q) = %q %v %v; regexps %v %v", line, host, journal, noPID, reJournalMonotonic.MatchString(line), reMonotonicNoPID.MatchString(line))
		}
		if want := monotonicByRegexp(line); e != want {
			t.Errorf("monotonicLine(%q) = %+v; regexps %+v", line, e, want)
		}
	}
}

// The two regexps monotonicLine stands for: journalctl -o
// short-monotonic's "[  123.456789] host prog[123]:" or the kernel's
// "host kernel:", or without the host (--no-hostname) "prog[123]:", and a
// program without a pid, "[  123.456789] host prog: " or "prog: ", after
// which journalctl puts ": ", a blank too, or ends the line when the
// message is empty.
var (
	reJournalMonotonic = regexp.MustCompile(`^\[ *\d+\.\d{6}\] (?:(?:[^\s:]+|` + ipv6Host + `) (?:(kernel)|([^\s:\[]+)\[(\d+)\])|([^\s:\[]+)\[(\d+)\]): ?`)
	reMonotonicNoPID   = regexp.MustCompile(`^\[ *\d+\.\d{6}\] (?:(?:[^\s:]+|` + ipv6Host + `) )?([^\s:\[]+):(?: |$)`)
)

// monotonicByRegexp reads a short-monotonic line's program, pid and
// message by the two regexps, as parseSyslog and parsePrefix read it
// before monotonicLine did.
func monotonicByRegexp(s string) (e dumps.LogEvent) {
	if m := reJournalMonotonic.FindStringSubmatch(s); m != nil {
		e.Program = m[1] + m[2] + m[4]
		e.PID, _ = strconv.Atoi(m[3] + m[5])
		e.Message = s[len(m[0]):]
	} else if m := reMonotonicNoPID.FindStringSubmatch(s); m != nil {
		e.Program = m[1]
		e.Message = s[len(m[0]):]
	}
	return e
}

// TestReadLogOrdinaryLinesAllocs: a line that names no problem is classed
// without a lower-case copy of its own (classify lowers it into the
// reader's buffer): reading a log of ordinary lines allocates a string a
// line for its text (the scanner's Text) and little more.
func TestReadLogOrdinaryLinesAllocs(t *testing.T) {
	data := []byte(strings.Repeat("Dec  2 10:05:00 web-1 haproxy[911]: GET /v1/orders 200 in 12 ms\n", 1000))
	allocs := testing.AllocsPerRun(5, func() {
		if _, _, _, err := ReadLog(bytes.NewReader(data), "t"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1100 {
		t.Errorf("ReadLog of 1,000 ordinary lines: %.0f allocations, want at most 1,100", allocs)
	}
}

// TestClassifyUnicode: a message with bytes past ASCII is lowered as
// strings.ToLower lowers it, whose Kelvin sign is a 'k'.
func TestClassifyUnicode(t *testing.T) {
	for msg, want := range map[string]dumps.LogClass{
		"BRO\u212aEN PIPE":            dumps.LogBrokenPipe,
		"Fehler: ECONNRESET – zurück": dumps.LogConnReset,
		"zurück":                      dumps.LogNone,
	} {
		if got := Classify(msg); got != want {
			t.Errorf("Classify(%q) = %v, want %v", msg, got, want)
		}
	}
}

// TestMonotonicLinesParsedOnce: a short-monotonic journal line is read
// for its program, pid and message as it is shaped (monotonicLine), not
// matched again by a regexp when a reader needs its writer: while another
// writer's stack is open, each line is keyed to its writer, and reading
// them allocates a string a line for its text and little more.
func TestMonotonicLinesParsedOnce(t *testing.T) {
	var b strings.Builder
	lines := 0
	for range 10 {
		b.WriteString("[  100.000000] vm app[1]: Error: kept open\n[  100.000000] vm app[1]:     at f (/srv/a.js:1:1)\n")
		for range 60 {
			b.WriteString("[  100.000001] vm relay[2]: handled request in 3 ms\n")
		}
		lines += 62
	}
	data := []byte(b.String())
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := Read(bytes.NewReader(data), "t"); err != nil {
			t.Fatal(err)
		}
	})
	if max := float64(lines + 150); allocs > max {
		t.Errorf("Read of %d short-monotonic lines: %.0f allocations, want at most %.0f", lines, allocs, max)
	}
}

// TestStampedFileLine: Go's log with Lshortfile ("2026/12/02 10:05:09
// proxy.go:88: http: ...") names a file and line after its time, no host
// and program as journalctl -o short-iso's "host prog[123]:": the line has
// no program, and its message keeps what follows the time.
func TestStampedFileLine(t *testing.T) {
	evs, _, _, err := ReadLog(strings.NewReader("2026/12/02 10:05:09 proxy.go:88: http: proxy error: read tcp 10.0.0.1:80: connection reset by peer\n"+
		"2026-12-02T10:05:09+0000 vm app[12]: read ECONNRESET\n"), "t")
	if err != nil || len(evs) != 2 {
		t.Fatalf("events %+v, %v", evs, err)
	}
	if e := evs[0]; e.Program != "" || !strings.HasPrefix(e.Message, "proxy.go:88: http: ") {
		t.Errorf("Go log line read as program %q, message %q", e.Program, e.Message)
	}
	if e := evs[1]; e.Program != "app" || e.PID != 12 || e.Message != "read ECONNRESET" {
		t.Errorf("short-iso line read as %+v", e)
	}
}

// TestJournalNoHostname: journalctl --no-hostname prints the short forms
// without the host ("Dec 03 13:49:40 line-logger[16984]: ..."); each line
// names its writer, not "Error" read from the message, and a stack is read
// under its writer's header.
func TestJournalNoHostname(t *testing.T) {
	for _, stamp := range []string{"Dec 03 13:49:40", "Dec 03 13:49:40.170000", "1764769780.170000", "Thu 2026-12-03 13:49:40 UTC"} {
		log := stamp + " line-logger[16984]: Error: read ECONNRESET\n" +
			stamp + " line-logger[16984]:     at Socket.<anonymous> (/srv/linelog.js:27:17)\n" +
			stamp + " kernel: TCP: request_sock_TCP: Possible SYN flooding on port 8080\n"
		ev, err := Read(strings.NewReader(log), "t")
		if err != nil || len(ev.LogEvents) != 1 {
			t.Fatalf("%s: events %+v, %v", stamp, ev.LogEvents, err)
		}
		if e := ev.LogEvents[0]; e.Program != "line-logger" || e.PID != 16984 || e.Message != "Error: read ECONNRESET" {
			t.Errorf("%s: event %+v", stamp, e)
		}
		if len(ev.ThreadDumps) != 1 || ev.ThreadDumps[0].PID != 16984 || len(ev.ThreadDumps[0].Threads) != 1 ||
			ev.ThreadDumps[0].Threads[0].Name != "Error: read ECONNRESET" {
			t.Errorf("%s: stacks %+v", stamp, ev.ThreadDumps)
		}
		if !Match([]byte(log)) {
			t.Errorf("%s: not matched as a log", stamp)
		}
	}
}

// journalRelay is what each line of testdata/journal-nohost-*.log and
// journal-ipv6host-*.log names (testdata/gen/journal-forms/entries.sh):
// the writer, and the class of the lines that are events.
var journalRelay = []struct {
	prog  string
	pid   int
	class dumps.LogClass
	msg   string
}{
	{"relay", 4242, dumps.LogNone, "listening on 127.0.0.1:18401"},
	{"kernel", 0, dumps.LogNone, "TCP: request_sock_TCP: Possible SYN flooding on port 18401. Sending cookies."},
	{"relay", 4242, dumps.LogConnReset, "Error: read ECONNRESET"},
	{"relay", 4242, dumps.LogNone, "    at TCP.onStreamRead (node:internal/stream_base_commons:217:20)"},
	{"relay", 4242, dumps.LogFDExhausted, "accept4: too many open files; retrying in 5ms"},
	{"pgbouncer", 0, dumps.LogUpstreamClosed, "C-0x55d0: app/app@10.0.0.7:51234 closing because: client unexpected eof (age=0s)"},
	{"relay", 4242, dumps.LogBrokenPipe, "write EPIPE to 10.0.0.7:5432"},
}

// checkJournalRelay reads a journal of journalRelay's entries as journalctl
// printed it: every line names its writer, pid and message (the time when
// the form has one with a year), the events are the four problem lines,
// and the stack is read under its writer's header.
func checkJournalRelay(t *testing.T, file string) {
	t.Helper()
	data := dumptest.ReadFile(t, file)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != len(journalRelay) {
		t.Fatalf("%s: %d lines, want %d", file, len(lines), len(journalRelay))
	}
	// The first line at 2026-12-03 09:12:01.729353 UTC (short-monotonic's
	// and the year-less forms': none).
	first := time.Date(2026, 12, 3, 9, 12, 1, 729353000, time.UTC)
	var hosts journalHosts
	for i, line := range lines {
		want := journalRelay[i]
		if sh := hosts.shape(line); sh != shapeSyslog && sh != shapeStamped {
			t.Errorf("%s:%d: shape %d, want a journal line", file, i+1, sh)
		}
		l := logLine{recentLine: recentLine{text: line}}
		if e, ok := hosts.see(line); ok {
			l.sh, l.shaped = shapeSyslog, true
			l.set(e, true)
		}
		e := l.event()
		if e.Program != want.prog || e.PID != want.pid || e.Message != want.msg {
			t.Errorf("%s:%d: %s[%d] %q, want %s[%d] %q", file, i+1, e.Program, e.PID, e.Message, want.prog, want.pid, want.msg)
		}
		if i == 0 && !e.Time.IsZero() && !e.Time.Equal(first) && !e.Time.Equal(first.Truncate(time.Second)) {
			t.Errorf("%s:1: time %v, want %v", file, e.Time, first)
		}
	}
	ev, err := Read(bytes.NewReader(data), "t")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ev.LogEvents {
		got = append(got, fmt.Sprintf("%d %s %s[%d]", e.Pos.Line, e.Class, e.Program, e.PID))
	}
	want := []string{"3 conn-reset relay[4242]", "5 fd-exhausted relay[4242]", "6 upstream-closed pgbouncer[0]", "7 broken-pipe relay[4242]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: events (-want +got):\n%s", file, diff)
	}
	if len(ev.ThreadDumps) != 1 || ev.ThreadDumps[0].PID != 4242 || len(ev.ThreadDumps[0].Threads) != 1 ||
		ev.ThreadDumps[0].Threads[0].Name != "Error: read ECONNRESET" {
		t.Errorf("%s: stacks %+v", file, ev.ThreadDumps)
	}
	if !Match(data) {
		t.Errorf("%s: not matched as a log", file)
	}
}

// TestJournalNoHostnameFiles: journalctl --no-hostname in every short form
// (testdata/journal-nohost-*.log, printed by the real journalctl from
// entries of a program with a pid, the kernel and a program without one):
// after short-iso's and short-monotonic's stamps too, the writer follows
// the stamp, and is no host.
func TestJournalNoHostnameFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/journal-nohost-*.log")
	if len(files) != 7 {
		t.Fatalf("%d files", len(files))
	}
	for _, file := range files {
		checkJournalRelay(t, file)
	}
}

// TestJournalNoHostnameLines: the class of --no-hostname lines, and the
// lines that are not of it. A short-monotonic line of a program without a
// pid ("[ 1.0] kernel: ...") is dmesg's shape ("[ 1.0] ACPI: ..."): it is
// a journal line only after a journal line of the file named a writer
// with its pid, as a host-less journal's lines do (journalHosts); after a
// short-iso stamp, in journalctl's own shape (a "T" and a zone of four
// digits), a word then ": " is a writer unless it is a level or an
// exception's name.
func TestJournalNoHostnameLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // each event's "program[pid] message"
	}{
		{"short-monotonic, the kernel after a program",
			"[   12.000000] app[10]: read ECONNRESET\n[   13.000000] kernel: TCP: connection reset\n",
			[]string{"app[10] read ECONNRESET", "kernel[0] TCP: connection reset"}},
		{"short-monotonic, the kernel alone: dmesg's shape",
			"[   13.000000] kernel: TCP: connection reset\n",
			[]string{"[0] [   13.000000] kernel: TCP: connection reset"}},
		{"short-iso",
			"2026-12-03T09:12:01+0000 app[10]: read ECONNRESET\n2026-12-03T09:12:02+0000 kernel: TCP: connection reset\n",
			[]string{"app[10] read ECONNRESET", "kernel[0] TCP: connection reset"}},
		{"short-iso-precise, a program without a pid",
			"2026-12-03T09:12:01.943063+0000 pgbouncer: closing because: client unexpected eof\n",
			[]string{"pgbouncer[0] closing because: client unexpected eof"}},
		{"short-iso: a level or an exception is no writer",
			"2026-12-03T09:12:01+0000 Error: read ECONNRESET\n2026-12-03T09:12:01+0000 java.net.SocketException: Connection reset\n2026-12-03T09:12:01+0000 ConnectionResetError: [Errno 104] Connection reset by peer\n",
			[]string{"[0] Error: read ECONNRESET", "[0] java.net.SocketException: Connection reset", "[0] ConnectionResetError: [Errno 104] Connection reset by peer"}},
		{"another stamp: only a writer with a pid",
			"2026-12-03 09:12:01,123 app[10]: read ECONNRESET\n2026-12-03 09:12:01,123 urllib3: connection reset\n",
			[]string{"app[10] read ECONNRESET", "[0] urllib3: connection reset"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, _, _, err := ReadLog(strings.NewReader(tt.in), "l")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range evs {
				got = append(got, fmt.Sprintf("%s[%d] %s", e.Program, e.PID, e.Message))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
	// dmesg's own lines stay dmesg's: under no journal line of the file,
	// and the first line of the file.
	for _, line := range []string{"[    0.523438] ACPI: Interpreter enabled", "[ 6920.724460] lo: left promiscuous mode", "[   13.000000] kernel: x"} {
		if sh := new(journalHosts).shape(line); sh != shapeOther {
			t.Errorf("shape(%q) = %d, want %d", line, sh, shapeOther)
		}
	}
}

// TestJournalIPv6Host: a host named by an IPv6 address (rsyslog and
// journald print a host without a name so) is a host in every prefix,
// ending in "::" too, which a host ending in no colon is not: the real
// journalctl's lines (testdata/journal-ipv6host-*.log, host "2001:db8::"),
// then each form of address in each prefix.
func TestJournalIPv6Host(t *testing.T) {
	files, _ := filepath.Glob("testdata/journal-ipv6host-*.log")
	if len(files) != 4 {
		t.Fatalf("%d files", len(files))
	}
	for _, file := range files {
		checkJournalRelay(t, file)
	}
	stamps := []string{"Dec 03 09:12:01", "Dec  3 09:12:01.823026", "2026-12-03T09:12:01+0000", "2026-12-03T09:12:01.823026+00:00",
		"1796289121.823026", "Thu 2026-12-03 09:12:01 UTC", "[29834.368633]"}
	hosts := []string{"fe80::", "2001:db8:0:1::", "::", "::1", "fe80::1%eth0", "2001:db8:0:0:0:0:0:1", "::ffff:10.0.0.7", "2001:DB8::A"}
	for _, stamp := range stamps {
		for _, host := range hosts {
			line := stamp + " " + host + " relay[4242]: Error: read ECONNRESET"
			evs, _, _, err := ReadLog(strings.NewReader(line+"\n"), "l")
			if err != nil || len(evs) != 1 {
				t.Fatalf("%q: %d events, %v", line, len(evs), err)
			}
			if e := evs[0]; e.Program != "relay" || e.PID != 4242 || e.Message != "Error: read ECONNRESET" {
				t.Errorf("%q: %s[%d] %q", line, e.Program, e.PID, e.Message)
			}
		}
	}
	// Not addresses: Go's log.Lshortfile and words with colons stay in
	// the message.
	for _, line := range []string{
		"2026/12/02 10:05:09 cafe.go:88: http: proxy error: read: connection reset by peer",
		"2026-12-02T10:05:09+0000 bad:88: http: connection reset by peer",
		"2026-12-02T10:05:09+0000 a:b:c:d: http: connection reset by peer",
	} {
		evs, _, _, err := ReadLog(strings.NewReader(line+"\n"), "l")
		if err != nil || len(evs) != 1 {
			t.Fatalf("%q: %d events, %v", line, len(evs), err)
		}
		if e := evs[0]; e.Program != "" {
			t.Errorf("%q: program %q, want none", line, e.Program)
		}
	}
}

// TestSyslogMonthNames: journalctl names the month in LC_TIME's language
// ("Dez 03", "déc. 03", "12月 03", " 1月 03"): the real journalctl's -o
// short of one entry a month under 15 locales
// (testdata/journal-locales-short.log) is read as under C's, writer and
// message, no time (no year, as in English); then month names of other
// glibc locales (its locales/*: abmon), written by hand, with blanks,
// dots and marks in them, and lines that are no syslog prefix.
func TestSyslogMonthNames(t *testing.T) {
	data := string(dumptest.ReadFile(t, "testdata/journal-locales-short.log"))
	blocks := strings.Split(data, "# ")[1:]
	if len(blocks) != 15 {
		t.Fatalf("%d locales", len(blocks))
	}
	for _, block := range blocks {
		loc, body, _ := strings.Cut(block, "\n")
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		if len(lines) != 12 {
			t.Fatalf("%s: %d lines", loc, len(lines))
		}
		for i, line := range lines {
			if sh := new(journalHosts).shape(line); sh != shapeSyslog {
				t.Errorf("%s: shape(%q) = %d, want syslog", loc, line, sh)
			}
			l := logLine{recentLine: recentLine{text: line}}
			if e := l.event(); e.Program != "relay" || e.PID != 4242 || e.Message != fmt.Sprintf("poll %d ok", i+1) || !e.Time.IsZero() {
				t.Errorf("%s: %q read as %s[%d] %q at %v", loc, line, e.Program, e.PID, e.Message, e.Time)
			}
		}
		if !Match([]byte(body)) {
			t.Errorf("%s: not matched as a log", loc)
		}
	}
	for _, month := range []string{"Ιαν", "ינו", "лис", "saus.", "ม.ค.", "जन॰", "Thg 1", "Thg 12", "كانون الثاني", "apr  ", "d’abr.", "1-р сар", "fé"} {
		for _, sep := range []string{" 03 09:12:01", " 3 09:12:01.823026"} {
			line := month + sep + " vm relay[4242]: Error: read ECONNRESET"
			evs, _, _, err := ReadLog(strings.NewReader(line+"\n"), "l")
			if err != nil || len(evs) != 1 {
				t.Fatalf("%q: %d events, %v", line, len(evs), err)
			}
			if e := evs[0]; e.Program != "relay" || e.PID != 4242 || e.Message != "Error: read ECONNRESET" {
				t.Errorf("%q: %s[%d] %q", line, e.Program, e.PID, e.Message)
			}
		}
	}
	// A stack under a padded month's prefix.
	ev, err := Read(strings.NewReader(" 1月 03 09:12:01 vm relay[4242]: Error: read ECONNRESET\n 1月 03 09:12:01 vm relay[4242]:     at f (/srv/a.js:1:1)\n"), "l")
	if err != nil || len(ev.LogEvents) != 1 || len(ev.ThreadDumps) != 1 || ev.ThreadDumps[0].PID != 4242 || ev.ThreadDumps[0].Threads[0].Name != "Error: read ECONNRESET" {
		t.Errorf("ja_JP stack: events %+v, dumps %+v, %v", ev.LogEvents, ev.ThreadDumps, err)
	}
	for _, line := range []string{
		"2026 03 09:12:01 vm relay[4242]: x",           // no letter
		"[main] 03 09:12:01 vm relay[4242]: x",         // no month's characters
		"a b c d 03 09:12:01 vm relay[4242]: x",        // four words
		"Dec 103 09:12:01 vm relay[4242]: x",           // a day of three digits
		"Dec    3 09:12:01 vm relay[4242]: x",          // four blanks
		"Dec 03 09:12:1 vm relay[4242]: x",             // no seconds
		"    at f (/srv/a.js:1:1) 03 09:12:01 vm r: x", // a frame
	} {
		if sh := lineShape(line); sh == shapeSyslog {
			t.Errorf("lineShape(%q) = syslog", line)
		}
	}
}

// TestJSONStringLines: a log of one JSON string a line (a logger that
// writes its messages so, `jq .msg` of a JSON log) is a log, and each
// line's message is the string, unquoted and unescaped; a line that is
// not one JSON string (CSV's quoted fields, a string cut short, a bad
// escape) is no such line.
func TestJSONStringLines(t *testing.T) {
	in := `"listening on :8080"` + "\n" +
		`"read tcp 10.0.0.5:8080->10.0.0.9:51234: read: connection reset by peer"` + "\n" +
		`"write: broken pipe \u2014 peer \"api\"\n    at x"` + "\n" +
		`"request completed"` + "\n"
	if !Match([]byte(in)) {
		t.Errorf("a log of JSON strings not matched")
	}
	evs, _, _, err := ReadLog(strings.NewReader(in), "l")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprintf("%d %s %q %s", e.Pos.Line, e.Class, e.Message, e.Endpoint))
	}
	want := []string{
		`2 conn-reset "read tcp 10.0.0.5:8080->10.0.0.9:51234: read: connection reset by peer" 10.0.0.5:8080`,
		`3 broken-pipe "write: broken pipe — peer \"api\"\n    at x" `,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for _, line := range []string{`"a","connection reset"`, `"connection reset`, `"bad \x escape: connection reset"`, `"a" "connection reset"`} {
		if sh := lineShape(line); sh != shapeOther {
			t.Errorf("lineShape(%q) = %d, want %d", line, sh, shapeOther)
		}
		if Match([]byte(strings.Repeat(line+"\n", 5))) {
			t.Errorf("Match(5 × %q) = true", line)
		}
	}
}

// TestFieldRecords: a JSON object and a logfmt record of the same fields
// are read alike, by one table of keys: time (RFC 3339 or epoch, a
// string in logfmt), level, program, pid and message (the line itself when
// no key holds one); logfmt is told by the same keys.
func TestFieldRecords(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 5, 0, 0, time.UTC)
	tests := []struct {
		name, json, logfmt string
		want               dumps.LogEvent
	}{
		{"zap's epoch seconds, a pid",
			`{"ts":1796205911.5,"level":"error","logger":"client","pid":812,"msg":"dial failed","error":"socket: too many open files"}`,
			`ts=1796205911.5 level=error logger=client pid=812 msg="dial failed" error="socket: too many open files"`,
			dumps.LogEvent{Time: time.Date(2026, 12, 2, 10, 5, 11, 500000000, time.UTC), Class: dumps.LogFDExhausted, Level: "error", Program: "client", PID: 812, Message: "dial failed: socket: too many open files"}},
		{"keys of the table only: date, severity, exception",
			`{"date":"2026-12-02T10:05:00Z","severity":"ERROR","exception":"java.net.SocketException: Connection reset"}`,
			`date=2026-12-02T10:05:00Z severity=ERROR exception="java.net.SocketException: Connection reset"`,
			dumps.LogEvent{Time: at, Class: dumps.LogConnReset, Level: "ERROR", Message: "java.net.SocketException: Connection reset"}},
		{"no message key: the line",
			`{"time":"2026-12-02T10:05:00Z","level":"warn","code":"ECONNRESET"}`,
			`time=2026-12-02T10:05:00Z level=warn code=ECONNRESET`,
			dumps.LogEvent{Time: at, Class: dumps.LogConnReset, Level: "warn"}},
	}
	for _, tt := range tests {
		for _, line := range []string{tt.json, tt.logfmt} {
			evs, _, _, err := ReadLog(strings.NewReader(line+"\n"), "l")
			if err != nil || len(evs) != 1 {
				t.Errorf("%s: %q: %d events, %v", tt.name, line, len(evs), err)
				continue
			}
			want := tt.want
			want.Pos = dumps.Pos{File: "l", Line: 1}
			if want.Message == "" {
				want.Message = line
			}
			if diff := cmp.Diff(want, evs[0]); diff != "" {
				t.Errorf("%s: %q (-want +got):\n%s", tt.name, line, diff)
			}
		}
	}
}

// TestBSDStampLongestMonth: a month's name of maxMonth bytes, padded by a
// blank and followed by three blanks, is still read.
func TestBSDStampLongestMonth(t *testing.T) {
	month := strings.Repeat("é", maxMonth/2)
	for _, line := range []string{month + "   3 09:12:01 vm relay[1]: x", " " + month + "   3 09:12:01 vm relay[1]: x", month + " 13 09:12:01 vm relay[1]: x"} {
		if k := bsdStamp(line); k < 0 || !strings.HasPrefix(line[k:], "vm ") {
			t.Errorf("bsdStamp(%q) = %d", line, k)
		}
	}
	if k := bsdStamp(strings.Repeat("é", maxMonth/2+1) + " 03 09:12:01 vm relay[1]: x"); k >= 0 {
		t.Errorf("a month of %d bytes read", maxMonth+2)
	}
}
