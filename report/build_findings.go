package report

import (
	"cmp"
	"fmt"
	"iter"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// group is the sockets of one process, by what they show.
type group struct {
	pid      int
	stuck    []key
	finWait2 []key
	closed   []key
}

// findings groups the sockets by process and makes one finding per root
// cause per process.
func (b *builder) findings() {
	groups := map[int]*group{}
	for k, s := range b.sockets {
		g := groups[s.PID]
		if g == nil {
			g = &group{pid: s.PID}
			groups[s.PID] = g
		}
		switch {
		case s.Status.Stuck() && b.queued[k] > 0:
			// never accepted: reported with the listener's descriptors
		case s.Status.Stuck():
			g.stuck = append(g.stuck, k)
		case s.Status == StatusFinWait2:
			g.finWait2 = append(g.finWait2, k)
		case s.Status == StatusClosedLater || s.Status == StatusGoneLater:
			g.closed = append(g.closed, k) // transient: closed, or gone later
		}
	}
	pids := make([]int, 0, len(groups))
	for pid, g := range groups {
		pids = append(pids, pid)
		sortSplit(g.stuck, compareKeys) // the keys of a map: no two alike
		sortSplit(g.finWait2, compareKeys)
		sortSplit(g.closed, compareKeys)
	}
	for pid := range b.procs {
		if groups[pid] == nil {
			// A process with no socket in the report may still reset its
			// connections (error-handling).
			groups[pid] = &group{pid: pid}
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	for _, pid := range pids {
		g := groups[pid]
		if len(g.stuck) > 0 {
			b.m.Findings = append(b.m.Findings, b.stuckFindings(g)...)
		}
		if fw := b.remoteEnds(g.finWait2); len(fw) > 0 {
			g.finWait2 = fw
			b.m.Findings = append(b.m.Findings, b.remoteLeakFinding(g))
		}
		if len(g.closed) > 0 || b.closedLaterUnlisted[pid] > 0 {
			b.m.Findings = append(b.m.Findings, b.churnFinding(g))
		}
		if f, ok := b.errorHandlingFinding(pid); ok {
			b.m.Findings = append(b.m.Findings, f)
		}
	}
	b.m.Findings = b.exhaustionFindings(b.m.Findings)
}

// process describes pid for a finding.
func (b *builder) process(pid int) Process {
	if pid == 0 {
		return Process{}
	}
	return b.proc(pid).describe()
}

// describe is the Process of a finding that p is.
func (p *proc) describe() Process {
	rt := p.runtime
	if rt == RuntimeUnknown {
		rt = runtimeOfName(p.name)
	}
	return Process{PID: p.pid, Name: p.name, Runtime: rt, NameFrom: p.nameFrom, Cmdline: p.cmdline, CmdlineFrom: p.cmdFrom, CmdlineByName: p.cmdByName, CmdlineHow: p.cmdHow}
}

// measure rates a group of a process's stuck sockets against the
// thresholds; confirmed says the kernel still lists them in one known
// process (a confirmed leak).
func (b *builder) measure(pid int, keys []key, confirmed bool) (Severity, []string) {
	oldest, lower := b.ageOf(keys)
	limit := b.in.MaxFDs
	if limit == 0 && pid > 0 {
		limit = b.proc(pid).fdLimit
	}
	if limit == 0 {
		limit = b.defLimit
	}
	b.waitTimeline()
	growth, span := Growth(b.m.Timeline)
	return Rate(b.in.Thresholds, Measure{Count: len(keys), FDLimit: limit, Oldest: oldest, OldestLower: lower, Growth: growth, GrowthSpan: span, Confirmed: confirmed,
		ExhaustedLog: b.exhaustedLog(pid)})
}

func (b *builder) keysOf(keys []key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = SocketKey(endpointOf(k.local), endpointOf(k.remote))
	}
	return out
}

// evidenceOf collects the positions of some sockets, at most n.
func (b *builder) evidenceOf(keys []key, n int) []Pos {
	out := []Pos{}
	for _, k := range keys {
		for _, e := range b.sockets[k].Evidence {
			if !e.IsZero() && !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
		if len(out) >= n {
			break
		}
	}
	return out[:min(len(out), n)]
}

// outbound reports whether this host opened the connection of k: the
// capture saw it open it, or its local port is not one the process listens
// on while the remote port is one a process listens on or the lower one.
func (b *builder) outbound(pid int, k key) bool {
	if c, ok := b.seen[k]; ok && c.handshake {
		return c.weOpened
	}
	if pid > 0 {
		if _, ok := b.proc(pid).listening[k.local.Port()]; ok {
			return false
		}
	}
	if _, ok := b.portPID[k.remote.Port()]; ok {
		return true
	}
	return k.remote.Port() < k.local.Port()
}

// suspect is a bucket of a dump with what ties it to the sockets.
type suspect struct {
	bucket dumps.Bucket
	kind   SuspectKind
	series dumps.SeriesStatus
	pool   bool
	block  bool
	role   Role
	// connLoop marks a pool's per-connection goroutine or thread (a
	// persistConn's readLoop): it holds one connection.
	connLoop bool
	// lockWait marks a wait for a lock or monitor another thread holds
	// (its locks name the owner).
	lockWait bool
	// locks describes the locks waited for, with their owners.
	locks []string
	// tie says why the holder was tied to its group's flow.
	tie string
	// issuer marks a group of JavaScript stacks a Node.js process printed
	// (see nodeStacks): where code made or used the sockets, and paused
	// how many of the group's stuck sockets its report shows paused.
	issuer bool
	paused int
	// sharedBy is how many groups of stuck sockets an issuer may be of,
	// when nothing in it names one (see tieStacks); 0 when it is of its
	// group. alike is what its message names that several groups have
	// alike (a port), "" when it names nothing of theirs.
	sharedBy int
	alike    string
}

// nodeStacks lists the groups of JavaScript stacks that Node.js dumps of
// process pid hold (a diagnostic report's javascriptStack, the stacks of
// warnings and errors its log prints) whose frames reach the program's own
// code, largest first, and the position of the first. Node.js runs
// JavaScript on one event loop: a stack is where code ran, never a thread
// waiting on a socket, so these name the code and are not holders.
func (b *builder) nodeStacks(pid int) ([]suspect, Pos) {
	var out []suspect
	var from Pos
	for _, ev := range b.proc(pid).dumps {
		for _, d := range ev.ThreadDumps {
			if d.Runtime != "node" {
				continue
			}
			for _, bk := range d.Buckets {
				if dumps.AppFrame(bk.Frames) < 0 {
					continue
				}
				if from.IsZero() {
					from = TextPos(d.Pos)
				}
				out = append(out, suspect{bucket: bk, kind: SuspectStack, issuer: true})
			}
		}
	}
	slices.SortStableFunc(out, func(x, y suspect) int { return cmp.Compare(y.bucket.Count, x.bucket.Count) })
	return out, from
}

// suspects lists the stack groups of the process's latest dump that hold or
// wait on connections: pool borrows and pooled-connection loops, and app
// code blocked on a lock, a monitor, a channel or a socket read.
func (b *builder) suspects(pid int) ([]suspect, Pos) {
	p := b.proc(pid)
	var jvm, gor, prof []dumps.Snapshot
	var lastJVM *dumps.ThreadDump
	var lastGo *dumps.GoroutineDump
	var lastProf *dumps.GoroutineProfile
	for _, ev := range p.dumps {
		if isNodeDump(ev) {
			continue // nodeStacks: where code ran, not threads holding sockets
		}
		j, g, pr := ev.Snapshots()
		jvm, gor, prof = append(jvm, j...), append(gor, g...), append(prof, pr...)
		for _, d := range ev.ThreadDumps {
			if lastJVM == nil || laterDump(d, lastJVM) {
				lastJVM = d
			}
		}
		if n := len(ev.GoroutineDumps); n > 0 {
			lastGo = ev.GoroutineDumps[n-1]
		}
		if n := len(ev.GoroutineProfiles); n > 0 {
			lastProf = ev.GoroutineProfiles[n-1]
		}
	}
	var buckets []dumps.Bucket
	var series []dumps.SeriesGroup
	var from Pos
	kind := SuspectGoroutine
	switch {
	case lastJVM != nil:
		buckets, series, from, kind = lastJVM.Buckets, dumps.CompareSeries(jvm), TextPos(lastJVM.Pos), SuspectThread
	case lastGo != nil:
		buckets, series, from = lastGo.Buckets, dumps.CompareSeries(gor), TextPos(lastGo.Pos)
	case lastProf != nil:
		buckets, series, from = lastProf.Buckets, dumps.CompareSeries(prof), TextPos(lastProf.Pos)
	default:
		return nil, Pos{}
	}
	status := map[string]dumps.SeriesStatus{}
	for _, s := range series {
		status[s.ID] = s.Status
	}
	var out []suspect
	for _, bk := range buckets {
		if bk.Kind == "vm-thread" {
			continue
		}
		s := classifyBucket(bk, lastJVM)
		s.kind, s.series = kind, status[bk.ID]
		if s.pool || s.block {
			out = append(out, s)
		}
	}
	return out, from
}

// classifyBucket says what a stack group does with connections: whether
// it waits in a pool, blocks indefinitely in application code, holds a
// connection (a pool's per-connection loop, a blocked reader) or waits for
// one or for a lock (with the lock's owner when d, its JVM dump, says).
func classifyBucket(bk dumps.Bucket, d *dumps.ThreadDump) suspect {
	s := suspect{bucket: bk}
	act := bk.Class.Activity
	s.pool = act == dumps.ActPoolBorrow || bk.Class.Pool != ""
	timed := strings.HasPrefix(bk.State, "TIMED") || act == dumps.ActSleep || timerWait(bk)
	switch act {
	case dumps.ActDeadlocked, dumps.ActLockWait, dumps.ActCondWait, dumps.ActChanWait, dumps.ActSocketRead, dumps.ActSocketWrite:
		// A timed wait (TIMED_WAITING, a timer or ticker) ends by
		// itself: not indefinite.
		s.block = dumps.AppFrame(bk.Frames) >= 0 && !timed
	}
	switch {
	case act == dumps.ActPoolBorrow:
		s.role = RoleWaiter
	case bk.Class.Pool != "" && !timed && (act == dumps.ActSocketRead || act == dumps.ActChanWait || act == dumps.ActCondWait || act == dumps.ActUnknown):
		// A pooled connection's own loop: it holds that connection.
		s.role, s.connLoop = RoleHolder, true
	case s.block && (act == dumps.ActLockWait || act == dumps.ActDeadlocked):
		// Blocked on a lock in application code, in the middle of serving
		// a connection: it holds that socket until the lock's owner lets
		// go, and the owner is named.
		s.role, s.lockWait = RoleHolder, true
		s.locks = lockOwners(d, bk)
	case s.block:
		s.role = RoleHolder
	}
	return s
}

func laterDump(a, b *dumps.ThreadDump) bool {
	ta, oka := a.When()
	tb, okb := b.When()
	if oka && okb {
		return ta.After(tb)
	}
	return true // file order
}

// dumpClaim says which dumps were taken from the process and how that is
// known, one clause per way.
func (b *builder) dumpClaim(pid int) (Claim, bool) {
	p := b.proc(pid)
	if len(p.dumpNotes) == 0 {
		return Claim{}, false
	}
	var hows []string
	files := map[string][]string{}
	var ev []Pos
	for _, n := range p.dumpNotes {
		files[n.how] = append(files[n.how], n.file)
		if !slices.Contains(hows, n.how) {
			hows = append(hows, n.how)
		}
		if !n.pos.IsZero() {
			ev = append(ev, n.pos)
		}
	}
	var parts []string
	for _, h := range hows {
		parts = append(parts, strings.Join(files[h], ", ")+" ("+h+")")
	}
	return Claim{Text: fmt.Sprintf("dumps of pid %d: %s", pid, strings.Join(parts, "; ")), Evidence: ev}, true
}

// agesFromDump dates sockets that neither a capture nor timed listings
// date, by the wait the dump states for a strongly linked suspect
// ("[IO wait, 14 minutes]"): the sockets are at least that old.
func (b *builder) agesFromDump(stuck []key, sus []Suspect) (Claim, bool) {
	for _, k := range stuck {
		if b.sockets[k].Age > 0 {
			return Claim{}, false
		}
	}
	for _, s := range sus {
		if s.Link != StrengthStrong || s.Wait <= 0 {
			continue
		}
		for _, k := range stuck {
			b.sockets[k].Age, b.sockets[k].AgeLowerBound = s.Wait, true
		}
		return Claim{
			Text:     fmt.Sprintf("no capture dates the sockets; the %d %s holding them have waited %s, so the sockets are at least that old", count(s.Count), plural(s.Kind.String(), s.Count), FormatDuration(s.Wait)),
			Evidence: s.Evidence,
		}, true
	}
	return Claim{}, false
}

func poolName(ss []suspect) string {
	for _, s := range ss {
		if s.bucket.Class.Pool != "" {
			return s.bucket.Class.Pool
		}
	}
	return "the application"
}

func poolActivity(ss []suspect) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, fmt.Sprintf("%d %s in %s", count(s.bucket.Count), s.bucket.Class.Activity, topFunc(s.bucket)))
	}
	return strings.Join(parts, ", ")
}

