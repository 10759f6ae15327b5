package analysis

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/report"
)

const caseDir = "../testdata/cases/java-pool-leak/"

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// toUTF16 encodes UTF-8 text as UTF-16, with or without a byte order mark.
func toUTF16(s string, be, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	var out []byte
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	for _, u := range units {
		if be {
			out = binary.BigEndian.AppendUint16(out, u)
		} else {
			out = binary.LittleEndian.AppendUint16(out, u)
		}
	}
	return out
}

// readOne recognises and reads one in-memory source as evidence.
func readOne(t *testing.T, name string, data []byte) (*dumps.Evidence, []report.Input) {
	t.Helper()
	evs, skipped, err := ReadEvidence(context.Background(), []Source{Bytes(name, data)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(evs) != 1 {
		t.Fatalf("%s: %d evidence files, skipped %+v", name, len(evs), skipped)
	}
	return evs[0], skipped
}

// TestUTF16 reads ss and jstack output saved as UTF-16 (PowerShell's
// redirection writes UTF-16LE with a byte order mark), little and big
// endian, with and without the mark, and as UTF-8 with a mark: every form
// gives the records the UTF-8 file gives.
func TestUTF16(t *testing.T) {
	for _, file := range []string{"ss-tanpoei.txt", "jstack.txt"} {
		text := string(mustRead(t, caseDir+file))
		want, _ := readOne(t, file, []byte(text))
		if dumps.Kind(0) == want.Kind || report.EvidenceRecords(want) == 0 {
			t.Fatalf("%s: nothing read from the UTF-8 file", file)
		}
		forms := map[string][]byte{
			"utf-16le-bom": toUTF16(text, false, true),
			"utf-16le":     toUTF16(text, false, false),
			"utf-16be-bom": toUTF16(text, true, true),
			"utf-16be":     toUTF16(text, true, false),
			"utf-8-bom":    append([]byte{0xef, 0xbb, 0xbf}, text...),
			// PowerShell's Out-File also turns line ends into CRLF.
			"utf-16le-bom-crlf": toUTF16(strings.ReplaceAll(text, "\n", "\r\n"), false, true),
		}
		for form, data := range forms {
			t.Run(file+"/"+form, func(t *testing.T) {
				got, _ := readOne(t, file, data)
				if got.Kind != want.Kind {
					t.Fatalf("kind %s, want %s", got.Kind, want.Kind)
				}
				if g, w := report.EvidenceRecords(got), report.EvidenceRecords(want); g != w {
					t.Errorf("%d records, want %d", g, w)
				}
				if !strings.Contains(form, "crlf") {
					gj, _ := json.Marshal(got)
					wj, _ := json.Marshal(want)
					if !bytes.Equal(gj, wj) {
						t.Errorf("records differ from the UTF-8 file's")
					}
				}
			})
		}
	}
}

// TestUTF16Reader checks the transcoder on surrogate pairs, a lone
// surrogate and an odd last byte, read a byte at a time.
func TestUTF16Reader(t *testing.T) {
	in := toUTF16("a\U0001F600b", false, false)
	in = binary.LittleEndian.AppendUint16(in, 0xd800) // lone high surrogate
	in = append(in, 'c', 0, 'x')                      // then an odd byte
	var out []byte
	r := newUTF16Reader(&oneByte{bytes.NewReader(in)}, false)
	buf := make([]byte, 3)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
	}
	if want := "a\U0001F600b\uFFFDc\uFFFD"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

type oneByte struct{ r *bytes.Reader }

func (o *oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(1, len(p))]) }

func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

