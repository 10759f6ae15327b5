package sockets

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// lsofProtos maps lsof's NODE column of an IPv4/IPv6 file (and -F's P field)
// to a protocol.
var lsofProtos = map[string]dumps.Proto{
	"TCP": dumps.ProtoTCP, "UDP": dumps.ProtoUDP, "UDPLITE": dumps.ProtoUDP, "RAW": dumps.ProtoRaw, "raw": dumps.ProtoRaw,
	"SCTP": dumps.ProtoOther, "ICMP": dumps.ProtoRaw, "ICMPV6": dumps.ProtoRaw, "ICMP6": dumps.ProtoRaw,
}

// lsofTypes are the TYPE values of socket files.
var lsofTypes = map[string]bool{"IPv4": true, "IPv6": true, "unix": true, "sock": true, "inet": true, "inet6": true}

// ReadLsof parses lsof's default output (`lsof -i`, `lsof -nP
// -iTCP -sTCP:CLOSE_WAIT`, `lsof -p PID`, with or without the TID and
// TASKCMD columns, resolved names or -n -P). Only socket files become
// records (IPv4, IPv6, unix, and "sock" files that lsof cannot identify);
// other files are lsof's too and are passed over. The state lsof writes in
// the NAME column, "(CLOSE_WAIT)" or "(TST=CLOSE_WAIT QR=0 QS=0)" with -T,
// is the socket's state. An Internet socket whose DEVICE is a decimal
// number (its inode) is Linux's (OS); other kernels' lsof writes an
// address there (0x...), which does not say which.
func ReadLsof(r io.Reader, name string) (dumps.SocketEvidence, []dumps.Warning, error) {
	var (
		ev    dumps.SocketEvidence
		warns []dumps.Warning
		snaps = socketSnaps{name: name}
	)
	err := scanSocketLines(r, name, &warns, func(n int, line string) {
		text := strings.TrimSpace(line)
		if text == "" {
			return
		}
		if strings.HasPrefix(text, "COMMAND ") && strings.Contains(text, " PID ") && strings.Contains(text, " NAME") {
			snaps.header(n, text)
			return
		}
		if strings.Trim(text, "=") == "" && len(text) >= 4 { // lsof -r's separator
			snaps.mark(n, text, time.Time{})
			return
		}
		s, ours, err := parseLsofLine(text)
		if ours {
			if err != nil {
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "lsof: " + err.Error()})
				return
			}
			s.Src = dumps.Pos{File: name, Line: n}
			s.Snapshot, s.SnapshotTime = snaps.record(n)
			ev.Sockets = append(ev.Sockets, s)
			return
		}
		if m := parseListingMarker(text); m.is { // before isLsofRow: "Tue Nov 24 07:00:00 UTC 2026" has its shape
			snaps.mark(n, text, m.time)
			return
		}
		if isLsofRow(text) {
			return // a file that is not a socket
		}
		ev.SkippedLines++
	})
	ev.SocketSnapshots = snaps.list
	return ev, warns, err
}

// isLsofRow reports whether a line has lsof's shape (COMMAND PID ... FD
// TYPE): a number among the first few columns followed by a file
// descriptor column.
func isLsofRow(text string) bool {
	f := strings.Fields(text)
	if len(f) < 6 {
		return false
	}
	for i := 1; i < 4 && i < len(f)-3; i++ {
		if digitsOnly(f[i]) {
			for _, fd := range f[i+1 : min(i+4, len(f))] {
				if isLsofFD(fd) {
					return true
				}
			}
		}
	}
	return false
}

