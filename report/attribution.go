package report

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// Linking a dump to its process. A dump that prints its pid (jcmd) or is
// named by --dump PID=FILE is linked outright. Any other dump is scored
// against every listed process whose runtime fits, from what its content
// says, and linked to the best when it is clearly ahead; otherwise it stays
// unlinked, and the report shows the candidates with their scores. The
// weights, each a share of a score of at most 1:
const (
	// Threads or goroutines that hold or wait on connections (network
	// reads and writes, a pool's per-connection loops, blocked
	// application code) against the process's listed TCP sockets:
	// weightCount times min/max of the two, when that is 0.5 or more.
	weightCount = 0.5
	// A listening port or a peer of the process in a thread name.
	weightNames = 0.3
	// The same thread names as a dump that says it is of the process (a
	// jstack beside a jcmd of the same JVM): weightSame times the share,
	// when at least 80% of the names (3 or more) are the same.
	weightSame = 0.5
	// The process's command name as a directory or package in the
	// dump's source paths or function names; not an interpreter's
	// (python3 is in every path of Python's own library).
	weightPaths = 0.3
	// The program an interpreter's command line runs (its script, -m
	// module, -jar jar or main class, see programOf) in the dump's
	// frames: as its main module (a Python frame at <module>, a Node.js
	// module's top level, the main thread's main method), in another
	// frame, or a frame's file in the script's directory. Two processes
	// of one interpreter differ here when nothing else tells them apart.
	weightProgMain  = 0.5
	weightProgFrame = 0.4
	weightProgDir   = 0.2
	// The only listed process that may run the dump's runtime: enough to
	// link, weakly, when nothing else speaks for or against it.
	weightOnly = 0.4
	// The dump's ages against the process's start (a process listing's
	// lstart, etimes, or /proc/PID/stat with btime): a dump taken before
	// the process started, or whose oldest thread or goroutine is older
	// than the process was then, is not the process's; ages that fit are
	// a weak sign that it is (every old enough process fits).
	weightAgeTooOld = -0.6
	weightAgeFits   = 0.1
	// The file name, a hint only: a listed pid in it, or the command name.
	weightFilePID  = 0.3
	weightFileName = 0.2
	// linkMin is the least score to link on, and linkMargin how far the
	// best must be ahead of the second.
	linkMin    = 0.35
	linkMargin = 0.15
)

// dumpPIDInName finds a pid in a dump's file name: jstack-1234.txt,
// 1234.jstack, goroutines.1234.txt.
var dumpPIDInName = regexp.MustCompile(`(?:^|[^0-9])([0-9]{2,7})(?:[^0-9]|$)`)

// linkDumps links every dump file to the process it was taken from: first
// the dumps that say (a pid line, --dump), then the others by their
// content, which may compare them with the first.
func (b *builder) linkDumps() {
	var later []*dumps.Evidence
	known := map[int]map[string][]string{} // pid -> file -> thread names
	for _, ev := range b.in.Evidence {
		if b.linkDump(ev, nil) {
			_, names, _, _ := dumpContent(ev)
			pid := b.m.DumpLinks[len(b.m.DumpLinks)-1].PID
			if known[pid] == nil {
				known[pid] = map[string][]string{}
			}
			known[pid][ev.File] = names
		} else if len(ev.ThreadDumps)+len(ev.GoroutineDumps)+len(ev.GoroutineProfiles) > 0 {
			later = append(later, ev)
		}
	}
	for _, ev := range later {
		b.linkDump(ev, known)
	}
}

// sameThreads is the largest share of names found among the thread names
// of one of the files, and that file; 0 with fewer than 3 names.
func sameThreads(names []string, files map[string][]string) (string, float64) {
	if len(names) < 3 {
		return "", 0
	}
	best, bestShare := "", 0.0
	for _, file := range slices.Sorted(maps.Keys(files)) {
		set := map[string]bool{}
		for _, n := range files[file] {
			set[n] = true
		}
		in := 0
		for _, n := range names {
			if set[n] {
				in++
			}
		}
		if share := float64(in) / float64(len(names)); share > bestShare {
			best, bestShare = filepath.Base(file), share
		}
	}
	if bestShare < 0.8 {
		return "", 0
	}
	return best, bestShare
}

