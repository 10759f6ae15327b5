package report

import (
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"time"
)

// FormatDuration writes a duration the way the report shows it everywhere:
// truncated to two units, "850ms", "45s", "14m32s", "2h03m", "3d04h".
func FormatDuration(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	switch {
	case d == 0:
		return "0s"
	case d < time.Second:
		return neg + strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return neg + strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%s%dm%02ds", neg, d/time.Minute, d%time.Minute/time.Second)
	case d < 24*time.Hour:
		return fmt.Sprintf("%s%dh%02dm", neg, d/time.Hour, d%time.Hour/time.Minute)
	}
	day := 24 * time.Hour
	return fmt.Sprintf("%s%dd%02dh", neg, d/day, d%day/time.Hour)
}

// FormatTime writes an instant of capture time in UTC to the second.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// FormatGrowth writes a growth rate in sockets per minute: "+9.1/min".
func FormatGrowth(perMinute float64) string {
	s := strconv.FormatFloat(perMinute, 'f', 1, 64)
	if s == "-0.0" || s == "0.0" {
		return "0/min"
	}
	if perMinute > 0 {
		s = "+" + s
	}
	return s + "/min"
}

// FormatCount writes a count with thousands separators: "12,345".
func FormatCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ConfidenceLabel names a confidence: high from 0.75, medium from 0.4, low
// below.
func ConfidenceLabel(c float64) string {
	switch {
	case c >= 0.75:
		return "high"
	case c >= 0.4:
		return "medium"
	}
	return "low"
}

// anchor turns an evidence position (untrusted text) into an HTML id made
// only of safe characters, the same for every occurrence of the position
// (and after a JSON round trip, which turns invalid UTF-8 into U+FFFD).
func anchor(pos string) string {
	h := fnv.New64a()
	h.Write([]byte(strings.ToValidUTF8(pos, "\uFFFD")))
	return fmt.Sprintf("ev-%016x", h.Sum64())
}

// count is a number of things in a report's sentence (sockets,
// connections, threads, closes), which fmt's %d writes as FormatCount
// does, "50,000", so that a large incident's sentences read as its cards
// and tables show the counts. Ports, pids, fds, statuses and packet
// numbers are names and stay plain ints.
type count int

// Format writes c with thousands separators for %d and %v, and as an int
// for any other verb.
func (c count) Format(f fmt.State, verb rune) {
	if verb != 'd' && verb != 'v' {
		fmt.Fprintf(f, fmt.FormatString(f, verb), int(c))
		return
	}
	io.WriteString(f, FormatCount(int(c)))
}
