package dumps

import (
	"regexp"
	"strconv"
)

// reJSFrame reads a V8 stack frame as Node.js prints it, in a diagnostic
// report's javascriptStack or in a log:
//
//	at poll (/srv/app/client.js:17:18)
//	at async Promise.all (index 0)
//	at Socket.socketOnData (node:_http_client:541:22)
//	at /srv/app/client.js:33:40
//
// A named frame needs the space before its parenthesis (a JVM frame,
// "at java.net.Socket.read(Socket.java:10)", has none); an anonymous one
// needs file:line:column. The last frame of an error with properties
// (ECONNRESET's errno, code, syscall) ends in the " {" that opens them.
var reJSFrame = regexp.MustCompile(`^\s*at (?:async )?(?:(.+?) \((.*?)(?::(\d+)(?::\d+)?)?\)|(\S+?):(\d+):\d+)(?: \{)?$`)

// ParseJSFrame reads one V8 stack line into a Frame (Func, File, Line);
// false when the line is not one.
func ParseJSFrame(line string) (Frame, bool) {
	m := reJSFrame.FindStringSubmatch(line)
	if m == nil {
		return Frame{}, false
	}
	f := Frame{Func: Bound(m[1]), File: Bound(m[2])}
	n := m[3]
	if m[1] == "" {
		f.Func, f.File, n = "<anonymous>", Bound(m[4]), m[5]
	}
	f.Line, _ = strconv.Atoi(n)
	return f, true
}
