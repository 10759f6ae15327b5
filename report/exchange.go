package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/pcapstate"
)

// A group of stuck sockets no thread holds is split further by the last
// exchange the capture saw on their connections before the peer's FIN: the
// code path that left a socket open is the one that handled that exchange.
// An error status answered to our request leads to the branch that returns
// on it; a request of ours the peer never answered, to the branch that
// handles the timeout or failed read; a success, to the ordinary path (a
// pool that keeps idle connections, a body never read).

// Exchange classes what a stuck socket's connection carried last
// before the peer's FIN, from the capture.
type Exchange uint8

// Last exchanges, as named in the JSON schema. The zero value means the
// group is not one of a split by last exchange.
const (
	LastUnknown       Exchange = iota // unknown
	LastErrorStatus                   // error-status
	LastSuccessStatus                 // success-status
	LastOurs                          // data-from-us
	LastTheirs                        // data-from-peer
	LastNoData                        // no-data
)

// lastExchanges is the number of Exchange values.
const lastExchanges = LastNoData + 1

// Upgrade says how a group's connections left HTTP/1.x before their last
// exchange: an answer switched them to another protocol, so that their
// last data, not their last HTTP messages, classes them. The zero value
// means they did not.
type Upgrade uint8

// Upgrades, as named in the JSON schema: a 101 (Switching Protocols: a
// WebSocket, h2c), or a 2xx answer to CONNECT, which opened a tunnel (a
// forward proxy relays the client's bytes, usually TLS, to the host it
// named).
const (
	UpgradeNone      Upgrade = iota // none
	UpgradeSwitching                // 101
	UpgradeConnect                  // connect
)

// upgrades is the number of Upgrade values.
const upgrades = UpgradeConnect + 1

// MarshalText makes an Upgrade appear by name in JSON.
func (u Upgrade) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText reads an Upgrade by name.
func (u *Upgrade) UnmarshalText(b []byte) (err error) {
	*u, err = enumText(`upgrade`, b, int(upgrades), Upgrade.String)
	return err
}

// upgradeOf is how the answer of one of a connection's ends, a and b
// (pcapstate.Side.Upgrade), took it out of HTTP/1.x.
func upgradeOf(a, b pcapstate.Upgrade) Upgrade {
	switch max(a, b) {
	case pcapstate.UpgradeSwitching:
		return UpgradeSwitching
	case pcapstate.UpgradeConnect:
		return UpgradeConnect
	}
	return UpgradeNone
}

// upgradePhrase ends the phrase of a group's last exchange, in its name
// and in the lists of a process's groups, when an answer took its
// connections out of HTTP/1.x (sockGroup.upgrade, Finding.Upgrade).
var upgradePhrase = [upgrades]string{
	UpgradeSwitching: ", after an upgrade (101)",
	UpgradeConnect:   ", through a CONNECT tunnel",
}

// upgradeClaim says, in a last-exchange claim, what the connections
// carried after the answer that took them out of HTTP/1.x.
var upgradeClaim = [upgrades]string{
	UpgradeSwitching: "over the protocol a 101 (Switching Protocols) upgraded it to (a WebSocket, HTTP/2)",
	UpgradeConnect:   "through the tunnel a 2xx answer to CONNECT opened (the bytes a proxy relays between the client and the host it named, usually TLS, not HTTP/1.x)",
}

// MarshalText makes an Exchange appear by name in JSON.
func (l Exchange) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads an Exchange by name.
func (l *Exchange) UnmarshalText(b []byte) (err error) {
	*l, err = enumText(`last exchange`, b, int(lastExchanges), Exchange.String)
	return err
}

// lastPhrase says a group's last exchange, after a count, in the list of a
// process's groups.
var lastPhrase = [lastExchanges]string{
	LastUnknown:       "not seen in the capture",
	LastErrorStatus:   "last response before the peer's FIN an error status",
	LastSuccessStatus: "last response before the peer's FIN a success",
	LastOurs:          "last data before the peer's FIN from us",
	LastTheirs:        "last data before the peer's FIN from the peer",
	LastNoData:        "no data seen before the peer's FIN",
}

