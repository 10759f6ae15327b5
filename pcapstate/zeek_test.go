package pcapstate

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/internal/golden"
)

// zeekDir holds the public captures with Zeek's own verdicts; see
// testdata/conformance/README.md.
const zeekDir = "../testdata/conformance/zeek"

// oneWay are the captures in which only one direction was recorded.
var oneWay = map[string]bool{
	"ssh_ssh.client-side-half-duplex.pcap": true,
	"ssh_ssh.server-side-half-duplex.pcap": true,
	"tcp_one-sided-2745.pcap":              true,
}

// zeekCloseWait derives, from a capture's expected.tsv, the endpoints left in
// CLOSE_WAIT at capture end, merging the records of one 4-tuple as the
// conformance README says: any RST in any record means reset; a FIN from
// each endpoint means both closed; a FIN from one endpoint only, with both
// directions seen in some record, leaves the other in CLOSE_WAIT.
func zeekCloseWait(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type tuple struct {
		fin      map[netip.AddrPort]bool
		rst      bool
		bothDirs bool
		ends     [2]netip.AddrPort
	}
	tuples := map[[2]netip.AddrPort]*tuple{}
	var order [][2]netip.AddrPort
	sc := bufio.NewScanner(f)
	var cols map[string]int
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = map[string]int{}
			for i, c := range fs {
				cols[c] = i
			}
			continue
		}
		if fs[cols["proto"]] != "tcp" {
			continue
		}
		ep := func(h, p string) netip.AddrPort {
			port, err := strconv.Atoi(fs[cols[p]])
			if err != nil {
				t.Fatalf("%s: port %q", path, fs[cols[p]])
			}
			return netip.AddrPortFrom(netip.MustParseAddr(fs[cols[h]]), uint16(port))
		}
		o, r := ep("orig_h", "orig_p"), ep("resp_h", "resp_p")
		k := [2]netip.AddrPort{o, r}
		if o.Compare(r) > 0 {
			k = [2]netip.AddrPort{r, o}
		}
		tp := tuples[k]
		if tp == nil {
			tp = &tuple{fin: map[netip.AddrPort]bool{}, ends: k}
			tuples[k] = tp
			order = append(order, k)
		}
		hist := fs[cols["history"]]
		if strings.ContainsAny(hist, "Rr") {
			tp.rst = true
		}
		if strings.Contains(hist, "F") {
			tp.fin[o] = true
		}
		if strings.Contains(hist, "f") {
			tp.fin[r] = true
		}
		if fs[cols["derived_both_dirs_seen"]] == "T" {
			tp.bothDirs = true
		}
	}
	var out []string
	for _, k := range order {
		tp := tuples[k]
		if tp.rst || !tp.bothDirs || len(tp.fin) != 1 {
			continue
		}
		for _, e := range tp.ends {
			if !tp.fin[e] {
				out = append(out, e.String())
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestZeekConformance(t *testing.T) {
	traces, err := filepath.Glob(filepath.Join(zeekDir, "traces", "*"))
	if err != nil || len(traces) == 0 {
		t.Fatalf("no traces in %s: %v", zeekDir, err)
	}
	for _, trace := range traces {
		name := filepath.Base(trace)
		t.Run(name, func(t *testing.T) {
			base := strings.TrimSuffix(strings.TrimSuffix(name, ".pcapng"), ".pcap")
			want := zeekCloseWait(t, filepath.Join(zeekDir, base+".expected.tsv"))
			res := mustReadFile(t, trace, Options{})
			var got []string
			for _, c := range res.Conns {
				if c.Verdict == CloseWaitConfirmed {
					got = append(got, c.Local.Addr.String())
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("confirmed CLOSE_WAIT endpoints = %v, Zeek's verdicts give %v", got, want)
			}
			if oneWay[name] && len(got) > 0 {
				t.Errorf("one-way capture gave confirmed CLOSE_WAIT %v", got)
			}
			if len(res.Warnings) > 0 {
				t.Errorf("warnings on an intact capture: %v", res.Warnings)
			}
		})
	}
}

func mustReadFile(t testing.TB, path string, opts Options) *Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Read([]Input{{Name: filepath.Base(path), R: f}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestZeekGolden pins everything the engine says about each conformance
// capture, one line per connection, so that a change of any state, marker,
// count or cited packet shows in review (go test -update rewrites them).
func TestZeekGolden(t *testing.T) {
	for _, trace := range traceFiles(t) {
		name := filepath.Base(trace)
		t.Run(name, func(t *testing.T) {
			res := mustReadFile(t, trace, Options{})
			var b strings.Builder
			fmt.Fprintf(&b, "packets %d segments %d connections %d start %s end %s\n",
				res.Packets, res.Segments, res.Connections, res.Start.Format(time.RFC3339Nano), res.End.Format(time.RFC3339Nano))
			for _, s := range res.Skipped {
				fmt.Fprintf(&b, "skipped %s %d\n", s.Kind, s.Packets)
			}
			for _, c := range res.Conns {
				fmt.Fprintf(&b, "conn %s %s vlan=%d tunnel=%s handshake=%t one-way=%t reused=%t local-by=%s\n",
					c.Local.Addr, c.Remote.Addr, c.VLAN, c.Tunnel, c.Handshake, c.OneWay, c.Reused, c.LocalBy)
				for _, s := range []struct {
					who  string
					side Side
				}{{"local", c.Local}, {"remote", c.Remote}} {
					fmt.Fprintf(&b, "  %s %s since=%s pkts=%d bytes=%d markers=%q syn=%q fin=%q fin-ack=%q rst=%q\n",
						s.who, s.side.State, s.side.Since.Format(time.RFC3339Nano), s.side.Packets, s.side.Bytes, s.side.Markers,
						s.side.SYN, s.side.FIN, s.side.FINAck, s.side.RST)
				}
				if c.Verdict != NotCloseWait {
					fmt.Fprintf(&b, "  verdict %s: %s\n", c.Verdict, c.Why)
				}
				for _, a := range c.Anomalies {
					fmt.Fprintf(&b, "  anomaly %s local=%t %s on %s\n", a.Pos, a.Local, a.Event, a.State)
				}
				if c.AnomalyCount > len(c.Anomalies) {
					fmt.Fprintf(&b, "  anomalies %d in all\n", c.AnomalyCount)
				}
			}
			golden.Check(t, filepath.Join("testdata", "golden", strings.TrimSuffix(name, filepath.Ext(name))+".golden"), []byte(b.String()))
		})
	}
}
