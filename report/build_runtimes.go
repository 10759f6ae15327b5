package report

import (
	"cmp"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// maxClaimEvidence bounds the positions one claim about runtime sockets
// cites.
const maxClaimEvidence = 6

// pausedConfidence is the confidence of a connection-leak finding (a pool
// or a missing close) when a runtime report shows at least half of the
// stuck sockets open and paused: the process holds them and reads none.
const pausedConfidence = 0.8

// indexRuntimes takes from runtime reports what the listings may not
// say: a process's name (the command's first word) and its open-files
// limit (a Node.js report's userLimits).
func (b *builder) indexRuntimes() {
	for _, ev := range b.in.Evidence {
		for _, rp := range ev.Processes {
			if rp.PID <= 0 {
				continue
			}
			p := b.proc(rp.PID)
			p.listed = true
			if p.name == "" {
				if f := strings.Fields(rp.Command); len(f) > 0 {
					p.name, p.nameFrom = filepath.Base(f[0]), TextPos(rp.Pos)
				}
			}
			if p.fdLimit == 0 && rp.FDLimit > 0 {
				p.fdLimit, p.fdFrom = rp.FDLimit, TextPos(rp.Pos)
			}
		}
	}
}

// runtimeSocketClaims says what runtime reports tell about the stuck
// sockets of process pid: a Node.js report's tcp handles with the same
// endpoints (the process and fd exactly, and whether anything reads them),
// and Python's ResourceWarnings for sockets on the same local endpoint (the
// line that made sockets the program dropped without close()). paused
// counts the stuck sockets the report shows paused.
func (b *builder) runtimeSocketClaims(pid int, stuck []key) (cs []Claim, paused int) {
	if !slices.ContainsFunc(b.in.Evidence, func(ev *dumps.Evidence) bool { return len(ev.RuntimeSockets) > 0 }) {
		return nil, 0 // no runtime report: nothing to index
	}
	inStuck := make(map[key]bool, len(stuck))
	locals := map[netip.AddrPort]bool{}
	for _, k := range stuck {
		inStuck[k] = true
		locals[k.local.AddrPort()] = true
	}
	var (
		handles    int
		fds        []string
		pausedFDs  []string
		pausedKeys []key
		hpos, wpos []Pos
		warned     int
		allocated  = map[string]bool{}
		alloc      []string
		report     string
	)
	for _, h := range b.handles {
		s := h.s
		if (pid > 0 && s.PID > 0 && s.PID != pid) || !inStuck[h.k] {
			continue
		}
		handles++
		report = h.file
		if s.Paused {
			paused++
			pausedKeys = append(pausedKeys, h.k)
			if s.FD >= 0 && len(pausedFDs) < maxClaimEvidence {
				pausedFDs = append(pausedFDs, strconv.Itoa(s.FD))
			}
		}
		// Each socket cites its handle, so that the table of sockets
		// says which are in the report.
		if sk, ok := b.sockets[h.k]; ok && !slices.Contains(sk.Evidence, TextPos(s.Src)) {
			sk.Evidence = append(sk.Evidence, TextPos(s.Src))
		}
		if s.FD >= 0 && len(fds) < maxClaimEvidence {
			fds = append(fds, strconv.Itoa(s.FD))
		}
		if len(hpos) < maxClaimEvidence {
			hpos = append(hpos, TextPos(s.Src))
		}
	}
	for _, ev := range b.in.Evidence {
		for _, s := range ev.RuntimeSockets {
			if s.Source != "resource-warning" || !s.Local.Addr.IsValid() {
				continue
			}
			local := netip.AddrPortFrom(s.Local.Addr.Unmap().WithZone(""), s.Local.Port)
			if !locals[local] {
				continue
			}
			warned++
			if len(wpos) < maxClaimEvidence {
				wpos = append(wpos, TextPos(s.Src))
			}
			if i := dumps.AppFrame(s.Frames); i >= 0 {
				fr := s.Frames[i]
				f := fr.String()
				if fr.Func == "" {
					f = fr.File + ":" + strconv.Itoa(fr.Line) // tracemalloc names no function
				}
				if !allocated[f] && len(alloc) < 3 {
					allocated[f] = true
					alloc = append(alloc, f)
				}
			}
		}
	}
	if handles > 0 {
		fdList := strings.Join(fds, ", ")
		if len(fds) < handles {
			fdList += fmt.Sprintf(" and %d more", count(handles-len(fds)))
		}
		text := fmt.Sprintf("%d of the stuck sockets are open tcp handles in the Node.js report %s (fd %s)", count(handles), report, fdList)
		switch {
		case paused > 0 && paused == handles:
			text += "; all " + notReadingText(paused, "", b.finRead(pausedKeys))
		case paused > 0:
			list := strings.Join(pausedFDs, ", ")
			if len(pausedFDs) < paused {
				list += fmt.Sprintf(" and %d more", count(paused-len(pausedFDs)))
			}
			text += "; " + notReadingText(paused, "fd "+list, b.finRead(pausedKeys))
		}
		cs = append(cs, Claim{Text: text, Evidence: hpos})
	}
	if warned > 0 {
		text := fmt.Sprintf("Python reported %d %s on the same local endpoint that the program dropped without close() (ResourceWarning: unclosed socket)", count(warned), plural("socket", warned))
		if len(alloc) > 0 {
			text += ", made at " + strings.Join(alloc, ", ")
		}
		cs = append(cs, Claim{Text: text, Evidence: wpos})
	}
	return cs, paused
}

// notReadingText says what n handles of a Node.js report that are open and
// not reading (fds: which, "" when all) mean, with what the kernel's
// receive queues show of their sockets (r): paused before the peer's FIN,
// which then stays unread; or with all the peer sent read, the FIN too
// (Recv-Q 0), and nothing that ended the socket (an upgraded socket, or
// one with allowHalfOpen, stays half-open after its 'end' until end() or
// destroy()). Recv-Q 0 does not say the program saw the 'end': a read
// takes the FIN with the last bytes before it, and a stream paused after
// that read has not emitted 'end'.
func notReadingText(n int, fds string, r finReading) string {
	what := fmt.Sprintf("%d are", count(n))
	if fds != "" {
		what = fmt.Sprintf("%d of them are", count(n))
		fds = ": " + fds
	}
	listed := r.read + r.unread
	switch {
	case listed == n && r.read == 0:
		return fmt.Sprintf("%s paused (open, not reading%s): nothing reads them, so the peer's FIN is never read and nothing closes them", what, fds)
	case listed == n && r.unread == 0:
		return fmt.Sprintf("%s open and not reading%s, and the kernel shows all the peer sent read from each, up to its FIN (Recv-Q 0): nothing ended them (an upgraded socket, or one with allowHalfOpen, stays half-open after its 'end' until end() or destroy())", what, fds)
	case listed == n:
		return fmt.Sprintf("%s open and not reading%s: %d read up to the peer's FIN (Recv-Q 0) that nothing ended, %d paused with the FIN unread behind them", what, fds, count(r.read), count(r.unread))
	}
	return fmt.Sprintf("%s open and not reading%s: paused before the peer's FIN, which then stays unread, or read to its end with nothing that ended them (the Recv-Q of an ss listing tells which)", what, fds)
}

// pausedFloor raises the confidence of a connection-leak finding whose
// stuck sockets a runtime report shows paused, at least half of them.
func pausedFloor(f *Finding, paused, stuck int) {
	if paused*2 >= stuck && (f.Category == CategoryPoolLeak || f.Category == CategoryMissingClose) {
		f.Confidence = max(f.Confidence, pausedConfidence)
	}
}

// maxLogLines bounds the positions kept per class of log lines.
const maxLogLines = 5

// logTimeline groups the log events of every log by file and class, in
// time order, for the report's list of log events.
func (b *builder) logTimeline() {
	for _, ev := range b.in.Evidence {
		byClass := map[dumps.LogClass]*LogClass{}
		var order []dumps.LogClass
		for _, e := range ev.LogEvents {
			c := byClass[e.Class]
			if c == nil {
				c = &LogClass{File: ev.File, Class: e.Class.String(), Example: e.Message}
				byClass[e.Class] = c
				order = append(order, e.Class)
			}
			c.Count++
			if len(c.Lines) < maxLogLines {
				c.Lines = append(c.Lines, TextPos(e.Pos))
			}
			if !e.Time.IsZero() {
				if c.First.IsZero() || e.Time.Before(c.First) {
					c.First = e.Time
				}
				if e.Time.After(c.Last) {
					c.Last = e.Time
				}
			}
		}
		for _, cl := range order {
			c := byClass[cl]
			if !c.First.IsZero() {
				c.FirstText, c.LastText = FormatTime(c.First), FormatTime(c.Last)
			}
			b.m.LogEvents = append(b.m.LogEvents, *c)
		}
	}
	slices.SortStableFunc(b.m.LogEvents, func(x, y LogClass) int {
		if x.First.IsZero() != y.First.IsZero() {
			if x.First.IsZero() {
				return 1
			}
			return -1
		}
		if c := x.First.Compare(y.First); c != 0 {
			return c
		}
		return cmp.Compare(x.File, y.File)
	})
}

// logEventsOf lists the log events of process pid: lines that name it,
// and lines that name no process when their log is given to it with
// --dump PID=FILE or only one process holds stuck sockets.
func (b *builder) logEventsOf(pid int) []dumps.LogEvent {
	// The processes holding stuck sockets, found when a line that names
	// no process asks: every socket is looked at, and most reports have
	// no log.
	var stuckPIDs map[int]bool
	onlyStuck := func() bool {
		if stuckPIDs == nil {
			stuckPIDs = map[int]bool{}
			for _, s := range b.sockets {
				if s.Status.Stuck() {
					stuckPIDs[s.PID] = true
				}
			}
		}
		return len(stuckPIDs) == 1 && stuckPIDs[pid]
	}
	var out []dumps.LogEvent
	for _, ev := range b.in.Evidence {
		given, named := b.in.DumpPIDs[ev.File]
		for _, e := range ev.LogEvents {
			switch {
			case e.PID != 0:
				if e.PID != pid {
					continue
				}
			case named:
				if given != pid {
					continue
				}
			case !onlyStuck():
				continue
			}
			out = append(out, e)
		}
	}
	return out
}

// exhaustedLog lists the positions of the log lines of process pid that
// say descriptors ran out.
func (b *builder) exhaustedLog(pid int) []Pos {
	var out []Pos
	for _, e := range b.logEventsOf(pid) {
		if e.Class == dumps.LogFDExhausted {
			out = append(out, TextPos(e.Pos))
		}
	}
	return out
}

// logClaim sums up the log lines of process pid by class: how many, and
// the first few positions.
func (b *builder) logClaim(pid int) (Claim, bool) {
	evs := b.logEventsOf(pid)
	if len(evs) == 0 {
		return Claim{}, false
	}
	counts := map[dumps.LogClass]int{}
	var classes []dumps.LogClass
	var pos []Pos
	for _, e := range evs {
		if counts[e.Class] == 0 {
			classes = append(classes, e.Class)
		}
		counts[e.Class]++
		if len(pos) < maxClaimEvidence {
			pos = append(pos, TextPos(e.Pos))
		}
	}
	slices.Sort(classes)
	parts := make([]string, len(classes))
	for i, c := range classes {
		parts[i] = fmt.Sprintf("%d %s", count(counts[c]), c)
	}
	return Claim{Text: "the process's logs name " + strings.Join(parts, ", ") + " (log lines by class)", Evidence: pos}, true
}

// countTimeline makes the series of TCP socket counts of timed `ss -s`
// summaries, in time order; summaries without a time (a single `ss -s`)
// make none, nor does a single timed one.
func (b *builder) countTimeline() {
	var pts []CountPoint
	for _, ev := range b.in.Evidence {
		for _, s := range ev.SocketSummaries {
			if s.SnapshotTime.IsZero() || s.TCP == nil {
				continue
			}
			pts = append(pts, CountPoint{At: s.SnapshotTime, TCP: s.TCP["total"], Estab: s.TCP["estab"], Closed: s.TCP["closed"],
				Orphaned: s.TCP["orphaned"], TimeWait: s.TCP["timewait"], Pos: TextPos(s.Src)})
		}
	}
	if len(pts) < 2 {
		return
	}
	slices.SortStableFunc(pts, func(x, y CountPoint) int { return x.At.Compare(y.At) })
	b.m.SocketCounts = pts
}
