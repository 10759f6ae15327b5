package sockets

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// netstatProtos maps netstat's Proto column (Linux net-tools, macOS, FreeBSD,
// Windows) to a protocol.
var netstatProtos = map[string]dumps.Proto{
	"tcp": dumps.ProtoTCP, "tcp4": dumps.ProtoTCP, "tcp6": dumps.ProtoTCP, "tcp46": dumps.ProtoTCP, "TCP": dumps.ProtoTCP, "TCPv6": dumps.ProtoTCP,
	"udp": dumps.ProtoUDP, "udp4": dumps.ProtoUDP, "udp6": dumps.ProtoUDP, "udp46": dumps.ProtoUDP, "udpl": dumps.ProtoUDP, "udpl6": dumps.ProtoUDP,
	"UDP": dumps.ProtoUDP, "UDPv6": dumps.ProtoUDP,
	"raw": dumps.ProtoRaw, "raw6": dumps.ProtoRaw, "raw4": dumps.ProtoRaw, "icm4": dumps.ProtoRaw, "icm6": dumps.ProtoRaw,
	"unix": dumps.ProtoUnix,
	"sctp": dumps.ProtoOther, "sctp4": dumps.ProtoOther, "sctp6": dumps.ProtoOther, "dccp": dumps.ProtoOther,
}

// netstatTimerRe matches the Timer column of netstat -o at the end of a row.
var netstatTimerRe = regexp.MustCompile(`\s*((?:off|on|keepalive|timewait|probe|unkn)\s+\([^)]*\))\s*$`)

// ReadNetstat parses netstat output from Linux (net-tools: -antp, -aeep,
// -lnp, -o, the unix section), macOS and the BSDs (addr.port notation, -A's
// PCB columns) and Windows (-an, -ano, -aonb with the component and [exe]
// lines under each row). Each row's OS is what its Proto word and address
// notation tell (netstatRowOS), checked against the title or column header
// above it (fileOS). Only I/O failures are errors; bad rows become
// warnings.
func ReadNetstat(r io.Reader, name string) (dumps.SocketEvidence, []dumps.Warning, error) {
	var (
		ev     dumps.SocketEvidence
		warns  []dumps.Warning
		snaps  = socketSnaps{name: name}
		bsd    netstatLayout // the columns a BSD header names around the addresses
		hdrOS  dumps.OS      // the system the last title or column header shows
		inRows bool
		cut    = -1 // the record whose details were cut, warned once
	)
	err := scanSocketLines(r, name, &warns, func(n int, line string) {
		text := strings.TrimSpace(line)
		wasRows := inRows
		inRows = false
		if text == "" {
			return
		}
		switch {
		case strings.HasPrefix(text, "Active Internet connections"), text == "Active Connections":
			snaps.header(n, text)
			bsd, hdrOS = netstatLayout{}, dumps.OSUnknown
			if text == "Active Connections" {
				hdrOS = dumps.OSWindows
			}
			return
		}
		if l, ok := parseNetstatHeader(text); ok {
			bsd, hdrOS = l, dumps.OSBSD
			return
		}
		if o := netstatHeaderOS(text); o != dumps.OSUnknown {
			hdrOS = o
			return
		}
		switch {
		case strings.HasPrefix(text, "Active "), strings.HasPrefix(text, "Proto "), strings.HasPrefix(text, "Proto/ID"),
			strings.HasPrefix(text, "Socket ") && strings.Contains(text, "Proto"),
			strings.HasPrefix(text, "Address ") && strings.Contains(text, "Type"):
			return // section titles and column headers
		}
		s, pre, ours, err := parseNetstatRow(text, bsd.pre)
		if ours {
			if err != nil {
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "netstat: " + err.Error()})
				return
			}
			if len(bsd.post) > 0 && s.Extra != "" && s.Proto != dumps.ProtoUnix {
				if err := applyBSDColumns(&s, bsd.post); err != nil {
					warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "netstat: " + err.Error()})
				}
			}
			if pre != "" {
				s.Extra = strings.TrimSpace(pre + " " + s.Extra)
			}
			s.OS = fileOS(s.OS, hdrOS)
			s.Src = dumps.Pos{File: name, Line: n}
			s.Snapshot, s.SnapshotTime = snaps.record(n)
			ev.Sockets = append(ev.Sockets, s)
			inRows = true
			return
		}
		// Windows -b: the component and [exe] lines, indented, under a row.
		if wasRows && line[0] == ' ' && len(ev.Sockets) > 0 && ev.Sockets[len(ev.Sockets)-1].ProtoRaw == strings.ToUpper(ev.Sockets[len(ev.Sockets)-1].ProtoRaw) {
			last := &ev.Sockets[len(ev.Sockets)-1]
			if exe, ok := strings.CutPrefix(text, "["); ok && strings.HasSuffix(exe, "]") {
				if len(last.Owners) == 0 {
					last.Owners = []dumps.Owner{{}}
				}
				last.Owners[0].Process = strings.TrimSuffix(exe, "]")
			} else if !appendExtra(last, "; ", text) && cut != len(ev.Sockets)-1 {
				cut = len(ev.Sockets) - 1
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "netstat: line under the row above dropped, and any more: details longer than 4 KiB"})
			}
			inRows = true
			return
		}
		if m := parseListingMarker(text); m.is {
			snaps.mark(n, text, m.time)
			return
		}
		ev.SkippedLines++
	})
	ev.SocketSnapshots = snaps.list
	return ev, warns, err
}

