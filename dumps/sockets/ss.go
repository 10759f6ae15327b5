package sockets

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// ssNetids maps ss's Netid column to a protocol. unix marks the families
// whose addresses are two columns (path, then inode as the port).
var ssNetids = map[string]struct {
	proto dumps.Proto
	unix  bool
}{
	"tcp":   {dumps.ProtoTCP, false},
	"udp":   {dumps.ProtoUDP, false},
	"raw":   {dumps.ProtoRaw, false},
	"u_str": {dumps.ProtoUnix, true},
	"u_dgr": {dumps.ProtoUnix, true},
	"u_seq": {dumps.ProtoUnix, true},
	"nl":    {dumps.ProtoOther, false},
	"p_raw": {dumps.ProtoOther, false},
	"p_dgr": {dumps.ProtoOther, false},
	"mptcp": {dumps.ProtoOther, false},
	"sctp":  {dumps.ProtoOther, false},
	"dccp":  {dumps.ProtoOther, false},
	"tipc":  {dumps.ProtoOther, false},
	"v_str": {dumps.ProtoOther, false},
	"v_dgr": {dumps.ProtoOther, false},
	"xdp":   {dumps.ProtoOther, false},
	"icmp6": {dumps.ProtoRaw, false},
}

// ss -s summary lines.
var (
	ssTotalRe     = regexp.MustCompile(`^Total:\s+(\d+)`)
	ssTCPRe       = regexp.MustCompile(`^TCP:\s+(\d+)\s*\(([^)]*)\)`)
	ssTransportRe = regexp.MustCompile(`^Transport\s+Total\s+IP\s+IPv6`)
	ssTransRowRe  = regexp.MustCompile(`^(RAW|UDP|TCP|INET|FRAG|\*)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)\s*$`)
)

// ReadSS parses ss output: socket listings (`ss -tanp`, `-tulpen`, `-tanoie`,
// the `state X` filter form without a State column, -H without a header) and
// `ss -s` summaries, several snapshots to a file. Only I/O failures are
// errors; bad lines become warnings.
func ReadSS(r io.Reader, name string) (dumps.SocketEvidence, []dumps.Warning, error) {
	var (
		ev      dumps.SocketEvidence
		warns   []dumps.Warning
		snaps   = socketSnaps{name: name}
		hint    ssHint
		inRows  bool // the previous line was a record or its continuation
		inTrans bool
		cut     = -1 // the record whose details were cut, warned once
		noState bool // warned about rows without a State column
	)
	summary := func() *dumps.SocketSummary {
		return &ev.SocketSummaries[len(ev.SocketSummaries)-1]
	}
	newSummary := func(n int) *dumps.SocketSummary {
		snaps.header(n, "")
		i, t := snaps.record(n)
		ev.SocketSummaries = append(ev.SocketSummaries, dumps.SocketSummary{Snapshot: i, SnapshotTime: t, Src: dumps.Pos{File: name, Line: n}})
		return summary()
	}
	err := scanSocketLines(r, name, &warns, func(n int, line string) {
		text := strings.TrimSpace(line)
		wasRows := inRows
		inRows = false
		if text == "" {
			inTrans = false
			return
		}
		if strings.Contains(text, "Local Address:Port") || strings.HasPrefix(text, "Netid ") {
			snaps.header(n, text)
			return
		}
		s, ours, err := parseSSLine(text, hint)
		if ours {
			if err != nil {
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "ss: " + err.Error()})
				return
			}
			s.Src = dumps.Pos{File: name, Line: n}
			s.Snapshot, s.SnapshotTime = snaps.record(n)
			ev.Sockets = append(ev.Sockets, s)
			inRows = true
			if s.StateRaw == "" && !noState {
				noState = true
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: dumps.NoStateNote, Kind: dumps.WarnNoState}) // once, at the first such row
			}
			return
		}
		// Continuation of the record above: -i, -m, -e details on their own
		// indented line.
		if wasRows && (line[0] == ' ' || line[0] == '\t') && len(ev.Sockets) > 0 {
			if !appendExtra(&ev.Sockets[len(ev.Sockets)-1], " ", text) && cut != len(ev.Sockets)-1 {
				cut = len(ev.Sockets) - 1
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "ss: continuation of the record above dropped, and any more: details longer than 4 KiB"})
			}
			inRows = true
			return
		}
		switch {
		case ssTotalRe.MatchString(text):
			m := ssTotalRe.FindStringSubmatch(text)
			v, err := strconv.Atoi(m[1])
			if err != nil {
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "ss -s: bad total " + m[1]})
				return
			}
			newSummary(n).Total = &v
			return
		case ssTCPRe.MatchString(text):
			m := ssTCPRe.FindStringSubmatch(text)
			var sum *dumps.SocketSummary
			if k := len(ev.SocketSummaries); k > 0 && summary().TCP == nil && summary().Snapshot == len(snaps.list)-1 {
				sum = summary()
			} else {
				sum = newSummary(n)
			}
			counts, err := parseSSCounts(m[1], m[2])
			if err != nil {
				warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name, Line: n}, Msg: "ss -s: " + err.Error()})
			}
			sum.TCP = counts
			return
		case ssTransportRe.MatchString(text):
			inTrans = true
			return
		case inTrans && ssTransRowRe.MatchString(text) && len(ev.SocketSummaries) > 0:
			m := ssTransRowRe.FindStringSubmatch(text)
			num := func(s string) int { v, _ := strconv.Atoi(s); return v } // "-" is 0
			summary().Transports = append(summary().Transports, dumps.TransportCount{Transport: m[1], Total: num(m[2]), IP: num(m[3]), IPv6: num(m[4])})
			return
		}
		if m := parseListingMarker(text); m.is {
			snaps.mark(n, text, m.time)
			if h, ok := parseSSCommand(m.cmd); ok {
				hint = h
			}
			return
		}
		ev.SkippedLines++
	})
	ev.SocketSnapshots = snaps.list
	return ev, warns, err
}