// isLsofFD reports whether s is an lsof FD column: 45u, 3r, cwd, txt, mem...
func isLsofFD(s string) bool {
	switch s {
	case "cwd", "rtd", "txt", "mem", "DEL", "mmap", "err", "jld", "ltx", "pd", "tr", "NOFD":
		return true
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && len(s)-i <= 2
}

// parseLsofLine parses one lsof row that holds a socket:
//
//	java     123 app   45u  IPv4 0x1f2e3d4c  0t0  TCP 10.0.0.1:8080->10.0.0.2:51234 (CLOSE_WAIT)
//	Google Ch 456 me   30u  IPv6 123456      0t0  TCP [::1]:5000->[::1]:51234 (ESTABLISHED)
//	java     123 1203 app  7u  sock 0,9     0t0  98765 protocol: TCP
//
// The COMMAND column may hold spaces, so the row is read around its TYPE
// column. ours is false for rows that are not socket files.
func parseLsofLine(text string) (s dumps.Socket, ours bool, err error) {
	s.Tool = dumps.KindLsof
	f := strings.Fields(text)
	t := -1
	for i := 4; i < len(f) && i < 10; i++ {
		if lsofTypes[f[i]] && isLsofFD(f[i-1]) {
			t = i
			break
		}
	}
	if t < 0 {
		return s, false, nil
	}
	p := -1
	for i := 1; i < t-2; i++ {
		if digitsOnly(f[i]) {
			p = i
			break
		}
	}
	if p < 0 {
		return s, false, nil
	}
	pid, err := strconv.Atoi(f[p])
	if err != nil {
		return s, true, fmt.Errorf("bad PID %q", f[p])
	}
	o := dumps.Owner{PID: dumps.IntPtr(pid), Process: lsofUnescape(strings.Join(f[:p], " ")), User: f[t-2]}
	if fd, ok := lsofFD(f[t-1]); ok {
		o.FD = dumps.IntPtr(fd)
	}
	var extra []string
	if t-2 > p+1 && digitsOnly(f[p+1]) {
		extra = append(extra, "tid="+f[p+1])
	}
	s.Owners = []dumps.Owner{o}
	s.ProtoRaw = f[t]
	switch f[t] {
	case "unix", "sock":
		s.Proto = dumps.ProtoUnix
		if f[t] == "sock" {
			s.Proto = dumps.ProtoOther
		}
		node := -1
		for j := t + 2; j < len(f) && j <= t+3; j++ {
			if digitsOnly(f[j]) {
				node = j
			}
		}
		if node < 0 {
			return s, true, errors.New("no NODE column in socket row")
		}
		s.Inode, _ = strconv.ParseUint(f[node], 10, 64)
		nm := strings.Join(f[node+1:], " ")
		if f[t] == "sock" {
			if pr, ok := strings.CutPrefix(nm, "protocol: "); ok {
				if v, ok := lsofProtos[pr]; ok {
					s.Proto = v
				}
			}
			extra = append(extra, nm)
		} else {
			path, rest, _ := strings.Cut(nm, " ")
			s.Local.Host = path
			if rest != "" {
				extra = append(extra, rest)
			}
		}
		s.Extra = strings.Join(extra, " ")
		return s, true, nil
	}
	node := -1
	for j := t + 1; j < len(f) && j <= t+4; j++ {
		if _, ok := lsofProtos[f[j]]; ok {
			node = j
			break
		}
	}
	if node < 0 {
		return s, true, fmt.Errorf("no protocol (TCP, UDP) in NODE column")
	}
	s.Proto = lsofProtos[f[node]]
	if node > t+1 && digitsOnly(f[t+1]) {
		s.Inode, _ = strconv.ParseUint(f[t+1], 10, 64) // Linux: DEVICE of a socket is its inode
		s.OS = dumps.OSLinux                           // other kernels' lsof writes an address there, 0x...
	}
	if node+1 >= len(f) {
		return s, true, errors.New("no NAME column")
	}
	s.ProtoRaw = strings.ToLower(f[node]) + strings.TrimPrefix(strings.TrimPrefix(f[t], "IPv"), "inet")
	if err := parseLsofName(&s, strings.Join(f[node+1:], " ")); err != nil {
		return s, true, err
	}
	if len(extra) > 0 {
		s.Extra = strings.TrimSpace(strings.Join(extra, " ") + " " + s.Extra)
	}
	return s, true, nil
}

// lsofFD reads the number of an FD column such as 45u.
func lsofFD(s string) (int, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	v, err := strconv.Atoi(s[:i])
	return v, err == nil
}

// parseLsofName parses lsof's NAME of an Internet socket:
// "10.0.0.1:8080->10.0.0.2:51234 (CLOSE_WAIT)", "*:8080 (LISTEN)",
// "[::1]:22->[::1]:5000 (TST=ESTABLISHED QR=0 QS=0)", "*:68".
func parseLsofName(s *dumps.Socket, nm string) error {
	addrs, info, hasInfo := strings.Cut(nm, " (")
	if hasInfo {
		info = strings.TrimSuffix(strings.TrimSpace(info), ")")
		if err := parseLsofInfo(s, strings.Fields(info)); err != nil {
			return err
		}
	}
	local, remote, pair := strings.Cut(strings.TrimSpace(addrs), "->")
	var err error
	if s.Local, err = parseEndpoint(local); err != nil {
		return fmt.Errorf("local %w", err)
	}
	if pair {
		if s.Remote, err = parseEndpoint(remote); err != nil {
			return fmt.Errorf("remote %w", err)
		}
	}
	return nil
}

// parseLsofInfo reads the words inside NAME's parentheses or -F's T fields:
// a bare state, or TST=/ST= state, QR=/QS= queues, and other -T details
// kept in Extra.
func parseLsofInfo(s *dumps.Socket, words []string) error {
	var extra []string
	for _, w := range words {
		k, v, kv := strings.Cut(w, "=")
		switch {
		case !kv:
			if st, ok := stateWord(w); ok {
				s.State, s.StateRaw = st, w
			} else if isStateLike(w) {
				s.StateRaw = w
			} else {
				extra = append(extra, w)
			}
		case k == "TST" || k == "ST":
			st, _ := stateWord(v)
			s.State, s.StateRaw = st, v
		case k == "QR" || k == "QS":
			q, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("bad %s", w)
			}
			if k == "QR" {
				s.RecvQ = ptrU64(q)
			} else {
				s.SendQ = ptrU64(q)
			}
		default:
			extra = append(extra, w)
		}
	}
	if len(extra) > 0 {
		if s.Extra != "" {
			s.Extra += " "
		}
		s.Extra += strings.Join(extra, " ")
	}
	return nil
}

