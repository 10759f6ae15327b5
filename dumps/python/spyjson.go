package python

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/cwforensics/cwforensics/dumps"
)

// spyTrace is one thread of `py-spy dump --json`: an array of these.
type spyTrace struct {
	PID         int        `json:"pid"`
	ThreadID    uint64     `json:"thread_id"`
	ThreadName  *string    `json:"thread_name"`
	OSThreadID  *int64     `json:"os_thread_id"`
	Active      bool       `json:"active"`
	OwnsGIL     bool       `json:"owns_gil"`
	Frames      []spyFrame `json:"frames"`
	ProcessInfo *struct {
		CommandLine string `json:"command_line"`
	} `json:"process_info"`
}

type spyFrame struct {
	Name     string  `json:"name"`
	Filename string  `json:"filename"`
	Module   *string `json:"module"` // set for native frames: the binary
	Line     int     `json:"line"`
}

// isSpyJSON recognises py-spy's JSON: an array whose first object has a
// "thread_id" or "pid" key and, within the head, "owns_gil".
func isSpyJSON(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) == 0 || t[0] != '[' {
		return false
	}
	t = bytes.TrimLeft(t[1:], " \t\r\n")
	return len(t) > 0 && t[0] == '{' && bytes.Contains(head, []byte(`"owns_gil"`)) && bytes.Contains(head, []byte(`"thread_id"`))
}

// ReadSpyJSON reads `py-spy dump --json` output: one dump of the process,
// its threads' frames most recent first. Native frames (--native) keep
// their binary as File. A cut file gives the threads before the cut and a
// warning; only I/O failures are errors.
func ReadSpyJSON(r io.Reader, name string) (*dumps.ThreadDump, dumps.RuntimeProcess, []dumps.Warning, error) {
	var traces []spyTrace
	var warns []dumps.Warning
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil { // [
		w := dumps.Warning{Pos: dumps.Pos{File: name}, Msg: fmt.Sprintf("py-spy JSON: %v", err)}
		return nil, dumps.RuntimeProcess{}, []dumps.Warning{w}, nil
	}
	for dec.More() {
		var tr spyTrace
		if err := dec.Decode(&tr); err != nil {
			// A cut file: the threads before the cut are kept.
			warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name}, Msg: fmt.Sprintf("py-spy JSON cut or malformed after %d threads: %v", len(traces), err)})
			break
		}
		traces = append(traces, tr)
	}
	if len(traces) == 0 {
		return nil, dumps.RuntimeProcess{}, warns, nil
	}
	d := &dumps.ThreadDump{Pos: dumps.Pos{File: name}, Runtime: "python", SMRLength: -1, JNIGlobalRefs: -1, ReportedDeadlockCount: -1}
	p := dumps.RuntimeProcess{Pos: dumps.Pos{File: name}, Runtime: "python"}
	for _, tr := range traces {
		if d.PID == 0 {
			d.PID, p.PID = tr.PID, tr.PID
		}
		if tr.ProcessInfo != nil && p.Command == "" {
			p.Command = dumps.Bound(tr.ProcessInfo.CommandLine)
		}
		t := dumps.Thread{Pos: dumps.Pos{File: name}, NID: "0x" + strconv.FormatUint(tr.ThreadID, 16), Status: "idle"}
		if tr.ThreadName != nil {
			t.Name = dumps.Bound(*tr.ThreadName)
		}
		if tr.OSThreadID != nil {
			t.ID = *tr.OSThreadID
		}
		if tr.Active {
			t.Status = "active"
		}
		t.Frames = make([]dumps.Frame, 0, len(tr.Frames))
		for _, f := range tr.Frames {
			if f.Module != nil && *f.Module != "" {
				t.Frames = append(t.Frames, dumps.Frame{Func: dumps.Bound(f.Name), File: dumps.Bound(*f.Module), Native: true})
				continue
			}
			t.Frames = append(t.Frames, frame(dumps.Bound(f.Filename), strconv.Itoa(f.Line), dumps.Bound(f.Name)))
		}
		d.Threads = append(d.Threads, t)
	}
	dumps.FinishThreadDump(d)
	return d, p, warns, nil
}
