package report

import (
	"cmp"
	"errors"
	"maps"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/internal/hugepage"
	"github.com/cwforensics/cwforensics/pcapstate"
)

// BuildInput is everything analyze read, for Build to correlate.
type BuildInput struct {
	Title string
	// Capture is the result of reading every capture together, for
	// Build; nil when none was given. It must be read with RetainCloseWait
	// (or RetainAll) so that transient CLOSE_WAIT is in it. A Builder
	// takes the connections through Add instead.
	Capture *pcapstate.Result
	// Evidence holds the socket listings and dumps, in the order read.
	Evidence []*dumps.Evidence
	// Inputs lists every file given, read or not.
	Inputs []Input
	// Local says how the capture's local endpoints were chosen.
	Local LocalSource
	// MinIdle drops capture sockets in CLOSE_WAIT for less than this.
	MinIdle time.Duration
	// MaxFDs, when not 0, is the fd limit of every process (--max-fds).
	MaxFDs int
	// DumpPIDs links dump files (as named in Evidence) to processes when
	// nothing in the dump says which (--dump PID=FILE).
	DumpPIDs map[string]int
	// Thresholds; the zero value means DefaultThresholds.
	Thresholds Thresholds
}

// listing is one socket line of a kernel listing.
type listing struct {
	state dumps.State
	// stateFrom says where an unknown state was taken from, "" when the
	// tool printed it.
	stateFrom string
	owners    []dumps.Owner
	pos       Pos
	file      string
	snap      int
	at        time.Time // snapshot time, zero when the file shows none
	// recvQ is the socket's receive queue as the Linux kernel counts it
	// (ss's Recv-Q, /proc/net/tcp's rx_queue), -1 when the listing shows
	// none or another kernel's count (finRead).
	recvQ int64
}

// proc is what the evidence says about one process.
type proc struct {
	pid int
	procName
	// listed says a socket listing or a runtime report names the process:
	// only those are candidates for a dump (a ps listing names every
	// process of the machine).
	listed bool
	// procListing is what the process listings say of it (command line,
	// start, uptime), as they say it.
	procListing
	runtime   Runtime
	fdLimit   int
	fdFrom    Pos
	listening map[uint16]Pos // local ports it listens on -> position
	socks     map[key]bool   // its TCP sockets other than listeners, as listed
	dumps     []*dumps.Evidence
	dumpNotes []dumpNote
	// weakDump is the score of the weakest link of a dump tied to the
	// process by its content below a moderate link, 0 when none is;
	// strongDump says another dump is tied to it at least moderately.
	weakDump   float64
	strongDump bool
}

// dumpNote says how a dump file was linked to its process.
type dumpNote struct {
	file string
	how  string
	pos  Pos // where the dump says so, if it does
}

// builder holds Build's indexes.
type builder struct {
	in     BuildInput
	m      *Model
	kernel map[key][]listing
	procs  map[int]*proc
	// plist is what process listings (ps, /proc/PID/cmdline and stat)
	// say of each pid, given to the processes the other evidence names.
	plist map[int]*listedProc
	// unowned are the command lines that name no pid, until matched.
	unowned []*dumps.ProcessInfo
	// unmatched are those of them no single process's name fits.
	unmatched []*dumps.ProcessInfo
	// handles are the Node.js reports' connected tcp handles, keyed by
	// resolveHandles.
	handles []nodeHandle
	// lastEvidence is the time of the latest listing that shows one,
	// zero when none does.
	lastEvidence time.Time
	portPID      map[uint16]int // listening port -> pid
	defLimit     int            // ulimit -n without a pid
	limFrom      Pos
	sockets      map[key]*Socket
	// made holds the sockets of sockets (and those limitClosedLater
	// dropped, in dropped) in the order they were made, in chunks that
	// never move: the first as large as Build expects all of them to
	// be, so that the model's list is that chunk, not a copy of every
	// socket (50,000 of them, 13 MB, on the reference capture).
	made    [][]Socket
	dropped map[*Socket]bool
	// fdTies is fdListings' result once fdTied.
	fdTies []fdListing
	fdTied bool
	// kernelCW holds the sockets a listing shows in CLOSE_WAIT; seen and
	// spans what the report keeps of the capture's connections of the
	// sockets that may be stuck, ends those open at the end that wait for
	// it (see conns.go).
	kernelCW map[key]bool
	seen     map[key]*connSeen
	spans    map[key][]interval
	ends     chunked[openEnd]
	added    int // connections given to Add
	// seenLocal holds the local endpoints of the captured connections
	// that are local endpoints of listed sockets (kernelLocal), the only
	// ones asked about.
	seenLocal   map[ep]bool
	kernelLocal map[ep]bool
	// connsByPID counts, per listening process, its captured connections
	// and the positions of the resets its side sent.
	connsByPID map[int]int
	resets     map[int]*resetList
	// closedByUs counts, per local endpoint (a serverRequest with no
	// client) and method of the peer's last request, the connections whose
	// local end sent data and then its own FIN: the application closes on
	// that path. By endpoint, not port: a capture of several hosts (a
	// bridge of containers) sees each one's server on the same port.
	closedByUs map[serverRequest]int
	// closedClient and closedServer count, per server endpoint and method
	// of the client's last request, the connections their client closed
	// and those their server closed, by the server's last status.
	closedClient, closedServer map[serverRequest]*closedAfter
	// closedOut is, per peer's port, the longest CLOSE_WAIT the
	// application closed on a connection it opened (youngBefore of an
	// outbound flow: its local ports are new on every connection).
	closedOut map[uint16]time.Duration
	// ownedListen says, per listing file, the local ports whose listener
	// the file names an owner for: a connection of that port the file
	// lists without an owner was never accepted.
	ownedListen map[string]map[uint16]int
	// queued holds the stuck sockets never accepted (in a listen queue),
	// with the pid of the listener.
	queued map[key]int
	unconf []Pos // unconfirmed capture CLOSE_WAIT, positions
	// candidates are the closed-later sockets to list, the longest
	// maxClosedLater of each local port; closed is when each of the
	// closed-later sockets, listed or not, entered and left CLOSE_WAIT,
	// for the timeline: a busy capture has millions.
	candidates map[uint16]*candidates
	// lastCands is the candidates of lastCandPort, the port of the last
	// closed-later socket (candidatesOf).
	lastCandPort uint16
	lastCands    *candidates
	closed       closedTimes
	// closedLaterUnlisted counts, per process, the closed-later sockets
	// beyond the longest maxClosedLater, which are counted but not listed.
	closedLaterUnlisted map[int]int
	// closedSorting is sortClosed's, nil until it begins.
	closedSorting *sync.WaitGroup
	// timelineDone is closed once the timeline is drawn, in Build; nil
	// before it is begun (see waitTimeline).
	timelineDone chan struct{}
}