// exchangeSeen is the last exchange of one stuck socket's connection.
type exchangeSeen struct {
	class  Exchange
	ours   bool             // the last data came from our end
	status uint16           // the status of that response
	method pcapstate.Method // the method of that request, if it was one
	// answered is the method of the request that response answered,
	// when the capture saw it (MethodNone otherwise).
	answered pcapstate.Method
	fin      Pos // the peer's FIN, a capture position
	// upgrade says how the connection left HTTP/1.x, if it did (connSeen's).
	upgrade Upgrade
}

// lastExchangeOf classes the last exchange of stuck socket k's connection;
// LastUnknown when the capture did not see the connection.
func (b *builder) lastExchangeOf(k key) exchangeSeen {
	c, ok := b.seen[k]
	if !ok {
		return exchangeSeen{}
	}
	e := exchangeSeen{class: LastNoData, fin: PacketPos(c.theirFIN)}
	switch c.lastFrom {
	case pcapstate.SenderLocal:
		e.ours = true
	case pcapstate.SenderRemote:
	default:
		return e
	}
	if c.upgrade != UpgradeNone {
		// The last data was of the protocol the 101 switched to, or
		// relayed through the tunnel a CONNECT opened: the last HTTP
		// messages (the request and its answer) were not the last
		// exchange.
		e.class, e.upgrade = LastTheirs, c.upgrade
		if e.ours {
			e.class = LastOurs
		}
		return e
	}
	if c.lastStatus != 0 && c.lastRequest == pcapstate.MethodNone {
		e.class, e.status, e.answered = LastSuccessStatus, c.lastStatus, c.answered
		if c.lastStatus >= 400 {
			e.class = LastErrorStatus
		}
		return e
	}
	e.class, e.method = LastTheirs, c.lastRequest
	if e.ours {
		e.class = LastOurs
	}
	return e
}

// kind is e's class, and how the connection left HTTP/1.x: the index of
// its kind in splitByLastExchange's counts, kinds of one class together.
func (e *exchangeSeen) kind() int { return int(e.class)*int(upgrades) + int(e.upgrade) }

// splitByLastExchange splits the groups no thread holds by their sockets'
// last exchanges, when the capture saw more than one kind among them; a
// group of one kind is marked with it. A kind is a class and how the
// connection left HTTP/1.x first, if it did: a WebSocket whose peer sent
// the last frame, a proxy's tunnel whose client did and a request never
// answered are all LastTheirs, but not one path. Groups held by threads are not split: their holders wait inside
// the exchange, which already decided which sockets they hold.
func (b *builder) splitByLastExchange(gs []sockGroup) []sockGroup {
	var out []sockGroup
	for _, g := range gs {
		if g.mech == MechanismThread {
			out = append(out, g)
			continue
		}
		// Each socket's last exchange, classed once: the finding reads
		// them again (lastExchangeFinding).
		exch := make([]exchangeSeen, len(g.keys))
		var n [int(lastExchanges) * int(upgrades)]int
		for i, k := range g.keys {
			exch[i] = b.lastExchangeOf(k)
			n[exch[i].kind()]++
		}
		kinds := 0 // seen in the capture
		for c, m := range n {
			if m > 0 && Exchange(c/int(upgrades)) != LastUnknown {
				kinds++
			}
		}
		if kinds < 2 {
			// One kind: the group is classed by it when the capture saw
			// every one of its sockets.
			if n[LastUnknown] == 0 {
				g.last, g.exch = exch[0].class, exch
			}
			out = append(out, g)
			continue
		}
		// The sockets the capture did not see (older than it) are a group
		// of their own, not classed.
		for c, m := range n {
			if m == 0 {
				continue
			}
			sub := g
			sub.keys, sub.exch, sub.last, sub.byLast = make([]key, 0, m), make([]exchangeSeen, 0, m), Exchange(c/int(upgrades)), true
			for i, e := range exch {
				if e.kind() == c {
					sub.keys, sub.exch = append(sub.keys, g.keys[i]), append(sub.exch, e)
				}
			}
			if sub.last == LastUnknown {
				sub.exch = nil
			}
			out = append(out, sub)
		}
	}
	return out
}

