package filter

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
)

// Program is an expression compiled for one link type. It is safe for
// concurrent use.
type Program struct {
	link  string
	match pred
}

// Match reports whether a frame matches: data is the captured bytes, from
// the start of the link-layer header, wireLen the frame's length on the
// wire (what len, less and greater test). As in a BPF program, a load
// past the captured bytes rejects the frame, whatever the rest says.
func (p *Program) Match(data []byte, wireLen int) bool {
	if p.match == nil {
		return true
	}
	return p.match(data, uint32(wireLen)) == yes
}

// result is a predicate's outcome: abort is a load out of the captured
// bytes or a division by zero, which stops a BPF program with "reject".
type result int8

const (
	no    result = 0
	yes   result = 1
	abort result = -1
)

func boolResult(b bool) result {
	if b {
		return yes
	}
	return no
}

type pred func(b []byte, wire uint32) result

// arith computes a value; ok false is an abort.
type arith func(b []byte, wire uint32) (v uint32, ok bool)

// linkKind is how a link type says which protocol its payload is.
type linkKind uint8

const (
	kindEther linkKind = iota // an ethertype at typeOff (Ethernet, Linux cooked, Cisco HDLC)
	kindPPP                   // a PPP protocol number at typeOff
	kindNull                  // a 4-byte address family at 0, in either byte order (BSD null)
	kindLoop                  // a 4-byte address family at 0, big-endian (OpenBSD loop)
	kindRaw                   // no header: the IP version nibble says (raw IP)
	kindIPv4                  // always IPv4
	kindIPv6                  // always IPv6
)

type linkInfo struct {
	name    string
	kind    linkKind
	typeOff uint32 // libpcap's off_linktype
	plOff   uint32 // libpcap's off_linkpl: where the network layer starts
	ether   bool   // has MAC addresses and in-band VLAN tags (Ethernet)
}

// links are the link types the filter compiles for, by the number stored
// in capture files, with libpcap's offsets (gencode.c init_linktype).
var links = map[uint32]linkInfo{
	0:   {name: "NULL", kind: kindNull, plOff: 4},
	1:   {name: "EN10MB", kind: kindEther, typeOff: 12, plOff: 14, ether: true},
	9:   {name: "PPP", kind: kindPPP, typeOff: 2, plOff: 4},
	12:  {name: "RAW", kind: kindRaw},
	14:  {name: "RAW", kind: kindRaw},
	50:  {name: "PPP_SERIAL", kind: kindPPP, typeOff: 2, plOff: 4},
	101: {name: "RAW", kind: kindRaw},
	104: {name: "C_HDLC", kind: kindEther, typeOff: 2, plOff: 4},
	108: {name: "LOOP", kind: kindLoop, plOff: 4},
	113: {name: "LINUX_SLL", kind: kindEther, typeOff: 14, plOff: 16},
	228: {name: "IPV4", kind: kindIPv4},
	229: {name: "IPV6", kind: kindIPv6},
	276: {name: "LINUX_SLL2", kind: kindEther, typeOff: 0, plOff: 20},
}

// Ethertypes the primitives test.
const (
	etherIP     = 0x0800
	etherARP    = 0x0806
	etherRARP   = 0x8035
	etherIPv6   = 0x86dd
	ether8021Q  = 0x8100
	ether8021AD = 0x88a8
	etherQinQ   = 0x9100
)

// compiler holds the offsets as libpcap's code generator does: vlan moves
// them for everything compiled after it.
type compiler struct {
	expr    string
	link    linkInfo
	typeOff uint32
	plOff   uint32
}

// Compile compiles the expression for frames of a link type, as stored in
// a pcap or pcapng file (1 Ethernet, 113 Linux cooked, 276 Linux cooked
// v2, 101 raw IP...). A link type the filter does not know, or a
// primitive the link type cannot carry (vlan on Linux cooked captures),
// is an error, as it is for libpcap; the former wraps ErrUnsupported.
func (e *Expr) Compile(linkType uint32) (*Program, error) {
	li, ok := links[linkType]
	if !ok {
		return nil, &Error{Expr: e.src, Pos: 0, Unsupported: true,
			Msg: fmt.Sprintf("link type %d is %s", linkType, unsupportedHint)}
	}
	prog := &Program{link: li.name}
	if e.root == nil {
		return prog, nil
	}
	c := &compiler{expr: e.src, link: li, typeOff: li.typeOff, plOff: li.plOff}
	m, err := c.node(e.root)
	if err != nil {
		return nil, err
	}
	prog.match = m
	return prog, nil
}

