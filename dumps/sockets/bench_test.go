package sockets

import (
	"bytes"
	"os"
	"testing"
)

// benchSocketReader reads path repeated 20 times (as a file of 20
// snapshots) so that per-call set-up does not dominate, and reports lines/s.
func benchSocketReader(b *testing.B, read socketReader, path string) {
	one, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat(one, 20)
	perRun := bytes.Count(data, []byte("\n"))
	lines := 0
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := read(bytes.NewReader(data), "bench"); err != nil {
			b.Fatal(err)
		}
		lines += perRun
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

const jcDir = "../../testdata/conformance/sockets/jc/"

func BenchmarkReadSS(b *testing.B) {
	benchSocketReader(b, ReadSS, jcDir+"ubuntu-18.04_ss-sudo-tulpen.out")
}

func BenchmarkReadLsof(b *testing.B) {
	benchSocketReader(b, ReadLsof, jcDir+"ubuntu-18.04_lsof-sudo.out")
}

func BenchmarkReadLsofFields(b *testing.B) {
	benchSocketReader(b, ReadLsofFields, "../../testdata/sockets/real-lsof-fields.txt")
}

func BenchmarkReadNetstat(b *testing.B) {
	benchSocketReader(b, ReadNetstat, jcDir+"windows-10_netstat-aonb.out")
}

func BenchmarkReadProcNetTCP(b *testing.B) {
	benchSocketReader(b, ReadProcNetTCP, jcDir+"linux-proc_net_tcp")
}

func BenchmarkReadProcLimits(b *testing.B) {
	benchSocketReader(b, ReadProcLimits, "../../testdata/sockets/real-proc-limits.txt")
}

// BenchmarkSniffSockets measures format recognition on a 64 KiB head.
func BenchmarkSniffSockets(b *testing.B) {
	data, err := os.ReadFile(jcDir + "ubuntu-18.04_lsof-sudo.out")
	if err != nil {
		b.Fatal(err)
	}
	if len(data) > sniffLen {
		data = data[:sniffLen]
	}
	perRun := bytes.Count(data, []byte("\n"))
	lines := 0
	for b.Loop() {
		if _, err := testChain().Sniff(data); err != nil {
			b.Fatal(err)
		}
		lines += perRun
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkReadPS(b *testing.B) {
	benchSocketReader(b, ReadPS, "../../testdata/sockets/real-ps-eo.txt")
}

// BenchmarkParseLstart measures the start time of one ps row, as
// parsePSRow reads it.
func BenchmarkParseLstart(b *testing.B) {
	ws := []string{"Thu", "Dec", "3", "07:22:57", "2026"}
	for b.Loop() {
		if _, err := parseLstart(ws); err != nil {
			b.Fatal(err)
		}
	}
}
