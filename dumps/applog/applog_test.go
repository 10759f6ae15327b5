package applog

import (
	"bufio"
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

// TestGolden compares the records of every file of testdata/ with its
// .golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	dumptest.JSONGoldens(t, "testdata/*", Match, Read)
}

func TestClassify(t *testing.T) {
	for msg, want := range map[string]dumps.LogClass{
		"accept tcp [::]:8080: accept4: too many open files; retrying in 5ms":                 dumps.LogFDExhausted,
		"java.net.SocketException: Too many open files":                                       dumps.LogFDExhausted,
		"Error: connect EMFILE 10.0.0.9:443":                                                  dumps.LogFDExhausted,
		"OSError: [Errno 24] Too many open files":                                             dumps.LogFDExhausted,
		"org.apache.http.conn.ConnectionPoolTimeoutException: Timeout waiting for connection": dumps.LogPoolStarved,
		"HikariPool-1 - Connection is not available, request timed out after 30000ms.":        dumps.LogPoolStarved,
		"net/http: request canceled (Client.Timeout exceeded while awaiting headers)":         dumps.LogPoolStarved,
		"upstream prematurely closed connection while reading response header from upstream":  dumps.LogUpstreamClosed,
		"read ECONNRESET":                                dumps.LogConnReset,
		"[Errno 104] Connection reset by peer":           dumps.LogConnReset,
		"write: broken pipe":                             dumps.LogBrokenPipe,
		"Error: write EPIPE":                             dumps.LogBrokenPipe,
		"ResourceWarning: unclosed <socket.socket fd=3>": dumps.LogUnclosedSocket,
		"Read timed out":                                 dumps.LogTimeout,
		"request completed":                              dumps.LogNone,
		"reset the counter":                              dumps.LogNone,
	} {
		if got := Classify(msg); got != want {
			t.Errorf("Classify(%q) = %v, want %v", msg, got, want)
		}
	}
}

func TestMatch(t *testing.T) {
	for text, want := range map[string]bool{
		"State Recv-Q Send-Q Local Address:Port Peer Address:Port\nESTAB 0 0 10.0.0.5:22 10.0.0.7:5000\nESTAB 0 0 10.0.0.5:22 10.0.0.7:5001\n": false,
		"hello\nworld\nfoo\n": false,
		"2026-12-02 10:00:00 a\n2026-12-02 10:00:01 b\n2026-12-02 10:00:02 c\n":                        true,
		"2026-12-02 10:00:00 a\n\tat x\n\tat y\n2026-12-02 10:00:01 b\nplain\n2026-12-02 10:00:02 c\n": true,
		"2026-12-02 10:00:00 a\nplain\nplain\nplain\n2026-12-02 10:00:02 c\n":                          false,
		"a=1 b=2 msg=x\na=1 b=2 msg=y\na=1 b=2 msg=z\n":                                                true,
		"2026-12-02 10:00:00 one line only\n":                                                          false,
	} {
		if got := Match([]byte(text)); got != want {
			t.Errorf("Match(%q) = %v, want %v", text, got, want)
		}
	}
}

// TestContinuationTime: an exception line under a stamped line takes its
// time, level and program.
func TestContinuationTime(t *testing.T) {
	evs, _, _, err := ReadLog(strings.NewReader("2026-12-02 10:05:01.123 ERROR accept failed\njava.io.IOException: Too many open files\n\tat x\n"), "l")
	if err != nil || len(evs) != 1 {
		t.Fatal(err, evs)
	}
	if evs[0].Pos.Line != 2 || evs[0].Time.Format("15:04:05.000") != "10:05:01.123" || evs[0].Level != "ERROR" {
		t.Errorf("event = %+v", evs[0])
	}
}

func TestCap(t *testing.T) {
	var b strings.Builder
	for range maxPerClass + 5 {
		b.WriteString("2026-12-02 10:05:01 ERROR read: connection reset by peer\n")
	}
	evs, lines, warns, err := ReadLog(strings.NewReader(b.String()), "l")
	if err != nil || len(evs) != maxPerClass || lines != maxPerClass+5 || len(warns) != 1 || !strings.HasPrefix(warns[0].Msg, "5 more conn-reset") {
		t.Errorf("%d events, %d lines, warnings %v, err %v", len(evs), lines, warns, err)
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, file := range files {
		if !strings.HasSuffix(file, ".golden") {
			f.Add(dumptest.ReadFile(f, file))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Match(data)
		ev, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil && !errors.Is(err, bufio.ErrTooLong) {
			t.Fatalf("in-memory input failed: %v", err)
		}
		for _, e := range ev.LogEvents {
			if e.Pos.Line < 1 || e.Class == dumps.LogNone {
				t.Fatalf("bad event %+v", e)
			}
		}
	})
}
