package sockets

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
)

type socketReader func(io.Reader, string) (dumps.SocketEvidence, []dumps.Warning, error)

// socketReaders are every socket parser, by name.
var socketReaders = []struct {
	name string
	read socketReader
}{
	{"ss", ReadSS},
	{"lsof", ReadLsof},
	{"lsof-fields", ReadLsofFields},
	{"netstat", ReadNetstat},
	{"proc-net-tcp", ReadProcNetTCP},
	{"proc-fd", ReadProcFD},
	{"proc-limits", ReadProcLimits},
	{"ulimit", ReadUlimit},
	{"ps", ReadPS},
}

// socketSeeds is every socket input: ours and jc's.
func socketSeeds(t testing.TB) [][]byte {
	t.Helper()
	files := socketInputs(t)
	jc, _ := filepath.Glob("../../testdata/conformance/sockets/jc/*")
	more, _ := filepath.Glob("../../testdata/sockets/jc/*")
	jc = append(jc, more...)
	for _, f := range jc {
		if !strings.HasSuffix(f, ".json") {
			files = append(files, f)
		}
	}
	var seeds [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return seeds
}

// checkSocketInvariants checks what must hold for any input: positions are
// 1-based lines, snapshots are numbered in order and every record points at
// one of them.
func checkSocketInvariants(t *testing.T, ev dumps.SocketEvidence, warns []dumps.Warning) {
	t.Helper()
	for _, w := range warns {
		if w.Pos.Line < 1 {
			t.Errorf("warning without a line: %v", w)
		}
	}
	for i, s := range ev.SocketSnapshots {
		if s.Index != i || s.Src.Line < 1 {
			t.Errorf("snapshot %d: %+v", i, s)
		}
	}
	snap := func(what string, i int, p dumps.Pos) {
		if p.Line < 1 || i < 0 || i >= len(ev.SocketSnapshots) {
			t.Errorf("%s at %v: snapshot %d of %d", what, p, i, len(ev.SocketSnapshots))
		}
	}
	for _, s := range ev.Sockets {
		snap("socket", s.Snapshot, s.Src)
	}
	for _, s := range ev.SocketSummaries {
		snap("summary", s.Snapshot, s.Src)
	}
	for _, f := range ev.FDs {
		snap("fd", f.Snapshot, f.Src)
	}
	for _, l := range ev.Limits {
		snap("limit", l.Snapshot, l.Src)
	}
	for _, p := range ev.Procs {
		snap("process", p.Snapshot, p.Src)
		if p.PID < 0 {
			t.Errorf("process at %v: pid %d", p.Src, p.PID)
		}
	}
	for _, b := range ev.BootTimes {
		if b.Src.Line < 1 {
			t.Errorf("boot time without a line: %+v", b)
		}
	}
}

func fuzzSocketReader(f *testing.F, read socketReader) {
	for _, s := range socketSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, warns, err := read(bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatalf("in-memory input failed: %v", err)
		}
		checkSocketInvariants(t, ev, warns)
		// Deterministic, and always encodable as the documented JSON.
		ev2, warns2, _ := read(bytes.NewReader(data), "fuzz")
		j1, err1 := json.Marshal(struct {
			E dumps.SocketEvidence
			W []dumps.Warning
		}{ev, warns})
		j2, err2 := json.Marshal(struct {
			E dumps.SocketEvidence
			W []dumps.Warning
		}{ev2, warns2})
		if err1 != nil || err2 != nil || !bytes.Equal(j1, j2) {
			t.Fatalf("JSON %v %v, or two reads differ", err1, err2)
		}
	})
}

