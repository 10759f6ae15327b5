package report

import (
	"fmt"
	"time"
)

// Thresholds are the limits practitioners use for CLOSE_WAIT: a count above
// 100 is a warning and above half the process's fd limit critical; a socket
// stuck for more than 5 minutes is a warning and more than 30 critical; and a
// count that keeps growing deserves attention before it reaches either.
type Thresholds struct {
	CountWarning    int           // more stuck sockets than this is a warning
	FDShareCritical float64       // more than this share of the fd limit is critical
	AgeWarning      time.Duration // an oldest socket older than this is a warning
	AgeCritical     time.Duration // an oldest socket older than this is critical
	GrowthWarning   float64       // sockets per minute: growth at or above this is a warning
	GrowthMinSpan   time.Duration // growth measured over less time than this is ignored
	ExhaustCritical time.Duration // growth that crosses FDShareCritical within this is critical
	// ConfirmedMinAge is how long a socket the kernel still lists must have
	// been in CLOSE_WAIT for its process's leak to count as confirmed,
	// which is at least a warning: a close in progress takes milliseconds.
	ConfirmedMinAge time.Duration
	// FDExhausted is the share of the fd limit at which a process's open
	// fds (from fd listings) are exhausted: critical.
	FDExhausted float64
	// FDLogShare: when a log says descriptors ran out, stuck sockets
	// holding at least this share of the fd limit make it critical (they
	// are a material part of what ran out).
	FDLogShare float64
}

// DefaultThresholds are the practitioners' numbers (see docs/report.md).
func DefaultThresholds() Thresholds {
	return Thresholds{
		CountWarning:    100,
		FDShareCritical: 0.5,
		AgeWarning:      5 * time.Minute,
		AgeCritical:     30 * time.Minute,
		GrowthWarning:   1,
		GrowthMinSpan:   time.Minute,
		ExhaustCritical: time.Hour,
		ConfirmedMinAge: 5 * time.Second,
		FDExhausted:     0.95,
		FDLogShare:      0.1,
	}
}

// confidences are how sure each classification is, by the evidence behind
// it; docs/analyze.md prints this table. A group split from a flow by
// counts (fewer holders than sockets) is capped at Split.
var confidences = struct {
	PoolLoops          float64 // a pool's per-connection goroutines hold the sockets (persistConn readLoop)
	PoolBorrowersAll   float64 // outbound, threads wait to borrow from the pool, at least as many as the sockets
	PoolBorrowers      float64 // outbound, threads wait to borrow from the pool
	PoolFrames         float64 // outbound, the dump shows pool frames but nobody waiting
	PoolNoDump         float64 // outbound to one peer, no dump
	BlockedMatched     float64 // holders blocked in application code, as many as the sockets (to +50%)
	BlockedFew         float64 // holders blocked in application code, at least 80% as many
	Split              float64 // a flow shared between holders and the rest by count
	SplitByExchange    float64 // the same, when exactly the held sockets had an unfinished exchange in the capture
	WeakDump           float64 // the dump behind it is tied to the process weakly (score below 0.45)
	Young              float64 // every socket entered CLOSE_WAIT within transientMin of the capture's end, no listing after it
	MissingCloseDump   float64 // a dump shows nobody holding the sockets
	ErrorPath          float64 // answered then left open, while the port's other connections are closed after their answer
	LastError          float64 // the last response before the peer's FIN was an error status, and the capture shows the success path closing
	LastErrorAlone     float64 // the same, without connections closed after a success to compare with
	LastUnanswered     float64 // outbound, our request unanswered before the peer's FIN, no thread on the socket
	MissingCloseNoDump float64 // no dump
	RemotePeer         float64 // our FIN_WAIT2 toward a peer in CLOSE_WAIT
	ErrorHandling      float64 // the process resets at least 10% of its connections
	Transient          float64 // CLOSE_WAIT closed later, or gone from a later listing
	Exhaustion         float64 // open fds at the limit, from an fd listing tied to the process
	Queued             float64 // connections waiting unaccepted, fd count unknown
}{
	PoolLoops:          0.9,
	PoolBorrowersAll:   0.9,
	PoolBorrowers:      0.85,
	PoolFrames:         0.7,
	PoolNoDump:         0.45,
	BlockedMatched:     0.8,
	BlockedFew:         0.6,
	Split:              0.65,
	SplitByExchange:    0.75,
	WeakDump:           0.6,
	Young:              0.35,
	MissingCloseDump:   0.75,
	ErrorPath:          0.7,
	LastError:          0.8,
	LastErrorAlone:     0.65,
	LastUnanswered:     0.6,
	MissingCloseNoDump: 0.55,
	RemotePeer:         0.8,
	ErrorHandling:      0.5,
	Transient:          0.8,
	Exhaustion:         0.9,
	Queued:             0.6,
}

// Measure is what Rate judges for one process (or one finding).
type Measure struct {
	Count      int           // sockets stuck in CLOSE_WAIT
	FDLimit    int           // the process's open-files limit, 0 when unknown
	Oldest     time.Duration // age of the oldest stuck socket, 0 when unknown
	Growth     float64       // sockets gained per minute (see Growth), 0 when unknown
	GrowthSpan time.Duration // how long the growth was measured over
	// OldestLower says Oldest is a lower bound (the socket was still there
	// when the latest evidence was taken).
	OldestLower bool
	// Confirmed says the sockets are a leak by one known process that the
	// kernel still lists after ConfirmedMinAge: at least a warning.
	Confirmed bool
	// ExhaustedLog are the positions of log lines of the process saying
	// descriptors ran out (EMFILE, "too many open files"), empty when none.
	ExhaustedLog []Pos
}

