// Package filter is a pure-Go implementation of the part of tcpdump's
// filter language (pcap-filter(7)) that post-incident TCP work uses:
// host, net, port, portrange, their src/dst qualifiers, protocol
// abbreviations, vlan, less/greater, and byte tests such as
// tcp[tcpflags] & (tcp-fin|tcp-rst) != 0.
//
// An expression is parsed once (Parse) into a typed syntax tree, then
// compiled per link type (Expr.Compile) into a Program that matches raw
// frames with libpcap's semantics: the same offsets from the start of the
// link-layer header, outermost headers only, vlan shifting the offsets of
// everything written after it, and a load past the captured bytes
// rejecting the packet, as a BPF program does.
package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrUnsupported is wrapped by the error for a valid tcpdump expression
// that this package does not implement (mpls, pppoes, host names...).
var ErrUnsupported = errors.New("not supported by the pure-Go filter")

// Error is a parse or compile error at a byte offset of the expression.
type Error struct {
	Expr        string
	Pos         int
	Msg         string
	Unsupported bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("filter %q: at offset %d: %s", e.Expr, e.Pos, e.Msg)
}

// Unwrap returns ErrUnsupported for an unsupported expression.
func (e *Error) Unwrap() error {
	if e.Unsupported {
		return ErrUnsupported
	}
	return nil
}

// SyntaxError is an error of the lexer or parser before it is given the
// expression's text.
type SyntaxError struct {
	Pos         int
	Msg         string
	Unsupported bool
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("at offset %d: %s", e.Pos, e.Msg) }

// unsupportedHint is appended to the message for what libpcap has and
// this package has not.
const unsupportedHint = "not supported by the pure-Go filter; a build with libpcap (make build TAGS=pcap) has tcpdump's whole language"

// libpcapOnly lists libpcap keywords this package does not implement.
var libpcapOnly = map[string]bool{
	"mpls": true, "pppoes": true, "pppoed": true, "geneve": true, "vxlan": true, "llc": true,
	"broadcast": true, "multicast": true, "gateway": true, "protochain": true,
	"inbound": true, "outbound": true, "ifindex": true, "byte": true, "radio": true,
	"fddi": true, "tr": true, "wlan": true, "ppp": true, "slip": true,
	"atalk": true, "aarp": true, "decnet": true, "lat": true, "sca": true, "moprc": true, "mopdl": true,
	"iso": true, "esis": true, "es-is": true, "isis": true, "is-is": true, "clnp": true, "stp": true,
	"ipx": true, "netbeui": true, "l1": true, "l2": true, "iih": true, "lsp": true, "snp": true,
	"csnp": true, "psnp": true, "type": true, "subtype": true, "dir": true, "direction": true,
	"addr1": true, "addr2": true, "addr3": true, "addr4": true, "address1": true, "address2": true,
	"address3": true, "address4": true, "ra": true, "ta": true, "lane": true, "metac": true,
	"bcc": true, "oam": true, "oamf4": true, "oamf4ec": true, "oamf4sc": true, "sc": true,
	"ilmic": true, "vpi": true, "vci": true, "connectmsg": true, "metaconnect": true,
	"on": true, "ifname": true, "rset": true, "ruleset": true, "rnr": true, "rulenum": true,
	"srnr": true, "subrulenum": true, "reason": true, "action": true, "fisu": true, "lssu": true,
	"lsu": true, "msu": true, "hfisu": true, "hlssu": true, "hmsu": true, "sio": true, "opc": true,
	"dpc": true, "sls": true, "hsio": true, "hopc": true, "hdpc": true, "hsls": true,
}

// keywords are the words that are never names (besides protoKeywords and
// libpcapOnly).
var keywords = map[string]bool{
	"src": true, "dst": true, "host": true, "net": true, "mask": true, "port": true,
	"portrange": true, "proto": true, "and": true, "or": true, "not": true, "less": true,
	"greater": true, "len": true, "length": true, "vlan": true,
}

