package report

import (
	"fmt"
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// listedProc is what the process listings (ps, /proc/PID/cmdline,
// /proc/PID/stat) say of one pid: its name, and the rest, which a proc
// takes as it is.
type listedProc struct {
	procName
	procListing
}

// procListing is what the process listings say of a process besides its
// name: its command line, start time and uptime.
type procListing struct {
	cmdline     string // the full command line
	cmdFrom     Pos
	cmdByName   bool   // from a file naming no pid, matched by name
	cmdHow      string // how such a cmdline was tied when its name fits several processes
	start       time.Time
	startRank   int // how exact start is, see startRank
	startFrom   Pos
	elapsed     time.Duration // how long it had run when ps listed it
	elapsedAt   time.Time
	elapsedOK   bool
	elapsedFrom Pos
}

// startRank ranks the sources of a start time by how exact they are:
// /proc/PID/stat's starttime after btime (to the clock tick, in UTC); a
// dated snapshot less ps's elapsed seconds (the date line says its zone);
// ps's lstart (local time of the host, read as UTC).
func startRank(p *dumps.ProcessInfo) int {
	switch {
	case p.Tool == dumps.KindProcStat:
		return 3
	case p.Elapsed != nil && !p.SnapshotTime.IsZero():
		return 2
	}
	return 1
}

// commandName is the name a command line gives its process: the base of
// argv[0] ("./server/repository -listen :8080" is "repository"), the
// name a kernel thread is shown with ("[kthreadd]"), or the first word of
// a title a process set itself ("nginx: worker process" is "nginx").
func commandName(cmd string) string {
	if strings.HasPrefix(cmd, "[") && strings.HasSuffix(cmd, "]") {
		return cmd[1 : len(cmd)-1]
	}
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return ""
	}
	return strings.TrimRight(filepath.Base(f[0]), ":")
}

// indexProcessListings reads the process listings: names, command lines
// and start times by pid, and the time of the latest listing.
func (b *builder) indexProcessListings() {
	b.plist = map[int]*listedProc{}
	var boot time.Time
	for _, ev := range b.in.Evidence {
		for _, bt := range ev.BootTimes {
			if boot.IsZero() {
				boot = bt.Time
			}
		}
		for _, s := range ev.SocketSnapshots {
			if s.Time.After(b.lastEvidence) {
				b.lastEvidence = s.Time
			}
		}
	}
	for _, ev := range b.in.Evidence {
		for i := range ev.Procs {
			p := &ev.Procs[i]
			if p.PID <= 0 {
				if p.Command != "" {
					b.unowned = append(b.unowned, p) // matched by name once the processes are known
				}
				continue
			}
			lp := b.plist[p.PID]
			if lp == nil {
				lp = &listedProc{}
				b.plist[p.PID] = lp
			}
			from := TextPos(p.Src)
			name := p.Comm
			if p.Command != "" {
				name = commandName(p.Command)
				if len(p.Command) > len(lp.cmdline) {
					lp.cmdline, lp.cmdFrom, lp.cmdByName = p.Command, from, false
				}
			}
			rank := nameRank(p.Tool)
			if p.Command == "" {
				rank = nameRank(dumps.KindSS) // stat's comm: the kernel's 15 bytes
			}
			lp.takeName(name, rank, from)
			start := p.Start
			if start.IsZero() && p.StartTicks != nil && !boot.IsZero() {
				start = dumps.StartAfterBoot(boot, *p.StartTicks)
			}
			if r := startRank(p); !start.IsZero() && r > lp.startRank {
				lp.start, lp.startRank, lp.startFrom = start, r, from
			}
			if p.Elapsed != nil && (!lp.elapsedOK || p.SnapshotTime.After(lp.elapsedAt)) {
				lp.elapsed, lp.elapsedAt, lp.elapsedOK, lp.elapsedFrom = *p.Elapsed, p.SnapshotTime, true, from
			}
			// The time of the listing: its snapshot's, or lstart plus
			// the elapsed time ps printed beside it.
			at := p.SnapshotTime
			if at.IsZero() && p.Elapsed != nil && !p.Start.IsZero() {
				at = p.Start.Add(*p.Elapsed)
			}
			if at.After(b.lastEvidence) {
				b.lastEvidence = at
			}
		}
	}
}

// applyProcessListings gives the processes that the other evidence names
// what the process listings say of them; a process only ps lists is not
// one the report talks about.
func (b *builder) applyProcessListings() {
	b.matchUnowned()
	for pid, p := range b.procs {
		lp := b.plist[pid]
		if lp == nil {
			continue
		}
		p.takeName(lp.name, lp.nameRank, lp.nameFrom)
		p.procListing = lp.procListing
	}
}

