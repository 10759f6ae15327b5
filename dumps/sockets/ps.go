package sockets

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

var (
	// psHeaderRe matches a ps header: column names, PID among them, and the
	// command last: "PID PPID STARTED ELAPSED COMMAND" (ps -eo
	// pid,ppid,lstart,etimes,args), "USER PID %CPU ... COMMAND" (ps aux),
	// "UID PID PPID C STIME TTY TIME CMD" (ps -ef). lsof's header, which
	// starts with COMMAND, ends with NAME.
	psHeaderRe = regexp.MustCompile(`^(?:[A-Z%][A-Z%_]*\s+)*PID(?:\s+[A-Z%][A-Z%_]*)*\s+(?:COMMAND|CMD|ARGS)$`)
	// procStatRe matches a /proc/PID/stat line up to starttime (field 22):
	// pid, (comm), state, ppid, then 18 numbers.
	procStatRe = regexp.MustCompile(`^(\d+) \((.*)\) ([A-Za-z]) (-?\d+)((?: -?\d+){18})`)
	// procStatStartRe is the start of a stat line, to warn about one cut
	// before its starttime.
	procStatStartRe = regexp.MustCompile(`^\d+ \(.*\) [A-Za-z] -?\d+`)
	// btimeRe is /proc/stat's boot time line, in seconds since the epoch.
	btimeRe = regexp.MustCompile(`^btime (\d+)$`)
	// procFileRe finds /proc/PID/cmdline or /proc/PID/stat in a header
	// ("==> /proc/1234/cmdline <==" of head or tail) or a prompt.
	procFileRe = regexp.MustCompile(`/proc/(\d+|self|\*)/(cmdline|stat)\b`)
	// headTailRe is the header head and tail print before each file.
	headTailRe = regexp.MustCompile(`^==> (.+) <==$`)
	// busyboxElapsedRe is BusyBox's etime past an hour: hours and
	// minutes (1h02), days and hours (3d05), or days (123d).
	busyboxElapsedRe = regexp.MustCompile(`^(\d{1,9})(h|d)(\d\d)?$`)
	// cmdlineNameRe finds the pid in the name of a file that holds one
	// cmdline and no header: proc/1234/cmdline, proc-1234-cmdline.txt.
	cmdlineNameRe = regexp.MustCompile(`(?:^|[/_.-])(\d+)[/_.-]cmdline(?:\.[A-Za-z]+)?$`)
	weekdays      = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	months        = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// psMode is what the lines that follow are.
type psMode uint8

const (
	psNone    psMode = iota // between listings: markers, other output
	psRows                  // rows under a ps header: "  4002     1 Thu Dec  3 07:01:02 2026      65 ./quote-cache -journal ..."
	psCmdline               // the line after "==> /proc/4002/cmdline <==" or "$ cat /proc/4002/cmdline": "./quote-cache\x00-journal\x00..."
)

// ReadPS parses process listings: ps output with a header naming its
// columns (ps -eo pid,ppid,lstart,etimes,args; ps aux; ps -ef; any -o
// list with PID and the command last), /proc/PID/cmdline (NUL-separated
// as cat prints it, or with spaces as tr '\0' ' ' does; the pid from a
// "==> /proc/PID/cmdline <==" header, a prompt, or a file name such as
// proc/1234/cmdline or proc-1234-cmdline.txt), /proc/PID/stat lines, and
// /proc/stat's btime, all in one file or apart. ps's lstart has no zone
// and is read as UTC; a snapshot's time less ps's elapsed time is
// preferred when the file has both. Only I/O failures are errors; bad rows
// become warnings.
func ReadPS(r io.Reader, name string) (dumps.SocketEvidence, []dumps.Warning, error) {
	var (
		ev    dumps.SocketEvidence
		warns []dumps.Warning
		snaps = socketSnaps{name: name}
		mode  psMode
		cols  []string
		pid   = -1 // the pid of the cmdline expected next
	)
	namePID := -1
	if m := cmdlineNameRe.FindStringSubmatch(name); m != nil {
		namePID, _ = strconv.Atoi(m[1])
	}
	warn := func(n int, format string, args ...any) {
		warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: fmt.Sprintf(format, args...)})
	}
	addCmdline := func(n int, text string, pid int) {
		// Whose cmdline it is may not be said (pid 0): the report
		// matches its command name against the listed processes.
		p := dumps.ProcessInfo{Tool: dumps.KindProcCmdline, PID: max(pid, 0), Command: cmdlineText(text), Src: dumps.Pos{File: name, Line: n}}
		p.Snapshot, p.SnapshotTime = snaps.record(n)
		ev.Procs = append(ev.Procs, p)
	}
	var readLine func(n int, line string)
	readLine = func(n int, line string) {
		// cat and tail print a cmdline without a newline after it: the
		// header of tail's next file follows on the same line.
		if i := strings.LastIndexByte(line, 0); i >= 0 && strings.HasPrefix(line[i+1:], "==> ") {
			readLine(n, line[:i+1])
			line = line[i+1:]
		}
		text := strings.TrimSpace(strings.ReplaceAll(line, "\x00", " "))
		if text == "" {
			if mode == psCmdline && strings.Contains(line, "\x00") {
				mode = psNone // an empty cmdline: a kernel thread or a zombie
			}
			return
		}
		// head's and tail's header before any cmdline awaited: tail prints
		// nothing for an empty cmdline (a kernel thread, a zombie), and its
		// next header follows at once.
		if strings.HasPrefix(text, "==> ") {
			if m := headTailRe.FindStringSubmatch(text); m != nil {
				snaps.mark(n, text, time.Time{})
				mode, pid = cmdlineTarget(m[1])
				return
			}
		}
		if mode == psCmdline {
			mode = psNone
			addCmdline(n, line, pid)
			pid = -1
			return
		}
		// Each regexp runs only on a line that has the form's first or
		// last bytes, so that a ps row, the usual line, costs none.
		stat := statLike(text)
		switch {
		case isPSHeader(text):
			snaps.header(n, text)
			mode, cols = psRows, strings.Fields(text)
			return
		case stat && procStatRe.MatchString(text):
			mode = psNone
			p, err := parseProcStat(text)
			if err != nil {
				warn(n, "stat: %v", err)
				return
			}
			p.Src = dumps.Pos{File: name, Line: n}
			p.Snapshot, p.SnapshotTime = snaps.record(n)
			ev.Procs = append(ev.Procs, p)
			return
		case stat && procStatStartRe.MatchString(text):
			warn(n, "stat: line cut before field 22 (starttime): %q", dumps.Clip(text))
			return
		case strings.HasPrefix(text, "btime ") && btimeRe.MatchString(text):
			v, err := strconv.ParseInt(btimeRe.FindStringSubmatch(text)[1], 10, 64)
			if err != nil || plausible(time.Unix(v, 0)).IsZero() {
				warn(n, "stat: bad btime %q", dumps.Clip(text))
				return
			}
			ev.BootTimes = append(ev.BootTimes, dumps.BootTime{Time: time.Unix(v, 0).UTC(), Src: dumps.Pos{File: name, Line: n}})
			return
		}
		if m := parseListingMarker(text); m.is {
			snaps.mark(n, text, m.time)
			mode, pid = cmdlineTarget(m.cmd)
			return
		}
		switch {
		case mode == psRows:
			p, err := parsePSRow(line, cols)
			if err != nil {
				warn(n, "ps: %v", err)
				return
			}
			p.Src = dumps.Pos{File: name, Line: n}
			p.Snapshot, p.SnapshotTime = snaps.record(n)
			if p.Elapsed != nil && !p.SnapshotTime.IsZero() {
				if t := plausible(p.SnapshotTime.Add(-*p.Elapsed)); !t.IsZero() {
					p.Start = t // else lstart's, if any
				}
			}
			ev.Procs = append(ev.Procs, p)
		case strings.Contains(line, "\x00") || namePID >= 0 && len(ev.Procs) == 0 || n == 1 && strings.HasSuffix(line, " "):
			// cat's NULs; or the one line of a file named for its pid, or
			// ending in the space tr makes of the last NUL.
			addCmdline(n, line, namePID)
		default:
			ev.SkippedLines++
		}
	}
	err := scanSocketLines(r, name, &warns, readLine)
	if len(ev.BootTimes) > 0 {
		boot := ev.BootTimes[0].Time
		for i := range ev.Procs {
			if p := &ev.Procs[i]; p.StartTicks != nil && p.Start.IsZero() {
				p.Start = plausible(dumps.StartAfterBoot(boot, *p.StartTicks))
			}
		}
	}
	ev.SocketSnapshots = snaps.list
	return ev, warns, err
}