// waitTimeline waits until b.m.Timeline is drawn, when Build draws it on
// another goroutine.
func (b *builder) waitTimeline() {
	if b.timelineDone != nil {
		<-b.timelineDone
	}
}

// Build correlates captures, socket listings and dumps into a Model:
// stuck sockets with their process and fd, the threads or goroutines that
// hold them, one finding per root cause per process, severities, charts.
// It calls Finalize. Build is pure: the same input gives the same model.
// It is a Builder given in.Capture's connections through Add, the one
// path analyze takes with a pcapstate.Stream.
func Build(in BuildInput) (*Model, error) {
	res := in.Capture
	in.Capture = nil
	bb := NewBuilder(in)
	if res == nil {
		return bb.Build(nil)
	}
	for i := range res.Conns {
		bb.Add(&res.Conns[i])
	}
	rest := *res
	rest.Conns = nil
	return bb.Build(&rest)
}

// A Builder builds one report from the evidence and a stream of the
// capture's connections: NewBuilder reads the evidence, Add takes each
// connection (in any order: the finished ones as pcapstate.Stream hands
// them over while the captures are read, then those still open), and Build
// takes the rest of what the captures say. It keeps no connection, only
// what the report needs of each (see conns.go), so that memory follows the
// connections open at once. Of the closed-later sockets of a local port,
// only the longest maxClosedLater are kept to be listed; the others are
// counted.
type Builder struct{ b *builder }

// NewBuilder starts a report from in; in.Capture must be nil (give its
// connections to Add, the rest to Build).
func NewBuilder(in BuildInput) *Builder {
	if in.Thresholds == (Thresholds{}) {
		in.Thresholds = DefaultThresholds()
	}
	b := &builder{
		in:           in,
		m:            &Model{Title: in.Title, Inputs: in.Inputs, LocalSource: in.Local},
		kernel:       map[key][]listing{},
		procs:        map[int]*proc{},
		portPID:      map[uint16]int{},
		sockets:      map[key]*Socket{},
		kernelCW:     map[key]bool{},
		seen:         map[key]*connSeen{},
		spans:        map[key][]interval{},
		seenLocal:    map[ep]bool{},
		connsByPID:   map[int]int{},
		closedByUs:   map[serverRequest]int{},
		closedClient: map[serverRequest]*closedAfter{},
		closedServer: map[serverRequest]*closedAfter{},
		closedOut:    map[uint16]time.Duration{},

		ownedListen: map[string]map[uint16]int{},
		queued:      map[key]int{},

		kernelLocal: map[ep]bool{},
		resets:      map[int]*resetList{},
		candidates:  map[uint16]*candidates{},

		closedLaterUnlisted: map[int]int{},
	}
	b.indexEvidence()
	b.indexRuntimes()
	b.indexProcessListings()
	b.applyProcessListings()
	b.linkDumps()
	b.applyProcessListings() // the processes dumps name
	return &Builder{b}
}

// Add takes one of the capture's connections; c is not kept, and may be
// reused once Add returns.
func (bb *Builder) Add(c *pcapstate.Conn) { bb.b.addConn(c) }

// SetInputs sets the list of files given, read or not (BuildInput.Inputs),
// when it is complete only after the captures are read.
func (bb *Builder) SetInputs(in []Input) { bb.b.in.Inputs, bb.b.m.Inputs = in, in }

// errConnsInResult is Builder.Build's error for a Result with connections:
// they go through Add, once each.
var errConnsInResult = errors.New("the capture's connections go to Builder.Add, not in the Result given to Build")

// errNoResult is Builder.Build's error for connections given to Add
// without the Result of the captures they come from.
var errNoResult = errors.New("connections given to Builder.Add without the captures' Result")