// isNodeDump reports whether ev's thread dumps are Node.js's.
func isNodeDump(ev *dumps.Evidence) bool {
	return len(ev.ThreadDumps) > 0 && ev.ThreadDumps[0].Runtime == "node"
}

// topFunc names a stack group by the function that matters: the program's
// own code, else the first frame past the runtime's scheduling (a pooled
// connection's net/http.(*persistConn).readLoop).
func topFunc(bk dumps.Bucket) string {
	if i := dumps.AppFrame(bk.Frames); i >= 0 {
		return bk.Frames[i].Func
	}
	for _, f := range bk.Frames {
		if !strings.HasPrefix(f.Func, "runtime.") && !strings.HasPrefix(f.Func, "internal/") && !strings.HasPrefix(f.Func, "sync.") {
			return f.Func
		}
	}
	if bk.Class.Func != "" {
		return bk.Class.Func
	}
	if len(bk.Frames) > 0 {
		return bk.Frames[0].Func
	}
	return "?"
}

func suspectEvidence(ss []suspect) []Pos {
	var out []Pos
	for _, s := range ss {
		for _, m := range s.bucket.Members {
			out = append(out, TextPos(m.Pos))
			if len(out) >= 6 {
				return out
			}
		}
	}
	return out
}

// reportSuspects turns suspects into the report's, with the strength of
// their tie to the stuck sockets and why.
func (b *builder) reportSuspects(ss []suspect, stuck []key) []Suspect {
	if len(ss) == 0 {
		return nil // no lookup of each of thousands of stuck sockets for none
	}
	n := len(stuck)
	var oldest time.Duration
	for _, k := range stuck {
		oldest = max(oldest, b.sockets[k].Age)
	}
	var out []Suspect
	for _, s := range ss {
		bk := s.bucket
		var why []string
		score := 0
		if bk.Count*5 >= n*4 && bk.Count*2 <= n*3 {
			score += 2
			why = append(why, fmt.Sprintf("%d %s with this stack for %d stuck %s", count(bk.Count), plural(s.kind.String(), bk.Count), count(n), plural("socket", n)))
		} else {
			why = append(why, fmt.Sprintf("%d %s with this stack, %d stuck %s", count(bk.Count), plural(s.kind.String(), bk.Count), count(n), plural("socket", n)))
		}
		switch s.series {
		case dumps.SeriesGrowing:
			score++
			why = append(why, "the group grows from dump to dump")
		case dumps.SeriesPersistent:
			score++
			why = append(why, "the group is in every dump of the series")
		}
		if bk.MaxWait > 0 && oldest > 0 {
			ratio := float64(bk.MaxWait) / float64(oldest)
			if ratio > 0.5 && ratio < 2 {
				score++
				why = append(why, fmt.Sprintf("waiting %s, as old as the oldest socket (%s)", FormatDuration(bk.MaxWait), FormatDuration(oldest)))
			}
		}
		// A JavaScript stack's member is its message, not a thread; one
		// that names several groups alike says so below instead.
		what := "thread name"
		if s.issuer {
			what = "the stack's message"
		}
		if name := peerNamed(bk, stuck, what); name != "" && s.alike == "" {
			score += 2
			why = append(why, name)
		}
		if s.pool {
			score++
			what := "in the connection pool"
			switch {
			case s.role == RoleWaiter:
				what = "waiting to borrow from the connection pool, holding no connection"
			case s.connLoop:
				what = "one per pooled connection, holding it"
			}
			why = append(why, fmt.Sprintf("%s (%s)", what, cmp.Or(bk.Class.Pool, bk.Class.Activity.String())))
		} else if s.lockWait {
			score++
			why = append(why, fmt.Sprintf("blocked on a lock (%s) in application code, %s, holding the socket it serves", bk.Class.Activity, topFunc(bk)))
		} else if s.block {
			score++
			why = append(why, fmt.Sprintf("blocked (%s) in application code, %s, with no timeout in sight", bk.Class.Activity, topFunc(bk)))
		}
		if s.issuer {
			why = append(why, fmt.Sprintf("where the process's code ran (JavaScript %s it printed, %s), not a thread holding the sockets: Node.js runs its code on one event loop", plural("stack", bk.Count), topFunc(bk)))
			if s.paused > 0 && s.paused*2 >= n {
				score++
				why = append(why, fmt.Sprintf("the process's Node.js report shows %d of the %d stuck %s paused: open, and read by nothing", count(s.paused), count(n), plural("socket", n)))
			}
		}
		link := StrengthWeak
		switch {
		case s.sharedBy > 0 && s.alike != "":
			why = append(why, fmt.Sprintf("the stack's message names %s, which more than one of the process's %d groups of stuck sockets has: it may be another group's", s.alike, s.sharedBy))
		case s.sharedBy > 0:
			// Whatever else fits, it is not known to be this group's.
			why = append(why, fmt.Sprintf("nothing in the stack names one of the process's %d groups of stuck sockets: it may be another group's", s.sharedBy))
		case score >= 3:
			link = StrengthStrong
		case score >= 2:
			link = StrengthModerate
		}
		name := topFunc(bk)
		if s.kind == SuspectThread && len(bk.Members) > 0 && bk.Members[0].Name != "" {
			name = bk.Members[0].Name
			if bk.Count > 1 {
				name += fmt.Sprintf(" (and %d more)", count(bk.Count-1))
			}
		}
		frames := make([]string, 0, len(bk.Frames))
		for _, fr := range bk.Frames {
			frames = append(frames, fr.Func)
		}
		var evidence []Pos
		for _, m := range bk.Members {
			evidence = append(evidence, TextPos(m.Pos))
			if len(evidence) >= 5 {
				break
			}
		}
		state := bk.State
		if state == "" {
			state = bk.Class.Activity.String()
		}
		if s.issuer {
			state = "printed" // a stack the process printed: no thread state
		}
		culprit := cmp.Or(culpritOf(frames), topFunc(bk))
		if s.issuer {
			culprit = topFunc(bk) // the first frame outside Node.js's own files
		}
		out = append(out, Suspect{
			Kind: s.kind, Name: name, State: state, Wait: bk.MaxWait, Count: bk.Count,
			Frames: frames, Link: link, Why: why, Evidence: evidence, Culprit: culprit,
			Role: s.role, Locks: s.locks,
		})
	}
	slices.SortStableFunc(out, func(a, c Suspect) int {
		return cmp.Or(cmp.Compare(c.Link, a.Link), cmp.Compare(c.Count, a.Count))
	})
	return out
}

