package analysis

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/golang"
	"github.com/cwforensics/cwforensics/dumps/jvm"
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
		binary, text dumps.Kind
	}{
		{"gzipped pprof", pb, dumps.KindPprof, dumps.KindUnknown},
		{"decompressed pprof", raw, dumps.KindPprof, dumps.KindUnknown},
		{"ss", ss, dumps.KindUnknown, dumps.KindSS},
		{"text that parses as a few protobuf fields", []byte("\nabcdefghij\x12\x01x\x1a\x01y"), dumps.KindUnknown, dumps.KindUnknown},
		{"goroutine profile text", []byte("goroutine profile: total 1\n1 @ 0x1\n"), dumps.KindUnknown, dumps.KindGoroutineProfile},
	}
	for _, tt := range tests {
		b, berr := Formats().RecognizeBinary(tt.head)
		x, terr := Formats().RecognizeText(tt.head)
		if b != tt.binary || (b == dumps.KindUnknown) != errors.Is(berr, dumps.ErrUnknownFormat) {
			t.Errorf("%s: RecognizeBinary %s, %v; want %s", tt.name, b, berr, tt.binary)
		}
		if x != tt.text || (x == dumps.KindUnknown) != errors.Is(terr, dumps.ErrUnknownFormat) {
			t.Errorf("%s: RecognizeText %s, %v; want %s", tt.name, x, terr, tt.text)
		}
		want := tt.binary
		if want == dumps.KindUnknown {
			want = tt.text
		}
		if k, _ := Formats().Recognize(tt.head); k != want {
			t.Errorf("%s: Recognize %s, want %s", tt.name, k, want)
		}
	}
	// ReadKind reads with the kind given, sniffing nothing.
	ev, err := Formats().ReadKind(bytes.NewReader(ss), "ss.txt", dumps.KindSS)
	if err != nil || len(ev.Sockets) == 0 {
		t.Errorf("ReadKind: %v, %d sockets", err, len(ev.Sockets))
	}
	if _, err := Formats().ReadKind(bytes.NewReader(ss), "ss.txt", dumps.KindUnknown); !errors.Is(err, dumps.ErrUnknownFormat) {
		t.Errorf("ReadKind of no kind: %v", err)
	}
}

// TestSniff checks that the dump formats are recognised inside other
// output, and that no socket listing of the conformance set is taken for a
// dump.
func TestSniff(t *testing.T) {
	for in, want := range map[string]dumps.Kind{
		"12:00 INFO x\n2024-01-02 03:04:05\nFull thread dump OpenJDK 64-Bit Server VM (21 mixed mode):\n": dumps.KindJstack,
		"\"main\" #1 prio=5 tid=0x1 nid=0x2 runnable\n   java.lang.Thread.State: RUNNABLE\n":              dumps.KindJstack,
		"=== RUN TestX\npanic: boom\n\ngoroutine 1 [running]:\nmain.main()\n":                             dumps.KindGoroutines,
		`{"Action":"output","Output":"goroutine 33 [running]:\n"}` + "\n":                                 dumps.KindGoroutines,
		"goroutine 1 gp=0xc000002380 m=nil [IO wait]:\n":                                                  dumps.KindGoroutines,
		"goroutine profile: total 3\n3 @ 0x1 0x2\n":                                                       dumps.KindGoroutineProfile,
		"  {\"threadDump\": {}}": dumps.KindJVMJSON,
	} {
		if got, err := Formats().Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if k, _ := Formats().Sniff(readTestFile(t, dumpsConf+"goroutines/go-profiler-notes/1.pprof.lookup.goroutine.debug0.pb.gz")); k != dumps.KindPprof {
		t.Errorf("debug=0 profile sniffed as %s", k)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("State Recv-Q Send-Q\n"))
	zw.Close()
	if k, _ := Formats().RecognizeBinary(gz.Bytes()); k != dumps.KindUnknown {
		t.Error("a gzipped text file taken for a pprof profile")
	}
	files, _ := filepath.Glob(dumpsConf + "sockets/jc/*.out")
	if len(files) == 0 {
		t.Fatal("no socket listings in the conformance set")
	}
	for _, f := range files {
		head := readTestFile(t, f)
		for _, df := range append(jvm.Formats(), golang.Formats()...) {
			if df.Match(head) {
				t.Errorf("%s: socket listing sniffed as %s", filepath.Base(f), df.Kind)
			}
		}
	}
}

// FuzzRead runs the whole chain, Sniff then the parser, on any input,
// seeded with the conformance dumps and every dump of testdata/dumps.
func FuzzRead(f *testing.F) {
	for _, pat := range []string{dumpsConf + "jstack/*", dumpsConf + "goroutines/*/*", "../testdata/dumps/*.txt", "../testdata/dumps/*.log"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			if st, err := os.Stat(file); err == nil && !st.IsDir() {
				f.Add(readTestFile(f, file))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := Formats().Read(bytes.NewReader(data), "fuzz")
		if err == nil && ev == nil {
			t.Fatal("no evidence and no error")
		}
	})
}

func TestReadUnknown(t *testing.T) {
	_, err := Formats().Read(strings.NewReader("hello\nworld\n"), "x.txt")
	if !errors.Is(err, dumps.ErrUnknownFormat) {
		t.Fatalf("Read(junk) = %v, want ErrUnknownFormat", err)
	}
}

// dumpsConf is the conformance set the tests of dumps and its families
// read.
const dumpsConf = "../testdata/conformance/"

func readTestFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
