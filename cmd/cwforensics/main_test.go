package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/cwforensics/cwforensics/internal/golden"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/google/go-cmp/cmp"
)

// cli runs the command line in dir (the repository root when empty) and
// returns its exit status, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

// inRoot runs the test from the repository root, where the README's paths
// are relative to.
func inRoot(t *testing.T) {
	t.Helper()
	t.Chdir("../..")
}

func TestCLIExitCodes(t *testing.T) {
	inRoot(t)
	notCapture := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notCapture, []byte("just some notes\n"), 0o644)
	tests := []struct {
		name    string
		args    []string
		code    int
		stderr  string
		oneLine bool
	}{
		{"help", []string{"--help"}, 0, "", false},
		{"version", []string{"--version"}, 0, "", false},
		{"unknown flag", []string{"conns", "--bogus", "x"}, 2, "unknown flag --bogus", false},
		{"missing file", []string{"conns", "does-not-exist.pcap"}, 1, "does-not-exist.pcap: no such file", true},
		{"bad state", []string{"conns", "--state", "sleepy", "testdata/conformance/zeek/traces/http_get.pcap"}, 1, `--state "sleepy"`, true},
		{"bad local", []string{"conns", "--local", "10.0.0.300", "testdata/conformance/zeek/traces/http_get.pcap"}, 1, `--local "10.0.0.300"`, true},
		{"not a capture", []string{"conns", notCapture}, 1, notCapture + ": not a pcap or pcapng capture", true},
		{"ok", []string{"conns", "testdata/conformance/zeek/traces/http_get.pcap"}, 0, "", false},
		{"unsupported link type", []string{"conns", "pcapstate/testdata/public/LINKTYPE_USER2_PKTAP.pcap"}, 1, "no TCP segment in any capture: ignored capture pcapstate/testdata/public/LINKTYPE_USER2_PKTAP.pcap: unsupported link type 149", true},
		{"no tcp", []string{"conns", "--format", "json", "pcapstate/testdata/public/nflog.pcap"}, 1, "nflog.pcap: no TCP segment in 4 packets (udp 4)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := cli(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.stderr)
			}
			if tt.oneLine && strings.Count(stderr, "\n") != 1 {
				t.Errorf("error is not one line: %q", stderr)
			}
		})
	}
}

// TestCLIEnvVars checks that environment variables apply per command:
// CWFORENSICS_CONNS_FORMAT sets conns's format, and CWFORENSICS_FORMAT,
// which no command reads (the commands' formats differ), breaks none.
func TestCLIEnvVars(t *testing.T) {
	inRoot(t)
	capture := "testdata/conformance/zeek/traces/http_get.pcap"
	t.Setenv("CWFORENSICS_CONNS_FORMAT", "tsv")
	t.Setenv("CWFORENSICS_FORMAT", "html")
	t.Setenv("CWFORENSICS_ANALYZE_FORMAT", "json")
	code, out, stderr := cli(t, "conns", capture)
	if code != 0 || !strings.HasPrefix(out, "local_addr\tlocal_port\t") {
		t.Errorf("CWFORENSICS_CONNS_FORMAT=tsv not honoured: exit %d, %q %s", code, out, stderr)
	}
	code, out, stderr = cli(t, "analyze", capture)
	if code != 0 || !strings.HasPrefix(out, "{") {
		t.Errorf("CWFORENSICS_ANALYZE_FORMAT=json not honoured: exit %d, %.40q %s", code, out, stderr)
	}
	code, _, stderr = cli(t, "evidence", "testdata/cases/java-pool-leak/ss-tanpoei.txt")
	if code != 0 {
		t.Errorf("evidence with CWFORENSICS_FORMAT=html: exit %d %s", code, stderr)
	}
	// Flags with one meaning in every command share a variable.
	t.Setenv("CWFORENSICS_LOCAL", "10.9.9.9")
	code, out, _ = cli(t, "analyze", capture)
	if code != 0 || !strings.Contains(out, `"10.9.9.9"`) {
		t.Errorf("CWFORENSICS_LOCAL not honoured by analyze: exit %d", code)
	}
}

