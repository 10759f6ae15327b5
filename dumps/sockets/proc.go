package sockets

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

var (
	procHeaderRe = regexp.MustCompile(`^sl\s+local_address\s+rem(?:ote)?_address\s+st\b`)
	procRowRe    = regexp.MustCompile(`^\d+:\s+[0-9A-Fa-f]{8}(?:[0-9A-Fa-f]{24})?:[0-9A-Fa-f]{4}\s`)
	fdSectionRe  = regexp.MustCompile(`^/proc/(\d+)/fd/?:$`)
	fdLineRe     = regexp.MustCompile(`^l[rwxsStT-]{9}\S*\s+\d+\s+\S+.*\s(\d+)\s+->\s+(.+)$`)
	socketLinkRe = regexp.MustCompile(`^socket:\[(\d+)\]$`)
)

// procTimers names the tr column of /proc/net/tcp as netstat -o does.
var procTimers = [...]string{"off", "on", "keepalive", "timewait", "probe"}

// ReadProcNetTCP parses /proc/net/tcp, tcp6, udp and udp6 (several tables
// to a file, as `cat /proc/net/tcp /proc/net/tcp6` writes them): hex
// addresses as a little-endian machine writes them, hex states, queues,
// timers, uid and inode. `ls -l /proc/PID/fd` listings in the same file are
// read too, and joined to the sockets by inode. Only I/O failures are
// errors; bad rows become warnings.
func ReadProcNetTCP(r io.Reader, name string) (dumps.SocketEvidence, []dumps.Warning, error) {
	ev, warns, err := readProc(r, name)
	dumps.JoinFDs(ev.Sockets, ev.FDs)
	return ev, warns, err
}

// ReadProcFD parses `ls -l /proc/PID/fd` (also `ls -l /proc/*/fd`, whose
// "/proc/PID/fd:" lines say whose fds follow, and a prompt naming
// /proc/PID/fd): one FD per symlink, with the inode of sockets. /proc/net/tcp
// rows in the same file are read too.
func ReadProcFD(r io.Reader, name string) (dumps.SocketEvidence, []dumps.Warning, error) {
	return ReadProcNetTCP(r, name)
}

func readProc(r io.Reader, name string) (dumps.SocketEvidence, []dumps.Warning, error) {
	var (
		ev    dumps.SocketEvidence
		warns []dumps.Warning
		snaps = socketSnaps{name: name}
		udp   bool
		pid   *int
	)
	err := scanSocketLines(r, name, &warns, func(n int, line string) {
		text := strings.TrimSpace(line)
		switch {
		case text == "" || strings.HasPrefix(text, "total "):
			return
		case procHeaderRe.MatchString(text):
			udp = strings.Contains(text, "drops")
			return
		case procRowRe.MatchString(text):
			s, err := parseProcNetLine(text, udp)
			if err != nil {
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "/proc/net: " + err.Error()})
				return
			}
			s.Src = dumps.Pos{File: name, Line: n}
			s.Snapshot, s.SnapshotTime = snaps.record(n)
			ev.Sockets = append(ev.Sockets, s)
			return
		case fdSectionRe.MatchString(text):
			v, err := strconv.Atoi(fdSectionRe.FindStringSubmatch(text)[1])
			if err == nil {
				pid = dumps.IntPtr(v)
			}
			return
		case text[0] == 'l' && strings.Contains(text, " -> "):
			m := fdLineRe.FindStringSubmatch(text)
			if m == nil {
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "ls -l: not a symlink line of a fd listing"})
				return
			}
			fd, err := strconv.Atoi(m[1])
			if err != nil {
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: fmt.Sprintf("ls -l: bad fd %q", m[1])})
				return
			}
			f := dumps.FD{PID: pid, FD: fd, Target: m[2], Src: dumps.Pos{File: name, Line: n}}
			if sm := socketLinkRe.FindStringSubmatch(m[2]); sm != nil {
				f.Inode, _ = strconv.ParseUint(sm[1], 10, 64)
			}
			f.Snapshot, _ = snaps.record(n)
			ev.FDs = append(ev.FDs, f)
			return
		case text[0] == 'd' && (strings.HasSuffix(text, " .") || strings.HasSuffix(text, " ..")):
			return // ls -la's . and ..
		}
		if m := parseListingMarker(text); m.is {
			snaps.mark(n, text, m.time)
			if pm := procPIDRe.FindStringSubmatch(m.cmd); pm != nil {
				if v, err := strconv.Atoi(pm[1]); err == nil {
					pid = dumps.IntPtr(v)
				}
			} else if strings.Contains(m.cmd, "/proc/") {
				pid = nil // /proc/self, /proc/*
			}
			return
		}
		ev.SkippedLines++
	})
	ev.SocketSnapshots = snaps.list
	return ev, warns, err
}

