package collect

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzProcFiles: what collect reads of /proc (other processes' command
// lines, environments and status, the socket tables) never panics it.
func FuzzProcFiles(f *testing.F) {
	f.Add([]byte(procNetTCP))
	f.Add([]byte("node\x00--report-on-signal\x00--report-directory\x00/tmp\x00x.js\x00"))
	f.Add([]byte("Name:\tjava\nUid:\t1000\t1000\t1000\t1000\nGid:\t5\nSigCgt:\t0000000000000800\n"))
	if b, err := os.ReadFile("testdata/manifest.golden.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range parseProcNetTCP(data) {
			if s.localPort < 0 || s.localPort > 65535 {
				t.Fatalf("port %d", s.localPort)
			}
		}
		parseStatus(data)
		args := splitNUL(data)
		parseNodeOptions(args, []string{"NODE_OPTIONS=" + strings.Join(args, " ")})
		detectRuntime(string(data), args, data)
	})
}

// FuzzPcapCutter: whatever tcpdump's stream holds, the cutter never
// writes more than its limit, and what it writes is a prefix of the stream.
func FuzzPcapCutter(f *testing.F) {
	var stream []byte
	stream = append(stream, pcapHeader()...)
	for i := range 3 {
		stream = append(stream, pcapRecord(i, 40)...)
	}
	f.Add(stream, int64(100), 7)
	f.Add([]byte("not a capture at all"), int64(5), 1)
	f.Fuzz(func(t *testing.T, data []byte, max int64, chunk int) {
		chunk = min(chunk, len(data)+1)
		if max < 0 || chunk <= 0 {
			return
		}
		var out bytes.Buffer
		c := &pcapCutter{w: &out, max: max}
		for i := 0; i < len(data); i += chunk {
			c.Write(data[i:min(i+chunk, len(data))])
		}
		if int64(out.Len()) > max || !bytes.HasPrefix(data, out.Bytes()) {
			t.Fatalf("wrote %d bytes (limit %d), prefix %v", out.Len(), max, bytes.HasPrefix(data, out.Bytes()))
		}
	})
}
