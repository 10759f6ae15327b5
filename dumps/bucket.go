package dumps

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"
)

// Bucket is a group of threads or goroutines with identical stacks: the
// same kind, state, frames (function, file, line) and, for JVM threads, the
// same lock operations on the same lock classes. Addresses, ids, names, cpu=
// and elapsed= are left out, so the same stack has the same ID in every dump
// of a series.
type Bucket struct {
	// ID is 16 hex digits of a hash of the grouped fields, stable across
	// dumps and runs.
	ID     string  `json:"id"`
	Kind   string  `json:"kind"`
	State  string  `json:"state,omitempty"`
	Frames []Frame `json:"frames"`
	// Count is how many threads or goroutines the bucket stands for.
	Count   int      `json:"count"`
	Members []Member `json:"members"`
	// MinWait and MaxWait bound the wait the dump states for the members
	// (Go's "[IO wait, 12 minutes]"); zero when it states none.
	MinWait time.Duration `json:"min_wait_ns,omitempty"`
	MaxWait time.Duration `json:"max_wait_ns,omitempty"`
	Class   Class         `json:"class"`
}

// Member is one thread or goroutine of a bucket, or one group of a profile.
type Member struct {
	ID    int64  `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Count int    `json:"count"`
	Pos   Pos    `json:"pos"`
}

// stackItem is what bucketing needs from a record.
type stackItem struct {
	kind, state string
	frames      []Frame
	extra       string // more of the key: JVM lock operations, created-by
	member      Member
	wait        time.Duration
	class       Class
}

// buildBuckets groups items, largest groups first, then in file order.
func buildBuckets(items []stackItem) []Bucket {
	index := map[string]int{}
	var bs []Bucket
	for _, it := range items {
		id := stackID(it)
		i, ok := index[id]
		if !ok {
			i = len(bs)
			index[id] = i
			bs = append(bs, Bucket{ID: id, Kind: it.kind, State: it.state, Frames: it.frames, Class: it.class, MinWait: it.wait, MaxWait: it.wait})
		}
		b := &bs[i]
		b.Count += it.member.Count
		b.Members = append(b.Members, it.member)
		b.MinWait = min(b.MinWait, it.wait)
		b.MaxWait = max(b.MaxWait, it.wait)
		if it.class.Activity == ActDeadlocked {
			b.Class = it.class
		}
	}
	slices.SortStableFunc(bs, func(a, b Bucket) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Members[0].Pos.Line, b.Members[0].Pos.Line)
	})
	return bs
}

func stackID(it stackItem) string {
	h := fnv.New64a()
	w := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	w(it.kind)
	w(it.state)
	for _, f := range it.frames {
		w(f.Func)
		w(f.File)
		w(strconv.Itoa(f.Line))
	}
	w(it.extra)
	return fmt.Sprintf("%016x", h.Sum64())
}
