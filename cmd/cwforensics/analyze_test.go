package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
	// LocalClient is, when the leak is the remote peer's, our process
	// whose connections to the peer they were: the report may name it as
	// the local side (or name nobody), never as the owner of a leak.
	LocalClient struct {
		Name string `json:"name"`
		PID  int    `json:"pid"`
	} `json:"local_client"`
	RootCause string         `json:"root_cause"`
	Holder    map[string]any `json:"holder"`
	Counts    map[string]int `json:"counts"`
	// Groups, when present, are every group of stuck sockets the report
	// must find, one finding each, whatever their order.
	Groups []caseGroup `json:"groups"`
}

// knownGaps is testdata/known-gaps.json: per case, the checks of
// checkTruth today's analyze is known to fail (key: the check, value: what
// the report says instead). The cases' own files are as their scripts
// made them; what the tool gets wrong about them is kept here. A listed
// check that fails is logged; one that passes fails the test, so the entry
// goes once the tool gets it right.
func knownGaps(t *testing.T) map[string]map[string]string {
	t.Helper()
	raw, err := os.ReadFile("cmd/cwforensics/testdata/known-gaps.json")
	if err != nil {
		t.Fatal(err)
	}
	var gaps map[string]map[string]string
	if err := json.Unmarshal(raw, &gaps); err != nil {
		t.Fatalf("known-gaps.json: %v", err)
	}
	return gaps
}

// caseGroup is one group of stuck sockets of a case: who holds them, how
// many, why, and the function holding them when a thread or goroutine does.
type caseGroup struct {
	PID       int    `json:"pid"` // 0: no process (not accepted yet, or orphaned)
	Name      string `json:"name"`
	Category  string `json:"category"`
	CloseWait int    `json:"close_wait"`
	Holder    string `json:"holder_frame"` // empty when no thread holds them
	Peer      string `json:"peer"`         // the remote end to blame, when the fault is the peer's
	// LastExchange, when set, is the finding's last_exchange: it tells
	// apart two groups of one process and category.
	LastExchange string `json:"last_exchange"`
	// Upgrade, when set, is the finding's upgrade: how the group's
	// connections left HTTP/1.x (101, connect).
	Upgrade string `json:"upgrade"`
}

// gapCheck reports the outcome of one named check of a case, turned around
// for the checks its case.json lists as known gaps of the tool.
type gapCheck struct {
	t    *testing.T
	gaps map[string]string
	seen map[string]bool
}

func (g gapCheck) check(key string, ok bool, format string, args ...any) {
	g.t.Helper()
	g.seen[key] = true
	gap, known := g.gaps[key]
	switch {
	case !ok && known:
		g.t.Logf("known gap %s (%s): "+format, append([]any{key, gap}, args...)...)
	case !ok:
		g.t.Errorf("%s: "+format, append([]any{key}, args...)...)
	case known:
		g.t.Errorf("%s is right now: remove it from testdata/known-gaps.json", key)
	}
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
	gaps := knownGaps(t)
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
			checkTruth(t, m, truth, gaps[name])
		})
	}
}

func checkTruth(t *testing.T, m *report.Model, truth caseTruth, gaps map[string]string) {
	t.Helper()
	if len(m.Findings) == 0 {
		t.Fatalf("no finding; verdict %q", m.Verdict.Text)
	}
	c := gapCheck{t, gaps, map[string]bool{}}
	defer func() {
		for k := range gaps {
			if !c.seen[k] {
				t.Errorf("known-gaps.json lists %s, which is not checked", k)
			}
		}
	}()
	want := truth.RootCause
	if want == "remote-peer-leak" && truth.Process.PID != 0 {
		// Made over loopback, the peer runs on this host too: its sockets
		// in CLOSE_WAIT are listed, so its missing close is the finding
		// and our FIN_WAIT2 ends are shown beside it.
		want = "missing-close"
	}
	if n, ok := truth.Counts["fin_wait2_local"]; ok {
		c.check("fin_wait2", m.Summary.FinWait2 == n, "%d sockets in FIN_WAIT2, want %d", m.Summary.FinWait2, n)
	}
	f := m.Findings[0]
	c.check("process", f.Process.PID == truth.Process.PID && f.Process.Name == truth.Process.Name || truth.localSide(f),
		"process %s, want %s (pid %d)", f.Process, truth.Process.Name, truth.Process.PID)
	if len(truth.Groups) > 0 {
		checkGroups(c, m, truth)
		return
	}
	c.check("category", f.Category.String() == want && m.Verdict.Category.String() == want,
		"root cause %s (verdict %s), want %s: %s", f.Category, m.Verdict.Category, want, m.Verdict.Text)
	count := truth.Counts["close_wait"]
	for _, k := range []string{"close_wait_remote", "close_wait_at_evidence"} {
		if n, ok := truth.Counts[k]; ok {
			count = n
		}
	}
	c.check("count", f.SocketCount == count, "%d sockets, want %d", f.SocketCount, count)
	holder, _ := truth.Holder["function"].(string)
	holder, _, _ = strings.Cut(holder, " ")
	if holder != "" && (len(f.Suspects) > 0 || hasDump(m)) {
		c.check("holder", holds(f, holder), "first suspect %v does not hold %s", firstSuspect(f), holder)
		if len(f.Suspects) > 0 {
			s := f.Suspects[0]
			c.check("link", s.Link == report.StrengthStrong, "first suspect's link is %s, want strong: %v", s.Link, s.Why)
		}
	}
}

