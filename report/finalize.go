package report

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Finalize makes a Model ready to render: it sorts every list, fills the
// fields marked "derived" (keys, IDs, display texts, counts, charts, the
// verdict) and checks that the findings' socket keys exist. Build calls it
// last; calling it again changes nothing. The error lists every problem
// found; the model is still filled as far as possible.
func (m *Model) Finalize() error {
	var errs []error
	m.SchemaVersion = SchemaVersion
	if m.Title == "" {
		m.Title = "CLOSE_WAIT analysis"
	}

	// Sockets: normalise, key, sort, index. The charts count the sockets
	// by fields nothing below changes, while the findings are finished.
	eachHalf(m.Sockets, normaliseSocket)
	sortSockets(m.Sockets)
	charts := make(chan Charts, 1)
	go func() { charts <- chartsOf(m.Sockets) }()
	index := make(map[string]int, len(m.Sockets))
	for i, s := range m.Sockets {
		if _, ok := index[s.Key]; ok {
			errs = append(errs, fmt.Errorf("socket %s listed twice", s.Key))
		}
		index[s.Key] = i
	}

	// Findings.
	ids := map[string]bool{}
	for i := range m.Findings {
		f := &m.Findings[i]
		// More groups of one category in one process: -2, -3, in the
		// order Build made them (largest first).
		base := FindingID(f.Category, f.Process.PID)
		f.ID = base
		for n := 2; ids[f.ID]; n++ {
			f.ID = base + "-" + strconv.Itoa(n)
		}
		ids[f.ID] = true
		if math.IsNaN(f.Confidence) || f.Confidence < 0 || f.Confidence > 1 {
			errs = append(errs, fmt.Errorf("finding %s: confidence %v is not within 0..1", f.ID, f.Confidence))
			f.Confidence = 0
		}
		if f.Severity == SeverityUnknown {
			errs = append(errs, fmt.Errorf("finding %s: no severity (use Rate)", f.ID))
		}
		f.ConfidenceLabel = ConfidenceLabel(f.Confidence)
		if f.Title == "" {
			f.Title = categoryTitle[f.Category]
		}
		if f.SeverityReasons == nil {
			f.SeverityReasons = []string{}
		}
		if len(f.Advice) == 0 {
			f.Advice = Advise(f.Category, f.Process.Runtime)
		}
		for j := range f.Suspects {
			finishSuspect(&f.Suspects[j])
		}
		slices.SortStableFunc(f.Suspects, func(a, b Suspect) int {
			return cmp.Or(cmp.Compare(b.Link, a.Link), cmp.Compare(b.Count, a.Count),
				cmp.Compare(a.Name, b.Name), cmp.Compare(a.State, b.State))
		})
		for j := range f.Suspects {
			f.Suspects[j].ID = f.ID + "-t" + strconv.Itoa(j+1)
		}
		finishClaims(f.Supporting)
		finishClaims(f.Contradicting)
		// The positions the finding cites and its sockets' order, counts
		// and flows are independent: for a finding of many sockets (the
		// reference capture's has 50,000) they are found side by side.
		keys := f.Sockets
		var evidence []Pos
		both(len(keys) >= parallelMin, func() {
			evidence = findingEvidence(keys, f, m.Sockets, index)
		}, func() {
			errs = append(errs, m.finishFindingSockets(f, index)...)
		})
		f.Evidence = evidence
		f.Supporting, f.Contradicting = nonNil(f.Supporting), nonNil(f.Contradicting)
		f.Suspects = nonNil(f.Suspects)
	}
	// Most severe first; of equal severity, stuck sockets before context
	// (transient churn, resets), a known process before none, then the
	// larger group, then the surer.
	slices.SortStableFunc(m.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), compareBool(contextOnly(a), contextOnly(b)), compareBool(a.Process.PID <= 0, b.Process.PID <= 0),
			cmp.Compare(b.SocketCount, a.SocketCount), cmp.Compare(b.Confidence, a.Confidence), cmp.Compare(a.ID, b.ID))
	})
	for _, f := range m.Findings { // one finding per socket: groups do not overlap
		for _, k := range f.Sockets {
			i, ok := index[k]
			switch {
			case !ok:
			case m.Sockets[i].Finding == "":
				m.Sockets[i].Finding = f.ID
			default:
				errs = append(errs, fmt.Errorf("socket %s is in findings %s and %s", k, m.Sockets[i].Finding, f.ID))
			}
		}
	}

	m.finishTimeline()
	m.finishSummary()
	m.Charts = <-charts
	m.Verdict = verdictOf(m)

	slices.SortFunc(m.Inputs, func(a, b Input) int { return cmp.Compare(a.Path, b.Path) })
	slices.SortFunc(m.Warnings, func(a, b Warning) int {
		return cmp.Or(a.Pos.Compare(b.Pos), cmp.Compare(a.Msg, b.Msg))
	})
	for i := range m.DumpLinks {
		d := &m.DumpLinks[i]
		d.Why, d.Candidates, d.Evidence = nonNil(d.Why), nonNil(d.Candidates), sortPositions(d.Evidence)
		for j := range d.Candidates {
			d.Candidates[j].Why = nonNil(d.Candidates[j].Why)
		}
	}
	slices.SortFunc(m.DumpLinks, func(a, b DumpLink) int { return cmp.Compare(a.File, b.File) })
	m.DumpLinks = nonNil(m.DumpLinks)
	m.LocalSource.Addrs = nonNil(m.LocalSource.Addrs)
	m.Findings, m.Sockets, m.Timeline = nonNil(m.Findings), nonNil(m.Sockets), nonNil(m.Timeline)
	m.Inputs, m.Warnings = nonNil(m.Inputs), nonNil(m.Warnings)
	m.Summary.Warnings = len(m.Warnings)
	return errors.Join(errs...)
}

