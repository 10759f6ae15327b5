package dumps

import (
	"slices"
	"strings"
)

// finishThreadDump classifies the threads, computes the deadlock cycles of
// the lock-wait graph and groups the stacks into buckets.
func finishThreadDump(d *ThreadDump) {
	for i := range d.Threads {
		d.Threads[i].Class = classifyThread(&d.Threads[i])
	}
	d.Deadlocks = lockCycles(d)
	for _, c := range d.Deadlocks {
		for _, name := range c.Threads {
			for i := range d.Threads {
				if t := &d.Threads[i]; t.Name == name && WaitedLock(t) != "" {
					t.Class.Activity, t.Class.Pool = ActDeadlocked, ""
				}
			}
		}
	}
	items := make([]StackItem, len(d.Threads))
	for i := range d.Threads {
		t := &d.Threads[i]
		items[i] = StackItem{Kind: t.Kind(), State: t.State, Frames: t.Frames, Extra: lockKey(t.Locks),
			Member: Member{ID: t.ID, Name: t.Name, Count: 1, Pos: t.Pos}, Class: t.Class}
		if t.State == "" {
			items[i].State = t.Status
		}
	}
	d.Buckets = BuildBuckets(items)
}

// lockKey is the part of a thread's locks that belongs to its stack's
// identity: the operation, the frame and the lock's class, not its address.
func lockKey(ls []Lock) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Op.String())
		b.WriteByte(' ')
		b.WriteString(itoa(l.Frame))
		b.WriteByte(' ')
		b.WriteString(l.Class)
		b.WriteByte(';')
	}
	return b.String()
}

// WaitedLock is the address of the lock the thread waits to acquire: a
// monitor it waits to enter or re-enter, or the synchronizer it parks on.
func WaitedLock(t *Thread) string {
	for _, l := range t.Locks {
		switch l.Op {
		case LockWaitEnter, LockRelock, LockParked:
			return l.Addr
		}
	}
	return ""
}

// lockCycles finds the deadlocks of a dump: each thread waits for at most
// one lock, and each lock has one owner (a "- locked" line not released by
// an Object.wait on it, or a "Locked ownable synchronizers" entry), so the
// graph thread -> owner of the lock it waits for has at most one edge out of
// every node and its cycles are found by walking it.
func lockCycles(d *ThreadDump) []Deadlock {
	owner := map[string]int{}
	for i := range d.Threads {
		t := &d.Threads[i]
		for _, l := range t.Locks {
			if l.Op == LockHeld && l.Addr != "" && !waitsOn(t, l.Addr) {
				if _, dup := owner[l.Addr]; !dup {
					owner[l.Addr] = i
				}
			}
		}
		for _, l := range t.Ownable {
			if l.Addr != "" {
				if _, dup := owner[l.Addr]; !dup {
					owner[l.Addr] = i
				}
			}
		}
	}
	next := make([]int, len(d.Threads))
	for i := range d.Threads {
		next[i] = -1
		if a := WaitedLock(&d.Threads[i]); a != "" {
			if o, ok := owner[a]; ok && o != i {
				next[i] = o
			} else if id := d.Threads[i].LockOwnerID; !ok && id != 0 {
				for j := range d.Threads {
					if d.Threads[j].ID == id && j != i {
						next[i] = j
						break
					}
				}
			}
		}
	}
	// Walk from every node; color 1 = on the current walk, 2 = done.
	color := make([]uint8, len(next))
	cycleOf := make([]int, len(next))
	for i := range cycleOf {
		cycleOf[i] = -1
	}
	var cycles []Deadlock
	for start := range next {
		var path []int
		i := start
		for i >= 0 && color[i] == 0 {
			color[i] = 1
			path = append(path, i)
			i = next[i]
		}
		if i >= 0 && color[i] == 1 {
			at := slices.Index(path, i)
			var names []string
			line := 0
			for _, j := range path[at:] {
				names = append(names, d.Threads[j].Name)
				if line == 0 || d.Threads[j].Pos.Line < line {
					line = d.Threads[j].Pos.Line
				}
			}
			for _, j := range path[at:] {
				cycleOf[j] = len(cycles)
			}
			cycles = append(cycles, Deadlock{Threads: RotateLeast(names), Pos: Pos{d.Pos.File, line}})
		}
		for _, j := range path {
			color[j] = 2
		}
	}
	// Every thread whose chain of waits ends in a cycle is blocked by it.
	for i := range next {
		seen := map[int]bool{}
		j := i
		for j >= 0 && !seen[j] && cycleOf[j] < 0 {
			seen[j] = true
			j = next[j]
		}
		if j >= 0 && cycleOf[j] >= 0 && cycleOf[i] < 0 {
			c := &cycles[cycleOf[j]]
			c.Blocked = append(c.Blocked, d.Threads[i].Name)
		}
	}
	for i := range cycles {
		slices.Sort(cycles[i].Blocked)
	}
	slices.SortStableFunc(cycles, func(a, b Deadlock) int { return a.Pos.Line - b.Pos.Line })
	return cycles
}

// waitsOn reports whether t is in Object.wait() on addr: the "- locked"
// line for that object under the wait frame names a monitor it released.
func waitsOn(t *Thread, addr string) bool {
	for _, l := range t.Locks {
		if (l.Op == LockWaitOn || l.Op == LockRelock) && l.Addr == addr {
			return true
		}
	}
	return false
}

// RotateLeast rotates a cycle so that it starts with its least name.
func RotateLeast(names []string) []string {
	if len(names) == 0 {
		return names
	}
	m := 0
	for i, n := range names {
		if n < names[m] {
			m = i
		}
	}
	return append(slices.Clone(names[m:]), names[:m]...)
}
