package report

import (
	"slices"
	"testing"
	"time"
)

// TestTimelineTickLabelsDistinct checks that the time axis never prints the
// same label twice, whatever the capture span, and that its labels grow.
func TestTimelineTickLabelsDistinct(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var spans []time.Duration
	for _, base := range []time.Duration{time.Millisecond, time.Second, time.Minute, time.Hour, 24 * time.Hour} {
		for _, f := range []float64{1, 1.3, 1.5, 2, 2.5, 3, 4.5, 7, 9.99, 13, 37, 59, 61, 99, 150} {
			spans = append(spans, time.Duration(float64(base)*f))
		}
	}
	spans = append(spans, 1500*time.Millisecond, 90*time.Second, 5*time.Second+time.Millisecond, 3*time.Millisecond)
	for _, span := range spans {
		m := &Model{Timeline: []Point{{At: t0, Count: 1}, {At: t0.Add(span / 3), Count: 4}, {At: t0.Add(span), Count: 9}}}
		c := timelineChart(m)
		var labels []string
		var xs []float64
		for _, tk := range c.Ticks {
			if tk.Y == chartH-36+18 { // the time axis, below the plot
				labels = append(labels, tk.Label)
				xs = append(xs, tk.X)
			}
		}
		if len(labels) < 2 {
			t.Errorf("span %v: %d time labels %q, want at least 2", span, len(labels), labels)
			continue
		}
		if d := slices.Compact(slices.Clone(labels)); len(d) != len(labels) {
			t.Errorf("span %v: repeated time labels %q", span, labels)
		}
		if !slices.IsSorted(xs) || xs[0] != 48 || xs[len(xs)-1] > chartW-16 {
			t.Errorf("span %v: tick positions %v not increasing within the plot", span, xs)
		}
	}
}

func TestTickLabel(t *testing.T) {
	for _, tt := range []struct {
		span time.Duration
		want []string
	}{
		{1500 * time.Millisecond, []string{"0s", "500ms", "1.0s", "1.5s"}},
		{3 * time.Millisecond, []string{"0s", "1ms", "2ms", "3ms"}},
		{15 * time.Minute, []string{"0s", "5m00s", "10m00s", "15m00s"}},
		{90 * time.Second, []string{"0s", "30s", "1m00s", "1m30s"}},
		{50 * time.Hour, []string{"0s", "1d00h", "2d00h"}},
		{7 * time.Second / 2, []string{"0s", "1s", "2s", "3s"}},
	} {
		step := timeStep(tt.span)
		var got []string
		for d := time.Duration(0); d <= tt.span; d += step {
			got = append(got, tickLabel(d, step))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("span %v: labels %q, want %q", tt.span, got, tt.want)
		}
	}
}