func isKeyword(t token) bool {
	if t.kind != tWord || t.escaped {
		return false
	}
	_, p := protoKeywords[t.text]
	return p || keywords[t.text] || libpcapOnly[t.text]
}

// Expr is a parsed filter expression.
type Expr struct {
	src  string
	root Node
}

// Root is the expression's syntax tree.
func (e *Expr) Root() Node { return e.root }

// String is the expression as written.
func (e *Expr) String() string { return e.src }

// Parse parses a tcpdump filter expression. An empty expression (only
// blanks) matches every packet and parses to a nil Root.
func Parse(src string) (*Expr, error) {
	toks, err := lex(src)
	if err == nil {
		p := &parser{toks: toks}
		var root Node
		if p.peek().kind != tEOF {
			root, err = p.parseExpr()
			if err == nil && p.peek().kind != tEOF {
				err = p.errf(p.peek().pos, "want and, or or the end, not %s", p.peek())
			}
		}
		if err == nil {
			return &Expr{src: src, root: root}, nil
		}
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		return nil, &Error{Expr: src, Pos: se.Pos, Msg: se.Msg, Unsupported: se.Unsupported}
	}
	return nil, fmt.Errorf("filter %q: %w", src, err)
}

// qual is the qualifiers of a primitive (libpcap's struct qual), which a
// bare address, number or name after and/or inherits: "port 80 or 443".
type qual struct {
	proto Proto
	dir   Dir
	addr  string // "host", "net", "port", "portrange", "proto" or "" for none
	valid bool   // false after a protocol test, relation or other primitive
}

type parser struct {
	toks []token
	i    int
	last qual // the qualifiers a bare id after and/or takes
}

func (p *parser) peek() token        { return p.toks[p.i] }
func (p *parser) peekAt(k int) token { return p.toks[min(p.i+k, len(p.toks)-1)] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errf(pos int, format string, args ...any) error {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) unsupported(pos int, what string) error {
	return &SyntaxError{Pos: pos, Msg: what + " is " + unsupportedHint, Unsupported: true}
}

func isWord(t token, words ...string) bool {
	if t.kind != tWord || t.escaped {
		return false
	}
	for _, w := range words {
		if t.text == w {
			return true
		}
	}
	return false
}

func isOp(t token, ops ...string) bool {
	if t.kind != tOp {
		return false
	}
	for _, o := range ops {
		if t.text == o {
			return true
		}
	}
	return false
}

func isAnd(t token) bool { return isWord(t, "and") || isOp(t, "&&") }
func isOr(t token) bool  { return isWord(t, "or") || isOp(t, "||") }
func isNot(t token) bool { return isWord(t, "not") || isOp(t, "!") }

var relops = []string{"=", "==", "!=", "<", "<=", ">", ">="}
var arithOps = []string{"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"}

func isRelOrArith(t token) bool { return isOp(t, relops...) || isOp(t, arithOps...) }

// parseExpr: term { (and|or) (term|id) }, and and or of equal precedence,
// left to right.
func (p *parser) parseExpr() (Node, error) {
	n, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if !isAnd(t) && !isOr(t) {
			return n, nil
		}
		p.next()
		var r Node
		if p.startsID(p.i) {
			if !p.last.valid {
				return nil, p.errf(p.peek().pos, "want a qualifier (host, net, port...) before %s", p.peek())
			}
			r, err = p.parseID(p.last)
		} else {
			r, err = p.parseTerm()
		}
		if err != nil {
			return nil, err
		}
		if isAnd(t) {
			n = &And{n, r}
		} else {
			n = &Or{n, r}
		}
	}
}