// parseProcNetLine parses one row of /proc/net/tcp (or tcp6, udp, udp6):
//
//	3: 802AA8C0:D450 2104C798:01BB 08 00000000:00000052 02:00000A6F 00000000  1000        0 149098 2 ...
//
// sl, local and remote address:port in hex, st, tx_queue:rx_queue,
// tr:tm->when, retrnsmt, uid, timeout, inode, then details not kept.
func parseProcNetLine(text string, udp bool) (dumps.Socket, error) {
	s := dumps.Socket{Tool: dumps.KindProcNetTCP, OS: dumps.OSLinux, Proto: dumps.ProtoTCP, ProtoRaw: "tcp"}
	if udp {
		s.Proto, s.ProtoRaw = dumps.ProtoUDP, "udp"
	}
	f := strings.Fields(text)
	if len(f) < 10 {
		return s, fmt.Errorf("truncated row: %d columns, want at least 10", len(f))
	}
	var err error
	if s.Local, err = procEndpoint(f[1]); err != nil {
		return s, fmt.Errorf("local_address %w", err)
	}
	if s.Remote, err = procEndpoint(f[2]); err != nil {
		return s, fmt.Errorf("rem_address %w", err)
	}
	if s.Local.Addr.Is6() {
		s.ProtoRaw += "6"
	}
	st, ok := dumps.ParseState(f[3])
	if !ok || len(f[3]) != 2 {
		return s, fmt.Errorf("bad st %q", f[3])
	}
	s.State, s.StateRaw = st, f[3]
	tx, rx, ok := strings.Cut(f[4], ":")
	txv, err1 := strconv.ParseUint(tx, 16, 64)
	rxv, err2 := strconv.ParseUint(rx, 16, 64)
	if !ok || err1 != nil || err2 != nil {
		return s, fmt.Errorf("bad tx_queue:rx_queue %q", f[4])
	}
	s.SendQ, s.RecvQ = ptrU64(txv), ptrU64(rxv)
	tr, when, ok := strings.Cut(f[5], ":")
	trv, err1 := strconv.ParseUint(tr, 16, 8)
	whenv, err2 := strconv.ParseUint(when, 16, 64)
	retr, err3 := strconv.ParseUint(f[6], 16, 64)
	if !ok || err1 != nil || err2 != nil || err3 != nil {
		return s, fmt.Errorf("bad tr:tm->when %q or retrnsmt %q", f[5], f[6])
	}
	if trv > 0 {
		tname := "unkn"
		if int(trv) < len(procTimers) {
			tname = procTimers[trv]
		}
		s.Timer = fmt.Sprintf("%s (%d.%02ds/%d)", tname, whenv/100, whenv%100, retr)
	}
	uid, err := strconv.Atoi(f[7])
	if err != nil {
		return s, fmt.Errorf("bad uid %q", f[7])
	}
	s.UID = dumps.IntPtr(uid)
	if s.Inode, err = strconv.ParseUint(f[9], 10, 64); err != nil {
		return s, fmt.Errorf("bad inode %q", f[9])
	}
	return s, nil
}

