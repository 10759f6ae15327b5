package report

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// fdCount is how many fds an fd listing shows a process holding.
type fdCount struct {
	n    int
	pos  Pos    // the listing's first line
	from string // how the listing was tied to the process
}

// openFDs counts each process's open fds from the fd listings (`ls -l
// /proc/PID/fd`): the latest snapshot of each file, the largest over
// files. A listing that does not say whose fds these are is tied to the
// process owning its sockets' inodes.
func (b *builder) openFDs() map[int]fdCount {
	byInode := b.inodeOwners()
	out := map[int]fdCount{}
	for _, ev := range b.in.Evidence {
		if len(ev.FDs) == 0 {
			continue
		}
		last := 0
		for _, f := range ev.FDs {
			last = max(last, f.Snapshot)
		}
		type acc struct {
			fds  map[int]bool
			pos  Pos
			from string
		}
		per := map[int]*acc{}
		votes := map[int]int{}
		var anon []dumps.FD
		for _, f := range ev.FDs {
			if f.Snapshot != last {
				continue
			}
			if f.PID == nil {
				anon = append(anon, f)
				if pid, ok := byInode[f.Inode]; ok && f.Inode != 0 {
					votes[pid]++
				}
				continue
			}
			a := per[*f.PID]
			if a == nil {
				a = &acc{fds: map[int]bool{}, pos: TextPos(f.Src), from: "the listing names the pid"}
				per[*f.PID] = a
			}
			a.fds[f.FD] = true
		}
		if len(anon) > 0 && len(votes) == 1 {
			for pid, n := range votes {
				a := &acc{fds: map[int]bool{}, pos: TextPos(anon[0].Src), from: fmt.Sprintf("%d of its socket inodes are sockets of pid %d", n, pid)}
				for _, f := range anon {
					a.fds[f.FD] = true
				}
				per[pid] = a
			}
		}
		for pid, a := range per {
			if len(a.fds) > out[pid].n {
				out[pid] = fdCount{n: len(a.fds), pos: a.pos, from: a.from}
			}
		}
	}
	return out
}

// inodeOwners maps socket inodes to the pid a listing says owns them.
func (b *builder) inodeOwners() map[uint64]int {
	byInode := map[uint64]int{}
	for _, ev := range b.in.Evidence {
		for _, s := range ev.Sockets {
			if s.Inode == 0 {
				continue
			}
			for _, o := range s.Owners {
				if o.PID != nil {
					byInode[s.Inode] = *o.PID
					break
				}
			}
		}
	}
	return byInode
}

// ownedBy is the one process a per-process file is of, by its content.
type ownedBy struct {
	pid int
	pos Pos
	why string
}

// fdListingsOf says, for each fd listing (`ls -l /proc/PID/fd`) that
// is of one process by its content, whose it is and why: the pid it
// names, or the one process that owns its sockets' inodes. A listing of
// several processes, or of none the other evidence names, is left out.
func (b *builder) fdListingsOf() map[string]ownedBy {
	byInode := b.inodeOwners()
	out := map[string]ownedBy{}
	for _, ev := range b.in.Evidence {
		if len(ev.FDs) == 0 {
			continue
		}
		named, votes := map[int]bool{}, map[int]int{}
		for _, f := range ev.FDs {
			switch {
			case f.PID != nil:
				named[*f.PID] = true
			case f.Inode != 0:
				if pid, ok := byInode[f.Inode]; ok {
					votes[pid]++
				}
			}
		}
		pos := TextPos(ev.FDs[0].Src)
		switch {
		case len(named) == 1 && len(votes) == 0:
			for pid := range named {
				out[ev.File] = ownedBy{pid: pid, pos: pos, why: "it names the pid"}
			}
		case len(named) == 0 && len(votes) == 1:
			for pid, n := range votes {
				out[ev.File] = ownedBy{pid: pid, pos: pos, why: fmt.Sprintf("%d of its socket inodes are sockets of pid %d", n, pid)}
			}
		}
	}
	return out
}

