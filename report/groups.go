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

// A process's stuck sockets are split into groups, one finding each: first
// by mechanism (held by a blocked thread or goroutine, kept by a pool with
// no thread on them, referenced by nothing), then by flow (local port and
// peer). A thread dump carries no fds, so threads are tied to flows by what
// their names say, else by counts; when a flow has fewer holders than
// sockets, the holders account for as many sockets as there are holders and
// the rest are a group of their own, and both findings say the split is by
// count.

// flowKey names a flow of stuck sockets: an accepted socket by its local
// port and peer address, an outbound one by its peer address and port.
type flowKey struct {
	outbound bool
	port     uint16 // local port (accepted) or peer port (outbound)
	peer     string // peer address; "" when the flow folds several
	// peers counts the peer addresses of a folded flow (see flowsOf).
	peers int
}

func (f flowKey) String() string {
	switch {
	case f.peers > 1 && f.outbound:
		return fmt.Sprintf("outbound to port %d of %d addresses", f.port, count(f.peers))
	case f.peers > 1:
		return fmt.Sprintf("accepted on :%d from %d addresses", f.port, count(f.peers))
	case f.outbound:
		return "outbound to " + netJoin(f.peer, f.port)
	}
	return "accepted on :" + strconv.Itoa(int(f.port)) + " from " + f.peer
}

// maxPeerFlows is how many peer addresses of one port get a flow each:
// a server's clients or a pool's backends beyond that are one flow, so
// that a port that many peers reach is one finding, not one per peer.
const maxPeerFlows = 3

func netJoin(addr string, port uint16) string {
	if strings.Contains(addr, ":") {
		return "[" + addr + "]:" + strconv.Itoa(int(port))
	}
	return addr + ":" + strconv.Itoa(int(port))
}

// flow is the stuck sockets of one flowKey and the holders tied to it.
type flow struct {
	key     flowKey
	keys    []key
	holders []suspect
}

// sockGroup is one group of a process's stuck sockets: one finding.
type sockGroup struct {
	mech    Mechanism
	flow    *flow
	keys    []key
	holders []suspect
	// split is set when a flow's sockets were shared between its holders
	// and the rest by count: which sockets the holders hold is not known.
	split bool
	// of is the size of the flow the group was split from.
	of int
	// byExchange says the split follows what the capture shows: exactly
	// the held sockets had an unfinished exchange at the peer's FIN.
	byExchange bool
	// issuers are the process's groups of JavaScript stacks (nodeStacks):
	// the code that made the sockets of a Node.js process, which no thread
	// holds.
	issuers []suspect
	// shared are the process's JavaScript stacks that name none of its
	// several groups (see stuckFindings): shown once, with its largest
	// group; sharedWith, set on its other groups, ends their claim: how
	// the stacks name the groups, and which group shows them.
	shared     []suspect
	sharedWith string
	// last is the last exchange before the peer's FIN that the group's
	// sockets share (LastUnknown: not classed), and byLast says the group
	// was split from the others of its mechanism and flow by it; exch
	// are the keys' last exchanges, in their order, when last is known:
	// all of one Upgrade.
	last   Exchange
	byLast bool
	exch   []exchangeSeen
}

// upgrade is how the group's connections left HTTP/1.x, if they did: all
// of them alike, as splitByLastExchange splits them.
func (sg *sockGroup) upgrade() Upgrade {
	if len(sg.exch) == 0 {
		return UpgradeNone
	}
	return sg.exch[0].upgrade
}

// exchange classes of a socket's connection at the peer's FIN, in the
// order holders are given sockets.
const (
	exchangeUnfinished = iota // one side sent data, the other never did
	exchangeNone              // no data either way
	exchangeUnknown           // the capture did not see the connection
	exchangeDone              // both sides sent data
)

// exchange classifies the data a stuck socket's connection carried before
// the peer's FIN, from the capture's byte counts.
func (b *builder) exchange(k key) int {
	c, ok := b.seen[k]
	if !ok {
		return exchangeUnknown
	}
	ours, theirs := c.ours, c.theirs
	switch {
	case ours > 0 && theirs > 0:
		return exchangeDone
	case ours > 0 || theirs > 0:
		return exchangeUnfinished
	}
	return exchangeNone
}

// exchangeCounts counts some sockets by exchange.
func (b *builder) exchangeCounts(keys []key) [4]int {
	var n [4]int
	for _, k := range keys {
		n[b.exchange(k)]++
	}
	return n
}

// exchangeText says what the capture shows of some sockets' exchanges
// (counted by exchangeCounts), "" when it saw none of them.
func exchangeText(n [4]int) string {
	if n[exchangeUnknown] == n[0]+n[1]+n[2]+n[3] {
		return ""
	}
	var parts []string
	for _, c := range []struct {
		i    int
		text string
	}{{exchangeUnfinished, "had an unfinished exchange (one side sent data, the other never answered)"}, {exchangeDone, "carried data both ways"}, {exchangeNone, "carried no data"}, {exchangeUnknown, "are not in the capture"}} {
		if n[c.i] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count(n[c.i]), c.text))
		}
	}
	return "before the peer's FIN, of these sockets " + strings.Join(parts, ", ")
}