// linkDump links one dump file; known is nil in the first pass, which
// links only the dumps that say whose they are, and reports whether it did.
func (b *builder) linkDump(ev *dumps.Evidence, known map[int]map[string][]string) bool {
	{
		if len(ev.ThreadDumps)+len(ev.GoroutineDumps)+len(ev.GoroutineProfiles) == 0 {
			return false
		}
		rt := RuntimeGo
		if len(ev.ThreadDumps) > 0 {
			switch ev.ThreadDumps[0].Runtime {
			case "python":
				rt = RuntimePython
			case "node":
				rt = RuntimeNode
			default:
				rt = RuntimeJava
			}
		}
		link := DumpLink{File: ev.File}
		how, at := "", Pos{}
		for _, d := range ev.ThreadDumps {
			if d.PID > 0 {
				link.PID, link.Method, link.Score, link.Link = d.PID, "pid-line", 1, StrengthStrong
				how, at = "the dump prints the pid", TextPos(d.Pos)
				link.Why = []string{fmt.Sprintf("the dump prints pid %d (%s)", d.PID, at)}
				link.Evidence = []Pos{at}
				break
			}
		}
		if link.PID == 0 {
			if p, ok := b.in.DumpPIDs[ev.File]; ok {
				link.PID, link.Method, link.Score, link.Link = p, "flag", 1, StrengthStrong
				how = "--dump"
				link.Why = []string{fmt.Sprintf("--dump %d=%s", p, ev.File)}
			}
		}
		if link.PID == 0 && known == nil {
			return false
		}
		if link.PID == 0 {
			b.scoreDump(ev, rt, &link, known)
			if link.PID > 0 {
				how = fmt.Sprintf("linked by its content, score %.2f: %s", link.Score, strings.Join(link.Why, "; "))
			}
		}
		if link.PID == 0 {
			msg := "dump not linked to a process: it prints no pid and nothing in it ties it to one listed process; give --dump PID=FILE"
			if len(link.Candidates) > 0 {
				var cs []string
				for _, c := range link.Candidates[:min(4, len(link.Candidates))] {
					cs = append(cs, fmt.Sprintf("%s %.2f", b.process(c.PID), c.Score))
				}
				msg = fmt.Sprintf("dump not linked to a process: the candidates score too close or too low (%s); give --dump PID=FILE", strings.Join(cs, ", "))
			}
			link.Method = "unlinked"
			link.Note = msg
			b.m.Warnings = append(b.m.Warnings, Warning{Pos: FilePos(ev.File), Msg: msg})
			b.m.DumpLinks = append(b.m.DumpLinks, link)
			return false
		}
		b.m.DumpLinks = append(b.m.DumpLinks, link)
		p := b.proc(link.PID)
		switch {
		case link.Link != StrengthWeak:
			p.strongDump = true
		case p.weakDump == 0 || link.Score < p.weakDump:
			p.weakDump = link.Score
		}
		p.runtime = rt
		p.dumps = append(p.dumps, ev)
		p.dumpNotes = append(p.dumpNotes, dumpNote{file: filepath.Base(ev.File), how: how, pos: at})
	}
	return true
}