// startsID reports whether the tokens at i are an id (a bare address,
// number or name, maybe negated or parenthesized) rather than a term.
func (p *parser) startsID(i int) bool {
	t := p.toks[i]
	switch t.kind {
	case tIPv4, tIPv6, tMAC:
		return true
	case tNum:
		return !isRelOrArith(p.toks[i+1])
	case tWord:
		if isNot(t) {
			return p.startsID(i + 1)
		}
		return !isKeyword(t)
	case tOp:
		switch t.text {
		case "!":
			return p.startsID(i + 1)
		case "(":
			return p.startsID(i+1) && !p.parenIsArith(i)
		}
	}
	return false
}

// parenIsArith reports whether the parenthesis at i opens an arithmetic
// expression: the token after its match is an arithmetic or relational
// operator.
func (p *parser) parenIsArith(i int) bool {
	depth := 0
	for j := i; j < len(p.toks); j++ {
		switch {
		case isOp(p.toks[j], "("):
			depth++
		case isOp(p.toks[j], ")"):
			depth--
			if depth == 0 {
				return j+1 < len(p.toks) && isRelOrArith(p.toks[j+1])
			}
		case p.toks[j].kind == tEOF:
			return false
		}
	}
	return false
}

// parseTerm: not term | rterm.
func (p *parser) parseTerm() (Node, error) {
	if t := p.peek(); isNot(t) {
		p.next()
		x, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		return &Not{X: x, At: t.pos}, nil
	}
	return p.parseRTerm()
}

// parseRTerm: ( expr ) | head id | proto | arith relop arith | less N |
// greater N | vlan [N].
func (p *parser) parseRTerm() (Node, error) {
	t := p.peek()
	switch t.kind {
	case tEOF:
		return nil, p.errf(t.pos, "want a primitive (host, port, tcp...), not the end")
	case tOp:
		switch t.text {
		case "(":
			if p.parenIsArith(p.i) {
				return p.parseRelation()
			}
			saved := p.last
			p.next()
			n, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			if c := p.next(); !isOp(c, ")") {
				return nil, p.errf(c.pos, "want ')', not %s", c)
			}
			p.last = saved
			return n, nil
		case "-":
			return p.parseRelation()
		}
		return nil, p.errf(t.pos, "want a primitive (host, port, tcp...), not %s", t)
	case tNum:
		if isRelOrArith(p.peekAt(1)) {
			return p.parseRelation()
		}
		return nil, p.errf(t.pos, "want a qualifier (host, net, port...) before %s", t)
	case tIPv4, tIPv6, tMAC:
		return nil, p.errf(t.pos, "want a qualifier (host, net...) before %s", t)
	}
	if t.escaped {
		return nil, p.errf(t.pos, "want a qualifier (host, net...) before %s", t)
	}
	if libpcapOnly[t.text] {
		return nil, p.unsupported(t.pos, fmt.Sprintf("%q", t.text))
	}
	if pr, ok := protoKeywords[t.text]; ok {
		n := p.peekAt(1)
		switch {
		case isOp(n, "["):
			return p.parseRelation()
		case isWord(n, "src", "dst", "host", "net", "port", "portrange", "proto"):
			p.next()
			return p.parseHead(pr, t.pos)
		case libpcapOnly[n.text] && n.kind == tWord && !n.escaped:
			return nil, p.unsupported(n.pos, fmt.Sprintf("%q", n.text))
		}
		p.next()
		if pr == ProtoLink {
			return nil, p.errf(t.pos, "%q cannot be used alone; use ether host, ether src, ether dst or ether[...]", t.text)
		}
		p.last = qual{}
		return &ProtoTest{Proto: pr, At: t.pos}, nil
	}
	switch t.text {
	case "src", "dst", "host", "net", "port", "portrange", "proto":
		return p.parseHead(ProtoDefault, t.pos)
	case "len", "length":
		return p.parseRelation()
	case "less", "greater":
		p.next()
		n := p.next()
		if n.kind != tNum {
			return nil, p.errf(n.pos, "want a length after %s, not %s", t.text, n)
		}
		p.last = qual{}
		return &Length{Greater: t.text == "greater", N: n.val, At: t.pos}, nil
	case "vlan":
		p.next()
		p.last = qual{}
		if n := p.peek(); n.kind == tNum {
			p.next()
			if n.val > 0x0fff {
				return nil, p.errf(n.pos, "VLAN tag %d greater than maximum 4095", n.val)
			}
			return &VLAN{ID: uint16(n.val), HasID: true, At: t.pos}, nil
		}
		return &VLAN{At: t.pos}, nil
	}
	if keywords[t.text] {
		return nil, p.errf(t.pos, "want a primitive (host, port, tcp...), not %s", t)
	}
	return nil, p.errf(t.pos, "want a qualifier (host, net...) before %s", t)
}