// Build makes the model from the evidence, the connections given to Add
// and res, what reading the captures gave besides them (nil without any
// capture; its Conns must be empty, as a pcapstate.Stream's Result is). It
// calls Finalize. A Builder builds one model.
func (bb *Builder) Build(res *pcapstate.Result) (*Model, error) {
	b := bb.b
	if b.in.Capture != nil || res != nil && len(res.Conns) > 0 {
		return nil, errConnsInResult
	}
	if res == nil && b.added > 0 {
		return nil, errNoResult
	}
	b.in.Capture = res
	b.sortClosed() // while the sockets are made
	// Every socket is added from here on: the ends open at the capture's
	// end, the closed-later candidates and the sockets listed in
	// CLOSE_WAIT, at most. The map is made that large at once rather
	// than grown through its sizes (50,000 sockets on the reference
	// capture).
	if len(b.sockets) == 0 {
		n := b.ends.len() + len(b.kernelCW)
		for _, cs := range b.candidates {
			n += len(cs.h)
		}
		b.sockets = make(map[key]*Socket, n)
		b.made = [][]Socket{hugepage.Make[Socket](0, n)}
	}
	if res != nil {
		b.openEnds()
		for i := range res.HalfOpen {
			b.addHalfOpen(&res.HalfOpen[i])
		}
	}
	b.closedLaterSockets()
	b.kernelSockets()
	b.owners()
	b.limitClosedLater()
	// From here on no socket is added or removed, and the timeline reads
	// of the sockets only their statuses, which the findings leave as
	// they are: the timeline is drawn on another goroutine while the
	// findings are made, which wait for the
	// timeline only where they rate the growth it shows (measure). On
	// the reference capture the findings take most of Build's time, on
	// one core.
	b.timelineDone = make(chan struct{})
	go func() {
		defer close(b.timelineDone)
		b.timeline()
	}()
	b.logTimeline()
	b.countTimeline()
	b.findings()
	b.waitTimeline()
	b.summary()
	b.warnings()
	b.m.Sockets = b.madeSockets()
	err := b.m.Finalize()
	return b.m, err
}

func (b *builder) proc(pid int) *proc {
	p := b.procs[pid]
	if p == nil {
		p = &proc{pid: pid, listening: map[uint16]Pos{}, socks: map[key]bool{}}
		b.procs[pid] = p
	}
	return p
}

// nameRank ranks the sources of a process name by how complete they are:
// ps's command line and /proc/PID/cmdline hold the whole argv[0]; ss, lsof
// and /proc/PID/stat print the kernel's command name (ss up to 15 characters, lsof
// up to 9, or all of it with +c 0); netstat's program column is argv[0]
// cut to its column width ("./server/repo" for ./server/repository), so
// it is taken only when nothing else names the process.
func nameRank(tool dumps.Kind) int {
	switch tool {
	case dumps.KindPS, dumps.KindProcCmdline:
		return 3
	case dumps.KindSS, dumps.KindLsof, dumps.KindLsofFields, dumps.KindProcStat:
		return 2
	case dumps.KindNetstat:
		return 1
	}
	return 1
}

// procName is a process's name, how complete its source is (see
// nameRank) and where it was read.
type procName struct {
	name     string
	nameRank int
	nameFrom Pos
}

// takeName keeps the name from the most complete source, and of two from
// sources of the same rank the longer (lsof's cut beside ss's).
func (p *procName) takeName(name string, rank int, from Pos) {
	if name == "" || rank < p.nameRank || (rank == p.nameRank && len(name) <= len(p.name)) {
		return
	}
	p.name, p.nameRank, p.nameFrom = name, rank, from
}

// stateInName finds a TCP state named in a file name, for ss listings made
// with a state filter, which print no State column.
var stateInName = regexp.MustCompile(`(?i)(close[-_]?wait|fin[-_]?wait[-_]?2|established|time[-_]?wait|last[-_]?ack)`)

// indexEvidence indexes the kernel's sockets by endpoints and collects what
// the listings say about processes: names, listening ports, fd limits.
func (b *builder) indexEvidence() {
	// States as other listings print them, for stateless ss lines.
	known := map[key]dumps.State{}
	for _, ev := range b.in.Evidence {
		for _, s := range ev.Sockets {
			if k, ok := sockKey(&s); ok && s.State != dumps.StateUnknown {
				known[k] = s.State
			}
		}
	}
	for _, ev := range b.in.Evidence {
		for _, l := range ev.Limits {
			if l.Name != "Max open files" || l.Soft == nil {
				continue
			}
			if l.PID != nil {
				p := b.proc(*l.PID)
				p.fdLimit, p.fdFrom = int(*l.Soft), TextPos(l.Src)
			} else if b.defLimit == 0 {
				b.defLimit, b.limFrom = int(*l.Soft), TextPos(l.Src)
			}
		}
		for _, s := range ev.Sockets {
			if s.Proto != dumps.ProtoTCP {
				continue
			}
			for _, o := range s.Owners {
				if o.PID == nil {
					continue
				}
				p := b.proc(*o.PID)
				p.takeName(o.Process, nameRank(s.Tool), TextPos(s.Src))
				p.listed = true
				if s.State == dumps.StateListen && s.Local.Port != 0 {
					if b.ownedListen[ev.File] == nil {
						b.ownedListen[ev.File] = map[uint16]int{}
					}
					b.ownedListen[ev.File][s.Local.Port] = *o.PID
					p.listening[s.Local.Port] = TextPos(s.Src)
					if _, ok := b.portPID[s.Local.Port]; !ok {
						b.portPID[s.Local.Port] = *o.PID
					}
				}
			}
			k, ok := sockKey(&s)
			if !ok {
				continue
			}
			for _, o := range s.Owners {
				if o.PID != nil && s.State != dumps.StateListen {
					b.proc(*o.PID).socks[k] = true
				}
			}
			l := listing{state: s.State, owners: s.Owners, pos: TextPos(s.Src), file: ev.File, snap: s.Snapshot, at: s.SnapshotTime, recvQ: linuxRecvQ(&s)}
			if l.state == dumps.StateUnknown {
				if st, ok := known[k]; ok {
					l.state, l.stateFrom = st, "the same socket in another listing"
				} else if m := stateInName.FindString(filepath.Base(ev.File)); m != "" {
					if st, ok := dumps.ParseState(strings.ReplaceAll(strings.ToUpper(m), "-", "_")); ok {
						l.state, l.stateFrom = st, "the file name "+filepath.Base(ev.File)
					}
				}
			}
			b.kernel[k] = append(b.kernel[k], l)
			b.kernelLocal[k.local] = true
			if l.state == dumps.StateCloseWait {
				b.kernelCW[k] = true
			}
		}
	}
}