// TestCLIFilter runs in every build: the pure-Go filter in the default
// one (make test runs it with CGO_ENABLED=0 too), the pure-Go filter with
// libpcap behind it in the pcap build.
func TestCLIFilter(t *testing.T) {
	inRoot(t)
	capture := "testdata/conformance/zeek/traces/http_get.pcap"
	code, out, stderr := cli(t, "conns", "--format", "tsv", "--filter", "tcp port 80", capture)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "192.150.187.43\t80\t141.142.228.5\t59856\t") {
		t.Fatalf("tcp port 80: exit %d, %q %q", code, out, stderr)
	}
	code, out, _ = cli(t, "conns", "--format", "tsv", "--filter", "tcp port 81", capture)
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("tcp port 81 should leave only the header: exit %d, %q", code, out)
	}
	// A port name: the pure-Go filter has no services database, so the
	// libpcap build hands the expression to libpcap, which has.
	code, _, stderr = cli(t, "conns", "--filter", "tcp port eighty", capture)
	want := `filter "tcp port eighty": at offset 9: want a port number, not "eighty"`
	if withLibpcap {
		want = `unknown port 'eighty'`
	}
	if code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("bad filter: exit %d, %q, want %q", code, stderr, want)
	}
	// An expression outside the pure-Go subset: the default build names
	// the part and the libpcap build; the libpcap build runs it.
	code, out, stderr = cli(t, "conns", "--format", "tsv", "--filter", "tcp and not pppoes", capture)
	if withLibpcap {
		if code != 0 || strings.Count(out, "\n") != 2 {
			t.Fatalf("tcp and not pppoes through libpcap: exit %d, %q", code, stderr)
		}
	} else if code != 1 || !strings.Contains(stderr, `at offset 12: "pppoes" is not supported by the pure-Go filter; a build with libpcap (make build TAGS=pcap)`) {
		t.Fatalf("unsupported filter: exit %d, %q", code, stderr)
	}
	// A LINUX_SLL2 capture (tcpdump -i any): tcpdump 4.99.3 itself counts
	// 16 FINs from port 18083 in it with this filter.
	code, out, stderr = cli(t, "conns", "--format", "json", "--filter", "tcp[tcpflags] & tcp-fin != 0 and src port 18083", "testdata/cases/python-skip-close/capture.pcap")
	var res struct{ Packets, Filtered int }
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.Packets-res.Filtered != 16 {
		t.Fatalf("SLL2 filter: exit %d, %d of %d packets kept, want 16: %s", code, res.Packets-res.Filtered, res.Packets, stderr)
	}
	// analyze takes the filter too: without the peers' FINs no socket is
	// in CLOSE_WAIT.
	for _, tt := range []struct{ expr, want string }{
		{"tcp port 18083", `"close_wait": 14,`},
		{"tcp port 18083 and not tcp[tcpflags] & tcp-fin != 0", `"close_wait": 0,`},
	} {
		code, out, stderr = cli(t, "analyze", "--format", "json", "--filter", tt.expr, "testdata/cases/python-skip-close/capture.pcap")
		if code != 0 || !strings.Contains(out, tt.want) {
			t.Errorf("analyze --filter %q: exit %d, want %s: %s", tt.expr, code, tt.want, stderr)
		}
	}
}