// holdCount is how many sockets some holders account for: one per thread or
// goroutine, except that a pool's per-connection goroutines (a persistConn's
// readLoop and writeLoop) are counted once per connection.
func holdCount(ss []suspect) int {
	perPool := map[string]int{}
	n := 0
	for _, s := range ss {
		if s.connLoop {
			perPool[s.bucket.Class.Pool] = max(perPool[s.bucket.Class.Pool], s.bucket.Count)
			continue
		}
		n += s.bucket.Count
	}
	for _, c := range perPool {
		n += c
	}
	return n
}

// flowsOf splits stuck sockets by flow, largest first.
func (b *builder) flowsOf(pid int, stuck []key) []*flow {
	// The peers of each port first: a port that more than maxPeerFlows
	// peer addresses share is one flow.
	type port struct {
		outbound bool
		port     uint16
	}
	// A peer is its address alone (an ep of port 0).
	type peerFlow struct {
		port
		peer ep
	}
	// Each socket's port, found once: outbound looks the socket up in
	// maps keyed by its endpoints, and a process may have 50,000. A
	// socket of the same port and peer as the one before it (the keys
	// are sorted) takes the same sets and flow without a lookup.
	ports := make([]port, len(stuck))
	peers := map[port]map[ep]bool{}
	var last peerFlow
	for i, k := range stuck {
		p := port{false, k.local.Port()}
		if b.outbound(pid, k) {
			p = port{true, k.remote.Port()}
		}
		ports[i] = p
		pf := peerFlow{p, k.remote.withPort(0)}
		if i > 0 && pf == last {
			continue
		}
		last = pf
		if peers[p] == nil {
			peers[p] = map[ep]bool{}
		}
		peers[p][pf.peer] = true
	}
	index := map[peerFlow]*flow{}
	var out []*flow
	var f *flow
	for i, k := range stuck {
		p := ports[i]
		pf := peerFlow{port: p}
		n := len(peers[p])
		if n <= maxPeerFlows {
			pf.peer = k.remote.withPort(0)
		}
		if i == 0 || pf != last {
			last, f = pf, index[pf]
			if f == nil {
				fk := flowKey{outbound: p.outbound, port: p.port, peers: n}
				if n <= maxPeerFlows {
					fk.peer, fk.peers = pf.peer.Addr().String(), 0
				}
				f = &flow{key: fk}
				index[pf] = f
				out = append(out, f)
			}
		}
		f.keys = append(f.keys, k)
	}
	slices.SortStableFunc(out, func(a, c *flow) int {
		return cmp.Or(cmp.Compare(len(c.keys), len(a.keys)), cmp.Compare(a.key.String(), c.key.String()))
	})
	return out
}

// tieHolders gives each holder to one flow: the flow its thread names or
// frames name, else the only flow, else the flow whose count is closest to
// its own among those it fits.
//
// A lone blocked thread or goroutine (a stack of one) that neither does
// socket I/O nor names a flow is not taken for a holder: a program's main
// goroutine, a signal or shutdown waiter look like that.
func (b *builder) tieHolders(flows []*flow, holders []suspect) {
	for _, h := range holders {
		var best *flow
		why := ""
		for _, f := range flows {
			if name := peerNamed(h.bucket, f.keys, "thread name"); name != "" {
				best, why = f, name
				break
			}
		}
		act := h.bucket.Class.Activity
		if best == nil && h.bucket.Count < 2 && !h.connLoop && act != dumps.ActSocketRead && act != dumps.ActSocketWrite {
			continue
		}
		if best == nil && len(flows) == 1 {
			best, why = flows[0], onlyFlow
		}
		if best == nil {
			n := h.bucket.Count
			for _, f := range flows {
				if best == nil || absInt(len(f.keys)-n) < absInt(len(best.keys)-n) {
					best = f
				}
			}
			why = fmt.Sprintf("%d %s, the flow whose count (%d) is closest; no name or frame ties it to a flow", count(n), plural(h.kind.String(), n), count(len(best.keys)))
		}
		h.tie = why
		best.holders = append(best.holders, h)
	}
}

// onlyFlow is why a holder is tied to the only flow of its process.
const onlyFlow = "the process's only flow of stuck sockets"

