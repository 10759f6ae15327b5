package report

import (
	"net/netip"
	"strconv"
	"time"
)

// SchemaVersion is the version of the JSON schema in docs/report-json.md. It
// changes when a field is removed, renamed or changes meaning; adding a field
// does not change it.
const SchemaVersion = 1

// Model is everything a report says, in the order the report says it. Fields
// marked "derived" are filled by Finalize; Build fills the rest.
type Model struct {
	SchemaVersion int    `json:"schema_version"` // derived: SchemaVersion
	Title         string `json:"title"`          // e.g. "CLOSE_WAIT analysis: checkout incident"

	Verdict     Verdict     `json:"verdict"` // derived: the headline
	Summary     Summary     `json:"summary"`
	Findings    []Finding   `json:"findings"`
	Sockets     []Socket    `json:"sockets"`  // every socket the report talks about
	Timeline    []Point     `json:"timeline"` // CLOSE_WAIT count over capture time
	Charts      Charts      `json:"charts"`   // derived from Sockets
	Inputs      []Input     `json:"inputs"`
	LocalSource LocalSource `json:"local_source"`
	DumpLinks   []DumpLink  `json:"dump_links"` // how each dump was tied to a process
	Warnings    []Warning   `json:"warnings"`

	// LogEvents are the application log lines that name connection or
	// descriptor problems, by class, in time order (see LogClass).
	LogEvents []LogClass `json:"log_events,omitempty"`

	// SocketCounts is the kernel's TCP socket counts over time, from `ss -s`
	// summaries taken repeatedly with a time stamp (a `date; ss -s; sleep 5`
	// loop): a series only when at least two summaries have a time.
	SocketCounts []CountPoint `json:"socket_counts,omitempty"`

	// HalfOpen are the half-open connections still open at the capture
	// end (a remote SYN, retransmitted or not, that the local endpoint
	// never answered), counted per local endpoint: a SYN flood or a full
	// accept backlog, never CLOSE_WAIT, so none is a socket of the report.
	HalfOpen []HalfOpenNote `json:"half_open,omitempty"`
}

// CountPoint is one timed `ss -s` summary: the TCP line's total and its
// counts by state as ss prints them (estab, closed, orphaned, timewait;
// `ss -s` has no CLOSE_WAIT count).
type CountPoint struct {
	At       time.Time `json:"at"`
	AtText   string    `json:"at_text"` // derived: At as the report prints it
	Offset   string    `json:"offset"`  // derived: time since the capture's start or the first summary
	TCP      int       `json:"tcp"`
	Estab    int       `json:"estab"`
	Closed   int       `json:"closed"`
	Orphaned int       `json:"orphaned"`
	TimeWait int       `json:"timewait"`
	Pos      Pos       `json:"pos"` // the summary's first line (Total:)
}

// HalfOpenNote is the half-open connections to one local endpoint.
type HalfOpenNote struct {
	Local   Endpoint `json:"local"`
	VLAN    uint16   `json:"vlan,omitempty"`
	Conns   int      `json:"conns"`   // half-open connections
	Sources int      `json:"sources"` // distinct remote addresses among them
	// First is the earliest SYN, Last the latest packet, with the
	// packets that show them.
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	FirstPacket Pos       `json:"first_packet"`
	LastPacket  Pos       `json:"last_packet"`
	// Text is the note as the report prints it: "2,000,000 half-open
	// connections (SYNs never answered) to local port 80 ...".
	Text string `json:"text"`
}

// DumpLink says which process a thread or goroutine dump was taken from and
// how sure that is: the evidence that ties it, each with its weight, and
// the other candidates with their scores.
type DumpLink struct {
	File       string      `json:"file"`
	PID        int         `json:"pid"`            // 0 when not linked
	Method     string      `json:"method"`         // "pid-line", "flag", "content" or "unlinked"
	Score      float64     `json:"score"`          // of the chosen process, 0..1
	Link       Strength    `json:"link"`           // how strong the tie is
	Why        []string    `json:"why"`            // what ties it, with positions where there are
	Evidence   []Pos       `json:"evidence"`       // positions in the dump and the listings
	Candidates []Candidate `json:"candidates"`     // every process considered, best first
	Note       string      `json:"note,omitempty"` // e.g. why it is ambiguous
}

