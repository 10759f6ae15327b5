package pcapstate

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSortConns checks that sortConns orders connections as compareConns
// does, on every connection of all the Zeek captures read together (IPv4
// and IPv6, VLANs, tunnels, 26 files, reused 5-tuples), shuffled.
func TestSortConns(t *testing.T) {
	traces, err := filepath.Glob(filepath.Join(zeekDir, "traces", "*"))
	if err != nil || len(traces) == 0 {
		t.Fatalf("no traces in %s: %v", zeekDir, err)
	}
	var inputs []Input
	for _, p := range traces {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		inputs = append(inputs, Input{Name: filepath.Base(p), R: f})
	}
	res, err := Read(inputs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Conns) < 50 {
		t.Fatalf("only %d conns", len(res.Conns))
	}
	// The same 5-tuple at the same time from two files, and from the same
	// file at two packets: the last keys decide.
	dup := res.Conns[0]
	dup.FirstPacket.File = "~" + dup.FirstPacket.File
	dup2 := res.Conns[0]
	dup2.FirstPacket.Packet++
	conns := append(slices.Clone(res.Conns), dup, dup2)
	r := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		r.Shuffle(len(conns), func(i, j int) { conns[i], conns[j] = conns[j], conns[i] })
		want := slices.Clone(conns)
		slices.SortFunc(want, compareConns)
		sortConns(conns)
		if diff := cmp.Diff(order(want), order(conns)); diff != "" {
			t.Fatalf("sortConns differs from compareConns (-want +got):\n%s", diff)
		}
	}
}

// order describes each connection by what compareConns compares.
func order(conns []Conn) []string {
	var out []string
	for _, c := range conns {
		out = append(out, fmt.Sprintf("%v %v %v %d %v", c.Local.Addr, c.Remote.Addr, c.First.Format(time.RFC3339Nano), c.VLAN, c.FirstPacket))
	}
	return out
}