// netstatHeaderOS tells the system from a column header that
// parseNetstatHeader did not take as a BSD one:
//
//	Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
//	Proto RefCnt Flags       Type       State         I-Node   PID/Program name    Path
//	Proto  Local Address          Foreign Address        State           PID
//
// The first two are Linux's (net-tools and busybox, the unix section's),
// the last is Windows'. OSUnknown for anything else.
func netstatHeaderOS(text string) dumps.OS {
	f := strings.Fields(text)
	if len(f) < 3 || f[0] != "Proto" {
		return dumps.OSUnknown
	}
	switch {
	case f[1] == "Recv-Q" && slices.Contains(f, "State"), f[1] == "RefCnt":
		return dumps.OSLinux
	case f[1] == "Local" && f[2] == "Address":
		return dumps.OSWindows
	}
	return dumps.OSUnknown
}

// fileOS is the system of a row that shows row by itself, under a title or
// header that shows file: either when the other does not tell, unknown when
// they disagree (two systems' outputs pasted under one header: the row
// cannot be told).
func fileOS(row, file dumps.OS) dumps.OS {
	switch {
	case file == dumps.OSUnknown || row == file:
		return row
	case row == dumps.OSUnknown:
		return file
	}
	return dumps.OSUnknown
}

// netstatEndpoint parses an address in either notation: Linux and Windows
// "addr:port" / "[v6]:port", or BSD "addr.port" (bsd is then true). A colon
// followed by no dot means the colon form. Only the BSDs write tcp4, tcp46
// and the like, so a Linux "tcp" row is never read in dot notation.
func netstatEndpoint(s, proto string) (e dumps.Endpoint, bsd bool, err error) {
	bsdProto := strings.HasSuffix(proto, "4") || strings.HasSuffix(proto, "6")
	if i := strings.LastIndexByte(s, ':'); !bsdProto || i >= 0 && !strings.Contains(s[i:], ".") {
		e, err = parseEndpoint(s)
		return e, false, err
	}
	h, p, err := splitHostPortDot(s)
	if err != nil {
		return dumps.Endpoint{}, true, err
	}
	e, err = makeEndpoint(h, p)
	return e, true, err
}

// netstatLayout is what a macOS or FreeBSD header says of the columns
// around the addresses: pre are those between Proto and Local Address
// (Recv-Q Send-Q, or -T's Rexmit OOORcv 0-win), post those after Foreign
// Address and (state) (-v's rhiwat shiwat pid ..., -x's R-MBUF ..., -P's
// Log ID, -b's rxbytes txbytes).
type netstatLayout struct {
	pre, post []string
}

// parseNetstatHeader reads a BSD column header:
//
//	Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)     rhiwat shiwat    pid   epid  state    options
//	Tcpcb            Proto Rexmit OOORcv 0-win  Local Address      Foreign Address
//	Tcpcb            Proto Recv-Q Send-Q Local Address      Foreign Address    (state)     Log ID
//
// Linux and Windows headers (with State, not (state)) are not BSD ones.
func parseNetstatHeader(text string) (netstatLayout, bool) {
	f := strings.Fields(strings.Replace(text, "Log ID", "Log-ID", 1))
	proto, local := -1, -1
	for i, w := range f {
		switch {
		case w == "Proto" && proto < 0:
			proto = i
		case w == "Local" && i+3 < len(f) && f[i+1] == "Address" && f[i+2] == "Foreign" && f[i+3] == "Address":
			local = i
		}
	}
	if proto < 0 || local <= proto {
		return netstatLayout{}, false
	}
	post := f[local+4:]
	if len(post) > 0 && post[0] == "(state)" {
		post = post[1:]
	} else if len(post) > 0 && post[0] == "State" || proto > 0 && !(f[0] == "Tcpcb" || f[0] == "Socket") {
		return netstatLayout{}, false // Linux or Windows
	} else if len(post) == 0 && !slices.Contains(f[proto+1:local], "Rexmit") {
		return netstatLayout{}, false // Windows -an, Linux without State: nothing to learn
	}
	pre := f[proto+1 : local]
	if slices.Equal(pre, []string{"Recv-Q", "Send-Q"}) {
		pre = nil // the default
	}
	return netstatLayout{pre: pre, post: post}, true
}

