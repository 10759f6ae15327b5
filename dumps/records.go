package dumps

import (
	"cmp"
	"slices"
	"time"
)

// Record is a uniform view of one thread, goroutine or profile group, for
// code that treats them alike (the report, the evidence table).
type Record struct {
	Pos Pos `json:"pos"`
	// Dump is where the dump holding the record starts.
	Dump Pos `json:"dump"`
	// Kind is "thread", "vm-thread" or "goroutine".
	Kind string `json:"kind"`
	// ID is the Java thread id or goroutine id (goroutine 0 exists), -1
	// when the dump has none.
	ID   int64  `json:"id"`
	Name string `json:"name,omitempty"`
	// State is the java.lang.Thread.State (the header status for VM
	// threads) or the goroutine wait reason; empty for profile groups.
	State string `json:"state,omitempty"`
	// Wait is the blocked time the dump states, 0 when none.
	Wait time.Duration `json:"wait_ns,omitempty"`
	// Count is how many goroutines the record stands for: 1, or the size
	// of a profile group.
	Count  int     `json:"count"`
	Frames []Frame `json:"frames"`
	Class  Class   `json:"class"`
}

// Records lists every thread, goroutine and profile group of the evidence,
// in file order: JVM dumps, then goroutine dumps, then profiles.
func (e *DumpEvidence) Records() []Record {
	var rs []Record
	for _, d := range e.ThreadDumps {
		for _, t := range d.Threads {
			state := t.State
			if state == "" {
				state = t.Status
			}
			id := t.ID
			if id == 0 {
				id = -1 // Java thread ids start at 1
			}
			rs = append(rs, Record{Pos: t.Pos, Dump: d.Pos, Kind: t.Kind(), ID: id, Name: t.Name, State: state, Count: 1, Frames: t.Frames, Class: t.Class})
		}
	}
	for _, d := range e.GoroutineDumps {
		for _, g := range d.Goroutines {
			rs = append(rs, Record{Pos: g.Pos, Dump: d.Pos, Kind: "goroutine", ID: g.ID, State: g.State, Wait: g.Wait, Count: 1, Frames: g.Frames, Class: g.Class})
		}
		if d.Goroutines != nil {
			continue
		}
		// Read keeps a dump's buckets only: a record per bucket, at its
		// first goroutine, with its longest wait, in file order.
		from := len(rs)
		for _, b := range d.Buckets {
			id := int64(-1)
			if b.Count == 1 {
				id = b.Members[0].ID
			}
			rs = append(rs, Record{Pos: b.Members[0].Pos, Dump: d.Pos, Kind: "goroutine", ID: id, State: b.State, Wait: b.MaxWait, Count: b.Count, Frames: b.Frames, Class: b.Class})
		}
		slices.SortFunc(rs[from:], func(a, b Record) int { return cmp.Compare(a.Pos.Line, b.Pos.Line) })
	}
	for _, p := range e.GoroutineProfiles {
		for _, g := range p.Groups {
			rs = append(rs, Record{Pos: g.Pos, Dump: p.Pos, Kind: "goroutine", ID: -1, Count: g.Count, Frames: g.Frames, Class: g.Class})
		}
	}
	return rs
}

// Snapshots lists the buckets of every dump of the evidence, labelled by
// the dump's position, for CompareSeries across files: take the snapshots
// of one family (JVM dumps, or Go dumps, or Go profiles) from each file, in
// the order the dumps were taken.
func (e *DumpEvidence) Snapshots() (jvm, goroutines, profiles []Snapshot) {
	for _, d := range e.ThreadDumps {
		jvm = append(jvm, Snapshot{Label: d.Pos.String(), Time: d.Time, Buckets: d.Buckets})
	}
	for _, d := range e.GoroutineDumps {
		goroutines = append(goroutines, Snapshot{Label: d.Pos.String(), Buckets: d.Buckets})
	}
	for _, p := range e.GoroutineProfiles {
		profiles = append(profiles, Snapshot{Label: p.Pos.String(), Buckets: p.Buckets})
	}
	return jvm, goroutines, profiles
}