// contextOnly reports whether a finding is about sockets that are not
// stuck: churn the application closed, resets (error handling seen only in
// resets, not a group of stuck sockets).
func contextOnly(f Finding) bool {
	switch f.Mechanism {
	case MechanismThread, MechanismPool, MechanismUnreferenced, MechanismDescriptors:
		return false
	}
	return f.Category == CategoryNormalChurn || f.Category == CategoryErrorHandling
}

// FindingID is the ID (and HTML anchor) of the finding for a root cause in
// a process: "pool-leak-4242", or "pool-leak-unknown" without a pid.
func FindingID(c Category, pid int) string {
	if pid <= 0 {
		return c.String() + "-unknown"
	}
	return c.String() + "-" + strconv.Itoa(pid)
}

// categoryTitle is the default one-line title of a finding.
var categoryTitle = map[Category]string{
	CategoryUnknown:              "Unclassified CLOSE_WAIT sockets",
	CategoryMissingClose:         "Sockets never closed after the peer hung up",
	CategoryPoolLeak:             "Connection pool leaks connections",
	CategoryBlockedHoldingSocket: "Threads blocked indefinitely while holding sockets",
	CategoryErrorHandling:        "Error paths leave sockets open",
	CategoryRemotePeerLeak:       "The peer never closes its side",
	CategoryNormalChurn:          "Transient CLOSE_WAIT, closed later",
	CategoryFDExhaustion:         "File descriptors exhausted",
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// statusRank orders sockets in tables: stuck ones first, context last.
func statusRank(s Status) int {
	return [...]int{
		StatusConfirmed:   0,
		StatusCaptureOnly: 1,
		StatusKernelOnly:  2,
		StatusGoneLater:   3,
		StatusFinWait2:    4,
		StatusClosedLater: 5,
		StatusUnknown:     6,
	}[min(s, StatusFinWait2)]
}

func ageText(d time.Duration, lowerBound bool) string {
	switch {
	case d <= 0 && !lowerBound:
		return ""
	case lowerBound:
		return ">= " + FormatDuration(d)
	}
	return FormatDuration(d)
}

// finishFindingSockets sorts the finding's socket keys in table order, drops
// duplicates, reports keys that name no socket and fills the counts, flows
// and oldest age.
func (m *Model) finishFindingSockets(f *Finding, index map[string]int) []error {
	var errs []error
	// The sockets in the model's order: sorted by their indices, looked
	// up once each rather than twice a comparison.
	at := make([]int, 0, len(f.Sockets))
	for _, k := range f.Sockets {
		i, ok := index[k]
		if !ok {
			errs = append(errs, fmt.Errorf("finding %s: no socket %s", f.ID, k))
			continue
		}
		at = append(at, i)
	}
	slices.Sort(at)
	at = slices.Compact(at)
	f.Sockets = make([]string, len(at))
	for j, i := range at {
		f.Sockets[j] = m.Sockets[i].Key
	}
	f.SocketCount = len(f.Sockets)

	// A flow's sockets share their addresses; it names a port when they
	// all share it (its first socket's, unless another differs).
	type flowKey struct{ local, remote netip.Addr }
	type flow struct {
		Flow
		lport, rport uint16
		lmany, rmany bool
		lip, rip     string
		oldest       time.Duration
		lower        bool
	}
	groups := map[flowKey]*flow{}
	var order []flowKey
	var oldest time.Duration
	var oldestLower bool
	for _, i := range at {
		s := &m.Sockets[i]
		if s.Age > oldest || (s.Age == oldest && s.AgeLowerBound) {
			oldest, oldestLower = s.Age, s.AgeLowerBound
		}
		fk := flowKey{s.Local.Addr, s.Remote.Addr}
		g := groups[fk]
		if g == nil {
			g = &flow{lport: s.Local.Port, rport: s.Remote.Port}
			g.lip, g.rip = hostPart(s.Local), hostPart(s.Remote)
			groups[fk] = g
			order = append(order, fk)
		}
		g.Count++
		g.lmany, g.rmany = g.lmany || s.Local.Port != g.lport, g.rmany || s.Remote.Port != g.rport
		if s.Age > g.oldest {
			g.oldest, g.lower = s.Age, s.AgeLowerBound
		}
	}
	f.OldestText = ageText(oldest, oldestLower)
	f.Flows = make([]Flow, 0, len(order))
	for _, fk := range order {
		g := groups[fk]
		g.Local, g.Remote = g.lip+":"+portText(g.lport, g.lmany), g.rip+":"+portText(g.rport, g.rmany)
		g.Oldest = ageText(g.oldest, g.lower)
		f.Flows = append(f.Flows, g.Flow)
	}
	slices.SortFunc(f.Flows, func(a, b Flow) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Local, b.Local), cmp.Compare(a.Remote, b.Remote))
	})
	return errs
}