// parseNetstatLine parses one netstat row with the usual columns; see
// parseNetstatRow.
func parseNetstatLine(text string) (s dumps.Socket, ours bool, err error) {
	s, _, ours, err = parseNetstatRow(text, nil)
	return s, ours, err
}

// parseNetstatRow parses one netstat row:
//
//	tcp        0      0 10.0.0.1:8080   10.0.0.2:51234  CLOSE_WAIT  1000  4242  123/java
//	tcp4       0      0  192.168.1.2.5486 140.82.113.26.443  CLOSE_WAIT
//	7fb03cb94d505aed cedd0cbf tcp4  0  0  192.168.1.2.5486 140.82.113.26.443  ESTABLISHED
//	TCP    192.168.31.221:4604    82.102.152.152:443     CLOSE_WAIT      27568
//	unix  2      [ ACC ]     STREAM     LISTENING      18438 1/systemd  /run/lvm/lvmpolld.socket
//
// pre names the BSD columns before the addresses when they are not Recv-Q
// Send-Q (FreeBSD -T: Rexmit OOORcv 0-win); their values come back as
// name=value words in preExtra.
func parseNetstatRow(text string, pre []string) (s dumps.Socket, preExtra string, ours bool, err error) {
	s.Tool = dumps.KindNetstat
	tok, rest := dumps.NextField(text)
	if typ, r := dumps.NextField(rest); len(tok) >= 8 && dumps.HexOnly(tok) && bsdUnixTypes[typ] {
		s.OS = dumps.OSBSD
		return s, preExtra, true, parseBSDUnix(&s, typ, r)
	}
	if _, ok := netstatProtos[tok]; !ok && len(tok) >= 8 && dumps.HexOnly(tok) { // macOS -A: PCB address and flow hash
		tok, rest = dumps.NextField(rest)
		if _, ok := netstatProtos[tok]; !ok && dumps.HexOnly(tok) {
			tok, rest = dumps.NextField(rest)
		}
	}
	proto, ok := netstatProtos[tok]
	if !ok {
		return s, "", false, nil
	}
	s.Proto, s.ProtoRaw = proto, tok
	if proto == dumps.ProtoUnix {
		s.OS = dumps.OSLinux // the BSDs' unix rows begin with their PCB, above
		return s, preExtra, true, parseNetstatUnix(&s, rest)
	}
	windows := tok == strings.ToUpper(tok)
	first, _ := dumps.NextField(rest)
	if bsdRow := strings.HasSuffix(tok, "4") || strings.HasSuffix(tok, "6"); !windows && pre != nil && bsdRow && !digitsOnly(first) {
		// FreeBSD -T leaves its columns blank on UDP rows.
	} else if !windows && pre != nil && bsdRow {
		var words []string
		for _, c := range pre {
			var v string
			v, rest = dumps.NextField(rest)
			if !digitsOnly(v) {
				return s, "", true, fmt.Errorf("bad %s %q", c, v)
			}
			words = append(words, c+"="+v)
		}
		preExtra = strings.Join(words, " ")
	} else if !windows {
		var rq, sq string
		rq, rest = dumps.NextField(rest)
		sq, rest = dumps.NextField(rest)
		q1, err1 := strconv.ParseUint(rq, 10, 64)
		q2, err2 := strconv.ParseUint(sq, 10, 64)
		if err1 != nil || err2 != nil {
			return s, preExtra, true, fmt.Errorf("bad Recv-Q/Send-Q %q %q", rq, sq)
		}
		s.RecvQ, s.SendQ = ptrU64(q1), ptrU64(q2)
	}
	var local, foreign string
	local, rest = dumps.NextField(rest)
	foreign, rest = dumps.NextField(rest)
	if foreign == "" {
		return s, preExtra, true, errors.New("truncated row: want local and foreign address")
	}
	var bsd, bsdRemote bool
	if s.Local, bsd, err = netstatEndpoint(local, tok); err != nil {
		return s, preExtra, true, fmt.Errorf("local %w", err)
	}
	if s.Remote, bsdRemote, err = netstatEndpoint(foreign, tok); err != nil {
		return s, preExtra, true, fmt.Errorf("foreign %w", err)
	}
	s.OS = netstatRowOS(tok, bsd, bsdRemote)
	if strings.IndexByte(rest, '(') >= 0 { // only then can there be a Timer: the regexp is costly
		if m := netstatTimerRe.FindStringSubmatchIndex(rest); m != nil {
			s.Timer, rest = rest[m[2]:m[3]], rest[:m[0]]
		}
	}
	if st, r := dumps.NextField(rest); st != "" {
		if v, err := strconv.Atoi(st); err == nil && proto == dumps.ProtoRaw && v > 0 && v <= int(dumps.StateClosing) {
			s.State, s.StateRaw, rest = dumps.State(v), st, r // Linux raw sockets print the number
		} else if v, ok := stateWord(st); ok {
			s.State, s.StateRaw, rest = v, st, r
		} else if isStateLike(st) {
			s.StateRaw, rest = st, r // BOUND, DELETE_TCB, ...
		}
	}
	f := strings.Fields(rest)
	if bsd { // macOS -v columns, read by ReadNetstat with the header
		s.Extra = strings.Join(f, " ")
		return s, preExtra, true, nil
	}
	if windows {
		if len(f) > 0 && digitsOnly(f[0]) {
			pid, err := strconv.Atoi(f[0])
			if err != nil {
				return s, preExtra, true, fmt.Errorf("bad PID %q", f[0])
			}
			s.Owners = []dumps.Owner{{PID: dumps.IntPtr(pid)}}
			f = f[1:]
		}
	} else if len(f) >= 2 && digitsOnly(f[1]) && !isPidProg(f[0]) { // -e: User Inode
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return s, preExtra, true, fmt.Errorf("bad inode %q", f[1])
		}
		s.User, s.Inode, f = f[0], v, f[2:]
	}
	if len(f) > 0 && isPidProg(f[0]) {
		o, err := parsePidProg(strings.Join(f, " "))
		if err != nil {
			return s, preExtra, true, err
		}
		if o != nil {
			s.Owners = []dumps.Owner{*o}
		}
		f = nil
	}
	if s.User != "" && digitsOnly(s.User) {
		if v, err := strconv.Atoi(s.User); err == nil {
			s.UID, s.User = dumps.IntPtr(v), ""
		}
	}
	if len(f) > 0 {
		s.Extra = strings.Join(f, " ")
	}
	return s, preExtra, true, nil
}