// parseSSCounts parses the parenthesised part of ss -s's TCP line:
// "estab 100, closed 20, orphaned 0, timewait 10" (older: "synrecv 0,
// timewait 0/0"), plus the total before it.
func parseSSCounts(total, list string) (map[string]int, error) {
	counts := map[string]int{}
	v, err := strconv.Atoi(total)
	if err != nil {
		return nil, fmt.Errorf("bad TCP total %q", total)
	}
	counts["total"] = v
	for _, kv := range strings.Split(list, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), " ")
		if !ok {
			return counts, fmt.Errorf("bad TCP count %q", strings.TrimSpace(kv))
		}
		val, _, _ = strings.Cut(strings.TrimSpace(val), "/")
		v, err := strconv.Atoi(val)
		if err != nil {
			return counts, fmt.Errorf("bad TCP count %q", strings.TrimSpace(kv))
		}
		counts[k] = v
	}
	return counts, nil
}

// parseSSLine parses one ss record:
//
//	tcp   CLOSE-WAIT 1      0      10.0.0.1:8080   10.0.0.2:51234  users:(("java",pid=123,fd=45))
//	ESTAB 0      0      [::1]:22   [::1]:51234          (no Netid: one protocol listed)
//	0     0      10.0.0.1:8080     10.0.0.2:51234       (state filter: no State column)
//	u_str ESTAB  0      0      /run/x.sock 12345  * 12346
//
// ours is false when the line does not start like an ss record; err is set
// when it does but cannot be read.
func parseSSLine(text string, hint ssHint) (s dumps.Socket, ours bool, err error) {
	s.Tool, s.OS = dumps.KindSS, dumps.OSLinux
	s.Proto, s.State = hint.proto, hint.state
	if s.Proto == dumps.ProtoUnknown {
		s.Proto = dumps.ProtoTCP // ss shows no Netid column when it lists one protocol, -t by default
	}
	tok, rest := dumps.NextField(text)
	unix := false
	if nid, ok := ssNetids[tok]; ok {
		s.Proto, s.ProtoRaw, unix, ours = nid.proto, tok, nid.unix, true
		tok, rest = dumps.NextField(rest)
	}
	if st, ok := stateWord(tok); ok {
		s.State, s.StateRaw, ours = st, tok, true
		tok, rest = dumps.NextField(rest)
	} else if tok == "UNKNOWN" {
		s.State, s.StateRaw, ours = dumps.StateUnknown, tok, true
		tok, rest = dumps.NextField(rest)
	}
	sendq, rest2 := dumps.NextField(rest)
	if !ours {
		// The state-filter form: two queue numbers, then two addresses.
		addr, _ := dumps.NextField(rest2)
		if !digitsOnly(tok) || !digitsOnly(sendq) || !strings.Contains(addr, ":") {
			return s, false, nil
		}
		ours = true
	}
	if s.StateRaw == "" && s.State != dumps.StateUnknown {
		s.StateRaw = strings.ToLower(strings.ReplaceAll(s.State.String(), "_", "-")) // from the state filter
	}
	rq, err1 := strconv.ParseUint(tok, 10, 64)
	sq, err2 := strconv.ParseUint(sendq, 10, 64)
	if err1 != nil || err2 != nil {
		return s, true, fmt.Errorf("bad Recv-Q/Send-Q %q %q", tok, sendq)
	}
	s.RecvQ, s.SendQ = ptrU64(rq), ptrU64(sq)
	rest = rest2
	var local, peer string
	if unix {
		var lport, pport string
		local, rest = dumps.NextField(rest)
		lport, rest = dumps.NextField(rest)
		peer, rest = dumps.NextField(rest)
		pport, rest = dumps.NextField(rest)
		if pport == "" {
			return s, true, errors.New("truncated unix socket record: want path, inode, peer, peer inode")
		}
		s.Local, s.Remote = dumps.Endpoint{Host: local}, dumps.Endpoint{Host: peer}
		if v, err := strconv.ParseUint(lport, 10, 64); err == nil {
			s.Inode = v
		}
		s.Remote.PortName, s.Local.PortName = pport, lport
	} else {
		local, rest = dumps.NextField(rest)
		peer, rest = dumps.NextField(rest)
		if peer == "" {
			return s, true, errors.New("truncated record: want local and peer address")
		}
		if s.Proto == dumps.ProtoOther {
			s.Local, s.Remote = dumps.Endpoint{Host: local}, dumps.Endpoint{Host: peer}
		} else {
			if s.Local, err = parseEndpoint(local); err != nil {
				return s, true, fmt.Errorf("local %w", err)
			}
			if s.Remote, err = parseEndpoint(peer); err != nil {
				return s, true, fmt.Errorf("peer %w", err)
			}
		}
	}
	if err := parseSSExtras(&s, rest); err != nil {
		return s, true, err
	}
	return s, true, nil
}

