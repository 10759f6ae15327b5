package jvm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// The JSON of jcmd PID Thread.dump_to_file -format=json (JDK 21+). Numbers
// are written as strings; JDK 24+ adds state, virtual, carrier and the lock
// fields.
type jvmJSON struct {
	ThreadDump struct {
		ProcessID        jsonString `json:"processId"`
		Time             string     `json:"time"`
		RuntimeVersion   string     `json:"runtimeVersion"`
		ThreadContainers []struct {
			Container string          `json:"container"`
			Threads   []jvmJSONThread `json:"threads"`
		} `json:"threadContainers"`
	} `json:"threadDump"`
}

type jvmJSONThread struct {
	TID         jsonString `json:"tid"`
	Name        string     `json:"name"`
	State       string     `json:"state"`
	Virtual     bool       `json:"virtual"`
	Carrier     jsonString `json:"carrier"`
	Stack       []string   `json:"stack"`
	BlockedOn   string     `json:"blockedOn"`
	WaitingOn   string     `json:"waitingOn"`
	ParkBlocker *struct {
		Object string `json:"object"`
	} `json:"parkBlocker"`
	MonitorsOwned []struct {
		Depth int      `json:"depth"`
		Locks []string `json:"locks"`
	} `json:"monitorsOwned"`
}

// jsonString accepts a JSON string or number.
type jsonString string

func (s *jsonString) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = jsonString(v)
		return nil
	}
	*s = jsonString(b)
	return nil
}

// ReadJSON parses the JSON thread dump of jcmd PID Thread.dump_to_file
// -format=json (JDK 21+). Virtual threads are listed with the platform
// threads. A file that is not such JSON is an error; an unreadable frame or
// id is a Warning. Positions are the file (JSON has no useful lines).
func ReadJSON(r io.Reader, name string) (*dumps.ThreadDump, []dumps.Warning, error) {
	var doc jvmJSON
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("%s: not a JSON thread dump: %w", name, err)
	}
	td := doc.ThreadDump
	var warns []dumps.Warning
	warn := func(format string, args ...any) {
		warns = append(warns, dumps.Warning{Pos: dumps.Pos{File: name}, Msg: fmt.Sprintf(format, args...)})
	}
	d := newThreadDump(dumps.Pos{File: name})
	d.Time, d.VM = td.Time, td.RuntimeVersion
	if td.ProcessID != "" {
		pid, err := strconv.Atoi(string(td.ProcessID))
		if err != nil {
			warn("bad processId %q", td.ProcessID)
		}
		d.PID = pid
	}
	for _, c := range td.ThreadContainers {
		for _, jt := range c.Threads {
			t := dumps.Thread{Pos: dumps.Pos{File: name}, Name: jt.Name, State: jt.State, Virtual: jt.Virtual, Container: c.Container}
			if jt.TID != "" {
				id, err := strconv.ParseInt(string(jt.TID), 10, 64)
				if err != nil {
					warn("thread %q: bad tid %q", jt.Name, jt.TID)
				}
				t.ID = id
			}
			for _, s := range jt.Stack {
				f, err := parseStackTraceElement(s)
				if err != nil {
					warn("thread %q: %v", jt.Name, err)
					continue
				}
				t.Frames = append(t.Frames, f)
			}
			if jt.BlockedOn != "" {
				t.Locks = append(t.Locks, jsonLock(dumps.LockWaitEnter, jt.BlockedOn, 0))
			}
			if jt.WaitingOn != "" {
				t.Locks = append(t.Locks, jsonLock(dumps.LockWaitOn, jt.WaitingOn, 0))
			}
			if jt.ParkBlocker != nil && jt.ParkBlocker.Object != "" {
				t.Locks = append(t.Locks, jsonLock(dumps.LockParked, jt.ParkBlocker.Object, 0))
			}
			for _, m := range jt.MonitorsOwned {
				for _, l := range m.Locks {
					t.Locks = append(t.Locks, jsonLock(dumps.LockHeld, l, m.Depth))
				}
			}
			finishThread(&t)
			t.VM = false // the JSON dump lists Java threads only
			d.Threads = append(d.Threads, t)
		}
	}
	dumps.FinishThreadDump(d)
	return d, warns, nil
}

func jsonLock(op dumps.LockOp, obj string, frame int) dumps.Lock {
	l := dumps.Lock{Op: op, Addr: obj, Frame: frame}
	if at := strings.LastIndexByte(obj, '@'); at > 0 {
		l.Class = obj[:at]
	}
	return l
}

// parseStackTraceElement parses StackTraceElement.toString():
// "java.base/java.lang.Object.wait0(Native Method)",
// "app//com.example.Main.main(Main.java:12)".
func parseStackTraceElement(s string) (dumps.Frame, error) {
	open := strings.IndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") {
		return dumps.Frame{}, fmt.Errorf("bad stack frame %q", dumps.Clip(s))
	}
	head := s[:open]
	mod := ""
	// The class may be a hidden class "Foo$$Lambda/0x0000...": that slash is
	// not a module separator.
	cut := strings.LastIndexByte(head, '/')
	for cut >= 0 && strings.HasPrefix(head[cut+1:], "0x") {
		cut = strings.LastIndexByte(head[:cut], '/')
	}
	if cut >= 0 {
		mod, head = strings.Trim(head[:cut], "/"), head[cut+1:]
	}
	f, err := parseJavaFrame(head + s[open:])
	if err != nil {
		return dumps.Frame{}, err
	}
	if f.Module == "" {
		f.Module = mod
	}
	return f, nil
}
