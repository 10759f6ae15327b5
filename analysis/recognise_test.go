package analysis

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cwforensics/cwforensics/pcapstate"
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

// TestCaptureIDOnlyCaptures: a capture gets its identity, the same as
// pcapstate.CaptureID gives the file before anything is read, though its
// first bytes were read to recognise it; a listing, however large, is not
// hashed.
func TestCaptureIDOnlyCaptures(t *testing.T) {
	dir := t.TempDir()
	capture := mustRead(t, caseDir+"capture.pcap")
	ss := bytes.Repeat(mustRead(t, caseDir+"ss-tanpoei.txt"), 8)
	for _, tt := range []struct {
		name    string
		data    []byte
		capture bool
	}{{"capture.pcap", capture, true}, {"ss.txt", ss, false}} {
		if len(tt.data) < 2*4096 {
			t.Fatalf("%s: %d bytes, too small to have an identity", tt.name, len(tt.data))
		}
		path := filepath.Join(dir, tt.name)
		if err := os.WriteFile(path, tt.data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := pcapstate.CaptureID(f)
		f.Close()
		if err != nil || want == "" {
			t.Fatalf("%s: CaptureID %q, %v", tt.name, want, err)
		}
		o, in := recognise(context.Background(), Source{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }})
		if o == nil {
			t.Fatalf("%s: not recognised: %+v", tt.name, in)
		}
		o.close()
		switch {
		case o.capture != tt.capture:
			t.Errorf("%s: capture %v, want %v", tt.name, o.capture, tt.capture)
		case tt.capture && o.id != want:
			t.Errorf("%s: identity %q, want %q", tt.name, o.id, want)
		case !tt.capture && o.id != "":
			t.Errorf("%s: identity %q computed for a file that is not a capture", tt.name, o.id)
		}
	}
}
