package analysis

import (
	"bytes"
	"context"
	"testing"
)

// TestRecogniseChain checks which link of the chain takes what.
func TestRecogniseChain(t *testing.T) {
	ss := mustRead(t, caseDir+"ss-tanpoei.txt")
	capture := mustRead(t, caseDir+"capture.pcap")
	tests := []struct {
		name    string
		data    []byte
		kind    string
		capture bool
		enc     string
	}{
		{"pcap", capture, "pcap", true, ""},
		{"gzip pcap", gz(t, capture), "pcap", true, "gzip"},
		{"ss", ss, "ss", false, ""},
		{"gzip utf-16 ss", gz(t, toUTF16(string(ss), false, true)), "ss", false, "gzip+utf-16le"},
		{"utf-16be ss", toUTF16(string(ss), true, false), "ss", false, "utf-16be"},
		{"pprof", mustRead(t, "../testdata/cases/go-server-noclose/goroutine.pb.gz"), "pprof", false, "gzip"},
		{"capture with dump text", pcapWith([]byte("\nFull thread dump OpenJDK\n")), "pcap", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, in := recognise(context.Background(), Bytes(tt.name, tt.data))
			if o == nil {
				t.Fatalf("not recognised: %+v", in)
			}
			defer o.close()
			if o.in.Kind != tt.kind || o.capture != tt.capture || o.encoding != tt.enc {
				t.Errorf("kind %s capture %v encoding %q, want %s %v %q", o.in.Kind, o.capture, o.encoding, tt.kind, tt.capture, tt.enc)
			}
		})
	}
	// A text file is not taken for UTF-16, nor for a protobuf.
	for _, text := range [][]byte{[]byte("\n\nhello\n"), bytes.Repeat([]byte("a\x00"), 3)} {
		if enc, _ := textEncoding(text); enc != encUTF8 && len(text) > 6 {
			t.Errorf("%q: %s", text, enc)
		}
	}
}
