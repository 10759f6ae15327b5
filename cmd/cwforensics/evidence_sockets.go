package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
)

// socketColumns is the header of the socket table. The first eleven columns
// are a stable interface (docs/evidence.md); new columns are only added at
// the end.
var socketColumns = []string{
	"source", "tool", "proto", "local_addr", "local_port", "remote_addr", "remote_port",
	"state", "pid", "process", "fd",
	"recv_q", "send_q", "inode", "uid", "owners", "snapshot", "snapshot_time", "timer",
}

// socketTable is the table of socket records, or nil when there are none:
// one row per socket, in file order, the files in the order given. pid,
// process and fd are the first owner's; owners lists every owner.
func socketTable(evs []*dumps.Evidence) *table {
	t := &table{header: socketColumns}
	for _, ev := range evs {
		for i := range ev.Sockets {
			s := &ev.Sockets[i]
			o := s.Owner0()
			state := s.State.String()
			if s.State == dumps.StateUnknown {
				state = s.StateRaw
			}
			t.add(
				s.Src.String(), s.ToolName(), s.Proto.String(),
				s.Local.AddrString(), s.Local.PortString(), s.Remote.AddrString(), s.Remote.PortString(),
				state, sockCellInt(o.PID), o.Process, sockCellInt(o.FD),
				sockCellU64(s.RecvQ), sockCellU64(s.SendQ), sockCellInode(s.Inode), sockCellInt(s.UID), sockCellOwners(s.Owners),
				strconv.Itoa(s.Snapshot), sockCellTime(s.SnapshotTime), s.Timer,
			)
		}
	}
	if len(t.rows) == 0 {
		return nil
	}
	return t
}

// socketExtraTables are the other socket evidence: ss -s summaries, fd
// listings, limits and process listings (ps, /proc/PID/cmdline,
// /proc/PID/stat), one table each when the files hold any.
func socketExtraTables(evs []*dumps.Evidence) []*table {
	sum := &table{header: []string{"source", "snapshot", "snapshot_time", "total", "tcp", "tcp_estab", "tcp_closed", "tcp_orphaned", "tcp_timewait", "transports"}}
	fds := &table{header: []string{"source", "snapshot", "pid", "fd", "inode", "target"}}
	lim := &table{header: []string{"source", "snapshot", "pid", "limit", "soft", "hard", "units"}}
	procs := &table{header: []string{"source", "tool", "snapshot", "pid", "ppid", "start", "elapsed", "comm", "command"}}
	for _, ev := range evs {
		for _, p := range ev.Procs {
			elapsed := ""
			if p.Elapsed != nil {
				elapsed = strconv.FormatInt(int64(*p.Elapsed/time.Second), 10)
			}
			procs.add(p.Src.String(), p.Tool.String(), strconv.Itoa(p.Snapshot), strconv.Itoa(p.PID), sockCellInt(p.PPID), sockCellTime(p.Start), elapsed, p.Comm, p.Command)
		}
		for _, s := range ev.SocketSummaries {
			count := func(k string) string {
				if v, ok := s.TCP[k]; ok {
					return strconv.Itoa(v)
				}
				return ""
			}
			var tr []string
			for _, c := range s.Transports {
				tr = append(tr, c.Transport+"="+strconv.Itoa(c.Total))
			}
			sum.add(s.Src.String(), strconv.Itoa(s.Snapshot), sockCellTime(s.SnapshotTime), sockCellInt(s.Total),
				count("total"), count("estab"), count("closed"), count("orphaned"), count("timewait"), strings.Join(tr, ","))
		}
		for _, f := range ev.FDs {
			fds.add(f.Src.String(), strconv.Itoa(f.Snapshot), sockCellInt(f.PID), strconv.Itoa(f.FD), sockCellInode(f.Inode), f.Target)
		}
		for _, l := range ev.Limits {
			lim.add(l.Src.String(), strconv.Itoa(l.Snapshot), sockCellInt(l.PID), l.Name, sockCellLimit(l.Soft, l.SoftUnlimited), sockCellLimit(l.Hard, l.HardUnlimited), l.Units)
		}
	}
	var out []*table
	for _, t := range []*table{sum, fds, lim, procs} {
		if len(t.rows) > 0 {
			out = append(out, t)
		}
	}
	return out
}

func sockCellInt(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func sockCellU64(p *uint64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatUint(*p, 10)
}

func sockCellInode(v uint64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatUint(v, 10)
}

func sockCellTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// sockCellLimit is a limit value, "unlimited", or "" when the listing did not
// show it (ulimit shows one of soft and hard).
func sockCellLimit(v *uint64, unlimited bool) string {
	if unlimited {
		return "unlimited"
	}
	return sockCellU64(v)
}

// sockCellOwners lists every owner as pid:fd:process, comma-separated.
func sockCellOwners(os []dumps.Owner) string {
	parts := make([]string, 0, len(os))
	for _, o := range os {
		parts = append(parts, sockCellInt(o.PID)+":"+sockCellInt(o.FD)+":"+o.Process)
	}
	return strings.Join(parts, ",")
}