// scoreDump scores every candidate process for a dump that names none, and
// links the best when it is clearly ahead.
func (b *builder) scoreDump(ev *dumps.Evidence, rt Runtime, link *DumpLink, known map[int]map[string][]string) {
	var cands []int
	for pid, p := range b.procs {
		if pid <= 0 || !p.listed && len(p.socks) == 0 {
			continue
		}
		prt := runtimeOfName(p.name)
		if prt == rt || prt == RuntimeUnknown {
			cands = append(cands, pid)
		}
	}
	slices.Sort(cands)
	if len(cands) == 0 {
		return
	}
	held, names, paths, at := dumpContent(ev)
	var threads []dumps.Thread
	if n := len(ev.ThreadDumps); n > 0 {
		threads = ev.ThreadDumps[n-1].Threads
	}
	age := dumpAgeOf(ev)
	base := strings.ToLower(filepath.Base(ev.File))
	var pidsInName []int
	for _, m := range dumpPIDInName.FindAllStringSubmatch(base, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil {
			pidsInName = append(pidsInName, n)
		}
	}
	sameRuntime := len(cands)
	for _, pid := range cands {
		p := b.procs[pid]
		c := Candidate{PID: pid, Name: p.name}
		add := func(w float64, format string, args ...any) {
			c.Score += w
			c.Why = append(c.Why, fmt.Sprintf("%+.2f ", w)+fmt.Sprintf(format, args...))
		}
		if n := len(p.socks); n > 0 && held > 0 {
			sim := float64(min(n, held)) / float64(max(n, held))
			if sim >= 0.5 {
				add(weightCount*sim, "%d threads or goroutines hold or wait on connections, the process has %d TCP sockets listed", held, n)
			}
		}
		if w := b.namedIn(p, names); w != "" {
			add(weightNames, "%s", w)
		}
		if file, share := sameThreads(names, known[pid]); share > 0 {
			add(weightSame*share, "%.0f%% of its thread names are those of %s, a dump of this process", 100*share, file)
		}
		if name := strings.ToLower(p.name); len(name) >= 3 && !interpreter(name) {
			for _, path := range paths {
				if pathNames(path, name) {
					add(weightPaths, "the command name %q is a directory or package in the dump's code (%s)", p.name, path)
					break
				}
			}
		}
		if prog := programOf(p.cmdline); prog.kind != progNone && len(threads) > 0 {
			if m, frame := programIn(prog, threads); m != matchNone {
				add(progWeight(m), "%s", programWhy(m, prog, frame, pid, cmdSource(p)))
			}
		}
		if sameRuntime == 1 {
			add(weightOnly, "the only listed process that may run %s", rt)
		}
		if w, why := b.ageEvidence(p, age); why != "" {
			add(w, "%s", why)
		}
		if slices.Contains(pidsInName, pid) {
			add(weightFilePID, "the pid is in the file name")
		} else if len(p.name) >= 3 && strings.Contains(base, strings.ToLower(p.name)) {
			add(weightFileName, "the command name is in the file name")
		}
		c.Score = math.Round(max(0, min(1, c.Score))*100) / 100
		link.Candidates = append(link.Candidates, c)
	}
	slices.SortStableFunc(link.Candidates, func(x, y Candidate) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.PID, y.PID))
	})
	best := link.Candidates[0]
	second := 0.0
	if len(link.Candidates) > 1 {
		second = link.Candidates[1].Score
	}
	if best.Score < linkMin || best.Score-second < linkMargin {
		if len(link.Candidates) > 1 {
			link.Note = fmt.Sprintf("ambiguous: best %.2f, second %.2f (linking needs %.2f and a lead of %.2f)", best.Score, second, linkMin, linkMargin)
		}
		return
	}
	link.PID, link.Method, link.Score, link.Why = best.PID, "content", best.Score, best.Why
	link.Evidence = append(link.Evidence, at)
	for _, pos := range b.procs[best.PID].listening {
		link.Evidence = append(link.Evidence, pos)
	}
	link.Link = StrengthWeak
	switch {
	case best.Score >= 0.7:
		link.Link = StrengthStrong
	case best.Score >= 0.45:
		link.Link = StrengthModerate
	}
	if len(link.Candidates) > 1 {
		link.Note = fmt.Sprintf("ahead of %s (%.2f)", b.process(link.Candidates[1].PID), second)
	}
}

