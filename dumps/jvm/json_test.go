package jvm

import (
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

// jvmJSONSample is written by hand in the shape of jcmd Thread.dump_to_file
// -format=json (JDK 24+ fields: state, virtual, carrier, parkBlocker,
// blockedOn, monitorsOwned), since this machine's JDK 17 cannot write one.
// Two threads deadlock on two monitors; a virtual thread waits in a socket read.
const jvmJSONSample = `{
  "threadDump": {
    "processId": "4242",
    "time": "2025-01-02T03:04:05.123456Z",
    "runtimeVersion": "24+36",
    "threadContainers": [
      {
        "container": "<root>",
        "parent": null,
        "owner": null,
        "threads": [
          {
            "tid": "21",
            "name": "A",
            "state": "BLOCKED",
            "blockedOn": "java.lang.Object@1a2b",
            "monitorsOwned": [{"depth": 1, "locks": ["java.lang.Object@3c4d"]}],
            "stack": [
              "app//demo.Main.left(Main.java:10)",
              "app//demo.Main.run(Main.java:5)",
              "java.base/java.lang.Thread.run(Thread.java:1583)"
            ]
          },
          {
            "tid": "22",
            "name": "B",
            "state": "BLOCKED",
            "blockedOn": "java.lang.Object@3c4d",
            "monitorsOwned": [{"depth": 0, "locks": ["java.lang.Object@1a2b"]}],
            "stack": [
              "app//demo.Main.right(Main.java:20)",
              "java.base/java.lang.Thread.run(Thread.java:1583)"
            ]
          }
        ],
        "threadCount": "2"
      },
      {
        "container": "java.util.concurrent.ThreadPerTaskExecutor@5e6f",
        "parent": "<root>",
        "owner": null,
        "threads": [
          {
            "tid": "30",
            "name": "",
            "state": "RUNNABLE",
            "virtual": true,
            "carrier": "25",
            "stack": [
              "java.base/sun.nio.ch.Net.poll(Native Method)",
              "java.base/sun.nio.ch.NioSocketImpl.park(NioSocketImpl.java:191)",
              "java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:309)",
              "java.base/java.lang.invoke.LambdaForm$DMH/0x00007f0001234400.invokeVirtual(LambdaForm$DMH)",
              "bad frame"
            ]
          }
        ],
        "threadCount": "1"
      }
    ]
  }
}`

func TestReadJSON(t *testing.T) {
	d, warns, err := ReadJSON(strings.NewReader(jvmJSONSample), "dump.json")
	if err != nil {
		t.Fatal(err)
	}
	if d.PID != 4242 || d.VM != "24+36" || len(d.Threads) != 3 {
		t.Fatalf("pid %d vm %q threads %d", d.PID, d.VM, len(d.Threads))
	}
	if when, ok := d.When(); !ok || when.Year() != 2025 {
		t.Errorf("When() = %v, %t", when, ok)
	}
	if diff := cmp.Diff([]dumps.Warning{{Pos: dumps.Pos{File: "dump.json"}, Msg: `thread "": bad stack frame "bad frame"`}}, warns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if len(d.Deadlocks) != 1 || !cmp.Equal(d.Deadlocks[0].Threads, []string{"A", "B"}) {
		t.Errorf("deadlocks %v, want A <-> B", d.Deadlocks)
	}
	v := d.Threads[2]
	if !v.Virtual || v.ID != 30 || v.Container == "" || v.Class.Activity != dumps.ActSocketRead {
		t.Errorf("virtual thread %+v", v)
	}
	if f := v.Frames[3]; f.Func != "java.lang.invoke.LambdaForm$DMH/0x00007f0001234400.invokeVirtual" || f.Module != "java.base" {
		t.Errorf("hidden class frame %+v", f)
	}
	if f := d.Threads[0].Frames[0]; f != (dumps.Frame{Func: "demo.Main.left", File: "Main.java", Line: 10, Module: "app"}) {
		t.Errorf("frame %+v", f)
	}
	if _, _, err := ReadJSON(strings.NewReader("{"), "x.json"); err == nil {
		t.Error("truncated JSON: no error")
	}
	if k, _ := chain().Sniff([]byte(jvmJSONSample)); k != dumps.KindJVMJSON {
		t.Errorf("Sniff = %s, want jvm-json", k)
	}
}
