package filter

import (
	"fmt"
	"net/netip"
	"strings"
)

// Proto is a protocol qualifier or abbreviation: ether, ip, tcp...
type Proto uint8

// Protocols the pure-Go filter knows. ProtoDefault is no qualifier.
const (
	ProtoDefault Proto = iota
	ProtoLink          // ether, link
	ProtoIP
	ProtoIP6
	ProtoARP
	ProtoRARP
	ProtoTCP
	ProtoUDP
	ProtoSCTP
	ProtoICMP
	ProtoICMP6
	ProtoIGMP
	ProtoIGRP
	ProtoPIM
	ProtoVRRP
	ProtoCARP
	ProtoAH
	ProtoESP
)

var protoNames = [...]string{
	ProtoDefault: "", ProtoLink: "ether", ProtoIP: "ip", ProtoIP6: "ip6", ProtoARP: "arp", ProtoRARP: "rarp",
	ProtoTCP: "tcp", ProtoUDP: "udp", ProtoSCTP: "sctp", ProtoICMP: "icmp", ProtoICMP6: "icmp6",
	ProtoIGMP: "igmp", ProtoIGRP: "igrp", ProtoPIM: "pim", ProtoVRRP: "vrrp", ProtoCARP: "carp",
	ProtoAH: "ah", ProtoESP: "esp",
}

func (p Proto) String() string {
	if int(p) < len(protoNames) {
		return protoNames[p]
	}
	return fmt.Sprintf("proto(%d)", uint8(p))
}

// protoKeywords maps the words that name a protocol qualifier.
var protoKeywords = map[string]Proto{
	"ether": ProtoLink, "link": ProtoLink, "ip": ProtoIP, "ip6": ProtoIP6, "arp": ProtoARP, "rarp": ProtoRARP,
	"tcp": ProtoTCP, "udp": ProtoUDP, "sctp": ProtoSCTP, "icmp": ProtoICMP, "icmp6": ProtoICMP6,
	"igmp": ProtoIGMP, "igrp": ProtoIGRP, "pim": ProtoPIM, "vrrp": ProtoVRRP, "carp": ProtoCARP,
	"ah": ProtoAH, "esp": ProtoESP,
}

// ipProto is the IP protocol number of a transport abbreviation, and
// whether it exists over IPv4 and over IPv6 (libpcap's
// gen_proto_abbrev_internal).
func (p Proto) ipProto() (num uint8, v4, v6 bool) {
	switch p {
	case ProtoTCP:
		return 6, true, true
	case ProtoUDP:
		return 17, true, true
	case ProtoSCTP:
		return 132, true, true
	case ProtoAH:
		return 51, true, true
	case ProtoESP:
		return 50, true, true
	case ProtoPIM:
		return 103, true, true
	case ProtoICMP:
		return 1, true, false
	case ProtoIGMP:
		return 2, true, false
	case ProtoIGRP:
		return 9, true, false
	case ProtoVRRP, ProtoCARP:
		return 112, true, false
	case ProtoICMP6:
		return 58, false, true
	}
	return 0, false, false
}

// Dir is a direction qualifier.
type Dir uint8

// Direction qualifiers: none (src or dst), src, dst, src and dst.
const (
	DirDefault Dir = iota
	DirSrc
	DirDst
	DirAnd // src and dst
)

func (d Dir) String() string {
	return [...]string{"", "src", "dst", "src and dst"}[d]
}

// Node is a boolean node of a parsed expression. Pos is the byte offset
// in the expression where it starts.
type Node interface {
	Pos() int
	String() string
}

// Arith is an arithmetic node of a relation.
type Arith interface {
	Pos() int
	String() string
}

type (
	// And is L and R (&&).
	And struct{ L, R Node }
	// Or is L or R (||).
	Or struct{ L, R Node }
	// Not is not X (!).
	Not struct {
		X  Node
		At int
	}
	// ProtoTest is a protocol abbreviation alone: tcp, ip6, arp.
	ProtoTest struct {
		Proto Proto
		At    int
	}
	// Host is host, net and their qualifiers: addresses are compared
	// under Mask. Len is 4 (IPv4) or 16 (IPv6).
	Host struct {
		Proto Proto // ProtoDefault (ip, arp, rarp), IP, IP6, ARP, RARP
		Dir   Dir
		Addr  [16]byte
		Mask  [16]byte
		Len   int
		Text  string // as written: 10.0.0.0/8, 10.0.0.0 mask 255.0.0.0, ::1
		Net   bool
		At    int
	}
	// EtherHost is ether host MAC.
	EtherHost struct {
		Dir Dir
		MAC [6]byte
		At  int
	}
	// Port is port and portrange (Lo == Hi for port).
	Port struct {
		Proto  Proto // ProtoDefault (tcp, udp or sctp), TCP, UDP, SCTP
		Dir    Dir
		Lo, Hi uint16
		Range  bool
		At     int
	}
	// IPProto is [ip|ip6] proto N.
	IPProto struct {
		Proto Proto // ProtoDefault (both), IP, IP6
		Num   uint8
		At    int
	}
	// VLAN is vlan [ID]; it moves the offsets of everything after it.
	VLAN struct {
		ID    uint16
		HasID bool
		At    int
	}
	// Length is less N (len <= N) or greater N (len >= N).
	Length struct {
		Greater bool
		N       uint32
		At      int
	}
	// Relation is L op R, with op one of = != < <= > >=.
	Relation struct {
		Op   string
		L, R Arith
		At   int
	}

	// Num is a constant.
	Num struct {
		V  uint32
		At int
	}
	// Load is proto[Index : Size].
	Load struct {
		Proto Proto
		Index Arith
		Size  int
		At    int
	}
	// Binary is L op R, with op one of + - * / % & | ^ << >>.
	Binary struct {
		Op   string
		L, R Arith
		At   int
	}
	// Neg is -X.
	Neg struct {
		X  Arith
		At int
	}
	// Len is len (the packet's length on the wire).
	Len struct{ At int }
)

