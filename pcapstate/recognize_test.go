package pcapstate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"testing"
)

// TestRecognize: captures by their headers; anything else, gzip
// included, is ErrNotCapture.
func TestRecognize(t *testing.T) {
	pcap, err := os.ReadFile("../testdata/cases/go-server-noclose/capture.pcap")
	if err != nil {
		t.Fatal(err)
	}
	pcapng, err := os.ReadFile("../testdata/cases/go-server-noclose/capture.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(pcap)
	zw.Close()
	badVersion := append([]byte(nil), pcap[:24]...)
	badVersion[4] = 3
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"pcap", pcap[:min(len(pcap), 64<<10)], "pcap"},
		{"pcap header only", pcap[:24], "pcap"},
		{"pcapng", pcapng[:min(len(pcapng), 64<<10)], "pcapng"},
		{"gzip", gz.Bytes(), ""},
		{"text", []byte("State Recv-Q Send-Q\n"), ""},
		{"short", pcap[:3], ""},
		{"pcap version 3", badVersion, ""},
		{"pcapng cut in its section header", pcapng[:20], ""},
	}
	for _, tt := range tests {
		got, err := Recognize(tt.head)
		if got != tt.want || (tt.want == "") != errors.Is(err, ErrNotCapture) {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}
