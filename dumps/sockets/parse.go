package sockets

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// maxSocketLine is the longest line the socket parsers keep; the rest of a longer
// line is discarded with a warning (ss -p lists can be long, 10 MB lines are
// junk).
const maxSocketLine = 1 << 20

// longLineReader reads lines of any length without failing on long ones: a line
// longer than maxSocketLine is cut and flagged. It strips the line terminator
// (\n or \r\n).
type longLineReader struct {
	br   *bufio.Reader
	n    int    // number of the line last returned, 1-based
	buf  []byte // the line being assembled
	long bool   // the line last returned was cut at maxSocketLine
}

func newLongLineReader(r io.Reader) *longLineReader {
	return &longLineReader{br: bufio.NewReaderSize(r, 16<<10)}
}

// next returns the next line; ok is false at the end of the input, when err
// holds any I/O failure.
func (l *longLineReader) next() (line string, ok bool, err error) {
	l.buf, l.long = l.buf[:0], false
	for {
		frag, err := l.br.ReadSlice('\n')
		if len(l.buf)+len(frag) <= maxSocketLine {
			l.buf = append(l.buf, frag...)
		} else {
			if room := maxSocketLine - len(l.buf); room > 0 {
				l.buf = append(l.buf, frag[:room]...)
			}
			l.long = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, fmt.Errorf("line %d: %w", l.n+1, err)
		}
		if len(l.buf) == 0 && err != nil {
			return "", false, nil // io.EOF after the last line
		}
		l.n++
		b := l.buf
		if n := len(b); n > 0 && b[n-1] == '\n' {
			b = b[:n-1]
		}
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
		return string(b), true, nil
	}
}

// scanSocketLines calls fn for every line of r with its 1-based number; a line cut
// at maxSocketLine gets a warning and is passed on cut. It returns the I/O error,
// if any, with the position.
func scanSocketLines(r io.Reader, name string, warns *[]dumps.Warning, fn func(n int, line string)) error {
	lr := newLongLineReader(r)
	for {
		line, ok, err := lr.next()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if !ok {
			return nil
		}
		if lr.long {
			*warns = append(*warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: lr.n}, Msg: fmt.Sprintf("line longer than %d bytes, cut", maxSocketLine)})
		}
		fn(lr.n, line)
	}
}

// splitHostPort splits a Linux-style "addr:port", "[v6]:port", ":::22" or
// "*:*" at the last colon.
func splitHostPort(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.LastIndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("bad address %q: want [addr]:port", s)
		}
		host, rest := s[1:end], s[end+1:]
		if z, ok := strings.CutPrefix(rest, "%"); ok { // ss: [fe80::1]%eth0:123
			i := strings.IndexByte(z, ':')
			if i < 0 {
				return "", "", fmt.Errorf("bad address %q: want [addr]%%zone:port", s)
			}
			host, rest = host+"%"+z[:i], z[i:]
		}
		if !strings.HasPrefix(rest, ":") {
			return "", "", fmt.Errorf("bad address %q: want [addr]:port", s)
		}
		return host, rest[1:], nil
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", fmt.Errorf("bad address %q: no port", s)
	}
	return s[:i], s[i+1:], nil
}

// splitHostPortDot splits a BSD-style "addr.port" (192.168.1.2.443,
// fe80::1%lo0.123, *.*) at the last dot.
func splitHostPortDot(s string) (host, port string, err error) {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 {
		return "", "", fmt.Errorf("bad address %q: no .port", s)
	}
	return s[:i], s[i+1:], nil
}

// makeEndpoint builds an Endpoint from an address and a port as written.
func makeEndpoint(host, port string) (dumps.Endpoint, error) {
	var e dumps.Endpoint
	if host == "" {
		return e, errors.New("empty address")
	}
	if port == "" {
		return e, fmt.Errorf("empty port after %q", host)
	}
	h := host
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	if a, err := netip.ParseAddr(h); err == nil {
		e.Addr = a
	} else if addr, zone, ok := strings.Cut(h, "%"); ok {
		if a, err := netip.ParseAddr(addr); err == nil && zone != "" {
			if a.Is4() {
				e.Addr, e.Iface = a, zone
			} else {
				e.Addr = a.WithZone(zone)
			}
		} else {
			e.Host = host
		}
	} else {
		e.Host = host
	}
	if digitsOnly(port) {
		v, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return e, fmt.Errorf("bad port %q", port)
		}
		e.Port = uint16(v)
	} else {
		e.PortName = port
	}
	return e, nil
}

