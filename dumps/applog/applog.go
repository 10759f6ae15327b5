// Package applog reads application logs for the lines that name a
// connection or descriptor problem: connection resets, broken pipes,
// descriptor exhaustion, connection-pool starvation, an upstream closing
// early, an unclosed socket. Each becomes a dumps.LogEvent with its
// position, its time stamp and a class decided by the message, whatever
// program wrote it.
//
// A file is a log by its line structure: most of its lines that are not
// continuation lines (indented stack frames, "Caused by:") start with a time
// stamp, a syslog prefix, or are JSON objects, JSON strings or logfmt
// records. Plain time-stamped lines (Python logging, Log4j/Logback, Go's
// log, nginx's error log), JSON lines (Bunyan, Pino, zap, logrus, slog),
// logfmt, one JSON string a line, `journalctl -o json`, `journalctl -o
// short-iso` (and -o short-iso-precise, short, short-precise,
// short-monotonic, short-unix, short-full, with or without the host, the
// month in any locale's language) and syslog (RFC 3164 and 5424) are
// read.
package applog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/cwforensics/cwforensics/dumps"
)

// A rule maps messages holding one of its phrases to a class. Rules are
// tried in order: the first that matches decides. Phrases are lower case
// and matched against the lower-cased message, so that a file of a million
// lines is classed at the speed of a substring search.
type rule struct {
	class   dumps.LogClass
	phrases []string
}

// rules class a message by what it says, in the words of the runtimes and
// libraries that say it (errno names and numbers, exception classes, the
// standard messages).
var rules = []rule{
	{dumps.LogFDExhausted, []string{"too many open files", "emfile", "enfile", "[errno 24]", "[errno 23]", "file table overflow"}},
	{dumps.LogPoolStarved, []string{"connectionpooltimeoutexception", "timeout waiting for connection from pool", "connection is not available, request timed out",
		"client.timeout exceeded while awaiting headers", "queuepool limit of size", "connection pool is full", "pooltimeout",
		"unable to acquire jdbc connection", "pool exhausted", "timed out waiting for a free connection"}},
	{dumps.LogUpstreamClosed, []string{"upstream prematurely closed connection", "socket hang up", "remotedisconnected", "remote end closed connection without response",
		"nohttpresponseexception", "server closed idle connection", "server closed the connection unexpectedly", "unexpected eof", "connection closed prematurely"}},
	{dumps.LogConnReset, []string{"econnreset", "connection reset", "[errno 104]", "connectionreseterror"}},
	{dumps.LogBrokenPipe, []string{"epipe", "broken pipe", "[errno 32]", "brokenpipeerror"}},
	{dumps.LogUnclosedSocket, []string{"resourcewarning: unclosed <socket", "resourcewarning: unclosed <ssl.sslsocket"}},
	{dumps.LogTimeout, []string{"etimedout", "read timed out", "i/o timeout", "sockettimeoutexception", "[errno 110]"}},
}

// rulePhrases are rules' phrases as bytes, rule by rule, searched in a
// message lowered into a buffer (classify).
var rulePhrases = func() [][][]byte {
	ps := make([][][]byte, len(rules))
	for i, r := range rules {
		for _, p := range r.phrases {
			ps[i] = append(ps[i], []byte(p))
		}
	}
	return ps
}()

// Classify returns the class of a log message, LogNone when it names no
// connection or descriptor problem.
func Classify(msg string) dumps.LogClass {
	var low []byte
	return classify(msg, &low)
}

// classify is Classify, lowering msg into *low, a buffer reused from one
// line to the next, instead of a new string for every line of a log.
func classify(msg string, low *[]byte) dumps.LogClass {
	b, ascii := (*low)[:0], true
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c >= 0x80 {
			ascii = false
			break
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	if !ascii {
		// strings.ToLower's Unicode cases (the Kelvin sign lowers to 'k').
		b = append(b[:0], strings.ToLower(msg)...)
	}
	*low = b
	for i, r := range rules {
		for _, p := range rulePhrases[i] {
			if bytes.Contains(b, p) {
				return r.class
			}
		}
	}
	return dumps.LogNone
}

// ipv6Host is a host named by its IPv6 address, as rsyslog and journald
// name a host that has no name (RFC 4291's text forms: "::" within,
// "fe80::", "2001:db8::1", "::ffff:10.0.0.7", or all eight groups), and a
// zone ("fe80::1%eth0"). A host names no colon otherwise, so that Go's
// log.Lshortfile "main.go:42:" or a message's "Error:" is none; an
// address is told from those by its "::" or its seven colons, in hex
// digits and dots only (isIPv6Host reads it by hand).
const ipv6Host = `(?:[0-9A-Fa-f.]*:){7}[0-9A-Fa-f:.]*(?:%[^\s:]+)?|[0-9A-Fa-f:.]*::[0-9A-Fa-f:.]*(?:%[^\s:]+)?`

// isIPv6Host reports whether w is all of ipv6Host's match.
func isIPv6Host(w string) bool {
	addr, zone, hasZone := strings.Cut(w, "%")
	if hasZone && (zone == "" || strings.ContainsAny(zone, ": \t\n\f\r")) {
		return false
	}
	for _, c := range []byte(addr) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
			return false
		}
	}
	return strings.Contains(addr, "::") || strings.Count(addr, ":") >= 7
}

