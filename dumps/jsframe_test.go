package dumps

import "testing"

func TestParseJSFrame(t *testing.T) {
	tests := []struct {
		line     string
		ok       bool
		fn, file string
		n        int
		internal bool // nodeInternal's verdict, for AppFrame
	}{
		{"    at poll (/srv/app/client.js:17:18)", true, "poll", "/srv/app/client.js", 17, false},
		{"    at TCP.onStreamRead (node:internal/stream_base_commons:217:20) {", true, "TCP.onStreamRead", "node:internal/stream_base_commons", 217, true},
		{"    at Timeout._onTimeout (/srv/app/client.js:33:40)", true, "Timeout._onTimeout", "/srv/app/client.js", 33, false},
		{"    at listOnTimeout (node:internal/timers:573:17)", true, "listOnTimeout", "node:internal/timers", 573, true},
		{"    at Socket.socketOnData (node:_http_client:541:22)", true, "Socket.socketOnData", "node:_http_client", 541, true},
		{"    at TCP.onStreamRead (internal/stream_base_commons.js:209:20)", true, "TCP.onStreamRead", "internal/stream_base_commons.js", 209, true},
		{"    at Socket.emit (events.js:315:20)", true, "Socket.emit", "events.js", 315, true},
		{"    at ClientRequest.<anonymous> (/srv/app/node_modules/got/dist/source/core/index.js:900:10)", true, "ClientRequest.<anonymous>", "/srv/app/node_modules/got/dist/source/core/index.js", 900, false},
		{"    at async Promise.all (index 0)", true, "Promise.all", "index 0", 0, true},
		{"    at new Promise (<anonymous>)", true, "new Promise", "<anonymous>", 0, true},
		{"    at /srv/app/server.js:10:5", true, "<anonymous>", "/srv/app/server.js", 10, false},
		{"    at file:///srv/app/main.mjs:4:9", true, "<anonymous>", "file:///srv/app/main.mjs", 4, false},
		{"\tat java.net.SocketInputStream.read(SocketInputStream.java:171)", false, "", "", 0, false},
		{"\tat java.lang.Thread.run(Native Method)", false, "", "", 0, false},
		{"No stack.", false, "", "", 0, false},
		{"    at something", false, "", "", 0, false},
	}
	for _, tt := range tests {
		f, ok := ParseJSFrame(tt.line)
		if ok != tt.ok || f.Func != tt.fn || f.File != tt.file || f.Line != tt.n {
			t.Errorf("ParseJSFrame(%q) = %+v, %t; want %s %s:%d, %t", tt.line, f, ok, tt.fn, tt.file, tt.n, tt.ok)
		}
		if ok && nodeInternal(f) != tt.internal {
			t.Errorf("nodeInternal(%q) = %t, want %t", tt.line, !tt.internal, tt.internal)
		}
	}
	// AppFrame skips Node's own frames to the first of the program's.
	var fs []Frame
	for _, l := range []string{"    at Socket.emit (events.js:315:20)", "    at TCP.onStreamRead (node:internal/stream_base_commons:190:23)", "    at poll (/srv/app/client.js:17:18)"} {
		f, _ := ParseJSFrame(l)
		fs = append(fs, f)
	}
	if i := AppFrame(fs); i != 2 {
		t.Errorf("AppFrame = %d, want 2 (poll)", i)
	}
	// The frame rules themselves say running under TCP.onStreamRead: a
	// Node.js callback frame means the socket has delivered data and
	// JavaScript is running in the callback, not waiting on a read. The rule
	// layer once said socket-read here and FinishThreadDump turned it into
	// running afterwards, so two places classified one stack.
	if c, _ := classifyFrames(fs); c.Activity != ActRunning || c.Func != "TCP.onStreamRead" {
		t.Errorf("a stack under TCP.onStreamRead is %s by %s, want running by TCP.onStreamRead", c.Activity, c.Func)
	}
}