func FuzzReadSS(f *testing.F)         { fuzzSocketReader(f, ReadSS) }
func FuzzReadLsof(f *testing.F)       { fuzzSocketReader(f, ReadLsof) }
func FuzzReadLsofFields(f *testing.F) { fuzzSocketReader(f, ReadLsofFields) }
func FuzzReadNetstat(f *testing.F)    { fuzzSocketReader(f, ReadNetstat) }
func FuzzReadProcNetTCP(f *testing.F) { fuzzSocketReader(f, ReadProcNetTCP) }
func FuzzReadProcFD(f *testing.F)     { fuzzSocketReader(f, ReadProcFD) }
func FuzzReadProcLimits(f *testing.F) { fuzzSocketReader(f, ReadProcLimits) }
func FuzzReadUlimit(f *testing.F)     { fuzzSocketReader(f, ReadUlimit) }
func FuzzReadPS(f *testing.F)         { fuzzSocketReader(f, ReadPS) }

// FuzzSniffSockets checks that Sniff and Read agree and never fail on
// in-memory input except with dumps.ErrUnknownFormat.
func FuzzSniffSockets(f *testing.F) {
	for _, s := range socketSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kind, err := testChain().Sniff(data)
		ev, rerr := testChain().Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !errors.Is(err, dumps.ErrUnknownFormat) || !errors.Is(rerr, dumps.ErrUnknownFormat) {
				t.Fatalf("Sniff: %v, Read: %v", err, rerr)
			}
			return
		}
		if rerr != nil {
			t.Fatalf("Read after Sniff said %s: %v", kind, rerr)
		}
		if ev.Kind != kind {
			t.Fatalf("Read says %s, Sniff %s", ev.Kind, kind)
		}
	})
}

// TestSocketReadersHostileInput feeds every parser the inputs the issue
// names: binary garbage, a 10 MB line, a file cut in the middle of a line.
// Each must give warnings or nothing, never an error or a panic, and go on
// after the damage.
func TestSocketReadersHostileInput(t *testing.T) {
	huge := strings.Repeat("tcp CLOSE-WAIT 0 0 ", 10<<20/20)
	good := "tcp CLOSE-WAIT 1 0 10.0.0.1:80 10.0.0.2:5000\n"
	inputs := map[string]string{
		"binary":    "\x00\xff\xfe\x01ss\x00\n\x80\x81 users:((\"\n\x1b[31m",
		"long line": huge + "\n" + good,
		"truncated": "State Recv-Q Send-Q Local Address:Port Peer Address:Port\nCLOSE-WAIT 1 0 10.0.0.1:80 10.0.0.2:5",
		"only cr":   strings.Repeat("\r", 1000),
		// 200k continuation lines under one row: linear, with warnings.
		"continuations": "tcp ESTAB 0 0 1.2.3.4:5 6.7.8.9:10\n" + strings.Repeat("\t cubic wscale:7,7 rto:204\n", 200000) +
			"  TCP    0.0.0.0:135    0.0.0.0:0    LISTENING    1712\n" + strings.Repeat("  RpcSs\n", 200000),
	}
	for _, r := range socketReaders {
		for name, in := range inputs {
			t.Run(r.name+"/"+name, func(t *testing.T) {
				ev, warns, err := r.read(strings.NewReader(in), "in")
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				checkSocketInvariants(t, ev, warns)
				if name == "long line" {
					if len(warns) == 0 || warns[0].Pos.Line != 1 || !strings.Contains(warns[0].Msg, "longer than") {
						t.Errorf("want a warning for line 1 being too long, got %v", warns)
					}
				}
			})
		}
	}
	// Read (Sniff, then the parser) gives records or a clear error.
	for name, in := range inputs {
		ev, err := testChain().Read(strings.NewReader(in), "in")
		if err != nil && !errors.Is(err, dumps.ErrUnknownFormat) {
			t.Errorf("Read(%s): %v", name, err)
		}
		if err == nil {
			checkSocketInvariants(t, ev.SocketEvidence, nil)
		}
	}
	// ss goes on after the long line and reads the good one.
	ev, _, _ := ReadSS(strings.NewReader(inputs["long line"]), "in")
	if n := len(ev.Sockets); n == 0 || ev.Sockets[n-1].Src.Line != 2 || ev.Sockets[n-1].State != dumps.StateCloseWait {
		t.Errorf("the line after the long one was not read: %+v", ev.Sockets)
	}
}
