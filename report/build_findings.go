package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
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
		case s.Status.Stuck():
			g.stuck = append(g.stuck, k)
		case s.Status == StatusFinWait2:
			g.finWait2 = append(g.finWait2, k)
		case s.Status == StatusClosedLater:
			g.closed = append(g.closed, k)
		}
	}
	pids := make([]int, 0, len(groups))
	anyStuck := false
	for pid, g := range groups {
		pids = append(pids, pid)
		slices.SortFunc(g.stuck, compareKeys)
		slices.SortFunc(g.finWait2, compareKeys)
		slices.SortFunc(g.closed, compareKeys)
		anyStuck = anyStuck || len(g.stuck) > 0 || len(g.finWait2) > 0
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
			b.m.Findings = append(b.m.Findings, b.stuckFinding(g))
		}
		if fw := b.remoteEnds(g.finWait2); len(fw) > 0 {
			g.finWait2 = fw
			b.m.Findings = append(b.m.Findings, b.remoteLeakFinding(g))
		}
		if !anyStuck && len(g.closed) > 0 {
			b.m.Findings = append(b.m.Findings, b.churnFinding(g))
		}
		if f, ok := b.errorHandlingFinding(pid); ok {
			b.m.Findings = append(b.m.Findings, f)
		}
	}
}

// process describes pid for a finding.
func (b *builder) process(pid int) Process {
	if pid == 0 {
		return Process{}
	}
	p := b.proc(pid)
	rt := p.runtime
	if rt == RuntimeUnknown {
		rt = runtimeOfName(p.name)
	}
	return Process{PID: pid, Name: p.name, Runtime: rt}
}