// countsText lists values by count, most frequent first: "500 ×14, 404 ×3".
func countsText[T cmp.Ordered](n map[T]int, name func(T) string) string {
	vals := make([]T, 0, len(n))
	for v := range n {
		vals = append(vals, v)
	}
	slices.SortFunc(vals, func(a, c T) int { return cmp.Or(cmp.Compare(n[c], n[a]), cmp.Compare(a, c)) })
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = name(v) + " ×" + FormatCount(n[v])
	}
	return strings.Join(parts, ", ")
}

// closedAfter counts, per server endpoint (the acceptor), the captured
// connections one end closed (the client in closedClient, the server in
// closedServer), by the server's last status: what that end does on the
// paths that do close. byError counts the closes after errors by status.
// firstSuccess is that end's FIN of the earliest close after a success (by
// position), for the contrast to cite.
type closedAfter struct {
	success, errors int
	successOpen     int // connections after a success that end left open after the other's FIN (in CLOSE_WAIT at the capture's end)
	byError         map[uint16]int
	firstSuccess    Pos
}

// lastMethod is pcapstate's last Method: the counts by method are read
// method by method up to it (TestLastMethod fails when one is added
// after it).
const lastMethod = pcapstate.MethodPATCH

// serverRequest is a server endpoint, the client's host (in
// closedClient; the zero Addr in closedServer, where every client counts)
// and the method of a client's last request to it (MethodNone when the
// capture saw none).
type serverRequest struct {
	server ep
	client ep // its address alone: port 0
	// method is a pcapstate.Method in a word, so that the struct has no
	// padding and maps hash it as plain memory (see key).
	method uint64
}

// endOf is the key of a server endpoint and a client's host, unmapped, so
// that an IPv4-mapped address and the plain one are one endpoint.
func endOf(server, client ep) serverRequest {
	client = client.withPort(0)
	return serverRequest{server: server, client: client}
}

// add counts a close by the FIN fin after a response of status.
func (n *closedAfter) add(status uint16, fin pcapstate.Pos) {
	if status >= 400 {
		n.errors++
		if n.byError == nil {
			n.byError = map[uint16]int{}
		}
		n.byError[status]++
		return
	}
	n.success++
	if p := PacketPos(fin); n.firstSuccess.IsZero() || p.Compare(n.firstSuccess) < 0 {
		n.firstSuccess = p
	}
}

// noteClosed counts c in b.closedClient when its opener closed it,
// and in b.closedServer when its acceptor did, after a response. It takes
// the sides by pointer, as addConn does: it runs on every connection.
func (b *builder) noteClosed(c *pcapstate.Conn) {
	if !c.Handshake {
		return
	}
	client, server := &c.Remote, &c.Local
	if c.LocalOpened {
		client, server = &c.Local, &c.Remote
	}
	if server.LastStatus < 200 || client.FIN.IsZero() && server.FIN.IsZero() {
		return // no final response (none, an interim 1xx, or a 101's upgrade), or not closed
	}
	// An end that sent no FIN left the connection open only when it is
	// still in CLOSE_WAIT at the capture's end: one that either end reset
	// (an abortive close, or a request crossing the other's FIN) was not
	// left open, nor is it a close after the status, and counts for
	// neither path.
	note := func(m map[serverRequest]*closedAfter, a serverRequest, end *pcapstate.Side) {
		open := end.FIN.IsZero()
		if open && (server.LastStatus >= 400 || end.State != pcapstate.CloseWait) {
			return // left open after an error, or reset: not counted
		}
		n := m[a]
		if n == nil {
			n = &closedAfter{}
			m[a] = n
		}
		if open {
			n.successOpen++ // the other end closed, this one did not
			return
		}
		n.add(server.LastStatus, end.FIN)
	}
	a := endOf(epOf(server.Addr), epOf(client.Addr))
	a.method = uint64(client.LastRequest)
	note(b.closedClient, a, client)
	a.client = ep{}
	note(b.closedServer, a, server)
}

