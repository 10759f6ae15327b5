package applog

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

// BenchmarkReadLog reads a mix of the log formats in which, as in a real
// service log, most lines name no problem: each testdata file followed by
// 20 ordinary lines of its format. It reports lines/s.
func BenchmarkReadLog(b *testing.B) {
	benchLines(b, benchLog(b), func(r io.Reader) error {
		_, _, _, err := ReadLog(r, "bench")
		return err
	})
}

// BenchmarkRead reads the same logs with Node.js's warnings and their
// JavaScript stacks among them, through Read, which collects the stacks.
func BenchmarkRead(b *testing.B) {
	data := append(benchLog(b), bytes.Repeat(dumptest.ReadFile(b, "testdata/node-trace-warnings.log"), 200)...)
	benchLines(b, data, readAll)
}

// benchLines reads data with read in each of b's loops and reports lines/s.
func benchLines(b *testing.B, data []byte, read func(io.Reader) error) {
	lines := bytes.Count(data, []byte("\n"))
	n := 0
	for b.Loop() {
		if err := read(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		n += lines
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
}

// readAll reads r through Read, which collects the stacks too.
func readAll(r io.Reader) error {
	_, err := Read(r, "bench")
	return err
}

// benchLog is each testdata log followed by 20 ordinary lines of its
// format, 200 times.
func benchLog(b *testing.B) []byte {
	ordinary := map[string]string{
		"mixed-plain.log": "2026-12-02 10:05:09.000  INFO 4242 --- [http-nio-8080-exec-3] c.e.orders.Api : GET /v1/orders 200 12ms\n",
		"json-lines.log":  `{"level":30,"time":1796205909123,"pid":812,"hostname":"web-1","name":"api","msg":"request completed","responseTime":12}` + "\n",
		"logfmt.log":      "time=2026-12-02T10:05:00Z level=info msg=\"request\" path=/v1/orders status=200 dur=12ms\n",
		"journal.json":    `{"__REALTIME_TIMESTAMP":"1796205901000000","_PID":"4242","_COMM":"node","PRIORITY":"6","MESSAGE":"poll ok"}` + "\n",
		"syslog.log":      "Dec  2 10:05:00 web-1 haproxy[911]: 10.0.0.7:51234 [02/Dec/2026:10:05:00.000] api api/web1 0/0/1/12/13 200 512\n",
	}
	var mix []byte
	for f, line := range ordinary {
		mix = append(mix, dumptest.ReadFile(b, "testdata/"+f)...)
		mix = append(mix, strings.Repeat(line, 20)...)
	}
	return bytes.Repeat(mix, 200)
}

// BenchmarkReadMonotonic reads a journal as journalctl -o short-monotonic
// prints it (the two line-loggers' run, then 20 ordinary lines, 200
// times): each of its lines is looked at for its host as it is read
// (journalHosts), so that it costs more than other forms' lines, which no
// reader looks at unless they name a problem.
func BenchmarkReadMonotonic(b *testing.B) {
	one := append(dumptest.ReadFile(b, "testdata/node-two-journal-short-monotonic.log"),
		strings.Repeat("[29834.361633] vm line-logger[19431]: handled request in 3 ms\n", 20)...)
	data := bytes.Repeat(one, 200)
	benchLines(b, data, readAll)
}
