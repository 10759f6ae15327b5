package report

import (
	"fmt"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
)

// firstWarnings is how many warning positions an input's status cites.
const firstWarnings = 3

// EvidenceRecords counts what one evidence file holds: sockets, fds,
// limits, summaries, listed processes and boot times, threads, goroutines and profile groups, runtime
// processes and sockets, and log events.
func EvidenceRecords(ev *dumps.Evidence) int {
	n := len(ev.Sockets) + len(ev.FDs) + len(ev.Limits) + len(ev.SocketSummaries) + len(ev.Procs) + len(ev.BootTimes)
	n += len(ev.Processes) + len(ev.RuntimeSockets) + len(ev.LogEvents)
	for _, d := range ev.ThreadDumps {
		n += len(d.Threads)
	}
	for _, d := range ev.GoroutineDumps {
		n += d.Total()
	}
	for _, p := range ev.GoroutineProfiles {
		n += len(p.Groups)
	}
	return n
}

// EvidenceInput is the Input of an evidence file that was read: read, or
// read with warnings, with its kind and records.
func EvidenceInput(ev *dumps.Evidence) Input {
	in := Input{Path: ev.File, Kind: ev.Kind.String(), Status: InputRead, Records: EvidenceRecords(ev)}
	for _, w := range ev.Warnings {
		in.warn(TextPos(w.Pos))
	}
	return in
}

// CaptureInput is the Input of one capture that Read read: read, read with
// warnings (damage stopped it early, a record was corrupt), ignored when it
// held no packet or only packets of link types the decoder does not know,
// failed when damage left no packet.
func CaptureInput(f *pcapstate.FileStats, res *pcapstate.Result) Input {
	in := Input{Path: f.Name, Kind: f.Format, Status: InputRead, Records: int(f.Packets)}
	var first string
	for _, w := range res.Warnings {
		if w.Pos.File == f.Name {
			if first == "" {
				first = w.Msg
			}
			in.warn(PacketPos(w.Pos))
		}
	}
	switch {
	case f.Packets == 0 && in.Warnings > 0:
		in.Status, in.Cause, in.Reason = InputFailed, CauseCorrupt, first
		in.Warnings, in.FirstWarnings = 0, nil
	case f.Packets == 0:
		in.Status, in.Cause, in.Reason = InputIgnored, CauseEmpty, "capture holds no packets"
	default:
		// A capture none of whose link types the decoder reads is
		// ignored, with the types (pcapstate's FileStats says which, and
		// why the file gave no TCP segment).
		switch {
		case f.Segments == 0 && len(f.UnsupportedLinkTypes) > 0 && len(f.UnsupportedLinkTypes) == len(f.LinkTypes):
			in.Status, in.Cause, in.Reason = InputIgnored, CauseLinkType, f.Ignored
		case f.Segments == 0 && f.Filtered < f.Packets && f.Ignored != "":
			// Decoded, but not one TCP segment (a filter that
			// rejected every packet leaves the capture read).
			in.Status, in.Cause, in.Reason = InputIgnored, CauseNoTCP, f.Ignored
		}
	}
	return in
}

// warn counts a warning at pos, keeping the first positions.
func (in *Input) warn(pos Pos) {
	if in.Status == InputRead {
		in.Status = InputWarned
	}
	in.Warnings++
	if len(in.FirstWarnings) < firstWarnings {
		in.FirstWarnings = append(in.FirstWarnings, pos)
	}
}

// StatusLine says in one line what became of the input, as a terminal or
// a log shows it: "ss.txt: read-with-warnings (2 warnings, first at
// ss.txt:4)".
func (in Input) StatusLine() string {
	s := in.Path + ": " + in.Status.String()
	switch {
	case in.Reason != "":
		s += " (" + in.Reason + ")"
	case in.Warnings > 0:
		s += fmt.Sprintf(" (%d %s, first at %s)", count(in.Warnings), plural("warning", in.Warnings), joinPositions(in.FirstWarnings, ", "))
	}
	return s
}