// parseHead reads the direction and address qualifiers after an optional
// protocol qualifier, then the id they apply to.
func (p *parser) parseHead(pr Proto, pos int) (Node, error) {
	q := qual{proto: pr, valid: true}
	t := p.peek()
	if isWord(t, "src", "dst") {
		p.next()
		q.dir = DirSrc
		if t.text == "dst" {
			q.dir = DirDst
		}
		// src or dst, src and dst (and the reverse orders).
		if c, o := p.peekAt(0), p.peekAt(1); (isOr(c) || isAnd(c)) && isWord(o, "src", "dst") && o.text != t.text {
			p.next()
			p.next()
			if isOr(c) {
				q.dir = DirDefault
			} else {
				q.dir = DirAnd
			}
		}
	}
	if a := p.peek(); isWord(a, "host", "net", "port", "portrange", "proto") {
		if a.text == "proto" && q.dir != DirDefault {
			return nil, p.errf(a.pos, "proto takes no direction qualifier")
		}
		p.next()
		q.addr = a.text
	}
	if pr == ProtoLink && q.addr != "" && q.addr != "host" && q.addr != "proto" {
		return nil, p.errf(pos, "ether %s is not a primitive; use ether host, ether src or ether dst", q.addr)
	}
	if pr == ProtoLink && q.addr == "proto" {
		return nil, p.unsupported(pos, "ether proto")
	}
	return p.parseID(q)
}

// parseID reads an id with qualifiers q: an address, number or name, not
// id, or ( id {and|or id} ).
func (p *parser) parseID(q qual) (Node, error) {
	t := p.peek()
	if isNot(t) {
		p.next()
		x, err := p.parseID(q)
		if err != nil {
			return nil, err
		}
		return &Not{X: x, At: t.pos}, nil
	}
	if isOp(t, "(") {
		p.next()
		n, err := p.parseID(q)
		if err != nil {
			return nil, err
		}
		for {
			c := p.next()
			switch {
			case isOp(c, ")"):
				p.last = q
				return n, nil
			case isAnd(c) || isOr(c):
				r, err := p.parseID(q)
				if err != nil {
					return nil, err
				}
				if isAnd(c) {
					n = &And{n, r}
				} else {
					n = &Or{n, r}
				}
			default:
				return nil, p.errf(c.pos, "want and, or or ')', not %s", c)
			}
		}
	}
	n, err := p.parseNID(q)
	if err != nil {
		return nil, err
	}
	p.last = q
	return n, nil
}

