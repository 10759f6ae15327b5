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
	pos  string // the listing's first line
	from string // how the listing was tied to the process
}

// openFDs counts each process's open fds from the fd listings (`ls -l
// /proc/PID/fd`): the latest snapshot of each file, the largest over
// files. A listing that does not say whose fds these are is tied to the
// process owning its sockets' inodes.
func (b *builder) openFDs() map[int]fdCount {
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
			pos  string
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
				a = &acc{fds: map[int]bool{}, pos: f.Src.String(), from: "the listing names the pid"}
				per[*f.PID] = a
			}
			a.fds[f.FD] = true
		}
		if len(anon) > 0 && len(votes) == 1 {
			for pid, n := range votes {
				a := &acc{fds: map[int]bool{}, pos: anon[0].Src.String(), from: fmt.Sprintf("%d of its socket inodes are sockets of pid %d", n, pid)}
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

// unaccepted lists, per listening process, the connections established on
// its listening port that no process owns: they wait in the listen queue,
// not accepted. A listing counts only when it names the owner of the
// listener itself (made with -p, with the privilege to see owners).
func (b *builder) unaccepted() map[int][]string {
	out := map[int][]string{}
	for _, ev := range b.in.Evidence {
		owned := map[uint16]int{}
		for _, s := range ev.Sockets {
			if s.State != dumps.StateListen {
				continue
			}
			for _, o := range s.Owners {
				if o.PID != nil {
					owned[s.Local.Port] = *o.PID
				}
			}
		}
		for _, s := range ev.Sockets {
			if s.State != dumps.StateEstablished && s.State != dumps.StateSynRecv {
				continue
			}
			pid, ok := owned[s.Local.Port]
			if !ok || slices.ContainsFunc(s.Owners, func(o dumps.Owner) bool { return o.PID != nil }) {
				continue
			}
			out[pid] = append(out[pid], s.Src.String())
		}
	}
	return out
}

// exhaustionFindings reports processes whose open fds reach the limit, or
// whose listen queue holds connections no one accepts: a server out of
// descriptors cannot accept, so clients queue and time out.
func (b *builder) exhaustionFindings() []Finding {
	fds := b.openFDs()
	queued := b.unaccepted()
	pids := map[int]bool{}
	for pid := range fds {
		pids[pid] = true
	}
	for pid := range queued {
		pids[pid] = true
	}
	var out []Finding
	for _, pid := range slices.Sorted(maps.Keys(pids)) {
		limit, limFrom := b.in.MaxFDs, "--max-fds"
		if limit == 0 {
			limit, limFrom = b.proc(pid).fdLimit, b.proc(pid).fdFrom
		}
		if limit == 0 {
			limit, limFrom = b.defLimit, b.limFrom
		}
		open, q := fds[pid], queued[pid]
		full := limit > 0 && open.n > 0 && float64(open.n) >= b.in.Thresholds.FDExhausted*float64(limit)
		if !full && len(q) == 0 {
			continue
		}
		f := Finding{Category: CategoryFDExhaustion, Mechanism: MechanismDescriptors, Process: b.process(pid), Confidence: confidences.Exhaustion}
		stuck := 0
		for _, s := range b.sockets {
			if s.PID == pid && s.Status.Stuck() {
				stuck++
			}
		}
		var parts []string
		if open.n > 0 && limit > 0 {
			parts = append(parts, fmt.Sprintf("%d open fds of a limit of %d", open.n, limit))
			f.Supporting = append(f.Supporting, Claim{
				Text:     fmt.Sprintf("%s has %d open fds and may open %d (%.0f%%); the fd listing is tied to it because %s", b.process(pid), open.n, limit, 100*float64(open.n)/float64(limit), open.from),
				Evidence: compactPos(open.pos, limFrom),
			})
		}
		if len(q) > 0 {
			ports := b.listenPorts(pid)
			parts = append(parts, fmt.Sprintf("%d %s waiting unaccepted on %s", len(q), plural("connection", len(q)), ports))
			sortPos(q)
			f.Supporting = append(f.Supporting, Claim{
				Text:     fmt.Sprintf("%d %s established on %s, the process's listening port, that no process owns: they wait in the listen queue and are never accepted", len(q), plural("connection", len(q)), ports),
				Evidence: q[:min(6, len(q))],
			})
		}
		if stuck > 0 {
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%d of its descriptors are sockets stuck in CLOSE_WAIT (see its other findings)", stuck)})
		}
		f.Group = strings.Join(parts, ", ")
		switch {
		case full:
			f.Severity = SeverityCritical
			f.SeverityReasons = []string{fmt.Sprintf("critical: %d open fds reach %.0f%% of the fd limit %d: accept() and open() fail with EMFILE", open.n, b.in.Thresholds.FDExhausted*100, limit)}
		default:
			f.Severity = SeverityWarning
			f.Confidence = confidences.Queued
			f.SeverityReasons = []string{fmt.Sprintf("warning: %d %s wait unaccepted; the fd count is unknown or below %.0f%% of the limit", len(q), plural("connection", len(q)), b.in.Thresholds.FDExhausted*100)}
			if limit == 0 || open.n == 0 {
				f.Contradicting = append(f.Contradicting, Claim{Text: "no fd listing or limit shows how many descriptors the process holds: save `ls -l /proc/PID/fd` and `cat /proc/PID/limits`"})
			}
		}
		out = append(out, f)
	}
	return out
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

// compactPos drops empty and non-position entries ("--max-fds").
func compactPos(ps ...string) []string {
	var out []string
	for _, p := range ps {
		if p != "" && !strings.HasPrefix(p, "--") {
			out = append(out, p)
		}
	}
	return out
}