// ageMargin is how much older than a process's uptime a dump's oldest
// thread or goroutine may be before the dump is said not to be the
// process's: Go states waits in whole minutes, and a dump whose time is
// not known may have been taken a little after the listing that gives the
// uptime.
const ageMargin = time.Minute

// dumpAge is what a dump says about the age of the process it was taken
// from: its oldest thread or goroutine, and its own time when it prints
// one.
type dumpAge struct {
	oldest time.Duration // 0 when the dump states no age
	what   string        // e.g. "a goroutine has waited 14m0s"
	pos    Pos
	at     time.Time // the dump's time, zero when it prints none
}

// dumpAgeOf reads the ages the latest dump of a file states: goroutine
// waits ("[chan send, 14 minutes]"), JVM threads' elapsed= times, and a
// JVM dump's time line.
func dumpAgeOf(ev *dumps.Evidence) dumpAge {
	var a dumpAge
	switch {
	case len(ev.ThreadDumps) > 0:
		d := ev.ThreadDumps[len(ev.ThreadDumps)-1]
		if t, ok := d.When(); ok && d.Runtime == "" {
			a.at = t
		}
		for _, t := range d.Threads {
			if t.Elapsed > a.oldest {
				a.oldest, a.pos = t.Elapsed, TextPos(t.Pos)
				a.what = fmt.Sprintf("thread %q has run %s (elapsed=)", t.Name, FormatDuration(t.Elapsed))
			}
		}
		if a.pos.IsZero() {
			a.pos = TextPos(d.Pos)
		}
	case len(ev.GoroutineDumps) > 0:
		d := ev.GoroutineDumps[len(ev.GoroutineDumps)-1]
		for _, bk := range d.Buckets {
			if bk.MaxWait > a.oldest && len(bk.Members) > 0 {
				a.oldest, a.pos = bk.MaxWait, TextPos(bk.Members[0].Pos)
				a.what = fmt.Sprintf("a goroutine has waited %s", FormatDuration(bk.MaxWait))
			}
		}
	}
	return a
}

// ageEvidence weighs a dump's ages against a process's start: a dump
// taken before the process started, or whose oldest thread or goroutine
// is older than the process was when the dump was taken (beyond
// ageMargin), is not the process's; ages that fit are a weak sign that it
// is. It returns 0 and "" when either side says nothing.
func (b *builder) ageEvidence(p *proc, a dumpAge) (float64, string) {
	a.at = b.dumpClock(p, a.at)
	if a.oldest == 0 && a.at.IsZero() {
		return 0, ""
	}
	var (
		uptime time.Duration
		how    string
	)
	switch {
	case !p.start.IsZero() && !a.at.IsZero():
		if a.at.Before(p.start.Add(-ageMargin)) {
			return weightAgeTooOld, fmt.Sprintf("the dump was taken at %s, before the process started at %s (%s)",
				a.at.Format(time.DateTime), p.start.UTC().Format(time.DateTime), p.startFrom)
		}
		uptime, how = a.at.Sub(p.start), fmt.Sprintf("at the dump's time, started %s (%s)", p.start.UTC().Format(time.DateTime), p.startFrom)
	case !p.start.IsZero() && !b.lastEvidence.IsZero() && p.startRank > 1:
		// ps's lstart is the host's local time read as UTC: not on the
		// listings' clock, so only an uptime ps printed beside it counts.
		uptime, how = b.lastEvidence.Sub(p.start), fmt.Sprintf("by the latest listing, started %s (%s)", p.start.UTC().Format(time.DateTime), p.startFrom)
	case p.elapsedOK:
		uptime, how = p.elapsed, fmt.Sprintf("when ps listed it (%s)", p.elapsedFrom)
	default:
		return 0, ""
	}
	if a.oldest == 0 {
		return 0, ""
	}
	if a.oldest > uptime+ageMargin {
		return weightAgeTooOld, fmt.Sprintf("%s (%s), but the process had run only %s %s", a.what, a.pos, FormatDuration(uptime), how)
	}
	return weightAgeFits, fmt.Sprintf("%s (%s), within the %s the process had run %s", a.what, a.pos, FormatDuration(uptime), how)
}

// zoneSlack is how far a dump's printed time may be from the listings'
// times and still be taken to be on their clock: a JVM prints its host's
// local time without a zone, and an incident's evidence is saved within
// minutes, so a dump hours away from the listings is in another zone.
const zoneSlack = time.Hour

