package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/internal/golden"
	"github.com/cwforensics/cwforensics/report"
)

// caseTruth is what a case's case.json, written by the script that made
// the case on a real kernel, says the report must find.
type caseTruth struct {
	Process struct {
		Name string `json:"name"`
		PID  int    `json:"pid"`
	} `json:"process"`
	RootCause string         `json:"root_cause"`
	Holder    map[string]any `json:"holder"`
	Counts    map[string]int `json:"counts"`
}

// TestAnalyzeCases runs analyze on every end-to-end case of testdata/cases,
// made over loopback by testdata/gen/<case>/run.sh, and checks the report
// against the case's truth (process, pid, root cause, the function holding
// the sockets, the count) and against golden reports in all three formats
// in the case's .golden folder (which analyze, like any dot-folder, skips).
func TestAnalyzeCases(t *testing.T) {
	inRoot(t)
	dirs, _ := filepath.Glob("testdata/cases/*")
	if len(dirs) < 3 {
		t.Fatalf("found %d cases", len(dirs))
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "case.json"))
			if err != nil {
				t.Fatal(err)
			}
			var truth caseTruth
			if err := json.Unmarshal(raw, &truth); err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			outs := []string{filepath.Join(tmp, "report.md"), filepath.Join(tmp, "report.html"), filepath.Join(tmp, "report.json")}
			code, stdout, stderr := cli(t, "analyze", "-o", outs[0], "-o", outs[1], "-o", outs[2], dir)
			if code != 0 || stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
			}
			for _, o := range outs {
				got, err := os.ReadFile(o)
				if err != nil {
					t.Fatal(err)
				}
				golden.Check(t, filepath.Join(dir, ".golden", filepath.Base(o)), got)
			}
			f, err := os.Open(outs[2])
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := report.ReadJSON(f)
			if err != nil {
				t.Fatalf("report.json does not read back: %v", err)
			}
			checkTruth(t, m, truth)
		})
	}
}

func checkTruth(t *testing.T, m *report.Model, truth caseTruth) {
	t.Helper()
	if len(m.Findings) == 0 {
		t.Fatalf("no finding; verdict %q", m.Verdict.Text)
	}
	want := truth.RootCause
	if want == "remote-peer-leak" {
		// Made over loopback, the peer runs on this host too: its sockets
		// in CLOSE_WAIT are listed, so its missing close is the finding
		// and our FIN_WAIT2 ends are shown beside it.
		want = "missing-close"
		if n := m.Summary.FinWait2; n != truth.Counts["fin_wait2_local"] {
			t.Errorf("%d sockets in FIN_WAIT2, want %d", n, truth.Counts["fin_wait2_local"])
		}
	}
	f := m.Findings[0]
	if f.Category.String() != want || m.Verdict.Category.String() != want {
		t.Errorf("root cause %s (verdict %s), want %s: %s", f.Category, m.Verdict.Category, want, m.Verdict.Text)
	}
	if f.Process.PID != truth.Process.PID || f.Process.Name != truth.Process.Name {
		t.Errorf("process %s, want %s (pid %d)", f.Process, truth.Process.Name, truth.Process.PID)
	}
	count := truth.Counts["close_wait"]
	for _, k := range []string{"close_wait_remote", "close_wait_at_evidence"} {
		if n, ok := truth.Counts[k]; ok {
			count = n
		}
	}
	if f.SocketCount != count {
		t.Errorf("%d sockets, want %d", f.SocketCount, count)
	}
	holder, _ := truth.Holder["function"].(string)
	if holder == "" || len(f.Suspects) == 0 {
		if holder != "" && hasDump(m) {
			t.Errorf("no suspect, want %s", holder)
		}
		return
	}
	holder, _, _ = strings.Cut(holder, " ")
	s := f.Suspects[0]
	if s.Culprit != holder && !slices.Contains(s.Frames, holder) {
		t.Errorf("first suspect %s (culprit %s, frames %v) does not hold %s", s.Name, s.Culprit, s.Frames, holder)
	}
	if s.Link != report.StrengthStrong {
		t.Errorf("first suspect's link is %s, want strong: %v", s.Link, s.Why)
	}
}