// peerNamed says how a member's name (what it is: a thread name, which
// pool and executor threads often give the peer or port, or a JavaScript
// stack's message) names the peer or local port of one of the stuck
// sockets, "" when none does. It looks at every socket: the names are read
// once for what they could name (namedIn), and each socket is looked up
// in that, so a group of 400,000 sockets costs a pass without allocating.
// The first socket, in the group's order, whose peer a name holds whole
// is the one said, or else the first whose peer's port or local port a
// name holds, by the first member that names it.
func peerNamed(bk dumps.Bucket, stuck []key, what string) string {
	m, ok := peerMatch(bk, stuck)
	if !ok {
		return ""
	}
	return m.text(bk, what)
}

// peerHit is what a name names of a group's sockets: a peer's address
// (addr), or a port (port, the peer's when remote); member is the first
// member whose name holds it.
type peerHit struct {
	addr   netip.AddrPort
	port   uint16
	remote bool
	member int
}

// named says what h names: an address, or a port.
func (h peerHit) named() string {
	if h.addr.IsValid() {
		return h.addr.String()
	}
	return strconv.Itoa(int(h.port))
}

// text says how the member's name names h.
func (h peerHit) text(bk dumps.Bucket, what string) string {
	return fmt.Sprintf("%s %q names %s", what, bk.Members[h.member].Name, h.named())
}

