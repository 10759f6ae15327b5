package collect

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ManifestVersion is the version of manifest.json's schema
// (docs/collect.md).
const ManifestVersion = 1

// ManifestName is the manifest's file name in the output folder.
const ManifestName = "manifest.json"

// Manifest is manifest.json: what was run, when, and what it gave.
type Manifest struct {
	SchemaVersion int         `json:"schema_version"`
	Tool          string      `json:"tool"`
	Host          string      `json:"host,omitempty"`
	Started       time.Time   `json:"started"`
	Finished      time.Time   `json:"finished"`
	Settings      Settings    `json:"settings"`
	Processes     []Process   `json:"processes"`
	ProcessNote   string      `json:"process_note,omitempty"`
	Steps         []*Step     `json:"steps"`
	Files         []FileEntry `json:"files"`
}

// Settings are the options the run used.
type Settings struct {
	PIDs           []int  `json:"pids,omitempty"`
	Ports          []int  `json:"ports,omitempty"`
	Duration       string `json:"duration"`
	MaxCaptureSize int64  `json:"max_capture_size"`
	Interface      string `json:"interface"`
	PprofURL       string `json:"pprof_url,omitempty"`
	Dumps          int    `json:"dumps"`
	DumpInterval   string `json:"dump_interval"`
	CommandTimeout string `json:"command_timeout"`
}

// Step statuses.
const (
	StatusOK      = "ok"      // ran and exited 0
	StatusFailed  = "failed"  // ran and exited non-zero, or could not start, or an I/O error
	StatusTimeout = "timeout" // stopped at its time limit (the capture stops at --duration: that is ok)
	StatusMissing = "missing" // the tool is not installed
	StatusSkipped = "skipped" // not applicable (see note)
)

// Step is one command or read, in the order they were planned.
type Step struct {
	Name     string     `json:"name"`            // what it is: "ss", "capture", "jcmd Thread.print", "proc limits"
	PID      int        `json:"pid,omitempty"`   // the process it is about
	Round    int        `json:"round,omitempty"` // which repetition (listings: 1 at the start, 2 at the end; dumps: 1..--dumps)
	Argv     []string   `json:"argv,omitempty"`  // the command run
	URL      string     `json:"url,omitempty"`   // the URL fetched
	Read     string     `json:"read,omitempty"`  // the file read
	Status   string     `json:"status"`          // ok, failed, timeout, missing, skipped
	ExitCode *int       `json:"exit_code,omitempty"`
	Error    string     `json:"error,omitempty"`  // why it failed
	Stderr   string     `json:"stderr,omitempty"` // its stderr, at most 4 KiB (the end kept)
	Note     string     `json:"note,omitempty"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
	Output   string     `json:"output,omitempty"` // file in the folder it wrote to (listings append a round)
	Size     int64      `json:"size,omitempty"`   // bytes it added to Output

	phase int // capture, first listings, dumps, last listings: the manifest's order
}

// Phases of a run, the order of the manifest's steps; within a phase, steps
// are in the order they were planned.
const (
	phaseCapture = iota
	phaseFirst
	phaseDumps
	phaseLast
)

// FileEntry is one file the folder holds, besides the manifest.
type FileEntry struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// Marshal is the manifest as indented JSON.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseSize parses a size such as 200MB, 1.5GB, 512KiB or 1000000 (bytes).
// KB, MB and GB are powers of 1000, as tcpdump's -C; KiB, MiB and GiB of 1024.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*mult > 1<<62 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit, e.g. 200MB", s)
	}
	return int64(v * mult), nil
}
