package dumps

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// StackItem is what bucketing needs from a record.
type StackItem struct {
	Kind, State string
	Frames      []Frame
	Extra       string // more of the key: JVM lock operations, created-by
	Member      Member
	Wait        time.Duration
	Class       Class
}

// BuildBuckets groups items, largest groups first, then in file order.
func BuildBuckets(items []StackItem) []Bucket {
	var b Bucketer
	for _, it := range items {
		b.Add(it, false)
	}
	return b.Buckets()
}

// Bucketer groups stack items as they are read, so that a dump's records
// need not be kept: memory follows the distinct stacks and one Member per
// thread or goroutine.
type Bucketer struct {
	index map[uint64]int
	bs    []Bucket
}

// Add counts it in its bucket. With clone, the bucket a new stack opens
// copies the item's strings, which may point into a line the caller
// reuses.
func (b *Bucketer) Add(it StackItem, clone bool) { b.AddHashed(StackHash(it), it, clone) }

// Has reports whether the stack whose hash is h has a bucket.
func (b *Bucketer) Has(h uint64) bool {
	_, ok := b.index[h]
	return ok
}

// AddHashed is Add for an item whose StackHash is h. An item whose bucket
// exists only adds its member, wait and deadlock class.
func (b *Bucketer) AddHashed(h uint64, it StackItem, clone bool) {
	i, ok := b.index[h]
	if !ok {
		if b.index == nil {
			b.index = map[uint64]int{}
		}
		i = len(b.bs)
		b.index[h] = i
		frames, state, class := it.Frames, it.State, it.Class
		if clone {
			frames, state = cloneFrames(frames), strings.Clone(state)
			class.Func = strings.Clone(class.Func)
		}
		b.bs = append(b.bs, Bucket{ID: fmt.Sprintf("%016x", h), Kind: it.Kind, State: state, Frames: frames, Class: class, MinWait: it.Wait, MaxWait: it.Wait})
	}
	bk := &b.bs[i]
	bk.Count += it.Member.Count
	bk.Members = append(bk.Members, it.Member)
	bk.MinWait = min(bk.MinWait, it.Wait)
	bk.MaxWait = max(bk.MaxWait, it.Wait)
	if it.Class.Activity == ActDeadlocked {
		bk.Class = it.Class
	}
}

// Buckets returns the buckets, largest first, then in file order.
func (b *Bucketer) Buckets() []Bucket {
	bs := b.bs
	slices.SortStableFunc(bs, func(a, b Bucket) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Members[0].Pos.Line, b.Members[0].Pos.Line)
	})
	return bs
}

func cloneFrames(fs []Frame) []Frame {
	out := make([]Frame, len(fs))
	for i, f := range fs {
		out[i] = f
		out[i].Func, out[i].File = strings.Clone(f.Func), strings.Clone(f.File)
		if f.Module != "" {
			out[i].Module = strings.Clone(f.Module)
		}
	}
	return out
}

// StackHash is FNV-1a (64 bits) over the grouped fields, each followed by
// a zero byte, line numbers in decimal: the bucket ID, stable across dumps
// and runs. It allocates nothing.
func StackHash(it StackItem) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	w := func(s string) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h *= prime // the zero byte: h ^ 0 == h
	}
	var num [20]byte
	w(it.Kind)
	w(it.State)
	for _, f := range it.Frames {
		w(f.Func)
		w(f.File)
		for _, c := range strconv.AppendInt(num[:0], int64(f.Line), 10) {
			h = (h ^ uint64(c)) * prime
		}
		h *= prime
	}
	w(it.Extra)
	return h
}