// isPSHeader reports whether text is a ps header (psHeaderRe), looking at
// its last word before running the regexp.
func isPSHeader(text string) bool {
	return (strings.HasSuffix(text, "COMMAND") || strings.HasSuffix(text, "CMD") || strings.HasSuffix(text, "ARGS")) &&
		psHeaderRe.MatchString(text)
}

// statLike reports whether text begins as a /proc/PID/stat line does, a
// number and " (", which a ps row never does: its second column is a word.
func statLike(text string) bool {
	i := 0
	for i < len(text) && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	return i > 0 && strings.HasPrefix(text[i:], " (")
}

// maxTicks bounds /proc/PID/stat's starttime: 300 years of uptime.
const maxTicks = 300 * 365 * 86400 * dumps.TicksPerSecond

// plausible is t when its year is one a process can have started in
// (1970 to 9999), else the zero time: a start out of that range comes from
// a damaged line and could not be written as JSON.
func plausible(t time.Time) time.Time {
	if y := t.Year(); y < 1970 || y > 9999 {
		return time.Time{}
	}
	return t
}

// cmdlineTarget says what a header or a prompt's command announces: the
// cmdline of one pid, or nothing this reader waits for.
func cmdlineTarget(cmd string) (psMode, int) {
	m := procFileRe.FindStringSubmatch(cmd)
	if m == nil || m[2] != "cmdline" {
		return psNone, -1
	}
	v, err := strconv.Atoi(m[1])
	if err != nil {
		return psNone, -1 // /proc/self, /proc/*: whose is not said
	}
	return psCmdline, v
}