// lastExchangeFinding adds to f what the capture shows of its group's
// last exchanges: a claim citing the peer's FINs, the group's name, and,
// where the exchange names the path that skipped the close, the category
// and the confidence. That confidence is the exchange's or the one the
// mechanism's evidence already gave f, the higher (the capture agrees with
// the dump, it does not weaken it), capped as a split group's is; it returns the fix for that path, if any, to lead
// the advice. rt is the process's runtime.
func (b *builder) lastExchangeFinding(f *Finding, sg *sockGroup, rt Runtime) (Advice, bool) {
	if sg.last == LastUnknown {
		return Advice{}, false
	}
	f.LastExchange = sg.last
	n := len(sg.keys)
	statuses, methods := map[uint16]int{}, map[pcapstate.Method]int{}
	ours := 0
	upgrade := sg.upgrade()
	f.Upgrade = upgrade
	fins := make([]Pos, 0, maxFINEvidence+1) // the earliest, of thousands
	for _, e := range sg.exch {
		if e.status != 0 {
			statuses[e.status]++
		}
		if e.method != pcapstate.MethodNone {
			methods[e.method]++
		}
		if e.ours {
			ours++
		}
		if !e.fin.IsZero() {
			fins = keepFirst(fins, e.fin, maxFINEvidence)
		}
	}
	status := countsText(statuses, statusText)
	method := countsText(methods, pcapstate.Method.String)
	who := "the peer's"
	if ours == n {
		who = "our"
	}
	conns := fmt.Sprintf("%d %s", count(n), plural("connection", n))
	var text, group string
	outbound := sg.flow.key.outbound
	switch sg.last {
	case LastErrorStatus:
		text = fmt.Sprintf("on each of these %s the last data before the peer's FIN was %s HTTP response with an error status (%s)%s", conns, who, status, answeredText(sg))
		group = "last response before the peer's FIN an error status (" + status + ")"
		if outbound && ours == 0 {
			text += ": the code that got it returned without closing or reading the response, so the connection was never released"
		}
	case LastSuccessStatus:
		text = fmt.Sprintf("on each of these %s the last data before the peer's FIN was %s HTTP response with a success status (%s)%s", conns, who, status, answeredText(sg))
		group = "last response before the peer's FIN a success (" + status + ")"
	case LastOurs:
		group = "last data before the peer's FIN from us"
		switch {
		case method != "":
			text = fmt.Sprintf("on each of these %s the last data before the peer's FIN was our request (%s), never answered", conns, method)
			group += ": a request (" + method + ") never answered"
			if outbound {
				text += ": the peer closed while we waited for the response, and the path that handles the timeout or the failed read returned without closing"
			}
		case upgrade != UpgradeNone:
			text = fmt.Sprintf("on each of these %s the last data before the peer's FIN came from us, %s: the peer closed after our last write", conns, upgradeClaim[upgrade])
			group += upgradePhrase[upgrade]
		case outbound:
			text = fmt.Sprintf("on each of these %s the last data before the peer's FIN came from us (no HTTP request recognised), and the peer never answered it", conns)
		default:
			text = fmt.Sprintf("on each of these %s the last data before the peer's FIN came from us (no HTTP response recognised): the peer closed after our last write", conns)
		}
	case LastTheirs:
		group = "last data before the peer's FIN from the peer"
		switch {
		case upgrade != UpgradeNone:
			text = fmt.Sprintf("on each of these %s the last data before the peer's FIN came from the peer, %s, and this process sent nothing after it", conns, upgradeClaim[upgrade])
			group += upgradePhrase[upgrade]
		case method != "":
			text = fmt.Sprintf("on each of these %s the last data before the peer's FIN was the peer's request (%s), which this process never answered", conns, method)
			group += ": a request (" + method + ") never answered"
		default:
			text = fmt.Sprintf("on each of these %s the last data before the peer's FIN came from the peer (no HTTP recognised), and this process sent nothing after it", conns)
		}
	case LastNoData:
		text = fmt.Sprintf("the capture saw no data on these %s before the peer's FIN", conns)
		group = "no data before the peer's FIN"
	}
	if sg.byLast {
		text += fmt.Sprintf("; the other sockets of the flow (%d in all) ended otherwise, so they are groups of their own", count(sg.of))
	}
	f.Supporting = append(f.Supporting, Claim{Text: text, Evidence: fins})
	if f.Group == "" {
		f.Group = group
	} else {
		f.Group = group + "; " + f.Group
	}
	switch {
	case sg.last == LastErrorStatus:
		f.Category = CategoryErrorHandling
		conf := confidences.LastErrorAlone
		if c, ok := b.errorStatusContrast(sg); ok {
			conf = confidences.LastError
			f.Supporting = append(f.Supporting, c)
		} else if c.Text != "" {
			f.Contradicting = append(f.Contradicting, c)
		}
		f.Confidence = b.capSplit(max(f.Confidence, conf), sg)
		return adviseErrorStatus(rt, outbound && ours == 0, status), true
	case sg.last == LastOurs && outbound && method != "":
		f.Category = CategoryErrorHandling
		f.Confidence = b.capSplit(max(f.Confidence, confidences.LastUnanswered), sg)
		return Advice{Runtime: rt, Text: fmt.Sprintf("These requests (%s) were never answered: the peer closed while the client waited. The branch that handles the timeout or the failed read returns without closing the connection; close it there (%s).", method, closeOnError[rt])}, true
	}
	return Advice{}, false
}

