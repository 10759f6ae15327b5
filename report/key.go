package report

import (
	"cmp"
	"encoding/binary"
	"net/netip"
)

// key is a socket by its endpoints, ours first, IPv4-mapped IPv6 addresses
// unmapped and zones dropped. Its endpoints are plain integers without
// padding: the maps the builder keys by socket (tens of thousands of
// entries, looked up pass after pass) hash and compare 48 bytes of memory
// at once, which the garbage collector does not scan, and sorting compares
// integers. A netip.AddrPort holds a pointer and compares field by field:
// with it, sorting the reference capture's 50,000 open ends took 70-80 ms.
// A struct with padding is hashed field by field too (ep's port and length
// apart were 2% of BenchmarkBuilderBuild's time in their hash alone).
type key struct{ local, remote ep }

// ep is an endpoint of a key: the address's 16 bytes as two big-endian
// words (an IPv4 address in the low 32 bits of lo), and in tag its length
// in bits (0 for the zero Addr, 32 or 128) above its port's 16 bits.
type ep struct {
	hi, lo, tag uint64
}

// epOf is a's ep, its address unmapped and without zone.
func epOf(a netip.AddrPort) ep {
	ip := a.Addr().Unmap()
	e := ep{tag: uint64(ip.BitLen())<<16 | uint64(a.Port())}
	switch e.bits() {
	case 32:
		b := ip.As4()
		e.lo = uint64(binary.BigEndian.Uint32(b[:]))
	case 128:
		b := ip.As16()
		e.hi, e.lo = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	}
	return e
}

func mkKey(l, r netip.AddrPort) key { return key{epOf(l), epOf(r)} }

func (k key) reversed() key { return key{k.remote, k.local} }

// Addr is e's address.
func (e ep) Addr() netip.Addr {
	switch e.bits() {
	case 32:
		return netip.AddrFrom4([4]byte{byte(e.lo >> 24), byte(e.lo >> 16), byte(e.lo >> 8), byte(e.lo)})
	case 128:
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], e.hi)
		binary.BigEndian.PutUint64(b[8:], e.lo)
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

// Port is e's port.
func (e ep) Port() uint16 { return uint16(e.tag) }

// bits is the length of e's address in bits.
func (e ep) bits() uint64 { return e.tag >> 16 }

// withPort is e with port p.
func (e ep) withPort(p uint16) ep { return ep{e.hi, e.lo, e.tag&^0xffff | uint64(p)} }

// AddrPort is e as a netip.AddrPort.
func (e ep) AddrPort() netip.AddrPort { return netip.AddrPortFrom(e.Addr(), e.Port()) }

// String is e as netip.AddrPort prints it.
func (e ep) String() string { return e.AddrPort().String() }

// compare orders endpoints as netip.AddrPort.Compare orders theirs.
func (e ep) compare(o ep) int {
	return cmp.Or(cmp.Compare(e.bits(), o.bits()), cmp.Compare(e.hi, o.hi), cmp.Compare(e.lo, o.lo), cmp.Compare(e.Port(), o.Port()))
}

func compareKeys(a, b key) int { return cmp.Or(a.local.compare(b.local), a.remote.compare(b.remote)) }

func endpointOf(e ep) Endpoint { return Endpoint{Addr: e.Addr(), Port: e.Port()} }