// netstatRowOS tells the system of an Internet row from its Proto word
// and the notation of its two addresses (bsd, bsdRemote: addr.port):
// Windows writes TCP and UDP in capitals; only the BSDs write tcp4 and
// tcp46, and addr.port; Linux (net-tools, busybox) writes tcp and tcp6 in
// addr:port, ::1:22 and :::*. OpenBSD's and NetBSD's tcp rows are in
// addr.port too, so the Proto word alone does not say Linux. Addresses in
// two notations say nothing.
func netstatRowOS(proto string, bsd, bsdRemote bool) dumps.OS {
	switch {
	case proto != "" && proto[0] >= 'A' && proto[0] <= 'Z': // TCP, UDP, TCPv6
		return dumps.OSWindows
	case bsd != bsdRemote:
		return dumps.OSUnknown
	case bsd || strings.HasSuffix(proto, "4") || strings.HasSuffix(proto, "46"):
		return dumps.OSBSD
	}
	return dumps.OSLinux
}

// isStateLike reports whether a column looks like a state word the enum does
// not know (all capitals, digits and underscores).
func isStateLike(s string) bool {
	if len(s) < 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9') {
			return false
		}
	}
	return !digitsOnly(s)
}

// isPidProg reports whether s is netstat -p's column: "123/java" or "-".
func isPidProg(s string) bool {
	if s == "-" {
		return true
	}
	p, _, ok := strings.Cut(s, "/")
	return ok && digitsOnly(p)
}

// parsePidProg parses "123/java -jar x" (program names may hold spaces) or
// "-" (not ours to see: nil).
func parsePidProg(s string) (*dumps.Owner, error) {
	if s == "-" {
		return nil, nil
	}
	p, prog, _ := strings.Cut(s, "/")
	pid, err := strconv.Atoi(p)
	if err != nil {
		return nil, fmt.Errorf("bad PID/Program %q", s)
	}
	return &dumps.Owner{PID: dumps.IntPtr(pid), Process: strings.TrimSpace(prog)}, nil
}

