package report

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

// TestEpMatchesAddrPort holds ep to the netip.AddrPort it stands for: the
// same address and port back, the same order as AddrPort.Compare (which the
// report's socket order follows), the same equality, over IPv4, IPv6,
// IPv4-mapped (unmapped by epOf), zoned and zero addresses.
func TestEpMatchesAddrPort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	addr := func() netip.Addr {
		switch r.IntN(6) {
		case 0:
			return netip.Addr{}
		case 1, 2:
			return netip.AddrFrom4([4]byte{byte(r.IntN(3)), 0, byte(r.IntN(2)), byte(r.IntN(256))})
		case 3:
			return netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: byte(r.IntN(3)), 15: byte(r.IntN(256))})
		case 4:
			return netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 7: byte(r.IntN(2)), 15: byte(r.IntN(256))}).WithZone("eth0")
		}
		var b [16]byte
		b[0], b[8], b[15] = byte(r.IntN(3)), byte(r.IntN(2)), byte(r.IntN(256))
		return netip.AddrFrom16(b)
	}
	clean := func(a netip.AddrPort) netip.AddrPort {
		return netip.AddrPortFrom(a.Addr().Unmap().WithZone(""), a.Port())
	}
	var aps []netip.AddrPort
	for range 2000 {
		aps = append(aps, netip.AddrPortFrom(addr(), uint16(r.IntN(3)*30000)))
	}
	for i, a := range aps {
		e := epOf(a)
		if got, want := e.AddrPort(), clean(a); got != want {
			t.Fatalf("epOf(%v).AddrPort() = %v, want %v", a, got, want)
		}
		if e.String() != clean(a).String() || e.Port() != a.Port() || e.Addr() != clean(a).Addr() {
			t.Fatalf("epOf(%v) prints %q, port %d, addr %v", a, e.String(), e.Port(), e.Addr())
		}
		b := aps[(i*7+3)%len(aps)]
		if got, want := e.compare(epOf(b)), clean(a).Compare(clean(b)); got != want {
			t.Fatalf("epOf(%v).compare(%v) = %d, want %d", a, b, got, want)
		}
		if got, want := e == epOf(b), clean(a) == clean(b); got != want {
			t.Fatalf("epOf(%v) == epOf(%v) is %v, want %v", a, b, got, want)
		}
		k, ko := mkKey(a, b), mkKey(b, a)
		if k.reversed() != ko || compareKeys(k, ko) != -compareKeys(ko, k) {
			t.Fatalf("keys of %v and %v: reversed or order wrong", a, b)
		}
	}
}

// TestKeysWithoutPadding: the structs the builder's large maps are keyed by
// have no padding, so that Go hashes them as plain memory rather than field
// by field (see key).
func TestKeysWithoutPadding(t *testing.T) {
	for _, v := range []any{key{}, ep{}, serverRequest{}} {
		typ := reflect.TypeOf(v)
		var sum uintptr
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Offset != sum || f.Name == "_" {
				t.Errorf("%v: field %s at offset %d after %d bytes of fields", typ, f.Name, f.Offset, sum)
			}
			sum += f.Type.Size()
		}
		if sum != typ.Size() {
			t.Errorf("%v: %d bytes of fields in %d", typ, sum, typ.Size())
		}
	}
}