// cmdlineText turns a cmdline as saved (NUL-separated, or with the NULs
// made spaces) into words joined by single spaces.
func cmdlineText(s string) string {
	s = strings.TrimRight(s, "\x00 ")
	return strings.ReplaceAll(s, "\x00", " ")
}

// parseProcStat parses a /proc/PID/stat line:
//
//	4002 (quote-cache) S 3990 3990 1 0 -1 4194560 1322 0 0 0 5 3 0 0 20 0 6 0 9931 ...
//
// pid, (comm), state, ppid, ..., field 22 starttime in clock ticks after
// boot.
func parseProcStat(text string) (dumps.ProcessInfo, error) {
	m := procStatRe.FindStringSubmatch(text)
	p := dumps.ProcessInfo{Tool: dumps.KindProcStat, Comm: m[2]}
	var err error
	if p.PID, err = strconv.Atoi(m[1]); err != nil {
		return p, fmt.Errorf("bad pid %q", m[1])
	}
	ppid, err := strconv.Atoi(m[4])
	if err != nil || ppid < 0 {
		return p, fmt.Errorf("bad ppid %q", m[4])
	}
	p.PPID = dumps.IntPtr(ppid)
	f := strings.Fields(m[5]) // fields 5 to 22
	ticks, err := strconv.ParseUint(f[17], 10, 64)
	if err != nil || ticks > maxTicks {
		return p, fmt.Errorf("bad starttime %q", f[17])
	}
	p.StartTicks = &ticks
	return p, nil
}

// parsePSRow parses one row of ps output under the header whose columns
// are cols. Every column is one word but the last, the command, which is
// the rest of the line, and a start time: lstart ("Thu Dec  3 07:01:02
// 2026") is five words, start ("Dec 02") may be two.
func parsePSRow(line string, cols []string) (dumps.ProcessInfo, error) {
	p := dumps.ProcessInfo{Tool: dumps.KindPS, PID: -1}
	rest := line
	word := func() (w string) {
		w, rest = dumps.NextField(rest)
		return w
	}
	for i, c := range cols {
		if i == len(cols)-1 {
			p.Command = strings.TrimSpace(rest)
			break
		}
		w := word()
		if w == "" {
			return p, fmt.Errorf("row ends before its %s column (%d columns in the header)", c, len(cols))
		}
		switch c {
		case "PID":
			v, err := strconv.Atoi(w)
			if err != nil || v < 0 {
				return p, fmt.Errorf("bad PID %q", dumps.Clip(w))
			}
			p.PID = v
		case "PPID":
			v, err := strconv.Atoi(w)
			if err != nil || v < 0 {
				return p, fmt.Errorf("bad PPID %q", dumps.Clip(w))
			}
			p.PPID = dumps.IntPtr(v)
		case "STARTED", "START", "STIME":
			english := slices.Contains(weekdays, w)
			if !english && c != "STARTED" {
				break // start_time, stime: one word ("07:01", "Dec02", "2025")
			}
			saved := rest
			ws := [5]string{w, word(), word(), word(), word()}
			switch {
			case english || !clockLike(w) && clockLike(ws[3]): // lstart
				// In another language ("Do  3 Dez 07:01:02 2026") it is
				// still five words: taken, with no start time, so that
				// the columns after it stay in place. start's time of
				// day ("07:01:02") is one word, whatever follows it.
				t, err := parseLstart(ws[:])
				switch {
				case err == nil:
					p.Start = plausible(t)
				case english:
					return p, fmt.Errorf("bad start time %q", dumps.Clip(strings.Join(ws[:], " ")))
				}
			case slices.Contains(months, w): // start: "Dec 02"
				rest = saved
				word()
			default: // start: "07:01:02", one word
				rest = saved
			}
		case "ELAPSED":
			d, err := parseElapsed(w)
			if err != nil {
				return p, err
			}
			p.Elapsed = &d
		}
	}
	if p.PID < 0 {
		return p, fmt.Errorf("no PID")
	}
	if p.Command == "" {
		return p, fmt.Errorf("no command after the %d columns of the header", len(cols)-1)
	}
	return p, nil
}