// sockKey keys a listed socket; sockets without IP addresses and ports
// (resolved names, listeners) have none.
func sockKey(s *dumps.Socket) (key, bool) {
	if !s.Local.Addr.IsValid() || !s.Remote.Addr.IsValid() || s.Remote.Port == 0 {
		return key{}, false
	}
	return mkKey(netip.AddrPortFrom(s.Local.Addr.WithZone(""), s.Local.Port), netip.AddrPortFrom(s.Remote.Addr.WithZone(""), s.Remote.Port)), true
}

// after reports whether l was taken after o: by their times, or, for two
// snapshots of one file that shows none (a loop of ss without date), by
// their order in it.
func (l *listing) after(o *listing) bool {
	if l.at.IsZero() && o.at.IsZero() && l.file == o.file {
		return l.snap > o.snap
	}
	return l.at.After(o.at)
}

// kernelState is the latest state the listings give a socket, with the
// listing it comes from.
func (b *builder) kernelState(k key) (listing, bool) {
	ls := b.kernel[k]
	if len(ls) == 0 {
		return listing{}, false
	}
	best := ls[0]
	for _, l := range ls[1:] {
		if l.after(&best) {
			best = l
		}
	}
	return best, true
}

func (b *builder) kernelCloseWait(k key) []listing {
	var out []listing
	for _, l := range b.kernel[k] {
		if l.state == dumps.StateCloseWait {
			out = append(out, l)
		}
	}
	return out
}

// addConn takes one of the capture's connections: CLOSE_WAIT at capture
// end (confirmed by the kernel's listings or seen only in the capture, or
// gone from a later listing) and our FIN_WAIT2 toward a peer in CLOSE_WAIT,
// listed once the capture's end is known (openEnds); transient CLOSE_WAIT
// that the application closed; the counts of connections and resets per
// process; and what the findings and the timeline ask later of the sockets
// that may be stuck (keep).
func (b *builder) addConn(c *pcapstate.Conn) {
	b.added++
	local, remote, k := b.sides(c)
	later, age := b.closedLater(local)
	b.keep(c, local, remote, k, later)
	if b.kernelLocal[k.local] {
		b.seenLocal[k.local] = true
	}
	if !local.FIN.IsZero() && local.Bytes > 0 && remote.Bytes > 0 && local.State != pcapstate.CloseWait {
		a := endOf(k.local, ep{})
		a.method = uint64(remote.LastRequest)
		b.closedByUs[a]++
	}
	b.noteClosed(c)
	if pid := b.portPID[k.local.Port()]; pid > 0 {
		b.connsByPID[pid]++
		if !local.RST.IsZero() {
			rl := b.resets[pid]
			if rl == nil {
				rl = &resetList{}
				b.resets[pid] = rl
			}
			rl.add(PacketPos(local.RST))
		}
	}
	switch {
	case local.State == pcapstate.CloseWait:
		b.ends.push(openEnd{k: k, verdict: c.Verdict, since: local.Since, fin: remote.FIN, finAck: remote.FINAck})
		if remote.State == pcapstate.FinWait2 && b.kernelListsFinWait2(k.reversed()) {
			// Both ends on this host (loopback): the kernel lists our
			// end in FIN_WAIT2 too when it is still there.
			b.ends.push(openEnd{k: k.reversed(), finWait2: true, since: remote.Since, fin: remote.FIN, finAck: local.FINAck})
		}
	case local.State == pcapstate.FinWait2 && remote.State == pcapstate.CloseWait:
		b.ends.push(openEnd{k: k, finWait2: true, since: local.Since, fin: local.FIN, finAck: remote.FINAck})
	case later:
		b.closed.add(local.CloseWaitAt.UnixNano(), local.CloseWaitEnd.UnixNano())
		cs := b.candidatesOf(k.local.Port())
		cs.longest = max(cs.longest, age)
		// Ours opened it: the capture's opener, unless the report took
		// the connection's remote end as ours (sides, on loopback).
		if c.LocalOpened == (local == &c.Local) {
			b.closedOut[k.remote.Port()] = max(b.closedOut[k.remote.Port()], age)
		}
		if cs.shorter(age) {
			cs.dropped++ // most of a busy port's: not built to be dropped
		} else {
			cs.add(candidate{k: k, since: local.CloseWaitAt, age: age, fins: [2]pcapstate.Pos{remote.FIN, local.FIN}})
		}
	}
}