// peerMatch finds what peerNamed says: the first socket whose peer, peer's
// port or local port a member's name holds whole.
func peerMatch(bk dumps.Bucket, stuck []key) (peerHit, bool) {
	return namedIn(bk.Members).match(stuck)
}

// match finds what the names hold whole of stuck (see peerMatch): the
// first socket whose peer's address they name, or else the first whose
// peer's port or local port they name. An address is looked for past a
// socket whose port alone is named, so that a group of many peers is
// named by the peer it holds, wherever that is in the group's order (a
// port alone names a group only when no other names it: stackHits).
func (n *named) match(stuck []key) (peerHit, bool) {
	if len(n.colon)+len(n.dash) == 0 {
		return peerHit{}, false // every address named ends in a port after a colon
	}
	var first peerHit
	found := false
	for _, k := range stuck {
		if p := k.remote.Port(); n.colonBits.has(p) {
			for _, a := range n.addrs {
				if a.ap == k.remote.AddrPort() {
					return peerHit{addr: k.remote.AddrPort(), port: p, remote: true, member: a.member}, true
				}
			}
			if !found {
				first, found = peerHit{port: p, remote: true, member: n.colon[p]}, true
			}
		} else if p := k.local.Port(); n.dashBits.has(p) && !found {
			first, found = peerHit{port: p, member: n.dash[p]}, true
		}
		if found && len(n.addrs) == 0 {
			break // no address to look for
		}
	}
	return first, found
}

// named is what some names could name, each with the first member (by
// index) that names it: addresses with a port, ports after a colon
// (":8080") and ports between dashes ("-41000-"). The ports are in
// bitsets too, which a socket is checked against without hashing.
type named struct {
	addrs               []namedAddr
	colon, dash         map[uint16]int
	colonBits, dashBits *portSet
}

// namedAddr is an address a name holds, and the first member that holds it.
type namedAddr struct {
	ap     netip.AddrPort
	member int
}

// portSet is a set of ports, a bit each.
type portSet [1 << 16 / 64]uint64

func (s *portSet) add(p uint16) { s[p/64] |= 1 << (p % 64) }

func (s *portSet) has(p uint16) bool { return s != nil && s[p/64]&(1<<(p%64)) != 0 }

// addAddr adds an address a name holds, unless an earlier member holds it.
func (n *named) addAddr(ap netip.AddrPort, member int) {
	if !slices.ContainsFunc(n.addrs, func(a namedAddr) bool { return a.ap == ap }) {
		n.addrs = append(n.addrs, namedAddr{ap, member})
	}
}

// hex says whether c is a hexadecimal digit.
func hex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// addrChar says whether c may be in an address written without brackets:
// a hexadecimal digit, a colon or a dot.
func addrChar(c byte) bool { return hex(c) || c == ':' || c == '.' }

// addrStart is where the run of addrChar before s[j] begins.
func addrStart(s string, j int) int {
	for j > 0 && addrChar(s[j-1]) {
		j--
	}
	return j
}