// unaccepted lists, per listening process, the connections on its
// listening port that no process owns (established, or already in
// CLOSE_WAIT when the client gave up): they wait in the listen queue, not
// accepted. A listing counts only when it names the owner of the listener
// itself (made with -p, with the privilege to see owners).
func (b *builder) unaccepted() map[int][]Pos {
	type seen struct {
		pid int
		pos Pos
	}
	socks := map[key]seen{}
	for _, ev := range b.in.Evidence {
		owned := b.ownedListen[ev.File]
		for _, s := range ev.Sockets {
			if s.State != dumps.StateEstablished && s.State != dumps.StateSynRecv && s.State != dumps.StateCloseWait {
				continue
			}
			pid, ok := owned[s.Local.Port]
			k, kok := sockKey(&s)
			if !ok || !kok || slices.ContainsFunc(s.Owners, func(o dumps.Owner) bool { return o.PID != nil }) {
				continue
			}
			if old, dup := socks[k]; !dup || TextPos(s.Src).Compare(old.pos) < 0 {
				socks[k] = seen{pid, TextPos(s.Src)}
			}
		}
	}
	out := map[int][]Pos{}
	for _, s := range socks {
		out[s.pid] = append(out[s.pid], s.pos)
	}
	return out
}

// exhaustionFindings reports processes whose open fds reach the limit, or
// whose listen queue holds connections no one accepts: a server out of
// descriptors cannot accept, so clients queue and time out. An exhausted
// process's largest group of stuck sockets becomes the fd-exhaustion
// finding (its mechanism says how they are held); the connections stuck in
// CLOSE_WAIT in its listen queue, which no process holds, are a finding of
// their own.
func (b *builder) exhaustionFindings(fs []Finding) []Finding {
	fds := b.openFDs()
	queued := b.unaccepted()
	pids := map[int]bool{}
	for pid := range fds {
		pids[pid] = true
	}
	for pid := range queued {
		pids[pid] = true
	}
	full := map[int]bool{}
	for _, pid := range slices.Sorted(maps.Keys(pids)) {
		limit, limFrom := b.fdLimitOf(pid)
		open, q := fds[pid], queued[pid]
		full[pid] = limit > 0 && open.n > 0 && float64(open.n) >= b.in.Thresholds.FDExhausted*float64(limit)
		if !full[pid] && len(q) == 0 {
			continue
		}
		var claims []Claim
		var parts []string
		if open.n > 0 && limit > 0 {
			parts = append(parts, fmt.Sprintf("%d open fds of a limit of %d", open.n, limit))
			claims = append(claims, Claim{
				Text:     fmt.Sprintf("%s has %d open fds and may open %d (%.0f%%); the fd listing is tied to it because %s", b.process(pid), open.n, limit, 100*float64(open.n)/float64(limit), open.from),
				Evidence: filePositions(open.pos, limFrom),
			})
		}
		if len(q) > 0 {
			ports := b.listenPorts(pid)
			parts = append(parts, fmt.Sprintf("%d %s waiting unaccepted on %s", len(q), plural("connection", len(q)), ports))
			slices.SortFunc(q, Pos.Compare)
			claims = append(claims, Claim{
				Text:     fmt.Sprintf("%d %s on %s, the process's listening port, that no process owns: they wait in the listen queue and are never accepted", len(q), plural("connection", len(q)), ports),
				Evidence: q[:min(6, len(q))],
			})
		}
		var sev Severity
		var reason string
		if full[pid] {
			sev = SeverityCritical
			reason = fmt.Sprintf("critical: %d open fds reach %.0f%% of the fd limit %d: accept() and open() fail with EMFILE", open.n, b.in.Thresholds.FDExhausted*100, limit)
		} else {
			sev = SeverityWarning
			reason = fmt.Sprintf("warning: %d %s wait unaccepted; the fd count is unknown or below %.0f%% of the limit", len(q), plural("connection", len(q)), b.in.Thresholds.FDExhausted*100)
		}
		if i := largestGroup(fs, pid); full[pid] && i >= 0 {
			// The leak is what exhausts the descriptors: one finding.
			f := &fs[i]
			f.Category = CategoryFDExhaustion
			f.Confidence = max(f.Confidence, confidences.Exhaustion)
			f.Severity = SeverityCritical
			f.SeverityReasons = append([]string{reason}, f.SeverityReasons...)
			f.Supporting = append(claims, f.Supporting...)
			f.Group = fmt.Sprintf("%s; %d %s in CLOSE_WAIT %s", strings.Join(parts, ", "), len(f.Sockets), plural("socket", len(f.Sockets)), f.Group)
			f.Advice = append(adviseExhaustion(), f.Advice...)
			continue
		}
		f := Finding{Category: CategoryFDExhaustion, Mechanism: MechanismDescriptors, Process: b.process(pid), Confidence: confidences.Exhaustion,
			Severity: sev, SeverityReasons: []string{reason}, Supporting: claims, Group: strings.Join(parts, ", ")}
		if !full[pid] {
			f.Confidence = confidences.Queued
			if limit == 0 || open.n == 0 {
				f.Contradicting = append(f.Contradicting, Claim{Text: "no fd listing or limit shows how many descriptors the process holds: save `ls -l /proc/PID/fd` and `cat /proc/PID/limits`"})
			}
		}
		stuck := 0
		for _, s := range b.sockets {
			if s.PID == pid && s.Status.Stuck() {
				stuck++
			}
		}
		if stuck > 0 {
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%d of its descriptors are sockets stuck in CLOSE_WAIT (see its other findings)", stuck)})
		}
		f.Advice = adviseExhaustion()
		fs = append(fs, f)
	}
	// Connections that reached CLOSE_WAIT in a listen queue: the client
	// gave up before any process accepted them.
	byPID := map[int][]key{}
	for k, pid := range b.queued {
		if s := b.sockets[k]; s != nil && s.Status.Stuck() {
			byPID[pid] = append(byPID[pid], k)
		}
	}
	for _, pid := range slices.Sorted(maps.Keys(byPID)) {
		keys := byPID[pid]
		slices.SortFunc(keys, compareKeys)
		n := len(keys)
		f := Finding{Category: CategoryFDExhaustion, Mechanism: MechanismDescriptors, Sockets: b.keysOf(keys), Confidence: confidences.Queued,
			Title: "Connections never accepted, in CLOSE_WAIT in a listen queue"}
		f.Group = fmt.Sprintf("never accepted: in the listen queue of %s (the listener of %s)", b.listenPorts(pid), b.process(pid))
		f.Supporting = append(f.Supporting, Claim{
			Text:     fmt.Sprintf("%d %s in CLOSE_WAIT that no process owns, on %s, listed by a listing that names the listener's owner %s: the kernel completed them, no process accepted them, and their clients gave up; they are not %s's sockets and nothing can close them until an accept succeeds", n, plural("connection", n), b.listenPorts(pid), b.process(pid), b.process(pid)),
			Evidence: b.evidenceOf(keys, 6),
		})
		f.Severity, f.SeverityReasons = SeverityWarning, []string{fmt.Sprintf("warning: %d %s wait in the listen queue of %s in CLOSE_WAIT", n, plural("connection", n), b.process(pid))}
		if full[pid] {
			f.Confidence = confidences.Exhaustion
			f.Severity, f.SeverityReasons = SeverityCritical, []string{fmt.Sprintf("critical: %s is out of descriptors, so its listen queue is not drained", b.process(pid))}
		}
		f.Advice = adviseExhaustion()
		fs = append(fs, f)
	}
	return fs
}