func absInt(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// sockGroups splits a process's stuck sockets into groups by mechanism and
// flow. pool says the dump shows the process's connection pool (borrowers
// waiting, pool frames), which is what keeps outbound sockets no thread
// holds.
func (b *builder) sockGroups(pid int, stuck []key, holders []suspect, pool, haveDump bool) []sockGroup {
	flows := b.flowsOf(pid, stuck)
	b.tieHolders(flows, holders)
	var out []sockGroup
	rest := func(f *flow, keys []key, split bool) {
		mech := MechanismUnreferenced
		if f.key.outbound && (pool || (!haveDump && len(flows) == 1)) {
			mech = MechanismPool
		}
		out = append(out, sockGroup{mech: mech, flow: f, keys: keys, split: split, of: len(f.keys)})
	}
	for _, f := range flows {
		n, h := len(f.keys), holdCount(f.holders)
		switch {
		case h == 0:
			rest(f, f.keys, false)
		case h*5 >= n*4:
			// At least 80% as many holders as sockets: the flow is held.
			out = append(out, sockGroup{mech: MechanismThread, flow: f, keys: f.keys, holders: f.holders, of: n})
		default:
			// Fewer holders than sockets: the holders account for h
			// sockets and the rest are another group. A holder waits
			// inside an exchange it has not finished (a request it has
			// not answered, or a response it still waits for), so the
			// sockets whose exchange was unfinished at the peer's FIN go
			// to the holders first; then the newest to enter CLOSE_WAIT
			// (a leak by a path that returned accumulates from the start).
			// Each socket's exchange and age are read once, not at
			// every comparison.
			type ranked struct {
				k     key
				ex    int
				since time.Time
			}
			rs := make([]ranked, len(f.keys))
			for i, k := range f.keys {
				rs[i] = ranked{k, b.exchange(k), b.sockets[k].Since}
			}
			slices.SortStableFunc(rs, func(x, y ranked) int {
				return cmp.Or(cmp.Compare(x.ex, y.ex), y.since.Compare(x.since), compareKeys(x.k, y.k))
			})
			// The split follows the exchanges when exactly the held
			// sockets had an unfinished one.
			byExchange := true
			held, others := make([]key, h), make([]key, len(rs)-h)
			for i, r := range rs {
				if i < h {
					held[i] = r.k
				} else {
					others[i-h] = r.k
				}
				byExchange = byExchange && (r.ex == exchangeUnfinished) == (i < h)
			}
			slices.SortFunc(held, compareKeys)
			slices.SortFunc(others, compareKeys)
			out = append(out, sockGroup{mech: MechanismThread, flow: f, keys: held, holders: f.holders, split: true, byExchange: byExchange, of: n})
			rest(f, others, true)
			out[len(out)-1].byExchange = byExchange
		}
	}
	out = b.splitByLastExchange(out)
	slices.SortStableFunc(out, func(a, c sockGroup) int { return cmp.Compare(len(c.keys), len(a.keys)) })
	return out
}

// stuckFindings classifies the stuck sockets of one process: one finding
// per group.
func (b *builder) stuckFindings(g *group) []Finding {
	sus, from := b.suspects(g.pid)
	haveDump := !from.IsZero()
	var holders, waiters []suspect
	pool := false
	for _, s := range sus {
		pool = pool || s.pool
		switch s.role {
		case RoleHolder:
			holders = append(holders, s)
		case RoleWaiter:
			waiters = append(waiters, s)
		}
	}
	groups := b.sockGroups(g.pid, g.stuck, holders, pool, haveDump)
	b.tieStacks(g.pid, groups)
	var out []Finding
	for i := range groups {
		f := b.groupFinding(g.pid, &groups[i], waiters, haveDump, from)
		if len(groups) > 1 {
			var parts []string
			for j, o := range groups {
				if o.byLast {
					parts = append(parts, fmt.Sprintf("%d %s, %s%s (%s)", count(len(o.keys)), mechanismPhrase[o.mech], lastPhrase[o.last], upgradePhrase[o.upgrade()], o.flow.key))
				} else {
					parts = append(parts, fmt.Sprintf("%d %s (%s)", count(len(o.keys)), mechanismPhrase[o.mech], o.flow.key))
				}
				if j == i {
					parts[j] = "**" + parts[j] + "**"
				}
			}
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("group %d of %d of the %d sockets %s holds in CLOSE_WAIT: %s",
				i+1, len(groups), count(len(g.stuck)), b.process(g.pid), strings.ReplaceAll(strings.Join(parts, " + "), "**", ""))})
		}
		out = append(out, f)
	}
	return out
}

// tieStacks gives a Node.js process's JavaScript stacks, which say which
// code made its sockets, to its groups. With one group they are its. With
// several, a stack goes to the group whose peer or port its message names
// (an error naming the address it failed on), and to each group when it
// names several groups' peers (an error naming two backends): each shows
// it and says it names the others too. A port named only as the port of
// an address the message names is that address's, not another group's
// toward the same port; a peer or port that names several groups alike
// (two groups toward port 80 of hosts the message does not name) ties the
// stack to none of them. The stacks that name no group, or only alike, may
// be any group's: they are shown once, with the largest group (the
// first), which says so, and the other groups say where they are.
func (b *builder) tieStacks(pid int, groups []sockGroup) {
	stacks, _ := b.nodeStacks(pid)
	if len(stacks) == 0 || len(groups) == 0 {
		return
	}
	if len(groups) == 1 {
		groups[0].issuers = stacks
		return
	}
	var shared []suspect
	for _, s := range stacks {
		hits, alike := stackHits(s.bucket, groups)
		if len(hits) == 0 {
			s.tie, s.sharedBy, s.alike = "", len(groups), alike
			shared = append(shared, s)
			continue
		}
		for _, h := range hits {
			t := s
			t.tie = h.hit.text(s.bucket, "the stack's message")
			if len(hits) > 1 {
				var others []string
				for _, o := range hits {
					if o.group != h.group {
						others = append(others, fmt.Sprintf("%s (the sockets %s)", o.hit.named(), groups[o.group].flow.key))
					}
				}
				both := "both"
				if len(hits) > 2 {
					both = fmt.Sprintf("all %d", count(len(hits)))
				}
				t.tie += fmt.Sprintf("; it also names %s, so it is shown under %s groups it names", strings.Join(others, " and "), both)
			}
			groups[h.group].issuers = append(groups[h.group].issuers, t)
		}
	}
	if len(shared) == 0 {
		return
	}
	groups[0].shared = shared
	n := len(groups[0].keys)
	where := fmt.Sprintf("%s: they may be this group's, and are shown once, with its group of %d %s %s", apartText(shared), count(n), plural("socket", n), groups[0].flow.key)
	for i := 1; i < len(groups); i++ {
		groups[i].sharedWith = where
	}
}