// addHalfOpen takes the half-open connections to one local endpoint
// (pcapstate.Options.SummarizeHalfOpen): they count as connections of the
// process on that port and show the endpoint in the capture, as each would
// through addConn, and make a note of their own.
func (b *builder) addHalfOpen(h *pcapstate.HalfOpen) {
	local := epOf(h.Local)
	if b.kernelLocal[local] {
		b.seenLocal[local] = true
	}
	if pid := b.portPID[local.Port()]; pid > 0 {
		b.connsByPID[pid] += int(h.Conns)
	}
	n := HalfOpenNote{
		Local: endpointOf(local), VLAN: h.VLAN, Conns: int(h.Conns), Sources: int(h.Sources),
		First: h.First, Last: h.Last, FirstPacket: PacketPos(h.FirstPacket), LastPacket: PacketPos(h.LastPacket),
	}
	n.Text = halfOpenText(&n)
	b.m.HalfOpen = append(b.m.HalfOpen, n)
}

// halfOpenText is a HalfOpenNote's sentence.
func halfOpenText(n *HalfOpenNote) string {
	var s strings.Builder
	s.WriteString(FormatCount(n.Conns) + " half-open " + plural("connection", n.Conns) + " (SYNs never answered) to local port ")
	s.WriteString(strconv.Itoa(int(n.Local.Port)) + " (" + n.Local.String())
	if n.VLAN != 0 {
		s.WriteString(", VLAN " + strconv.Itoa(int(n.VLAN)))
	}
	s.WriteString(") from " + FormatCount(n.Sources) + " " + plural("source", n.Sources))
	if n.First.Equal(n.Last) {
		s.WriteString(", at " + FormatTime(n.First))
	} else {
		s.WriteString(", between " + FormatTime(n.First) + " and " + FormatTime(n.Last))
	}
	s.WriteString(": a SYN flood, or a listener whose accept backlog is full, not CLOSE_WAIT; first SYN at " + n.FirstPacket.String() + ", last packet at " + n.LastPacket.String() + ".")
	return s.String()
}

// sides returns c's local and remote ends as the report takes them, and
// the key of its local end.
func (b *builder) sides(c *pcapstate.Conn) (local, remote *pcapstate.Side, k key) {
	local, remote = &c.Local, &c.Remote
	k = mkKey(local.Addr, remote.Addr)
	if len(b.kernel) == 0 {
		return local, remote, k // no listing: the capture's choice (most of a busy capture's connections)
	}
	mine, theirs := len(b.kernel[k]) > 0, len(b.kernel[k.reversed()]) > 0
	switch {
	case !mine && theirs && !b.onlyTimeWait(k.reversed()):
		// The kernel lists the other end as ours (both ends are local
		// on loopback): take the listing's side. An end listed only in
		// TIME_WAIT says nothing of which end the report is about (it
		// closed first, and no process holds it), so the capture's
		// choice stays: a server whose client's end lingers in TIME_WAIT
		// is still the server, and a client in CLOSE_WAIT whose server's
		// end lingers is still the client.
		local, remote, k = remote, local, k.reversed()
	case mine && theirs && local.CloseWaitAt.IsZero() && !remote.CloseWaitAt.IsZero():
		// Both ends are listed (loopback): the report is about the end
		// that went through CLOSE_WAIT.
		local, remote, k = remote, local, k.reversed()
	}
	return local, remote, k
}

// onlyTimeWait reports whether every listing of k shows it in TIME_WAIT.
func (b *builder) onlyTimeWait(k key) bool {
	for _, l := range b.kernel[k] {
		if l.state != dumps.StateTimeWait {
			return false
		}
	}
	return true
}

// closedLater reports whether a local end left a CLOSE_WAIT that lasted
// long enough to show, and how long it lasted: a closed-later socket, in
// addConn's order of cases (a local end in FIN_WAIT2 has no CLOSE_WAIT
// end).
func (b *builder) closedLater(local *pcapstate.Side) (bool, time.Duration) {
	if local.State == pcapstate.CloseWait || local.CloseWaitAt.IsZero() || local.CloseWaitEnd.IsZero() {
		return false, 0
	}
	age := local.CloseWaitEnd.Sub(local.CloseWaitAt)
	return age >= max(b.in.MinIdle, transientMin), age
}

// closedLaterSockets makes the closed-later sockets of the candidates, where
// no other socket has their endpoints (a later connection of the same
// endpoints stuck in CLOSE_WAIT wins), and counts the others of each
// process as not listed.
func (b *builder) closedLaterSockets() {
	ports := slices.Sorted(maps.Keys(b.candidates))
	for _, port := range ports {
		cs := b.candidates[port]
		b.closedLaterUnlisted[b.portPID[port]] += cs.dropped
		b.m.Summary.ClosedLaterUnlisted += cs.dropped
		for _, cd := range cs.h {
			if b.sockets[cd.k] != nil {
				continue
			}
			s := b.socket(cd.k)
			s.Status = StatusClosedLater
			s.Since, s.Age = cd.since, cd.age
			s.Evidence = append(s.Evidence, PacketPos(cd.fins[0]), PacketPos(cd.fins[1]))
		}
	}
}