// maxFINEvidence is how many of the peer's FINs a last-exchange claim
// cites, the earliest.
const maxFINEvidence = 6

// keepFirst adds p to ps, the n earliest distinct positions in order: p
// goes in unless it is there or n earlier ones are.
func keepFirst(ps []Pos, p Pos, n int) []Pos {
	i, found := slices.BinarySearchFunc(ps, p, Pos.Compare)
	if found || i >= n {
		return ps
	}
	ps = slices.Insert(ps, i, p)
	return ps[:min(len(ps), n)]
}

// capSplit caps a confidence as a group split from its flow by counts is.
func (b *builder) capSplit(conf float64, sg *sockGroup) float64 {
	switch {
	case sg.split && sg.byExchange:
		return min(conf, confidences.SplitByExchange)
	case sg.split:
		return min(conf, confidences.Split)
	}
	return conf
}

// errorStatusContrast says whether the capture shows the connections of
// the same server closed after a success, while the group's were not
// closed after its error: the close is skipped on the error path only.
// Its claim counts both paths, and holds (raises the confidence) when
// each path does what it is said to do more often than not and the
// counts are too lopsided to come by chance:
//   - the success path closed more than half of the connections the
//     capture saw end after a success (closed by that end, or left open by
//     it after the other end's FIN);
//   - the error path closed fewer connections after the group's own
//     statuses than the group left open (an error path that closes as
//     often as not is no contrast);
//   - Fisher's exact test (one-sided) on those four counts gives about
//     0.05 or less: were the close independent of the status, a split at
//     least as lopsided would come once in 20 or more rarely
//     (contrastOnceIn).
//
// When it does not hold but there is something to compare (a success
// seen to end), the claim says why, for the finding's contradicting
// evidence. A client's group (outbound) is compared with the connections
// its host's clients closed to the same servers; a server's (accepted),
// with those the server closed
// (its FIN, whichever end closed first: a server in CLOSE_WAIT never sent
// one).
func (b *builder) errorStatusContrast(sg *sockGroup) (Claim, bool) {
	if len(sg.keys) == 0 {
		return Claim{}, false
	}
	outbound := sg.flow.key.outbound
	// The group's servers: its peers (one, or several when their flow
	// folds a port many peers share), each with our host, whose clients'
	// closes are the ones to compare (a capture on a router or a bridge
	// also sees other hosts' clients of the same server); or our own end.
	closed, end := b.closedClient, func(k key) serverRequest { return endOf(k.remote, k.local) }
	if !outbound {
		closed, end = b.closedServer, func(k key) serverRequest { return endOf(k.local, ep{}) }
	}
	group := map[uint16]int{} // the group's statuses
	for _, e := range sg.exch {
		if e.status >= 400 {
			group[e.status]++
		}
	}
	// Only the connections answering the same methods are compared, when
	// the capture saw them all, so that a server that closes after every
	// POST and never after a GET is not taken for one whose error path
	// skips the close.
	methods, scoped := sg.answeredScope()
	seen := map[serverRequest]bool{}
	servers := map[ep]bool{} // a client's servers, seen from one host or several
	var (
		success, successOpen, errors, same int
		cites                              []Pos
	)
	closedErrors := map[uint16]int{}      // the closes after an error, by status
	outside := map[pcapstate.Method]int{} // the successes seen to end answering other methods
	var last serverRequest
	for i, k := range sg.keys {
		a := end(k)
		// The keys are sorted, so the same server's come together.
		if i > 0 && a == last || seen[a] {
			continue
		}
		seen[a], last = true, a
		servers[a.server] = true
		var first Pos
		for m := pcapstate.MethodNone; m <= lastMethod; m++ {
			a.method = uint64(m)
			n := closed[a]
			if n == nil {
				continue
			}
			if scoped && !methods[m] {
				if n.success+n.successOpen > 0 {
					outside[m] += n.success + n.successOpen
				}
				continue
			}
			success, successOpen, errors = success+n.success, successOpen+n.successOpen, errors+n.errors
			for st, c := range n.byError {
				closedErrors[st] += c
				if group[st] > 0 {
					same += c
				}
			}
			if !n.firstSuccess.IsZero() && (first.IsZero() || n.firstSuccess.Compare(first) < 0) {
				first = n.firstSuccess
			}
		}
		if !first.IsZero() {
			cites = append(cites, first)
		}
	}
	// scope says which requests were compared, when others were left out.
	scope := ""
	if len(outside) > 0 {
		scope = fmt.Sprintf(" (%s; %s after a success left out)", countingOnly(methods), countsText(outside, requestText))
	}
	if success+successOpen == 0 {
		if len(outside) == 0 {
			return Claim{}, false // no success seen to end: nothing to compare
		}
		return Claim{Text: "no contrast between the success and the error path: every connection the capture saw end after a success answered " +
			leftOutText(outside, sg.answeredMethods(), "not its status")}, false
	}
	left := len(sg.keys)
	chance := contrastChance(success, successOpen, same, left)
	cites = sortOwnPositions(cites)
	who, where := "the client", "to "+sg.keys[0].remote.String()
	if len(servers) > 1 {
		where = fmt.Sprintf("to the group's %d peers", count(len(servers)))
	}
	if !outbound {
		who, where = "this server", "on "+sg.keys[0].local.String()
		if len(servers) > 1 {
			where = fmt.Sprintf("on the group's %d local addresses of :%d", count(len(servers)), sg.flow.key.port)
		}
	}
	leftText := fmt.Sprintf("while these %d were left open after %s", count(left), countsText(group, statusText))
	if left == 1 {
		leftText = "while this one was left open after " + countsText(group, statusText)
	}
	counts := fmt.Sprintf("the capture shows %d other %s %s closed by %s after a success status (%d of the %d that ended after one) and %s%s, %s",
		count(success), plural("connection", success), where, who, count(success), count(success+successOpen), statusesText(closedErrors, errors), scope, leftText)
	odds := fmt.Sprintf("a split at least this lopsided comes by chance %s if the close does not depend on the status (Fisher's exact test)", onceIn(chance))
	var why string
	switch {
	case success*2 <= success+successOpen:
		why = "the success path closed no more than half of its connections"
	case same >= left:
		why = fmt.Sprintf("the error path closed as many after the group's statuses (%d) as it left open", count(same))
	case !rareEnough(chance):
		why = "too few connections to tell the two paths apart: " + odds + ", and the contrast needs once in 20 or rarer"
	default:
		return Claim{Text: counts + ": the close is done on the success path and skipped on the error path; " + odds, Evidence: cites[:min(len(cites), maxContrastCited)]}, true
	}
	return Claim{Text: "no contrast between the success and the error path: " + counts + "; " + why, Evidence: cites[:min(len(cites), maxContrastCited)]}, false
}

