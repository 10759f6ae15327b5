package dumps

import "time"

// ProcessInfo is one process as a process listing shows it: a row of ps
// output, a /proc/PID/cmdline, or a /proc/PID/stat line. Tool says which.
type ProcessInfo struct {
	Tool Kind `json:"tool"` // ps, proc-cmdline or proc-stat
	// PID is 0 when the listing does not say whose it is: a cmdline saved
	// with `cat /proc/PID/cmdline > file` under a name without the pid.
	// The report gives such a command line to the one listed process its
	// command name fits, and says so.
	PID int `json:"pid"`
	// PPID is the parent's pid when the listing shows it (pid 0 is the
	// parent of init and of the kernel's threads).
	PPID *int `json:"ppid,omitempty"`
	// Comm is the kernel's command name (/proc/PID/stat's "(comm)", at most
	// 15 bytes), when the listing shows it apart from the command line.
	Comm string `json:"comm,omitempty"`
	// Command is the full command line, its words joined by spaces; ps
	// shows a process without one (a kernel thread) as [name].
	Command string `json:"command,omitempty"`
	// Start is when the process started, zero when the listing does not
	// say: ps's lstart (read as UTC), a snapshot's time less ps's elapsed
	// time, or /proc/PID/stat's starttime after a boot time in the same
	// file.
	Start time.Time `json:"start,omitzero"`
	// Elapsed is how long it had run when ps listed it (etimes, etime),
	// nil when ps did not show it.
	Elapsed *time.Duration `json:"elapsed_ns,omitempty"`
	// StartTicks is /proc/PID/stat's starttime: clock ticks (USER_HZ,
	// 100 a second) from boot to the start; nil for other tools.
	StartTicks *uint64 `json:"start_ticks,omitempty"`
	// Snapshot and SnapshotTime are the listing the row belongs to, as
	// for sockets.
	Snapshot     int       `json:"snapshot"`
	SnapshotTime time.Time `json:"snapshot_time,omitzero"`
	Src          Pos       `json:"src"`
}

// BootTime is the btime line of /proc/stat: when the machine booted, from
// which /proc/PID/stat's starttime gives a process's start.
type BootTime struct {
	Time time.Time `json:"time"`
	Src  Pos       `json:"src"`
}

// TicksPerSecond is USER_HZ, the unit of /proc/PID/stat's starttime: 100
// on every Linux architecture's user ABI.
const TicksPerSecond = 100

// StartAfterBoot is the start time of a process started ticks clock
// ticks after boot.
func StartAfterBoot(boot time.Time, ticks uint64) time.Time {
	return boot.Add(time.Duration(ticks) * (time.Second / TicksPerSecond))
}
