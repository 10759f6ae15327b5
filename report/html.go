package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Row limits of the HTML report. Whatever the number of sockets, the page
// lists at most HTMLSocketRows of them (stuck ones first, oldest first),
// with aggregates over all of them above; the JSON report has every one.
const (
	HTMLSocketRows  = 200
	HTMLWarningRows = 200
	aggRows         = 10 // rows of each aggregate table before "N others"
)

// Per-finding limits of both the HTML and the Markdown report: a finding
// over thousands of peers or threads shows its largest groups.
const (
	FlowRows    = 20
	SuspectRows = 20
	CiteRows    = 12 // positions a claim, suspect or socket cites
)

// htmlView is the Model plus what only the HTML page needs: chart geometry,
// aggregates, the rows shown and the evidence index that claims link to.
type htmlView struct {
	*Model
	Charts     []svgChart
	Aggregates []aggTable
	Shown      []Socket // the first HTMLSocketRows sockets
	Hidden     int      // sockets not listed on the page
	Warned     []Warning
	Unwarned   int // warnings not listed on the page
	Evidence   []evidenceEntry
}

// aggTable counts the stuck sockets by one attribute.
type aggTable struct {
	Title string
	Ages  bool // rows are age buckets: no "oldest" column
	Rows  []aggRow
}

type aggRow struct {
	Label  string // untrusted: process names, addresses
	Href   string // "#finding-id" or ""
	Count  int
	Share  string // e.g. "42%"
	Oldest string
}

// evidenceEntry is one position in the evidence index and what cites it.
type evidenceEntry struct {
	Pos     Pos
	Anchor  string
	CitedBy []citer
}

// citer is a link to something on the page that cites a position.
type citer struct {
	Href  string // "#finding-id", "#sock-3"; built from IDs we make
	Label string // untrusted: socket keys, suspect names
}

func newHTMLView(m *Model) htmlView {
	v := htmlView{Model: m, Shown: m.Sockets[:min(len(m.Sockets), HTMLSocketRows)],
		Warned: m.Warnings[:min(len(m.Warnings), HTMLWarningRows)]}
	v.Hidden, v.Unwarned = len(m.Sockets)-len(v.Shown), len(m.Warnings)-len(v.Warned)
	// The index lists what the page shows: positions cited by findings,
	// by the suspects listed and by the sockets listed.
	cites := map[Pos][]citer{}
	add := func(pos []Pos, c citer) {
		for _, p := range firstN(pos, CiteRows) {
			if l := cites[p]; len(l) == 0 || l[len(l)-1] != c {
				cites[p] = append(l, c)
			}
		}
	}
	for _, f := range m.Findings {
		for _, c := range f.Supporting {
			add(c.Evidence, citer{"#" + f.ID, "supports " + f.ID})
		}
		for _, c := range f.Contradicting {
			add(c.Evidence, citer{"#" + f.ID, "contradicts " + f.ID})
		}
		for _, s := range firstN(f.Suspects, SuspectRows) {
			add(s.Evidence, citer{"#" + s.ID, s.Kind.String() + " " + s.Name})
		}
	}
	for i, s := range v.Shown {
		add(s.Evidence, citer{fmt.Sprintf("#sock-%d", i+1), "socket " + s.Key})
	}
	for p, c := range cites {
		v.Evidence = append(v.Evidence, evidenceEntry{Pos: p, Anchor: anchor(p.String()), CitedBy: c})
	}
	slices.SortFunc(v.Evidence, func(a, b evidenceEntry) int { return a.Pos.Compare(b.Pos) })
	v.Charts = []svgChart{
		timelineChart(m),
		barChart("By local port", "Stuck sockets per local port", "on", m.Charts.ByLocalPort),
		barChart("By peer", "Stuck sockets per remote address", "from", m.Charts.ByPeer),
		histogram(m.Charts.AgeBuckets),
	}
	if len(m.SocketCounts) >= 2 {
		v.Charts = append(v.Charts, socketCountChart(m))
	}
	v.Aggregates = aggregates(m)
	return v
}

