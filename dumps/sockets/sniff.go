// Package sockets reads socket listings: ss (and ss -s), lsof (and lsof
// -F), netstat of Linux, the BSDs, macOS and Windows, /proc/net/tcp,
// /proc/PID/fd, /proc/PID/limits and ulimit -a, into the record types of
// package dumps (Socket, FD, Limit).
package sockets

import (
	"bytes"
	"io"
	"regexp"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// Formats lists the socket formats in the order a dumps.Chain tries them. Each
// matcher asks sniffSocket, which looks at the whole head once: a table
// header decides (the first one in the file wins), else the kind whose row
// shape the most lines have.
func Formats() []dumps.Format {
	kinds := []struct {
		kind dumps.Kind
		read func(io.Reader, string) (dumps.SocketEvidence, []dumps.Warning, error)
	}{
		{dumps.KindSS, ReadSS},
		{dumps.KindSSSummary, ReadSS},
		{dumps.KindLsof, ReadLsof},
		{dumps.KindLsofFields, ReadLsofFields},
		{dumps.KindNetstat, ReadNetstat},
		{dumps.KindProcNetTCP, ReadProcNetTCP},
		{dumps.KindProcFD, ReadProcFD},
		{dumps.KindProcLimits, ReadProcLimits},
		{dumps.KindUlimit, ReadUlimit},
		{dumps.KindPS, ReadPS},
		{dumps.KindProcStat, ReadPS},
		{dumps.KindProcCmdline, ReadPS},
	}
	// A Chain is built for each file, so the head is looked at once for
	// all socket kinds: the first matcher computes, the others reuse.
	var (
		seen []byte
		kind dumps.Kind
	)
	sniffed := func(head []byte) dumps.Kind {
		if seen == nil || len(seen) != len(head) || len(head) > 0 && &seen[0] != &head[0] {
			seen, kind = head, sniffSocket(head)
			if seen == nil {
				seen = []byte{}
			}
		}
		return kind
	}
	fs := make([]dumps.Format, 0, len(kinds))
	for _, k := range kinds {
		fs = append(fs, dumps.Format{
			Kind:  k.kind,
			Match: func(head []byte) bool { return sniffed(head) == k.kind },
			Read:  readSockets(k.kind, k.read),
		})
	}
	return fs
}

// readSockets adapts a socket parser to the format table. A file in which
// nothing was found gets a warning, so an empty result is never silent.
func readSockets(kind dumps.Kind, fn func(io.Reader, string) (dumps.SocketEvidence, []dumps.Warning, error)) func(*dumps.Evidence, io.Reader) error {
	return func(ev *dumps.Evidence, r io.Reader) error {
		se, warns, err := fn(r, ev.File)
		ev.SocketEvidence = se
		ev.Warnings = append(ev.Warnings, warns...)
		if err == nil && len(se.Sockets)+len(se.SocketSummaries)+len(se.FDs)+len(se.Limits)+len(se.Procs)+len(se.BootTimes) == 0 {
			ev.Warnings = append(ev.Warnings, dumps.Warning{Pos: dumps.Pos{File: ev.File}, Msg: "no records found in " + kind.String() + " output"})
		}
		return err
	}
}

var (
	netstatHeaderRe = regexp.MustCompile(`^(?:Active Internet connections|Active Connections$|Active UNIX domain sockets|Proto\s+Recv-Q\s+Send-Q|Proto\s+Local Address|(?:Tcpcb\s+)?Proto\s+Rexmit\s+OOORcv)`)
	lsofHeaderRe    = regexp.MustCompile(`^COMMAND\s+PID\s.*\bFD\s+TYPE\s.*\bNAME$`)
	maxOpenFilesRe  = regexp.MustCompile(`^Max open files\s{2,}`)
)

// sniffSocket returns the socket format of head, or KindUnknown.
func sniffSocket(head []byte) dumps.Kind {
	first := map[dumps.Kind]int{}
	score := map[dumps.Kind]int{}
	var pLines, fLines, nonEmpty, ulimitCmd, numbers int
	for i, raw := range bytes.Split(head, []byte("\n")) {
		line := strings.TrimRight(string(raw), "\r")
		text := strings.TrimSpace(line)
		if text == "" {
			continue
		}
		nonEmpty++
		strong := dumps.KindUnknown
		switch {
		case strings.Contains(text, "Local Address:Port"):
			strong = dumps.KindSS
		case ssTransportRe.MatchString(text), ssTCPRe.MatchString(text) && strings.Contains(text, "estab"):
			strong = dumps.KindSSSummary
		case lsofHeaderRe.MatchString(text):
			strong = dumps.KindLsof
		case netstatHeaderRe.MatchString(text):
			strong = dumps.KindNetstat
		case procHeaderRe.MatchString(text):
			strong = dumps.KindProcNetTCP
		case fdSectionRe.MatchString(text):
			strong = dumps.KindProcFD
		case limitsHeaderRe.MatchString(text):
			strong = dumps.KindProcLimits
		case strings.Contains(text, "PID") && psHeaderRe.MatchString(text):
			strong = dumps.KindPS
		case strings.Contains(text, "/cmdline") && cmdlineMarker(text):
			strong = dumps.KindProcCmdline
		}
		if strong != dumps.KindUnknown {
			if _, ok := first[strong]; !ok {
				first[strong] = i
			}
			continue
		}
		switch {
		case strings.Contains(text, ") ") && procStatRe.MatchString(text) || strings.HasPrefix(text, "btime ") && btimeRe.MatchString(text):
			score[dumps.KindProcStat] += 2
			continue
		case procRowRe.MatchString(text):
			score[dumps.KindProcNetTCP]++
		case text[0] == 'l' && fdLineRe.MatchString(text):
			score[dumps.KindProcFD]++
		case maxOpenFilesRe.MatchString(text):
			score[dumps.KindProcLimits]++
		case ulimitARe.MatchString(text):
			score[dumps.KindUlimit] += 2
		case digitsOnly(text) || text == "unlimited":
			numbers++
		case ssTotalRe.MatchString(text) || ssTCPRe.MatchString(text):
			score[dumps.KindSSSummary]++
		}
		if isLsofFieldLine(line) {
			switch line[0] {
			case 'p':
				pLines++
			case 'f':
				if fd, _, _ := strings.Cut(line[1:], "\x00"); isLsofFD(fd) {
					fLines++
				}
			}
		}
		if ulimitCmdRe.MatchString(text) {
			ulimitCmd++
		}
		if s, ours, err := parseLsofLine(text); ours && err == nil && s.Proto != dumps.ProtoUnknown {
			score[dumps.KindLsof]++
			continue
		}
		if _, ours, err := parseNetstatLine(text); ours && err == nil && !strings.Contains(text, "users:((") {
			score[dumps.KindNetstat]++
			continue
		}
		if _, ours, err := parseSSLine(text, ssHint{}); ours && err == nil {
			score[dumps.KindSS]++
		}
	}
	if len(first) > 0 {
		best, at := dumps.KindUnknown, -1
		for _, k := range []dumps.Kind{dumps.KindSS, dumps.KindSSSummary, dumps.KindLsof, dumps.KindNetstat, dumps.KindProcNetTCP, dumps.KindProcFD, dumps.KindProcLimits, dumps.KindPS, dumps.KindProcCmdline} {
			if i, ok := first[k]; ok && (at < 0 || i < at) {
				best, at = k, i
			}
		}
		if _, ok := first[dumps.KindSS]; best == dumps.KindSSSummary && (ok || score[dumps.KindSS] > 0) {
			best = dumps.KindSS // listings and summaries together: ReadSS reads both
		}
		if _, ok := first[dumps.KindProcNetTCP]; best == dumps.KindProcFD && (ok || score[dumps.KindProcNetTCP] > 0) {
			best = dumps.KindProcNetTCP
		}
		return best
	}
	if pLines > 0 && fLines > 0 {
		return dumps.KindLsofFields
	}
	if numbers > 0 && (ulimitCmd > 0 || nonEmpty == 1) {
		score[dumps.KindUlimit] += numbers
	}
	best, max := dumps.KindUnknown, 0
	for _, k := range []dumps.Kind{dumps.KindProcNetTCP, dumps.KindProcFD, dumps.KindProcLimits, dumps.KindLsof, dumps.KindNetstat, dumps.KindSS, dumps.KindSSSummary, dumps.KindUlimit, dumps.KindProcStat} {
		if score[k] > max {
			best, max = k, score[k]
		}
	}
	if best == dumps.KindUnknown && bareCmdline(head) {
		return dumps.KindProcCmdline
	}
	return best
}

// cmdlineMarker reports whether a line announces a /proc/PID/cmdline: the
// header of head or tail, or a prompt or command line that prints it.
func cmdlineMarker(text string) bool {
	if m := headTailRe.FindStringSubmatch(text); m != nil {
		mode, _ := cmdlineTarget(m[1])
		return mode == psCmdline
	}
	if m := parseListingMarker(text); m.is {
		mode, _ := cmdlineTarget(m.cmd)
		return mode == psCmdline
	}
	return false
}

// bareCmdline reports whether head is a /proc/PID/cmdline saved without a
// header: one line of printable words, either NUL-terminated as cat saves
// it, or ending in the space that tr '\0' ' ' makes of the last NUL.
func bareCmdline(head []byte) bool {
	line, rest, _ := bytes.Cut(head, []byte("\n"))
	if len(bytes.TrimSpace(rest)) > 0 || len(bytes.TrimSpace(line)) == 0 {
		return false
	}
	nul := line[len(line)-1] == 0
	if !nul && line[len(line)-1] != ' ' {
		return false
	}
	for _, c := range line {
		if c != 0 && (c < ' ' || c == 0x7f) {
			return false
		}
	}
	return true
}