// parseNID reads one address, number or name under qualifiers q.
func (p *parser) parseNID(q qual) (Node, error) {
	t := p.next()
	switch q.addr {
	case "port", "portrange":
		return p.port(q, t)
	case "proto":
		return p.proto(q, t)
	}
	switch t.kind {
	case tNum:
		if q.proto == ProtoLink {
			return nil, p.errf(t.pos, "want a MAC address after ether host, not %s", t)
		}
		v, mask := t.val, uint32(0xffffffff)
		if q.addr == "net" {
			// A short net number is promoted: net 10 is 10.0.0.0/8.
			for v != 0 && v&0xff000000 == 0 {
				v <<= 8
				mask <<= 8
			}
		}
		return p.host4(q, t, v, mask, t.text)
	case tIPv4:
		v, bits, err := parseIPv4(t.text)
		if err != nil {
			return nil, p.errf(t.pos, "%v", err)
		}
		v <<= 32 - bits
		mask := uint32(0xffffffff) << (32 - bits)
		if bits == 0 {
			mask = 0
		}
		if n := p.peek(); isOp(n, "/") || isWord(n, "mask") {
			return p.masked4(q, t, v)
		}
		return p.host4(q, t, v, mask, t.text)
	case tIPv6:
		return p.host6(q, t)
	case tMAC:
		if q.proto != ProtoLink {
			return nil, p.errf(t.pos, "a MAC address needs ether host, ether src or ether dst")
		}
		mac, _ := parseMAC(t.text)
		return &EtherHost{Dir: q.dir, MAC: mac, At: t.pos}, nil
	case tWord:
		if isKeyword(t) {
			return nil, p.errf(t.pos, "want an address, not %s", t)
		}
		return nil, p.unsupported(t.pos, fmt.Sprintf("host name %q (it needs a DNS lookup; write the address)", t.text))
	}
	return nil, p.errf(t.pos, "want an address, not %s", t)
}

// parseIPv4 reads 1 to 4 dotted decimal parts, each at most 255, and
// returns them as a number of bits bits.
func parseIPv4(s string) (uint32, int, error) {
	parts := strings.Split(s, ".")
	var v uint32
	for _, part := range parts {
		n, err := strconv.ParseUint(part, 10, 8)
		if err != nil {
			return 0, 0, fmt.Errorf("invalid IPv4 address %q", s)
		}
		v = v<<8 | uint32(n)
	}
	return v, 8 * len(parts), nil
}

