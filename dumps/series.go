package dumps

import (
	"cmp"
	"slices"
)

// SeriesStatus says how a stack group behaves across a series of dumps.
type SeriesStatus uint8

// Statuses of a stack group in a series. The zero value means unknown.
const (
	SeriesUnknown      SeriesStatus = iota // unknown
	SeriesGrowing                          // growing
	SeriesPersistent                       // persistent
	SeriesNew                              // new
	SeriesIntermittent                     // intermittent
	SeriesGone                             // gone
)

var seriesNames = [...]string{"unknown", "growing", "persistent", "new", "intermittent", "gone"}

func (s SeriesStatus) String() string {
	if int(s) < len(seriesNames) {
		return seriesNames[s]
	}
	return "SeriesStatus(" + itoa(int(s)) + ")"
}

// MarshalText makes a SeriesStatus appear by name in JSON.
func (s SeriesStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Snapshot is one dump of a series, reduced to its buckets. Label names it
// in output ("jstack.txt:3"); Time is the dump's time as printed, if any.
type Snapshot struct {
	Label   string
	Time    string
	Buckets []Bucket
}

// SeriesGroup is one stack group (bucket ID) followed across a series:
// Counts[i] is how many threads or goroutines had that stack in snapshot i.
//
//   - growing: in every snapshot, never fewer than before, more at the end
//     than at the start: a leak in progress;
//   - persistent: in every snapshot (a stack that does not move is a prime
//     suspect when it holds a connection);
//   - new: absent from the first snapshot, present in the last;
//   - gone: present in the first, absent from the last;
//   - intermittent: anything else.
type SeriesGroup struct {
	ID     string       `json:"id"`
	Status SeriesStatus `json:"status"`
	Kind   string       `json:"kind"`
	State  string       `json:"state,omitempty"`
	Counts []int        `json:"counts"`
	Frames []Frame      `json:"frames"`
	Class  Class        `json:"class"`
}

// CompareSeries follows every bucket across snapshots, in the order given
// (oldest first). Groups come out growing first, then persistent, new,
// intermittent and gone, larger last counts first. With fewer than two
// snapshots there is no series and the result is nil.
func CompareSeries(snaps []Snapshot) []SeriesGroup {
	if len(snaps) < 2 {
		return nil
	}
	index := map[string]int{}
	var gs []SeriesGroup
	for si, s := range snaps {
		for _, b := range s.Buckets {
			i, ok := index[b.ID]
			if !ok {
				i = len(gs)
				index[b.ID] = i
				gs = append(gs, SeriesGroup{ID: b.ID, Kind: b.Kind, State: b.State, Counts: make([]int, len(snaps)), Frames: b.Frames, Class: b.Class})
			}
			gs[i].Counts[si] += b.Count
			if b.Class.Activity == ActDeadlocked {
				gs[i].Class = b.Class
			}
		}
	}
	for i := range gs {
		gs[i].Status = seriesStatus(gs[i].Counts)
	}
	slices.SortStableFunc(gs, func(a, b SeriesGroup) int {
		if c := cmp.Compare(a.Status, b.Status); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Counts[len(b.Counts)-1], a.Counts[len(a.Counts)-1]); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return gs
}

func seriesStatus(counts []int) SeriesStatus {
	first, last := counts[0], counts[len(counts)-1]
	all, rising := true, true
	for i, c := range counts {
		if c == 0 {
			all = false
		}
		if i > 0 && c < counts[i-1] {
			rising = false
		}
	}
	switch {
	case all && rising && last > first:
		return SeriesGrowing
	case all:
		return SeriesPersistent
	case first == 0 && last > 0:
		return SeriesNew
	case first > 0 && last == 0:
		return SeriesGone
	}
	return SeriesIntermittent
}