func FuzzParseJSFrame(f *testing.F) {
	f.Add("    at poll (/srv/app/client.js:17:18)")
	f.Add("    at /srv/app/server.js:10:5")
	f.Fuzz(func(t *testing.T, s string) {
		if fr, ok := ParseJSFrame(s); ok && len(fr.Func) > 303 {
			t.Fatalf("unbounded name %d bytes", len(fr.Func))
		}
	})
}

// TestClassifyNodeCallbacks: a JavaScript stack is code the event loop is
// running, never a thread blocked on a socket. A frame of libuv's stream
// callbacks says which callback it runs in (data arrived, a connect or an
// accept finished): running there, not waiting. Stacks from
// applog/testdata/node-stderr-two-warnings.log (Node.js 20) and of Node 12.
func TestClassifyNodeCallbacks(t *testing.T) {
	tests := []struct {
		name   string
		frames []string
		want   Activity
		fn     string // the frame that decided
	}{
		{"MaxListenersExceededWarning added in a data handler", []string{
			"    at genericNodeError (node:internal/errors:984:15)",
			"    at wrappedFn (node:internal/errors:538:14)",
			"    at _addListener (node:events:598:17)",
			"    at Socket.addListener (node:events:616:10)",
			"    at Readable.on (node:internal/streams/readable:1128:35)",
			"    at Socket.<anonymous> (/srv/relay.js:22:10)",
			"    at Socket.emit (node:events:524:28)",
			"    at addChunk (node:internal/streams/readable:561:12)",
			"    at readableAddChunkPushByteMode (node:internal/streams/readable:512:3)",
			"    at Readable.push (node:internal/streams/readable:392:5)",
			"    at TCP.onStreamRead (node:internal/stream_base_commons:191:23)",
		}, ActRunning, "TCP.onStreamRead"},
		{"a user callback in socket.on('data'), Node 12", []string{
			"    at Socket.<anonymous> (/srv/app/server.js:14:11)",
			"    at Socket.emit (events.js:315:20)",
			"    at addChunk (_stream_readable.js:295:12)",
			"    at readableAddChunk (_stream_readable.js:271:9)",
			"    at Socket.Readable.push (_stream_readable.js:212:10)",
			"    at TCP.onStreamRead (internal/stream_base_commons.js:186:23)",
		}, ActRunning, "TCP.onStreamRead"},
		{"a connect error's stack", []string{
			"    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16) {",
		}, ActRunning, "TCPConnectWrap.afterConnect [as oncomplete]"},
		{"a connection handler", []string{
			"    at Server.<anonymous> (/srv/app/server.js:5:9)",
			"    at Server.emit (node:events:517:28)",
			"    at TCP.onconnection (node:net:2191:8)",
		}, ActRunning, "TCP.onconnection"},
		{"an error handler under emitErrorNT", []string{
			"    at Socket.<anonymous> (/srv/relay.js:32:13)",
			"    at Socket.emit (node:events:524:28)",
			"    at emitErrorNT (node:internal/streams/destroy:169:8)",
			"    at emitErrorCloseNT (node:internal/streams/destroy:128:3)",
			"    at process.processTicksAndRejections (node:internal/process/task_queues:82:21)",
		}, ActUnknown, "Socket.<anonymous>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := Thread{Name: "stack"}
			for _, l := range tt.frames {
				f, ok := ParseJSFrame(l)
				if !ok {
					t.Fatalf("not a frame: %q", l)
				}
				th.Frames = append(th.Frames, f)
			}
			d := &ThreadDump{Runtime: "node", Threads: []Thread{th}}
			FinishThreadDump(d)
			c := d.Threads[0].Class
			if r, ok := classifyFrames(th.Frames); ok && r != c {
				t.Errorf("frame rules say %+v, FinishThreadDump %+v: one source should decide", r, c)
			}
			if c.Activity != tt.want || c.Func != tt.fn || c.Activity.Blocked() {
				t.Errorf("class %+v, want %s decided by %s, not blocked", c, tt.want, tt.fn)
			}
		})
	}
}
