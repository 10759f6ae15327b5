package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/report"
)

// TestAnalyzeStateFilterListing runs analyze on a real `ss -tan state
// close-wait` listing, which prints no State column, saved under a name
// that says nothing of the state. Alone, its sockets keep an unknown state
// and the file gets one note; beside another listing of the same sockets
// (netstat -antp), analyze takes their state from it; with the command
// written above the output, the state comes from the command.
func TestAnalyzeStateFilterListing(t *testing.T) {
	inRoot(t)
	dir := "testdata/cases/transient/"
	raw, err := os.ReadFile(dir + "ss-close-wait.txt")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bare := filepath.Join(tmp, "listing-b.txt")
	if err := os.WriteFile(bare, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	rows := strings.Count(strings.TrimSpace(string(raw)), "\n") // lines after the header

	analyze := func(files ...string) *report.Model {
		t.Helper()
		code, out, stderr := cli(t, append([]string{"analyze", "--format", "json"}, files...)...)
		if code != 0 && code != 1 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		m, err := report.ReadJSON(strings.NewReader(out))
		if err != nil {
			t.Fatalf("report does not read back: %v\n%s", err, out)
		}
		return m
	}
	notes := func(m *report.Model, file, text string) int {
		n := 0
		for _, w := range m.Warnings {
			if strings.HasPrefix(w.Pos.File, file) && strings.Contains(w.Msg, text) {
				n++
			}
		}
		return n
	}
	stuckFrom := func(m *report.Model, file string) int {
		n := 0
		for _, s := range m.Sockets {
			for _, e := range s.Evidence {
				if e.File == file && e.Kind == report.PosLine && s.Status.Stuck() {
					n++
					break
				}
			}
		}
		return n
	}

	m := analyze(bare)
	if got := notes(m, bare, "analyze takes it from the other listings"); got != 1 {
		t.Errorf("alone: %d notes for the stateless file, want 1; warnings %+v", got, m.Warnings)
	}
	if got := stuckFrom(m, bare); got != 0 {
		t.Errorf("alone: %d sockets stuck from a listing that names no state", got)
	}

	m = analyze(dir+"netstat-antp.txt", bare)
	if got := stuckFrom(m, bare); got != rows {
		t.Errorf("with netstat: %d stuck sockets cite %s, want its %d rows", got, bare, rows)
	}
	if got := notes(m, bare, "states were taken from the same socket in another listing"); got != 1 {
		t.Errorf("with netstat: %d notes on where the states came from, want 1; warnings %+v", got, m.Warnings)
	}

	withCmd := filepath.Join(tmp, "listing-c.txt")
	if err := os.WriteFile(withCmd, append([]byte("COMMAND: ss -tan state close-wait '( sport = :18086 or dport = :18086 )'\n"), raw...), 0o644); err != nil {
		t.Fatal(err)
	}
	m = analyze(withCmd)
	if got := stuckFrom(m, withCmd); got != rows {
		t.Errorf("COMMAND header: %d stuck sockets cite %s, want %d", got, withCmd, rows)
	}
	if got := notes(m, withCmd, "state"); got != 0 {
		t.Errorf("COMMAND header: %d notes about the state, want none; warnings %+v", got, m.Warnings)
	}
}