// bareIPv6 reads the IPv6 address without brackets that ends at s[j], the
// colon before the port s[j+1:e]: the whole run of hexadecimal digits,
// colons and dots before it, written as netip.Addr.String writes it. The
// last colon is taken for the port's, as Node.js means it.
func bareIPv6(s string, j, e int) (netip.AddrPort, bool) {
	start := addrStart(s, j)
	a, err := netip.ParseAddr(s[start:j])
	if err != nil || !a.Is6() || a.Zone() != "" || a.String() != s[start:j] {
		return netip.AddrPort{}, false
	}
	p, err := strconv.ParseUint(s[j+1:e], 10, 16)
	if err != nil || strconv.FormatUint(p, 10) != s[j+1:e] {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(p)), true
}

// inBareIPv6 reports whether the colon s[j] and the digits after it, up
// to s[e], are a group inside an IPv6 address written without brackets,
// not a port: in "::1:3000", Node.js's way of writing [::1]:3000, the 1
// is not a port. They are when the run of hexadecimal digits, colons and
// dots around them (the colons and dots ending it aside, as in
// "::1:3000: refused" or "to ::1:3000.") goes on after them and is an
// IPv6 address, whole or but for its last group, the port Node.js
// appends.
func inBareIPv6(s string, j, e int) bool {
	start, end := addrStart(s, j), e
	for end < len(s) && addrChar(s[end]) {
		end++
	}
	for end > e && (s[end-1] == ':' || s[end-1] == '.') {
		end--
	}
	if end == e {
		return false // the run's last group: a port
	}
	run := s[start:end]
	if a, err := netip.ParseAddr(run); err == nil && a.Is6() {
		return true
	}
	if k := strings.LastIndexByte(run, ':'); k > 0 {
		if a, err := netip.ParseAddr(run[:k]); err == nil && a.Is6() {
			return true
		}
	}
	return false
}

// namedIn reads the members' names for the addresses and ports they hold
// whole, as the tests' plain search (namesWhole) finds them: a port is a
// run of digits written as strconv.Itoa writes it, whole (no digit on
// either side), and not a group inside an IPv6 address written without
// brackets (inBareIPv6); an address is the whole run of digits and dots
// before ":port" (not after a digit or a dot) or a bracketed one, written
// as netip.AddrPort.String writes it, or an IPv6 address without
// brackets, as Node.js writes one (bareIPv6).
func namedIn(members []dumps.Member) *named {
	n := &named{}
	add := func(m map[uint16]int, bits **portSet, port string, i int) map[uint16]int {
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || strconv.FormatUint(p, 10) != port {
			return m
		}
		if m == nil {
			m, *bits = map[uint16]int{}, new(portSet)
		}
		if _, ok := m[uint16(p)]; !ok {
			m[uint16(p)] = i
			(*bits).add(uint16(p))
		}
		return m
	}
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	for i, mb := range members {
		s := mb.Name
		for j := 0; j < len(s); j++ {
			if s[j] != ':' && s[j] != '-' {
				continue
			}
			e := j + 1
			for e < len(s) && digit(s[e]) {
				e++
			}
			if e == j+1 || s[j] == ':' && inBareIPv6(s, j, e) {
				continue
			}
			port := s[j+1 : e]
			if s[j] == '-' {
				if e < len(s) && s[e] == '-' {
					n.dash = add(n.dash, &n.dashBits, port, i)
				}
				continue
			}
			n.colon = add(n.colon, &n.colonBits, port, i)
			// The address before the colon.
			start := j
			switch {
			case j > 0 && s[j-1] == ']':
				start = strings.LastIndexByte(s[:j-1], '[')
			default:
				for start > 0 && (digit(s[start-1]) || s[start-1] == '.') {
					start--
				}
				if start > 0 && (hex(s[start-1]) || s[start-1] == ':') {
					// An IPv6 address without brackets, as Node.js
					// writes one: "connect ECONNREFUSED ::1:3000".
					// The IPv4 one it may end in is read below.
					if ap, ok := bareIPv6(s, j, e); ok {
						n.addAddr(ap, i)
					}
				}
			}
			if start < 0 || start == j {
				continue
			}
			text := s[start:e]
			if ap, err := netip.ParseAddrPort(text); err == nil && ap.String() == text {
				n.addAddr(ap, i)
			}
		}
	}
	return n
}

// remoteEnds keeps the FIN_WAIT2 sockets whose peer end is not a stuck
// socket of this report: on loopback both ends are on this host, and the
// CLOSE_WAIT end is then a finding of its own process, not a remote leak.
func (b *builder) remoteEnds(keys []key) []key {
	var out []key
	for _, k := range keys {
		if s, ok := b.sockets[k.reversed()]; ok && s.Status.Stuck() {
			continue
		}
		out = append(out, k)
	}
	return out
}

// remoteLeakFinding reports our FIN_WAIT2 sockets toward peers that never
// close: the leak is on the remote side.
func (b *builder) remoteLeakFinding(g *group) Finding {
	n := len(g.finWait2)
	f := Finding{Category: CategoryRemotePeerLeak, Mechanism: MechanismRemote, Process: b.process(g.pid), Sockets: b.keysOf(g.finWait2), Confidence: confidences.RemotePeer}
	if g.pid == 0 {
		// Our FIN_WAIT2 ends are orphaned (closed by us, so no process
		// lists them): the local process is the one that owns the live
		// connections to the same peer.
		if pid, c, ok := b.peerOwner(g.finWait2); ok {
			f.Process = b.process(pid)
			f.Supporting = append(f.Supporting, c)
		} else if p, c, ok := b.peerInCmdline(g.finWait2); ok {
			f.Process = p
			f.Supporting = append(f.Supporting, c)
		} else {
			f.Contradicting = append(f.Contradicting, Claim{Text: "our FIN_WAIT2 sockets are orphaned (no process lists them) and no listed process owns other connections to the same peer: the local side cannot be named"})
		}
	}
	peers := map[string]bool{}
	for _, k := range g.finWait2 {
		peers[k.remote.Addr().String()+":"+strconv.Itoa(int(k.remote.Port()))] = true
	}
	names := make([]string, 0, len(peers))
	for p := range peers {
		names = append(names, p)
	}
	slices.Sort(names)
	f.Title = "The peers never close their side"
	f.Group = fmt.Sprintf("%d peers: %s", count(len(names)), strings.Join(names[:min(3, len(names))], ", "))
	if len(names) == 1 {
		f.Title = "The peer " + names[0] + " never closes its side"
		f.Group = "peer " + names[0]
	}
	f.Supporting = append(f.Supporting, Claim{
		Text:     fmt.Sprintf("%d of our %s sent a FIN that the peer acknowledged, and the peer never sent its own: ours wait in FIN_WAIT2, the peer's sockets are in CLOSE_WAIT (peer %s)", count(n), plural("socket", n), strings.Join(names[:min(3, len(names))], ", ")),
		Evidence: b.evidenceOf(g.finWait2, 6),
	})
	f.Severity, f.SeverityReasons = b.measure(0, g.finWait2, false)
	f.Note = "The code to fix runs on the peer; on this host, net.ipv4.tcp_fin_timeout bounds how long orphaned FIN_WAIT2 sockets stay."
	return f
}

