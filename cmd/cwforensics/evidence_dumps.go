package main

import (
	"strconv"
	"strings"
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
// library involved), top (the first frame's function) and app (the first
// frame outside the Go standard library and the JDK, see dumps.AppFrame).
func dumpTable(evs []*dumps.Evidence) *table {
	t := &table{header: []string{"source", "kind", "id", "name", "state", "wait", "count", "frames", "activity", "pool", "top", "app"}}
	for _, ev := range evs {
		for _, r := range ev.Records() {
			t.add(r.Pos.String(), r.Kind, optID(r.ID), r.Name, r.State, seconds(r.Wait), strconv.Itoa(r.Count), strconv.Itoa(len(r.Frames)),
				r.Class.Activity.String(), r.Class.Pool, topFunc(r.Frames), appFunc(r.Frames))
		}
	}
	if len(t.rows) == 0 {
		return nil
	}
	return t
}

func optID(id int64) string {
	if id < 0 {
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

// bucketTable is the table of stack groups (buckets) of every dump, largest
// first, for people (the table format): one row per group with how many
// threads or goroutines share the stack. Nil when there are no dumps.
func bucketTable(evs []*dumps.Evidence) *table {
	t := &table{header: []string{"dump", "group", "kind", "state", "count", "max_wait", "activity", "pool", "top", "app"}}
	add := func(pos dumps.Pos, bs []dumps.Bucket) {
		for _, b := range bs {
			t.add(pos.String(), b.ID, b.Kind, b.State, strconv.Itoa(b.Count), seconds(b.MaxWait), b.Class.Activity.String(), b.Class.Pool, topFunc(b.Frames), appFunc(b.Frames))
		}
	}
	for _, ev := range evs {
		for _, d := range ev.ThreadDumps {
			add(d.Pos, d.Buckets)
		}
		for _, d := range ev.GoroutineDumps {
			add(d.Pos, d.Buckets)
		}
		for _, p := range ev.GoroutineProfiles {
			add(p.Pos, p.Buckets)
		}
	}
	if len(t.rows) == 0 {
		return nil
	}
	return t
}

// seriesTable follows the stack groups across the dumps of each file that
// holds several (table format only). Nil when no file does.
func seriesTable(evs []*dumps.Evidence) *table {
	t := &table{header: []string{"file", "group", "status", "counts", "kind", "state", "activity", "pool", "top", "app"}}
	for _, ev := range evs {
		for _, s := range ev.Series {
			counts := make([]string, len(s.Counts))
			for i, c := range s.Counts {
				counts[i] = strconv.Itoa(c)
			}
			t.add(ev.File, s.ID, s.Status.String(), strings.Join(counts, ","), s.Kind, s.State, s.Class.Activity.String(), s.Class.Pool, topFunc(s.Frames), appFunc(s.Frames))
		}
	}
	if len(t.rows) == 0 {
		return nil
	}
	return t
}

func appFunc(fs []dumps.Frame) string {
	if i := dumps.AppFrame(fs); i >= 0 {
		return fs[i].Func
	}
	return ""
}