// lstartLayout is ps's lstart, five words once its padding is taken out.
const lstartLayout = "Mon Jan 2 15:04:05 2006"

// parseLstart reads lstart's five words ("Thu", "Dec", "3", "07:01:02",
// "2026") as UTC. The form ps prints (English names, a day of one or two
// digits, hh:mm:ss, a year of four digits) is read by hand, since a listing
// has one on every row and time.Parse costs several times as much; any
// other spelling goes to time.Parse with lstartLayout, so that both accept
// and give the same times (FuzzParseLstart).
func parseLstart(ws []string) (time.Time, error) {
	if t, ok := lstartFast(ws); ok {
		return t, nil
	}
	return time.Parse(lstartLayout, strings.Join(ws, " "))
}

// lstartFast is parseLstart's hand-written path: ok is false for anything
// but the usual form, valid dates only.
func lstartFast(ws []string) (time.Time, bool) {
	if len(ws) != 5 || !slices.Contains(weekdays, ws[0]) || len(ws[1]) != 3 || len(ws[4]) != 4 || !clockLike(ws[3]) {
		return time.Time{}, false
	}
	mi := slices.Index(months, ws[1])
	d := ws[2]
	if mi < 0 || len(d) < 1 || len(d) > 2 || !digitsOnly(d) || !digitsOnly(ws[4]) {
		return time.Time{}, false
	}
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	month, day, year := time.Month(mi+1), num(d), num(ws[4])
	c := ws[3]
	hour, minute, sec := num(c[:2]), num(c[3:5]), num(c[6:])
	if day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // the 31st of a 30-day month, or Feb 29 in a common year
		return time.Time{}, false
	}
	return t, true
}

// clockLike reports whether w is a time of day as lstart prints it,
// hh:mm:ss.
func clockLike(w string) bool {
	return len(w) == 8 && w[2] == ':' && w[5] == ':' && digitsOnly(w[:2]+w[3:5]+w[6:])
}

// parseElapsed parses ps's etimes (seconds), etime ([[dd-]hh:]mm:ss), or
// BusyBox's etime past an hour (1h02, 3d05, 123d).
func parseElapsed(s string) (time.Duration, error) {
	if digitsOnly(s) { // etimes, the usual
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v > 1<<33 {
			return 0, fmt.Errorf("bad elapsed time %q", dumps.Clip(s))
		}
		return time.Duration(v) * time.Second, nil
	}
	// The error is made only when it is returned: etime is on every row.
	whole := s
	bad := func() (time.Duration, error) { return 0, fmt.Errorf("bad elapsed time %q", dumps.Clip(whole)) }
	if strings.ContainsAny(s, "hd") { // procps's etime has neither: no regexp for it
		m := busyboxElapsedRe.FindStringSubmatch(s)
		if m == nil {
			return bad()
		}
		big, _ := strconv.ParseInt(m[1], 10, 32)
		small, _ := strconv.ParseInt(m[3], 10, 32) // "" for 123d: 0
		if m[2] == "h" {
			return time.Duration(big)*time.Hour + time.Duration(small)*time.Minute, nil
		}
		return time.Duration(big)*24*time.Hour + time.Duration(small)*time.Hour, nil
	}
	var days int64
	if d, rest, ok := strings.Cut(s, "-"); ok {
		v, err := strconv.ParseInt(d, 10, 32)
		if err != nil || !digitsOnly(d) {
			return bad()
		}
		days, s = v, rest
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return bad()
	}
	var secs int64
	for _, x := range parts {
		v, err := strconv.ParseInt(x, 10, 32)
		if err != nil || !digitsOnly(x) {
			return bad()
		}
		secs = secs*60 + v
	}
	return time.Duration(days*86400+secs) * time.Second, nil
}