// contrastOnceIn is how rare, at least, a split must be by chance (Fisher's
// exact test, one-sided) for the error-status contrast to hold: once in 20,
// the usual 0.05. It is compared as the claim writes it (1/p rounded), so
// that a claim never says "once in 20" of a contrast that fails.
const contrastOnceIn = 20

// contrastChance is the one-sided p-value of Fisher's exact test on the
// table of closes by path: of the successes, closed and left open; of the
// errors, closed and left open. It is the chance, with every margin kept,
// that at least closedOK of the closes fall on the successes were the
// close independent of the status.
func contrastChance(closedOK, openOK, closedErr, openErr int) float64 {
	n, closes, oks := closedOK+openOK+closedErr+openErr, closedOK+closedErr, closedOK+openOK
	lchoose := func(n, k int) float64 {
		a, _ := math.Lgamma(float64(n + 1))
		b, _ := math.Lgamma(float64(k + 1))
		c, _ := math.Lgamma(float64(n - k + 1))
		return a - b - c
	}
	total := lchoose(n, oks)
	p := 0.0
	for x := closedOK; x <= min(closes, oks); x++ {
		term := math.Exp(lchoose(closes, x) + lchoose(n-closes, oks-x) - total)
		p += term
		if term < p*1e-17 {
			break // the terms only fall from here: the rest cannot show
		}
	}
	return min(p, 1)
}