// dumpClock is the dump's time when it can be compared with the process's
// start: within zoneSlack of the latest listing, or, with no listing time,
// when the start is ps's lstart, which is on the host's local clock too.
// Otherwise zero.
func (b *builder) dumpClock(p *proc, at time.Time) time.Time {
	switch {
	case at.IsZero():
	case !b.lastEvidence.IsZero():
		if d := at.Sub(b.lastEvidence); d > zoneSlack || d < -zoneSlack {
			return time.Time{}
		}
	case p.startRank != 1:
		return time.Time{}
	}
	return at
}

// matchUnowned gives each command line that says no pid (a cmdline saved
// under a name without one) to the one process the other evidence names
// whose command name it fits: the same name, or a name the listing cut
// (lsof's 9 characters, the kernel's 15) that it begins with. With no
// such process or several, it is left out with a warning that says
// which. A command line is matched once.
func (b *builder) matchUnowned() {
	// Whose the fd listings are, read once when a name fits several
	// processes: it indexes every listed socket by inode.
	var listings map[string]ownedBy
	for _, p := range b.unowned {
		name := commandName(p.Command)
		// The candidates are the processes the other evidence names and
		// those a process listing (ps) names: a second python3 that ss
		// does not list (no socket, no -p rights) makes it ambiguous.
		fit := map[int]bool{}
		for pid, pr := range b.procs {
			if pid > 0 && pr.name != "" && fitsName(name, pr.name) {
				fit[pid] = true
			}
		}
		for pid, lp := range b.plist {
			if pid > 0 && lp.name != "" && fitsName(name, lp.name) {
				fit[pid] = true
			}
		}
		pids := slices.Sorted(maps.Keys(fit))
		from := TextPos(p.Src)
		how := ""
		if len(pids) > 1 {
			if listings == nil {
				listings = b.fdListingsOf()
			}
			if pid, why := b.besideUnowned(p, pids, listings); pid > 0 {
				pids, how = []int{pid}, why
			}
		}
		switch len(pids) {
		case 1:
			lp := b.plist[pids[0]]
			if lp == nil {
				lp = &listedProc{}
				b.plist[pids[0]] = lp
			}
			if lp.cmdline == "" {
				lp.cmdline, lp.cmdFrom, lp.cmdByName, lp.cmdHow = p.Command, from, true, how
			}
			if lp.nameRank < nameRank(dumps.KindProcCmdline) {
				lp.name, lp.nameRank, lp.nameFrom = name, nameRank(dumps.KindProcCmdline), from
			}
		case 0:
			b.unmatched = append(b.unmatched, p)
			b.m.Warnings = append(b.m.Warnings, Warning{Pos: from, Msg: fmt.Sprintf("this command line names no pid and its command name %q fits no listed process: it is left out (save it as proc-PID-cmdline.txt, or keep the `==> /proc/PID/cmdline <==` line)", name)})
		default:
			b.unmatched = append(b.unmatched, p)
			b.m.Warnings = append(b.m.Warnings, Warning{Pos: from, Msg: fmt.Sprintf("this command line names no pid and its command name %q fits %d listed processes (pids %s): it is left out (save it as proc-PID-cmdline.txt)", name, len(pids), joinInts(pids))})
		}
	}
	b.unowned = nil
}

// besideUnowned ties a command line that names no pid, whose command
// name fits several processes (two python3), to the one of them that the
// per-process files in its folder are of by their content: fd listings
// (`ls -l /proc/PID/fd`) that name the pid or whose socket inodes are
// one process's sockets. It holds only when the folder has no other
// command line without a pid, and those files name exactly one of the
// candidates; it returns 0 otherwise, and how it tied the two when it
// did. listings is fdListingsOf's.
func (b *builder) besideUnowned(p *dumps.ProcessInfo, pids []int, listings map[string]ownedBy) (int, string) {
	dir := filepath.Dir(p.Src.File)
	for _, o := range b.unowned {
		if o != p && filepath.Dir(o.Src.File) == dir {
			return 0, ""
		}
	}
	var (
		found []int
		whys  []string
	)
	for _, file := range slices.Sorted(maps.Keys(listings)) {
		l := listings[file]
		if filepath.Dir(file) != dir || !slices.Contains(pids, l.pid) {
			continue
		}
		if !slices.Contains(found, l.pid) {
			found = append(found, l.pid)
		}
		whys = append(whys, fmt.Sprintf("the fd listing %s (%s)", l.pos, l.why))
	}
	if len(found) != 1 {
		return 0, ""
	}
	return found[0], fmt.Sprintf("given to pid %d, the one of the %d processes named %q (pids %s) that the per-process files beside it are of: %s",
		found[0], len(pids), commandName(p.Command), joinInts(pids), strings.Join(whys, "; "))
}