// measure rates a process's stuck sockets against the thresholds.
func (b *builder) measure(pid int, keys []key) (Severity, []string) {
	var oldest time.Duration
	for _, k := range keys {
		oldest = max(oldest, b.sockets[k].Age)
	}
	limit := b.in.MaxFDs
	if limit == 0 && pid > 0 {
		limit = b.proc(pid).fdLimit
	}
	if limit == 0 {
		limit = b.defLimit
	}
	growth, span := Growth(b.m.Timeline)
	return Rate(b.in.Thresholds, Measure{Count: len(keys), FDLimit: limit, Oldest: oldest, Growth: growth, GrowthSpan: span,
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
func (b *builder) evidenceOf(keys []key, n int) []string {
	out := []string{}
	for _, k := range keys {
		for _, e := range b.sockets[k].Evidence {
			if e != "" && !slices.Contains(out, e) {
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
	if c, ok := b.conns[k]; ok && c.Handshake {
		if c.Local.Addr == k.local || mkKey(c.Local.Addr, c.Remote.Addr) == k {
			return c.LocalOpened
		}
		return !c.LocalOpened
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
}

// suspects lists the stack groups of the process's latest dump that hold or
// wait on connections: pool borrows and pooled-connection loops, and app
// code blocked on a lock, a monitor, a channel or a socket read.
func (b *builder) suspects(pid int) ([]suspect, string) {
	p := b.proc(pid)
	var jvm, gor, prof []dumps.Snapshot
	var lastJVM *dumps.ThreadDump
	var lastGo *dumps.GoroutineDump
	var lastProf *dumps.GoroutineProfile
	for _, ev := range p.dumps {
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
	var from string
	kind := SuspectGoroutine
	switch {
	case lastJVM != nil:
		buckets, series, from, kind = lastJVM.Buckets, dumps.CompareSeries(jvm), lastJVM.Pos.String(), SuspectThread
	case lastGo != nil:
		buckets, series, from = lastGo.Buckets, dumps.CompareSeries(gor), lastGo.Pos.String()
	case lastProf != nil:
		buckets, series, from = lastProf.Buckets, dumps.CompareSeries(prof), lastProf.Pos.String()
	default:
		return nil, ""
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
		s := suspect{bucket: bk, kind: kind, series: status[bk.ID]}
		act := bk.Class.Activity
		s.pool = act == dumps.ActPoolBorrow || bk.Class.Pool != ""
		switch act {
		case dumps.ActDeadlocked, dumps.ActLockWait, dumps.ActCondWait, dumps.ActChanWait, dumps.ActSocketRead, dumps.ActSocketWrite:
			// A timed wait (TIMED_WAITING) ends by itself: not indefinite.
			s.block = dumps.AppFrame(bk.Frames) >= 0 && !strings.HasPrefix(bk.State, "TIMED")
		}
		if s.pool || s.block {
			out = append(out, s)
		}
	}
	return out, from
}

func laterDump(a, b *dumps.ThreadDump) bool {
	ta, oka := a.When()
	tb, okb := b.When()
	if oka && okb {
		return ta.After(tb)
	}
	return true // file order
}

// stuckFinding classifies the stuck sockets of one process.
func (b *builder) stuckFinding(g *group) (f Finding) {
	n := len(g.stuck)
	proc := b.process(g.pid)
	f = Finding{Process: proc, Sockets: b.keysOf(g.stuck)}
	defer func() {
		// Rated last: ages may come from the dump (see agesFromDump).
		f.Severity, f.SeverityReasons = b.measure(g.pid, g.stuck)
	}()

	var confirmed, captureOnly, kernelOnly int
	outbound := 0
	peers := map[string]int{}
	for _, k := range g.stuck {
		switch b.sockets[k].Status {
		case StatusConfirmed:
			confirmed++
		case StatusCaptureOnly:
			captureOnly++
		case StatusKernelOnly:
			kernelOnly++
		}
		if b.outbound(g.pid, k) {
			outbound++
		}
		peers[k.remote.String()]++
	}
	owner := "an unknown process"
	if g.pid > 0 {
		owner = proc.String()
	}
	f.Supporting = append(f.Supporting, Claim{
		Text:     fmt.Sprintf("%d %s in CLOSE_WAIT held by %s: %d listed by the kernel and confirmed by the capture, %d seen only in the capture, %d listed only by the kernel", n, plural("socket", n), owner, confirmed, captureOnly, kernelOnly),
		Evidence: b.evidenceOf(g.stuck, 6),
	})
	if g.pid == 0 {
		f.Contradicting = append(f.Contradicting, Claim{Text: "no socket listing names the process holding these sockets: save `ss -tanp` or `lsof -nP -iTCP -sTCP:CLOSE_WAIT` as root during the incident"})
	}
	isOut := outbound*2 > n
	dir := "accepted by the process (it listens on the local port)"
	if isOut {
		dir = "opened by the process (outbound)"
	}
	f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%d of %d sockets were %s", max(outbound, n-outbound), n, dir)})

	sus, from := b.suspects(g.pid)
	var pool, block []suspect
	poolCount, blockCount := 0, 0
	for _, s := range sus {
		if s.pool {
			pool = append(pool, s)
			poolCount += s.bucket.Count
		} else {
			block = append(block, s)
			blockCount += s.bucket.Count
		}
	}
	haveDump := from != ""
	if c, ok := b.dumpClaim(g.pid); ok {
		f.Supporting = append(f.Supporting, c)
	}
	rtClaims, paused := b.runtimeSocketClaims(g.pid, g.stuck)
	f.Supporting = append(f.Supporting, rtClaims...)
	if c, ok := b.logClaim(g.pid); ok {
		f.Supporting = append(f.Supporting, c)
	}
	switch {
	case isOut && len(pool) > 0:
		f.Category = CategoryPoolLeak
		f.Confidence = 0.85
		if poolCount >= n {
			f.Confidence = 0.9
		}
		f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%d %s in the connection pool of %s (%s)", poolCount, plural(pool[0].kind.String(), poolCount), poolName(pool), poolActivity(pool)), Evidence: suspectEvidence(pool)})
	case isOut && !haveDump && len(peers) == 1:
		f.Category = CategoryPoolLeak
		f.Confidence = 0.45
		f.Contradicting = append(f.Contradicting, Claim{Text: "no thread or goroutine dump of this process: the pool and the code that borrowed the connections cannot be shown"})
	case len(block) > 0 && blockCount*2 >= n:
		f.Category = CategoryBlockedHoldingSocket
		f.Confidence = 0.6
		if blockCount >= n && blockCount*2 <= n*3 {
			f.Confidence = 0.8
		}
		f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%d %s blocked indefinitely in application code (%s), about as many as the stuck sockets", blockCount, plural(block[0].kind.String(), blockCount), blockActivity(block)), Evidence: suspectEvidence(block)})
	default:
		f.Category = CategoryMissingClose
		f.Confidence = 0.55
		if haveDump {
			f.Confidence = 0.75
			text := fmt.Sprintf("the dump (%s) shows no thread or goroutine reading or holding these sockets in numbers: nothing will ever close them", from)
			if blockCount > 0 {
				text = fmt.Sprintf("the dump (%s) shows only %d blocked %s in application code for %d stuck sockets: most sockets are held by no running code", from, blockCount, plural(kindWord(block), blockCount), n)
			}
			f.Supporting = append(f.Supporting, Claim{Text: text, Evidence: []string{from}})
		} else {
			f.Contradicting = append(f.Contradicting, Claim{Text: "no thread or goroutine dump of this process: a thread blocked while holding the sockets cannot be ruled out"})
		}
		if isOut {
			f.Contradicting = append(f.Contradicting, Claim{Text: "the sockets are outbound: a client or pool that never releases connections is as likely"})
		}
	}
	pausedFloor(&f, paused, n)
	if len(peers) == 1 {
		for p := range peers {
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("every stuck socket goes to the same peer %s", p)})
		}
	}
	f.Suspects = b.reportSuspects(sus, g.stuck)
	if c, ok := b.agesFromDump(g.stuck, f.Suspects); ok {
		f.Supporting = append(f.Supporting, c)
	}
	if !haveDump && proc.Runtime != RuntimeUnknown && proc.Runtime != RuntimePython && proc.Runtime != RuntimeNode {
		f.Note = "Take a thread or goroutine dump of the process during the incident to show the code that holds the sockets."
	}
	return f
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
	var ev []string
	for _, n := range p.dumpNotes {
		files[n.how] = append(files[n.how], n.file)
		if !slices.Contains(hows, n.how) {
			hows = append(hows, n.how)
		}
		if n.pos != "" {
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
			Text:     fmt.Sprintf("no capture dates the sockets; the %d %s holding them have waited %s, so the sockets are at least that old", s.Count, plural(s.Kind.String(), s.Count), FormatDuration(s.Wait)),
			Evidence: s.Evidence,
		}, true
	}
	return Claim{}, false
}

func kindWord(ss []suspect) string {
	if len(ss) > 0 {
		return ss[0].kind.String()
	}
	return "thread"
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
		parts = append(parts, fmt.Sprintf("%d %s in %s", s.bucket.Count, s.bucket.Class.Activity, topFunc(s.bucket)))
	}
	return strings.Join(parts, ", ")
}

func blockActivity(ss []suspect) string { return poolActivity(ss) }

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

func suspectEvidence(ss []suspect) []string {
	var out []string
	for _, s := range ss {
		for _, m := range s.bucket.Members {
			out = append(out, m.Pos.String())
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
			why = append(why, fmt.Sprintf("%d %s with this stack for %d stuck %s", bk.Count, plural(s.kind.String(), bk.Count), n, plural("socket", n)))
		} else {
			why = append(why, fmt.Sprintf("%d %s with this stack, %d stuck %s", bk.Count, plural(s.kind.String(), bk.Count), n, plural("socket", n)))
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
		if name := b.peerInNames(bk, stuck); name != "" {
			score += 2
			why = append(why, name)
		}
		if s.pool {
			score++
			why = append(why, fmt.Sprintf("in the connection pool (%s)", cmp.Or(bk.Class.Pool, bk.Class.Activity.String())))
		} else if s.block {
			score++
			why = append(why, fmt.Sprintf("blocked (%s) in application code, %s, with no timeout in sight", bk.Class.Activity, topFunc(bk)))
		}
		link := StrengthWeak
		switch {
		case score >= 3:
			link = StrengthStrong
		case score >= 2:
			link = StrengthModerate
		}
		name := topFunc(bk)
		if s.kind == SuspectThread && len(bk.Members) > 0 && bk.Members[0].Name != "" {
			name = bk.Members[0].Name
			if bk.Count > 1 {
				name += fmt.Sprintf(" (and %d more)", bk.Count-1)
			}
		}
		frames := make([]string, 0, len(bk.Frames))
		for _, fr := range bk.Frames {
			frames = append(frames, fr.Func)
		}
		var evidence []string
		for _, m := range bk.Members {
			evidence = append(evidence, m.Pos.String())
			if len(evidence) >= 5 {
				break
			}
		}
		state := bk.State
		if state == "" {
			state = bk.Class.Activity.String()
		}
		out = append(out, Suspect{
			Kind: s.kind, Name: name, State: state, Wait: bk.MaxWait, Count: bk.Count,
			Frames: frames, Link: link, Why: why, Evidence: evidence, Culprit: cmp.Or(culpritOf(frames), topFunc(bk)),
		})
	}
	slices.SortStableFunc(out, func(a, c Suspect) int {
		return cmp.Or(cmp.Compare(c.Link, a.Link), cmp.Compare(c.Count, a.Count))
	})
	return out
}

// peerInNames says when a thread name or frame names the local port or the
// peer of a stuck socket (pool and executor threads often carry them).
func (b *builder) peerInNames(bk dumps.Bucket, stuck []key) string {
	for _, k := range stuck[:min(len(stuck), 50)] {
		for _, needle := range []string{k.remote.String(), ":" + strconv.Itoa(int(k.remote.Port())), "-" + strconv.Itoa(int(k.local.Port())) + "-"} {
			for _, m := range bk.Members {
				if strings.Contains(m.Name, needle) {
					return fmt.Sprintf("thread name %q names %s", m.Name, strings.Trim(needle, "-:"))
				}
			}
		}
	}
	return ""
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
	f := Finding{Category: CategoryRemotePeerLeak, Process: b.process(g.pid), Sockets: b.keysOf(g.finWait2), Confidence: 0.8}
	peers := map[string]bool{}
	for _, k := range g.finWait2 {
		peers[k.remote.Addr().String()+":"+strconv.Itoa(int(k.remote.Port()))] = true
	}
	names := make([]string, 0, len(peers))
	for p := range peers {
		names = append(names, p)
	}
	slices.Sort(names)
	f.Supporting = append(f.Supporting, Claim{
		Text:     fmt.Sprintf("%d of our %s sent a FIN that the peer acknowledged, and the peer never sent its own: ours wait in FIN_WAIT2, the peer's sockets are in CLOSE_WAIT (peer %s)", n, plural("socket", n), strings.Join(names[:min(3, len(names))], ", ")),
		Evidence: b.evidenceOf(g.finWait2, 6),
	})
	f.Severity, f.SeverityReasons = b.measure(0, g.finWait2)
	f.Note = "The code to fix runs on the peer; on this host, net.ipv4.tcp_fin_timeout bounds how long orphaned FIN_WAIT2 sockets stay."
	return f
}

// churnFinding reports CLOSE_WAIT that the application closed later, when
// nothing is stuck: normal connection churn.
func (b *builder) churnFinding(g *group) Finding {
	unlisted := b.closedLaterUnlisted[g.pid]
	n := len(g.closed) + unlisted
	var longest time.Duration
	for _, k := range g.closed {
		longest = max(longest, b.sockets[k].Age)
	}
	f := Finding{Category: CategoryNormalChurn, Process: b.process(g.pid), Sockets: b.keysOf(g.closed), Confidence: 0.8, Severity: SeverityInfo}
	f.SeverityReasons = []string{"info: no socket is in CLOSE_WAIT at the end of the capture"}
	text := fmt.Sprintf("%d %s went through CLOSE_WAIT and the application closed each of them (the longest after %s): transient CLOSE_WAIT, not a leak", n, plural("socket", n), FormatDuration(longest))
	if unlisted > 0 {
		text += fmt.Sprintf("; the %d longest are listed", len(g.closed))
	}
	f.Supporting = append(f.Supporting, Claim{Text: text, Evidence: b.evidenceOf(g.closed, 6)})
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
	f.SeverityReasons = []string{fmt.Sprintf("info: %d of %d connections reset by this process", resets.n, total)}
	f.Supporting = append(f.Supporting, Claim{
		Text:     fmt.Sprintf("the process reset %d of its %d captured connections instead of closing them: error paths that abort sockets", resets.n, total),
		Evidence: slices.Clone(resets.first),
	})
	return f, true
}

func sortPos(ps []string) { copy(ps, sortPositions(ps)) }

// timeline is the number of sockets in CLOSE_WAIT over capture time, from
// the capture's connections, else from timed kernel listings.
func (b *builder) timeline() {
	res := b.in.Capture
	// Events in ns since the epoch: a busy capture has millions, and
	// their order is all that matters (events at one instant merge).
	type ev struct {
		at    int64
		delta int
	}
	evs := make([]ev, 0, 2*len(b.closedEvents)+2*len(b.sockets))
	// The closed-later sockets, listed or not, as the connections were
	// taken; then the CLOSE_WAIT of the connections of stuck sockets.
	for _, iv := range b.closedEvents {
		evs = append(evs, ev{iv.at, 1}, ev{iv.end, -1})
	}
	if res != nil {
		for i := range res.Conns {
			c := &res.Conns[i]
			for _, end := range [][2]pcapstate.Side{{c.Local, c.Remote}, {c.Remote, c.Local}} {
				s := end[0]
				if s.CloseWaitAt.IsZero() {
					continue
				}
				if local, _, _ := b.sides(c); local.Addr == s.Addr && b.closedLater(local) {
					continue // among the closed-later sockets above
				}
				k := mkKey(s.Addr, end[1].Addr)
				if sk, ok := b.sockets[k]; !ok || !sk.Status.Stuck() {
					continue // a CLOSE_WAIT of the remote end, or one too young
				}
				evs = append(evs, ev{s.CloseWaitAt.UnixNano(), 1})
				if !s.CloseWaitEnd.IsZero() {
					evs = append(evs, ev{s.CloseWaitEnd.UnixNano(), -1})
				}
			}
		}
	}
	if len(evs) == 0 {
		b.m.Timeline = b.kernelTimeline()
		return
	}
	slices.SortFunc(evs, func(a, c ev) int { return cmp.Compare(a.at, c.at) })
	pts := []Point{{At: res.Start, Count: 0}}
	n := 0
	for i, e := range evs {
		n += e.delta
		if i+1 < len(evs) && evs[i+1].at == e.at {
			continue // the count after every event of this instant
		}
		if at := time.Unix(0, e.at).UTC(); pts[len(pts)-1].At.Equal(at) {
			pts[len(pts)-1].Count = n
		} else {
			pts = append(pts, Point{At: at, Count: n})
		}
	}
	if !pts[len(pts)-1].At.Equal(res.End) {
		pts = append(pts, Point{At: res.End, Count: n})
	}
	b.m.Timeline = thin(pts, 400)
}

// kernelTimeline counts CLOSE_WAIT sockets per timed listing snapshot.
func (b *builder) kernelTimeline() []Point {
	counts := map[time.Time]map[key]bool{}
	for k, ls := range b.kernel {
		for _, l := range ls {
			if l.state == dumps.StateCloseWait && !l.at.IsZero() {
				if counts[l.at] == nil {
					counts[l.at] = map[key]bool{}
				}
				counts[l.at][k] = true
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

// thin keeps at most n points, the first, the last and the highest of each
// stretch, so a long capture draws fast and keeps its peaks.
func thin(pts []Point, n int) []Point {
	if len(pts) <= n {
		return pts
	}
	out := []Point{pts[0]}
	step := float64(len(pts)-2) / float64(n-2)
	for i := 0; i < n-2; i++ {
		lo, hi := 1+int(float64(i)*step), 1+int(float64(i+1)*step)
		best := pts[lo]
		for _, p := range pts[lo:min(hi, len(pts)-1)] {
			if p.Count > best.Count {
				best = p
			}
		}
		out = append(out, best)
	}
	return append(out, pts[len(pts)-1])
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
		s.FDLimit, s.FDLimitFrom = b.in.MaxFDs, "--max-fds"
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
			b.m.Warnings = append(b.m.Warnings, Warning{Pos: w.Pos.String(), Msg: fmt.Sprintf("%s (byte offset %d)", w.Msg, w.Offset)})
		}
		for _, sk := range res.Skipped {
			if sk.Kind == "truncated" || sk.Kind == "malformed" {
				b.m.Warnings = append(b.m.Warnings, Warning{Pos: "captures", Msg: fmt.Sprintf("%d %s frames could not be decoded", sk.Packets, sk.Kind)})
			}
		}
	}
	for _, ev := range b.in.Evidence {
		for _, w := range ev.Warnings {
			b.m.Warnings = append(b.m.Warnings, Warning{Pos: w.Pos.String(), Msg: w.Msg})
		}
	}
	if n := len(b.unconf); n > 0 {
		sortPos(b.unconf)
		b.m.Warnings = append(b.m.Warnings, Warning{Pos: b.unconf[0], Msg: fmt.Sprintf("%d %s in CLOSE_WAIT at capture end cannot be confirmed (the FIN's acknowledgement is not in the capture, or only one direction was captured) and no listing shows them; they are left out", n, plural("socket", n))})
	}
	stateless := map[string]bool{}
	for _, ls := range b.kernel {
		for _, l := range ls {
			if l.stateFrom != "" && !stateless[l.file] {
				stateless[l.file] = true
				b.m.Warnings = append(b.m.Warnings, Warning{Pos: l.file, Msg: "the listing prints no state (an ss state filter); states were taken from " + l.stateFrom})
			}
		}
	}
}
