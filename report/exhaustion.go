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

// fdListing is what one snapshot of one file of fd listings (`ls -l
// /proc/PID/fd`) shows one process holding.
type fdListing struct {
	file     string
	snapshot int
	pid      int
	fds      map[int]bool
	pos      Pos    // the first entry
	why      string // how the entries were tied to the process
}

// fdListings ties the entries of the fd listings to processes, by the one
// rule that the fd counts (openFDs) and whose a file is (fdListingsOf)
// both follow. Within one snapshot of a file, an entry that names its pid
// (a "/proc/PID/fd:" line, or a prompt or header naming /proc/PID/fd) is
// that process's; the entries that name none are the process's whose
// sockets their socket inodes are, when that is one process, and no one's
// when it is several or none (the collecting shell's own /proc/self/fd).
// In the order of the files, then of their snapshots. It ties them once
// and keeps them: inodeOwners reads every listed socket.
func (b *builder) fdListings() []fdListing {
	if b.fdTied {
		return b.fdTies
	}
	b.fdTied = true
	var byInode map[uint64]int
	var out []fdListing
	for _, ev := range b.in.Evidence {
		if len(ev.FDs) == 0 {
			continue
		}
		if byInode == nil {
			byInode = b.inodeOwners()
		}
		// The entries of one snapshot are consecutive: the snapshots of
		// a file follow one another.
		for i := 0; i < len(ev.FDs); {
			j := i
			for j < len(ev.FDs) && ev.FDs[j].Snapshot == ev.FDs[i].Snapshot {
				j++
			}
			out = append(out, tieFDs(ev.File, ev.FDs[i:j], byInode)...)
			i = j
		}
	}
	b.fdTies = out
	return out
}

// tieFDs ties the entries of one snapshot of one file to processes (see
// fdListings).
func tieFDs(file string, fds []dumps.FD, byInode map[uint64]int) []fdListing {
	var out []fdListing
	at := map[int]int{} // pid -> index into out
	add := func(pid int, f dumps.FD, why string) {
		i, ok := at[pid]
		if !ok {
			i = len(out)
			at[pid] = i
			out = append(out, fdListing{file: file, snapshot: f.Snapshot, pid: pid, fds: map[int]bool{}, pos: TextPos(f.Src), why: why})
		}
		out[i].fds[f.FD] = true
	}
	var anon []dumps.FD
	votes := map[int]int{}
	for _, f := range fds {
		if f.PID != nil {
			add(*f.PID, f, namesPID)
			continue
		}
		anon = append(anon, f)
		if pid, ok := byInode[f.Inode]; ok && f.Inode != 0 {
			votes[pid]++
		}
	}
	if len(votes) == 1 {
		for pid, n := range votes {
			why := fmt.Sprintf("%d of its socket inodes are sockets of pid %d", count(n), pid)
			for _, f := range anon {
				add(pid, f, why)
			}
		}
	}
	return out
}

// namesPID is why an fd listing that names its pid is that process's.
const namesPID = "it names the pid"

// openFDs counts each process's open fds from the fd listings: in each
// file, the latest snapshot that shows the process (fdListings ties
// entries to processes); the largest over files.
func (b *builder) openFDs() map[int]fdCount {
	type fileOf struct {
		file string
		pid  int
	}
	latest := map[fileOf]fdListing{}
	var order []fileOf
	for _, l := range b.fdListings() {
		k := fileOf{l.file, l.pid}
		if _, ok := latest[k]; !ok {
			order = append(order, k)
		}
		latest[k] = l // the snapshots come in order
	}
	out := map[int]fdCount{}
	for _, k := range order {
		l := latest[k]
		if len(l.fds) > out[l.pid].n {
			out[l.pid] = fdCount{n: len(l.fds), pos: l.pos, from: l.why}
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

// fdListingsOf says, for each file of fd listings (`ls -l /proc/PID/fd`)
// that is of one process by its content, whose it is and why: every entry
// fdListings ties to a process is that one's. A file of several
// processes, or of none the other evidence names, is left out.
func (b *builder) fdListingsOf() map[string]ownedBy {
	out := map[string]ownedBy{}
	several := map[string]bool{}
	for _, l := range b.fdListings() {
		o, ok := out[l.file]
		switch {
		case several[l.file]:
		case !ok:
			out[l.file] = ownedBy{pid: l.pid, pos: l.pos, why: l.why}
		case o.pid != l.pid:
			several[l.file] = true
			delete(out, l.file)
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
			parts = append(parts, fmt.Sprintf("%d open fds of a limit of %d", count(open.n), count(limit)))
			claims = append(claims, Claim{
				Text:     fmt.Sprintf("%s has %d open fds and may open %d (%.0f%%); the fd listing is tied to it because %s", b.process(pid), count(open.n), count(limit), 100*float64(open.n)/float64(limit), open.from),
				Evidence: filePositions(open.pos, limFrom),
			})
		}
		if len(q) > 0 {
			ports := b.listenPorts(pid)
			parts = append(parts, fmt.Sprintf("%d %s waiting unaccepted on %s", count(len(q)), plural("connection", len(q)), ports))
			slices.SortFunc(q, Pos.Compare)
			claims = append(claims, Claim{
				Text:     fmt.Sprintf("%d %s on %s, the process's listening port, that no process owns: they wait in the listen queue and are never accepted", count(len(q)), plural("connection", len(q)), ports),
				Evidence: q[:min(6, len(q))],
			})
		}
		var sev Severity
		var reason string
		if full[pid] {
			sev = SeverityCritical
			reason = fmt.Sprintf("critical: %d open fds reach %.0f%% of the fd limit %d: accept() and open() fail with EMFILE", count(open.n), b.in.Thresholds.FDExhausted*100, count(limit))
		} else {
			sev = SeverityWarning
			reason = fmt.Sprintf("warning: %d %s wait unaccepted; the fd count is unknown or below %.0f%% of the limit", count(len(q)), plural("connection", len(q)), b.in.Thresholds.FDExhausted*100)
		}
		if i := largestGroup(fs, pid); full[pid] && i >= 0 {
			// The leak is what exhausts the descriptors: one finding.
			f := &fs[i]
			f.Category = CategoryFDExhaustion
			f.Confidence = max(f.Confidence, confidences.Exhaustion)
			f.Severity = SeverityCritical
			f.SeverityReasons = append([]string{reason}, f.SeverityReasons...)
			f.Supporting = append(claims, f.Supporting...)
			f.Group = fmt.Sprintf("%s; %d %s in CLOSE_WAIT %s", strings.Join(parts, ", "), count(len(f.Sockets)), plural("socket", len(f.Sockets)), f.Group)
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
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%d of its descriptors are sockets stuck in CLOSE_WAIT (see its other findings)", count(stuck))})
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
			Text:     fmt.Sprintf("%d %s in CLOSE_WAIT that no process owns, on %s, listed by a listing that names the listener's owner %s: the kernel completed them, no process accepted them, and their clients gave up; they are not %s's sockets and nothing can close them until an accept succeeds", count(n), plural("connection", n), b.listenPorts(pid), b.process(pid), b.process(pid)),
			Evidence: b.evidenceOf(keys, 6),
		})
		f.Severity, f.SeverityReasons = SeverityWarning, []string{fmt.Sprintf("warning: %d %s wait in the listen queue of %s in CLOSE_WAIT", count(n), plural("connection", n), b.process(pid))}
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
