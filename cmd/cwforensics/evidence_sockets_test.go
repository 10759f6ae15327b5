package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/internal/golden"
)

// socketEvidenceFiles are read for the table and JSON goldens: a listing
// with several owners and bad lines, /proc/net/tcp joined to fd listings,
// ss -s summaries, ulimit.
var socketEvidenceFiles = []string{
	"ss-breakage.txt", "proc-join.txt", "real-lsof-close-wait.txt", "ss-watch-summary.txt", "real-ulimit.txt",
}

func readSocketEvidence(t *testing.T) []*dumps.Evidence {
	t.Helper()
	var evs []*dumps.Evidence
	for _, name := range socketEvidenceFiles {
		data, err := os.ReadFile(filepath.Join("../../testdata/sockets", name))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := dumps.Read(bytes.NewReader(data), name)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	dumps.JoinEvidence(evs)
	return evs
}

func TestSocketEvidenceGolden(t *testing.T) {
	for _, format := range []string{"tsv", "table", "json"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeEvidence(&b, format, readSocketEvidence(t)); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/evidence_sockets."+format+".golden", b.Bytes())
		})
	}
}

// TestSocketTSVContract pins the stable part of the TSV: the first eleven
// columns, one row per socket, every row as wide as the header.
func TestSocketTSVContract(t *testing.T) {
	evs := readSocketEvidence(t)
	var b bytes.Buffer
	if err := socketTable(evs).writeTSV(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := "source\ttool\tproto\tlocal_addr\tlocal_port\tremote_addr\tremote_port\tstate\tpid\tprocess\tfd"
	if !strings.HasPrefix(lines[0], want+"\t") {
		t.Fatalf("header %q does not start with %q", lines[0], want)
	}
	n := 0
	for _, ev := range evs {
		n += len(ev.Sockets)
	}
	if len(lines)-1 != n {
		t.Errorf("%d rows for %d sockets", len(lines)-1, n)
	}
	cols := strings.Count(lines[0], "\t")
	for i, l := range lines[1:] {
		if c := strings.Count(l, "\t"); c != cols {
			t.Errorf("row %d has %d tabs, header %d: %q", i+1, c, cols, l)
		}
	}
	// The CLOSE_WAIT socket of proc-join.txt gets its owners from the fd
	// listing: the first one shown, all three in owners.
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "proc-join.txt:4\t") {
			f := strings.Split(l, "\t")
			if f[7] != "CLOSE_WAIT" || f[8] != "4242" || f[10] != "101" || f[15] != "4242:101:,4242:102:,4250:7:" {
				t.Errorf("joined row: %q", f)
			}
		}
	}
}

// TestSocketJSONSchema checks the documented JSON field names.
func TestSocketJSONSchema(t *testing.T) {
	var b bytes.Buffer
	if err := writeEvidence(&b, "json", readSocketEvidence(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files []map[string]json.RawMessage `json:"files"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var sock map[string]json.RawMessage
	var socks []map[string]json.RawMessage
	if err := json.Unmarshal(doc.Files[0]["sockets"], &socks); err != nil || len(socks) < 2 {
		t.Fatalf("sockets: %v", err)
	}
	sock = socks[1]
	for _, k := range []string{"tool", "proto", "local", "remote", "state", "state_raw", "recv_q", "send_q", "owners", "inode", "uid", "timer", "snapshot", "src"} {
		if _, ok := sock[k]; !ok {
			t.Errorf("socket JSON has no %q: %s", k, doc.Files[0]["sockets"])
		}
	}
	var local struct {
		Addr string `json:"addr"`
		Port int    `json:"port"`
	}
	if err := json.Unmarshal(sock["local"], &local); err != nil || string(sock["state"]) != `"CLOSE_WAIT"` || local.Addr != "10.0.0.5" || local.Port != 8080 {
		t.Errorf("state %s, local %s", sock["state"], sock["local"])
	}
	for _, k := range []string{"socket_snapshots", "warnings", "kind", "file"} {
		if _, ok := doc.Files[0][k]; !ok {
			t.Errorf("file JSON has no %q", k)
		}
	}
	if _, ok := doc.Files[3]["socket_summaries"]; !ok {
		t.Errorf("ss -s file has no socket_summaries")
	}
	if _, ok := doc.Files[4]["limits"]; !ok {
		t.Errorf("ulimit file has no limits")
	}
}

// TestEvidenceCLISockets runs the command: the TSV on stdout, warnings on
// stderr, and a one-line error for a file in no known format.
func TestEvidenceCLISockets(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"evidence", "--format", "tsv", "../../testdata/sockets/ss-breakage.txt"}, nil, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "source\ttool\tproto\t") || !strings.Contains(out.String(), "\tCLOSE_WAIT\t") {
		t.Errorf("stdout: %s", out.String())
	}
	if !strings.Contains(errb.String(), `ss-breakage.txt:13: ss: bad Recv-Q/Send-Q "x" "0"`) {
		t.Errorf("stderr has no positioned warning: %s", errb.String())
	}
	out.Reset()
	errb.Reset()
	code = run([]string{"evidence", "../../testdata/sockets/not-evidence.txt"}, nil, &out, &errb)
	if code != exitFailure || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "not-evidence.txt: not a recognised evidence format") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