// peerOwner finds the process that owns the live connections to the peers
// of some orphaned sockets: the listed sockets to the same peer address and
// port, by owner. It is found when one process owns most of them.
func (b *builder) peerOwner(keys []key) (int, Claim, bool) {
	peers := map[netip.AddrPort]bool{}
	for _, k := range keys {
		peers[k.remote.AddrPort()] = true
	}
	owned := map[int]int{}
	ev := map[int][]Pos{}
	total := 0
	for k, ls := range b.kernel {
		if !peers[k.remote.AddrPort()] {
			continue
		}
		for _, l := range ls {
			if l.state != dumps.StateEstablished && l.state != dumps.StateCloseWait && l.state != dumps.StateSynSent {
				continue
			}
			for _, o := range l.owners {
				if o.PID != nil {
					owned[*o.PID]++
					total++
					ev[*o.PID] = append(ev[*o.PID], l.pos)
					break
				}
			}
		}
	}
	best, bestN := 0, 0
	for pid, n := range owned {
		if n > bestN || (n == bestN && pid < best) {
			best, bestN = pid, n
		}
	}
	if best == 0 || bestN*2 <= total {
		return 0, Claim{}, false
	}
	e := sortPositions(ev[best])
	names := make([]string, 0, len(peers))
	for p := range peers {
		names = append(names, p.String())
	}
	slices.Sort(names)
	return best, Claim{
		Text: fmt.Sprintf("%s owns %d of the %d live connections the listings show to the same peer (%s): the orphaned FIN_WAIT2 sockets were its connections, which it closed",
			b.process(best), count(bestN), count(total), strings.Join(names[:min(3, len(names))], ", ")),
		Evidence: e[:min(6, len(e))],
	}, true
}

// churnFinding reports the transient CLOSE_WAIT of a process: sockets the
// application closed later in the capture, and sockets in CLOSE_WAIT at
// the capture's end that a later listing no longer shows. Transient
// CLOSE_WAIT is never a leak, whatever else the process holds.
func (b *builder) churnFinding(g *group) Finding {
	unlisted := b.closedLaterUnlisted[g.pid]
	var closed, gone []key
	for _, k := range g.closed {
		if b.sockets[k].Status == StatusGoneLater {
			gone = append(gone, k)
		} else {
			closed = append(closed, k)
		}
	}
	n := len(closed) + unlisted
	var longest time.Duration
	for _, k := range closed {
		longest = max(longest, b.sockets[k].Age)
	}
	f := Finding{Category: CategoryNormalChurn, Mechanism: MechanismTransient, Process: b.process(g.pid), Sockets: b.keysOf(g.closed), Confidence: confidences.Transient, Severity: SeverityInfo}
	f.SeverityReasons = []string{"info: transient CLOSE_WAIT, each socket closed by the application; not a leak"}
	var parts []string
	if n > 0 {
		text := fmt.Sprintf("%d %s went through CLOSE_WAIT and the application closed each of them (the longest after %s): transient CLOSE_WAIT, not a leak", count(n), plural("socket", n), FormatDuration(longest))
		if unlisted > 0 {
			text += fmt.Sprintf("; the %d longest are listed", count(len(closed)))
		}
		f.Supporting = append(f.Supporting, Claim{Text: text, Evidence: b.evidenceOf(closed, 6)})
		parts = append(parts, fmt.Sprintf("%d closed after up to %s", count(n), FormatDuration(longest)))
	}
	if len(gone) > 0 {
		var oldest time.Duration
		for _, k := range gone {
			oldest = max(oldest, b.sockets[k].Age)
		}
		f.Supporting = append(f.Supporting, Claim{
			Text:     fmt.Sprintf("%d %s in CLOSE_WAIT at the end of the capture (for up to %s) are gone from a later listing: closed since, transient", count(len(gone)), plural("socket", len(gone)), FormatDuration(oldest)),
			Evidence: b.evidenceOf(gone, 6),
		})
		parts = append(parts, fmt.Sprintf("%d gone from a later listing", count(len(gone))))
	}
	f.Group = strings.Join(parts, ", ")
	return f
}

// errorHandlingFinding reports a process whose side resets many of its
// connections: sockets torn down with RST after errors, a sign of error
// paths that abort rather than close.
func (b *builder) errorHandlingFinding(pid int) (Finding, bool) {
	resets, total := b.resets[pid], b.connsByPID[pid]
	if pid == 0 || resets == nil || resets.n < 5 || resets.n*10 < total {
		return Finding{}, false
	}
	f := Finding{Category: CategoryErrorHandling, Process: b.process(pid), Confidence: 0.5, Severity: SeverityInfo}
	f.SeverityReasons = []string{fmt.Sprintf("info: %d of %d connections reset by this process", count(resets.n), count(total))}
	f.Supporting = append(f.Supporting, Claim{
		Text:     fmt.Sprintf("the process reset %d of its %d captured connections instead of closing them: error paths that abort sockets", count(resets.n), count(total)),
		Evidence: slices.Clone(resets.first),
	})
	return f, true
}

