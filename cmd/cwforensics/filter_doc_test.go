package main

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDocFilterExamples runs the filter examples of docs/conns.md (the
// table between the filter-examples markers) and checks how many packets
// each keeps.
func TestDocFilterExamples(t *testing.T) {
	inRoot(t)
	doc, err := os.ReadFile("docs/conns.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "<!-- filter-examples:")
	table, _, ok2 := strings.Cut(table, "<!-- /filter-examples -->")
	if !ok || !ok2 {
		t.Fatal("docs/conns.md has no filter-examples table")
	}
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := tableCells(line)
		if len(cells) != 3 || !strings.HasPrefix(cells[0], "`") {
			continue
		}
		expr, capture := strings.Trim(cells[0], "`"), strings.Trim(cells[1], "`")
		want, err := strconv.Atoi(cells[2])
		if err != nil {
			t.Fatalf("row %q: %v", line, err)
		}
		rows++
		code, out, stderr := cli(t, "conns", "--format", "json", "--filter", expr, capture)
		var res struct{ Packets, Filtered int }
		if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
			t.Errorf("--filter %q %s: exit %d, %v: %s", expr, capture, code, err, stderr)
			continue
		}
		if got := res.Packets - res.Filtered; got != want {
			t.Errorf("--filter %q %s: %d packets kept, the doc says %d", expr, capture, got, want)
		}
	}
	if rows < 10 {
		t.Errorf("only %d examples found", rows)
	}
}

// tableCells splits a Markdown table row on the pipes that are not
// escaped, and unescapes the others.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") {
		return nil
	}
	line = strings.ReplaceAll(line[1:len(line)-1], `\|`, "\x00")
	var cells []string
	for _, c := range strings.Split(line, "|") {
		cells = append(cells, strings.TrimSpace(strings.ReplaceAll(c, "\x00", "|")))
	}
	return cells
}
