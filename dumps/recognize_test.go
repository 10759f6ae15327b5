package dumps

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"testing"
)

// TestRecognizeChain: binary formats and text formats are recognised by
// their own functions, each saying ErrUnknownFormat for the other's.
func TestRecognizeChain(t *testing.T) {
	pb, err := os.ReadFile("../testdata/cases/go-server-noclose/goroutine.pb.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(pb))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	ss, err := os.ReadFile("../testdata/cases/java-pool-leak/ss-tanpoei.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		head         []byte
		binary, text Kind
	}{
		{"gzipped pprof", pb, KindPprof, KindUnknown},
		{"decompressed pprof", raw, KindPprof, KindUnknown},
		{"ss", ss, KindUnknown, KindSS},
		{"text that parses as a few protobuf fields", []byte("\nabcdefghij\x12\x01x\x1a\x01y"), KindUnknown, KindUnknown},
		{"goroutine profile text", []byte("goroutine profile: total 1\n1 @ 0x1\n"), KindUnknown, KindGoroutineProfile},
	}
	for _, tt := range tests {
		b, berr := RecognizeBinary(tt.head)
		x, terr := RecognizeText(tt.head)
		if b != tt.binary || (b == KindUnknown) != errors.Is(berr, ErrUnknownFormat) {
			t.Errorf("%s: RecognizeBinary %s, %v; want %s", tt.name, b, berr, tt.binary)
		}
		if x != tt.text || (x == KindUnknown) != errors.Is(terr, ErrUnknownFormat) {
			t.Errorf("%s: RecognizeText %s, %v; want %s", tt.name, x, terr, tt.text)
		}
		want := tt.binary
		if want == KindUnknown {
			want = tt.text
		}
		if k, _ := Recognize(tt.head); k != want {
			t.Errorf("%s: Recognize %s, want %s", tt.name, k, want)
		}
	}
	// ReadKind reads with the kind given, sniffing nothing.
	ev, err := ReadKind(bytes.NewReader(ss), "ss.txt", KindSS)
	if err != nil || len(ev.Sockets) == 0 {
		t.Errorf("ReadKind: %v, %d sockets", err, len(ev.Sockets))
	}
	if _, err := ReadKind(bytes.NewReader(ss), "ss.txt", KindUnknown); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ReadKind of no kind: %v", err)
	}
}
