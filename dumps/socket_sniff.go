package dumps

import (
	"bytes"
	"io"
	"regexp"
	"strings"
)

// SocketFormats lists the socket formats in the order a Chain tries them. Each
// matcher asks sniffSocket, which looks at the whole head once: a table
// header decides (the first one in the file wins), else the kind whose row
// shape the most lines have.
func SocketFormats() []Format {
	kinds := []struct {
		kind Kind
		read func(io.Reader, string) (SocketEvidence, []Warning, error)
	}{
		{KindSS, ReadSS},
		{KindSSSummary, ReadSS},
		{KindLsof, ReadLsof},
		{KindLsofFields, ReadLsofFields},
		{KindNetstat, ReadNetstat},
		{KindProcNetTCP, ReadProcNetTCP},
		{KindProcFD, ReadProcFD},
		{KindProcLimits, ReadProcLimits},
		{KindUlimit, ReadUlimit},
	}
	// A Chain is built for each file, so the head is looked at once for
	// all socket kinds: the first matcher computes, the others reuse.
	var (
		seen []byte
		kind Kind
	)
	sniffed := func(head []byte) Kind {
		if seen == nil || len(seen) != len(head) || len(head) > 0 && &seen[0] != &head[0] {
			seen, kind = head, sniffSocket(head)
			if seen == nil {
				seen = []byte{}
			}
		}
		return kind
	}
	fs := make([]Format, 0, len(kinds))
	for _, k := range kinds {
		fs = append(fs, Format{
			Kind:  k.kind,
			Match: func(head []byte) bool { return sniffed(head) == k.kind },
			Read:  readSockets(k.kind, k.read),
		})
	}
	return fs
}

// readSockets adapts a socket parser to the format table. A file in which
// nothing was found gets a warning, so an empty result is never silent.
func readSockets(kind Kind, fn func(io.Reader, string) (SocketEvidence, []Warning, error)) func(*Evidence, io.Reader) error {
	return func(ev *Evidence, r io.Reader) error {
		se, warns, err := fn(r, ev.File)
		ev.SocketEvidence = se
		ev.Warnings = append(ev.Warnings, warns...)
		if err == nil && len(se.Sockets)+len(se.SocketSummaries)+len(se.FDs)+len(se.Limits) == 0 {
			ev.Warnings = append(ev.Warnings, Warning{Pos{File: ev.File}, "no records found in " + kind.String() + " output"})
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
func sniffSocket(head []byte) Kind {
	first := map[Kind]int{}
	score := map[Kind]int{}
	var pLines, fLines, nonEmpty, ulimitCmd, numbers int
	for i, raw := range bytes.Split(head, []byte("\n")) {
		line := strings.TrimRight(string(raw), "\r")
		text := strings.TrimSpace(line)
		if text == "" {
			continue
		}
		nonEmpty++
		strong := KindUnknown
		switch {
		case strings.Contains(text, "Local Address:Port"):
			strong = KindSS
		case ssTransportRe.MatchString(text), ssTCPRe.MatchString(text) && strings.Contains(text, "estab"):
			strong = KindSSSummary
		case lsofHeaderRe.MatchString(text):
			strong = KindLsof
		case netstatHeaderRe.MatchString(text):
			strong = KindNetstat
		case procHeaderRe.MatchString(text):
			strong = KindProcNetTCP
		case fdSectionRe.MatchString(text):
			strong = KindProcFD
		case limitsHeaderRe.MatchString(text):
			strong = KindProcLimits
		}
		if strong != KindUnknown {
			if _, ok := first[strong]; !ok {
				first[strong] = i
			}
			continue
		}
		switch {
		case procRowRe.MatchString(text):
			score[KindProcNetTCP]++
		case text[0] == 'l' && fdLineRe.MatchString(text):
			score[KindProcFD]++
		case maxOpenFilesRe.MatchString(text):
			score[KindProcLimits]++
		case ulimitARe.MatchString(text):
			score[KindUlimit] += 2
		case digitsOnly(text) || text == "unlimited":
			numbers++
		case ssTotalRe.MatchString(text) || ssTCPRe.MatchString(text):
			score[KindSSSummary]++
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
		if s, ours, err := parseLsofLine(text); ours && err == nil && s.Proto != ProtoUnknown {
			score[KindLsof]++
			continue
		}
		if _, ours, err := parseNetstatLine(text); ours && err == nil && !strings.Contains(text, "users:((") {
			score[KindNetstat]++
			continue
		}
		if _, ours, err := parseSSLine(text, ssHint{}); ours && err == nil {
			score[KindSS]++
		}
	}
	if len(first) > 0 {
		best, at := KindUnknown, -1
		for _, k := range []Kind{KindSS, KindSSSummary, KindLsof, KindNetstat, KindProcNetTCP, KindProcFD, KindProcLimits} {
			if i, ok := first[k]; ok && (at < 0 || i < at) {
				best, at = k, i
			}
		}
		if _, ok := first[KindSS]; best == KindSSSummary && (ok || score[KindSS] > 0) {
			best = KindSS // listings and summaries together: ReadSS reads both
		}
		if _, ok := first[KindProcNetTCP]; best == KindProcFD && (ok || score[KindProcNetTCP] > 0) {
			best = KindProcNetTCP
		}
		return best
	}
	if pLines > 0 && fLines > 0 {
		return KindLsofFields
	}
	if numbers > 0 && (ulimitCmd > 0 || nonEmpty == 1) {
		score[KindUlimit] += numbers
	}
	best, max := KindUnknown, 0
	for _, k := range []Kind{KindProcNetTCP, KindProcFD, KindProcLimits, KindLsof, KindNetstat, KindSS, KindSSSummary, KindUlimit} {
		if score[k] > max {
			best, max = k, score[k]
		}
	}
	return best
}