// hostPart is the address of an endpoint as it appears before ":port".
func hostPart(e Endpoint) string {
	s := e.String()
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i]
	}
	return s
}

// portText is the port all sockets of a flow share, or "*" when they
// differ (many).
func portText(port uint16, many bool) string {
	if many {
		return "*"
	}
	return strconv.Itoa(int(port))
}

func finishSuspect(s *Suspect) {
	s.WaitText = ageText(s.Wait, false)
	s.Evidence = sortPositions(s.Evidence)
	s.Frames, s.Why = nonNil(s.Frames), nonNil(s.Why)
	if s.Culprit == "" {
		s.Culprit = culpritOf(s.Frames)
	}
	if s.Count <= 0 {
		s.Count = 1
	}
}

func finishClaims(cs []Claim) {
	for i := range cs {
		cs[i].Evidence = sortPositions(cs[i].Evidence)
	}
}

// findingEvidence is every position a finding cites: its sockets' (keys,
// in any order; those that name no socket are left out) its suspects' and
// its claims'. It reads f's suspects and claims and changes nothing.
func findingEvidence(keys []string, f *Finding, socks []Socket, index map[string]int) []Pos {
	n := 0
	for _, k := range keys {
		if i, ok := index[k]; ok {
			n += len(socks[i].Evidence)
		}
	}
	for _, s := range f.Suspects {
		n += len(s.Evidence)
	}
	for _, c := range f.Supporting {
		n += len(c.Evidence)
	}
	for _, c := range f.Contradicting {
		n += len(c.Evidence)
	}
	all := make([]Pos, 0, n) // a finding of 400,000 sockets cites a million positions
	for _, k := range keys {
		if i, ok := index[k]; ok {
			all = append(all, socks[i].Evidence...)
		}
	}
	for _, s := range f.Suspects {
		all = append(all, s.Evidence...)
	}
	for _, c := range f.Supporting {
		all = append(all, c.Evidence...)
	}
	for _, c := range f.Contradicting {
		all = append(all, c.Evidence...)
	}
	return sortOwnPositions(all)
}