// Rate computes the severity of a measure and says, one line per threshold
// crossed, why. A measure with no stuck socket is info. Rate is pure.
func Rate(t Thresholds, m Measure) (Severity, []string) {
	if m.Count <= 0 {
		return SeverityInfo, []string{"no socket stuck in CLOSE_WAIT"}
	}
	sev := SeverityInfo
	var why []string
	raise := func(s Severity, format string, args ...any) {
		sev = max(sev, s)
		why = append(why, s.String()+": "+fmt.Sprintf(format, args...))
	}
	fdCritical := 0.0
	if m.FDLimit > 0 {
		fdCritical = t.FDShareCritical * float64(m.FDLimit)
	}
	switch {
	case fdCritical > 0 && float64(m.Count) > fdCritical:
		raise(SeverityCritical, "%d sockets in CLOSE_WAIT is more than %.0f%% of the fd limit %d",
			count(m.Count), t.FDShareCritical*100, count(m.FDLimit))
	case m.Count > t.CountWarning:
		raise(SeverityWarning, "%d sockets in CLOSE_WAIT is more than %d", count(m.Count), count(t.CountWarning))
	}
	oldest := ageText(m.Oldest, m.OldestLower)
	switch {
	case m.Oldest > t.AgeCritical:
		raise(SeverityCritical, "oldest socket stuck for %s, more than %s",
			oldest, FormatDuration(t.AgeCritical))
	case m.Oldest > t.AgeWarning:
		raise(SeverityWarning, "oldest socket stuck for %s, more than %s",
			oldest, FormatDuration(t.AgeWarning))
	}
	// Growth is judged only once the sockets have been stuck for the
	// span the rule asks of the timeline: a count that became non-zero in
	// the last seconds of a long capture (a busy server's last few
	// sockets, which it closes a moment later) is a step, not a trend.
	sustained := m.GrowthSpan >= t.GrowthMinSpan && (m.Oldest == 0 || m.OldestLower || m.Oldest >= t.GrowthMinSpan)
	if m.Growth > 0 && sustained {
		left := fdCritical - float64(m.Count)
		eta := time.Duration(left / m.Growth * float64(time.Minute))
		switch {
		case fdCritical > 0 && left > 0 && eta <= t.ExhaustCritical:
			raise(SeverityCritical, "growing %s over %s: %.0f%% of the fd limit %d is reached in about %s",
				FormatGrowth(m.Growth), FormatDuration(m.GrowthSpan), t.FDShareCritical*100, count(m.FDLimit), FormatDuration(eta))
		case m.Growth >= t.GrowthWarning:
			raise(SeverityWarning, "growing %s over %s, at least %s",
				FormatGrowth(m.Growth), FormatDuration(m.GrowthSpan), FormatGrowth(t.GrowthWarning))
		}
	}
	if len(m.ExhaustedLog) > 0 {
		at := m.ExhaustedLog[0].String()
		if n := len(m.ExhaustedLog); n > 1 {
			at += fmt.Sprintf(" and %d more", count(n-1))
		}
		switch {
		case m.FDLimit > 0 && float64(m.Count) >= t.FDLogShare*float64(m.FDLimit):
			raise(SeverityCritical, "the log says descriptors ran out (%s) while %d sockets in CLOSE_WAIT hold %.0f%% of the fd limit %d",
				at, count(m.Count), 100*float64(m.Count)/float64(m.FDLimit), count(m.FDLimit))
		case m.FDLimit == 0:
			raise(SeverityWarning, "the log says descriptors ran out (%s); the fd limit is unknown", at)
		}
	}
	if sev < SeverityWarning && m.Confirmed && m.Oldest >= t.ConfirmedMinAge {
		limit := "the fd limit"
		if m.FDLimit > 0 {
			limit += " " + FormatCount(m.FDLimit)
		}
		raise(SeverityWarning, "a confirmed leak: %d %s one process holds, still listed by the kernel after %s (warning above %d sockets or %s, critical above %.0f%% of %s or %s)",
			count(m.Count), plural("socket", m.Count), oldest, count(t.CountWarning), FormatDuration(t.AgeWarning),
			t.FDShareCritical*100, limit, FormatDuration(t.AgeCritical))
	}
	if len(why) == 0 {
		age := "ages unknown"
		if m.Oldest > 0 {
			age = "none older than " + FormatDuration(t.AgeWarning)
		}
		growth := "growth unknown"
		if m.GrowthSpan >= t.GrowthMinSpan {
			growth = "no sustained growth"
		}
		why = append(why, fmt.Sprintf("info: %d %s, %s, %s", count(m.Count), plural("socket", m.Count), age, growth))
	}
	return sev, why
}

// Growth is the least-squares slope of the CLOSE_WAIT count over time, in
// sockets per minute, and the time the points span. Fewer than two points or
// points at a single instant give zero.
func Growth(points []Point) (perMinute float64, span time.Duration) {
	if len(points) < 2 {
		return 0, 0
	}
	first, last := points[0].At, points[0].At
	for _, p := range points {
		if p.At.Before(first) {
			first = p.At
		}
		if p.At.After(last) {
			last = p.At
		}
	}
	span = last.Sub(first)
	if span <= 0 {
		return 0, 0
	}
	n := float64(len(points))
	var sx, sy, sxx, sxy float64
	for _, p := range points {
		x := p.At.Sub(first).Minutes()
		y := float64(p.Count)
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0, span
	}
	return (n*sxy - sx*sy) / den, span
}