// firstN is the first n elements of s, or all of them.
func firstN[T any](s []T, n int) []T { return s[:min(len(s), n)] }

// aggregates counts the stuck sockets by process, finding, peer address,
// local port and age, largest first, the rest folded into "N others".
func aggregates(m *Model) []aggTable {
	type acc struct {
		key    barKey
		href   string
		n      int
		oldest time.Duration
		lower  bool
	}
	titles := map[string]string{}
	for _, f := range m.Findings {
		titles[f.ID] = f.Title + ": " + f.Process.String()
	}
	keys := []func(s Socket) (barKey, string){
		func(s Socket) (barKey, string) {
			return barKey{label: Process{PID: s.PID, Name: s.Process}.String()}, ""
		},
		func(s Socket) (barKey, string) {
			if s.Finding == "" {
				return barKey{label: "no finding"}, ""
			}
			return barKey{label: titles[s.Finding]}, "#" + s.Finding
		},
		func(s Socket) (barKey, string) { return barKey{label: s.Remote.Addr.String()}, "" },
		func(s Socket) (barKey, string) { return portKey(s.Local.Port), "" },
	}
	names := []string{"By process", "By finding", "By peer address", "By local port"}
	total := m.Summary.CloseWait
	share := func(n int) string {
		if total == 0 {
			return ""
		}
		if p := 100 * n / total; p > 0 || n == 0 {
			return strconv.Itoa(p) + "%"
		}
		return "< 1%"
	}
	var out []aggTable
	for k, key := range keys {
		groups := map[barKey]*acc{}
		for _, s := range m.Sockets {
			if !s.Status.Stuck() {
				continue
			}
			k, href := key(s)
			a := groups[k]
			if a == nil {
				a = &acc{key: k, href: href}
				groups[k] = a
			}
			a.n++
			if s.Age > a.oldest || (s.Age == a.oldest && s.AgeLowerBound) {
				a.oldest, a.lower = s.Age, s.AgeLowerBound
			}
		}
		if len(groups) == 0 {
			continue
		}
		all := make([]*acc, 0, len(groups))
		for _, a := range groups {
			all = append(all, a)
		}
		slices.SortFunc(all, func(a, b *acc) int { return cmp.Or(cmp.Compare(b.n, a.n), a.key.compare(b.key)) })
		t := aggTable{Title: names[k]}
		for i, a := range all {
			if i == aggRows-1 && len(all) > aggRows {
				rest := aggRow{Label: fmt.Sprintf("%s others", FormatCount(len(all)-i))}
				var oldest time.Duration
				var lower bool
				for _, b := range all[i:] {
					rest.Count += b.n
					if b.oldest > oldest || (b.oldest == oldest && b.lower) {
						oldest, lower = b.oldest, b.lower
					}
				}
				rest.Share, rest.Oldest = share(rest.Count), ageText(oldest, lower)
				t.Rows = append(t.Rows, rest)
				break
			}
			t.Rows = append(t.Rows, aggRow{Label: a.key.label, Href: a.href, Count: a.n, Share: share(a.n), Oldest: ageText(a.oldest, a.lower)})
		}
		out = append(out, t)
	}
	if total > 0 {
		t := aggTable{Title: "By age", Ages: true}
		for _, b := range m.Charts.AgeBuckets {
			if b.Count > 0 {
				t.Rows = append(t.Rows, aggRow{Label: b.Label, Count: b.Count, Share: share(b.Count)})
			}
		}
		out = append(out, t)
	}
	return out
}

// svgChart is a chart drawn in Go; the template only places its parts, and
// every label goes through html/template.
type svgChart struct {
	Title, Caption string
	W, H           float64
	Empty          string // shown instead of the chart when there is no data
	Single         string // shown instead of a chart of a single bar
	Bars           []svgBar
	Path, Area     string // timeline line and fill, SVG path data made of numbers only
	Ticks          []svgTick
	Grid           []svgLine
	Marks          []svgMark // threshold lines
}