// procEndpoint decodes "0100007F:0050" (IPv4) or 32 hex digits and a port
// (IPv6): each 32-bit word of the address is in the host's byte order, taken
// to be little-endian (x86, arm64); the port is big-endian hex.
func procEndpoint(s string) (dumps.Endpoint, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok || len(p) != 4 || (len(h) != 8 && len(h) != 32) {
		return dumps.Endpoint{}, fmt.Errorf("bad address %q: want hex addr:port", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return dumps.Endpoint{}, fmt.Errorf("bad address %q: %w", s, err)
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return dumps.Endpoint{}, fmt.Errorf("bad port %q", p)
	}
	var a netip.Addr
	if len(b) == 4 {
		a = netip.AddrFrom4([4]byte(b))
	} else {
		a = netip.AddrFrom16([16]byte(b))
	}
	return dumps.Endpoint{Addr: a, Port: uint16(port)}, nil
}

var (
	limitsHeaderRe = regexp.MustCompile(`^Limit\s+Soft Limit\s+Hard Limit\s+Units`)
	limitColsRe    = regexp.MustCompile(`\s{2,}`)
)

// ReadProcLimits parses /proc/PID/limits (the pid comes from a prompt or
// header naming /proc/PID/limits, when there is one). Only I/O failures are
// errors; bad rows become warnings.
func ReadProcLimits(r io.Reader, name string) (dumps.SocketEvidence, []dumps.Warning, error) {
	var (
		ev    dumps.SocketEvidence
		warns []dumps.Warning
		snaps = socketSnaps{name: name}
		pid   *int
	)
	err := scanSocketLines(r, name, &warns, func(n int, line string) {
		text := strings.TrimSpace(line)
		switch {
		case text == "":
			return
		case limitsHeaderRe.MatchString(text):
			snaps.header(n, text)
			return
		case strings.HasPrefix(text, "Max "):
			l, err := parseLimitLine(text)
			if err != nil {
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "limits: " + err.Error()})
				return
			}
			l.PID, l.Src = pid, dumps.Pos{File: name, Line: n}
			l.Snapshot, _ = snaps.record(n)
			ev.Limits = append(ev.Limits, l)
			return
		}
		if m := parseListingMarker(text); m.is {
			snaps.mark(n, text, m.time)
			pid = nil
			if pm := procPIDRe.FindStringSubmatch(m.cmd); pm != nil {
				if v, err := strconv.Atoi(pm[1]); err == nil {
					pid = dumps.IntPtr(v)
				}
			}
			return
		}
		if pm := procPIDRe.FindStringSubmatch(text); pm != nil && strings.Contains(text, "limits") {
			if v, err := strconv.Atoi(pm[1]); err == nil {
				pid = dumps.IntPtr(v) // "==> /proc/123/limits <==" from head/tail
			}
			snaps.mark(n, text, time.Time{})
			return
		}
		ev.SkippedLines++
	})
	ev.SocketSnapshots = snaps.list
	return ev, warns, err
}

// parseLimitLine parses "Max open files            1024                 1048576              files".
// Columns are separated by two or more spaces; names have single ones.
func parseLimitLine(text string) (dumps.Limit, error) {
	f := limitColsRe.Split(text, -1)
	if len(f) < 3 {
		return dumps.Limit{}, errors.New("want Limit, Soft Limit, Hard Limit [Units]")
	}
	l := dumps.Limit{Name: f[0]}
	var err error
	if l.Soft, l.SoftUnlimited, err = limitValue(f[1]); err != nil {
		return l, err
	}
	if l.Hard, l.HardUnlimited, err = limitValue(f[2]); err != nil {
		return l, err
	}
	if len(f) > 3 {
		l.Units = f[3]
	}
	return l, nil
}

func limitValue(s string) (v *uint64, unlimited bool, err error) {
	if s == "unlimited" {
		return nil, true, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, false, fmt.Errorf("bad limit %q", s)
	}
	return &n, false, nil
}

var (
	ulimitCmdRe = regexp.MustCompile(`\bulimit\s+(-[a-zA-Z]+)`)
	ulimitARe   = regexp.MustCompile(`^(?:open files\s+\(-n\)|-n:\s+file descriptors|nofiles(?:\(descriptors\))?)\s+(\S+)$`)
	nofileName  = "Max open files"
)

// ReadUlimit parses `ulimit -n` (a number or "unlimited"; soft unless the
// prompt shows -H) and the open files line of `ulimit -a` (bash "open files
// (-n)", dash "nofiles", zsh "-n: file descriptors"),
// as Limits named "Max open files". Only I/O failures are errors.
func ReadUlimit(r io.Reader, name string) (dumps.SocketEvidence, []dumps.Warning, error) {
	var (
		ev    dumps.SocketEvidence
		warns []dumps.Warning
		snaps = socketSnaps{name: name}
		hard  bool
	)
	add := func(n int, v string) {
		val, unl, err := limitValue(v)
		if err != nil {
			warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "ulimit: " + err.Error()})
			return
		}
		l := dumps.Limit{Name: nofileName, Units: "files", Src: dumps.Pos{File: name, Line: n}}
		if hard {
			l.Hard, l.HardUnlimited = val, unl
		} else {
			l.Soft, l.SoftUnlimited = val, unl
		}
		l.Snapshot, _ = snaps.record(n)
		ev.Limits = append(ev.Limits, l)
	}
	err := scanSocketLines(r, name, &warns, func(n int, line string) {
		text := strings.TrimSpace(line)
		switch {
		case text == "":
			return
		case digitsOnly(text) || text == "unlimited":
			add(n, text)
			return
		case ulimitARe.MatchString(text):
			hard = false
			add(n, ulimitARe.FindStringSubmatch(text)[1])
			return
		}
		if m := parseListingMarker(text); m.is {
			snaps.mark(n, text, m.time)
			if um := ulimitCmdRe.FindStringSubmatch(m.cmd); um != nil {
				hard = strings.Contains(um[1], "H")
			}
			return
		}
		ev.SkippedLines++
	})
	ev.SocketSnapshots = snaps.list
	return ev, warns, err
}
