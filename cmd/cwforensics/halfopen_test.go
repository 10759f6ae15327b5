package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// TestConnsHalfOpen runs conns on a small SYN flood: --state all lists
// every half-open connection; --state close-wait only counts them, in
// the JSON's half_open, with the same summary line.
func TestConnsHalfOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flood.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := capgen.Flood(f, capgen.FloodOptions{SYNs: 200, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	code, all, stderr := cli(t, "conns", path)
	if code != 0 || strings.Count(all, "10.255.0.1:80") != 200 {
		t.Fatalf("--state all: exit %d, %d rows to the target, stderr %q", code, strings.Count(all, "10.255.0.1:80"), stderr)
	}
	code, cw, _ := cli(t, "conns", "--state", "close-wait", path)
	if code != 0 || strings.Contains(cw, "10.255.0.1:80") || lastLine(cw) != lastLine(all) {
		t.Errorf("--state close-wait: exit %d, summary %q, want %q and no row:\n%s", code, lastLine(cw), lastLine(all), cw)
	}
	code, js, _ := cli(t, "conns", "--state", "close-wait", "--format", "json", path)
	var doc struct {
		Connections int
		Conns       []json.RawMessage
		HalfOpen    []struct {
			Local       string
			Conns       int
			FirstPacket string `json:"first_packet"`
			LastPacket  string `json:"last_packet"`
		} `json:"half_open"`
	}
	if err := json.Unmarshal([]byte(js), &doc); code != 0 || err != nil {
		t.Fatalf("--format json: exit %d, %v", code, err)
	}
	if doc.Connections != 200 || len(doc.Conns) != 0 || len(doc.HalfOpen) != 1 || doc.HalfOpen[0].Conns != 200 || doc.HalfOpen[0].Local != "10.255.0.1:80" ||
		!strings.HasSuffix(doc.HalfOpen[0].FirstPacket, ": packet 1") || !strings.HasSuffix(doc.HalfOpen[0].LastPacket, ": packet 200") {
		t.Errorf("JSON: %d connections, %d conns, half_open %+v; want 200, 0, 200 to 10.255.0.1:80", doc.Connections, len(doc.Conns), doc.HalfOpen)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