// timeline is the number of sockets in CLOSE_WAIT over capture time, from
// the capture's connections, else from timed kernel listings.
func (b *builder) timeline() {
	res := b.in.Capture
	// Events in ns since the epoch: a busy capture has millions, and
	// their order is all that matters (events at one instant merge). The
	// closed-later sockets' (listed or not, as the connections were taken)
	// are b.closed.at and b.closed.end, each sorted in place; here are the
	// CLOSE_WAIT of the connections of stuck sockets (a CLOSE_WAIT of the
	// remote end, or one too young, has none).
	// The closed-later sockets' two lists sort on other goroutines
	// meanwhile (Build began them when it began): they are most of the
	// work. Past closedTimes' bound they are a grid of counts, whose cells
	// are events among the others.
	b.sortClosed()
	var evs []timeEvent
	if b.closed.gridded {
		// A cell's change is shown at its start, but not before the
		// capture's: the first cell may begin before the capture did,
		// and the timeline starts there.
		start := res.Start.UnixNano()
		for i, d := range b.closed.cells {
			if d != 0 {
				evs = append(evs, timeEvent{max(b.closed.cellStart(i), start), int(d)})
			}
		}
	}
	for k, ivs := range b.spans {
		if sk, ok := b.sockets[k]; !ok || !sk.Status.Stuck() {
			continue
		}
		for _, iv := range ivs {
			evs = append(evs, timeEvent{iv.at, 1})
			if iv.end != 0 {
				evs = append(evs, timeEvent{iv.end, -1})
			}
		}
	}
	slices.SortFunc(evs, func(a, c timeEvent) int { return cmp.Compare(a.at, c.at) })
	b.closedSorting.Wait()
	if len(evs) == 0 && b.closed.empty() {
		b.m.Timeline = b.kernelTimeline()
		return
	}
	instants := mergeInstants(b.closed.at, b.closed.end, evs)
	// The capture's start and end as instants, when they are instants
	// (ns since the epoch in an int64): an instant is the start or the
	// end when it is that ns; one that is not can be neither.
	startNS, startOK := instantOf(res.Start)
	endNS, endOK := instantOf(res.End)
	// The points are the capture's start, the instants (the first merged
	// into the start when it is the same instant) and the capture's end
	// unless the last instant is it; thin looks at them in order, so that
	// there is no Point for each of the millions: a timePoint is made a
	// Point only when it is kept.
	points := func(yield func(timePoint) bool) {
		prev := timePoint{edge: edgeStart}
		for at, n := range instants {
			if prev.edge == edgeStart && startOK && at == startNS {
				prev.n = n // the instants are distinct: only the first can be the start
				continue
			}
			if !yield(prev) {
				return
			}
			prev = timePoint{at: at, n: n}
		}
		last := prev.edge == edgeNone && endOK && prev.at == endNS || prev.edge == edgeStart && res.Start.Equal(res.End)
		if yield(prev) && !last {
			yield(timePoint{n: prev.n, edge: edgeEnd})
		}
	}
	// How many points there are, counted on the instants alone: each
	// instant is one, but the first when it is the capture's start; then
	// the start, unless merged, and the end, unless the last instant is
	// it.
	n, first, last := countInstants(b.closed.at, b.closed.end, evs)
	total := n + 1 // the start, or the first instant merged into it
	if n > 0 && startOK && first == startNS {
		total--
	}
	if n == 0 && !res.Start.Equal(res.End) || n > 0 && !(endOK && last == endNS) {
		total++
	}
	kept := thin(total, 400, points, timePoint.count)
	b.m.Timeline = make([]Point, len(kept))
	for i, p := range kept {
		b.m.Timeline[i] = p.point(res.Start, res.End)
	}
}

// sortClosed begins to sort the closed-later sockets' instants, for the
// timeline, on two goroutines, unless it has begun: the lists are complete
// once the connections are all added, long before the timeline is drawn.
func (b *builder) sortClosed() {
	if b.closedSorting != nil {
		return
	}
	b.closedSorting = &sync.WaitGroup{}
	c := &b.closed
	if c.gridded {
		return
	}
	for kind, xs := range [2]*[]int64{&c.at, &c.end} {
		b.closedSorting.Add(1)
		go func() {
			defer b.closedSorting.Done()
			c.gather(kind)
			sortTimes(*xs)
		}()
	}
}

// timeEvent is a change of the count of sockets in CLOSE_WAIT at an
// instant (ns since the epoch).
type timeEvent struct {
	at    int64
	delta int
}

// mergeInstants yields every instant of three sorted lists of events
// (entries, exits and others) in time order, with the count after its
// events: the timeline's instants.
func mergeInstants(ups, downs []int64, others []timeEvent) iter.Seq2[int64, int] {
	return func(yield func(at int64, n int) bool) {
		n := 0
		for len(ups)+len(downs)+len(others) > 0 {
			at := int64(math.MaxInt64)
			if len(ups) > 0 {
				at = ups[0]
			}
			if len(downs) > 0 {
				at = min(at, downs[0])
			}
			if len(others) > 0 {
				at = min(at, others[0].at)
			}
			for len(ups) > 0 && ups[0] == at {
				n, ups = n+1, ups[1:]
			}
			for len(downs) > 0 && downs[0] == at {
				n, downs = n-1, downs[1:]
			}
			for len(others) > 0 && others[0].at == at {
				n, others = n+others[0].delta, others[1:]
			}
			if !yield(at, n) {
				return
			}
		}
	}
}

// countInstants counts the instants mergeInstants yields, with the first
// and the last, before thin looks at them.
func countInstants(ups, downs []int64, others []timeEvent) (n int, first, last int64) {
	for at := range mergeInstants(ups, downs, others) {
		if n == 0 {
			first = at
		}
		last, n = at, n+1
	}
	return n, first, last
}

// timePoint is a point of the timeline until thin keeps it: an instant,
// or the capture's start or end.
type timePoint struct {
	at   int64 // an instant's, in ns since the epoch
	n    int
	edge pointEdge
}

// pointEdge says which end of the capture a timePoint is, if any.
type pointEdge uint8

const (
	edgeNone pointEdge = iota
	edgeStart
	edgeEnd
)

func (p timePoint) count() int { return p.n }

// point is the Point p is, in a capture from start to end.
func (p timePoint) point(start, end time.Time) Point {
	switch p.edge {
	case edgeStart:
		return Point{At: start, Count: p.n}
	case edgeEnd:
		return Point{At: end, Count: p.n}
	}
	return Point{At: time.Unix(0, p.at).UTC(), Count: p.n}
}