func (m *Model) finishTimeline() {
	slices.SortStableFunc(m.Timeline, func(a, b Point) int { return a.At.Compare(b.At) })
	start := m.Summary.CaptureStart
	if start.IsZero() && len(m.Timeline) > 0 {
		start = m.Timeline[0].At
	}
	for i := range m.Timeline {
		p := &m.Timeline[i]
		p.At = p.At.UTC()
		p.Offset = "+" + FormatDuration(p.At.Sub(start))
	}
	if start.IsZero() && len(m.SocketCounts) > 0 {
		start = m.SocketCounts[0].At
	}
	for i := range m.SocketCounts {
		p := &m.SocketCounts[i]
		p.At = p.At.UTC()
		p.AtText = FormatTime(p.At)
		if d := p.At.Sub(start); d >= 0 {
			p.Offset = "+" + FormatDuration(d)
		} else {
			p.Offset = "-" + FormatDuration(-d)
		}
	}
}

func (m *Model) finishSummary() {
	s := &m.Summary
	*s = Summary{
		Connections:  s.Connections,
		CaptureStart: s.CaptureStart,
		CaptureEnd:   s.CaptureEnd,
		Growth:       s.Growth,
		FDLimit:      s.FDLimit,
		FDLimitFrom:  s.FDLimitFrom,

		ClosedLaterUnlisted: s.ClosedLaterUnlisted,
		ClosedLater:         s.ClosedLaterUnlisted,
	}
	pids := map[int]bool{}
	var oldest time.Duration
	var lower bool
	for _, k := range m.Sockets {
		switch k.Status {
		case StatusConfirmed:
			s.Confirmed++
		case StatusCaptureOnly:
			s.CaptureOnly++
		case StatusKernelOnly:
			s.KernelOnly++
		case StatusGoneLater:
			s.GoneLater++
		case StatusClosedLater:
			s.ClosedLater++
		case StatusFinWait2:
			s.FinWait2++
		}
		if !k.Status.Stuck() {
			continue
		}
		if k.PID > 0 {
			pids[k.PID] = true
		}
		if k.Age > oldest || (k.Age == oldest && k.AgeLowerBound) {
			oldest, lower = k.Age, k.AgeLowerBound
		}
	}
	s.CloseWait = s.Confirmed + s.CaptureOnly + s.KernelOnly
	s.KernelListed = s.Confirmed + s.KernelOnly
	s.Processes = len(pids)
	s.Findings = len(m.Findings)
	if !s.CaptureStart.IsZero() {
		s.CaptureStart = s.CaptureStart.UTC()
	}
	if !s.CaptureEnd.IsZero() {
		s.CaptureEnd = s.CaptureEnd.UTC()
	}
	if !s.CaptureStart.IsZero() && !s.CaptureEnd.IsZero() {
		s.CaptureSpan = s.CaptureEnd.Sub(s.CaptureStart)
		s.SpanText = FormatDuration(s.CaptureSpan)
	}
	s.StartText, s.EndText = FormatTime(s.CaptureStart), FormatTime(s.CaptureEnd)
	s.OldestText = ageText(oldest, lower)
	// A growth of zero is shown only when it was measured over long
	// enough to mean something.
	if _, span := Growth(m.Timeline); s.Growth != 0 || max(span, s.CaptureSpan) >= DefaultThresholds().GrowthMinSpan {
		s.GrowthText = FormatGrowth(s.Growth)
	}
}