// interval is when a socket entered and left CLOSE_WAIT, in ns since the
// epoch (capture times are UTC): a busy capture has millions.
type interval struct{ at, end int64 }

// candidate is a closed-later socket that may be listed.
type candidate struct {
	k     key
	since time.Time
	age   time.Duration
	fins  [2]pcapstate.Pos // the remote FIN and ours
}

// less orders candidates from the one least worth listing: the shortest,
// then the latest key.
func (c *candidate) less(o *candidate) bool {
	if c.age != o.age {
		return c.age < o.age
	}
	return compareKeys(c.k, o.k) > 0
}

// candidates keeps the maxClosedLater candidates most worth listing, in a
// heap whose root is the least, and counts those it dropped.
type candidates struct {
	h       []candidate
	dropped int
	// longest is the longest CLOSE_WAIT of the port that the application
	// closed, listed or not (youngBefore).
	longest time.Duration
}

// candidatesOf returns the closed-later candidates of a local port,
// looking the port up only when it is not the last one's: a server's
// connections come on one port or a few, one after another.
func (b *builder) candidatesOf(port uint16) *candidates {
	if b.lastCands != nil && b.lastCandPort == port {
		return b.lastCands
	}
	cs := b.candidates[port]
	if cs == nil {
		cs = &candidates{}
		b.candidates[port] = cs
	}
	b.lastCandPort, b.lastCands = port, cs
	return cs
}

// shorter reports whether a candidate of this age would be dropped
// whatever its key: the heap is full and its least kept is longer.
func (cs *candidates) shorter(age time.Duration) bool {
	return len(cs.h) >= maxClosedLater && age < cs.h[0].age
}

func (cs *candidates) add(c candidate) {
	if len(cs.h) < maxClosedLater {
		cs.h = append(cs.h, c)
		for i := len(cs.h) - 1; i > 0; {
			p := (i - 1) / 2
			if !cs.h[i].less(&cs.h[p]) {
				break
			}
			cs.h[i], cs.h[p] = cs.h[p], cs.h[i]
			i = p
		}
		return
	}
	cs.dropped++
	if !cs.h[0].less(&c) {
		return // no better than the least kept
	}
	cs.h[0] = c
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(cs.h) && cs.h[l].less(&cs.h[m]) {
			m = l
		}
		if r < len(cs.h) && cs.h[r].less(&cs.h[m]) {
			m = r
		}
		if m == i {
			break
		}
		cs.h[i], cs.h[m] = cs.h[m], cs.h[i]
		i = m
	}
}

// resetList is the resets a process's side sent: how many, and the
// earliest maxResetEvidence positions.
type resetList struct {
	n     int
	first []Pos
}

// maxResetEvidence is how many resets the error-handling finding cites.
const maxResetEvidence = 8

func (rl *resetList) add(p Pos) {
	rl.n++
	i, _ := slices.BinarySearchFunc(rl.first, p, Pos.Compare)
	if i >= maxResetEvidence {
		return
	}
	rl.first = slices.Insert(rl.first, i, p)
	if len(rl.first) > maxResetEvidence {
		rl.first = rl.first[:maxResetEvidence]
	}
}

// maxClosedLater is how many closed-later sockets of one process the report
// lists, the longest first: a busy server passes connections by the
// thousand through a CLOSE_WAIT of a second or more, which is counted (and
// drawn in the timeline) but not worth a row each.
const maxClosedLater = 100

// limitClosedLater keeps the longest maxClosedLater closed-later sockets of
// every process and counts the others. The timeline draws them all from
// b.closed, not from the sockets.
func (b *builder) limitClosedLater() {
	type aged struct {
		age time.Duration
		k   key
	}
	byPID := map[int][]aged{}
	for k, s := range b.sockets {
		if s.Status == StatusClosedLater {
			byPID[s.PID] = append(byPID[s.PID], aged{s.Age, k})
		}
	}
	for pid, socks := range byPID {
		if len(socks) <= maxClosedLater {
			continue
		}
		slices.SortFunc(socks, func(x, y aged) int {
			if c := cmp.Compare(y.age, x.age); c != 0 {
				return c
			}
			return compareKeys(x.k, y.k)
		})
		if b.dropped == nil {
			b.dropped = map[*Socket]bool{}
		}
		for _, s := range socks[maxClosedLater:] {
			b.dropped[b.sockets[s.k]] = true
			delete(b.sockets, s.k)
		}
		b.closedLaterUnlisted[pid] = len(socks) - maxClosedLater
		b.m.Summary.ClosedLaterUnlisted += len(socks) - maxClosedLater
	}
}

// transientMin is how long a CLOSE_WAIT that the application closed must
// have lasted to be shown: a normal close passes through CLOSE_WAIT for the
// microseconds between the peer's FIN and ours.
const transientMin = time.Second

