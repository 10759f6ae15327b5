package sockets

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/internal/golden"
)

// socketInputs lists every socket input file: testdata/sockets/ and, when
// they exist, testdata/real/sockets/ and testdata/real/recvq/ (outputs of
// this machine's tools).
func socketInputs(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"../../testdata/sockets", "../../testdata/real/sockets", "../../testdata/real/recvq"} {
		ents, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || strings.HasSuffix(n, ".golden") || strings.HasSuffix(n, ".sh") || strings.HasSuffix(n, ".py") || strings.HasSuffix(n, ".md") ||
				n == "COMMANDS.txt" || n == "VERSIONS.txt" || n == "EXPECTED.txt" {
				continue
			}
			files = append(files, filepath.Join(dir, n))
		}
	}
	return files
}

// TestSocketGolden reads every socket input through Read (so Sniff is
// covered too) and compares a plain dump of records and warnings with
// <input>.golden.
func TestSocketGolden(t *testing.T) {
	files := socketInputs(t)
	if len(files) == 0 {
		t.Fatal("no socket inputs in ../testdata/sockets")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			ev, err := testChain().Read(bytes.NewReader(data), filepath.Base(path))
			if err != nil {
				fmt.Fprintf(&b, "error: %v\n", err)
			}
			if ev != nil {
				dumpSocketEvidence(&b, ev)
			}
			golden.Check(t, path+".golden", b.Bytes())
		})
	}
}

func fmtOptInt(p *int) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(*p)
}

func fmtOptDuration(p *time.Duration) string {
	if p == nil {
		return "-"
	}
	return p.String()
}

func fmtOptU64(p *uint64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatUint(*p, 10)
}

func endpointString(e dumps.Endpoint) string {
	s := e.AddrString()
	if e.Iface != "" {
		s += "%" + e.Iface
	}
	if p := e.PortString(); p != "" {
		s += " port " + p
	}
	if s == "" {
		return "-"
	}
	return s
}

// dumpSocketEvidence writes one line per record and warning, with positions.
func dumpSocketEvidence(b *bytes.Buffer, ev *dumps.Evidence) {
	fmt.Fprintf(b, "kind %s\n", ev.Kind)
	for _, s := range ev.SocketSnapshots {
		fmt.Fprintf(b, "snapshot %d %s time=%s label=%q\n", s.Index, s.Src, fmtSnapTime(s.Time), s.Label)
	}
	for _, s := range ev.Sockets {
		fmt.Fprintf(b, "socket %s snap=%d tool=%s %s(%s) %s(%q) local=%s remote=%s q=%s/%s",
			s.Src, s.Snapshot, s.Tool, s.Proto, s.ProtoRaw, s.State, s.StateRaw,
			endpointString(s.Local), endpointString(s.Remote), fmtOptU64(s.RecvQ), fmtOptU64(s.SendQ))
		if s.OS != dumps.OSUnknown {
			fmt.Fprintf(b, " os=%s", s.OS)
		}
		for _, o := range s.Owners {
			fmt.Fprintf(b, " owner=[%q pid=%s fd=%s user=%q]", o.Process, fmtOptInt(o.PID), fmtOptInt(o.FD), o.User)
		}
		if s.Inode != 0 {
			fmt.Fprintf(b, " inode=%d", s.Inode)
		}
		if s.UID != nil || s.User != "" {
			fmt.Fprintf(b, " uid=%s user=%q", fmtOptInt(s.UID), s.User)
		}
		if s.Timer != "" {
			fmt.Fprintf(b, " timer=%q", s.Timer)
		}
		if s.Extra != "" {
			fmt.Fprintf(b, " extra=%q", s.Extra)
		}
		b.WriteByte('\n')
	}
	for _, s := range ev.SocketSummaries {
		fmt.Fprintf(b, "summary %s snap=%d total=%s", s.Src, s.Snapshot, fmtOptInt(s.Total))
		for _, k := range sortedCountKeys(s.TCP) {
			fmt.Fprintf(b, " %s=%d", k, s.TCP[k])
		}
		for _, tc := range s.Transports {
			fmt.Fprintf(b, " [%s %d %d %d]", tc.Transport, tc.Total, tc.IP, tc.IPv6)
		}
		b.WriteByte('\n')
	}
	for _, f := range ev.FDs {
		fmt.Fprintf(b, "fd %s snap=%d pid=%s fd=%d inode=%d target=%q\n", f.Src, f.Snapshot, fmtOptInt(f.PID), f.FD, f.Inode, f.Target)
	}
	for _, l := range ev.Limits {
		fmt.Fprintf(b, "limit %s snap=%d pid=%s %q soft=%s hard=%s units=%q\n", l.Src, l.Snapshot, fmtOptInt(l.PID), l.Name,
			limitString(l.Soft, l.SoftUnlimited), limitString(l.Hard, l.HardUnlimited), l.Units)
	}
	for _, p := range ev.Procs {
		fmt.Fprintf(b, "process %s snap=%d tool=%s pid=%d ppid=%s comm=%q start=%s elapsed=%s ticks=%s command=%q\n", p.Src, p.Snapshot, p.Tool, p.PID,
			fmtOptInt(p.PPID), p.Comm, fmtSnapTime(p.Start), fmtOptDuration(p.Elapsed), fmtOptU64(p.StartTicks), p.Command)
	}
	for _, bt := range ev.BootTimes {
		fmt.Fprintf(b, "boot %s time=%s\n", bt.Src, fmtSnapTime(bt.Time))
	}
	if ev.SkippedLines > 0 {
		fmt.Fprintf(b, "skipped %d lines\n", ev.SkippedLines)
	}
	for _, w := range ev.Warnings {
		fmt.Fprintf(b, "warning %s\n", w)
	}
}

func limitString(v *uint64, unlimited bool) string {
	if unlimited {
		return "unlimited"
	}
	return fmtOptU64(v)
}