// instantOf is t in ns since the epoch, and whether that is t (an int64
// holds the ns of 1678 to 2262 only).
func instantOf(t time.Time) (int64, bool) {
	ns := t.UnixNano()
	return ns, time.Unix(0, ns).Equal(t)
}

// kernelTimeline counts CLOSE_WAIT sockets per timed listing snapshot.
// Snapshots are known by their instant, in UTC: two listings taken at
// one instant, their times written in two zones, are one point (as
// time.Time map keys they were two, in map order).
func (b *builder) kernelTimeline() []Point {
	counts := map[time.Time]map[key]bool{}
	for k, ls := range b.kernel {
		for _, l := range ls {
			if l.state == dumps.StateCloseWait && !l.at.IsZero() {
				at := l.at.UTC()
				if counts[at] == nil {
					counts[at] = map[key]bool{}
				}
				counts[at][k] = true
			}
		}
	}
	var pts []Point
	for at, ks := range counts {
		pts = append(pts, Point{At: at, Count: len(ks)})
	}
	slices.SortFunc(pts, func(a, c Point) int { return a.At.Compare(c.At) })
	return pts
}

// thin keeps at most n of the total points pts yields in order, the first,
// the last and the highest of each stretch, so a long capture draws fast
// and keeps its peaks (count is a point's count); it keeps no other point.
func thin[P any](total, n int, pts iter.Seq[P], count func(P) int) []P {
	out := make([]P, 0, min(total, n))
	if total <= n {
		for p := range pts {
			out = append(out, p)
		}
		return out
	}
	// Stretch i is the points lo to min(hi, total-1) (excluded); each
	// begins where the one before ends, and holds one point at least
	// (step is more than 1).
	step := float64(total-2) / float64(n-2)
	var best P
	i, j := 0, 0
	for p := range pts {
		switch {
		case j == 0 || j == total-1:
			out = append(out, p)
		case i < n-2:
			lo, hi := 1+int(float64(i)*step), min(1+int(float64(i+1)*step), total-1)
			if j == lo || count(p) > count(best) {
				best = p
			}
			if j == hi-1 {
				out = append(out, best)
				i++
			}
		}
		j++
	}
	return out
}

func (b *builder) summary() {
	s := &b.m.Summary
	if res := b.in.Capture; res != nil {
		s.Connections = int(res.Connections)
		s.CaptureStart, s.CaptureEnd = res.Start, res.End
	}
	// Growth over less than GrowthMinSpan is noise: left unknown.
	if g, span := Growth(b.m.Timeline); span >= b.in.Thresholds.GrowthMinSpan {
		s.Growth = g
	}
	// The fd limit of the process holding the most stuck sockets.
	best, bestN := 0, 0
	counts := map[int]int{}
	for _, sk := range b.sockets {
		if sk.Status.Stuck() && sk.PID > 0 {
			counts[sk.PID]++
		}
	}
	for pid, n := range counts {
		if n > bestN || (n == bestN && pid < best) {
			best, bestN = pid, n
		}
	}
	switch {
	case b.in.MaxFDs > 0:
		s.FDLimit, s.FDLimitFrom = b.in.MaxFDs, maxFDsFlag
	case best > 0 && b.proc(best).fdLimit > 0:
		s.FDLimit, s.FDLimitFrom = b.proc(best).fdLimit, b.proc(best).fdFrom
	case b.defLimit > 0:
		s.FDLimit, s.FDLimitFrom = b.defLimit, b.limFrom
	}
}

// warnings carries every input's warnings into the report, and says what
// the capture could not confirm.
func (b *builder) warnings() {
	if res := b.in.Capture; res != nil {
		for _, w := range res.Warnings {
			b.m.Warnings = append(b.m.Warnings, Warning{Pos: PacketPos(w.Pos), Msg: fmt.Sprintf("%s (byte offset %d)", w.Msg, w.Offset)})
		}
		for _, sk := range res.Skipped {
			if sk.Kind == "truncated" || sk.Kind == "malformed" {
				b.m.Warnings = append(b.m.Warnings, Warning{Pos: SourcePos("captures"), Msg: fmt.Sprintf("%d %s frames could not be decoded", count(sk.Packets), sk.Kind)})
			}
		}
	}
	// An ss listing with a state filter prints no State column: its states
	// come from the same socket in another listing or from the file's
	// name. One note per file says so, in place of the parser's note that
	// the state is unknown.
	from := map[string][]string{}
	for _, ls := range b.kernel {
		for _, l := range ls {
			if l.stateFrom != "" && !slices.Contains(from[l.file], l.stateFrom) {
				from[l.file] = append(from[l.file], l.stateFrom)
			}
		}
	}
	stateNote := func(file string) string {
		srcs := slices.Clone(from[file])
		slices.Sort(srcs)
		return "the listing prints no state (an ss state filter); states were taken from " + strings.Join(srcs, " and ")
	}
	noted := map[string]bool{}
	for _, ev := range b.in.Evidence {
		for _, w := range ev.Warnings {
			msg := w.Msg
			if w.Kind == dumps.WarnNoState && len(from[w.Pos.File]) > 0 {
				msg = stateNote(w.Pos.File)
				noted[w.Pos.File] = true
			}
			b.m.Warnings = append(b.m.Warnings, Warning{Pos: TextPos(w.Pos), Msg: msg})
		}
	}
	if n := len(b.unconf); n > 0 {
		b.m.Warnings = append(b.m.Warnings, Warning{Pos: slices.MinFunc(b.unconf, Pos.Compare), Msg: fmt.Sprintf("%d %s in CLOSE_WAIT at capture end cannot be confirmed (the FIN's acknowledgement is not in the capture, or only one direction was captured) and no listing shows them; they are left out", count(n), plural("socket", n))})
	}
	files := slices.Sorted(maps.Keys(from))
	for _, f := range files {
		if !noted[f] {
			b.m.Warnings = append(b.m.Warnings, Warning{Pos: FilePos(f), Msg: stateNote(f)})
		}
	}
}
