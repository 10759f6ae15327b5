package sockets

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

func TestParsePSRow(t *testing.T) {
	lstartCols := strings.Fields("PID PPID STARTED ELAPSED COMMAND")
	sec := func(s int) *time.Duration { d := time.Duration(s) * time.Second; return &d }
	tests := []struct {
		name    string
		cols    []string
		line    string
		want    dumps.ProcessInfo
		wantErr string
	}{
		{"lstart etimes args", lstartCols, " 4002  1 Thu Dec  3 07:00:00 2026   60 ./server/repository -listen :8080",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 4002, PPID: dumps.IntPtr(1), Start: time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC), Elapsed: sec(60), Command: "./server/repository -listen :8080"}, ""},
		{"etime with days", strings.Fields("PID ELAPSED CMD"), "7 1-02:03:04 x  y",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 7, Elapsed: sec(93784), Command: "x  y"}, ""},
		{"etime mm:ss", strings.Fields("PID ELAPSED ARGS"), "7 01:05 x",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 7, Elapsed: sec(65), Command: "x"}, ""},
		{"ps aux", strings.Fields("USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND"), "root 12 0.0 0.1 100 200 ? S Dec02 0:00 /usr/sbin/sshd -D",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 12, Command: "/usr/sbin/sshd -D"}, ""},
		{"start as month day", strings.Fields("PID STARTED COMMAND"), "12 Dec 02 sshd",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 12, Command: "sshd"}, ""},
		{"start as a time", strings.Fields("PID STARTED COMMAND"), "12 07:01:02 sh -c sleep 10:00:00",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 12, Command: "sh -c sleep 10:00:00"}, ""},
		{"start as a time, a time in the command", strings.Fields("PID STARTED COMMAND"), "12 07:01:02 at now 10:00:00 2026",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 12, Command: "at now 10:00:00 2026"}, ""},
		{"ps aux's START", strings.Fields("USER PID START COMMAND"), "root 12 07:01 sh -c x 10:00:00 y",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 12, Command: "sh -c x 10:00:00 y"}, ""},
		{"lstart in German: no start, columns in place", lstartCols, " 4002  1 Do  3 Dez 07:00:00 2026   60 ./quote-cache -journal",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 4002, PPID: dumps.IntPtr(1), Elapsed: sec(60), Command: "./quote-cache -journal"}, ""},
		{"BusyBox etime hours", strings.Fields("PID ELAPSED COMMAND"), "7 1h02 x",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 7, Elapsed: sec(3720), Command: "x"}, ""},
		{"BusyBox etime days and hours", strings.Fields("PID ELAPSED COMMAND"), "7 3d05 x",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 7, Elapsed: sec(3*86400 + 5*3600), Command: "x"}, ""},
		{"BusyBox etime days", strings.Fields("PID ELAPSED COMMAND"), "7 123d x",
			dumps.ProcessInfo{Tool: dumps.KindPS, PID: 7, Elapsed: sec(123 * 86400), Command: "x"}, ""},
		{"bad pid", lstartCols, "x 1 Thu Dec  3 07:00:00 2026 60 a", dumps.ProcessInfo{}, `bad PID "x"`},
		{"negative ppid", lstartCols, "1 -1 Thu Dec  3 07:00:00 2026 60 a", dumps.ProcessInfo{}, `bad PPID "-1"`},
		{"bad lstart", lstartCols, "1 0 Thu Dec 33 07:00:00 2026 60 a", dumps.ProcessInfo{}, "bad start time"},
		{"cut row", lstartCols, "1 0", dumps.ProcessInfo{}, "row ends before its STARTED column"},
		{"no command", lstartCols, "1 0 Thu Dec  3 07:00:00 2026 60", dumps.ProcessInfo{}, "no command"},
		{"bad etime", lstartCols, "1 0 Thu Dec  3 07:00:00 2026 1:2:3:4 a", dumps.ProcessInfo{}, "bad elapsed time"},
		{"bad etime with days", strings.Fields("PID ELAPSED COMMAND"), "7 1-02:0x:04 a", dumps.ProcessInfo{}, `bad elapsed time "1-02:0x:04"`},
		{"bad BusyBox etime", strings.Fields("PID ELAPSED COMMAND"), "7 1h2 a", dumps.ProcessInfo{}, `bad elapsed time "1h2"`},
		{"no pid column", strings.Fields("USER COMMAND"), "root x", dumps.ProcessInfo{}, "no PID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePSRow(tt.line, tt.cols)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	line := "4002 (a) b) c) S 1 4002 4002 0 -1 4194560 1322 0 0 0 5 3 0 0 20 0 6 0 172800 1000000 300"
	p, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != 4002 || p.Comm != "a) b) c" || p.PPID == nil || *p.PPID != 1 || p.StartTicks == nil || *p.StartTicks != 172800 {
		t.Errorf("got %+v", p)
	}
	if got := dumps.StartAfterBoot(time.Unix(1000, 0).UTC(), 150); !got.Equal(time.Unix(1001, 500_000_000)) {
		t.Errorf("StartAfterBoot = %v", got)
	}
}