// parseSSExtras reads what follows the addresses: users:((...)),
// timer:(...), uid:N, ino:N; anything else is kept in Extra as written.
func parseSSExtras(s *dumps.Socket, rest string) error {
	var extra []string
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		if r, ok := strings.CutPrefix(rest, "users:("); ok {
			owners, r, err := parseSSUsers(r)
			if err != nil {
				return err
			}
			s.Owners = append(s.Owners, owners...)
			rest = r
			continue
		}
		if r, ok := strings.CutPrefix(rest, "timer:("); ok {
			end := strings.IndexByte(r, ')')
			if end < 0 {
				return errors.New("unterminated timer:(")
			}
			s.Timer, rest = r[:end], r[end+1:]
			continue
		}
		var tok string
		tok, rest = dumps.NextField(rest)
		switch {
		case strings.HasPrefix(tok, "uid:") && digitsOnly(tok[4:]):
			v, err := strconv.Atoi(tok[4:])
			if err != nil {
				return fmt.Errorf("bad %s", tok)
			}
			s.UID = dumps.IntPtr(v)
		case strings.HasPrefix(tok, "ino:") && digitsOnly(tok[4:]):
			v, err := strconv.ParseUint(tok[4:], 10, 64)
			if err != nil {
				return fmt.Errorf("bad %s", tok)
			}
			s.Inode = v
		default:
			extra = append(extra, tok)
		}
	}
	s.Extra = strings.Join(extra, " ")
	return nil
}

// parseSSUsers parses the inside of users:(...) up to its closing paren:
// ("java",pid=123,fd=45),("x y",pid=,fd=4) or the old form ("sshd",1215,3).
// Process names may hold spaces, commas and quotes, so a name ends only at
// a quote followed by ",pid=", ",fd=", ",<digit>" or ")".
func parseSSUsers(s string) ([]dumps.Owner, string, error) {
	var owners []dumps.Owner
	for {
		s = strings.TrimLeft(s, ", ")
		if s == "" {
			return owners, s, errors.New("unterminated users:(")
		}
		if s[0] == ')' {
			return owners, s[1:], nil
		}
		if !strings.HasPrefix(s, `("`) {
			return owners, s, fmt.Errorf("bad users entry at %q", clipMsg(s))
		}
		s = s[2:]
		end := -1
		for j := 0; j < len(s); j++ {
			if s[j] != '"' {
				continue
			}
			r := s[j+1:]
			if strings.HasPrefix(r, ",pid=") || strings.HasPrefix(r, ",fd=") || strings.HasPrefix(r, ")") ||
				len(r) > 1 && r[0] == ',' && r[1] >= '0' && r[1] <= '9' {
				end = j
				break
			}
		}
		if end < 0 {
			return owners, s, fmt.Errorf("unterminated process name at %q", clipMsg(s))
		}
		o := dumps.Owner{Process: s[:end]}
		s = s[end+1:]
		rp := strings.IndexByte(s, ')')
		if rp < 0 {
			return owners, s, errors.New("unterminated users entry")
		}
		pos := 0
		for _, f := range strings.Split(s[:rp], ",") {
			if f == "" {
				continue
			}
			k, v, kv := strings.Cut(f, "=")
			if !kv { // old form: ("sshd",1215,3)
				k, v = [...]string{"pid", "fd", ""}[min(pos, 2)], f
				pos++
			}
			if v == "" {
				continue // pid= with no value
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				if k == "pid" || k == "fd" {
					return owners, s, fmt.Errorf("bad %s=%q in users", k, v)
				}
				continue
			}
			switch k {
			case "pid":
				o.PID = dumps.IntPtr(n)
			case "fd":
				o.FD = dumps.IntPtr(n)
			}
		}
		owners = append(owners, o)
		s = s[rp+1:]
	}
}

// clipMsg shortens s for a message.
func clipMsg(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
