package analysis

import (
	"bytes"
	"compress/gzip"
	"context"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
)

// TestReadRuntimes: Node.js reports, Python dumps and logs are recognised
// after dumps' own formats, also gzipped; a Go traceback inside a log keeps
// the log's events.
func TestReadRuntimes(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(mustRead(t, "../testdata/cases/node-unconsumed/node-report.json"))
	zw.Close()
	goLog := "2026/12/02 17:03:58 http: Accept error: accept tcp 127.0.0.1:8080: accept4: too many open files; retrying in 1s\n" +
		"goroutine 1 [IO wait]:\ninternal/poll.runtime_pollWait(0x7f, 0x72)\n\truntime/netpoll.go:351 +0x85\n" +
		"2026/12/02 17:03:59 http: Accept error: accept tcp 127.0.0.1:8080: accept4: too many open files; retrying in 1s\n"
	srcs := []Source{
		Bytes("report.json.gz", gz.Bytes()),
		Bytes("stderr.txt", mustRead(t, "../testdata/cases/python-faulthandler/stderr.txt")),
		Bytes("app.log", mustRead(t, "../testdata/cases/python-faulthandler/app.log")),
		Bytes("server.log", []byte(goLog)),
	}
	evs, skipped, err := ReadEvidence(context.Background(), srcs)
	if err != nil || len(skipped) > 0 {
		t.Fatal(err, skipped)
	}
	want := []struct {
		kind            dumps.Kind
		sockets, events int
	}{
		{dumps.KindNodeReport, 9, 0},
		{dumps.KindPython, 7, 7},
		{dumps.KindAppLog, 0, 3},
		{dumps.KindGoroutines, 0, 2},
	}
	for i, w := range want {
		ev := evs[i]
		if ev.Kind != w.kind || len(ev.RuntimeSockets) != w.sockets || len(ev.LogEvents) != w.events {
			t.Errorf("%s: %s, %d runtime sockets, %d log events; want %+v", ev.File, ev.Kind, len(ev.RuntimeSockets), len(ev.LogEvents), w)
		}
	}
	if g := evs[3].GoroutineDumps; len(g) != 1 || g[0].Total() != 1 {
		t.Errorf("goroutine dumps %+v", g)
	}
}