// Candidate is one process a dump may have been taken from, with its score.
type Candidate struct {
	PID   int      `json:"pid"`
	Name  string   `json:"name"`
	Score float64  `json:"score"`
	Why   []string `json:"why"`
}

// Verdict is the report's headline: the most severe finding in one line.
type Verdict struct {
	Finding  string   `json:"finding,omitempty"` // ID of the finding, "" when there is none
	Category Category `json:"category"`
	Severity Severity `json:"severity"`
	Process  Process  `json:"process"`
	Text     string   `json:"text"` // one line, plain text
}

// Summary counts what the report found. Counts by status are derived from
// Sockets; Connections and the capture span come from Build.
type Summary struct {
	Connections  int `json:"connections"`   // TCP connections seen in the captures
	CloseWait    int `json:"close_wait"`    // derived: stuck sockets (confirmed + capture-only + kernel-only)
	Confirmed    int `json:"confirmed"`     // derived: in CLOSE_WAIT at capture end and still listed by the kernel
	CaptureOnly  int `json:"capture_only"`  // derived: in CLOSE_WAIT at capture end, no later listing to confirm
	KernelOnly   int `json:"kernel_only"`   // derived: listed in CLOSE_WAIT, never seen closing in a capture
	KernelListed int `json:"kernel_listed"` // derived: confirmed + kernel-only
	GoneLater    int `json:"gone_later"`    // derived: CLOSE_WAIT in the capture, absent from a later listing
	ClosedLater  int `json:"closed_later"`  // derived: transient CLOSE_WAIT the application closed, listed or not
	// ClosedLaterUnlisted counts the closed-later sockets not in Sockets:
	// a process lists its 100 longest.
	ClosedLaterUnlisted int           `json:"closed_later_unlisted"`
	FinWait2            int           `json:"fin_wait_2"` // derived: our FIN_WAIT2 toward a peer that never closed
	Processes           int           `json:"processes"`  // derived: distinct pids holding stuck sockets
	Findings            int           `json:"findings"`   // derived
	Warnings            int           `json:"warnings"`   // derived
	CaptureStart        time.Time     `json:"capture_start,omitzero"`
	CaptureEnd          time.Time     `json:"capture_end,omitzero"`
	CaptureSpan         time.Duration `json:"capture_span_ns"`          // derived: CaptureEnd - CaptureStart
	SpanText            string        `json:"capture_span"`             // derived: e.g. "15m00s"
	StartText           string        `json:"capture_start_text"`       // derived: e.g. "2026-11-20 03:12:00 UTC"
	EndText             string        `json:"capture_end_text"`         // derived
	OldestText          string        `json:"oldest_close_wait"`        // derived: age of the oldest stuck socket
	Growth              float64       `json:"growth_per_minute"`        // CLOSE_WAIT sockets gained per minute (Growth)
	GrowthText          string        `json:"growth_text"`              // derived: e.g. "+9.1/min"
	FDLimit             int           `json:"fd_limit,omitempty"`       // of the main process, 0 when unknown
	FDLimitFrom         Pos           `json:"fd_limit_source,omitzero"` // e.g. "proc-limits.txt:9" or "--max-fds"
}