type svgBar struct {
	X, Y, W, H     float64
	Class          string
	Label, Value   string
	LX, LY, VX, VY float64
	Anchor         string // text-anchor of the label: start, middle, end
}

type svgTick struct {
	X, Y   float64
	Label  string
	Anchor string
}

type svgLine struct{ X1, Y1, X2, Y2 float64 }

type svgMark struct {
	svgLine
	Label  string
	Class  string
	LX, LY float64
}

func r1(x float64) float64 { return math.Round(x*10) / 10 }

// axis is a y axis for counts up to peak: integer ticks at a step of 1, 2
// or 5 times a power of ten, at most four steps.
func axis(peak int) (ymax, step int) {
	need := max(1, (peak+3)/4)
	p := 1
	for ; ; p *= 10 {
		for _, f := range []int{1, 2, 5} {
			if f*p >= need {
				step = f * p
				n := max(1, (peak+step-1)/step)
				return n * step, step
			}
		}
	}
}

const (
	chartW = 560.0
	chartH = 240.0
)

// timelineChart draws the CLOSE_WAIT count over capture time as a step line.
func timelineChart(m *Model) svgChart {
	c := svgChart{Title: "CLOSE_WAIT over capture time", W: chartW, H: chartH,
		Caption: "Sockets in CLOSE_WAIT at each instant of the capture"}
	at, counts := make([]time.Time, len(m.Timeline)), make([]int, len(m.Timeline))
	for i, p := range m.Timeline {
		at[i], counts[i] = p.At, p.Count
	}
	c, g, ok := stepChart(c, at, counts, "no timeline: fewer than two points in capture time", "no timeline: every point is at the same instant")
	if !ok {
		return c
	}
	if th := DefaultThresholds().CountWarning; g.ymax > th {
		yy := g.y(th)
		c.Marks = append(c.Marks, svgMark{svgLine{g.left, yy, g.right, yy}, "warning: " + strconv.Itoa(th), "warn", g.right - 4, yy - 4})
	}
	// Log events in the capture's time: a line where each class of a log
	// first appears (the earliest few, labels stepped down so they do not
	// overlap).
	marked := 0
	for _, e := range m.LogEvents {
		if marked == maxLogMarks {
			break
		}
		if e.First.IsZero() || e.First.Before(g.t0) || e.First.After(g.t1) {
			continue
		}
		xx := g.x(e.First)
		c.Marks = append(c.Marks, svgMark{svgLine{xx, g.top, xx, g.bottom}, fmt.Sprintf("%s (%d)", e.Class, e.Count), "log", max(xx-3, g.left+60), g.top + 10 + 12*float64(marked)})
		marked++
	}
	return c
}

// socketCountChart draws the TCP total of timed `ss -s` summaries over
// time, beside the CLOSE_WAIT timeline: ss -s counts no CLOSE_WAIT, but
// a total that keeps growing is what a leak looks like from there.
func socketCountChart(m *Model) svgChart {
	c := svgChart{Title: "TCP sockets (ss -s)", W: chartW, H: chartH,
		Caption: "The TCP total of each timed ss -s summary"}
	at, counts := make([]time.Time, len(m.SocketCounts)), make([]int, len(m.SocketCounts))
	for i, p := range m.SocketCounts {
		at[i], counts[i] = p.At, p.TCP
	}
	c, _, _ = stepChart(c, at, counts, "fewer than two timed summaries", "every summary is at the same instant")
	return c
}

// chartGeom is where a step chart put its plot: its edges, time span and
// scale, for the marks drawn over it.
type chartGeom struct {
	left, right, top, bottom float64
	t0, t1                   time.Time
	ymax                     int
}

func (g chartGeom) x(t time.Time) float64 {
	return r1(g.left + (g.right-g.left)*t.Sub(g.t0).Seconds()/g.t1.Sub(g.t0).Seconds())
}