// parseEndpoint parses a Linux-style "addr:port".
func parseEndpoint(s string) (dumps.Endpoint, error) {
	h, p, err := splitHostPort(s)
	if err != nil {
		return dumps.Endpoint{}, err
	}
	return makeEndpoint(h, p)
}

// socketSnaps tracks the listings in one file and which one is current.
type socketSnaps struct {
	name    string
	list    []dumps.SocketSnapshot
	records int // records in the current snapshot
}

// mark handles a line that separates listings (a date, a watch header, a
// shell prompt): it starts a new snapshot unless the current one is still
// empty, in which case it only adds the time if it had none.
func (s *socketSnaps) mark(line int, label string, t time.Time) {
	if n := len(s.list); n > 0 && s.records == 0 {
		if s.list[n-1].Time.IsZero() && !t.IsZero() {
			s.list[n-1].Time, s.list[n-1].Label, s.list[n-1].Src = t, label, dumps.Pos{File: s.name, Line: line}
		}
		return
	}
	s.list = append(s.list, dumps.SocketSnapshot{Index: len(s.list), Time: t, Label: label, Src: dumps.Pos{File: s.name, Line: line}})
	s.records = 0
}

// header handles a table header: a repeated header after records starts a
// new listing.
func (s *socketSnaps) header(line int, label string) {
	if s.records > 0 {
		s.mark(line, label, time.Time{})
	}
}

// record counts a record at line and returns its snapshot index and time.
func (s *socketSnaps) record(line int) (int, time.Time) {
	if len(s.list) == 0 {
		s.list = append(s.list, dumps.SocketSnapshot{Index: 0, Src: dumps.Pos{File: s.name, Line: line}})
	}
	s.records++
	cur := s.list[len(s.list)-1]
	return cur.Index, cur.Time
}

// Markers between listings.
var (
	// shellPromptRe matches a shell prompt followed by a command: "$ ss -tan",
	// "root@host:~# lsof -i", "[root@host ~]# netstat -antp", "PS C:\> netstat",
	// "C:\Users\me>netstat -ano", "> ss".
	shellPromptRe = regexp.MustCompile(`^(?:\([^)]*\)\s*)?(?:\[[^\]]*\]\s?[$#]|[\w.-]+@[\w.-]+(?::\S*)?\s?[$#%]|[$#%>]|PS [^>]*>|[A-Za-z]:\\[^>]*>)\s*(\S.*)$`)
	// watchHeaderRe matches watch's header: "Every 1.0s: ss -s   host: Mon Nov 23 07:01:07 2026".
	watchHeaderRe = regexp.MustCompile(`^Every\s+[\d.,]+s:\s+(.*?)\s+(\S+):\s+(\w{3} \w{3}\s+\d+ [\d:]+ \d{4})`)
	procPIDRe     = regexp.MustCompile(`/proc/(\d+)/`)
	// commandHeaderRe matches a line that names the command behind the
	// listing below it, as collection scripts write it: "COMMAND: ss -tan
	// state close-wait", "# command: ...", "cmd = ...", "COMMANDS: ...".
	commandHeaderRe = regexp.MustCompile(`(?i)^(?:#+\s*)?(?:commands?|cmd|command line)\s*[:=]\s*(\S.*)$`)
)

var stampLayouts = []string{
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 03:04:05 PM MST 2006",
	"Mon 2 Jan 15:04:05 MST 2006",
	"Mon 2 Jan 2006 15:04:05 MST",
	"Mon 2 Jan 2006 03:04:05 PM MST",
	"Mon Jan 2 2006 15:04:05 MST",
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05",
	time.RFC1123Z,
	time.RFC1123,
}

