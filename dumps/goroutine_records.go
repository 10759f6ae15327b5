package dumps

import "time"

// GoroutineDump is one full Go goroutine dump: debug=2, runtime.Stack(buf,
// true), a SIGQUIT or panic traceback, alone or inside a log, test output or
// a `go test -json` stream.
type GoroutineDump struct {
	// Pos is the line of the first goroutine header (or of the panic
	// message before it).
	Pos Pos `json:"pos"`
	// Panic is the "panic: ..." or "fatal error: ..." message printed before
	// the goroutines, if any.
	Panic string `json:"panic,omitempty"`
	// Goroutines are the goroutines one by one, kept by
	// golang.ReadGoroutines; a Chain's Read, which analyze uses, keeps only
	// the Buckets.
	Goroutines []Goroutine `json:"goroutines,omitempty"`
	Buckets    []Bucket    `json:"buckets"`
}

// Total is the number of goroutines in the dump.
func (d *GoroutineDump) Total() int {
	n := 0
	for _, b := range d.Buckets {
		n += b.Count
	}
	return n
}

// Goroutine is one goroutine of a dump.
type Goroutine struct {
	Pos Pos   `json:"pos"`
	ID  int64 `json:"id"`
	// State is the wait reason ("IO wait", "chan receive", "running").
	State string `json:"state"`
	// Wait is how long the goroutine has been blocked, from "[..., 12
	// minutes]"; the runtime prints it only from one minute on.
	Wait           time.Duration `json:"wait_ns,omitempty"`
	LockedToThread bool          `json:"locked_to_thread,omitempty"`
	// Flags are the other words of the header: "leaked", "scan",
	// "durable", "synctest bubble 3".
	Flags []string `json:"flags,omitempty"`
	// Leaked is set for a goroutine the runtime found leaked (Go 1.26
	// goroutine leak detection: "[chan receive (leaked)]").
	Leaked bool `json:"leaked,omitempty"`
	// Labels are the pprof labels the header prints with
	// GODEBUG=tracebacklabels=1, sorted by key.
	Labels []Label `json:"labels,omitempty"`
	Frames []Frame `json:"frames"`
	// FramesElided is set when the runtime cut the stack
	// ("...additional frames elided...").
	FramesElided bool `json:"frames_elided,omitempty"`
	// CreatedBy is the go statement that started the goroutine, and
	// CreatorID the goroutine that ran it (Go 1.21+; 0 when not printed).
	CreatedBy *Frame `json:"created_by,omitempty"`
	CreatorID int64  `json:"creator_id,omitempty"`
	// Ancestors are the "[originating from goroutine N]" stacks printed with
	// GODEBUG=tracebackancestors, nearest first.
	Ancestors []Ancestor `json:"ancestors,omitempty"`
	Class     Class      `json:"class"`
}

// Ancestor is the stack of a goroutine that created another one.
type Ancestor struct {
	Pos       Pos     `json:"pos"`
	ID        int64   `json:"id"`
	Frames    []Frame `json:"frames"`
	CreatedBy *Frame  `json:"created_by,omitempty"`
}

// GoroutineProfile is an aggregated goroutine profile: the debug=1 text
// ("goroutine profile: total K") or the debug=0 protobuf. Goroutines with
// the same stack are one Group with a count; the profile has no ids, states
// or wait times.
type GoroutineProfile struct {
	Pos Pos `json:"pos"`
	// Total is the goroutine count the profile states (the debug=1 header;
	// the sum of the sample values for debug=0).
	Total  int            `json:"total"`
	Groups []ProfileGroup `json:"groups"`
	// Buckets groups the groups by stack; debug=1 can list one stack
	// several times with different labels.
	Buckets []Bucket `json:"buckets"`
}

// ProfileGroup is one stack of a profile and how many goroutines have it.
type ProfileGroup struct {
	Pos    Pos     `json:"pos"`
	Count  int     `json:"count"`
	Frames []Frame `json:"frames"`
	// Labels are the pprof labels, sorted by key.
	Labels []Label `json:"labels,omitempty"`
	Class  Class   `json:"class"`
}

// Label is one pprof label.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}