// topBars is how many bars a chart shows before folding the rest into
// "other".
const topBars = 8

func chartsOf(socks []Socket) Charts {
	ports, peers := map[barKey]int{}, map[barKey]int{}
	ages := make([]Bar, len(ageBuckets))
	for i, b := range ageBuckets {
		ages[i] = Bar{Label: b.label, Level: b.level}
	}
	unknownAge := 0
	for i := range socks {
		s := &socks[i] // only the fields read: Finalize sets Finding meanwhile
		if !s.Status.Stuck() {
			continue
		}
		ports[portKey(s.Local.Port)]++
		peers[barKey{label: s.Remote.Addr.String()}]++
		if s.Age <= 0 && !s.AgeLowerBound {
			unknownAge++
			continue
		}
		for i, b := range ageBuckets {
			if s.Age < b.below || i == len(ageBuckets)-1 {
				ages[i].Count++
				break
			}
		}
	}
	if unknownAge > 0 {
		ages = append(ages, Bar{Label: "unknown", Count: unknownAge})
	}
	if len(ports) == 0 {
		ages = []Bar{}
	}
	return Charts{ByLocalPort: topOf(ports, "ports"), ByPeer: topOf(peers, "peers"), AgeBuckets: ages}
}

// ageBuckets are the age histogram's buckets, cut at the thresholds.
var ageBuckets = []struct {
	label string
	below time.Duration
	level Severity
}{
	{"< 1m", time.Minute, SeverityInfo},
	{"1m–5m", 5 * time.Minute, SeverityInfo},
	{"5m–30m", 30 * time.Minute, SeverityWarning},
	{"30m–2h", 2 * time.Hour, SeverityCritical},
	{"≥ 2h", math.MaxInt64, SeverityCritical},
}

// barKey is what a bar or an aggregate row counts: a local port, ordered
// by number (":9" before ":80"), or anything else, ordered by its label.
type barKey struct {
	port  uint16
	label string
}

func portKey(port uint16) barKey { return barKey{port, ":" + strconv.Itoa(int(port))} }

func (k barKey) compare(o barKey) int {
	return cmp.Or(cmp.Compare(k.port, o.port), cmp.Compare(k.label, o.label))
}

// topOf is the largest counts, ties by key, with the rest as "N others";
// many groups of one (ephemeral client ports) become a single bar
// "N <noun>, 1 each".
func topOf(counts map[barKey]int, noun string) []Bar {
	keys := make([]barKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b barKey) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), a.compare(b))
	})
	bars := make([]Bar, len(keys))
	for i, k := range keys {
		bars[i] = Bar{Label: k.label, Count: counts[k]}
	}
	if len(bars) > topBars && bars[len(bars)-1].Count == 1 {
		first := slices.IndexFunc(bars, func(b Bar) bool { return b.Count == 1 })
		ones := len(bars) - first
		bars = append(bars[:first], Bar{Label: fmt.Sprintf("%d %s, 1 each", count(ones), noun), Count: ones})
	}
	if len(bars) > topBars {
		other := Bar{Label: fmt.Sprintf("%d others", count(len(bars)-topBars+1))}
		for _, b := range bars[topBars-1:] {
			other.Count += b.Count
		}
		bars = append(bars[:topBars-1], other)
	}
	return bars
}