// apartText is what the claims on shared stacks add when one of them names
// several groups alike (a port they share): it names none of them apart
// from the others, where the others name none at all.
func apartText(shared []suspect) string {
	if slices.ContainsFunc(shared, func(s suspect) bool { return s.alike != "" }) {
		return " apart from the others"
	}
	return ""
}

// groupHit is a group a stack's message names, and how.
type groupHit struct {
	group int
	hit   peerHit
}

// stackHits finds the groups a stack's message names each apart from the
// others: a port named only as an address's port goes with the address,
// and what names several groups alike names none of them; alike is the
// first such, when no group is left.
func stackHits(bk dumps.Bucket, groups []sockGroup) (hits []groupHit, alike string) {
	n := namedIn(bk.Members) // the message is read once, not once a group
	for i := range groups {
		if h, ok := n.match(groups[i].keys); ok {
			hits = append(hits, groupHit{i, h})
		}
	}
	if len(hits) < 2 {
		return hits, ""
	}
	// The peers' ports of the addresses named.
	addrPorts := map[uint16]bool{}
	for _, h := range hits {
		if h.hit.addr.IsValid() {
			addrPorts[h.hit.port] = true
		}
	}
	hits = slices.DeleteFunc(hits, func(h groupHit) bool {
		return !h.hit.addr.IsValid() && h.hit.remote && addrPorts[h.hit.port]
	})
	same := map[string]int{}
	for _, h := range hits {
		same[h.hit.named()]++
	}
	for _, h := range hits {
		if same[h.hit.named()] > 1 && alike == "" {
			alike = h.hit.named()
		}
	}
	hits = slices.DeleteFunc(hits, func(h groupHit) bool { return same[h.hit.named()] > 1 })
	if len(hits) > 0 {
		alike = ""
	}
	return hits, alike
}