func (p *parser) host4(q qual, t token, v, mask uint32, text string) (Node, error) {
	switch q.proto {
	case ProtoDefault, ProtoIP, ProtoARP, ProtoRARP:
	default:
		return nil, p.errf(t.pos, "%s %s takes no IPv4 address", q.proto, orDefault(q.addr, "host"))
	}
	h := &Host{Proto: q.proto, Dir: q.dir, Len: 4, Text: text, Net: q.addr == "net", At: t.pos}
	put32(h.Addr[:], v)
	put32(h.Mask[:], mask)
	return h, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

// masked4 reads the /len or mask M after an IPv4 network.
func (p *parser) masked4(q qual, t token, v uint32) (Node, error) {
	sep := p.next()
	m := p.next()
	var mask uint32
	text := t.text
	if isOp(sep, "/") {
		if m.kind != tNum || m.val > 32 {
			return nil, p.errf(m.pos, "want a prefix length of at most 32, not %s", m)
		}
		mask = uint32(uint64(0xffffffff) << (32 - m.val))
		text += "/" + m.text
	} else {
		if m.kind != tIPv4 {
			return nil, p.errf(m.pos, "want a netmask after mask, not %s", m)
		}
		mv, bits, err := parseIPv4(m.text)
		if err != nil {
			return nil, p.errf(m.pos, "%v", err)
		}
		mask = mv << (32 - bits)
		text += " mask " + m.text
	}
	if v&^mask != 0 {
		return nil, p.errf(t.pos, "non-network bits set in %q", text)
	}
	if q.addr != "net" {
		return nil, p.errf(t.pos, "%q needs net, not %s", text, orDefault(q.addr, "no qualifier"))
	}
	return p.host4(q, t, v, mask, text)
}

func (p *parser) host6(q qual, t token) (Node, error) {
	a := netip.MustParseAddr(t.text) // the lexer checked it
	bits := 128
	text := t.text
	if isOp(p.peek(), "/") {
		p.next()
		m := p.next()
		if m.kind != tNum || m.val > 128 {
			return nil, p.errf(m.pos, "want a prefix length of at most 128, not %s", m)
		}
		bits = int(m.val)
		text += "/" + m.text
	}
	pfx := netip.PrefixFrom(a, bits)
	if pfx.Masked().Addr() != a {
		return nil, p.errf(t.pos, "non-network bits set in %q", text)
	}
	if bits != 128 && q.addr != "net" {
		return nil, p.errf(t.pos, "%q needs net, not %s", text, orDefault(q.addr, "no qualifier"))
	}
	if q.proto != ProtoDefault && q.proto != ProtoIP6 {
		return nil, p.errf(t.pos, "%s %s takes no IPv6 address", q.proto, orDefault(q.addr, "host"))
	}
	h := &Host{Proto: q.proto, Dir: q.dir, Addr: a.As16(), Len: 16, Text: text, Net: q.addr == "net", At: t.pos}
	for i := 0; i < bits; i++ {
		h.Mask[i/8] |= 0x80 >> (i % 8)
	}
	return h, nil
}

func (p *parser) port(q qual, t token) (Node, error) {
	switch q.proto {
	case ProtoDefault, ProtoTCP, ProtoUDP, ProtoSCTP:
	default:
		return nil, p.errf(t.pos, "%s %s: only tcp, udp and sctp have ports", q.proto, q.addr)
	}
	n := &Port{Proto: q.proto, Dir: q.dir, At: t.pos, Range: q.addr == "portrange"}
	switch t.kind {
	case tNum:
		if t.val > 65535 {
			return nil, p.errf(t.pos, "port number %d greater than maximum 65535", t.val)
		}
		n.Lo, n.Hi = uint16(t.val), uint16(t.val)
		n.Range = false // portrange N is port N
		return n, nil
	case tWord:
		if lo, hi, ok := strings.Cut(t.text, "-"); ok && q.addr == "portrange" && isDigits(lo) && isDigits(hi) {
			a, errA := strconv.ParseUint(lo, 10, 16)
			b, errB := strconv.ParseUint(hi, 10, 16)
			if errA != nil || errB != nil {
				return nil, p.errf(t.pos, "port range %q: ports are at most 65535", t.text)
			}
			n.Lo, n.Hi = uint16(min(a, b)), uint16(max(a, b))
			if n.Lo == n.Hi {
				n.Range = false
			}
			return n, nil
		}
		if !isKeyword(t) {
			return nil, &SyntaxError{Pos: t.pos, Unsupported: true,
				Msg: fmt.Sprintf("want a port number, not %s (port names need the services database, which only a build with libpcap reads: make build TAGS=pcap)", t)}
		}
	}
	if q.addr == "portrange" {
		return nil, p.errf(t.pos, "want a port range (1024-65535), not %s", t)
	}
	return nil, p.errf(t.pos, "want a port number, not %s", t)
}

// ipProtoNames are the protocol names libpcap resolves for proto \name.
var ipProtoNames = map[string]uint32{
	"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
	"icmp6": 58, "ipv6-icmp": 58, "pim": 103, "vrrp": 112, "sctp": 132,
}

func (p *parser) proto(q qual, t token) (Node, error) {
	switch q.proto {
	case ProtoDefault, ProtoIP, ProtoIP6:
	default:
		return nil, p.unsupported(t.pos, fmt.Sprintf("%s proto", q.proto))
	}
	v, ok := t.val, t.kind == tNum
	if t.kind == tWord {
		v, ok = ipProtoNames[t.text]
		if !ok && !isKeyword(t) {
			return nil, p.unsupported(t.pos, fmt.Sprintf("protocol name %q", t.text))
		}
	}
	if !ok {
		return nil, p.errf(t.pos, "want a protocol number, not %s", t)
	}
	if v > 255 {
		return nil, p.errf(t.pos, "protocol number %d greater than maximum 255", v)
	}
	return &IPProto{Proto: q.proto, Num: uint8(v), At: t.pos}, nil
}

// Arithmetic precedence, loosest first (libpcap's grammar.y): | & << >>
// + - * / %. ^ binds as | does.
var arithLevels = [][]string{{"|", "^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"}}

// parseRelation: arith relop arith.
func (p *parser) parseRelation() (Node, error) {
	l, err := p.parseArith(0)
	if err != nil {
		return nil, err
	}
	op := p.next()
	if !isOp(op, relops...) {
		return nil, p.errf(op.pos, "want a comparison (=, !=, <, <=, >, >=), not %s", op)
	}
	r, err := p.parseArith(0)
	if err != nil {
		return nil, err
	}
	p.last = qual{}
	o := op.text
	if o == "==" {
		o = "="
	}
	return &Relation{Op: o, L: l, R: r, At: l.Pos()}, nil
}

func (p *parser) parseArith(level int) (Arith, error) {
	if level == len(arithLevels) {
		return p.parseUnary()
	}
	l, err := p.parseArith(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if !isOp(t, arithLevels[level]...) {
			return l, nil
		}
		p.next()
		r, err := p.parseArith(level + 1)
		if err != nil {
			return nil, err
		}
		if err := checkConst(t, r); err != nil {
			return nil, err
		}
		l = &Binary{Op: t.text, L: l, R: r, At: t.pos}
	}
}

// checkConst rejects what libpcap rejects at compile time: a division or
// modulus by the constant 0, a shift by a constant above 31.
func checkConst(op token, r Arith) error {
	n, ok := r.(*Num)
	if !ok {
		return nil
	}
	switch {
	case op.text == "/" && n.V == 0:
		return &SyntaxError{Pos: op.pos, Msg: "division by zero"}
	case op.text == "%" && n.V == 0:
		return &SyntaxError{Pos: op.pos, Msg: "modulus by zero"}
	case (op.text == "<<" || op.text == ">>") && n.V > 31:
		return &SyntaxError{Pos: op.pos, Msg: "shift by more than 31 bits"}
	}
	return nil
}

func (p *parser) parseUnary() (Arith, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return &Num{V: t.val, At: t.pos}, nil
	case tOp:
		switch t.text {
		case "-":
			x, err := p.parseUnary()
			if err != nil {
				return nil, err
			}
			return &Neg{X: x, At: t.pos}, nil
		case "(":
			x, err := p.parseArith(0)
			if err != nil {
				return nil, err
			}
			if c := p.next(); !isOp(c, ")") {
				return nil, p.errf(c.pos, "want ')', not %s", c)
			}
			return x, nil
		}
	case tWord:
		if t.escaped {
			break
		}
		if t.text == "len" || t.text == "length" {
			return &Len{At: t.pos}, nil
		}
		pr, ok := protoKeywords[t.text]
		if !ok {
			if libpcapOnly[t.text] {
				return nil, p.unsupported(t.pos, fmt.Sprintf("%q", t.text))
			}
			break
		}
		if pr == ProtoAH || pr == ProtoESP {
			return nil, p.errf(t.pos, "%q does not support the index operation", t.text)
		}
		if b := p.next(); !isOp(b, "[") {
			return nil, p.errf(b.pos, "want '[' after %s, not %s", t.text, b)
		}
		idx, err := p.parseArith(0)
		if err != nil {
			return nil, err
		}
		size := 1
		if isOp(p.peek(), ":") {
			p.next()
			s := p.next()
			if s.kind != tNum || (s.val != 1 && s.val != 2 && s.val != 4) {
				return nil, p.errf(s.pos, "data size must be 1, 2, or 4, not %s", s)
			}
			size = int(s.val)
		}
		if c := p.next(); !isOp(c, "]") {
			return nil, p.errf(c.pos, "want ']', not %s", c)
		}
		return &Load{Proto: pr, Index: idx, Size: size, At: t.pos}, nil
	}
	return nil, p.errf(t.pos, "want a number, len or proto[offset], not %s", t)
}