func verdictOf(m *Model) Verdict {
	if len(m.Findings) == 0 {
		text := "No finding: no socket is stuck in CLOSE_WAIT"
		if n := m.Summary.CloseWait; n > 0 {
			text = fmt.Sprintf("%s sockets in CLOSE_WAIT, not classified", FormatCount(n))
		}
		return Verdict{Severity: SeverityInfo, Text: text}
	}
	f := m.Findings[0]
	v := Verdict{Finding: f.ID, Category: f.Category, Severity: f.Severity, Process: f.Process}
	switch f.Category {
	case CategoryNormalChurn:
		v.Text = fmt.Sprintf("%s in %s: %s %s went through CLOSE_WAIT and were closed", f.Title, f.Process, FormatCount(f.SocketCount), plural("socket", f.SocketCount))
		if f.OldestText != "" {
			v.Text += ", the longest after " + f.OldestText
		}
		v.Text += "; nothing is stuck"
		return v
	case CategoryRemotePeerLeak:
		v.Text = fmt.Sprintf("%s: %s of our %s in FIN_WAIT2, the peer's ends in CLOSE_WAIT", f.Title, FormatCount(f.SocketCount), plural("socket", f.SocketCount))
		if f.OldestText != "" {
			v.Text += ", oldest " + f.OldestText
		}
		if f.Process.PID > 0 || f.Process.Name != "" {
			v.Text += "; our side: " + f.Process.String()
		}
		return v
	case CategoryFDExhaustion:
		v.Text = f.Title + " in " + f.Process.String()
		if f.Group != "" {
			v.Text += ": " + f.Group
		}
		if f.OldestText != "" {
			v.Text += ", oldest " + f.OldestText
		}
		return v
	}
	v.Text = fmt.Sprintf("%s in %s: %s %s in CLOSE_WAIT", f.Title, f.Process, FormatCount(f.SocketCount), plural("socket", f.SocketCount))
	if f.OldestText != "" {
		v.Text += ", oldest " + f.OldestText
	}
	if len(f.Suspects) > 0 && f.Suspects[0].Culprit != "" {
		s := f.Suspects[0]
		switch {
		case s.Role == RoleWaiter:
			v.Text += fmt.Sprintf(", %d %s waiting in %s", count(s.Count), plural(s.Kind.String(), s.Count), s.Culprit)
		case s.Kind == SuspectStack:
			v.Text += fmt.Sprintf(", made by %s (%d %s the process printed)", s.Culprit, count(s.Count), plural("stack", s.Count))
		default:
			v.Text += fmt.Sprintf(", held by %d %s in %s", count(s.Count), plural(s.Kind.String(), s.Count), s.Culprit)
		}
	}
	if parts, total := groupsOf(m.Findings, f.Process.PID); len(parts) > 1 {
		v.Text += fmt.Sprintf("; the process's %d stuck sockets are %d groups: %s", count(total), len(parts), strings.Join(parts, " + "))
	}
	return v
}

// groupsOf describes the groups of stuck sockets of one process, largest
// first, as "14 held by threads (blocked-holding-socket)", and their total.
func groupsOf(fs []Finding, pid int) (parts []string, total int) {
	if pid <= 0 {
		return nil, 0
	}
	var gs []Finding
	for _, f := range fs {
		if f.Process.PID == pid && !contextOnly(f) && f.Category != CategoryRemotePeerLeak && f.Mechanism != MechanismDescriptors {
			gs = append(gs, f)
		}
	}
	slices.SortStableFunc(gs, func(a, b Finding) int { return cmp.Compare(b.SocketCount, a.SocketCount) })
	for _, f := range gs {
		total += f.SocketCount
		switch {
		case f.Mechanism == MechanismUnknown:
			parts = append(parts, fmt.Sprintf("%d (%s)", count(f.SocketCount), f.Category))
		case f.LastExchange != LastUnknown:
			parts = append(parts, fmt.Sprintf("%d %s, %s%s (%s)", count(f.SocketCount), mechanismPhrase[f.Mechanism], lastPhrase[f.LastExchange], upgradePhrase[f.Upgrade], f.Category))
		default:
			parts = append(parts, fmt.Sprintf("%d %s (%s)", count(f.SocketCount), mechanismPhrase[f.Mechanism], f.Category))
		}
	}
	return parts, total
}