// finWait2 adds our end of a connection whose peer never closes.
func (b *builder) finWait2(e *openEnd) {
	k := e.k
	s := b.socket(k)
	s.Status = StatusFinWait2
	s.Since = e.since
	s.Age = b.in.Capture.End.Sub(e.since)
	s.Evidence = append(s.Evidence, PacketPos(e.fin), PacketPos(e.finAck))
	for _, l := range b.kernel[k] {
		if l.state == dumps.StateFinWait2 {
			s.Evidence = append(s.Evidence, l.pos)
		}
	}
}

// captureCloseWait adds our end of a connection in CLOSE_WAIT at the
// capture's end.
func (b *builder) captureCloseWait(e *openEnd) {
	res, k := b.in.Capture, e.k
	age := res.End.Sub(e.since)
	cw := b.kernelCloseWait(k)
	if e.verdict != pcapstate.CloseWaitConfirmed && len(cw) == 0 {
		b.unconf = append(b.unconf, PacketPos(e.fin))
		return
	}
	if age < b.in.MinIdle {
		return
	}
	s := b.socket(k)
	s.Since, s.Age = e.since, age
	s.Evidence = append(s.Evidence, PacketPos(e.fin), PacketPos(e.finAck))
	switch {
	case len(cw) > 0:
		// Still listed after the capture's end: stuck at least this long.
		s.Status, s.AgeLowerBound = StatusConfirmed, true
		for _, l := range cw {
			s.Evidence = append(s.Evidence, l.pos)
			// A listing taken after the capture that still shows the
			// socket in CLOSE_WAIT: stuck at least until then.
			if l.at.After(e.since.Add(s.Age)) {
				s.Age, s.AgeLowerBound = l.at.Sub(e.since), true
			}
		}
	default:
		s.Status = StatusCaptureOnly
		// A listing taken after the capture that shows the socket in
		// another state, or a timed listing of its port without it, says it
		// was closed since.
		if l, ok := b.kernelState(k); ok && !l.at.IsZero() && l.at.After(res.End) {
			s.Status = StatusGoneLater
			s.Evidence = append(s.Evidence, l.pos)
		} else if l, ok := b.kernelState(k.reversed()); ok && l.state == dumps.StateTimeWait && !l.at.IsZero() && l.at.After(res.End) {
			// The peer's end on this host (loopback) listed in TIME_WAIT
			// after the capture: it has had our FIN, so ours closed.
			s.Status = StatusGoneLater
			s.Evidence = append(s.Evidence, l.pos)
		}
	}
}

// kernelSockets adds the sockets the kernel lists in CLOSE_WAIT that the
// capture did not account for: older than the capture, or not captured.
func (b *builder) kernelSockets() {
	res := b.in.Capture
	keys := make([]key, 0, len(b.kernel))
	for k := range b.kernel {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		cw := b.kernelCloseWait(k)
		if len(cw) == 0 {
			continue
		}
		if s, ok := b.sockets[k]; ok {
			if s.Status == StatusClosedLater {
				// Listed in CLOSE_WAIT, then closed in the capture: the
				// listing came first unless its time says otherwise.
				for _, l := range cw {
					s.Evidence = append(s.Evidence, l.pos)
				}
			}
			continue
		}
		// A connection the capture saw but not in CLOSE_WAIT at its end:
		// a listing without a time cannot say which came later, so the
		// kernel's word stands, as kernel-only.
		s := b.socket(k)
		s.Status = StatusKernelOnly
		for _, l := range cw {
			s.Evidence = append(s.Evidence, l.pos)
		}
		first, last := cw[0].at, cw[0].at
		for _, l := range cw {
			if !l.at.IsZero() && (first.IsZero() || l.at.Before(first)) {
				first = l.at
			}
			if l.at.After(last) {
				last = l.at
			}
		}
		switch {
		case res != nil && b.seenLocal[k.local]:
			// The capture saw traffic on this port but not this
			// connection closing: it was in CLOSE_WAIT before the capture,
			// and until the latest listing that shows it.
			end := res.End
			if last.After(end) {
				end = last
			}
			s.Age, s.AgeLowerBound = end.Sub(res.Start), true
		case !first.IsZero() && last.After(first):
			s.Since = first
			s.Age, s.AgeLowerBound = last.Sub(first), true
		}
	}
}

func (b *builder) socket(k key) *Socket {
	s := b.sockets[k]
	if s == nil {
		last := len(b.made) - 1
		if last < 0 || len(b.made[last]) == cap(b.made[last]) {
			size := 64
			if last >= 0 {
				size = max(size, 2*cap(b.made[last]))
			}
			b.made, last = append(b.made, make([]Socket, 0, size)), last+1
		}
		b.made[last] = append(b.made[last], Socket{Local: endpointOf(k.local), Remote: endpointOf(k.remote)})
		s = &b.made[last][len(b.made[last])-1]
		b.sockets[k] = s
	}
	return s
}

// madeSockets returns the sockets made, but those dropped, in the order
// they were made (Finalize sorts them by a total order of their own, in
// which no two sockets of different keys tie), without the zero
// positions their evidence may hold: the first chunk itself when it
// holds them all.
func (b *builder) madeSockets() []Socket {
	var out []Socket
	if len(b.made) == 1 && len(b.dropped) == 0 {
		out = b.made[0]
	} else {
		out = make([]Socket, 0, len(b.sockets))
		for _, ch := range b.made {
			for i := range ch {
				if !b.dropped[&ch[i]] {
					out = append(out, ch[i])
				}
			}
		}
	}
	b.made, b.dropped = nil, nil
	for i := range out {
		out[i].Evidence = slices.DeleteFunc(out[i].Evidence, Pos.IsZero)
	}
	return out
}