// ReadLsofFields parses lsof -F output (`lsof -F pcfn`, `-F0`, `-FpcfnPT`):
// one field per line (or NUL-terminated fields with -F0), p starting a
// process set and f a file set. A file becomes a socket record when its type
// (t) is IPv4, IPv6, unix or sock, its protocol (P) or TCP info (T) is
// given, or its name is an address pair. With the d field, an Internet
// socket's OS is told as ReadLsof tells it from DEVICE.
func ReadLsofFields(r io.Reader, name string) (dumps.SocketEvidence, []dumps.Warning, error) {
	var (
		ev    dumps.SocketEvidence
		warns []dumps.Warning
		snaps = socketSnaps{name: name}
		proc  dumps.Owner
		file  *lsofFile
	)
	flush := func() {
		if file == nil {
			return
		}
		f := file
		file = nil
		s, ok, err := f.socket(proc)
		if err != nil {
			warns = append(warns, dumps.Warning{Pos: f.src, Msg: "lsof -F: " + err.Error()})
			return
		}
		if ok {
			s.Snapshot, s.SnapshotTime = snaps.record(f.src.Line)
			ev.Sockets = append(ev.Sockets, s)
		}
	}
	err := scanSocketLines(r, name, &warns, func(n int, line string) {
		if strings.TrimSpace(line) == "" {
			return
		}
		// A date starts with a capital, as do some field identifiers
		// ("Tue ..." would read as a T field): try markers first for those.
		if c := line[0]; c >= 'A' && c <= 'Z' || !isLsofFieldLine(line) {
			if m := parseListingMarker(line); m.is {
				flush()
				snaps.mark(n, strings.TrimSpace(line), m.time)
				return
			}
		}
		if !isLsofFieldLine(line) {
			flush()
			ev.SkippedLines++
			return
		}
		for _, fld := range strings.Split(line, "\x00") {
			if fld == "" {
				continue
			}
			id, val := fld[0], fld[1:]
			switch id {
			case 'p':
				flush()
				pid, err := strconv.Atoi(val)
				if err != nil {
					warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: fmt.Sprintf("lsof -F: bad PID %q", val)})
					proc = dumps.Owner{}
					continue
				}
				proc = dumps.Owner{PID: dumps.IntPtr(pid)}
			case 'c':
				proc.Process = lsofUnescape(val)
			case 'L':
				proc.User = val
			case 'u':
				if proc.User == "" {
					proc.User = val
				}
			case 'm': // lsof -r's end of an iteration
				flush()
				snaps.mark(n, fld, time.Time{})
			case 'f':
				flush()
				file = &lsofFile{fd: val, src: dumps.Pos{File: name, Line: n}}
			default:
				if file != nil {
					file.set(id, val)
				}
			}
		}
	})
	flush()
	ev.SocketSnapshots = snaps.list
	return ev, warns, err
}