// dumpContent reads what linking needs from the latest dump of a file: how
// many threads or goroutines hold or wait on connections, the thread
// names, and the source paths and function names of the program's code.
func dumpContent(ev *dumps.Evidence) (held int, names, paths []string, at Pos) {
	var buckets []dumps.Bucket
	profile := false
	switch {
	case len(ev.ThreadDumps) > 0:
		d := ev.ThreadDumps[len(ev.ThreadDumps)-1]
		buckets, at = d.Buckets, TextPos(d.Pos)
	case len(ev.GoroutineDumps) > 0:
		d := ev.GoroutineDumps[len(ev.GoroutineDumps)-1]
		buckets, at = d.Buckets, TextPos(d.Pos)
	case len(ev.GoroutineProfiles) > 0:
		d := ev.GoroutineProfiles[len(ev.GoroutineProfiles)-1]
		buckets, at, profile = d.Buckets, TextPos(d.Pos), true
	}
	var ss []suspect
	seen := map[string]bool{}
	for _, bk := range buckets {
		s := classifyBucket(bk, nil)
		act := bk.Class.Activity
		io := act == dumps.ActSocketRead || act == dumps.ActSocketWrite
		// As in tieHolders, a lone blocked stack that does no socket I/O
		// (a main goroutine, a signal waiter) is not counted.
		// A debug=1 profile leaves out the runtime frames a wait shows
		// in, so a group of goroutines parked in application code there
		// has no activity: counted as blocked when it is 2 or more.
		parked := profile && act == dumps.ActUnknown && bk.Count > 1 && dumps.AppFrame(bk.Frames) >= 0
		if parked || (s.role != RoleUnknown || io) && (bk.Count > 1 || io || s.connLoop) {
			ss = append(ss, s)
		}
		for _, m := range bk.Members {
			if m.Name != "" {
				names = append(names, m.Name)
			}
		}
		if i := dumps.AppFrame(bk.Frames); i >= 0 {
			for _, f := range bk.Frames[i:] {
				for _, p := range []string{f.File, f.Func} {
					if p != "" && !seen[p] {
						seen[p] = true
						paths = append(paths, p)
					}
				}
			}
		}
	}
	slices.Sort(paths)
	return holdCount(ss), names, paths, at
}

// pathNames reports whether name is a whole directory, file or package
// name in a source path or function name ("/src/pricefeed/main.go",
// "example.com/pricefeed.fetch").
func pathNames(path, name string) bool {
	p := strings.ToLower(path)
	for i := 0; ; {
		j := strings.Index(p[i:], name)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || strings.ContainsRune("/\\.", rune(p[j-1]))
		end := j + len(name)
		after := end == len(p) || strings.ContainsRune("/\\.(", rune(p[end]))
		if before && after {
			return true
		}
		i = j + 1
	}
}

// namedIn says which listening port or peer of a process a thread name
// names, or "".
func (b *builder) namedIn(p *proc, names []string) string {
	if len(names) == 0 {
		return ""
	}
	ports := make([]uint16, 0, len(p.listening))
	for port := range p.listening {
		ports = append(ports, port)
	}
	slices.Sort(ports)
	for _, port := range ports {
		ps := strconv.Itoa(int(port))
		for _, n := range names {
			if containsNumber(n, ps) {
				return fmt.Sprintf("thread name %q names its listening port %s (%s)", n, ps, p.listening[port])
			}
		}
	}
	peers := map[string]bool{}
	for k := range p.socks {
		peers[k.remote.String()] = true
	}
	keys := make([]string, 0, len(peers))
	for k := range peers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, peer := range keys {
		for _, n := range names {
			if strings.Contains(n, peer) {
				return fmt.Sprintf("thread name %q names its peer %s", n, peer)
			}
		}
	}
	return ""
}

// containsNumber reports whether s holds num as a whole number, not as
// part of a longer one.
func containsNumber(s, num string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], num)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(num)
		if (j == 0 || s[j-1] < '0' || s[j-1] > '9') && (end == len(s) || s[end] < '0' || s[end] > '9') {
			return true
		}
		i = j + 1
	}
}