// TestGzip reads gzip-compressed text evidence and captures, and fails a
// decompression bomb with a clear error instead of inflating it.
func TestGzip(t *testing.T) {
	ss := mustRead(t, caseDir+"ss-tanpoei.txt")
	ev, _ := readOne(t, "ss.txt.gz", gz(t, ss))
	if ev.Kind != dumps.KindSS || len(ev.Sockets) == 0 {
		t.Errorf("gzipped ss: kind %s, %d sockets", ev.Kind, len(ev.Sockets))
	}
	// gzip inside gzip is unwrapped too.
	if ev2, _ := readOne(t, "ss.txt.gz.gz", gz(t, gz(t, ss))); len(ev2.Sockets) != len(ev.Sockets) || ev2.Kind != dumps.KindSS {
		t.Errorf("gzip in gzip: kind %s, %d sockets", ev2.Kind, len(ev2.Sockets))
	}

	// An ss header, then 8 MiB of blank lines: about 1000:1, beyond the
	// bound. (A bomb in no known format is ignored after its first 64 KiB.)
	bomb := gz(t, append([]byte("State Recv-Q Send-Q Local Address:Port Peer Address:Port\n"), bytes.Repeat([]byte("\n"), 8<<20)...))
	t.Logf("bomb: %d bytes of gzip for 8 MiB", len(bomb))
	for _, name := range []string{"bomb.txt.gz"} {
		_, _, err := ReadEvidence(context.Background(), []Source{Bytes(name, bomb)})
		if !errors.Is(err, ErrInflateBound) && (err == nil || !strings.Contains(err.Error(), "decompress")) {
			t.Errorf("bomb: err %v, want the decompression bound", err)
		}
	}
	// In analyze, a bomb is a failed input, and the run reads the rest.
	m, err := Analyze(context.Background(), []Source{Bytes("bomb.gz", bomb), Bytes("ss.txt", ss)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := inputNamed(t, m, "bomb.gz")
	if in.Status != report.InputFailed || in.Cause != report.CauseTooLarge || !strings.Contains(in.Reason, "500:1") || !in.Lost() {
		t.Errorf("bomb input: %+v", in)
	}
	// A bomb that decompresses to a capture's header, then zeros.
	capBomb := gz(t, append(pcapHeader(), make([]byte, 8<<20)...))
	m, err = Analyze(context.Background(), []Source{Bytes("cap.pcap.gz", capBomb), Bytes("ss.txt", ss)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in := inputNamed(t, m, "cap.pcap.gz"); in.Status != report.InputFailed || in.Cause != report.CauseTooLarge {
		t.Errorf("capture bomb input: %+v", in)
	}
}

func inputNamed(t *testing.T, m *report.Model, name string) report.Input {
	t.Helper()
	for _, in := range m.Inputs {
		if in.Path == name {
			return in
		}
	}
	t.Fatalf("no input %s in %+v", name, m.Inputs)
	return report.Input{}
}

// pcapHeader is a little-endian microsecond pcap file header, Ethernet.
func pcapHeader() []byte {
	h := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint16(h, 4)
	h = append(h, make([]byte, 8)...)
	h = binary.LittleEndian.AppendUint32(h, 65535)
	return binary.LittleEndian.AppendUint32(h, 1)
}

// pcapWith is a pcap file with one frame holding payload.
func pcapWith(payload []byte) []byte {
	frame := append(make([]byte, 12), 0x88, 0xb5) // local experimental ethertype
	frame = append(frame, payload...)
	b := pcapHeader()
	b = binary.LittleEndian.AppendUint32(b, 1700000000)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(frame)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(frame)))
	return append(b, frame...)
}

// TestBinaryFirst: a capture whose payload carries text a dump
// recogniser would take (a goroutine profile sent over plain HTTP) is a
// capture, by its magic number.
func TestBinaryFirst(t *testing.T) {
	payload := []byte("HTTP/1.1 200 OK\r\n\r\ngoroutine profile: total 3\n2 @ 0x1 0x2\n#\t0x1\tmain.main+0x1\t/x.go:1\n")
	if k, err := Formats().Recognize(payload[19:]); err != nil || k != dumps.KindGoroutineProfile {
		t.Fatalf("the payload alone is not a goroutine profile: %v %v", k, err)
	}
	// The capture's one frame holds no TCP, so it is ignored as a capture
	// without TCP; the listing beside it keeps the run usable.
	m, err := Analyze(context.Background(), []Source{Bytes("http.pcap", pcapWith(payload)), Bytes("ss.txt", mustRead(t, caseDir+"ss-tanpoei.txt"))}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in := inputNamed(t, m, "http.pcap"); in.Kind != "pcap" || in.Records != 1 || in.Cause != report.CauseNoTCP {
		t.Errorf("capture with a profile in its payload: %+v", in)
	}
}

// TestStatuses checks every status a source can get.
func TestStatuses(t *testing.T) {
	ss := mustRead(t, caseDir+"ss-tanpoei.txt")
	broken := append([]byte("State Recv-Q Send-Q Local Address:Port Peer Address:Port\n"), ss[bytes.IndexByte(ss, '\n')+1:]...)
	broken = append(broken, "ESTAB 0 0 not-an-address peer\n"...)
	srcs := []Source{
		Bytes("ss.txt", ss),
		Bytes("notes.txt", []byte("just notes\n")),
		Bytes("empty.txt", nil),
		Bytes("empty.pcap", pcapHeader()),
		Bytes("bad.gz", []byte{0x1f, 0x8b, 0, 0, 0}),
		{Name: "gone.txt", Open: func() (io.ReadCloser, error) { return nil, os.ErrPermission }},
		Bytes("warned.txt", broken),
	}
	m, err := Analyze(context.Background(), srcs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		status report.InputStatus
		cause  report.InputCause
		lost   bool
	}{
		"ss.txt":     {report.InputRead, report.CauseNone, false},
		"notes.txt":  {report.InputIgnored, report.CauseFormat, false},
		"empty.txt":  {report.InputIgnored, report.CauseEmpty, false},
		"empty.pcap": {report.InputIgnored, report.CauseEmpty, false},
		"bad.gz":     {report.InputFailed, report.CauseCorrupt, true},
		"gone.txt":   {report.InputIgnored, report.CauseUnreadable, true},
		"warned.txt": {report.InputWarned, report.CauseNone, false},
	}
	for name, w := range want {
		in := inputNamed(t, m, name)
		if in.Status != w.status || in.Cause != w.cause || in.Lost() != w.lost {
			t.Errorf("%s: %s/%s lost=%v, want %s/%s lost=%v (%s)", name, in.Status, in.Cause, in.Lost(), w.status, w.cause, w.lost, in.Reason)
		}
	}
	in := inputNamed(t, m, "warned.txt")
	if in.Warnings == 0 || len(in.FirstWarnings) == 0 || in.FirstWarnings[0].File != "warned.txt" {
		t.Errorf("warned.txt: %d warnings at %v", in.Warnings, in.FirstWarnings)
	}
}

// TestNothingUsable: a run where nothing could be read is an error that
// lists what was tried.
func TestNothingUsable(t *testing.T) {
	_, err := Analyze(context.Background(), []Source{Bytes("notes.txt", []byte("notes\n")), Bytes("empty", nil)}, Options{})
	var nu *NothingUsableError
	if !errors.Is(err, ErrNothingUsable) || !errors.As(err, &nu) || len(nu.Inputs) != 2 {
		t.Fatalf("err %v", err)
	}
	for _, s := range []string{"notes.txt: ignored", "empty: ignored (empty file)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q does not say %q", err, s)
		}
	}
	// Many inputs: the first twenty are named, the rest counted.
	var srcs []Source
	for i := range 25 {
		srcs = append(srcs, Bytes(fmt.Sprintf("n%02d", i), []byte("notes\n")))
	}
	_, err = Analyze(context.Background(), append(srcs, Source{Name: "no-open"}), Options{})
	if !errors.As(err, &nu) || len(nu.Inputs) != 26 || !strings.Contains(err.Error(), "n19: ignored") || strings.Contains(err.Error(), "n20") || !strings.Contains(err.Error(), "and 6 more") {
		t.Errorf("26 inputs: %v", err)
	}
}

// TestReadOnce: every source is opened once and read from its first byte
// once: a reader that cannot rewind (a pipe) is read as a file is.
func TestReadOnce(t *testing.T) {
	data := mustRead(t, caseDir+"capture.pcap")
	opens := 0
	src := Source{Name: "pipe.pcap", Open: func() (io.ReadCloser, error) {
		opens++
		return io.NopCloser(&oneByte{bytes.NewReader(data)}), nil
	}}
	m, err := Analyze(context.Background(), []Source{src}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if opens != 1 {
		t.Errorf("opened %d times", opens)
	}
	if in := inputNamed(t, m, "pipe.pcap"); in.Status != report.InputRead || in.Records != 172 {
		t.Errorf("pipe: %+v", in)
	}
}

// TestWalk walks a tree with links to files and folders, a link loop, a
// dangling link, a pipe and a too-deep branch.
func TestWalk(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("links and named pipes")
	}
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	real := filepath.Join(root, "real")
	must(os.MkdirAll(filepath.Join(real, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(real, "ss.txt"), mustRead(t, caseDir+"ss-tanpoei.txt"), 0o644))
	must(os.WriteFile(filepath.Join(real, "sub", "jstack.txt"), mustRead(t, caseDir+"jstack.txt"), 0o644))
	in := filepath.Join(root, "in")
	must(os.Mkdir(in, 0o755))
	must(os.Symlink(real, filepath.Join(in, "linked")))                               // a linked folder
	must(os.Symlink(filepath.Join(real, "ss.txt"), filepath.Join(in, "ss-link.txt"))) // a linked file
	must(os.Symlink(in, filepath.Join(in, "loop")))                                   // a loop
	must(os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(in, "dangling")))
	must(mkfifo(filepath.Join(in, "fifo")))
	deep := filepath.Join(in, "d1", "d2", "d3")
	must(os.MkdirAll(deep, 0o755))
	must(os.WriteFile(filepath.Join(deep, "ss.txt"), mustRead(t, caseDir+"ss-close-wait.txt"), 0o644))

	srcs, err := Walk([]string{in}, WalkOptions{MaxDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Analyze(context.Background(), srcs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, i := range m.Inputs {
		got[strings.TrimPrefix(i.Path, filepath.ToSlash(in)+"/")] = i.Status.String() + "/" + i.Cause.String()
	}
	want := map[string]string{
		"linked/ss.txt":         "read/none",
		"linked/sub/jstack.txt": "read/none",
		"ss-link.txt":           "ignored/duplicate",
		"loop":                  "ignored/duplicate",
		"dangling":              "ignored/unreadable",
		"fifo":                  "ignored/not-regular-file",
		"d1/d2/d3":              "ignored/too-deep",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("inputs %v, want %v", got, want)
	}
	if !strings.Contains(inputNamed(t, m, filepath.ToSlash(filepath.Join(in, "dangling"))).Reason, "dangling link") {
		t.Errorf("dangling link not said")
	}
	// A path that does not exist is an error, not an input.
	if _, err := Walk([]string{filepath.Join(root, "nope")}, WalkOptions{}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing path: %v", err)
	}
	// "-" is standard input, once.
	srcs, err = Walk([]string{"-"}, WalkOptions{Stdin: strings.NewReader("x")})
	if err != nil || len(srcs) != 1 || srcs[0].Name != StdinName {
		t.Errorf("-: %v %+v", err, srcs)
	}
	if _, err := Walk([]string{"-", "-"}, WalkOptions{Stdin: strings.NewReader("x")}); err == nil {
		t.Errorf("- twice: no error")
	}
	// Named, it is that name, and still known as standard input; a name
	// that is another path's too is an error, which sortSources would
	// otherwise settle by dropping one of the two.
	file := filepath.ToSlash(filepath.Join(root, "a.txt"))
	os.WriteFile(filepath.FromSlash(file), []byte("x"), 0o644)
	srcs, err = Walk([]string{"-", file}, WalkOptions{Stdin: strings.NewReader("x"), StdinName: "host-3.pcap"})
	if err != nil || len(srcs) != 2 || srcs[0].Name != "host-3.pcap" || !srcs[0].Stdin || srcs[1].Stdin {
		t.Errorf("- named host-3.pcap: %v %+v", err, srcs)
	}
	if _, err := Walk([]string{"-", file}, WalkOptions{Stdin: strings.NewReader("x"), StdinName: file}); err == nil || !strings.Contains(err.Error(), "as is a path given") {
		t.Errorf("- named as a path given: %v", err)
	}
	// The same name spelled otherwise is the same name: pcapstate tells
	// captures apart by their names cleaned (checkTwice), so "./a.pcap"
	// on stdin beside a.pcap would be refused by partial as one capture
	// read "itself and itself", and cited by conns and analyze under two
	// names pcapstate takes for one.
	t.Chdir(root)
	for _, spelled := range []string{"./a.txt", "x/../a.txt", "a.txt/"} {
		if _, err := Walk([]string{"-", "a.txt"}, WalkOptions{Stdin: strings.NewReader("x"), StdinName: spelled}); err == nil || !strings.Contains(err.Error(), "as is a path given") {
			t.Errorf("- named %s beside a.txt: %v", spelled, err)
		}
	}
	if _, err := Walk([]string{"-", "./a.txt"}, WalkOptions{Stdin: strings.NewReader("x"), StdinName: "a.txt"}); err == nil || !strings.Contains(err.Error(), "as is a path given") {
		t.Errorf("- named a.txt beside ./a.txt: %v", err)
	}
}

// TestWalkSize: a regular file's source has its size, for progress; a
// named pipe and standard input have -1 (unknown).
func TestWalkSize(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ss.txt")
	if err := os.WriteFile(file, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{file, "-"}
	want := []int64{5, -1}
	if runtime.GOOS != "windows" {
		fifo := filepath.Join(dir, "fifo")
		if err := mkfifo(fifo); err != nil {
			t.Fatal(err)
		}
		paths, want = append(paths, fifo), append(want, -1)
	}
	srcs, err := Walk(paths, WalkOptions{Stdin: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range srcs {
		if s.Size != want[i] {
			t.Errorf("%s: Size %d, want %d", s.Name, s.Size, want[i])
		}
	}
}

// TestSortSources: sources are read in name order, a name given twice once.
func TestSortSources(t *testing.T) {
	got := sortSources([]Source{{Name: "b"}, {Name: "a"}, {Name: "b"}})
	names := make([]string, len(got))
	for i, s := range got {
		names[i] = s.Name
	}
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("%v", names)
	}
}

// TestUnsupportedLinkType: a capture whose only link type the decoder
// does not know is ignored, naming the type, and counts as lost.
func TestUnsupportedLinkType(t *testing.T) {
	data := pcapWith([]byte("payload"))
	binary.LittleEndian.PutUint32(data[20:], 147) // LINKTYPE_USER0
	m, err := Analyze(context.Background(), []Source{Bytes("user0.pcap", data), Bytes("ss.txt", mustRead(t, caseDir+"ss-tanpoei.txt"))}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := inputNamed(t, m, "user0.pcap")
	if in.Status != report.InputIgnored || in.Cause != report.CauseLinkType || in.Reason != "unsupported link type 147" || !in.Lost() {
		t.Errorf("%+v", in)
	}
}

// TestTruncatedGzip: a gzipped listing cut short gives the sockets before
// the cut and a warning, as a truncated plain file would.
func TestTruncatedGzip(t *testing.T) {
	ss := mustRead(t, caseDir+"ss-tanpoei.txt")
	whole, _ := readOne(t, "ss.txt.gz", gz(t, ss))
	z := gz(t, ss)
	ev, _ := readOne(t, "ss.txt.gz", z[:len(z)*2/3])
	if len(ev.Sockets) == 0 || len(ev.Sockets) >= len(whole.Sockets) {
		t.Errorf("%d sockets of %d", len(ev.Sockets), len(whole.Sockets))
	}
	if n := len(ev.Warnings); n == 0 || !strings.Contains(ev.Warnings[n-1].Msg, "cut short") {
		t.Errorf("warnings %v", ev.Warnings)
	}
}