// TestConnsIgnored checks that conns says, in every format, which capture
// gave no TCP segment and why, also when another capture gave some.
func TestConnsIgnored(t *testing.T) {
	inRoot(t)
	const ignored = "ignored capture pcapstate/testdata/public/LINKTYPE_USER2_PKTAP.pcap: unsupported link type 149"
	args := []string{"pcapstate/testdata/public/LINKTYPE_USER2_PKTAP.pcap", "pcapstate/testdata/encap/gre.pcap"}
	code, out, stderr := cli(t, append([]string{"conns"}, args...)...)
	if code != 0 || !strings.HasSuffix(out, "\n"+ignored+"\n") || stderr != "" {
		t.Errorf("table: exit %d, %q, stderr %q", code, out, stderr)
	}
	code, out, stderr = cli(t, append([]string{"conns", "--format", "tsv"}, args...)...)
	if code != 0 || strings.Contains(out, "ignored") || stderr != "warning: "+ignored+"\n" {
		t.Errorf("tsv: exit %d, stderr %q", code, stderr)
	}
	code, out, _ = cli(t, append([]string{"conns", "--format", "json"}, args...)...)
	var doc struct {
		Files []struct {
			Name, Ignored        string
			UnsupportedLinkTypes []uint32 `json:"unsupported_link_types"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Files) != 2 ||
		doc.Files[0].Ignored != "unsupported link type 149" || len(doc.Files[0].UnsupportedLinkTypes) != 1 || doc.Files[1].Ignored != "" {
		t.Errorf("json: exit %d, %v, files %+v", code, err, doc.Files)
	}
}

// TestConnsGolden pins the TSV and JSON output of conns on conformance
// captures.
func TestConnsGolden(t *testing.T) {
	inRoot(t)
	for _, name := range []string{"http_get.pcap", "tunnels_Teredo.pcap", "tunnels_gtp_gtp2_different_udp_port.pcap", "mixed-vlan-mpls.pcap", "tcp_one-sided-2745.pcap"} {
		t.Run(name, func(t *testing.T) {
			capture := "testdata/conformance/zeek/traces/" + name
			code, out, stderr := cli(t, "conns", "--format", "tsv", capture)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden.Check(t, "cmd/cwforensics/testdata/conns/"+name+".tsv", []byte(out))
			code, out, stderr = cli(t, "conns", "--format", "json", "--state", "close-wait", capture)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden.Check(t, "cmd/cwforensics/testdata/conns/"+name+".json", []byte(out))
		})
	}
}

// TestDocExamples runs every example of the README and docs/: in a
// ```console block, a line "$ cwforensics ARGS" is run from the repository
// root and what follows, up to the next "$ " line or the end of the block,
// must be its output. This keeps the documentation true.
func TestDocExamples(t *testing.T) {
	inRoot(t)
	docs, _ := filepath.Glob("docs/*.md")
	for _, doc := range append([]string{"README.md"}, docs...) {
		for _, ex := range docExamples(t, doc) {
			t.Run(ex.pos, func(t *testing.T) {
				code, out, stderr := cli(t, ex.args...)
				if code != 0 && ex.want == "" {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				if diff := cmp.Diff(ex.want, strings.TrimRight(out, "\n")); diff != "" {
					t.Errorf("output differs from the documentation (-doc +got):\n%s", diff)
				}
			})
		}
	}
}

type docExample struct {
	pos  string
	args []string
	want string
}

func docExamples(t *testing.T, path string) []docExample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []docExample
	var cur *docExample
	var lines []string
	in := false
	flush := func() {
		if cur != nil {
			cur.want = strings.TrimRight(strings.Join(lines, "\n"), "\n")
			out = append(out, *cur)
		}
		cur, lines = nil, nil
	}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```console"):
			in = true
		case in && strings.HasPrefix(line, "```"):
			flush()
			in = false
		case in && strings.HasPrefix(line, "$ "):
			flush()
			args := splitArgs(strings.TrimPrefix(line, "$ "))
			if len(args) == 0 || args[0] != "cwforensics" {
				continue // other commands (make, go) are not run here
			}
			cur = &docExample{pos: strings.ReplaceAll(path, "/", "_") + ":" + strconv.Itoa(n), args: args[1:]}
		case in && cur != nil:
			lines = append(lines, line)
		}
	}
	return out
}

// splitArgs splits a shell command line on spaces, honouring single quotes.
func splitArgs(s string) []string {
	var args []string
	var b strings.Builder
	quoted, have := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, have = !quoted, true
		case r == ' ' && !quoted:
			if have {
				args = append(args, b.String())
				b.Reset()
				have = false
			}
		default:
			b.WriteRune(r)
			have = true
		}
	}
	if have {
		args = append(args, b.String())
	}
	return args
}

// readSkipClose reads python-skip-close's capture, many connections with
// anomalies and both verdicts, for the tests of conns' writers.
func readSkipClose(t *testing.T) *pcapstate.Result {
	t.Helper()
	inRoot(t)
	f, err := os.Open("testdata/cases/python-skip-close/capture.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "capture.pcap", R: f}}, pcapstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestConnsJSONStreamed checks that conns, which writes its JSON one
// connection at a time, writes the bytes encoding the whole document at
// once would: on every connection of a capture (many, with anomalies and
// both verdicts), on one, on none, and on more than two chunks of them.
func TestConnsJSONStreamed(t *testing.T) {
	res := readSkipClose(t)
	if len(res.Conns) < 10 {
		t.Fatalf("only %d conns", len(res.Conns))
	}
	all := res.Conns
	// More than two chunks of connections, encoded on several goroutines,
	// each told apart by its packet count so that chunks out of order show.
	var many []pcapstate.Conn
	for len(many) <= 2*connsChunk+1 {
		many = append(many, all...)
	}
	for i := range many {
		many[i].Local.Packets = uint64(i)
	}
	for _, conns := range [][]pcapstate.Conn{all, all[:1], nil, many} {
		r := *res
		r.Conns = conns
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			SchemaVersion int `json:"schema_version"`
			*pcapstate.Result
		}{connsSchemaVersion, &r}); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		ptrs := make([]*pcapstate.Conn, len(conns))
		for i := range conns {
			ptrs[i] = &conns[i]
		}
		if err := writeConnsJSON(&got, res, ptrs); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), got.String()); diff != "" {
			t.Errorf("%d conns: streamed JSON differs (-whole +streamed):\n%s", len(conns), diff)
		}
	}
}