// rareEnough says whether a chance is at most once in contrastOnceIn, as
// onceIn writes it.
func rareEnough(p float64) bool { return p <= 0 || math.Round(1/p) >= contrastOnceIn }

// onceIn says a chance as "once in 84", "less than once in a million".
func onceIn(p float64) string {
	switch {
	case p >= 1:
		return "every time"
	case p < 1e-6:
		return "less than once in a million"
	}
	return "once in " + FormatCount(int(math.Round(1/p)))
}

// answeredScope returns the methods of the requests the group's responses
// answered, and whether the capture saw every one (scoped): only then can
// closes be counted by method, those after other methods left out (the
// error-status contrast, errorPath).
func (sg *sockGroup) answeredScope() (methods map[pcapstate.Method]bool, scoped bool) {
	methods, scoped = map[pcapstate.Method]bool{}, len(sg.exch) > 0 && len(sg.exch) == len(sg.keys)
	for _, e := range sg.exch {
		methods[e.answered] = true
		scoped = scoped && e.answered != pcapstate.MethodNone
	}
	return methods, scoped
}

// countingOnly says which methods a scoped count kept: "counting only
// GET, the method these sockets answered".
func countingOnly(methods map[pcapstate.Method]bool) string {
	var names []string
	for m := range methods {
		names = append(names, m.String())
	}
	slices.Sort(names)
	what := "the method these sockets answered"
	if len(names) > 1 {
		what = "the methods these sockets answered"
	}
	return fmt.Sprintf("counting only %s, %s", strings.Join(names, " or "), what)
}

// answeredMethods counts the methods of the requests the group's
// responses answered, those the capture saw.
func (sg *sockGroup) answeredMethods() map[pcapstate.Method]int {
	n := map[pcapstate.Method]int{}
	for _, e := range sg.exch {
		if e.answered != pcapstate.MethodNone {
			n[e.answered]++
		}
	}
	return n
}

// answeredText says, after a group's statuses, the methods of the
// requests they answered, as far as the capture saw them: ", answering GET
// ×4, POST ×1", "answering GET ×2 (1 request not seen)", or nothing.
func answeredText(sg *sockGroup) string {
	n := sg.answeredMethods()
	if len(n) == 0 {
		return ""
	}
	seen := 0
	for _, c := range n {
		seen += c
	}
	text := ", answering " + countsText(n, pcapstate.Method.String)
	if unseen := len(sg.exch) - seen; unseen > 0 {
		text += fmt.Sprintf(" (%d %s not seen)", count(unseen), plural("request", unseen))
	}
	return text
}

// statusesText says how many closes followed an error status, naming
// the statuses by count, most frequent first: "0 after an error status",
// "16 after an error status (404 ×9, 500 ×7)".
func statusesText(by map[uint16]int, n int) string {
	if n == 0 {
		return "0 after an error status"
	}
	return fmt.Sprintf("%d after an error status (%s)", count(n), countsText(by, statusText))
}

// requestText writes the method of a request counted by method, "request
// not seen" for a connection whose request the capture did not see (it
// began before the capture, or was no HTTP request).
func requestText(m pcapstate.Method) string {
	if m == pcapstate.MethodNone {
		return "request not seen"
	}
	return m.String()
}

