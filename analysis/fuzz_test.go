package analysis

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cwforensics/cwforensics/report"
)

// FuzzRecognise runs the chain of recognisers and readers on arbitrary
// bytes, seeded from a case's files, plain, gzipped and in UTF-16: it must
// never panic, and every source must come out with a status.
func FuzzRecognise(f *testing.F) {
	files, _ := filepath.Glob(caseDir + "*")
	// The runtime formats' own samples: Node.js reports, Python dumps,
	// logs with JavaScript stacks.
	for _, pat := range []string{"../dumps/node/testdata/*.json", "../dumps/python/testdata/*", "../dumps/applog/testdata/*.log"} {
		more, _ := filepath.Glob(pat)
		files = append(files, more...)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil || len(data) > 64<<10 {
			continue
		}
		f.Add(data)
	}
	f.Add(toUTF16("State Recv-Q Send-Q Local Address:Port Peer Address:Port\nESTAB 0 0 10.0.0.1:80 10.0.0.2:5000\n", false, true))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add(pcapWith([]byte("goroutine profile: total 1\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Analyze(context.Background(), []Source{Bytes("fuzz", data)}, Options{})
		if err != nil {
			return // nothing usable, or a capture the engine refused
		}
		if len(m.Inputs) != 1 || m.Inputs[0].Status == report.InputUnknown {
			t.Fatalf("inputs %+v", m.Inputs)
		}
	})
}
