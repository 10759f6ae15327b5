package main

import (
	"strconv"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// dumpTable is the table of threads and goroutines, or nil when there are
// none: one row per JVM thread or goroutine of a full dump, one per stack
// group of an aggregated profile (debug=1, debug=0). The first eight
// columns are stable (docs/dumps.md):
//
//	source   file:line of the thread or goroutine header (the file for
//	         records without lines: JSON thread dumps, debug=0 profiles)
//	kind     goroutine, thread (a Java thread) or vm-thread (JVM-internal)
//	id       Java thread id or goroutine id; empty when the dump has none
//	name     thread name; empty for goroutines
//	state    java.lang.Thread.State (header status for VM threads) or the
//	         goroutine wait reason
//	wait     blocked time in seconds as the dump states it, 0 when none
//	count    goroutines the row stands for (1 for a full dump)
//	frames   stack frames listed, not counting "created by"
//
// then activity (the classifier's verdict), pool (the pool or client
// library involved) and top (the first frame's function).
func dumpTable(evs []*dumps.Evidence) *table {
	t := &table{header: []string{"source", "kind", "id", "name", "state", "wait", "count", "frames", "activity", "pool", "top"}}
	for _, ev := range evs {
		for _, d := range ev.ThreadDumps {
			for _, th := range d.Threads {
				state := th.State
				if state == "" {
					state = th.Status
				}
				t.add(th.Pos.String(), th.Kind(), optID(th.ID), th.Name, state, "0", "1", strconv.Itoa(len(th.Frames)),
					th.Class.Activity.String(), th.Class.Pool, topFunc(th.Frames))
			}
		}
		for _, d := range ev.GoroutineDumps {
			for _, g := range d.Goroutines {
				t.add(g.Pos.String(), "goroutine", strconv.FormatInt(g.ID, 10), "", g.State, seconds(g.Wait), "1", strconv.Itoa(len(g.Frames)),
					g.Class.Activity.String(), g.Class.Pool, topFunc(g.Frames))
			}
		}
		for _, p := range ev.GoroutineProfiles {
			for _, g := range p.Groups {
				t.add(g.Pos.String(), "goroutine", "", "", "", "0", strconv.Itoa(g.Count), strconv.Itoa(len(g.Frames)),
					g.Class.Activity.String(), g.Class.Pool, topFunc(g.Frames))
			}
		}
	}
	if len(t.rows) == 0 {
		return nil
	}
	return t
}

func optID(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

func topFunc(fs []dumps.Frame) string {
	if len(fs) == 0 {
		return ""
	}
	return fs[0].Func
}
