package jvm

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

// TestConformanceJstack checks every jstack file: the Java thread count
// equals the SMR list length, and our deadlock cycles equal the JVM's.
func TestConformanceJstack(t *testing.T) {
	// From conformance/README.md: SMR length and "Found N deadlock(s)".
	smr := map[string]int{
		"dumpling_openjdk-11.0.2.log": 10, "tda_jstack_dump_jdk21.log": 12, "jthreaddump_deadlock.txt": 16,
		"jthreaddump_three-way-deadlock.txt": 35, "jthreaddump_thread-pool.txt": 45, "jthreaddump_many-virtual-threads.txt": 35,
		"jthreaddump_socket-io_dump-4.txt": 23, "jthreaddump_io-stall_dump-0.txt": 25,
	}
	deadlocks := map[string]int{
		"dumpling_deadlock.log": 1, "jthreaddump_deadlock.txt": 1, "jthreaddump_three-way-deadlock.txt": 3,
		"jthreaddump_thread-pool.txt": 3, "jthreaddump_many-virtual-threads.txt": 3,
	}
	files, _ := filepath.Glob(conf + "jstack/*")
	if len(files) != 18 {
		t.Fatalf("found %d jstack files, want 18", len(files))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			ev, err := chain().Read(bytes.NewReader(readTestFile(t, path)), name)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != dumps.KindJstack || len(ev.ThreadDumps) != 1 {
				t.Fatalf("kind %s, %d dumps; want one jstack dump", ev.Kind, len(ev.ThreadDumps))
			}
			if len(ev.Warnings) > 0 {
				t.Errorf("warnings: %v", ev.Warnings)
			}
			d := ev.ThreadDumps[0]
			java := 0
			for _, th := range d.Threads {
				if !th.VM {
					java++
				}
			}
			if d.SMRLength != max(smr[name], -1) && !(smr[name] == 0 && d.SMRLength == -1) {
				t.Errorf("SMR length %d, README says %d", d.SMRLength, smr[name])
			}
			if d.SMRLength >= 0 && java != d.SMRLength {
				t.Errorf("%d Java threads, SMR info says %d", java, d.SMRLength)
			}
			want, ok := deadlocks[name]
			if !ok {
				want = -1
			}
			if d.ReportedDeadlockCount != want || (want > 0 && len(d.ReportedDeadlocks) != want) {
				t.Errorf("JVM reports %d deadlocks (%d sections), README says %d", d.ReportedDeadlockCount, len(d.ReportedDeadlocks), want)
			}
			if want > 0 || len(d.Deadlocks) > 0 {
				if diff := cmp.Diff(cycleSet(d.ReportedDeadlocks), cycleSet(d.Deadlocks)); diff != "" {
					t.Errorf("our deadlock cycles differ from the JVM's (-jvm +ours):\n%s", diff)
				}
				// The JVM lists the threads it walked into a cycle through; we
				// list every thread blocked by it.
				for i, r := range d.ReportedDeadlocks {
					for _, b := range r.Blocked {
						if !slices.ContainsFunc(d.Deadlocks, func(c dumps.Deadlock) bool { return slices.Contains(c.Blocked, b) }) {
							t.Errorf("reported deadlock %d: %q waits into the cycle; we do not say so", i+1, b)
						}
					}
				}
			}
		})
	}
}

func cycleSet(ds []dumps.Deadlock) []string {
	var out []string
	for _, d := range ds {
		out = append(out, strings.Join(d.Threads, " -> "))
	}
	slices.Sort(out)
	return out
}