// parseNetstatUnix parses the rest of a Linux unix-socket row: RefCnt,
// Flags in brackets, Type, State (may be blank), I-Node, PID/Program (with
// -p), Path (may be blank).
func parseNetstatUnix(s *dumps.Socket, rest string) error {
	ref, rest := dumps.NextField(rest)
	if !digitsOnly(ref) {
		return fmt.Errorf("bad RefCnt %q", ref)
	}
	rest = strings.TrimLeft(rest, " ")
	if !strings.HasPrefix(rest, "[") {
		return errors.New("want [ flags ] after RefCnt")
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return errors.New("unterminated [ flags ]")
	}
	rest = rest[end+1:]
	typ, rest := dumps.NextField(rest)
	if typ == "" {
		return errors.New("truncated unix row")
	}
	tok, r := dumps.NextField(rest)
	if !digitsOnly(tok) {
		s.StateRaw, rest = tok, r
		tok, r = dumps.NextField(rest)
	}
	ino, err := strconv.ParseUint(tok, 10, 64)
	if err != nil {
		return fmt.Errorf("bad I-Node %q", tok)
	}
	s.Inode, rest = ino, r
	if tok, r := dumps.NextField(rest); isPidProg(tok) {
		o, err := parsePidProg(tok)
		if err != nil {
			return err
		}
		if o != nil {
			s.Owners = []dumps.Owner{*o}
		}
		rest = r
	}
	s.Local.Host = strings.TrimSpace(rest)
	s.Extra = "type=" + typ
	return nil
}

// bsdUnixTypes are the Type column of the unix section of macOS and FreeBSD
// netstat.
var bsdUnixTypes = map[string]bool{"stream": true, "dgram": true, "seqpac": true, "seqpacket": true}

// parseBSDUnix parses the rest of a macOS/FreeBSD unix-socket row after the
// PCB address and Type: Recv-Q Send-Q Inode Conn Refs Nextref [Addr]. Inode
// is a kernel vnode address there, not an inode number, and is not kept.
func parseBSDUnix(s *dumps.Socket, typ, rest string) error {
	s.Proto, s.ProtoRaw = dumps.ProtoUnix, "unix"
	f := strings.Fields(rest)
	if len(f) < 6 {
		return errors.New("truncated unix row: want Recv-Q Send-Q Inode Conn Refs Nextref")
	}
	q1, err1 := strconv.ParseUint(f[0], 10, 64)
	q2, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("bad Recv-Q/Send-Q %q %q", f[0], f[1])
	}
	s.RecvQ, s.SendQ = ptrU64(q1), ptrU64(q2)
	if len(f) > 6 {
		s.Local.Host = strings.Join(f[6:], " ")
	}
	s.Extra = "type=" + typ
	return nil
}

// applyBSDColumns reads the columns macOS `netstat -v` prints after
// (state), kept in s.Extra by parseNetstatLine, by the names of the header:
// pid (older macOS) or process:pid (macOS 13 and later; the process name
// may hold spaces) become the owner, the others stay in Extra as name=value.
func applyBSDColumns(s *dumps.Socket, cols []string) error {
	f := strings.Fields(s.Extra)
	var extra []string
	j := 0
	for _, c := range cols {
		if j >= len(f) {
			break
		}
		switch c {
		case "pid":
			pid, err := strconv.Atoi(f[j])
			if err != nil {
				return fmt.Errorf("bad pid %q", f[j])
			}
			s.Owners = []dumps.Owner{{PID: dumps.IntPtr(pid)}}
			j++
		case "process:pid":
			end := j
			for end < len(f)-1 && !hasPIDSuffix(f[end]) {
				end++
			}
			v := strings.Join(f[j:end+1], " ")
			i := strings.LastIndexByte(v, ':')
			pid, err := strconv.Atoi(v[i+1:])
			if i < 0 || err != nil {
				return fmt.Errorf("bad process:pid %q", v)
			}
			s.Owners = []dumps.Owner{{PID: dumps.IntPtr(pid), Process: v[:i]}}
			j = end + 1
		default:
			extra = append(extra, c+"="+f[j])
			j++
		}
	}
	extra = append(extra, f[j:]...)
	s.Extra = strings.Join(extra, " ")
	return nil
}

// hasPIDSuffix reports whether s ends in ":<digits>".
func hasPIDSuffix(s string) bool {
	i := strings.LastIndexByte(s, ':')
	return i >= 0 && digitsOnly(s[i+1:])
}
