package collect

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// procPSPrompt is the shell command whose output procPS writes, for the
// listing's prompt line: /proc/stat's boot time, then what tail prints of
// every process's stat and cmdline, each under its "==> name <==" header.
var procPSPrompt = []string{"grep", "-h", "^btime", "/proc/stat;", "tail", "-n", "+1", "/proc/[0-9]*/stat", "/proc/[0-9]*/cmdline"}

// procPS lists every process from /proc, the last fallback when no ps
// lists processes with their parents and start times (BusyBox without
// CONFIG_DESKTOP has no -o, an image may have no ps at all): the btime
// line of /proc/stat, then each process's stat line (pid, comm, state,
// ppid, starttime: its start after btime) and cmdline (its arguments, NUL
// separated), as the shell command procPSPrompt prints them, which
// analyze reads as it reads that command's output. Processes are in the
// glob's order; one that exits while it is read is left out and counted
// in gone. Only a /proc that cannot be listed, or without btime, is an
// error.
func procPS(pr Proc) (out []byte, procs, gone int, err error) {
	stat, err := pr.ReadFile("stat")
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	var btime string
	for line := range strings.Lines(string(stat)) {
		if strings.HasPrefix(line, "btime ") {
			btime = strings.TrimRight(line, "\n")
			break
		}
	}
	if btime == "" {
		return nil, 0, 0, errors.New("read /proc/stat: no btime line")
	}
	pids, err := procPIDs(pr)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("list /proc: %w", err)
	}
	slices.Sort(pids) // the glob's order, as tail gets its files
	stats := make([][]byte, len(pids))
	cmdlines := make([][]byte, len(pids))
	for i, pid := range pids {
		s, err1 := pr.ReadFile(pid + "/stat")
		c, err2 := pr.ReadFile(pid + "/cmdline")
		if err1 != nil || err2 != nil {
			gone++
			continue
		}
		stats[i], cmdlines[i] = s, c
		procs++
	}
	var b bytes.Buffer
	b.WriteString(btime + "\n")
	first := true
	file := func(name string, data []byte) {
		if !first {
			b.WriteByte('\n') // tail's blank line before each header but the first
		}
		first = false
		b.WriteString("==> /proc/" + name + " <==\n")
		b.Write(data)
	}
	for i, pid := range pids {
		if stats[i] != nil {
			file(pid+"/stat", stats[i])
		}
	}
	for i, pid := range pids {
		if stats[i] != nil {
			file(pid+"/cmdline", cmdlines[i])
		}
	}
	return b.Bytes(), procs, gone, nil
}

// procListing writes procPS's listing into out after the date line and
// the prompt.
func (c *collector) procListing(st *Step, out string) {
	defer c.done(st)
	st.Read = "/proc/stat, /proc/[0-9]*/stat, /proc/[0-9]*/cmdline"
	st.Started = c.stamp()
	data, procs, gone, err := procPS(c.o.Proc)
	st.Finished = c.stamp()
	if err != nil {
		st.Status, st.Error = StatusFailed, err.Error()
		return
	}
	if gone > 0 {
		st.Note += fmt.Sprintf("; %d of %d processes exited while read", gone, procs+gone)
	}
	f, ok := c.stepOutput(st, out)
	if !ok {
		return
	}
	defer f.Close()
	data = append(c.header(*st.Started, procPSPrompt), append(data, '\n')...)
	n, err := f.Write(data)
	st.Size = int64(n)
	if err != nil {
		st.Status, st.Error = StatusFailed, err.Error()
		return
	}
	st.Status = StatusOK
}