// checkGroups checks every group of a case with several: one finding each,
// with its category, count and holder.
func checkGroups(c gapCheck, m *report.Model, truth caseTruth) {
	c.t.Helper()
	for i, g := range truth.Groups {
		key := fmt.Sprintf("groups/%d/", i)
		f, ok := findingOf(m, g, truth)
		c.check(key+"found", ok, "no finding for %s (pid %d)", g.Name, g.PID)
		if !ok {
			continue
		}
		c.check(key+"category", f.Category.String() == g.Category, "%s (pid %d): %s, want %s", g.Name, g.PID, f.Category, g.Category)
		if g.Peer != "" {
			c.check(key+"peer", strings.Contains(m.Verdict.Text, g.Peer) || strings.Contains(f.Title, g.Peer),
				"the verdict (%q) and the finding's title (%q) do not name the peer %s", m.Verdict.Text, f.Title, g.Peer)
		}
		if g.Upgrade != "" {
			c.check(key+"upgrade", f.Upgrade.String() == g.Upgrade, "%s (pid %d): upgrade %s, want %s: %s", g.Name, g.PID, f.Upgrade, g.Upgrade, f.Group)
		}
		c.check(key+"count", f.SocketCount == g.CloseWait, "%s (pid %d): %d sockets, want %d", g.Name, g.PID, f.SocketCount, g.CloseWait)
		if g.Holder != "" {
			c.check(key+"holder", holds(f, g.Holder), "%s (pid %d): first suspect %v does not hold %s", g.Name, g.PID, firstSuspect(f), g.Holder)
			if holds(f, g.Holder) {
				c.check(key+"link", f.Suspects[0].Link == report.StrengthStrong, "%s (pid %d): link %s, want strong: %v", g.Name, g.PID, f.Suspects[0].Link, f.Suspects[0].Why)
			}
		} else {
			c.check(key+"holder", len(f.Suspects) == 0 || f.Suspects[0].Link != report.StrengthStrong,
				"%s (pid %d): no thread holds these sockets, yet %v is strongly linked", g.Name, g.PID, firstSuspect(f))
		}
	}
}

// findingOf is the finding of the group's process (by pid; by name too
// when the group has no pid), the one of the group's category when the
// process has several.
func findingOf(m *report.Model, g caseGroup, truth caseTruth) (report.Finding, bool) {
	var found []report.Finding
	for _, f := range m.Findings {
		if f.Process.PID == g.PID && (g.PID != 0 || f.Process.Name == g.Name) ||
			g.PID == 0 && g.Category == f.Category.String() && truth.localSide(f) {
			found = append(found, f)
		}
	}
	for _, f := range found {
		if f.Category.String() == g.Category && (g.LastExchange == "" || f.LastExchange.String() == g.LastExchange) {
			return f, true
		}
	}
	if len(found) == 0 {
		return report.Finding{}, false
	}
	return found[0], true
}

// holds reports whether the finding's first suspect is, or has in its
// stack, the function.
func holds(f report.Finding, function string) bool {
	if len(f.Suspects) == 0 {
		return false
	}
	s := f.Suspects[0]
	return s.Culprit == function || slices.Contains(s.Frames, function)
}