// groupFinding makes the finding of one group.
func (b *builder) groupFinding(pid int, sg *sockGroup, waiters []suspect, haveDump bool, from Pos) (f Finding) {
	n := len(sg.keys)
	proc := b.process(pid)
	// The sockets' exchanges are counted from what the builder kept of
	// their connections, which nothing here changes: for a large group
	// on another goroutine meanwhile.
	var exchanges [4]int
	exDone := make(chan struct{})
	if n >= parallelMin {
		go func() {
			defer close(exDone)
			exchanges = b.exchangeCounts(sg.keys)
		}()
	} else {
		exchanges = b.exchangeCounts(sg.keys)
		close(exDone)
	}
	f = Finding{Process: proc, Sockets: b.keysOf(sg.keys), Mechanism: sg.mech}
	var confirmed, captureOnly, kernelOnly int
	onePeer := n > 0 // every socket goes to the same peer
	for _, k := range sg.keys {
		switch b.sockets[k].Status {
		case StatusConfirmed:
			confirmed++
		case StatusCaptureOnly:
			captureOnly++
		case StatusKernelOnly:
			kernelOnly++
		}
		onePeer = onePeer && k.remote == sg.keys[0].remote
	}
	owner := "an unknown process"
	if pid > 0 {
		owner = proc.String()
	}
	f.Supporting = append(f.Supporting, Claim{
		Text:     fmt.Sprintf("%d %s in CLOSE_WAIT held by %s, %s: %d listed by the kernel and confirmed by the capture, %d seen only in the capture, %d listed only by the kernel", count(n), plural("socket", n), owner, sg.flow.key, count(confirmed), count(captureOnly), count(kernelOnly)),
		Evidence: b.evidenceOf(sg.keys, 6),
	})
	if pid == 0 {
		f.Contradicting = append(f.Contradicting, Claim{Text: "no socket listing names the process holding these sockets: save `ss -tanp` or `lsof -nP -iTCP -sTCP:CLOSE_WAIT` as root during the incident"})
	}
	if c, ok := b.dumpClaim(pid); ok {
		f.Supporting = append(f.Supporting, c)
	}
	rtClaims, paused := b.runtimeSocketClaims(pid, sg.keys)
	f.Supporting = append(f.Supporting, rtClaims...)
	fins := b.finRead(sg.keys)
	if c, ok := fins.claim(n); ok {
		f.Supporting = append(f.Supporting, c)
	}
	if c, ok := b.logClaim(pid); ok {
		f.Supporting = append(f.Supporting, c)
	}
	var sus []suspect
	unreadLead := false // no dump, and every socket holds the peer's FIN unread
	switch sg.mech {
	case MechanismThread:
		sus = sg.holders
		h := holdCount(sg.holders)
		f.Holders = h
		var loops []suspect
		for _, s := range sg.holders {
			if s.connLoop {
				loops = append(loops, s)
			}
		}
		if holdCount(loops)*2 > h {
			others := slices.DeleteFunc(slices.Clone(sg.holders), func(s suspect) bool { return s.connLoop })
			sg.holders = append(loops, others...)
			sus = sg.holders
			// A pool's own per-connection goroutines hold the sockets: the
			// connections were never given back (a body left unclosed).
			f.Category = CategoryPoolLeak
			f.Confidence = confidences.PoolLoops
			f.Group = fmt.Sprintf("held by the per-connection %ss of %s (%d connections)", sg.holders[0].kind, poolName(sg.holders), count(h))
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%d %s per pooled connection of %s (%s): connections that were never given back, each waiting for its response body to be read or closed", count(h), plural(sg.holders[0].kind.String(), h), poolName(sg.holders), poolActivity(sg.holders)), Evidence: suspectEvidence(sg.holders)})
		} else {
			f.Category = CategoryBlockedHoldingSocket
			f.Confidence = confidences.BlockedFew
			if h >= n && h*2 <= n*3 {
				f.Confidence = confidences.BlockedMatched
			}
			var by []string
			for _, s := range sg.holders {
				by = append(by, fmt.Sprintf("%d %s in %s", count(s.bucket.Count), plural(s.kind.String(), s.bucket.Count), topFunc(s.bucket)))
			}
			f.Group = "held by " + strings.Join(by, ", ")
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%d %s blocked indefinitely in application code while holding a socket (%s)", count(h), plural(sg.holders[0].kind.String(), h), poolActivity(sg.holders)), Evidence: suspectEvidence(sg.holders)})
		}
		for _, s := range sg.holders {
			if s.tie != onlyFlow {
				f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%s tied to the sockets %s: %s", topFunc(s.bucket), sg.flow.key, s.tie)})
			}
		}
		switch {
		case sg.split && sg.byExchange:
			f.Confidence = min(f.Confidence, confidences.SplitByExchange)
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%d holders for %d stuck sockets of this flow, and exactly %d of them had an unfinished exchange at the peer's FIN (a request not answered, or a response not received): the holders wait inside those", count(h), count(sg.of), count(n))})
		case sg.split:
			f.Confidence = min(f.Confidence, confidences.Split)
			f.Contradicting = append(f.Contradicting, Claim{Text: fmt.Sprintf("%d holders for %d stuck sockets of this flow: the dump carries no fds, so which %d sockets they hold is not known; those with an unfinished exchange, then the newest to enter CLOSE_WAIT, are listed here; the counts are what the evidence shows", count(h), count(sg.of), count(n))})
		}
	case MechanismPool:
		f.Category = CategoryPoolLeak
		pw := poolWaiters(waiters)
		f.Waiters = holdCount(pw)
		switch {
		case len(pw) > 0:
			sus = pw
			f.Confidence = confidences.PoolBorrowers
			if f.Waiters >= n {
				f.Confidence = confidences.PoolBorrowersAll
			}
			f.Group = fmt.Sprintf("kept by %s, %d %s waiting to borrow", poolName(pw), count(f.Waiters), plural(pw[0].kind.String(), f.Waiters))
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%d %s wait to borrow from the connection pool of %s (%s) and hold no connection: the pool's connections are leased and never returned, and no thread is on them", count(f.Waiters), plural(pw[0].kind.String(), f.Waiters), poolName(pw), poolActivity(pw)), Evidence: suspectEvidence(pw)})
		case len(sg.issuers) > 0:
			f.Confidence = confidences.PoolFrames
			f.Group = "kept open by the process, no code on them, made by " + topFunc(sg.issuers[0].bucket)
			if paused*2 >= n {
				f.Group = "open and read by nothing (paused), made by " + topFunc(sg.issuers[0].bucket)
			}
			f.Supporting = append(f.Supporting, Claim{Text: issuersText(sg.issuers), Evidence: suspectEvidence(sg.issuers)})
			sus = sg.issuers
		case haveDump:
			f.Confidence = confidences.PoolFrames
			f.Group = "kept by the process's connection pool, no thread on them"
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("the dump (%s) shows the process's connection pool and no thread reading or holding these outbound sockets", from), Evidence: []Pos{from}})
		default:
			f.Confidence = confidences.PoolNoDump
			f.Group = "outbound to one peer, no dump"
			f.Contradicting = append(f.Contradicting, Claim{Text: "no thread or goroutine dump of this process: the pool and the code that borrowed the connections cannot be shown"})
		}
	default:
		f.Category = CategoryMissingClose
		f.Confidence = confidences.MissingCloseNoDump
		f.Group = "referenced by no running code"
		<-exDone
		if c, ok := b.errorPath(sg, exchanges[exchangeDone] == n); ok {
			// Answered, then dropped, where other connections of the
			// same port are closed after their answer: the close is
			// skipped on one path, not missing from all.
			f.Category = CategoryErrorHandling
			f.Confidence = confidences.ErrorPath
			f.Group = "answered, then left open by a path that skips the close"
			f.Supporting = append(f.Supporting, c)
		} else if c.Text != "" {
			f.Contradicting = append(f.Contradicting, c)
		}
		if haveDump {
			f.Confidence = max(f.Confidence, confidences.MissingCloseDump)
			text := fmt.Sprintf("the dump (%s) shows no thread or goroutine reading or holding these sockets: nothing will ever close them", from)
			if sg.split {
				cap := confidences.Split
				if sg.byExchange {
					cap = confidences.SplitByExchange
				}
				f.Confidence = min(f.Confidence, cap)
				text = fmt.Sprintf("the dump (%s) shows %d holders for the %d stuck sockets of this flow: these %d are held by no running code (an error or early-return path dropped them without close)", from, count(sg.of-n), count(sg.of), count(n))
			}
			f.Supporting = append(f.Supporting, Claim{Text: text, Evidence: []Pos{from}})
		} else if len(sg.issuers) > 0 {
			f.Supporting = append(f.Supporting, Claim{Text: issuersText(sg.issuers), Evidence: suspectEvidence(sg.issuers)})
			sus = sg.issuers
		} else if fins.allUnread(n) {
			f.Contradicting = append(f.Contradicting, Claim{Text: unreadNoDump(n), Evidence: fins.evidence})
			unreadLead = true
		} else {
			f.Contradicting = append(f.Contradicting, Claim{Text: "no thread or goroutine dump of this process: a thread blocked while holding the sockets cannot be ruled out"})
		}
		if sg.flow.key.outbound {
			f.Contradicting = append(f.Contradicting, Claim{Text: "the sockets are outbound: a client or pool that never releases connections is as likely"})
		}
	}
	for _, s := range sg.issuers {
		if s.tie != "" {
			f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("%s tied to the sockets %s: %s", topFunc(s.bucket), sg.flow.key, s.tie)})
		}
	}
	if len(sg.shared) > 0 {
		none := fmt.Sprintf("nothing in them names one of the process's %d groups of stuck sockets%s", count(sg.shared[0].sharedBy), apartText(sg.shared))
		f.Supporting = append(f.Supporting, Claim{Text: issuersText(sg.shared) + "; " + none + ", so they may be any group's: they are shown once, here, with the largest", Evidence: suspectEvidence(sg.shared)})
		sus = append(sus, sg.shared...)
	}
	if sg.sharedWith != "" {
		f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("the JavaScript stacks %s printed name none of its groups of stuck sockets%s", proc, sg.sharedWith)})
	}
	lead, haveLead := b.lastExchangeFinding(&f, sg, proc.Runtime)
	f.Waiters = max(f.Waiters, holdCount(waiters))
	<-exDone
	if text := exchangeText(exchanges); text != "" {
		f.Supporting = append(f.Supporting, Claim{Text: text})
	}
	if onePeer {
		f.Supporting = append(f.Supporting, Claim{Text: fmt.Sprintf("every socket of the group goes to the same peer %s", sg.keys[0].remote)})
	}
	pausedFloor(&f, paused, n)
	if sg.mech != MechanismPool {
		// Lock waiters next to the holders: named with the lock's owner.
		sus = append(sus, waiters...)
	}
	for i := range sus {
		if sus[i].issuer {
			sus[i].paused = paused
		}
	}
	f.Suspects = b.reportSuspects(sus, sg.keys)
	if c, ok := b.agesFromDump(sg.keys, f.Suspects); ok {
		f.Supporting = append(f.Supporting, c)
	}
	if !haveDump && proc.Runtime != RuntimeUnknown && proc.Runtime != RuntimePython && proc.Runtime != RuntimeNode {
		f.Note = "Take a thread or goroutine dump of the process during the incident to show the code that holds the sockets."
	}
	if p := b.proc(pid); pid > 0 && p.weakDump > 0 && !p.strongDump && haveDump {
		w := p.weakDump
		f.Confidence = min(f.Confidence, confidences.WeakDump)
		f.Contradicting = append(f.Contradicting, Claim{Text: fmt.Sprintf("a dump is tied to this process only weakly by its content (score %.2f): give --dump PID=FILE if it is another process's", w)})
	}
	if oldest, before, ok := b.allYoung(sg); ok {
		f.Confidence = min(f.Confidence, confidences.Young)
		than := fmt.Sprintf("less than %s", FormatDuration(transientMin))
		if before > transientMin {
			than = fmt.Sprintf("no longer than the process took to close others of their port in the capture (up to %s)", FormatDuration(before))
		}
		f.Contradicting = append(f.Contradicting, Claim{
			Text: fmt.Sprintf("every one of these sockets entered CLOSE_WAIT %s before the capture's end (the oldest %s before it), and no listing shows them after it: a process that closes its sockets some time after the peer's FIN has a few in CLOSE_WAIT whenever a capture stops, so these may yet be closed; a longer capture, or a listing taken later, tells",
				than, FormatDuration(oldest)),
			Evidence: b.evidenceOf(sg.keys, 6),
		})
	}
	f.Advice = adviseGroup(f.Category, proc.Runtime, f.Suspects)
	if unreadLead && f.Category == CategoryMissingClose {
		// In place of the path that reads to the end of the stream and
		// returns without closing: the kernel shows no such read.
		f.Advice = append([]Advice{unreadAdvice(proc.Runtime)}, slices.DeleteFunc(f.Advice, func(a Advice) bool { return a.Text == readToEnd.Text })...)
	}
	if haveLead {
		f.Advice = append([]Advice{lead}, f.Advice...)
	}
	f.Severity, f.SeverityReasons = b.measure(pid, sg.keys, pid > 0 && confirmed+kernelOnly > 0)
	return f
}