func hasDump(m *report.Model) bool {
	for _, in := range m.Inputs {
		switch in.Kind {
		case "jstack", "jvm-json", "jvm-text", "goroutines", "goroutine-profile", "pprof", "python", "py-spy-json":
			return true
		}
	}
	return false
}

func TestAnalyzeFlags(t *testing.T) {
	inRoot(t)
	java := "testdata/cases/java-pool-leak"
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"below the thresholds", []string{"--fail-on", "warning", java}, 0, ""},
		{"fd limit makes 4 sockets critical", []string{"--fail-on", "critical", "--max-fds", "6", java}, exitFinding, "is critical"},
		{"warning reached by critical", []string{"--fail-on", "warning", "--max-fds", "6", java}, exitFinding, "--fail-on warning"},
		{"bad output extension", []string{"-o", "report.pdf", java}, exitUsage, "unknown report format"},
		{"bad --dump", []string{"--dump", "java=jstack.txt", java}, exitUsage, "want PID=FILE"},
		{"missing path", []string{"testdata/cases/nope"}, exitUsage, "no such file"},
		{"bad --local", []string{"--local", "nowhere", java}, exitFailure, "--local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := cli(t, append([]string{"analyze", "--format", "json"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.err) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.err)
			}
		})
	}
}

// TestAnalyzeDumpFlag links an unlinkable dump with --dump: a goroutine
// dump that prints no pid, beside listings of two Go processes, names
// neither.
func TestAnalyzeDumpFlag(t *testing.T) {
	inRoot(t)
	dir := "testdata/cases/go-server-noclose/"
	args := []string{"analyze", "--format", "json", dir + "ss-tanpoei.txt", dir + "goroutine-debug2.txt", "testdata/cases/go-client-pool-leak/ss-tanpoei.txt"}
	_, out, _ := cli(t, args...)
	if !strings.Contains(out, "dump not linked to a process") {
		t.Fatalf("two processes and an anonymous dump: no warning\n%s", out)
	}
	_, out, _ = cli(t, append(args, "--dump", "21535="+dir+"goroutine-debug2.txt")...)
	checkLinked(t, out, "--dump")

	// The process's name in the dump's file name links it too.
	named := filepath.Join(t.TempDir(), "noclose-server-goroutines.txt")
	raw, err := os.ReadFile(dir + "goroutine-debug2.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(named, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ = cli(t, "analyze", "--format", "json", dir+"ss-tanpoei.txt", named, "testdata/cases/go-client-pool-leak/ss-tanpoei.txt")
	checkLinked(t, out, "the process name in the file name")
}

func checkLinked(t *testing.T, out, how string) {
	t.Helper()
	m, err := report.ReadJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Findings {
		if f.Process.PID == 21535 && len(f.Suspects) > 0 && f.Suspects[0].Culprit == "main.(*server).waitAudit" {
			return
		}
	}
	t.Errorf("%s did not link the dump: %+v", how, m.Verdict)
}

// TestAnalyzeHostileCase checks the real case whose thread and process
// names hold HTML, Markdown and control characters: every format keeps
// them as text.
func TestAnalyzeHostileCase(t *testing.T) {
	inRoot(t)
	for _, format := range []string{"html", "md", "json"} {
		_, out, _ := cli(t, "analyze", "--format", format, "testdata/cases/hostile-names")
		if strings.Contains(out, "<script") || strings.Contains(out, "<b>api") {
			t.Errorf("%s: raw markup from the evidence", format)
		}
		for _, c := range out {
			if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c == '\u202e' {
				t.Errorf("%s: control character %U in the output", format, c)
				break
			}
		}
		if format == "md" {
			checkMarkdownTables(t, out)
		}
	}
}

// checkMarkdownTables checks that every row of every table has as many
// cell separators (unescaped pipes) as the table's header: evidence with a
// pipe in it must not add a column.
func checkMarkdownTables(t *testing.T, md string) {
	t.Helper()
	want := -1
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = -1
			continue
		}
		n := strings.Count(line, "|") - strings.Count(line, `\|`)
		if want < 0 {
			want = n
		} else if n != want {
			t.Errorf("table row with %d separators, header has %d: %q", n, want, line)
		}
	}
}