func (g chartGeom) y(n int) float64 {
	return r1(g.bottom - (g.bottom-g.top)*float64(n)/float64(g.ymax))
}

// stepChart draws counts at instants (in time order) as a step line with
// its area, a count axis at round steps and time labels: c with the
// drawing and its geometry, or c saying why there is none (empty with
// fewer than two points, or all at one instant) and false.
func stepChart(c svgChart, at []time.Time, counts []int, few, oneInstant string) (svgChart, chartGeom, bool) {
	if len(at) < 2 {
		c.Empty = few
		return c, chartGeom{}, false
	}
	g := chartGeom{left: 48.0, right: chartW - 16, top: 16.0, bottom: chartH - 36, t0: at[0], t1: at[len(at)-1]}
	span := g.t1.Sub(g.t0).Seconds()
	if span <= 0 {
		c.Empty = oneInstant
		return c, chartGeom{}, false
	}
	peak := 0
	for _, n := range counts {
		peak = max(peak, n)
	}
	var step int
	g.ymax, step = axis(peak)
	path := fmt.Sprintf("M%v %v", g.x(at[0]), g.y(counts[0]))
	for i := 1; i < len(at); i++ {
		path += fmt.Sprintf(" H%v V%v", g.x(at[i]), g.y(counts[i]))
	}
	c.Path = path
	c.Area = path + fmt.Sprintf(" V%v H%v Z", r1(g.bottom), g.x(at[0]))
	for n := 0; n <= g.ymax; n += step {
		yy := g.y(n)
		c.Grid = append(c.Grid, svgLine{g.left, yy, g.right, yy})
		c.Ticks = append(c.Ticks, svgTick{X: g.left - 6, Y: yy + 4, Label: FormatCount(n), Anchor: "end"})
	}
	// Time labels at round steps (1, 2 or 5 units, 15s, 30s, ...), not at
	// points: points bunch up where the count changes often. Each label is
	// written as precisely as the step needs, so no two are the same.
	tstep := timeStep(g.t1.Sub(g.t0))
	for d := time.Duration(0); d <= g.t1.Sub(g.t0); d += tstep {
		xx := r1(g.left + (g.right-g.left)*d.Seconds()/span)
		anchor := "middle"
		switch {
		case d == 0:
			anchor = "start"
		case xx > g.right-24:
			anchor = "end"
		}
		c.Ticks = append(c.Ticks, svgTick{X: xx, Y: g.bottom + 18, Label: "+" + tickLabel(d, tstep), Anchor: anchor})
	}
	return c, g, true
}

// maxLogMarks bounds the log-event lines drawn on the timeline.
const maxLogMarks = 4

// Compact is whether the chart is a line of text rather than a drawing.
func (c svgChart) Compact() bool { return c.Empty != "" || c.Single != "" }

// barChart draws horizontal bars, largest first. A single bar says nothing
// a sentence would not: "all 45 on :8080" (prep is "on"), or the bar's own
// label when it folds many groups of one.
func barChart(title, caption, prep string, bars []Bar) svgChart {
	c := svgChart{Title: title, Caption: caption, W: chartW}
	switch {
	case len(bars) == 0:
		c.H, c.Empty = 60, "no socket stuck in CLOSE_WAIT"
		return c
	case len(bars) == 1 && strings.HasSuffix(bars[0].Label, ", 1 each"):
		c.Single = bars[0].Label
		return c
	case len(bars) == 1:
		c.Single = fmt.Sprintf("all %s %s %s", FormatCount(bars[0].Count), prep, bars[0].Label)
		return c
	}
	row, top, labelW := 24.0, 8.0, 150.0
	c.H = r1(top*2 + row*float64(len(bars)))
	peak := 0
	for _, b := range bars {
		peak = max(peak, b.Count)
	}
	full := chartW - labelW - 70
	for i, b := range bars {
		yy := top + row*float64(i)
		w := r1(full * float64(b.Count) / float64(max(peak, 1)))
		c.Bars = append(c.Bars, svgBar{X: labelW, Y: r1(yy + 3), W: max(w, 1), H: row - 6, Class: "bar",
			Label: b.Label, Value: FormatCount(b.Count), LX: labelW - 8, LY: r1(yy + row/2 + 4),
			VX: r1(labelW + max(w, 1) + 6), VY: r1(yy + row/2 + 4), Anchor: "end"})
	}
	return c
}