// allYoung reports whether every socket of sg was seen only in the
// capture and is younger than youngBefore of its flow, and returns the
// oldest one's age and that youngBefore.
func (b *builder) allYoung(sg *sockGroup) (oldest, before time.Duration, ok bool) {
	before = b.youngBefore(sg.flow.key)
	for _, k := range sg.keys {
		s := b.sockets[k]
		if s.Status != StatusCaptureOnly || s.Age >= before {
			return 0, 0, false
		}
		oldest = max(oldest, s.Age)
	}
	return oldest, before, len(sg.keys) > 0
}

// youngBefore is the age under which a socket of a flow in CLOSE_WAIT at
// the capture's end, with no listing after it, may yet be closed: the
// longest CLOSE_WAIT the application closed on the flow's port in the
// capture (the local port of a server's flow; the peer's port of an
// outbound flow, whose local ports are new on every connection), at
// least transientMin (a busy server that closes each socket a moment
// after its peer's FIN has a few in CLOSE_WAIT whenever a capture stops),
// and at most the age the practitioners warn at, past which a socket is
// worth a look whatever the others did.
func (b *builder) youngBefore(f flowKey) time.Duration {
	young := transientMin
	if f.outbound {
		young = max(young, b.closedOut[f.port])
	} else if cs := b.candidates[f.port]; cs != nil {
		young = max(young, cs.longest)
	}
	return min(young, b.in.Thresholds.AgeWarning)
}