// mechanismPhrase says how a group's sockets are held, after a count.
var mechanismPhrase = map[Mechanism]string{
	MechanismUnknown:      "not attributed",
	MechanismThread:       "held by blocked threads or goroutines",
	MechanismPool:         "kept by a pool with no thread on them",
	MechanismUnreferenced: "referenced by no running code",
	MechanismTransient:    "closed later",
	MechanismRemote:       "left by the peer",
	MechanismDescriptors:  "exhausting descriptors",
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func plural(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// libraryPrefixes are function-name prefixes of runtimes and standard or
// common libraries: the culprit is the first frame outside them.
var libraryPrefixes = []string{
	"runtime.", "internal/", "net.", "net/", "io.", "bufio.", "sync.", "syscall.", "crypto/", "os.",
	"java.", "javax.", "jdk.", "sun.", "com.sun.", "org.apache.http.", "org.apache.hc.", "com.zaxxer.hikari.",
	"socket.", "ssl.", "selectors.", "threading.", "socketserver.", "http.client.", "urllib3.",
	"queue.", "http.server.", "asyncio.", "concurrent.futures.", "requests.", "httpcore.", "aiohttp.", // Python
}

// culpritOf is the innermost frame that is not library code, or "" when
// all are (Build then names the culprit itself, e.g. a pool's read loop).
func culpritOf(frames []string) string {
	for _, f := range frames {
		lib := false
		for _, p := range libraryPrefixes {
			if strings.HasPrefix(f, p) {
				lib = true
				break
			}
		}
		if !lib {
			return f
		}
	}
	return ""
}

// sortSockets sorts the sockets stuck first, then the oldest, then by
// status and key. It sorts their indices and then moves each socket once:
// a Socket is 232 bytes (on 64-bit), and sorting 50,000 of them in place moved
// hundreds of megabytes.
func sortSockets(socks []Socket) {
	order := make([]int32, len(socks))
	for i := range order {
		order[i] = int32(i)
	}
	// The keys differ but in a model Finalize rejects (a socket listed
	// twice), where the order given decides: the order is total, as
	// sortSplit needs.
	sortSplit(order, func(i, j int32) int {
		a, b := &socks[i], &socks[j]
		return cmp.Or(compareBool(b.Status.Stuck(), a.Status.Stuck()), cmp.Compare(b.Age, a.Age),
			cmp.Compare(statusRank(a.Status), statusRank(b.Status)), cmp.Compare(a.Key, b.Key), cmp.Compare(i, j))
	})
	// Apply the permutation by its cycles: socks[i] becomes the socket
	// at order[i].
	for i := range order {
		if order[i] < 0 {
			continue
		}
		tmp := socks[i]
		at := i
		for {
			from := int(order[at])
			order[at] = -1
			if from == i {
				socks[at] = tmp
				break
			}
			socks[at] = socks[from]
			at = from
		}
	}
}

// normaliseSocket derives a socket's key and texts from its fields.
func normaliseSocket(s *Socket) {
	s.Local.Addr, s.Remote.Addr = s.Local.Addr.Unmap(), s.Remote.Addr.Unmap()
	s.Key = SocketKey(s.Local, s.Remote)
	if !s.Since.IsZero() {
		s.Since = s.Since.UTC()
	}
	s.SinceText = FormatTime(s.Since)
	s.AgeText = ageText(s.Age, s.AgeLowerBound)
	s.Evidence = sortPositions(s.Evidence)
	s.Finding = ""
}

// parallelMin is the shortest list of sockets whose work is split between
// goroutines: below it a goroutine costs more than it saves.
const parallelMin = 4096

// both calls f and g, on two goroutines when parallel says so.
func both(parallel bool, f, g func()) {
	if !parallel {
		f()
		g()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	g()
	<-done
}

// eachHalf calls f on every socket, the second half of a long list on
// another goroutine: the sockets are independent, and a large report has
// tens of thousands.
func eachHalf(socks []Socket, f func(*Socket)) {
	if len(socks) < parallelMin {
		for i := range socks {
			f(&socks[i])
		}
		return
	}
	half := len(socks) / 2
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range socks[half:] {
			f(&socks[half+i])
		}
	}()
	for i := range socks[:half] {
		f(&socks[i])
	}
	<-done
}
