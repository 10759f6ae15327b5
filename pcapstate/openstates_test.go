package pcapstate

import (
	"bytes"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// addrs compares addresses as values.
var addrs = cmp.Options{cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{}, netip.Prefix{}), cmpopts.IgnoreUnexported(FileStats{})}

// readCase reads one of the bundled cases' captures with opts.
func readCase(t *testing.T, path string, opts Options) *Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Read([]Input{{Name: "capture.pcap", R: f}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestOpenStates: Options.Open hands over, of the connections open at the
// end, exactly those whose local endpoint ends in one of its states, each
// as it is without the option, and leaves the rest of the Result as it
// is; OmitWhy empties Why alone. On a real capture that ends with
// connections in CLOSE_WAIT, ESTABLISHED and TIME_WAIT.
func TestOpenStates(t *testing.T) {
	const path = "../testdata/cases/fd-exhaustion/capture.pcap"
	all := readCase(t, path, Options{Retain: RetainNone})
	states := map[State]int{}
	for _, c := range all.Conns {
		states[c.Local.State]++
	}
	if states[CloseWait] == 0 || states[Established] == 0 {
		t.Fatalf("the capture ends with %v: want connections in CLOSE_WAIT and ESTABLISHED", states)
	}
	rest := func(r *Result) Result {
		out := *r
		out.Conns = nil
		return out
	}
	for _, open := range [][]State{{CloseWait}, {Established}, {CloseWait, Established}, {SynSent}} {
		got := readCase(t, path, Options{Retain: RetainNone, Open: open})
		var want []Conn
		for _, c := range all.Conns {
			if slices.Contains(open, c.Local.State) {
				want = append(want, c)
			}
		}
		if diff := cmp.Diff(want, got.Conns, addrs); diff != "" {
			t.Errorf("Open %v: connections differ (-filtered +handed over):\n%s", open, diff)
		}
		if diff := cmp.Diff(rest(all), rest(got), addrs); diff != "" {
			t.Errorf("Open %v: the rest of the Result differs:\n%s", open, diff)
		}
	}
	got := readCase(t, path, Options{Retain: RetainNone, OmitWhy: true})
	whys := 0
	for i := range all.Conns {
		if all.Conns[i].Why != "" {
			whys++
		}
		if got.Conns[i].Why != "" {
			t.Errorf("OmitWhy: %s has a Why", got.Conns[i].Local.Addr)
		}
		got.Conns[i].Why = all.Conns[i].Why
	}
	if whys == 0 {
		t.Fatal("no connection has a Why to omit")
	}
	if diff := cmp.Diff(all.Conns, got.Conns, addrs); diff != "" {
		t.Errorf("OmitWhy changed more than Why:\n%s", diff)
	}
}

// TestOpenStatesHalves: Options.Open applies to the connections that saw
// only their opener's SYN as to the others: a local client's SYNs to a
// dead server (SYN_SENT, not summed up as half-open, since the local end
// opened them) are not handed over to a caller that asks for CLOSE_WAIT.
func TestOpenStatesHalves(t *testing.T) {
	c := capgen.New(time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC))
	server := netip.MustParseAddrPort("10.0.0.8:8080")
	k := c.Conn(netip.MustParseAddrPort("10.0.0.5:40000"), server, capgen.ConnOptions{})
	k.Handshake()
	k.FIN(capgen.FromServer)
	k.ACK(capgen.FromClient)
	for i := range 3 {
		syn := c.Conn(netip.MustParseAddrPort("10.0.0.5:"+strconv.Itoa(41000+i)), netip.MustParseAddrPort("10.0.0.9:80"), capgen.ConnOptions{})
		syn.Send(capgen.Segment{Dir: capgen.FromClient, Flags: capgen.SYN, Seq: 1000, Window: 64240})
	}
	c.Wait(time.Second)
	var pcap bytes.Buffer
	if err := c.Write(&pcap, capgen.Format{}); err != nil {
		t.Fatal(err)
	}
	local := []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32")}
	for _, opts := range []Options{{Local: local, Open: []State{CloseWait}}, {Local: local, Open: []State{CloseWait}, SummarizeHalfOpen: true}} {
		res, err := Read([]Input{{Name: "c.pcap", R: bytes.NewReader(pcap.Bytes())}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []State
		for _, c := range res.Conns {
			got = append(got, c.Local.State)
		}
		if !slices.Equal(got, []State{CloseWait}) {
			t.Errorf("SummarizeHalfOpen %v: handed over connections in %v, want [CLOSE_WAIT] alone", opts.SummarizeHalfOpen, got)
		}
	}
}