func (n *And) Pos() int       { return n.L.Pos() }
func (n *Or) Pos() int        { return n.L.Pos() }
func (n *Not) Pos() int       { return n.At }
func (n *ProtoTest) Pos() int { return n.At }
func (n *Host) Pos() int      { return n.At }
func (n *EtherHost) Pos() int { return n.At }
func (n *Port) Pos() int      { return n.At }
func (n *IPProto) Pos() int   { return n.At }
func (n *VLAN) Pos() int      { return n.At }
func (n *Length) Pos() int    { return n.At }
func (n *Relation) Pos() int  { return n.At }
func (n *Num) Pos() int       { return n.At }
func (n *Load) Pos() int      { return n.At }
func (n *Binary) Pos() int    { return n.At }
func (n *Neg) Pos() int       { return n.At }
func (n *Len) Pos() int       { return n.At }

// String forms are fully parenthesized and qualified, so that tests can
// check how an expression was read.
func (n *And) String() string       { return "(" + n.L.String() + " and " + n.R.String() + ")" }
func (n *Or) String() string        { return "(" + n.L.String() + " or " + n.R.String() + ")" }
func (n *Not) String() string       { return "not " + n.X.String() }
func (n *ProtoTest) String() string { return n.Proto.String() }

func quals(p Proto, d Dir, what string) string {
	var parts []string
	if p != ProtoDefault {
		parts = append(parts, p.String())
	}
	if d != DirDefault {
		parts = append(parts, d.String())
	}
	return strings.Join(append(parts, what), " ")
}

func (n *Host) String() string {
	what := "host"
	if n.Net {
		what = "net"
	}
	return quals(n.Proto, n.Dir, what) + " " + n.addrString()
}

func (n *Host) addrString() string {
	bits := 0
	contiguous := true
	for i := 0; i < n.Len; i++ {
		for b := 7; b >= 0; b-- {
			if n.Mask[i]>>b&1 == 1 {
				if bits != i*8+7-b {
					contiguous = false
				}
				bits++
			}
		}
	}
	var a netip.Addr
	if n.Len == 4 {
		a = netip.AddrFrom4([4]byte(n.Addr[:4]))
	} else {
		a = netip.AddrFrom16(n.Addr)
	}
	if !contiguous {
		m := netip.AddrFrom4([4]byte(n.Mask[:4]))
		return a.String() + " mask " + m.String()
	}
	if bits == n.Len*8 {
		return a.String()
	}
	if !n.Net && n.Len == 4 && bits%8 == 0 && bits > 0 {
		// host 10.1: a short address, which stands for a network.
		parts := make([]string, bits/8)
		for i := range parts {
			parts[i] = fmt.Sprint(n.Addr[i])
		}
		return strings.Join(parts, ".")
	}
	return fmt.Sprintf("%s/%d", a, bits)
}

func (n *EtherHost) String() string {
	m := n.MAC
	return quals(ProtoLink, n.Dir, "host") + fmt.Sprintf(" %02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

func (n *Port) String() string {
	if n.Range {
		return quals(n.Proto, n.Dir, "portrange") + fmt.Sprintf(" %d-%d", n.Lo, n.Hi)
	}
	return quals(n.Proto, n.Dir, "port") + fmt.Sprintf(" %d", n.Lo)
}

func (n *IPProto) String() string {
	return quals(n.Proto, DirDefault, "proto") + fmt.Sprintf(" %d", n.Num)
}

func (n *VLAN) String() string {
	if n.HasID {
		return fmt.Sprintf("vlan %d", n.ID)
	}
	return "vlan"
}

func (n *Length) String() string {
	if n.Greater {
		return fmt.Sprintf("greater %d", n.N)
	}
	return fmt.Sprintf("less %d", n.N)
}

func (n *Relation) String() string { return n.L.String() + " " + n.Op + " " + n.R.String() }
func (n *Num) String() string      { return fmt.Sprintf("%d", n.V) }

func (n *Load) String() string {
	return fmt.Sprintf("%s[%s:%d]", n.Proto, n.Index, n.Size)
}

func (n *Binary) String() string { return "(" + n.L.String() + " " + n.Op + " " + n.R.String() + ")" }
func (n *Neg) String() string    { return "-" + n.X.String() }
func (n *Len) String() string    { return "len" }