// leftOutText says why the connections a count by method left out, all of
// them, are no contrast with a group whose requests had the methods own:
// they answered another method, "another method (POST ×6) than these
// sockets' requests (GET ×3): the close may follow the request's method,
// " and then not what (not its status); or a request the capture did not
// see, which is not taken for another method: nothing is known of it.
func leftOutText(outside, own map[pcapstate.Method]int, not string) string {
	ownText := countsText(own, pcapstate.Method.String)
	unseen := outside[pcapstate.MethodNone]
	if unseen > 0 && len(outside) == 1 {
		return fmt.Sprintf("a request the capture did not see (%d %s), so none is compared with these sockets' requests (%s)", count(unseen), plural("connection", unseen), ownText)
	}
	mayFollow := "the close may follow the request's method, " + not
	if unseen == 0 {
		return fmt.Sprintf("another method (%s) than these sockets' requests (%s): %s", countsText(outside, requestText), ownText, mayFollow)
	}
	return fmt.Sprintf("another method than these sockets' requests (%s) or a request the capture did not see (%s): %s", ownText, countsText(outside, requestText), mayFollow)
}

// statusText writes an HTTP status.
func statusText(s uint16) string { return strconv.Itoa(int(s)) }

// maxContrastCited is how many servers' earliest success-path closes the
// error-status contrast cites.
const maxContrastCited = 3

// closeOnError is how each runtime closes a connection on an error path.
var closeOnError = map[Runtime]string{
	RuntimeGo:      "`defer resp.Body.Close()` right after the error check of `client.Do`, and let a failed `Do` return: it closes the connection itself",
	RuntimeJava:    "try-with-resources or `finally` around the request, the `SocketTimeoutException` branch included; `HttpURLConnection.disconnect()` there",
	RuntimePython:  "`with closing(conn):` or `conn.close()` in `except TimeoutError:` or `finally:`",
	RuntimeNode:    "`req.destroy()` in the 'timeout' and 'error' handlers",
	RuntimeUnknown: "close the connection in the timeout and error branches",
}

// errorStatusFix is, per runtime, the fix for a client whose branch that
// returns on an error status leaves the response unclosed.
var errorStatusFix = map[Runtime]string{
	RuntimeGo:      "The branch that returns on the error status (`if resp.StatusCode != http.StatusOK { return ... }`) never closes the body: put `defer resp.Body.Close()` right after the error check of `client.Do`, before the status check, and drain it (`io.Copy(io.Discard, resp.Body)`) so the connection goes back to the pool.",
	RuntimeJava:    "The branch that throws on the error status never releases the response: `try (CloseableHttpResponse r = client.execute(req)) { if (r.getCode() >= 400) { EntityUtils.consume(r.getEntity()); throw ...; } }`; with `HttpURLConnection`, read and close `getErrorStream()` (or call `disconnect()`) before throwing.",
	RuntimePython:  "The branch that raises on the error status never closes the response nor gives the connection back: `resp.close()` and release or close the connection before raising (`with conn.getresponse() as resp:`, `finally: conn.close()`; with requests, `with session.get(url) as r:`).",
	RuntimeNode:    "The branch that returns on the error status never consumes the response: call `res.resume()` (or `res.destroy()`) before returning so the socket is freed; with fetch, `await res.body?.cancel()`.",
	RuntimeUnknown: "The branch that returns on the error status never closes or reads the response: close it (or read it to its end) before returning, so the connection is released.",
}

// adviseErrorStatus is the fix for a group whose last exchange was an
// error status: the branch that returns on it. client says the process
// got the status (it is the client); otherwise it sent it.
func adviseErrorStatus(rt Runtime, client bool, status string) Advice {
	if !client {
		return Advice{Runtime: rt, Text: fmt.Sprintf("The branch that answers with an error status (%s) returns without closing the connection, while the success path closes it: close it after writing the error response (`finally`, `with`, `defer`), or keep it alive on purpose with an idle timeout.", status)}
	}
	text, ok := errorStatusFix[rt]
	if !ok {
		text = errorStatusFix[RuntimeUnknown]
	}
	return Advice{Runtime: rt, Text: fmt.Sprintf("Error statuses (%s): %s", status, text)}
}