// poolWaiters are the waiters that wait to borrow from a pool.
func poolWaiters(ws []suspect) []suspect {
	var out []suspect
	for _, w := range ws {
		if w.bucket.Class.Activity == dumps.ActPoolBorrow {
			out = append(out, w)
		}
	}
	return out
}

// ageOf is the age of the oldest of some sockets and whether it is a lower
// bound.
func (b *builder) ageOf(keys []key) (time.Duration, bool) {
	var oldest time.Duration
	lower := false
	for _, k := range keys {
		s := b.sockets[k]
		if s.Age > oldest || (s.Age == oldest && s.AgeLowerBound) {
			oldest, lower = s.Age, s.AgeLowerBound
		}
	}
	return oldest, lower
}

// timerWait reports whether a stack waits on a timer or ticker (Go's time
// package, a sleep): such a wait ends by itself.
func timerWait(bk dumps.Bucket) bool {
	for _, f := range bk.Frames {
		if strings.HasPrefix(f.Func, "time.") || strings.HasPrefix(f.Func, "runtime.timeSleep") ||
			strings.HasPrefix(f.Func, "java.lang.Thread.sleep") {
			return true
		}
	}
	return false
}

// lockOwners describes the locks the first thread of a bucket waits for,
// each with the thread that holds it and where: "waiting to lock
// <0x...> (a java.lang.Object) held by "cache-refresher" in
// Cache.refresh".
func lockOwners(d *dumps.ThreadDump, bk dumps.Bucket) []string {
	if d == nil || len(bk.Members) == 0 {
		return nil
	}
	var t *dumps.Thread
	for i := range d.Threads {
		if d.Threads[i].Pos == bk.Members[0].Pos {
			t = &d.Threads[i]
			break
		}
	}
	if t == nil {
		return nil
	}
	var out []string
	for _, l := range t.Locks {
		if l.Op != dumps.LockWaitEnter && l.Op != dumps.LockParked && l.Op != dumps.LockRelock {
			continue
		}
		text := fmt.Sprintf("%s <%s> (%s)", l.Op, l.Addr, l.Class)
		if owner, where := lockOwner(d, l.Addr, t); owner != "" {
			text += fmt.Sprintf(" held by %q", owner)
			if where != "" {
				text += " in " + where
			}
		}
		out = append(out, text)
	}
	return out
}