func firstSuspect(f report.Finding) string {
	if len(f.Suspects) == 0 {
		return "none"
	}
	return f.Suspects[0].Name + " (culprit " + f.Suspects[0].Culprit + ")"
}

func hasDump(m *report.Model) bool {
	for _, l := range m.DumpLinks {
		if l.PID > 0 {
			return true // a runtime report's or a log's stacks too
		}
	}
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
		{"a confirmed leak is a warning, below critical", []string{"--fail-on", "critical", java}, 0, ""},
		{"a confirmed leak is at least a warning", []string{"--fail-on", "warning", java}, exitFinding, "--fail-on warning"},
		{"fd limit makes 4 sockets critical", []string{"--fail-on", "critical", "--max-fds", "6", java}, exitFinding, "is critical"},
		{"warning reached by critical", []string{"--fail-on", "warning", "--max-fds", "6", java}, exitFinding, "--fail-on warning"},
		{"bad output extension", []string{"-o", "report.pdf", java}, exitUsage, "unknown report format"},
		{"bad --dump", []string{"--dump", "java=jstack.txt", java}, exitUsage, "want PID=FILE"},
		{"missing path", []string{"testdata/cases/nope"}, exitFailure, "no such file"},
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

// TestAnalyzeDumpFlag links a goroutine dump that prints no pid, beside
// listings of two Go processes: by its content (as many goroutines on
// connections as the server has sockets), by --dump, which overrides, and
// the file name is only a hint.
func TestAnalyzeDumpFlag(t *testing.T) {
	inRoot(t)
	dir := "testdata/cases/go-server-noclose/"
	args := []string{"analyze", "--format", "json", dir + "ss-tanpoei.txt", dir + "goroutine-debug2.txt", "testdata/cases/go-client-pool-leak/ss-tanpoei.txt"}
	_, out, _ := cli(t, args...)
	if strings.Contains(out, "dump not linked to a process") {
		t.Fatalf("two processes, a dump whose content fits one: not linked\n%s", out)
	}
	checkLinked(t, out, "content")
	_, out, _ = cli(t, append(args, "--dump", "21535="+dir+"goroutine-debug2.txt")...)
	checkLinked(t, out, "flag")

	// The process's name in the dump's file name adds to the score.
	named := filepath.Join(t.TempDir(), "noclose-server-goroutines.txt")
	raw, err := os.ReadFile(dir + "goroutine-debug2.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(named, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ = cli(t, "analyze", "--format", "json", dir+"ss-tanpoei.txt", named, "testdata/cases/go-client-pool-leak/ss-tanpoei.txt")
	checkLinked(t, out, "content")
}

func checkLinked(t *testing.T, out, how string) {
	t.Helper()
	m, err := report.ReadJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	linked := false
	for _, d := range m.DumpLinks {
		linked = linked || (d.PID == 21535 && d.Method == how)
	}
	for _, f := range m.Findings {
		if linked && f.Process.PID == 21535 && len(f.Suspects) > 0 && f.Suspects[0].Culprit == "main.(*server).waitAudit" {
			return
		}
	}
	t.Errorf("%s did not link the dump: %+v %+v", how, m.Verdict, m.DumpLinks)
}

// TestAnalyzeHostileCase checks the real case whose thread and process
// names hold HTML, Markdown and control characters: every format keeps
// them as text.
func TestAnalyzeHostileCase(t *testing.T) {
	inRoot(t)
	for _, format := range []string{"html", "md", "json"} {
		_, out, _ := cli(t, "analyze", "--format", format, "testdata/cases/hostile-names")
		// The HTML page's own script, with no "<" inside, is the only one.
		out = regexp.MustCompile(`<script id="cwf-script">[^<]*</script>`).ReplaceAllString(out, "")
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

// localSide reports whether f is the remote peer's leak, given to the
// local client the case names (by name, its pid when the evidence has it).
func (truth caseTruth) localSide(f report.Finding) bool {
	lc := truth.LocalClient
	return truth.Process.PID == 0 && f.Category == report.CategoryRemotePeerLeak && lc.Name != "" &&
		f.Process.Name == lc.Name && (f.Process.PID == 0 || f.Process.PID == lc.PID)
}