func (c *compiler) errf(pos int, format string, args ...any) error {
	return &Error{Expr: c.expr, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Constant predicates, which and, or and not fold.
var (
	predTrue  pred = func([]byte, uint32) result { return yes }
	predFalse pred = func([]byte, uint32) result { return no }
)

// isConst reports whether p is the constant want. Functions cannot be
// compared in Go; the two constants are distinct functions without
// captures, so their code pointers tell them apart from any other.
func isConst(p pred, want pred) bool {
	return reflect.ValueOf(p).Pointer() == reflect.ValueOf(want).Pointer()
}

func and(a, b pred) pred {
	switch {
	case isConst(a, predFalse):
		return predFalse
	case isConst(a, predTrue):
		return b
	case isConst(b, predTrue):
		return a
	}
	return func(d []byte, w uint32) result {
		if r := a(d, w); r != yes {
			return r
		}
		return b(d, w)
	}
}

func or(a, b pred) pred {
	switch {
	case isConst(a, predTrue):
		return predTrue
	case isConst(a, predFalse):
		return b
	case isConst(b, predFalse):
		return a
	}
	return func(d []byte, w uint32) result {
		if r := a(d, w); r != no {
			return r
		}
		return b(d, w)
	}
}

func not(a pred) pred {
	switch {
	case isConst(a, predTrue):
		return predFalse
	case isConst(a, predFalse):
		return predTrue
	}
	return func(d []byte, w uint32) result {
		r := a(d, w)
		if r == abort {
			return abort
		}
		return 1 - r
	}
}

// Loads of 1, 2 and 4 bytes at a constant offset, with their comparisons.

func cmp8(off uint32, mask, v uint8) pred {
	return func(d []byte, _ uint32) result {
		if uint64(off) >= uint64(len(d)) {
			return abort
		}
		return boolResult(d[off]&mask == v)
	}
}

func cmp16(off uint32, v uint16) pred {
	return func(d []byte, _ uint32) result {
		if uint64(off)+2 > uint64(len(d)) {
			return abort
		}
		return boolResult(binary.BigEndian.Uint16(d[off:]) == v)
	}
}

func cmp32(off uint32, mask, v uint32) pred {
	return func(d []byte, _ uint32) result {
		if uint64(off)+4 > uint64(len(d)) {
			return abort
		}
		return boolResult(binary.BigEndian.Uint32(d[off:])&mask == v)
	}
}

func load(d []byte, off uint64, size int) (uint32, bool) {
	if off+uint64(size) > uint64(len(d)) {
		return 0, false
	}
	switch size {
	case 1:
		return uint32(d[off]), true
	case 2:
		return uint32(binary.BigEndian.Uint16(d[off:])), true
	}
	return binary.BigEndian.Uint32(d[off:]), true
}

// linktype is libpcap's gen_linktype: the frame's payload is of ethertype
// et, at the current (maybe VLAN-shifted) offset.
func (c *compiler) linktype(et uint16) pred {
	switch c.link.kind {
	case kindEther:
		return cmp16(c.typeOff, et)
	case kindPPP:
		switch et {
		case etherIP:
			et = 0x0021
		case etherIPv6:
			et = 0x0057
		}
		return cmp16(c.typeOff, et)
	case kindNull, kindLoop:
		var afs []uint32
		switch et {
		case etherIP:
			afs = []uint32{2}
		case etherIPv6:
			afs = []uint32{24, 28, 30} // BSD, FreeBSD, Darwin
		default:
			return predFalse
		}
		either := c.link.kind == kindNull
		return func(d []byte, _ uint32) result {
			if len(d) < 4 {
				return abort
			}
			be := binary.BigEndian.Uint32(d)
			le := binary.LittleEndian.Uint32(d)
			for _, af := range afs {
				if be == af || (either && le == af) {
					return yes
				}
			}
			return no
		}
	case kindRaw:
		switch et {
		case etherIP:
			return cmp8(0, 0xf0, 0x40)
		case etherIPv6:
			return cmp8(0, 0xf0, 0x60)
		}
		return predFalse
	case kindIPv4:
		if et == etherIP {
			return predTrue
		}
		return predFalse
	case kindIPv6:
		if et == etherIPv6 {
			return predTrue
		}
		return predFalse
	}
	return predFalse
}

// ipProto is ip proto num: the IPv4 header's protocol field.
func (c *compiler) ipProto(num uint8) pred {
	return and(c.linktype(etherIP), cmp8(c.plOff+9, 0xff, num))
}

// ip6Proto is ip6 proto num: the next header of the IPv6 header, or of a
// fragment header right after it.
func (c *compiler) ip6Proto(num uint8) pred {
	direct := cmp8(c.plOff+6, 0xff, num)
	frag := and(cmp8(c.plOff+6, 0xff, 44), cmp8(c.plOff+40, 0xff, num))
	return and(c.linktype(etherIPv6), or(direct, frag))
}

// notFragment is true for an IPv4 packet that is not a fragment other
// than the first (libpcap's gen_ipfrag).
func (c *compiler) notFragment() pred {
	off := c.plOff + 6
	return func(d []byte, _ uint32) result {
		if uint64(off)+2 > uint64(len(d)) {
			return abort
		}
		return boolResult(binary.BigEndian.Uint16(d[off:])&0x1fff == 0)
	}
}

// ipv4Guard is ip and ip proto num and not a later fragment, the guard
// of tcp[...] and the like (libpcap's order of loads: the link type, the
// protocol, the fragment offset). On link types with an ethertype it is
// one call instead of five.
func (c *compiler) ipv4Guard(num uint8) pred {
	if c.link.kind != kindEther {
		return and(and(c.linktype(etherIP), cmp8(c.plOff+9, 0xff, num)), c.notFragment())
	}
	to, pl := uint64(c.typeOff), uint64(c.plOff)
	return func(d []byte, _ uint32) result {
		n := uint64(len(d))
		if to+2 > n {
			return abort
		}
		if binary.BigEndian.Uint16(d[to:]) != etherIP {
			return no
		}
		if pl+9 >= n {
			return abort
		}
		if d[pl+9] != num {
			return no
		}
		if pl+8 > n {
			return abort
		}
		return boolResult(binary.BigEndian.Uint16(d[pl+6:])&0x1fff == 0)
	}
}

// transport4 returns the offset of the IPv4 payload: the network
// offset plus four times the header length nibble (BPF's ldx 4*([k]&0xf)).
func transport4(d []byte, plOff uint32) (uint64, bool) {
	if uint64(plOff) >= uint64(len(d)) {
		return 0, false
	}
	return uint64(plOff) + 4*uint64(d[plOff]&0x0f), true
}

func (c *compiler) node(n Node) (pred, error) {
	switch n := n.(type) {
	case *And:
		l, err := c.node(n.L)
		if err != nil {
			return nil, err
		}
		r, err := c.node(n.R)
		if err != nil {
			return nil, err
		}
		return and(l, r), nil
	case *Or:
		l, err := c.node(n.L)
		if err != nil {
			return nil, err
		}
		r, err := c.node(n.R)
		if err != nil {
			return nil, err
		}
		return or(l, r), nil
	case *Not:
		x, err := c.node(n.X)
		if err != nil {
			return nil, err
		}
		return not(x), nil
	case *ProtoTest:
		return c.protoTest(n.Proto), nil
	case *IPProto:
		switch n.Proto {
		case ProtoIP:
			return c.ipProto(n.Num), nil
		case ProtoIP6:
			return c.ip6Proto(n.Num), nil
		}
		return or(c.ipProto(n.Num), c.ip6Proto(n.Num)), nil
	case *Host:
		return c.host(n), nil
	case *EtherHost:
		return c.etherHost(n)
	case *Port:
		return c.port(n), nil
	case *VLAN:
		return c.vlan(n)
	case *Length:
		if n.Greater {
			return func(_ []byte, w uint32) result { return boolResult(w >= n.N) }, nil
		}
		return func(_ []byte, w uint32) result { return boolResult(w <= n.N) }, nil
	case *Relation:
		return c.relation(n)
	}
	return nil, c.errf(n.Pos(), "internal error: unknown node %T", n)
}

// protoTest is a protocol abbreviation (libpcap's gen_proto_abbrev).
func (c *compiler) protoTest(p Proto) pred {
	switch p {
	case ProtoIP:
		return c.linktype(etherIP)
	case ProtoIP6:
		return c.linktype(etherIPv6)
	case ProtoARP:
		return c.linktype(etherARP)
	case ProtoRARP:
		return c.linktype(etherRARP)
	}
	num, v4, v6 := p.ipProto()
	switch {
	case v4 && v6:
		return or(c.ipProto(num), c.ip6Proto(num))
	case v4:
		return c.ipProto(num)
	}
	return c.ip6Proto(num)
}

func (c *compiler) host(n *Host) pred {
	if n.Len == 16 {
		// libpcap's gen_hostop6: the four words of the address, in order.
		word := func(off uint32) pred {
			var p pred = predTrue
			for i := 0; i < 4; i++ {
				m := binary.BigEndian.Uint32(n.Mask[4*i:])
				if m == 0 {
					continue
				}
				p = and(p, cmp32(off+uint32(4*i), m, binary.BigEndian.Uint32(n.Addr[4*i:])))
			}
			return p
		}
		return and(c.linktype(etherIPv6), dir(n.Dir, word(c.plOff+8), word(c.plOff+24)))
	}
	addr, mask := binary.BigEndian.Uint32(n.Addr[:]), binary.BigEndian.Uint32(n.Mask[:])
	one := func(et uint16, src, dst uint32) pred {
		lt := c.linktype(et)
		if isConst(lt, predFalse) {
			return predFalse
		}
		if n.Dir != DirDefault {
			return and(lt, dir(n.Dir, cmp32(c.plOff+src, mask, addr), cmp32(c.plOff+dst, mask, addr)))
		}
		// src or dst in one call: the source first, as libpcap loads them.
		so, do := uint64(c.plOff+src), uint64(c.plOff+dst)
		return and(lt, func(d []byte, _ uint32) result {
			v, ok := load(d, so, 4)
			if !ok {
				return abort
			}
			if v&mask == addr {
				return yes
			}
			if v, ok = load(d, do, 4); !ok {
				return abort
			}
			return boolResult(v&mask == addr)
		})
	}
	if n.Proto == ProtoDefault && c.link.kind == kindEther {
		return c.hostEther(n.Dir, addr, mask)
	}
	ip := func() pred { return one(etherIP, 12, 16) }
	arp := func() pred { return one(etherARP, 14, 24) }
	rarp := func() pred { return one(etherRARP, 14, 24) }
	switch n.Proto {
	case ProtoIP:
		return ip()
	case ProtoARP:
		return arp()
	case ProtoRARP:
		return rarp()
	}
	// No qualifier: IPv4, ARP and RARP (libpcap's gen_host).
	return or(or(ip(), arp()), rarp())
}

// hostEther is an IPv4 host or net without a protocol qualifier (IPv4,
// ARP or RARP) on a link type with an ethertype, in one call: the loads
// of libpcap's three branches, which test the same ethertype field.
func (c *compiler) hostEther(d Dir, addr, mask uint32) pred {
	to, pl := uint64(c.typeOff), uint64(c.plOff)
	at := func(b []byte, off uint64) (bool, bool) {
		v, ok := load(b, off, 4)
		return v&mask == addr, ok
	}
	test := func(b []byte, so, do uint64) result {
		if d != DirDst {
			in, ok := at(b, so)
			switch {
			case !ok:
				return abort
			case d == DirSrc:
				return boolResult(in)
			case in && d == DirDefault:
				return yes
			case !in && d == DirAnd:
				return no
			}
		}
		in, ok := at(b, do)
		if !ok {
			return abort
		}
		return boolResult(in)
	}
	return func(b []byte, _ uint32) result {
		if to+2 > uint64(len(b)) {
			return abort
		}
		switch binary.BigEndian.Uint16(b[to:]) {
		case etherIP:
			return test(b, pl+12, pl+16)
		case etherARP, etherRARP:
			return test(b, pl+14, pl+24)
		}
		return no
	}
}

// dir combines the source and destination tests of a direction qualifier.
func dir(d Dir, src, dst pred) pred {
	switch d {
	case DirSrc:
		return src
	case DirDst:
		return dst
	case DirAnd:
		return and(src, dst)
	}
	return or(src, dst)
}

func (c *compiler) etherHost(n *EtherHost) (pred, error) {
	if !c.link.ether {
		return nil, c.errf(n.At, "ether host is not supported on link type %s (it has no MAC header), nor by libpcap", c.link.name)
	}
	mac := n.MAC
	at := func(off int) pred {
		return func(d []byte, _ uint32) result {
			if len(d) < off+6 {
				return abort
			}
			return boolResult([6]byte(d[off:off+6]) == mac)
		}
	}
	return dir(n.Dir, at(6), at(0)), nil
}

// port is libpcap's gen_port and gen_portrange, over IPv6 then IPv4.
func (c *compiler) port(n *Port) pred {
	var nums []uint8
	switch n.Proto {
	case ProtoDefault:
		nums = []uint8{6, 17, 132}
	default:
		num, _, _ := n.Proto.ipProto()
		nums = []uint8{num}
	}
	lo, hi := uint32(n.Lo), uint32(n.Hi)
	src, dst := n.Dir != DirDst, n.Dir != DirSrc
	both := n.Dir == DirAnd
	// ports tests the source and destination ports at off as the
	// direction says, loading them in libpcap's order (source first).
	ports := func(d []byte, off uint64) result {
		if src {
			v, ok := load(d, off, 2)
			if !ok {
				return abort
			}
			in := v >= lo && v <= hi
			if in && !both {
				return yes
			}
			if !in && (both || !dst) {
				return no
			}
		}
		v, ok := load(d, off+2, 2)
		if !ok {
			return abort
		}
		return boolResult(v >= lo && v <= hi)
	}
	// protoIn tests the protocol byte at off against nums.
	protoIn := func(d []byte, off uint32) result {
		if uint64(off) >= uint64(len(d)) {
			return abort
		}
		for _, num := range nums {
			if d[off] == num {
				return yes
			}
		}
		return no
	}
	pl := c.plOff
	v6 := and(c.linktype(etherIPv6), func(d []byte, _ uint32) result {
		if r := protoIn(d, pl+6); r != yes {
			return r
		}
		return ports(d, uint64(pl)+40)
	})
	v4 := and(c.linktype(etherIP), func(d []byte, _ uint32) result {
		if r := protoIn(d, pl+9); r != yes {
			return r
		}
		if uint64(pl)+8 > uint64(len(d)) {
			return abort
		}
		if binary.BigEndian.Uint16(d[pl+6:])&0x1fff != 0 {
			return no // a fragment other than the first
		}
		t, ok := transport4(d, pl)
		if !ok {
			return abort
		}
		return ports(d, t)
	})
	if c.link.kind != kindEther {
		return or(v6, v4)
	}
	// One call on link types with an ethertype: the same loads in the
	// same order, as the IPv6 and IPv4 branches test the same field.
	to := uint64(c.typeOff)
	return func(d []byte, w uint32) result {
		if to+2 > uint64(len(d)) {
			return abort
		}
		switch binary.BigEndian.Uint16(d[to:]) {
		case etherIPv6:
			return v6(d, w)
		case etherIP:
			return v4(d, w)
		}
		return no
	}
}

func (c *compiler) vlan(n *VLAN) (pred, error) {
	if !c.link.ether {
		return nil, c.errf(n.At, "vlan is not supported on link type %s (its frames carry no VLAN tags), nor by libpcap", c.link.name)
	}
	p := or(or(c.linktype(ether8021Q), c.linktype(ether8021AD)), c.linktype(etherQinQ))
	if n.HasID {
		off, id := c.plOff, n.ID
		p = and(p, func(d []byte, _ uint32) result {
			v, ok := load(d, uint64(off), 2)
			if !ok {
				return abort
			}
			return boolResult(uint16(v)&0x0fff == id)
		})
	}
	c.typeOff += 4
	c.plOff += 4
	return p, nil
}

// relOp is a comparison, unsigned as in BPF.
type relOp uint8

const (
	relEq relOp = iota
	relNe
	relGt
	relGe
	relLt
	relLe
)

func (op relOp) holds(a, b uint32) bool {
	switch op {
	case relEq:
		return a == b
	case relNe:
		return a != b
	case relGt:
		return a > b
	case relGe:
		return a >= b
	case relLt:
		return a < b
	}
	return a <= b
}

// relation is libpcap's gen_relation: the protocol checks of the right
// side, then of the left, then both values and their comparison.
func (c *compiler) relation(n *Relation) (pred, error) {
	l, lc, err := c.arith(n.L)
	if err != nil {
		return nil, err
	}
	r, rc, err := c.arith(n.R)
	if err != nil {
		return nil, err
	}
	var cmp relOp
	switch n.Op {
	case "=":
		cmp = relEq
	case "!=":
		cmp = relNe
	case ">":
		cmp = relGt
	case ">=":
		cmp = relGe
	case "<":
		cmp = relLt
	case "<=":
		cmp = relLe
	default:
		return nil, c.errf(n.At, "internal error: comparison %q", n.Op)
	}
	var test pred
	if k, ok := n.R.(*Num); ok {
		b := k.V
		test = func(d []byte, w uint32) result {
			a, ok := l(d, w)
			if !ok {
				return abort
			}
			return boolResult(cmp.holds(a, b))
		}
	} else {
		test = func(d []byte, w uint32) result {
			a, ok := l(d, w)
			if !ok {
				return abort
			}
			b, ok := r(d, w)
			if !ok {
				return abort
			}
			return boolResult(cmp.holds(a, b))
		}
	}
	return and(rc, and(lc, test)), nil
}

// arith compiles an arithmetic expression into its value and the protocol
// checks that guard it (libpcap's struct arth: its b). As in libpcap, a
// binary operation keeps the checks of its left operand only.
func (c *compiler) arith(a Arith) (arith, pred, error) {
	switch a := a.(type) {
	case *Num:
		v := a.V
		return func([]byte, uint32) (uint32, bool) { return v, true }, predTrue, nil
	case *Len:
		return func(_ []byte, w uint32) (uint32, bool) { return w, true }, predTrue, nil
	case *Neg:
		x, xc, err := c.arith(a.X)
		if err != nil {
			return nil, nil, err
		}
		return func(d []byte, w uint32) (uint32, bool) {
			v, ok := x(d, w)
			return -v, ok
		}, xc, nil
	case *Binary:
		l, lc, err := c.arith(a.L)
		if err != nil {
			return nil, nil, err
		}
		op, err := opcode(a.Op)
		if err != nil {
			return nil, nil, c.errf(a.At, "%v", err)
		}
		if k, ok := a.R.(*Num); ok {
			y := k.V
			return func(d []byte, w uint32) (uint32, bool) {
				x, ok := l(d, w)
				if !ok {
					return 0, false
				}
				return op.apply(x, y)
			}, lc, nil
		}
		r, _, err := c.arith(a.R)
		if err != nil {
			return nil, nil, err
		}
		return func(d []byte, w uint32) (uint32, bool) {
			x, ok := l(d, w)
			if !ok {
				return 0, false
			}
			y, ok := r(d, w)
			if !ok {
				return 0, false
			}
			return op.apply(x, y)
		}, lc, nil
	case *Load:
		return c.load(a)
	}
	return nil, nil, c.errf(a.Pos(), "internal error: unknown arithmetic %T", a)
}

// arithOp is an arithmetic operator, applied with a switch rather than
// through a function value: one indirect call less per operation.
type arithOp uint8

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
	opMod
	opAnd
	opOr
	opXor
	opLsh
	opRsh
)

func opcode(op string) (arithOp, error) {
	i := slices.Index([]string{"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"}, op)
	if i < 0 {
		return 0, fmt.Errorf("internal error: operator %q", op)
	}
	return arithOp(i), nil
}

// apply computes x op y as BPF does: 32 bits unsigned, a division or
// modulus by zero stops the program (ok false), a shift by 32 or more
// gives 0.
func (op arithOp) apply(x, y uint32) (uint32, bool) {
	switch op {
	case opAdd:
		return x + y, true
	case opSub:
		return x - y, true
	case opMul:
		return x * y, true
	case opDiv:
		if y == 0 {
			return 0, false
		}
		return x / y, true
	case opMod:
		if y == 0 {
			return 0, false
		}
		return x % y, true
	case opAnd:
		return x & y, true
	case opOr:
		return x | y, true
	case opXor:
		return x ^ y, true
	case opLsh:
		if y >= 32 {
			return 0, true
		}
		return x << y, true
	}
	if y >= 32 {
		return 0, true
	}
	return x >> y, true
}

// load is proto[index:size] (libpcap's gen_load): the offset is relative
// to the link-layer header (ether, link), the network-layer header (ip,
// ip6, arp, rarp) or the transport header after an IPv4 header (tcp, udp,
// icmp...: IPv4 only, and not in a later fragment) or after a fixed IPv6
// header (icmp6).
func (c *compiler) load(a *Load) (arith, pred, error) {
	idx, checks, err := c.arith(a.Index)
	if err != nil {
		return nil, nil, err
	}
	size := a.Size
	var base func(d []byte) (uint64, bool)
	var check pred
	switch a.Proto {
	case ProtoLink:
		base, check = func([]byte) (uint64, bool) { return 0, true }, predTrue
	case ProtoIP, ProtoIP6, ProtoARP, ProtoRARP:
		off := uint64(c.plOff)
		base, check = func([]byte) (uint64, bool) { return off, true }, c.protoTest(a.Proto)
	case ProtoICMP6:
		off := uint64(c.plOff) + 40
		base = func([]byte) (uint64, bool) { return off, true }
		check = and(c.linktype(etherIPv6), cmp8(c.plOff+6, 0xff, 58))
	case ProtoTCP, ProtoUDP, ProtoSCTP, ProtoICMP, ProtoIGMP, ProtoIGRP, ProtoPIM, ProtoVRRP, ProtoCARP:
		plOff := c.plOff
		num, _, _ := a.Proto.ipProto()
		base = func(d []byte) (uint64, bool) { return transport4(d, plOff) }
		check = c.ipv4Guard(num)
	default:
		return nil, nil, c.errf(a.At, "%q does not support the index operation", a.Proto)
	}
	if k, ok := a.Index.(*Num); ok {
		i := uint64(k.V)
		if a.Proto == ProtoTCP || a.Proto == ProtoUDP || a.Proto == ProtoICMP || a.Proto == ProtoSCTP {
			// The common case, tcp[13]: one call.
			plOff := c.plOff
			return func(d []byte, _ uint32) (uint32, bool) {
				b, ok := transport4(d, plOff)
				if !ok {
					return 0, false
				}
				return load(d, b+i, size)
			}, and(checks, check), nil
		}
		return func(d []byte, _ uint32) (uint32, bool) {
			b, ok := base(d)
			if !ok {
				return 0, false
			}
			return load(d, b+i, size)
		}, and(checks, check), nil
	}
	return func(d []byte, w uint32) (uint32, bool) {
		i, ok := idx(d, w)
		if !ok {
			return 0, false
		}
		b, ok := base(d)
		if !ok {
			return 0, false
		}
		return load(d, b+uint64(i), size)
	}, and(checks, check), nil
}
