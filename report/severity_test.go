package report

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRate(t *testing.T) {
	th := DefaultThresholds()
	tests := []struct {
		name string
		m    Measure
		want Severity
		why  []string
	}{
		{"nothing stuck", Measure{}, SeverityInfo, []string{"no socket stuck in CLOSE_WAIT"}},
		{"few and young", Measure{Count: 3, Oldest: 40 * time.Second, GrowthSpan: 5 * time.Minute}, SeverityInfo,
			[]string{"info: 3 sockets, none older than 5m00s, no sustained growth"}},
		{"count at the threshold is not over it", Measure{Count: 100}, SeverityInfo,
			[]string{"info: 100 sockets, ages unknown, growth unknown"}},
		{"descriptors ran out with a tenth of the fd limit stuck", Measure{Count: 103, FDLimit: 1024, ExhaustedLog: []Pos{linePos("app.log", 7), linePos("app.log", 9)}}, SeverityCritical,
			[]string{"warning: 103 sockets in CLOSE_WAIT is more than 100", "critical: the log says descriptors ran out (app.log:7 and 1 more) while 103 sockets in CLOSE_WAIT hold 10% of the fd limit 1,024"}},
		{"descriptors ran out, few stuck", Measure{Count: 5, FDLimit: 1024, ExhaustedLog: []Pos{linePos("app.log", 7)}}, SeverityInfo,
			[]string{"info: 5 sockets, ages unknown, growth unknown"}},
		{"descriptors ran out, limit unknown", Measure{Count: 5, ExhaustedLog: []Pos{linePos("app.log", 7)}}, SeverityWarning,
			[]string{"warning: the log says descriptors ran out (app.log:7); the fd limit is unknown"}},
		{"count over 100", Measure{Count: 101}, SeverityWarning,
			[]string{"warning: 101 sockets in CLOSE_WAIT is more than 100"}},
		{"count over half the fd limit", Measure{Count: 513, FDLimit: 1024}, SeverityCritical,
			[]string{"critical: 513 sockets in CLOSE_WAIT is more than 50% of the fd limit 1,024"}},
		{"a count that became non-zero in the capture's last second is a step, not growth", Measure{Count: 3, Oldest: 415 * time.Millisecond, Growth: 2.1, GrowthSpan: 63 * time.Second}, SeverityInfo,
			[]string{"info: 3 sockets, none older than 5m00s, no sustained growth"}},
		{"the same growth once the oldest has been stuck for the rule's minute", Measure{Count: 3, Oldest: time.Minute, Growth: 2.1, GrowthSpan: 63 * time.Second}, SeverityWarning,
			[]string{"warning: growing +2.1/min over 1m03s, at least +1.0/min"}},
		{"a large count and limit read with thousands separators", Measure{Count: 50_000, FDLimit: 65_536}, SeverityCritical,
			[]string{"critical: 50,000 sockets in CLOSE_WAIT is more than 50% of the fd limit 65,536"}},
		{"exactly half the fd limit is only the count warning", Measure{Count: 512, FDLimit: 1024}, SeverityWarning,
			[]string{"warning: 512 sockets in CLOSE_WAIT is more than 100"}},
		{"small fd limit makes a small count critical", Measure{Count: 60, FDLimit: 100}, SeverityCritical,
			[]string{"critical: 60 sockets in CLOSE_WAIT is more than 50% of the fd limit 100"}},
		{"age at 5 minutes is not over it", Measure{Count: 1, Oldest: 5 * time.Minute}, SeverityInfo,
			[]string{"info: 1 socket, none older than 5m00s, growth unknown"}},
		{"age over 5 minutes", Measure{Count: 1, Oldest: 5*time.Minute + time.Second}, SeverityWarning,
			[]string{"warning: oldest socket stuck for 5m01s, more than 5m00s"}},
		{"age over 30 minutes", Measure{Count: 1, Oldest: 31 * time.Minute}, SeverityCritical,
			[]string{"critical: oldest socket stuck for 31m00s, more than 30m00s"}},
		{"count and age both", Measure{Count: 137, Oldest: 14*time.Minute + 32*time.Second}, SeverityWarning,
			[]string{"warning: 137 sockets in CLOSE_WAIT is more than 100", "warning: oldest socket stuck for 14m32s, more than 5m00s"}},
		{"growth", Measure{Count: 10, Growth: 2, GrowthSpan: 10 * time.Minute}, SeverityWarning,
			[]string{"warning: growing +2.0/min over 10m00s, at least +1.0/min"}},
		{"slow growth", Measure{Count: 10, Growth: 0.5, GrowthSpan: 10 * time.Minute}, SeverityInfo,
			[]string{"info: 10 sockets, ages unknown, no sustained growth"}},
		{"growth over too short a span is ignored", Measure{Count: 10, Growth: 50, GrowthSpan: 30 * time.Second}, SeverityInfo,
			[]string{"info: 10 sockets, ages unknown, growth unknown"}},
		{"growth reaching half the fd limit within the hour", Measure{Count: 137, FDLimit: 1024, Growth: 9.3, GrowthSpan: 15 * time.Minute}, SeverityCritical,
			[]string{"warning: 137 sockets in CLOSE_WAIT is more than 100",
				"critical: growing +9.3/min over 15m00s: 50% of the fd limit 1,024 is reached in about 40m19s"}},
		{"growth reaching it later is a warning", Measure{Count: 10, FDLimit: 65536, Growth: 3, GrowthSpan: 15 * time.Minute}, SeverityWarning,
			[]string{"warning: growing +3.0/min over 15m00s, at least +1.0/min"}},
		{"shrinking", Measure{Count: 10, Oldest: time.Minute, Growth: -4, GrowthSpan: 15 * time.Minute}, SeverityInfo,
			[]string{"info: 10 sockets, none older than 5m00s, no sustained growth"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := Rate(th, tt.m)
			if got != tt.want {
				t.Errorf("Rate(%+v) = %v, want %v", tt.m, got, tt.want)
			}
			if diff := cmp.Diff(tt.why, why); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGrowth(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(min float64, n int) Point {
		return Point{At: t0.Add(time.Duration(min * float64(time.Minute))), Count: n}
	}
	tests := []struct {
		name string
		pts  []Point
		rate float64
		span time.Duration
	}{
		{"none", nil, 0, 0},
		{"one point", []Point{at(0, 5)}, 0, 0},
		{"same instant", []Point{at(1, 5), at(1, 9)}, 0, 0},
		{"linear", []Point{at(0, 0), at(1, 2), at(2, 4), at(3, 6)}, 2, 3 * time.Minute},
		{"unsorted", []Point{at(3, 6), at(0, 0), at(2, 4), at(1, 2)}, 2, 3 * time.Minute},
		{"flat", []Point{at(0, 7), at(5, 7), at(10, 7)}, 0, 10 * time.Minute},
		{"falling", []Point{at(0, 10), at(10, 0)}, -1, 10 * time.Minute},
		{"noisy", []Point{at(0, 0), at(1, 1), at(2, 0), at(3, 3)}, 0.8, 3 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rate, span := Growth(tt.pts)
			if math.Abs(rate-tt.rate) > 1e-9 || span != tt.span {
				t.Errorf("Growth = %v/min over %v, want %v/min over %v", rate, span, tt.rate, tt.span)
			}
		})
	}
}
