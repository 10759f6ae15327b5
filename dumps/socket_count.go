package dumps

import (
	"sort"
	"time"
)

// StateCount is how many TCP sockets one snapshot of a file shows in one
// state: Sockets counts distinct sockets, Rows the lines that listed them
// (lsof lists a socket once per process and fd).
type StateCount struct {
	Snapshot int       `json:"snapshot"`
	Time     time.Time `json:"time,omitzero"`
	State    State     `json:"state"`
	Sockets  int       `json:"sockets"`
	Rows     int       `json:"rows"`
}

// socketKey identifies one socket within a snapshot: its endpoints as
// written, and its inode when the tool showed one.
type socketKey struct {
	local, remote Endpoint
	inode         uint64
}

// StateCounts counts the TCP sockets of every snapshot by state, so a
// report can say how the number of CLOSE_WAIT sockets moved over time. The
// result is sorted by snapshot, then state.
func (e *SocketEvidence) StateCounts() []StateCount {
	type bucket struct {
		snap  int
		state State
	}
	rows := map[bucket]int{}
	seen := map[bucket]map[socketKey]bool{}
	times := map[int]time.Time{}
	for _, s := range e.Sockets {
		if s.Proto != ProtoTCP {
			continue
		}
		b := bucket{s.Snapshot, s.State}
		rows[b]++
		if seen[b] == nil {
			seen[b] = map[socketKey]bool{}
		}
		seen[b][socketKey{s.Local, s.Remote, s.Inode}] = true
		times[s.Snapshot] = s.SnapshotTime
	}
	out := make([]StateCount, 0, len(rows))
	for b, n := range rows {
		out = append(out, StateCount{Snapshot: b.snap, Time: times[b.snap], State: b.state, Sockets: len(seen[b]), Rows: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Snapshot != out[j].Snapshot {
			return out[i].Snapshot < out[j].Snapshot
		}
		return out[i].State < out[j].State
	})
	return out
}
