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
	if c, _ := classifyFrames(fs); c.Activity != ActSocketRead {
		t.Errorf("a stack under TCP.onStreamRead is %s, want socket-read", c.Activity)
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