// fdLimitOf is a process's fd limit and where it comes from.
func (b *builder) fdLimitOf(pid int) (int, Pos) {
	if b.in.MaxFDs > 0 {
		return b.in.MaxFDs, maxFDsFlag
	}
	if p := b.proc(pid); p.fdLimit > 0 {
		return p.fdLimit, p.fdFrom
	}
	return b.defLimit, b.limFrom
}

// largestGroup is the index of the largest group of stuck sockets of a
// process among the findings, -1 when it has none.
func largestGroup(fs []Finding, pid int) int {
	best := -1
	for i, f := range fs {
		if f.Process.PID != pid || pid == 0 {
			continue
		}
		switch f.Mechanism {
		case MechanismThread, MechanismPool, MechanismUnreferenced:
			if best < 0 || len(f.Sockets) > len(fs[best].Sockets) {
				best = i
			}
		}
	}
	return best
}

// listenPorts lists a process's listening ports, ":8080, :8443".
func (b *builder) listenPorts(pid int) string {
	ports := slices.Sorted(maps.Keys(b.proc(pid).listening))
	var ps []string
	for _, p := range ports {
		ps = append(ps, ":"+strconv.Itoa(int(p)))
	}
	if len(ps) == 0 {
		return "its listening port"
	}
	return strings.Join(ps, ", ")
}

// maxFDsFlag is where an fd limit given with --max-fds comes from.
var maxFDsFlag = SourcePos("--max-fds")

// filePositions keeps the positions in files: no zero position, no source
// that is no file (--max-fds).
func filePositions(ps ...Pos) []Pos {
	var out []Pos
	for _, p := range ps {
		if !p.IsZero() && p.Kind != PosSource {
			out = append(out, p)
		}
	}
	return out
}