// fitsName reports whether a command line's name is a listed process's
// name, or begins with it where the listed name has exactly the width a
// listing cuts names to (lsof's 9 characters, the kernel's 15): a whole
// name such as postgres does not fit postgres_exporter.
func fitsName(cmdName, listed string) bool {
	cut := len(listed) == lsofNameWidth || len(listed) == commWidth
	return cmdName == listed || cut && strings.HasPrefix(cmdName, listed)
}

// The widths listings cut command names to: lsof's COMMAND column (9
// unless +c) and the kernel's comm (TASK_COMM_LEN less its NUL), which
// ss, /proc/PID/stat and status print.
const (
	lsofNameWidth = 9
	commWidth     = 15
)

// joinInts writes numbers separated by commas.
func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// peerInCmdline names the local side of orphaned sockets toward a peer
// when no listing shows a live connection to it: the one process whose
// command line names the peer's address and port (a client's
// `-collector 10.0.0.9:5432`). A command line that names no pid gives
// its program's name only. It is found when exactly one command line
// names the peer.
func (b *builder) peerInCmdline(keys []key) (Process, Claim, bool) {
	peers := map[netip.AddrPort]bool{}
	for _, k := range keys {
		peers[k.remote.AddrPort()] = true
	}
	type hit struct {
		pid  int
		cmd  string
		from Pos
		peer netip.AddrPort
	}
	var hits []hit
	order := slices.SortedFunc(maps.Keys(peers), func(a, c netip.AddrPort) int { return a.Compare(c) })
	names := func(cmd string) (netip.AddrPort, bool) {
		for _, p := range order {
			if cmdlineNames(cmd, p) {
				return p, true
			}
		}
		return netip.AddrPort{}, false
	}
	for _, pid := range slices.Sorted(maps.Keys(b.plist)) {
		if lp := b.plist[pid]; lp.cmdline != "" {
			if p, ok := names(lp.cmdline); ok {
				hits = append(hits, hit{pid, lp.cmdline, lp.cmdFrom, p})
			}
		}
	}
	for _, u := range b.unmatched {
		if p, ok := names(u.Command); ok {
			hits = append(hits, hit{0, u.Command, TextPos(u.Src), p})
		}
	}
	if len(hits) != 1 {
		return Process{}, Claim{}, false
	}
	h := hits[0]
	// A command line that names no pid is a process of its own name.
	p := &proc{procName: procName{name: commandName(h.cmd), nameFrom: h.from}, procListing: procListing{cmdline: h.cmd, cmdFrom: h.from}}
	if h.pid > 0 {
		p = b.procs[h.pid]
		if p == nil { // known only to the process listings
			lp := b.plist[h.pid]
			p = &proc{pid: h.pid, procName: lp.procName, procListing: lp.procListing}
		}
	}
	pr := p.describe()
	who := pr.String()
	if h.pid == 0 {
		who = pr.Name + ", whose pid the evidence does not give,"
	}
	return pr, Claim{
		Text: fmt.Sprintf("%s names the peer %s in its command line and no other process does: the orphaned FIN_WAIT2 sockets were most likely its connections, which it closed (a weak link: no listing shows it holding one)",
			who, h.peer),
		Evidence: []Pos{h.from},
	}, true
}

// cmdlineNames reports whether a command line names an endpoint: its
// address and port as one word or the value of a flag (`10.0.0.9:5432`,
// `--to=[2001:db8::9]:5432`, `http://10.0.0.9:5432/`).
func cmdlineNames(cmd string, p netip.AddrPort) bool {
	want := p.String()
	for rest := cmd; ; {
		i := strings.Index(rest, want)
		if i < 0 {
			return false
		}
		before, after := byte(' '), byte(' ')
		if i > 0 {
			before = rest[i-1]
		}
		if j := i + len(want); j < len(rest) {
			after = rest[j]
		}
		// Not part of a longer address or port: 110.0.0.9:54321.
		if !isAddrByte(before) && !isDigit(after) {
			return true
		}
		rest = rest[i+len(want):]
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAddrByte(c byte) bool {
	return isDigit(c) || c == '.' || c == ':' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
