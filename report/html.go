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

// htmlView is the Model plus what only the HTML page needs: chart geometry
// and the evidence index that claims link to.
type htmlView struct {
	*Model
	Charts   []svgChart
	Evidence []evidenceEntry
	SockRow  map[string]int // socket key -> row index, for links
}

// evidenceEntry is one position in the evidence index and what cites it.
type evidenceEntry struct {
	Pos     string
	Anchor  string
	CitedBy []citer
}

// citer is a link to something on the page that cites a position.
type citer struct {
	Href  string // "#finding-id", "#sock-3"; built from IDs we make
	Label string // untrusted: socket keys, suspect names
}

func newHTMLView(m *Model) htmlView {
	v := htmlView{Model: m, SockRow: make(map[string]int, len(m.Sockets))}
	for i, s := range m.Sockets {
		v.SockRow[s.Key] = i
	}
	cites := map[string][]citer{}
	add := func(pos []string, c citer) {
		for _, p := range pos {
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
		for _, s := range f.Suspects {
			add(s.Evidence, citer{"#" + s.ID, s.Kind.String() + " " + s.Name})
		}
	}
	for i, s := range m.Sockets {
		add(s.Evidence, citer{fmt.Sprintf("#sock-%d", i+1), "socket " + s.Key})
	}
	for p, c := range cites {
		v.Evidence = append(v.Evidence, evidenceEntry{Pos: p, Anchor: anchor(p), CitedBy: c})
	}
	slices.SortFunc(v.Evidence, func(a, b evidenceEntry) int { return comparePos(a.Pos, b.Pos) })
	v.Charts = []svgChart{
		timelineChart(m),
		barChart("By local port", "Stuck sockets per local port", "on", m.Charts.ByLocalPort),
		barChart("By peer", "Stuck sockets per remote address", "from", m.Charts.ByPeer),
		histogram(m.Charts.AgeBuckets),
	}
	return v
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
	pts := m.Timeline
	if len(pts) < 2 {
		c.Empty = "no timeline: fewer than two points in capture time"
		return c
	}
	left, right, top, bottom := 48.0, chartW-16, 16.0, chartH-36
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	span := t1.Sub(t0).Seconds()
	if span <= 0 {
		c.Empty = "no timeline: every point is at the same instant"
		return c
	}
	peak := 0
	for _, p := range pts {
		peak = max(peak, p.Count)
	}
	ymax, step := axis(peak)
	x := func(i int) float64 { return r1(left + (right-left)*pts[i].At.Sub(t0).Seconds()/span) }
	y := func(n int) float64 { return r1(bottom - (bottom-top)*float64(n)/float64(ymax)) }
	path := fmt.Sprintf("M%v %v", x(0), y(pts[0].Count))
	for i := 1; i < len(pts); i++ {
		path += fmt.Sprintf(" H%v V%v", x(i), y(pts[i].Count))
	}
	c.Path = path
	c.Area = path + fmt.Sprintf(" V%v H%v Z", r1(bottom), x(0))
	for n := 0; n <= ymax; n += step {
		yy := y(n)
		c.Grid = append(c.Grid, svgLine{left, yy, right, yy})
		c.Ticks = append(c.Ticks, svgTick{X: left - 6, Y: yy + 4, Label: FormatCount(n), Anchor: "end"})
	}
	// Time labels at round steps (1, 2 or 5 units, 15s, 30s, ...), not at
	// points: points bunch up where the count changes often. Each label is
	// written as precisely as the step needs, so no two are the same.
	tstep := timeStep(t1.Sub(t0))
	for d := time.Duration(0); d <= t1.Sub(t0); d += tstep {
		xx := r1(left + (right-left)*d.Seconds()/span)
		anchor := "middle"
		switch {
		case d == 0:
			anchor = "start"
		case xx > right-24:
			anchor = "end"
		}
		c.Ticks = append(c.Ticks, svgTick{X: xx, Y: bottom + 18, Label: "+" + tickLabel(d, tstep), Anchor: anchor})
	}
	if th := DefaultThresholds().CountWarning; ymax > th {
		yy := y(th)
		c.Marks = append(c.Marks, svgMark{svgLine{left, yy, right, yy}, "warning: " + strconv.Itoa(th), "warn", right - 4, yy - 4})
	}
	return c
}

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