// histogram draws the age distribution, bars coloured by the severity of
// their age.
func histogram(bars []Bar) svgChart {
	c := svgChart{Title: "Age distribution", W: chartW, H: chartH,
		Caption: "Stuck sockets by time in CLOSE_WAIT; amber over 5 minutes, red over 30"}
	total := 0
	for _, b := range bars {
		total += b.Count
	}
	if total == 0 {
		c.H, c.Empty = 60, "no socket stuck in CLOSE_WAIT"
		return c
	}
	if last := bars[len(bars)-1]; last.Label == "unknown" && last.Count == total {
		c.H, c.Empty = 60, "ages unknown: no capture or dump timed these sockets"
		return c
	}
	left, right, top, bottom := 48.0, chartW-16, 20.0, chartH-36
	peak := 0
	for _, b := range bars {
		peak = max(peak, b.Count)
	}
	ymax, step := axis(peak)
	slot := (right - left) / float64(len(bars))
	for n := 0; n <= ymax; n += step {
		yy := r1(bottom - (bottom-top)*float64(n)/float64(ymax))
		c.Grid = append(c.Grid, svgLine{left, yy, right, yy})
		c.Ticks = append(c.Ticks, svgTick{X: left - 6, Y: yy + 4, Label: FormatCount(n), Anchor: "end"})
	}
	for i, b := range bars {
		h := r1((bottom - top) * float64(b.Count) / float64(ymax))
		x := r1(left + slot*float64(i) + slot*0.15)
		class := cmp.Or(map[Severity]string{SeverityWarning: "bar warn", SeverityCritical: "bar crit"}[b.Level], "bar")
		c.Bars = append(c.Bars, svgBar{X: x, Y: r1(bottom - h), W: r1(slot * 0.7), H: h, Class: class,
			Label: b.Label, Value: FormatCount(b.Count), LX: r1(x + slot*0.35), LY: bottom + 18,
			VX: r1(x + slot*0.35), VY: r1(bottom - h - 5), Anchor: "middle"})
	}
	return c
}

// timeSteps are the round steps of the time axis beyond one second.
var timeSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// timeStep is the smallest round step that cuts span into at most four
// parts: 1, 2 or 5 times a power of ten below a second, a clock-like step
// above, whole days beyond timeSteps.
func timeStep(span time.Duration) time.Duration {
	need := (span + 3) / 4
	if need < time.Second {
		for p := time.Duration(1); ; p *= 10 {
			for _, f := range []time.Duration{1, 2, 5} {
				if f*p >= need {
					return f * p
				}
			}
		}
	}
	for _, s := range timeSteps {
		if s >= need {
			return s
		}
	}
	day := 24 * time.Hour
	return (need + day - 1) / day * day
}

// tickLabel writes d, a multiple of step, exactly: FormatDuration when the
// step is a whole number of seconds (its two units then suffice), else in
// the largest unit not above d with as many decimals as the step needs:
// "750ms", "1.5s", "2.25ms".
func tickLabel(d, step time.Duration) string {
	if step >= time.Second || d == 0 {
		return FormatDuration(d)
	}
	unit, name := time.Second, "s"
	switch {
	case d < time.Microsecond:
		unit, name = time.Nanosecond, "ns"
	case d < time.Millisecond:
		unit, name = time.Microsecond, "µs"
	case d < time.Second:
		unit, name = time.Millisecond, "ms"
	}
	decimals := 0
	for u := step; u < unit; u *= 10 {
		decimals++
	}
	return strconv.FormatFloat(float64(d)/float64(unit), 'f', decimals, 64) + name
}