// Finding is one root cause in one process, with the evidence for and
// against it and what to do about it.
type Finding struct {
	ID              string    `json:"id"`               // derived: "<category>-<pid>", then "-2", "-3" for more groups of one category in one process; an anchor
	Category        Category  `json:"category"`         // root cause
	Mechanism       Mechanism `json:"mechanism"`        // how the group's sockets are held
	Group           string    `json:"group,omitempty"`  // what sets the group apart, e.g. "held by 3 threads in Handler.serve"
	Severity        Severity  `json:"severity"`         // from Rate
	SeverityReasons []string  `json:"severity_reasons"` // from Rate: which thresholds were crossed
	Confidence      float64   `json:"confidence"`       // 0..1: how sure the classification is
	ConfidenceLabel string    `json:"confidence_label"` // derived: low, medium or high
	Title           string    `json:"title"`            // one line; derived from category when empty
	Process         Process   `json:"process"`          // the process holding the sockets
	Sockets         []string  `json:"sockets"`          // keys of Model.Sockets, see Socket.Key
	SocketCount     int       `json:"socket_count"`     // derived: len(Sockets)
	Flows           []Flow    `json:"flows"`            // derived: sockets grouped by local port and peer
	OldestText      string    `json:"oldest"`           // derived: age of the oldest socket
	Holders         int       `json:"holders"`          // threads or goroutines that hold the sockets (blocked while holding one)
	Waiters         int       `json:"waiters"`          // threads or goroutines waiting for a lock or a pooled connection, holding none
	Suspects        []Suspect `json:"suspects"`         // threads or goroutines, strongest link first
	Supporting      []Claim   `json:"supporting"`       // evidence for this root cause
	Contradicting   []Claim   `json:"contradicting"`    // evidence against it
	Evidence        []Pos     `json:"evidence"`         // derived: every position cited, sorted
	Advice          []Advice  `json:"advice"`           // derived from Advise when empty
	Note            string    `json:"note,omitempty"`   // free text from Build, e.g. a caveat

	// LastExchange is what the group's connections carried last before
	// the peer's FIN, when the group is classed by it (unknown: it is not).
	LastExchange Exchange `json:"last_exchange,omitempty"`
	// Upgrade is how the group's connections left HTTP/1.x before that
	// last exchange, when an answer took them out of it (a 101, a 2xx to
	// CONNECT): their last data was of another protocol (none: they did
	// not, or the group is not classed by its last exchange).
	Upgrade Upgrade `json:"upgrade,omitempty"`
}

// Process identifies the process holding sockets.
type Process struct {
	PID     int     `json:"pid"`               // 0 when unknown
	Name    string  `json:"name"`              // command name, e.g. "java"
	Runtime Runtime `json:"runtime"`           // decides the advice
	Cmdline string  `json:"cmdline,omitempty"` // when the evidence has it
	// NameFrom and CmdlineFrom are the positions of the listings that gave
	// the name and the command line, the most complete source first (ps or
	// /proc/PID/cmdline, then ss or lsof, then netstat).
	NameFrom    Pos `json:"name_source,omitzero"`
	CmdlineFrom Pos `json:"cmdline_source,omitzero"`
	// CmdlineByName says the command line came from a file that names no
	// pid, given to this process as the only one whose name it fits.
	CmdlineByName bool `json:"cmdline_by_name,omitempty"`
	// CmdlineHow says how such a command line was tied to this process
	// when its command name fits several (two python3): the per-process
	// files beside it that are of this one; empty when the name alone
	// did.
	CmdlineHow string `json:"cmdline_how,omitempty"`
}

// String is "name (pid N)", or what is known of it.
func (p Process) String() string {
	switch {
	case p.PID == 0 && p.Name == "":
		return "unknown process"
	case p.PID == 0:
		return p.Name
	case p.Name == "":
		return "pid " + strconv.Itoa(p.PID)
	}
	return p.Name + " (pid " + strconv.Itoa(p.PID) + ")"
}

// Endpoint is an IP address and port. IPv4-mapped IPv6 addresses are shown
// as IPv4.
type Endpoint struct {
	Addr netip.Addr `json:"addr"`
	Port uint16     `json:"port"`
}

// String is "10.0.0.1:8080" or "[::1]:8080".
func (e Endpoint) String() string {
	return netip.AddrPortFrom(e.Addr.Unmap(), e.Port).String()
}