// Time stamps and prefixes a log line may start with.
var (
	// 2026-12-02T16:40:41.832Z, 2026-12-02 16:40:41,832, 2026/12/02 16:40:41,
	// 2026-12-02T16:40:41+0000 (short-iso), optionally in brackets.
	reISO = regexp.MustCompile(`^\[?(\d{4})[-/](\d\d)[-/](\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?\]?`)
	// Dec  2 16:40:41 host prog[123]: (RFC 3164, rsyslog's traditional
	// format, journalctl -o short), Dec 02 16:40:41.823026 host
	// prog[123]: (journalctl -o short-precise): the stamp is bsdStamp's,
	// the rest reBSDRest's. journalctl --no-hostname leaves the host out
	// ("Dec 02 16:40:41 prog[123]: Error: ..."): a host ends in no colon,
	// so that prog[123]: is not taken for one and the message's "Error:"
	// for the program, unless it is an IPv6 address ending in "::"
	// (ipv6Host).
	reBSDRest = regexp.MustCompile(`^(?:(\S*[^\s:]|` + ipv6Host + `) )?([^\s:\[]+)(?:\[(\d+)\])?: ?`)
	// <34>1 2026-12-02T16:40:41.832Z host app 123 ID47 - msg (RFC 5424)
	re5424 = regexp.MustCompile(`^<\d{1,3}>1 (\S+) (\S+) (\S+) (\S+) (\S+) (?:-|\[.*?\]) ?`)
	// journalctl's other short forms with a wall time, a stamp then host
	// prog[123]: -o short-unix "1764764431.823026", -o short-full "Thu
	// 2026-12-03 12:20:31 UTC". short-full's zone is the zone's
	// abbreviation as strftime's %Z gives it: a name ("UTC", "CET",
	// "ChST") or, for a zone that has none, its offset ("+04", "-03",
	// "+0545"). The host may be left out (--no-hostname), as in reBSD.
	reJournalShort = regexp.MustCompile(`^(?:(\d{9,11}\.\d{6})|((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?:[A-Za-z]{3,5}|[+-]\d\d(?:\d\d)?))) (?:([^\s:]+|` + ipv6Host + `) )?([^\s:\[]+)(?:\[(\d+)\])?: ?`)
	// journalctl -o short-monotonic's "[  123.456789] host prog[123]:" is
	// read by hand (monotonicLine), in the file's order (journalHosts).
	// host prog[123]: after a short-iso stamp; a host names no colon, as
	// in reJournalShort, so that Go's log.Lshortfile "main.go:42: http:
	// ..." is no host and program "http". --no-hostname's prog[123]: is
	// reProg's.
	reHostProg = regexp.MustCompile(`^([^\s:]+|` + ipv6Host + `) ([^\s:\[]+)(?:\[(\d+)\])?: `)
	// prog[123]: or prog: right after a short-iso stamp, without the host
	// (journalctl --no-hostname); see stampedWriter.
	reProg = regexp.MustCompile(`^([^\s:\[]+)(?:\[(\d+)\])?: `)
	// Node.js's process warning prefix, with the pid.
	reNodeWarning = regexp.MustCompile(`^\(node:(\d+)\) `)
	// A level word near the start.
	reLevel = regexp.MustCompile(`(?i)^\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRIT|CRITICAL|FATAL|SEVERE|ALERT|EMERG|PANIC)\]?:?$`)
	// logfmt: key=value pairs.
	reLogfmt = regexp.MustCompile(`(?:^|\s)([\w.@-]+)=("(?:[^"\\]|\\.)*"|\S*)`)
	// An endpoint a message names: 10.0.0.5:8080, [::1]:8080.
	reEndpoint = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}\b|\[[0-9A-Fa-f:.]+\]:\d{1,5}`)
)

// maxMonth bounds the bytes of a month's name in a syslog stamp (glibc's
// longest abbreviations, Arabic's "كانون الثاني", are 23).
const maxMonth = 32

// bsdStamp reads the syslog stamp a line starts with, after an optional
// "<PRI>": a month, the day and the time, "Dec  2 16:40:41" (RFC 3164,
// rsyslog's traditional format, journalctl -o short) or "Dec 02
// 16:40:41.823026" (-o short-precise). It returns the index after the
// stamp and its blank, -1 when there is none. journalctl names the month
// in LC_TIME's language, as glibc's locales abbreviate it: "Dez", "Mär",
// "déc.", "févr.", "12月", " 1月" (Japanese and Korean pad it), "Thg 1",
// "كانون الثاني" (see isMonth); the month is not read, since a stamp
// without a year gets no time in any language.
func bsdStamp(s string) int {
	i := 0
	if s != "" && s[0] == '<' {
		j := strings.IndexByte(s, '>')
		if j < 2 || j > 4 || !allDigits(s[1:j]) {
			return -1
		}
		i = j + 1
	}
	// The hour's colon is the first: no month's name has one. It comes
	// after a blank, the month, three blanks, the day, a blank and the hour
	// at most.
	c := strings.IndexByte(s[i:min(len(s), i+maxMonth+10)], ':')
	if c < 0 {
		return -1
	}
	c += i
	if c < i+5 || c+6 > len(s) || !allDigits(s[c-2:c]) || s[c-3] != ' ' || !allDigits(s[c+1:c+3]) || s[c+3] != ':' || !allDigits(s[c+4:c+6]) {
		return -1
	}
	end := c + 6
	if end < len(s) && s[end] == '.' {
		k := end + 1
		for k < len(s) && k <= end+9 && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == end+1 {
			return -1
		}
		end = k
	}
	if end >= len(s) || s[end] != ' ' {
		return -1
	}
	// The day, one or two digits, after one to three blanks.
	d := c - 4
	if d < i || !allDigits(s[d:d+1]) {
		return -1
	}
	if d > i && allDigits(s[d-1:d]) {
		d--
	}
	m := d
	for m > i && s[m-1] == ' ' && d-m < 3 {
		m--
	}
	if m == d || m > i && s[m-1] == ' ' || d > i && allDigits(s[d-1:d]) {
		return -1
	}
	if !isMonth(s[i:m]) {
		return -1
	}
	return end + 1
}

// isMonth reports whether w may be a month's name as a locale of glibc
// abbreviates it: at most maxMonth bytes, at most three words (one blank
// before it, as Japanese and Korean pad " 1月"), a letter in it, and
// nothing but letters, marks, digits and ".'’-" (no bracket, quote, "=",
// "/", which a log's other first words have).
func isMonth(w string) bool {
	w = strings.TrimPrefix(w, " ")
	if w == "" || len(w) > maxMonth || w[0] == ' ' || strings.Count(w, " ") > 2 {
		return false
	}
	letter := false
	for _, r := range w {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsMark(r) || unicode.IsDigit(r) || r == ' ' || r == '.' || r == '\'' || r == '’' || r == '-' || r == '\u200d' || r == '॰':
		default:
			return false
		}
	}
	return letter
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// bsdPrefix reads a line that starts with a syslog stamp (bsdStamp):
// the host, program and pid after it, and the message.
func bsdPrefix(s string) (e dumps.LogEvent, ok bool) {
	k := bsdStamp(s)
	if k < 0 {
		return e, false
	}
	m := reBSDRest.FindStringSubmatchIndex(s[k:])
	if m == nil {
		return e, false
	}
	e.Program = s[k+m[4] : k+m[5]]
	if m[6] >= 0 {
		e.PID, _ = strconv.Atoi(s[k+m[6] : k+m[7]])
	}
	e.Message = s[k+m[1]:]
	return e, true
}

// isCont reports whether a line continues the one before: indented (a
// stack's frame), "Caused by:", "Traceback (". A line indented by one
// blank before a digit may be a syslog stamp of a month padded so (" 1月
// 03 09:12:01", journalctl under ja_JP or ko_KR), which is none.
func isCont(s string) bool {
	switch s[0] {
	case '\t':
		return true
	case ' ':
		return len(s) < 2 || s[1] < '1' || s[1] > '9' || bsdStamp(s) < 0
	}
	return strings.HasPrefix(s, "Caused by:") || strings.HasPrefix(s, "Traceback (")
}

// isSyslog reports whether a line starts with a syslog or journal prefix
// that is such by its own shape (parseSyslog reads it).
func isSyslog(s string) bool {
	if s[0] == '<' && re5424.MatchString(s) {
		return true
	}
	if k := bsdStamp(s); k >= 0 && reBSDRest.MatchString(s[k:]) {
		return true
	}
	return (s[0] >= '0' && s[0] <= '9' || s[0] >= 'A' && s[0] <= 'Z') && reJournalShort.MatchString(s)
}

// A line's structure.
type shape uint8

const (
	shapeOther shape = iota
	shapeStamped
	shapeSyslog
	shapeJSON
	shapeLogfmt
	shapeCont // a continuation: indented, or an exception's "Caused by:"
	// shapeNodeWarning is Node.js's process warning on stderr:
	// "(node:29625) Warning: ...", "(node:29625) [DEP0005] DeprecationWarning: ...".
	shapeNodeWarning
	// shapeJSONString is a line that is one JSON string, "read
	// ECONNRESET": a logger that writes its messages so, `jq .msg` of a
	// JSON log. Its message is the string; it names no time, level or
	// writer.
	shapeJSONString
)

// isJSONString reports whether s is one JSON string and nothing else.
func isJSONString(s string) bool {
	return len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && json.Valid([]byte(s))
}

// lineShape is a line's shape by the line alone. A line under
// short-monotonic's stamp ("[  123.456789] host prog[123]:") is shaped by
// journalHosts.see, in the file's order, before lineShape is asked: the
// journal's pid-less lines are such only after others.
func lineShape(s string) shape {
	switch {
	case s == "":
		return shapeOther
	case isCont(s):
		return shapeCont
	case s[0] == '{' && strings.HasSuffix(strings.TrimSpace(s), "}"):
		return shapeJSON
	case s[0] == '"' && isJSONString(s):
		return shapeJSONString
	case s[0] == '(' && reNodeWarning.MatchString(s):
		return shapeNodeWarning
	case stampStart(s) && reISO.MatchString(s):
		return shapeStamped
	case isSyslog(s):
		return shapeSyslog
	}
	return unprefixedShape(s)
}

// unprefixedShape is the shape of a line that is no continuation, JSON,
// nor a line of a prefix a regexp reads: logfmt or other.
func unprefixedShape(s string) shape {
	if strings.IndexByte(s, '=') > 0 && isLogfmt(s) {
		return shapeLogfmt
	}
	return shapeOther
}

// maxJournalHosts bounds the hosts a file's journal lines name that
// journalHosts keeps.
const maxJournalHosts = 16

// journalHosts are the hosts that a file's short-monotonic journal lines
// ("[  123.456789] host prog[123]:", "host kernel:") have named so far: a
// line of a program without a pid under one of them ("[  123.456789] host
// prog:") is a journal line too. Alone, such a line looks like dmesg's
// "[    1.234567] usb 1-1: new high-speed USB device", a device's line,
// which no journal line names the host of in a dmesg file. journalctl
// --no-hostname's lines name the host "": "[  123.456789] prog[123]:"
// learns it, after which "[  123.456789] kernel:" and "prog:" are journal
// lines, which alone look like dmesg's "[    0.523438] ACPI: Interpreter
// enabled" (a dmesg whose lines include the kernel's "prog[123]: segfault
// at ..." is then read as such a journal: its lines' first words are
// taken as programs). Only the first maxJournalHosts hosts are kept (a
// journal merged from as many machines).
type journalHosts []string

// see reads a line that starts with "[": true, and its prefix's program,
// pid and message, for a short-monotonic journal line, whose host it
// learns, or a line of a program without a pid under a host learned
// before, a line of shape shapeSyslog; false for any other line, which
// lineShape shapes (see shape).
func (h *journalHosts) see(s string) (dumps.LogEvent, bool) {
	host, journal, noPID, e := monotonicLine(s)
	switch {
	case journal:
		if len(*h) < maxJournalHosts && !slices.Contains(*h, host) {
			*h = append(*h, host)
		}
		return e, true
	case noPID && slices.Contains(*h, host):
		return e, true
	}
	return e, false
}

// shape shapes the file's next line: by see, or else by lineShape.
func (h *journalHosts) shape(s string) shape {
	if s != "" && s[0] == '[' {
		if _, ok := h.see(s); ok {
			return shapeSyslog
		}
	}
	return lineShape(s)
}

// monotonicLine reads a line that starts with journalctl -o
// short-monotonic's stamp and a word, "[  123.456789] host " (time since
// boot, no wall time), without a regexp, since readLog and Match look at
// every line that starts with "[" for it: its host, and whether a journal
// line's "prog[123]:" or the kernel's "kernel:" follows (journal), or
// else a program without a pid, "prog: " or "prog:" at the line's end
// (noPID); e is then the prefix's program, pid and the message after its
// ": " (time since boot is left out). A journal line is such by its own
// shape; dmesg prints the same stamp before "usb 1-1: new high-speed USB
// device", "virtio_blk virtio1: ..." or "CPU topo: ...", a device's or
// subsystem's name where the journal has host and program, so that a line
// of a program without a pid, which journalctl prints for an entry with
// neither _PID nor SYSLOG_PID, looks like dmesg's: it is a journal line
// only in a file whose journal lines named its host before
// (journalHosts). journalctl --no-hostname leaves the host out: a first
// word with a colon is no host but the writer ("[  123.456789]
// prog[123]: ", a journal line, or "kernel: ", "prog: ", a program
// without a pid), and host is "". TestMonotonicLine and FuzzRead hold it
// to two regexps.
func monotonicLine(s string) (host string, journal, noPID bool, e dumps.LogEvent) {
	if s == "" || s[0] != '[' {
		return "", false, false, e
	}
	i := 1
	for i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i || len(s) < j+9 || s[j] != '.' || s[j+7] != ']' || s[j+8] != ' ' {
		return "", false, false, e
	}
	for _, c := range []byte(s[j+1 : j+7]) {
		if c < '0' || c > '9' {
			return "", false, false, e
		}
	}
	rest := s[j+9:]
	k := strings.IndexByte(rest, ' ')
	if k < 0 {
		k = len(rest)
	}
	if k == 0 {
		return "", false, false, e
	}
	// A host names no colon but an IPv6 address's (ipv6Host); a first
	// word with another is the writer of journalctl --no-hostname
	// ("[  123.456789] prog[123]: "), host "".
	if strings.IndexByte(rest[:k], ':') < 0 || isIPv6Host(rest[:k]) {
		if k == len(rest) || strings.ContainsAny(rest[:k], "\t\n\f\r") {
			return "", false, false, e
		}
		host, rest = rest[:k], rest[k+1:]
		if msg, ok := strings.CutPrefix(rest, "kernel:"); ok {
			e.Program, e.Message = "kernel", strings.TrimPrefix(msg, " ")
			return host, true, false, e
		}
	}
	// The program: [^\s:\[]+, then "[123]:" or ":".
	p := strings.IndexAny(rest, " \t\n\f\r:[")
	if p <= 0 {
		return host, false, false, e
	}
	if rest[p] == ':' {
		if p+1 < len(rest) && rest[p+1] != ' ' {
			return host, false, false, e
		}
		e.Program, e.Message = rest[:p], strings.TrimPrefix(rest[p+1:], " ")
		return host, false, true, e
	}
	if rest[p] != '[' {
		return host, false, false, e
	}
	q := p + 1
	for q < len(rest) && rest[q] >= '0' && rest[q] <= '9' {
		q++
	}
	if q == p+1 || q+1 >= len(rest) || rest[q] != ']' || rest[q+1] != ':' {
		return host, false, false, e
	}
	e.Program, e.Message = rest[:p], strings.TrimPrefix(rest[q+2:], " ")
	e.PID, _ = strconv.Atoi(rest[p+1 : q])
	return host, true, false, e
}

// stampStart reports whether s starts with four digits, optionally after
// a bracket: the cheap test before reISO.
func stampStart(s string) bool {
	if s[0] == '[' {
		s = s[1:]
	}
	if len(s) < 19 {
		return false
	}
	for i := range 4 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s[4] == '-' || s[4] == '/'
}

// mayHavePrefix is the cheap test of a line that may start with a time,
// a syslog prefix, or be a JSON or logfmt record: not a continuation.
func mayHavePrefix(s string) bool {
	switch {
	case isCont(s):
		return false
	case s[0] == '{' || s[0] == '<' || s[0] == '[' || s[0] == '(' || s[0] >= '0' && s[0] <= '9':
		return true
	case s[0] >= 'A' && s[0] <= 'Z' && len(s) > 16 && s[3] == ' ':
		return true // Dec  2 10:05:00 ...
	}
	return strings.IndexByte(s, '=') > 0 || bsdStamp(s) >= 0 // Dez, déc., 12月
}

// isLogfmt: three key=value pairs, one of them a time, level or message
// (recordKeys).
func isLogfmt(s string) bool {
	ms := reLogfmt.FindAllStringSubmatch(s, 8)
	if len(ms) < 3 {
		return false
	}
	for _, m := range ms {
		if recordKeys[strings.ToLower(m[1])] {
			return true
		}
	}
	return false
}

// Match reports whether head is a log: at least 3 lines that are not
// continuations, and at least 3 in 5 of them with a log structure; or a
// Node.js process warning followed by its stack (node --trace-warnings),
// which a stderr of one or two warnings is, too short for the count.
func Match(head []byte) bool {
	if i := bytes.LastIndexByte(head, '\n'); i >= 0 && i < len(head)-1 {
		head = head[:i+1] // the last line may be cut
	}
	total, structured := 0, 0
	prev := shapeOther
	var hosts journalHosts
	for line := range bytes.Lines(head) {
		s := strings.TrimRight(string(line), "\r\n")
		sh := hosts.shape(s)
		if prev == shapeNodeWarning && sh == shapeCont {
			if _, ok := dumps.ParseJSFrame(s); ok {
				return true
			}
		}
		prev = sh
		switch sh {
		case shapeCont:
		case shapeOther:
			if strings.TrimSpace(s) != "" {
				total++
			}
		default:
			total++
			structured++
		}
	}
	return total >= 3 && structured*5 >= total*3
}

// maxPerClass bounds the events kept per class; the rest are counted in a
// warning.
const maxPerClass = 1000

// Read reads a log into a dumps.Evidence of kind app-log: its events, and
// the JavaScript stacks it prints as Node.js thread dumps (see jsStacks).
func Read(r io.Reader, name string) (*dumps.Evidence, error) {
	js := &jsStacks{name: name}
	evs, lines, warns, err := readLog(r, name, js)
	ev := &dumps.Evidence{File: name, Kind: dumps.KindAppLog, Warnings: warns}
	ev.LogEvents, ev.LogLines = evs, lines
	ev.ThreadDumps = js.finish()
	ev.Warnings = append(ev.Warnings, js.warns...)
	return ev, err
}

// ReadLog reads every line of a log and returns its events and the number
// of lines. A continuation line takes the time of the line it continues.
// Only I/O failures are errors.
func ReadLog(r io.Reader, name string) ([]dumps.LogEvent, int, []dumps.Warning, error) {
	return readLog(r, name, nil)
}

func readLog(r io.Reader, name string, js *jsStacks) ([]dumps.LogEvent, int, []dumps.Warning, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	rd := eventReader{name: name, js: js, dropped: map[dumps.LogClass]int{}, kept: map[dumps.LogClass]int{}}
	n := 0
	var hosts journalHosts
	for sc.Scan() {
		n++
		text := strings.TrimRight(sc.Text(), " \t\r")
		if text == "" {
			continue
		}
		// The stack reader and the event reader read the line in turn,
		// sharing what they parse of it, and the stack reader keeps it
		// after both: a line is parsed once (see logLine).
		l := logLine{recentLine: recentLine{text: text, n: n}}
		if text[0] == '[' {
			// Shaped and parsed now, in the file's order: a
			// short-monotonic line's shape may follow from the lines
			// before it.
			if e, ok := hosts.see(text); ok {
				l.sh, l.shaped = shapeSyslog, true
				l.set(e, true)
			}
		}
		if js != nil && js.line(&l, &rd.lastRaw) {
			continue // a stack frame
		}
		rd.take(&l)
		if js != nil {
			js.keep(&l)
		}
	}
	var warns []dumps.Warning
	for c := dumps.LogConnReset; c <= dumps.LogTimeout; c++ {
		if rd.dropped[c] > 0 {
			warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name}, Msg: fmt.Sprintf("%d more %s lines not listed (the first %d are)", rd.dropped[c], c, maxPerClass)})
		}
	}
	if err := sc.Err(); err != nil {
		return rd.events, n, warns, fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	return rd.events, n, warns, nil
}

// eventReader makes the events of a log's lines that are no stack frames.
// A continuation line takes the time, level and program of the last line
// that may carry them.
type eventReader struct {
	name    string
	js      *jsStacks // nil when stacks are not read
	events  []dumps.LogEvent
	dropped map[dumps.LogClass]int
	kept    map[dumps.LogClass]int
	// lastRaw is the last line that may carry a prefix (a time, a level, a
	// program), parsed only when a continuation needs it, or the stack
	// reader its writer.
	lastRaw    logLine
	last       dumps.LogEvent
	lastParsed bool
	low        []byte // classify's buffer
}

// take reads a line for its event.
func (rd *eventReader) take(l *logLine) {
	if classify(l.text, &rd.low) == dumps.LogNone {
		// Most lines: no event, and only a cheap look at the prefix.
		if mayHavePrefix(l.text) {
			rd.lastRaw, rd.lastParsed = *l, false
		}
		return
	}
	e := l.event()
	if l.shape() == shapeCont || (e.Time.IsZero() && e.Level == "" && e.Program == "") {
		if !rd.lastParsed {
			if rd.lastRaw.text != "" {
				rd.last = rd.lastRaw.event()
				// The stack reader's copy, when it still keeps the line,
				// takes the reading, for its writer or a stack's name.
				if r := rd.js.recentAt(rd.lastRaw.n); r != nil && !r.parsed {
					r.take(&rd.lastRaw)
				}
			}
			rd.lastParsed = true
		}
		e.Time, e.Level, e.Program, e.PID = rd.last.Time, rd.last.Level, rd.last.Program, rd.last.PID
	} else {
		rd.lastRaw, rd.last, rd.lastParsed = *l, e, true
	}
	e.Class = classify(e.Message, &rd.low)
	if e.Class == dumps.LogNone {
		return
	}
	if rd.kept[e.Class] >= maxPerClass {
		rd.dropped[e.Class]++
		return
	}
	rd.kept[e.Class]++
	e.Pos = dumps.Pos{File: rd.name, Line: l.n}
	e.Endpoint = reEndpoint.FindString(e.Message)
	e.Message = dumps.Bound(e.Message)
	rd.events = append(rd.events, e)
}

// A logLine is a line of a log, its number, and what has been read of it,
// each part once, when first needed: its shape, and its prefix's fields
// (time, program and pid) with the message after it. The stack reader and
// the event reader read a line in turn (the stack reader first, to tell
// frames), sharing what they parse of it; the stack reader then keeps its
// recentLine, and the event reader the whole line as its lastRaw when it
// may carry a prefix. A recent line the stack reader reads later (a
// stack's header, or a line looked at for it) takes the event reader's
// reading when it is its lastRaw, and gives it its own, so that a line's
// writer is parsed once whichever reader needs it first: not for a stack
// and again for its event, nor for a stack's writer and again for its
// name.
type logLine struct {
	recentLine
	// The rest of the prefix's fields, which only an event needs.
	time  time.Time
	level string
	plain bool // a plain message, whose first words may hold the level
}

// A recentLine is what the stack reader keeps of a line: its text, its
// number, and what has been read of it: the shape and, once parsed, the
// prefix's program, pid and the message after it.
type recentLine struct {
	text   string
	n      int
	sh     shape
	shaped bool
	parsed bool
	prog   string
	pid    int
	msg    string
}

// shape reads the line's shape, through raw when raw is the same line
// (see reading).
func (r *recentLine) shape(raw *logLine) shape {
	if !r.shaped {
		l := r.reading(raw)
		l.shape()
		r.take(l)
	}
	return r.sh
}

// reading is the logLine the line is read through: raw when raw is the
// same line (the event reader's lastRaw), which then keeps the reading,
// else a copy of r's own.
func (r *recentLine) reading(raw *logLine) *logLine {
	if raw != nil && raw.n == r.n {
		return raw
	}
	return &logLine{recentLine: *r}
}

// shape reads the line's shape, and its prefix with it when one regexp
// reads both (shapeAndPrefix).
func (l *logLine) shape() shape {
	if !l.shaped {
		sh, e, plain, parsed := shapeAndPrefix(l.text)
		l.sh, l.shaped = sh, true
		if parsed {
			l.set(e, plain)
		}
	}
	return l.sh
}

// parse reads the line's prefix.
func (l *logLine) parse() {
	if !l.parsed {
		if sh := l.shape(); !l.parsed {
			l.set(parsePrefix(l.text, sh))
		}
	}
}

func (l *logLine) set(e dumps.LogEvent, plain bool) {
	l.prog, l.pid, l.msg, l.parsed = e.Program, e.PID, e.Message, true
	l.time, l.level, l.plain = e.Time, e.Level, plain
}

// parse reads the line's prefix, through raw when raw is the same line
// (see reading).
func (r *recentLine) parse(raw *logLine) {
	if !r.parsed {
		l := r.reading(raw)
		l.parse()
		r.take(l)
	}
}

// take takes what l, the same line, has read.
func (r *recentLine) take(l *logLine) {
	if !r.shaped && l.shaped {
		r.sh, r.shaped = l.sh, true
	}
	if !r.parsed && l.parsed {
		r.prog, r.pid, r.msg, r.parsed = l.prog, l.pid, l.msg, true
	}
}

// event splits the line into its prefix fields and its message, with the
// level a plain message holds in its first words.
func (l *logLine) event() dumps.LogEvent {
	l.parse()
	e := dumps.LogEvent{Time: l.time, Level: l.level, Program: l.prog, PID: l.pid, Message: l.msg}
	if l.plain {
		e.Level, e.Message = level(e.Message)
	}
	return e
}

// hasWriter reports whether a line of shape sh may name a writer in its
// prefix: a syslog, journal or time-stamped line, or Node's warning.
func hasWriter(sh shape) bool {
	return sh == shapeSyslog || sh == shapeStamped || sh == shapeNodeWarning
}

// writer reads the writer the line names (see hasWriter).
func (l *logLine) writer() (stackKey, bool) {
	if !hasWriter(l.shape()) {
		return stackKey{}, false
	}
	l.parse()
	return l.key()
}

// writer reads the writer the line names (see hasWriter), through raw
// when raw is the same line (see reading).
func (r *recentLine) writer(raw *logLine) (stackKey, bool) {
	if !hasWriter(r.shape(raw)) {
		return stackKey{}, false
	}
	r.parse(raw)
	return r.key()
}

// key is the parsed line's writer.
func (r *recentLine) key() (stackKey, bool) {
	if r.prog == "" {
		return stackKey{}, false
	}
	return stackKey{r.prog, r.pid}, true
}

// parsePrefix splits a line into its prefix fields and its message, but
// for the level a plain message (a syslog or journal line's, a
// time-stamped line's) may hold in its first words, which plain reports
// and logLine.event reads; a line's writer needs no level.
func parsePrefix(s string, sh shape) (e dumps.LogEvent, plain bool) {
	switch sh {
	case shapeJSON:
		if parseJSON(s, &e) {
			return e, false
		}
	case shapeLogfmt:
		parseLogfmt(s, &e)
		return e, false
	case shapeJSONString:
		// Its own variable: &e.Message would move e to the heap on every
		// call.
		var msg string
		if json.Unmarshal([]byte(s), &msg) == nil {
			e.Message = msg
			return e, false
		}
	case shapeSyslog:
		// A short-monotonic line is parsed by journalHosts as it is
		// shaped, never here.
		if e, plain, ok := parseSyslog(s); ok {
			return e, plain
		}
	case shapeNodeWarning:
		return nodeWarning(s, reNodeWarning.FindStringSubmatch(s)), false
	case shapeStamped:
		return stamped(s, reISO.FindStringSubmatchIndex(s)), true
	}
	e.Message = s
	return e, false
}

// shapeAndPrefix is lineShape, and parsePrefix's reading too when the
// shape is that of a prefix a regexp reads (a syslog or journal line, a
// time-stamped line, Node's warning), from the regexp's one match, so
// that a line whose shape and writer are both needed is matched once
// (parsed reports it). FuzzRead holds it to lineShape and parsePrefix.
func shapeAndPrefix(s string) (sh shape, e dumps.LogEvent, plain, parsed bool) {
	switch {
	case s == "" || s[0] == '{' || s[0] == '"' || isCont(s):
		// lineShape's own: a continuation or JSON, before the prefixes.
	case s[0] == '(':
		if m := reNodeWarning.FindStringSubmatch(s); m != nil {
			return shapeNodeWarning, nodeWarning(s, m), false, true
		}
		return unprefixedShape(s), e, false, false
	case stampStart(s):
		if m := reISO.FindStringSubmatchIndex(s); m != nil {
			return shapeStamped, stamped(s, m), true, true
		}
		// No syslog or journal stamp starts with four digits and a dash.
		return unprefixedShape(s), e, false, false
	default:
		// parseSyslog reads what isSyslog takes; a short-monotonic line
		// is shaped by journalHosts, never here.
		if e, plain, ok := parseSyslog(s); ok {
			return shapeSyslog, e, plain, true
		}
		// lineShape would try the same regexps again.
		return unprefixedShape(s), e, false, false
	}
	return lineShape(s), e, false, false
}

// parseSyslog reads the syslog and journal prefixes that are such by their
// own shape: RFC 5424, RFC 3164 and journalctl -o short, -o
// short-precise, -o short-unix and -o short-full (-o short-monotonic's is
// monotonicLine's).
func parseSyslog(s string) (e dumps.LogEvent, plain, ok bool) {
	if s == "" {
		return e, false, false
	}
	if m := re5424.FindStringSubmatch(s); s[0] == '<' && m != nil {
		e.Time, _ = parseTime(m[1])
		e.Program = nilDash(m[3])
		e.PID, _ = strconv.Atoi(m[4])
		e.Message = s[len(m[0]):]
		return e, false, true
	}
	if e, ok := bsdPrefix(s); ok {
		// No year: the time is left out rather than guessed.
		return e, true, true
	}
	if s[0] < '0' || s[0] > '9' && s[0] < 'A' || s[0] > 'Z' {
		return e, false, false
	}
	if m := reJournalShort.FindStringSubmatch(s); m != nil {
		switch {
		case m[1] != "": // short-unix
			sec, frac, _ := strings.Cut(m[1], ".")
			v, _ := strconv.ParseInt(sec, 10, 64)
			us, _ := strconv.ParseInt(frac, 10, 64)
			e.Time = time.Unix(v, us*1000).UTC()
		case m[2] != "": // short-full
			i := strings.LastIndexByte(m[2], ' ')
			if off, ok := zoneOffset(m[2][i+1:]); ok {
				if t, err := time.Parse("Mon 2006-01-02 15:04:05", m[2][:i]); err == nil {
					e.Time = t.Add(-off)
				}
			}
		}
		e.Program = m[4]
		e.PID, _ = strconv.Atoi(m[5])
		e.Message = s[len(m[0]):]
		return e, true, true
	}
	return e, false, false
}

// zoneOffset is the offset of journalctl -o short-full's zone: UTC's
// (GMT's), or the offset a zone without a name prints ("+04", "+0545").
// Another zone's name gives none: time.Parse's MST would take the reading
// machine's offset for its own zone's name, and 0 for any other, an hour
// off for "CET" read in Berlin or anywhere else.
func zoneOffset(z string) (time.Duration, bool) {
	if z == "UTC" || z == "GMT" {
		return 0, true
	}
	if len(z) != 3 && len(z) != 5 || z[0] != '+' && z[0] != '-' {
		return 0, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := 0, error(nil)
	if len(z) == 5 {
		m, err2 = strconv.Atoi(z[3:])
	}
	if err1 != nil || err2 != nil || h > 23 || m > 59 {
		return 0, false
	}
	off := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if z[0] == '-' {
		off = -off
	}
	return off, true
}

// nodeWarning reads Node's warning, m being reNodeWarning's match.
func nodeWarning(s string, m []string) (e dumps.LogEvent) {
	e.Program = "node"
	e.PID, _ = strconv.Atoi(m[1])
	e.Level, e.Message = "warning", s[len(m[0]):]
	return e
}

// stamped reads a time-stamped line, m being reISO's match.
func stamped(s string, m []int) (e dumps.LogEvent) {
	e.Time, _ = parseTime(strings.Trim(s[m[0]:m[1]], "[]"))
	rest := strings.TrimLeft(s[m[1]:], " ")
	if hp := reHostProg.FindStringSubmatch(rest); hp != nil && !reLevel.MatchString(hp[1]) {
		e.Program = hp[2] // journalctl -o short-iso: host prog[pid]:
		e.PID, _ = strconv.Atoi(hp[3])
		rest = rest[len(hp[0]):]
	} else if p := reProg.FindStringSubmatch(rest); p != nil && stampedWriter(s[m[0]:m[1]], p[1], p[2] != "") {
		e.Program = p[1] // journalctl --no-hostname -o short-iso: prog[pid]:
		e.PID, _ = strconv.Atoi(p[2])
		rest = rest[len(p[0]):]
	}
	e.Message = rest
	return e
}

// stampedWriter reports whether prog, after the time stamp stamp and
// before ": ", is the writer of journalctl --no-hostname -o short-iso
// (or short-iso-precise): with a pid ("prog[123]: "), after any stamp,
// unless it is a level word; without one ("kernel: ", "pgbouncer: "), only
// after a stamp of journalctl's own shape (isoJournalStamp) and unless it
// is a level word, a dotted name or one ending in Error, Exception or
// Warning ("Error:", "java.net.SocketException:", "ConnectionResetError:"),
// which a message starts with.
func stampedWriter(stamp, prog string, pid bool) bool {
	if reLevel.MatchString(prog) {
		return false
	}
	if pid {
		return true
	}
	if !isoJournalStamp(stamp) || strings.IndexByte(prog, '.') >= 0 {
		return false
	}
	for _, suffix := range []string{"Error", "Exception", "Warning"} {
		if strings.HasSuffix(prog, suffix) {
			return false
		}
	}
	return true
}

// isoJournalStamp reports whether a stamp reISO matched is in journalctl
// -o short-iso's shape, 2026-12-03T09:12:01+0000, or short-iso-precise's,
// 2026-12-03T09:12:01.943063+0000: a "T", microseconds or none, and a
// numeric zone (with a colon too, "+00:00", as RFC 3339 writes it).
func isoJournalStamp(s string) bool {
	if len(s) < 24 || s[10] != 'T' || s[4] != '-' {
		return false
	}
	z := s[19:]
	if z[0] == '.' {
		if len(z) < 7 {
			return false
		}
		for _, c := range []byte(z[1:7]) {
			if c < '0' || c > '9' {
				return false
			}
		}
		z = z[7:]
	}
	return (len(z) == 5 || len(z) == 6 && z[3] == ':') && (z[0] == '+' || z[0] == '-')
}

// level takes a level word from the first few words of a message.
func level(s string) (string, string) {
	words := strings.Fields(s)
	for i, w := range words {
		if i >= 4 {
			break
		}
		if m := reLevel.FindStringSubmatch(w); m != nil {
			return m[1], s
		}
	}
	return "", s
}

// parseTime reads the stamps the patterns above accept; a stamp without a
// zone is read as UTC.
func parseTime(s string) (time.Time, bool) {
	s = strings.Replace(s, ",", ".", 1)
	s = strings.Replace(s, "/", "-", 2)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// fieldKeys are the keys of a JSON object's or a logfmt record's fields
// that hold a line's time, level, message, program and pid, each in order
// of preference: one table for both (record), which isLogfmt knows a
// record by too (recordKeys).
var fieldKeys = struct {
	time, level, msg, prog, pid []string
}{
	time:  []string{"__REALTIME_TIMESTAMP", "@timestamp", "timestamp", "time", "ts", "t", "date"},
	level: []string{"level", "severity", "lvl", "log.level", "PRIORITY", "levelname"},
	msg:   []string{"MESSAGE", "msg", "message", "error", "err", "exception", "stack"},
	prog:  []string{"SYSLOG_IDENTIFIER", "_COMM", "logger", "name", "service", "app"},
	pid:   []string{"_PID", "pid"},
}

// recordKeys are fieldKeys' time, level and message keys in lower case:
// a logfmt record names one of them.
var recordKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, ks := range [][]string{fieldKeys.time, fieldKeys.level, fieldKeys.msg} {
		for _, k := range ks {
			m[strings.ToLower(k)] = true
		}
	}
	return m
}()

func parseJSON(s string, e *dumps.LogEvent) bool {
	var obj map[string]any
	if json.Unmarshal([]byte(s), &obj) != nil {
		return false
	}
	record(obj, s, e)
	return true
}

func parseLogfmt(s string, e *dumps.LogEvent) {
	fields := map[string]any{}
	for _, m := range reLogfmt.FindAllStringSubmatch(s, -1) {
		v := m[2]
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		fields[m[1]] = v
	}
	record(fields, s, e)
}

// record sets e's fields from a JSON object's or a logfmt record's
// (fieldKeys): the first time that reads, the first level, program and
// pid, and the message and the error both ("request failed" + "read:
// connection reset by peer"), or the whole line when no key holds a
// message (an error code in a field of its own).
func record(fields map[string]any, line string, e *dumps.LogEvent) {
	for _, k := range fieldKeys.time {
		if v, ok := fields[k]; ok {
			if t, ok := fieldTime(k, v); ok {
				e.Time = t
				break
			}
		}
	}
	e.Level = firstString(fields, fieldKeys.level)
	e.Program = dumps.Bound(firstString(fields, fieldKeys.prog))
	if p := firstString(fields, fieldKeys.pid); p != "" {
		e.PID, _ = strconv.Atoi(p)
	}
	var parts []string
	for _, k := range fieldKeys.msg {
		if v := str(fields[k]); v != "" {
			parts = append(parts, v)
		}
	}
	e.Message = strings.Join(parts, ": ")
	if e.Message == "" {
		e.Message = line
	}
}

// fieldTime reads a time field: journald's microseconds, an RFC 3339
// stamp, or epoch seconds or milliseconds, a number or a string of one (as
// logfmt writes every value).
func fieldTime(key string, v any) (time.Time, bool) {
	if s, ok := v.(string); ok {
		if key == "__REALTIME_TIMESTAMP" {
			us, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.UnixMicro(us).UTC(), true
		}
		if t, ok := parseTime(s); ok {
			return t, true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, false
		}
		v = f
	}
	if f, ok := v.(float64); ok {
		// Epoch seconds (zap, Python), milliseconds (Pino, Bunyan's numbers).
		switch {
		case f > 1e11 && f < 1e14:
			return time.UnixMilli(int64(f)).UTC(), true
		case f > 1e8 && f < 1e11:
			sec := int64(f)
			return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC().Truncate(time.Microsecond), true
		}
	}
	return time.Time{}, false
}

func firstString(obj map[string]any, keys []string) string {
	for _, k := range keys {
		if v := str(obj[k]); v != "" {
			return v
		}
	}
	return ""
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func nilDash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// maxStacks and maxStackFrames bound the JavaScript stacks kept from one
// log and the frames kept of one stack; maxOpen bounds the stacks read at
// once (one per writer, see jsStacks), maxRecent the lines kept as the
// headers they may start under, and maxStackGap the lines without a frame
// of its own that end a stack.
const (
	maxStacks      = 10000
	maxStackFrames = 200
	maxOpen        = 64
	maxRecent      = 16
	maxStackGap    = 64
)

// jsStacks collects the JavaScript stacks a log prints (Node.js prints an
// error's or a warning's stack under its message, one "    at fn
// (file:line:col)" line a frame, on stderr, or each line under its own
// journal or syslog prefix): each becomes a "thread" of a Node.js
// thread dump, named by its header, the line above it, so that the code the
// stacks name can be joined to the process like a thread dump's. The pid is
// the one the header names ("(node:29625) Warning: ...", a syslog or
// journal prefix); the stacks of each pid make one dump, those of no pid
// another.
//
// A journal or a syslog file interleaves the lines of processes that log
// at the same time, each line under its writer's prefix (program and pid):
//
//	Dec 03 13:49:40 vm line-logger[16984]: Error: a: request from 127.0.0.1:37714 kept open
//	Dec 03 13:49:40 vm line-logger[16985]: Error: b: request from 127.0.0.1:57980 kept open
//	Dec 03 13:49:40 vm line-logger[16984]:     at Socket.<anonymous> (/srv/linelog.js:27:17)
//	Dec 03 13:49:40 vm line-logger[16985]:     at Socket.<anonymous> (/srv/linelog.js:27:17)
//
// so a stack is read per writer: one stack is open per writer (stackKey),
// a line of another writer neither ends it nor joins it, and its header is
// the writer's own last line before its first frame. A line that names no
// writer ends every stack, as any line that is no frame ends a stack on
// stderr; so does a stack's silence for maxStackGap lines, so that a
// process that logs a stack and never again does not keep every later line
// parsed.
type jsStacks struct {
	name string
	// recent are the last lines that are no frame, oldest first: the
	// last maxRecent of them are the headers the next stacks may start
	// under. Each keeps what has been read of it: its writer is read
	// (parsed) only when a stack needs it, and once.
	recent []recentLine
	// open are the stacks being read, at most one per writer, in the order
	// they began; prev is the one the line before went to, nil when that
	// line was no frame.
	open    []*openStack
	prev    *openStack
	dumps   []*dumps.ThreadDump
	kept    int
	dropped int
	warns   []dumps.Warning
}

// A stackKey is a line's writer: the program and pid of its journal or
// syslog prefix, or "node" and the pid of Node's "(node:PID) " warning; the
// zero key for a line that names none.
type stackKey struct {
	prog string
	pid  int
}

// openStack is a stack being read and the writer whose frames it takes.
type openStack struct {
	key  stackKey
	t    *dumps.Thread
	last int // the line of its last frame
}

// line takes one line of the log and reports whether it is a stack frame:
// an indented V8 frame, bare as on stderr or after a journal or syslog
// prefix (prefixedFrame). What it reads of a line that is no frame stays
// in l for the line's event; keep then keeps the line. raw is the event
// reader's last line that may carry a prefix, whose reading a recent line
// shares (recentLine.parse).
func (j *jsStacks) line(l, raw *logLine) bool {
	n, text := l.n, l.text
	if len(j.open) > 0 {
		j.flushSilent(n)
	}
	indented := text[0] == ' ' || text[0] == '\t'
	if indented {
		if f, ok := dumps.ParseJSFrame(text); ok {
			j.bareFrame(n, f, raw)
			return true
		}
	}
	// An indented line may be a prefixed one too (" 1月 03 ...", isCont).
	if !indented || !isCont(text) {
		if f, key, ok := prefixedFrame(l); ok {
			j.frame(n, f, key, raw)
			return true
		}
	}
	j.prev = nil
	if len(j.open) > 0 {
		// Only while a stack is open is a line's writer read at once.
		if k, ok := l.writer(); !ok {
			j.flushAll()
		} else if s := j.find(k); s != nil {
			j.flush(s)
		}
	}
	return false
}

// keep keeps a line that is no frame, as line and the event reader have
// read it, among the recent ones.
func (j *jsStacks) keep(l *logLine) {
	if len(j.recent) == 2*maxRecent {
		// Keep the last maxRecent, moved once per maxRecent lines.
		j.recent = j.recent[:copy(j.recent, j.recent[maxRecent:])]
	}
	j.recent = append(j.recent, l.recentLine)
}

// recentAt returns the recent line numbered n, nil when it is not kept (or j
// is nil).
func (j *jsStacks) recentAt(n int) *recentLine {
	if j == nil {
		return nil
	}
	for i := len(j.recent) - 1; i >= 0 && j.recent[i].n >= n; i-- {
		if j.recent[i].n == n {
			return &j.recent[i]
		}
	}
	return nil
}

// prefixedFrame reads a V8 frame that journald or syslog prefixed with a
// time, a host and the program's name and pid, each line of a stack
// carrying its own:
//
//	Dec 03 12:20:31 vm line-relay[6125]:     at TCP.onStreamRead (node:internal/stream_base_commons:191:23)
//	2026-12-03T12:20:31+0000 vm line-relay[6125]:     at ...           (journalctl -o short-iso)
//	2026-12-03T12:20:31.823026+00:00 vm line-relay[6125]:     at ...   (rsyslog)
//	<14>1 2026-12-03T13:49:40.170000+00:00 vm line-logger 16984 - -      at ...   (RFC 5424)
//
// and the forms reBSD, reJournalShort and monotonicLine read (rsyslog's traditional
// format, journalctl -o short-precise, -o short-monotonic). key is the
// prefix's program and pid. Only a line with "at " after two blanks (the
// prefix's separator and the frame's indent) is parsed.
func prefixedFrame(l *logLine) (f dumps.Frame, key stackKey, ok bool) {
	if !strings.Contains(l.text, "  at ") && !strings.Contains(l.text, "\tat ") {
		return f, key, false
	}
	if sh := l.shape(); sh != shapeSyslog && sh != shapeStamped {
		return f, key, false
	}
	l.parse()
	if l.prog == "" || l.msg == "" || l.msg[0] != ' ' && l.msg[0] != '\t' {
		return f, key, false // a time stamp and an indented message, but no program
	}
	f, ok = dumps.ParseJSFrame(l.msg)
	return f, stackKey{l.prog, l.pid}, ok
}

// bareFrame takes a frame without a prefix: the next frame of the stack the
// line before went to, or the first of a stack under the line right above
// (whose writer the stack takes: journalctl prints a message's later lines
// under its first line's prefix) or under no line.
func (j *jsStacks) bareFrame(n int, f dumps.Frame, raw *logLine) {
	if j.prev != nil {
		j.add(j.prev, n, f)
		return
	}
	var (
		key    stackKey
		header *recentLine
	)
	if i := len(j.recent) - 1; i >= 0 && j.recent[i].n == n-1 {
		header = &j.recent[i]
		key, _ = header.writer(raw)
	}
	j.start(key, header, n, f, raw)
}

// frame takes a prefixed frame of writer key: the next frame of the
// writer's open stack, or the first of a stack under the writer's last line
// among the recent ones. A line that names no writer ends the search: the
// lines before it ended every stack.
func (j *jsStacks) frame(n int, f dumps.Frame, key stackKey, raw *logLine) {
	if s := j.find(key); s != nil {
		j.add(s, n, f)
		return
	}
	var header *recentLine
	for i := len(j.recent) - 1; i >= 0 && i >= len(j.recent)-maxRecent; i-- {
		k, ok := j.recent[i].writer(raw)
		if !ok {
			break
		}
		if k == key {
			header = &j.recent[i]
			break
		}
	}
	j.start(key, header, n, f, raw)
}

// start opens a stack of writer key under header (nil: none) with its first
// frame, ending the writer's stack still open. The header, and the
// writer's lines before it, are taken from recent: a later stack of the
// writer must not start under them again.
func (j *jsStacks) start(key stackKey, header *recentLine, n int, f dumps.Frame, raw *logLine) {
	if s := j.find(key); s != nil {
		j.flush(s)
	}
	if len(j.open) == maxOpen {
		j.flush(j.open[0])
	}
	at, name := n, "stack"
	if header != nil {
		at = header.n
		header.parse(raw)
		msg := header.msg
		if header.prog != "" {
			// A prefixed header: the message may still open with Node's
			// "(node:PID) ", which a bare stderr line is read by.
			// rsyslog's msg keeps the blank after the tag.
			msg = strings.TrimLeft(msg, " \t")
			if m := reNodeWarning.FindStringSubmatch(msg); m != nil {
				msg = msg[len(m[0]):]
			}
		}
		if s := strings.TrimSpace(msg); s != "" {
			name = s
		}
		// header points into recent, which the loop writes over.
		hn := header.n
		kept := j.recent[:0]
		for i := range j.recent {
			r := &j.recent[i]
			if r.n <= hn {
				if k, _ := r.writer(raw); k == key {
					continue
				}
			}
			kept = append(kept, *r)
		}
		j.recent = kept
	}
	s := &openStack{key: key, last: n, t: &dumps.Thread{Pos: dumps.Pos{File: j.name, Line: at}, Name: dumps.Clip(name)}}
	s.t.Frames = append(s.t.Frames, f)
	j.open = append(j.open, s)
	j.prev = s
}

// add adds a frame to an open stack.
func (j *jsStacks) add(s *openStack, n int, f dumps.Frame) {
	if len(s.t.Frames) < maxStackFrames {
		s.t.Frames = append(s.t.Frames, f)
	}
	s.last = n
	j.prev = s
}

func (j *jsStacks) find(key stackKey) *openStack {
	for _, s := range j.open {
		if s.key == key {
			return s
		}
	}
	return nil
}

// flushSilent ends the stacks without a frame in the last maxStackGap
// lines.
func (j *jsStacks) flushSilent(n int) {
	for i := 0; i < len(j.open); {
		if s := j.open[i]; n-s.last > maxStackGap {
			j.flush(s)
			continue
		}
		i++
	}
}

func (j *jsStacks) flushAll() {
	for len(j.open) > 0 {
		j.flush(j.open[0])
	}
}

// flush ends an open stack and files it in its pid's dump.
func (j *jsStacks) flush(s *openStack) {
	if i := slices.Index(j.open, s); i >= 0 {
		j.open = slices.Delete(j.open, i, i+1)
	}
	if j.prev == s {
		j.prev = nil
	}
	if j.kept >= maxStacks {
		j.dropped++
		return
	}
	j.kept++
	var d *dumps.ThreadDump
	for _, x := range j.dumps {
		if x.PID == s.key.pid {
			d = x
			break
		}
	}
	if d == nil {
		d = &dumps.ThreadDump{Pos: s.t.Pos, Runtime: "node", PID: s.key.pid, SMRLength: -1, JNIGlobalRefs: -1, ReportedDeadlockCount: -1}
		j.dumps = append(j.dumps, d)
	}
	d.Threads = append(d.Threads, *s.t)
}

// finish ends the stacks still open and classifies and buckets every dump;
// the dumps are in the order of their first stacks, each dump's stacks in
// the order of their lines.
func (j *jsStacks) finish() []*dumps.ThreadDump {
	j.flushAll()
	if j.dropped > 0 {
		j.warns = append(j.warns, dumps.Warning{Pos: dumps.Pos{File: j.name}, Msg: fmt.Sprintf("%d more JavaScript stacks not read (the first %d are)", j.dropped, maxStacks)})
	}
	byLine := func(a, b dumps.Thread) int { return a.Pos.Line - b.Pos.Line }
	for _, d := range j.dumps {
		slices.SortStableFunc(d.Threads, byLine)
		d.Pos = d.Threads[0].Pos
		dumps.FinishThreadDump(d)
	}
	slices.SortStableFunc(j.dumps, func(a, b *dumps.ThreadDump) int { return a.Pos.Line - b.Pos.Line })
	return j.dumps
}
