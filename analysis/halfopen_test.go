package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
	"github.com/cwforensics/cwforensics/report"
)

// TestAnalyzeHalfOpen analyzes a SYN flood mixed with ordinary traffic
// that leaves connections in CLOSE_WAIT: the flood is one note (count,
// sources, first and last packet) in every format and no socket, while the
// CLOSE_WAIT sockets are reported as without it.
func TestAnalyzeHalfOpen(t *testing.T) {
	var flood, load bytes.Buffer
	fo := capgen.FloodOptions{SYNs: 5000, PerSecond: 1000, Seed: 9}
	if _, err := capgen.Flood(&flood, fo); err != nil {
		t.Fatal(err)
	}
	st, err := capgen.Load(&load, capgen.LoadOptions{Conns: 400, Open: 40, LeakEvery: 8, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	analyze := func(srcs ...Source) *report.Model {
		t.Helper()
		m, err := Analyze(context.Background(), srcs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := analyze(Bytes("flood.pcap", flood.Bytes()), Bytes("load.pcap", load.Bytes()))
	alone := analyze(Bytes("load.pcap", load.Bytes()))
	if len(m.HalfOpen) != 1 {
		t.Fatalf("half-open notes %+v, want one", m.HalfOpen)
	}
	h := m.HalfOpen[0]
	sources := map[string]bool{}
	for i := range fo.SYNs {
		sources[capgen.FloodSource(i, fo.Seed, false).Addr().String()] = true
	}
	if h.Conns != fo.SYNs || h.Sources != len(sources) || h.Local.Port != 80 || h.FirstPacket.String() != "flood.pcap: packet 1" || h.LastPacket.String() != "flood.pcap: packet 5000" {
		t.Errorf("note %+v, want %d conns from %d sources to port 80, packets 1 to 5000", h, fo.SYNs, len(sources))
	}
	// docs/report.md shows this note as its example.
	want := "5,000 half-open connections (SYNs never answered) to local port 80 (10.255.0.1:80) from " + report.FormatCount(len(sources)) +
		" sources, between 2026-03-14 15:09:26 UTC and 2026-03-14 15:09:31 UTC: a SYN flood, or a listener whose accept backlog is full, not CLOSE_WAIT;" +
		" first SYN at flood.pcap: packet 1, last packet at flood.pcap: packet 5000."
	if h.Text != want {
		t.Errorf("text\n%q, want\n%q", h.Text, want)
	}
	guide, err := os.ReadFile("../docs/report.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(strings.Fields(string(guide)), " "), "*"+want+"*") {
		t.Errorf("docs/report.md does not show the note %q", want)
	}
	if m.Summary.CloseWait != st.CloseWait || m.Summary.CloseWait != alone.Summary.CloseWait || len(m.Sockets) != len(alone.Sockets) {
		t.Errorf("%d stuck, %d sockets with the flood; %d, %d without; want %d stuck", m.Summary.CloseWait, len(m.Sockets), alone.Summary.CloseWait, len(alone.Sockets), st.CloseWait)
	}
	if m.Summary.Connections != alone.Summary.Connections+fo.SYNs {
		t.Errorf("%d connections, want the load's %d and the flood's %d", m.Summary.Connections, alone.Summary.Connections, fo.SYNs)
	}
	var md, html, js bytes.Buffer
	if err := report.WriteMarkdown(&md, m); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteHTML(&html, m); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJSON(&js, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## Half-open connections\n") || !strings.Contains(md.String(), "- 5,000 half-open connections") {
		t.Errorf("Markdown has no half-open note:\n%s", md.String())
	}
	if !strings.Contains(html.String(), `<h2 id="half-open">`) || !strings.Contains(html.String(), "<li>5,000 half-open connections") {
		t.Error("HTML has no half-open note")
	}
	var doc struct {
		HalfOpen []report.HalfOpenNote `json:"half_open"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || len(doc.HalfOpen) != 1 || doc.HalfOpen[0].Conns != fo.SYNs {
		t.Errorf("JSON half_open %+v (%v)", doc.HalfOpen, err)
	}
	for _, s := range m.Sockets {
		if s.Local.Port == 80 && strings.HasPrefix(s.Remote.Addr.String(), "100.") {
			t.Errorf("a flood connection is a socket: %+v", s)
		}
	}
}
