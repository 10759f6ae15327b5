package capgen

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/internal/golden"
	"github.com/google/go-cmp/cmp"
)

const (
	docPath  = "../../docs/capgen.md"
	docBegin = "<!-- scenarios:begin (go test ./pcapstate/capgen -update) -->\n"
	docEnd   = "<!-- scenarios:end -->\n"
)

// scenarioTable renders the scenarios and their verdicts as Markdown.
func scenarioTable() string {
	var b strings.Builder
	b.WriteString("| scenario | what happens and why | client 10.0.0.1:40000 | server 10.0.0.2:8080 (local) |\n|---|---|---|---|\n")
	for _, s := range Scenarios(Options{}) {
		for i, e := range s.Conns {
			name := "`" + s.Name + "`"
			doc := s.Doc
			if len(s.Conns) > 1 {
				name += fmt.Sprintf(" #%d", i+1)
				if i > 0 {
					doc = "(second connection)"
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, doc, endpointCell(s.Capture, e.Client), endpointCell(s.Capture, e.Server))
		}
	}
	return b.String()
}

func endpointCell(c *Capture, e Endpoint) string {
	var parts []string
	st := string(e.State)
	if st == "" {
		st = "(unknown)"
	}
	if !e.Since.IsZero() {
		st += fmt.Sprintf(" since #%d", packetAt(c, e.Since))
	}
	parts = append(parts, st)
	if e.CloseWait != "" {
		parts = append(parts, "**"+string(e.CloseWait)+"**")
	}
	for _, m := range e.Markers {
		parts = append(parts, "`"+string(m)+"`")
	}
	ev := e.Evidence
	var evs []string
	for _, x := range []struct {
		name string
		n    int
	}{{"SYN", ev.SYN}, {"FIN", ev.FIN}, {"ACK of FIN", ev.FINAck}, {"RST", ev.RST}} {
		if x.n != 0 {
			evs = append(evs, fmt.Sprintf("%s #%d", x.name, x.n))
		}
	}
	if len(evs) > 0 {
		parts = append(parts, strings.Join(evs, ", "))
	}
	parts = append(parts, fmt.Sprintf("%d pkts, %d B", e.Packets, e.Bytes))
	return strings.Join(parts, "; ")
}

// packetAt is the number of the packet captured at t.
func packetAt(c *Capture, t time.Time) int {
	for i, p := range c.pkts {
		if p.Time.Equal(t) {
			return i + 1
		}
	}
	return 0
}

// TestDocScenarioTable keeps the scenario table of docs/capgen.md in step
// with Scenarios.
func TestDocScenarioTable(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(doc), docBegin)
	table, after, ok2 := strings.Cut(rest, docEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s: no scenario table markers", docPath)
	}
	got := scenarioTable()
	if golden.Updating() {
		if err := os.WriteFile(docPath, []byte(before+docBegin+got+docEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(table, got); diff != "" {
		t.Errorf("%s is stale (go test ./pcapstate/capgen -update, then review git diff):\n%s", docPath, diff)
	}
}

// TestGoldenDigests pins the SHA-256 of every scenario in a few formats, so
// that any change to the bytes (and to the engine tests built on them) shows
// up in review.
func TestGoldenDigests(t *testing.T) {
	var b strings.Builder
	for _, v := range Variants() {
		for _, s := range Scenarios(v.Options) {
			for _, f := range []Format{{}, {Pcapng: true, BigEndian: true, TSResol: 9}} {
				for i := range s.Capture.Files() {
					data, err := s.Capture.File(i).Bytes(f)
					if err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(&b, "%x %s %s.%d%s\n", sha256.Sum256(data), v.Name, s.Name, i, f.Ext())
				}
			}
		}
	}
	var load bytes.Buffer
	if _, err := Load(&load, LoadOptions{Conns: 200, Open: 20, LeakEvery: 5, SnapLen: 96}); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "%x load 200 conns\n", sha256.Sum256(load.Bytes()))
	golden.Check(t, "testdata/digests.golden", []byte(b.String()))
}