// isLsofFieldLine reports whether a line is -F output: a field identifier
// letter followed by its value, no leading blank.
func isLsofFieldLine(line string) bool {
	if line == "" {
		return false
	}
	c := line[0]
	if !strings.ContainsRune("acCdDfgGiklLmnNoOpPRsStTu", rune(c)) {
		return false
	}
	switch c {
	case 'p', 'g', 'R':
		v, _, _ := strings.Cut(line[1:], "\x00")
		return digitsOnly(v)
	}
	return !strings.Contains(line, " -> ") || c == 'n'
}

// lsofFile is one file set of lsof -F output.
type lsofFile struct {
	fd, typ, proto, name string
	dev                  string // d: the DEVICE column, a socket's inode on Linux
	inode                uint64
	info                 []string // T fields
	src                  dumps.Pos
}

func (f *lsofFile) set(id byte, val string) {
	switch id {
	case 't':
		f.typ = val
	case 'P':
		f.proto = val
	case 'n':
		f.name = val
	case 'd':
		f.dev = val
	case 'i':
		f.inode, _ = strconv.ParseUint(val, 10, 64)
	case 'T':
		if k, v, ok := strings.Cut(val, "="); ok && k == "ST" {
			val = "TST=" + v
		}
		f.info = append(f.info, val)
	}
}

func (f *lsofFile) socket(proc dumps.Owner) (s dumps.Socket, ok bool, err error) {
	isPair := strings.Contains(f.name, "->")
	if !lsofTypes[f.typ] && f.proto == "" && len(f.info) == 0 && !isPair {
		return s, false, nil
	}
	s.Tool, s.Src, s.Inode = dumps.KindLsofFields, f.src, f.inode
	o := proc
	if fd, ok := lsofFD(f.fd); ok {
		o.FD = dumps.IntPtr(fd)
	}
	s.Owners = []dumps.Owner{o}
	s.ProtoRaw = f.typ
	switch {
	case f.typ == "unix":
		s.Proto = dumps.ProtoUnix
		s.Local.Host = f.name
		return s, true, nil
	case f.proto != "":
		p, ok := lsofProtos[strings.ToUpper(f.proto)]
		if !ok {
			p = dumps.ProtoOther
		}
		s.Proto = p
		s.ProtoRaw = strings.ToLower(f.proto) + strings.TrimPrefix(f.typ, "IPv")
	case len(f.info) > 0:
		s.Proto = dumps.ProtoTCP // T fields are TCP/TPI information
	case f.typ == "sock":
		s.Proto = dumps.ProtoOther
	}
	if (f.typ == "IPv4" || f.typ == "IPv6") && digitsOnly(f.dev) {
		s.OS = dumps.OSLinux // as in ReadLsof's DEVICE column
	}
	if f.typ == "sock" || f.name == "" {
		s.Extra = f.name
		return s, true, parseLsofInfo(&s, f.info)
	}
	if err := parseLsofName(&s, f.name); err != nil {
		return s, true, err
	}
	return s, true, parseLsofInfo(&s, f.info)
}

// lsofUnescape undoes lsof's escaping of command names: a byte it would
// not print (a space in the COMMAND column, a control character) is
// written \xNN; other backslashes are kept as written.
func lsofUnescape(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