// owners gives every socket its process and fd: from the listings that name
// it, else from the process listening on its local port (an accepted
// connection).
func (b *builder) owners() {
	b.resolveHandles()
	// A runtime report's handle names its process and fd exactly where
	// no listing names an owner.
	handles := map[key]*nodeHandle{}
	for i, h := range b.handles {
		if h.s.PID > 0 && h.s.FD >= 0 {
			handles[h.k] = &b.handles[i]
		}
	}
	for k, s := range b.sockets {
		var best *dumps.Owner
		var from Pos
		for _, l := range b.kernel[k] {
			for i := range l.owners {
				o := &l.owners[i]
				if o.PID != nil && (best == nil || (best.FD == nil && o.FD != nil)) {
					best, from = o, l.pos
				}
			}
		}
		if h, ok := handles[k]; ok && best == nil {
			pid, fd := h.s.PID, h.s.FD
			best, from = &dumps.Owner{PID: &pid, FD: &fd}, TextPos(h.s.Src)
		}
		if best != nil {
			s.PID = *best.PID
			if best.FD != nil {
				s.FD = *best.FD
			}
			s.Process = b.proc(s.PID).name
			if s.Process == "" {
				s.Process = best.Process
			}
			s.Evidence = append(s.Evidence, from)
			continue
		}
		if s.Status == StatusFinWait2 {
			continue // our FIN_WAIT2 sockets are often orphaned: no process
		}
		if pid, pos, ok := b.neverAccepted(k); ok {
			// Listed without an owner by a listing that names the
			// listener's: in the listen queue, no process has it.
			b.queued[k] = pid
			s.Evidence = append(s.Evidence, pos)
			continue
		}
		if pid, ok := b.portPID[k.local.Port()]; ok {
			s.PID, s.Process = pid, b.proc(pid).name
			s.Evidence = append(s.Evidence, b.proc(pid).listening[k.local.Port()])
		}
	}
}

// neverAccepted reports whether a listing that names the owner of the
// listener of k's local port lists k without an owner: a connection the
// kernel completed and no process accepted. It returns the listener's pid
// and the listing's position.
func (b *builder) neverAccepted(k key) (int, Pos, bool) {
	for _, l := range b.kernel[k] {
		if pid, ok := b.ownedListen[l.file][k.local.Port()]; ok && len(l.owners) == 0 {
			return pid, l.pos, true
		}
	}
	return 0, Pos{}, false
}

// runtimeOfName guesses a process's runtime from its command name.
func runtimeOfName(name string) Runtime {
	n := strings.ToLower(name)
	switch {
	case n == "java" || strings.HasPrefix(n, "java"):
		return RuntimeJava
	case strings.HasPrefix(n, "python"):
		return RuntimePython
	case n == "node" || strings.HasPrefix(n, "node"):
		return RuntimeNode
	}
	return RuntimeUnknown
}

// nodeHandle is a connected tcp handle of a Node.js report, with the
// socket it stands for and the report's file.
type nodeHandle struct {
	s    dumps.RuntimeSocket
	k    key
	file string
}

// resolveHandles keys the connected tcp handles of Node.js reports once,
// for the owners and the findings: by their endpoints; a handle that
// names them by host only (Node 12 to 16: "localhost") by the socket the
// listings give its process and fd, or else by the one socket with its
// two ports.
func (b *builder) resolveHandles() {
	var (
		byOwner map[[2]int]key
		byPorts map[[2]uint16][]key
	)
	for _, ev := range b.in.Evidence {
		for _, s := range ev.RuntimeSockets {
			if s.Source != "libuv-tcp" || s.Remote.Port == 0 {
				continue
			}
			if s.Local.Addr.IsValid() && s.Remote.Addr.IsValid() {
				k := mkKey(netip.AddrPortFrom(s.Local.Addr.Unmap().WithZone(""), s.Local.Port), netip.AddrPortFrom(s.Remote.Addr.Unmap().WithZone(""), s.Remote.Port))
				b.handles = append(b.handles, nodeHandle{s, k, ev.File})
				continue
			}
			if byPorts == nil {
				byOwner, byPorts = map[[2]int]key{}, map[[2]uint16][]key{}
				for k, ls := range b.kernel {
					for _, l := range ls {
						for _, o := range l.owners {
							if o.PID != nil && o.FD != nil {
								byOwner[[2]int{*o.PID, *o.FD}] = k
							}
						}
					}
				}
				for k := range b.sockets {
					pp := [2]uint16{k.local.Port(), k.remote.Port()}
					byPorts[pp] = append(byPorts[pp], k)
				}
			}
			k, ok := byOwner[[2]int{s.PID, s.FD}]
			if !ok || k.local.Port() != s.Local.Port || k.remote.Port() != s.Remote.Port {
				ks := byPorts[[2]uint16{s.Local.Port, s.Remote.Port}]
				if len(ks) != 1 {
					continue
				}
				k = ks[0]
			}
			s.Local.Addr, s.Remote.Addr = k.local.Addr(), k.remote.Addr()
			b.handles = append(b.handles, nodeHandle{s, k, ev.File})
		}
	}
}