// lockOwner finds the thread other than t that holds the lock at addr, and
// the application frame it holds it in.
func lockOwner(d *dumps.ThreadDump, addr string, t *dumps.Thread) (string, string) {
	if addr == "" {
		return "", ""
	}
	for i := range d.Threads {
		o := &d.Threads[i]
		if o == t {
			continue
		}
		for _, l := range append(slices.Clone(o.Locks), o.Ownable...) {
			if l.Addr == addr && (l.Op == dumps.LockHeld || l.Op == dumps.LockOwnable) {
				where := ""
				if j := dumps.AppFrame(o.Frames); j >= 0 {
					where = o.Frames[j].Func
				}
				return o.Name, where
			}
		}
	}
	return "", ""
}

// errorPath reports whether a group of sockets no code refers to was left
// open by one path only: the capture shows every one of them answered (data
// both ways before the peer's FIN), and the process closed more other
// connections of the same local endpoints (the group's addresses of its
// port; not another host's server on that port, which a capture of a
// bridge also sees) after answering them than the group left open after
// answering. An error or early-return path is the
// exception in a handler: when the sockets left open are as many as the
// closes or more, leaving them open is the handler's usual path (the
// closes may come from another handler, a health check's), and a close
// missing from it is as likely. When the capture saw the method of every
// request the group's responses answered, only the closes after those
// methods count, as in the error-status contrast: a server that closes
// after every POST and never after a GET has no path that closes a GET.
// When closes were seen but do not count or are too few, the claim says
// the counts and why, for the finding's contradicting evidence. answered
// says the capture shows every socket of the group answered
// (exchangeCounts).
func (b *builder) errorPath(sg *sockGroup, answered bool) (Claim, bool) {
	if sg.flow.key.outbound || !answered {
		return Claim{}, false
	}
	port := sg.flow.key.port
	methods, scoped := sg.answeredScope()
	closed := 0
	outside := map[pcapstate.Method]int{} // closes after other methods
	seen := map[serverRequest]bool{}      // the group's local endpoints of the port
	var last serverRequest
	for i, k := range sg.keys {
		a := endOf(k.local, ep{})
		// The keys are sorted, so the same endpoint's come together: a
		// group of 50,000 sockets has a few.
		if i > 0 && a == last || seen[a] {
			continue
		}
		seen[a], last = true, a
		for m := pcapstate.MethodNone; m <= lastMethod; m++ {
			a.method = uint64(m)
			c := b.closedByUs[a]
			switch {
			case c == 0:
			case scoped && !methods[m]:
				outside[m] += c
			default:
				closed += c
			}
		}
	}
	n := len(sg.keys)
	evidence := b.evidenceOf(sg.keys, 2)
	const notShown = "the close is not shown to be skipped on one path only: "
	if closed == 0 {
		if len(outside) == 0 {
			return Claim{}, false // no close seen: nothing to compare
		}
		return Claim{Text: fmt.Sprintf(notShown+"every connection the process closed on :%d after answering answered %s",
			port, leftOutText(outside, sg.answeredMethods(), "not a path that skips it")), Evidence: evidence}, false
	}
	// scope says which closes were counted, when others were left out.
	scope := ""
	if len(outside) > 0 {
		scope = fmt.Sprintf("%s; %s closed after answering left out", countingOnly(methods), countsText(outside, requestText))
	}
	these := fmt.Sprintf("these %d", count(n))
	if n == 1 {
		these = "this one"
	}
	if closed <= n {
		if scope != "" {
			scope = " (" + scope + ")"
		}
		return Claim{
			Text: fmt.Sprintf(notShown+"the process closed %d other %s on :%d after answering%s, and left %s open after answering; no more closed than left open, so the path that leaves them open is not the exception (the closes may come from another handler)",
				count(closed), plural("connection", closed), port, scope, these),
			Evidence: evidence,
		}, false
	}
	if scope != "" {
		scope = "; " + scope
	}
	return Claim{
		Text: fmt.Sprintf("the process answered each of these %d %s (data both ways before the peer's FIN) and never closed them, while it closed %d other %s on :%d after answering (%d of the %d answered that ended%s), more than it left open: the close is skipped on one path, an error or early-return path",
			count(n), plural("connection", n), count(closed), plural("connection", closed), port, count(closed), count(closed+n), scope),
		Evidence: evidence,
	}, true
}

// issuersText says what the JavaScript stacks of a Node.js process show:
// where the code that made the sockets ran.
func issuersText(is []suspect) string {
	n := 0
	var where []string
	for _, s := range is {
		n += s.bucket.Count
		if len(where) < 3 {
			i := dumps.AppFrame(s.bucket.Frames)
			where = append(where, s.bucket.Frames[i].String())
		}
	}
	return fmt.Sprintf("%d JavaScript %s the process printed name the code that made these sockets: %s (Node.js holds a socket in the objects of the code that made it, not in a waiting thread)", count(n), plural("stack", n), strings.Join(where, ", "))
}