// TestWriteAligned checks that writeAligned writes what text/tabwriter
// (minimum width 0, padding 2, spaces) writes for the same escaped cells,
// on rows with empty cells (also in the last column), wide and non-ASCII
// cells, and cells that need escaping.
func TestWriteAligned(t *testing.T) {
	rows := [][]string{
		{"LOCAL", "STATE", "IDLE", "MARKERS"},
		{"10.0.0.1:80", "CLOSE_WAIT", "1m0s", ""},
		{"[2001:db8::1]:443", "", "12h3m4.5s", "keep-alive"},
		{"", "ESTABLISHED", "", "peer:rst"},
		{"büro:1", "tab\there", "new\nline", "back\\slash"},
	}
	var got bytes.Buffer
	if err := writeAligned(&got, len(rows), func(i int, cells []string) []string { return append(cells, rows[i]...) }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tabwriterText(t, rows), got.String()); diff != "" {
		t.Errorf("writeAligned differs from text/tabwriter (-tabwriter +writeAligned):\n%s", diff)
	}
}

// TestEscapeCell: what could break a row or drive a terminal is escaped,
// other text is kept as it is.
func TestEscapeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.0.0.1:80", "10.0.0.1:80"},
		{"", ""},
		{`C:\tmp`, `C:\\tmp`},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"del\x7f", `del\x7f`},
		{"ev\xffil", `ev\xffil`},
		{"csi\x9b2J", `csi\x9b2J`},
		{"csi\u009b2J", `csi\xc2\x9b2J`},
		{"büro 日本 \uFFFD", "büro 日本 \uFFFD"},
		{"nbsp\u00a0", "nbsp\u00a0"},
	}
	for _, tt := range tests {
		if got := escapeCell(tt.in); got != tt.want {
			t.Errorf("escapeCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := string(appendEscaped([]byte("x"), tt.in)); got != "x"+tt.want {
			t.Errorf("appendEscaped(%q) = %q, want x%q", tt.in, got, tt.want)
		}
	}
}

// TestEnvNames checks the convention every flag follows: its first
// environment variable is CWFORENSICS_<COMMAND>_<FLAG> (global flags
// CWFORENSICS_<FLAG>), and no variable is shared by flags of different
// meanings, such as --format, whose values differ between commands.
func TestEnvNames(t *testing.T) {
	var cli CLI
	p, err := kong.New(&cli, kong.Name("cwforensics"), kong.Vars{"version": "test"})
	if err != nil {
		t.Fatal(err)
	}
	envName := func(parts ...string) string {
		return strings.ToUpper(strings.ReplaceAll(strings.Join(append([]string{"CWFORENSICS"}, parts...), "_"), "-", "_"))
	}
	shared := map[string]string{} // variable -> flag name and help
	check := func(cmd string, flags []*kong.Flag) {
		for _, f := range flags {
			if f.Name == "help" || f.Name == "version" {
				continue
			}
			want := envName(f.Name)
			if cmd != "" {
				want = envName(cmd, f.Name)
			}
			if len(f.Envs) == 0 || f.Envs[0] != want {
				t.Errorf("%s --%s: environment %v, want %s first", cmd, f.Name, f.Envs, want)
			}
			for _, e := range f.Envs[1:] {
				if e != envName(f.Name) {
					t.Errorf("%s --%s: shared variable %s, want %s", cmd, f.Name, e, envName(f.Name))
				}
				if prev, ok := shared[e]; ok && prev != f.Name {
					t.Errorf("%s is shared by --%s and --%s", e, prev, f.Name)
				}
				shared[e] = f.Name
			}
		}
	}
	check("", p.Model.Flags)
	for _, c := range p.Model.Children {
		check(c.Name, c.Flags)
	}
	if _, ok := shared["CWFORENSICS_FORMAT"]; ok {
		t.Error("CWFORENSICS_FORMAT is shared, but --format means different things")
	}
}

// TestConnsTSVChunks checks that the TSV rows, formatted in chunks on
// several goroutines, come out in the connections' order, as formatting
// them one after another does.
func TestConnsTSVChunks(t *testing.T) {
	res := readSkipClose(t)
	// Each told apart by its packet count, so that chunks out of order show.
	var conns []*pcapstate.Conn
	for len(conns) <= 2*connsChunk+1 {
		for i := range res.Conns {
			c := res.Conns[i]
			c.Local.Packets = uint64(len(conns))
			conns = append(conns, &c)
		}
	}
	want := []byte(strings.Join(connsHeader, "\t") + "\n")
	for _, c := range conns {
		want = appendConnTSV(want, c, res.End)
	}
	var got bytes.Buffer
	if err := writeConnsTSV(&got, conns, res.End); err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("%d rows in chunks differ from one after another", len(conns))
	}
}