// parseStampLine recognises a line that is only a time stamp, as written by
// date(1) in its usual forms, possibly inside decorations ("=== ... ===",
// "# ...", "date: ..."). A zone abbreviation other than UTC/GMT is kept as
// written but has no known offset (Go's rule for MST-style zones).
func parseStampLine(s string) (time.Time, bool) {
	if len(s) < 10 || len(s) > 80 {
		return time.Time{}, false
	}
	s = strings.Trim(s, " \t=-#*[]<>|")
	if i := strings.Index(s, ": "); i > 0 && i < 20 && !strings.ContainsAny(s[:i], " 0123456789") {
		s = strings.TrimSpace(s[i+2:]) // "date: ...", "time: ..."
	}
	// s starts with its first word, which the joining below keeps: a line
	// that cannot be a stamp is let go before it allocates.
	if !stampStart(s) {
		return time.Time{}, false
	}
	s = strings.Join(strings.Fields(s), " ")
	for _, l := range stampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// stampStart reports whether s can begin one of stampLayouts: a year and a
// dash (2006-01-02...) or a weekday (Mon Jan 2..., Mon, 02 Jan...). Most
// lines are not stamps, and this keeps them from trying every layout.
func stampStart(s string) bool {
	switch {
	case len(s) < 5:
		return false
	case s[0] >= '0' && s[0] <= '9':
		return s[4] == '-'
	case s[0] >= 'A' && s[0] <= 'Z':
		return slices.ContainsFunc(weekdays, func(d string) bool { return strings.EqualFold(s[:3], d) })
	}
	return false
}

// promptLike reports whether t can begin as one of shellPromptRe's prompts
// does: "(venv) ", "[user@host dir]$", "user@host:~$", "$", "#", "%", ">",
// "PS C:\>", "C:\>". Rows of listings, the usual lines, begin otherwise
// and skip the regexp.
func promptLike(t string) bool {
	if t == "" {
		return false
	}
	if strings.IndexByte("([$#%>", t[0]) >= 0 || strings.HasPrefix(t, "PS ") {
		return true
	}
	if len(t) >= 3 && t[1] == ':' && t[2] == '\\' {
		return true
	}
	w, _, _ := strings.Cut(t, " ")
	return strings.Contains(w, "@")
}

// listingMarker is what a non-record line says about the listings around it.
type listingMarker struct {
	is   bool      // the line separates listings
	time time.Time // its time, when it has one
	cmd  string    // the command of a prompt or watch header
}

func parseListingMarker(text string) listingMarker {
	t := strings.TrimSpace(text)
	if t == "" {
		return listingMarker{}
	}
	if strings.HasPrefix(t, "Every") {
		if m := watchHeaderRe.FindStringSubmatch(t); m != nil {
			ts, _ := time.Parse("Mon Jan 2 15:04:05 2006", strings.Join(strings.Fields(m[3]), " "))
			return listingMarker{is: true, time: ts, cmd: m[1]}
		}
	}
	if ts, ok := parseStampLine(t); ok {
		return listingMarker{is: true, time: ts}
	}
	if c := strings.TrimLeft(t, "# \t"); c != "" && (c[0] == 'c' || c[0] == 'C') {
		if m := commandHeaderRe.FindStringSubmatch(t); m != nil {
			return listingMarker{is: true, cmd: m[1]}
		}
	}
	if promptLike(t) {
		if m := shellPromptRe.FindStringSubmatch(t); m != nil {
			return listingMarker{is: true, cmd: m[1]}
		}
	}
	return listingMarker{}
}

// ssHint is what an ss command line says about output that may not say it
// itself: the protocol when the Netid column is missing, the state when a
// single `state X` filter dropped the State column.
type ssHint struct {
	proto dumps.Proto
	state dumps.State
}

func parseSSCommand(cmd string) (ssHint, bool) {
	f := strings.Fields(cmd)
	i := 0
	for i < len(f) && (f[i] == "sudo" || strings.HasPrefix(f[i], "-") && i > 0 && f[i-1] == "sudo") {
		i++
	}
	for i < len(f) && f[i] != "ss" && !strings.HasSuffix(f[i], "/ss") && !strings.HasSuffix(f[i], "'ss") {
		i++
	}
	if i == len(f) {
		return ssHint{}, false
	}
	var h ssHint
	protos := map[dumps.Proto]bool{}
	states := 0
	for j := i + 1; j < len(f); j++ {
		a := strings.Trim(f[j], `'"`)
		switch {
		case a == "--tcp":
			protos[dumps.ProtoTCP] = true
		case a == "--udp":
			protos[dumps.ProtoUDP] = true
		case a == "--unix":
			protos[dumps.ProtoUnix] = true
		case a == "--raw":
			protos[dumps.ProtoRaw] = true
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--"):
			for _, c := range a[1:] {
				switch c {
				case 't':
					protos[dumps.ProtoTCP] = true
				case 'u':
					protos[dumps.ProtoUDP] = true
				case 'x':
					protos[dumps.ProtoUnix] = true
				case 'w':
					protos[dumps.ProtoRaw] = true
				}
			}
		case a == "state" && j+1 < len(f):
			states++
			if st, ok := dumps.ParseState(strings.Trim(f[j+1], `'"`)); ok {
				h.state = st
			} else {
				h.state = dumps.StateUnknown
				states++ // connected, synchronized, all...: not one state
			}
			j++
		case a == "|" || a == ";" || a == "&&":
			j = len(f)
		}
	}
	if states != 1 {
		h.state = dumps.StateUnknown
	}
	if len(protos) == 1 {
		for p := range protos {
			h.proto = p
		}
	}
	return h, true
}