// Socket is one TCP socket the report talks about.
type Socket struct {
	Key           string        `json:"key"`                       // derived: "local-remote", unique
	Local         Endpoint      `json:"local"`                     // our end
	Remote        Endpoint      `json:"remote"`                    // the peer
	Status        Status        `json:"status"`                    // what the evidence says
	Since         time.Time     `json:"since,omitzero"`            // when it entered CLOSE_WAIT (capture time)
	SinceText     string        `json:"since_text"`                // derived
	Age           time.Duration `json:"age_ns"`                    // in CLOSE_WAIT until the end of the evidence
	AgeLowerBound bool          `json:"age_lower_bound,omitempty"` // Age is a lower bound (older than the capture)
	AgeText       string        `json:"age"`                       // derived: e.g. "14m32s" or "> 15m00s"
	PID           int           `json:"pid,omitempty"`             // 0 when unknown
	Process       string        `json:"process,omitempty"`         // command name
	FD            int           `json:"fd,omitempty"`              // 0 when unknown
	Finding       string        `json:"finding,omitempty"`         // derived: ID of the finding that claims it
	Evidence      []Pos         `json:"evidence"`                  // positions, e.g. "ss.txt:42", "capture.pcap: packet 51234"
}

// SocketKey is the key of the socket between two endpoints, as in
// Socket.Key and Finding.Sockets: "10.0.0.4:8080-10.0.0.9:51544".
func SocketKey(local, remote Endpoint) string {
	if !local.Addr.IsValid() || !remote.Addr.IsValid() {
		return local.String() + "-" + remote.String()
	}
	// One allocation rather than three: Finalize keys every socket.
	var buf [2*len("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535") + 1]byte
	b := netip.AddrPortFrom(local.Addr.Unmap(), local.Port).AppendTo(buf[:0])
	b = append(b, '-')
	return string(netip.AddrPortFrom(remote.Addr.Unmap(), remote.Port).AppendTo(b))
}

// Flow is a group of a finding's sockets with the same local port and peer.
type Flow struct {
	Local  string `json:"local"`  // e.g. ":8080" or "10.0.0.1:*" when ports vary
	Remote string `json:"remote"` // peer address, with port when all share it
	Count  int    `json:"count"`
	Oldest string `json:"oldest"` // age of the oldest socket of the flow
}

// Suspect is a thread or a group of identical goroutines that holds or waits
// on the finding's sockets.
type Suspect struct {
	ID       string        `json:"id"` // derived: anchor, "<finding>-t<n>"
	Kind     SuspectKind   `json:"kind"`
	Name     string        `json:"name"`            // thread name, or the goroutine group's top function
	State    string        `json:"state"`           // e.g. "RUNNABLE", "IO wait", "WAITING (parking)"
	Wait     time.Duration `json:"wait_ns"`         // how long it has waited, when the dump says
	WaitText string        `json:"wait"`            // derived: e.g. "14m00s", "" when unknown
	Count    int           `json:"count"`           // threads or goroutines with this stack
	Frames   []string      `json:"frames"`          // function names, innermost first
	Culprit  string        `json:"culprit"`         // the application function holding the socket; derived from Frames when empty
	Role     Role          `json:"role"`            // whether it holds the sockets or waits for a lock or a connection
	Link     Strength      `json:"link"`            // how well it is tied to the sockets
	Why      []string      `json:"why"`             // what ties it, e.g. "137 goroutines, 137 sockets to 10.0.0.5:5432"
	Evidence []Pos         `json:"evidence"`        // positions in the dump
	Locks    []string      `json:"locks,omitempty"` // locks held or waited on, when the dump says
}

// Claim is one statement about a finding and the positions that back it.
type Claim struct {
	Text     string `json:"text"`
	Evidence []Pos  `json:"evidence"`
}

