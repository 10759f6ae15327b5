package pcapstate

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

// referenceOrder is the documented order of a Result's Conns, written with
// netip's and time's own comparisons.
func referenceOrder(a, b Conn) int {
	if c := a.Local.Addr.Compare(b.Local.Addr); c != 0 {
		return c
	}
	if c := a.Remote.Addr.Compare(b.Remote.Addr); c != 0 {
		return c
	}
	if c := a.First.Compare(b.First); c != 0 {
		return c
	}
	if c := cmp.Compare(a.VLAN, b.VLAN); c != 0 {
		return c
	}
	if c := strings.Compare(a.FirstPacket.File, b.FirstPacket.File); c != 0 {
		return c
	}
	return cmp.Compare(a.FirstPacket.Packet, b.FirstPacket.Packet)
}

// TestSortConns checks that SortConns orders connections as
// referenceOrder does, on every connection of all the Zeek captures
// read together (IPv4 and IPv6, VLANs, tunnels, 26 files, reused
// 5-tuples), shuffled, plus addresses with zones and ties broken by file
// and packet.
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
	zoned := res.Conns[0]
	zoned.Local.Addr = netip.MustParseAddrPort("[fe80::1%eth0]:80")
	zoned2 := zoned
	zoned2.Local.Addr = netip.MustParseAddrPort("[fe80::1%eth1]:80")
	zoned3 := zoned
	zoned3.Local.Addr = netip.MustParseAddrPort("[fe80::1]:80")
	conns := append(slices.Clone(res.Conns), dup, dup2, zoned, zoned2, zoned3)
	r := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		r.Shuffle(len(conns), func(i, j int) { conns[i], conns[j] = conns[j], conns[i] })
		want := slices.Clone(conns)
		slices.SortFunc(want, referenceOrder)
		SortConns(conns)
		if diff := gocmp.Diff(order(want), order(conns)); diff != "" {
			t.Fatalf("SortConns differs from the reference order (-want +got):\n%s", diff)
		}
	}
}

// order describes each connection by what the order compares.
func order(conns []Conn) []string {
	var out []string
	for _, c := range conns {
		out = append(out, fmt.Sprintf("%v %v %v %d %v", c.Local.Addr, c.Remote.Addr, c.First.Format(time.RFC3339Nano), c.VLAN, c.FirstPacket))
	}
	return out
}