// TestReadPSForms checks the forms the parser meets in one file: a stat
// line and its machine's btime give an absolute start; ps's elapsed time
// under a dated snapshot gives one too, which wins over lstart (local time
// read as UTC); a cmdline cat printed without a newline runs into tail's
// next header.
func TestReadPSForms(t *testing.T) {
	in := "date: 2026-12-03T08:00:00Z\n$ ps -eo pid,ppid,lstart,etimes,args\n" +
		"PID PPID STARTED ELAPSED COMMAND\n" +
		"9 1 Thu Dec  3 09:59:00 2026 120 ./srv -x\n" +
		"==> /proc/9/cmdline <==\n./srv\x00-x\x00==> /proc/10/cmdline <==\n" +
		"./other\x00\n" +
		"10 (other) S 1 10 10 0 -1 4194560 1322 0 0 0 5 3 0 0 20 0 6 0 6000 1 1\n" +
		"btime 1796284800\n"
	ev, warns, err := ReadPS(strings.NewReader(in), "in")
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v, warnings %v", err, warns)
	}
	type row struct {
		Tool    string
		PID     int
		Command string
		Start   time.Time
	}
	var got []row
	for _, p := range ev.Procs {
		got = append(got, row{p.Tool.String(), p.PID, p.Command, p.Start})
	}
	want := []row{
		{"ps", 9, "./srv -x", time.Date(2026, 12, 3, 7, 58, 0, 0, time.UTC)},
		{"proc-cmdline", 9, "./srv -x", time.Time{}},
		{"proc-cmdline", 10, "./other", time.Time{}},
		{"proc-stat", 10, "", time.Date(2026, 12, 3, 8, 1, 0, 0, time.UTC)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestReadPSTailEmptyCmdline: tail -n +1 /proc/[0-9]*/cmdline prints
// nothing under the header of an empty cmdline (a kernel thread's), so the
// next header follows; it is no cmdline of the pid before it. The lines
// are this machine's (Linux 6.18), kernel threads 10 and 2 between
// processes 1 and 20.
func TestReadPSTailEmptyCmdline(t *testing.T) {
	in := "==> /proc/1/cmdline <==\n/process_api\x00--firecracker-init\x00\n" +
		"==> /proc/10/cmdline <==\n\n" +
		"==> /proc/2/cmdline <==\n\n" +
		"==> /proc/20/cmdline <==\nsleep\x0030\x00\n"
	ev, warns, err := ReadPS(strings.NewReader(in), "in")
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v, warnings %v", err, warns)
	}
	var got []string
	for _, p := range ev.Procs {
		got = append(got, fmt.Sprintf("%d %s", p.PID, p.Command))
	}
	if diff := cmp.Diff([]string{"1 /process_api --firecracker-init", "20 sleep 30"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSniffProcessListings(t *testing.T) {
	tests := []struct {
		in   string
		want dumps.Kind
	}{
		{"  PID  PPID                  STARTED ELAPSED COMMAND\n    1     0 Thu Dec  3 06:32:44 2026    2854 /sbin/init\n", dumps.KindPS},
		{"UID        PID  PPID  C STIME TTY          TIME CMD\nroot         1     0  0 06:32 ?        00:00:07 /sbin/init\n", dumps.KindPS},
		{"./srv\x00-x\x00", dumps.KindProcCmdline},
		{"./srv -x \n", dumps.KindProcCmdline},
		{"$ cat /proc/12/cmdline\n./srv -x\n", dumps.KindProcCmdline},
		{"12 (srv) S 1 12 12 0 -1 4194560 1322 0 0 0 5 3 0 0 20 0 6 0 6000 1 1\n", dumps.KindProcStat},
		{"cpu  1 2 3\nbtime 1796284800\n", dumps.KindProcStat},
		// Not a cmdline: two lines, or a line without the trailing NUL or space.
		{"hello world\nbye\n", dumps.KindUnknown},
		{"hello world\n", dumps.KindUnknown},
		// lsof's header starts with COMMAND and ends with NAME.
		{"COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n", dumps.KindLsof},
	}
	for _, tt := range tests {
		if got := sniffSocket([]byte(tt.in)); got != tt.want {
			t.Errorf("sniffSocket(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// lstartSeeds are lstart's words as ps prints them and as damaged or
// foreign rows give them: each must read as time.Parse reads it.
var lstartSeeds = []string{
	"Thu Dec 3 07:01:02 2026",
	"Thu Dec 03 07:01:02 2026",
	"Mon Jan 1 00:00:00 1970",
	"Sun Dec 31 23:59:59 9999",
	"Sat Feb 29 12:00:00 2024",
	"Sun Feb 29 12:00:00 2026", // no such day
	"Thu Apr 31 07:01:02 2026", // no such day
	"Thu Dec 0 07:01:02 2026",
	"Thu Dec 33 07:01:02 2026",
	"Thu Dec 3 24:00:00 2026",
	"Thu Dec 3 07:60:00 2026",
	"Thu Dec 3 07:00:60 2026",
	"Thu Dec 3 7:01:02 2026", // one-digit hour: time.Parse's business
	"thu dec 3 07:01:02 2026",
	"Thursday Dec 3 07:01:02 2026",
	"Thu December 3 07:01:02 2026",
	"Thu Dec 3 07:01:02 26",
	"Thu Dec 3 07:01:02 20266",
	"Do 3 Dez 07:01:02 2026",
	"Thu Dec +3 07:01:02 2026",
	"Thu Dec 3 07:0a:02 2026",
	"Thu Dec 3 07:01:02 0000",
}

func TestParseLstart(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time // zero: an error
	}{
		{"Thu Dec 3 07:01:02 2026", time.Date(2026, 12, 3, 7, 1, 2, 0, time.UTC)},
		{"Sat Feb 29 12:00:00 2024", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"Thu Dec 3 7:01:02 2026", time.Date(2026, 12, 3, 7, 1, 2, 0, time.UTC)}, // by time.Parse
		{"Sun Feb 29 12:00:00 2026", time.Time{}},
		{"Thu Dec 33 07:01:02 2026", time.Time{}},
		{"Thu Dec 3 24:00:00 2026", time.Time{}},
		{"Do 3 Dez 07:01:02 2026", time.Time{}},
	}
	for _, tt := range tests {
		got, err := parseLstart(strings.Fields(tt.in))
		if tt.want.IsZero() {
			if err == nil {
				t.Errorf("%q: got %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("%q: got %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseLstart holds the hand-written path to time.Parse's answers.
func FuzzParseLstart(f *testing.F) {
	for _, s := range lstartSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ws := strings.Fields(s)
		if len(ws) != 5 {
			return
		}
		got, err := parseLstart(ws)
		want, werr := time.Parse(lstartLayout, strings.Join(ws, " "))
		if (err == nil) != (werr == nil) || !got.Equal(want) || got.Location() != want.Location() {
			t.Fatalf("%q: parseLstart = %v, %v; time.Parse = %v, %v", s, got, err, want, werr)
		}
	})
}