// Advice is one thing to do about a finding.
type Advice struct {
	Runtime Runtime `json:"runtime"`          // unknown when it applies to any runtime
	Text    string  `json:"text"`             // what to do
	Stopgap bool    `json:"stopgap"`          // relieves the symptom, does not fix the cause
	Why     string  `json:"why,omitempty"`    // why it helps, or why it is not a fix
	Config  string  `json:"config,omitempty"` // a code or configuration snippet
}

// Point is the number of sockets in CLOSE_WAIT at one instant of capture time.
// LogClass is the log lines of one class (conn-reset, fd-exhausted, ...)
// of one log file, in time order, for the report's timeline of events.
type LogClass struct {
	File  string    `json:"file"`
	Class string    `json:"class"`
	Count int       `json:"count"`
	First time.Time `json:"first,omitzero"` // time of the first line, zero when the log has none
	Last  time.Time `json:"last,omitzero"`
	// FirstText and LastText are First and Last as the report prints them.
	FirstText string `json:"first_text,omitempty"`
	LastText  string `json:"last_text,omitempty"`
	// Lines are the positions of the first lines, at most maxLogLines, and
	// Example the first line's message.
	Lines   []Pos  `json:"lines"`
	Example string `json:"example"`
}

type Point struct {
	At     time.Time `json:"at"`
	Count  int       `json:"count"`
	Offset string    `json:"offset"` // derived: time since capture start, e.g. "+4m10s"
}

// Bar is one bar of a chart.
type Bar struct {
	Label string   `json:"label"`
	Count int      `json:"count"`
	Level Severity `json:"level,omitempty"` // for the age histogram: the severity of that age
}

// Charts holds the counts behind the report's charts, derived from the stuck
// sockets (the timeline is Model.Timeline).
type Charts struct {
	ByLocalPort []Bar `json:"by_local_port"` // top ports, then "other"
	ByPeer      []Bar `json:"by_peer"`       // top peer addresses, then "other"
	AgeBuckets  []Bar `json:"age_buckets"`   // fixed buckets aligned with the thresholds
}

// Input is one file given to analyze and what became of it.
type Input struct {
	Path    string      `json:"path"`              // as the user gave it (relative)
	Kind    string      `json:"kind"`              // e.g. "pcap", "ss", "jstack", "" when ignored
	Status  InputStatus `json:"status"`            // read, read-with-warnings, ignored or failed
	Cause   InputCause  `json:"cause,omitempty"`   // why it was ignored or failed
	Reason  string      `json:"reason,omitempty"`  // why it was ignored or failed, in words
	Records int         `json:"records,omitempty"` // packets, sockets or threads read
	// Warnings counts the warnings about this input (read-with-warnings),
	// and FirstWarnings gives the positions of the first ones.
	Warnings      int   `json:"warnings,omitempty"`
	FirstWarnings []Pos `json:"first_warnings,omitempty"`
}

// Usable reports whether the input was read, with or without warnings.
func (in Input) Usable() bool { return in.Status == InputRead || in.Status == InputWarned }

// Lost reports whether the input may hold evidence the report does not
// use: it failed, or was ignored for a reason other than its format, its
// emptiness or its being read under another name. A check such as
// --fail-on cannot vouch for a report that lost an input.
func (in Input) Lost() bool {
	switch in.Status {
	case InputFailed:
		return true
	case InputIgnored:
		return in.Cause.Loses()
	}
	return false
}

// LocalSource says how the local endpoints were chosen.
type LocalSource struct {
	Method LocalMethod `json:"method"`
	Addrs  []string    `json:"addrs"`          // addresses or CIDRs
	Note   string      `json:"note,omitempty"` // e.g. which file the addresses came from
}

// Warning is a problem with the input that did not stop the analysis.
type Warning struct {
	Pos Pos    `json:"pos"` // e.g. "ss.txt:42", "capture.pcap: packet 1234", "captures"
	Msg string `json:"msg"`
}
