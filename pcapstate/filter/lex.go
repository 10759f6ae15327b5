package filter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// tokKind is the kind of a lexical token. The lexer follows libpcap's
// scanner.l: keywords are lower case, a name may hold '-', '_' and '.'
// inside, and tcpdump's named constants (tcpflags, tcp-fin, icmptype...)
// are numbers.
type tokKind uint8

const (
	tEOF  tokKind = iota
	tNum          // a number or a named constant: val
	tWord         // a keyword or a name: text
	tIPv4         // 1.2.3.4, or a short form (1.2, 1.2.3): text
	tIPv6         // an IPv6 address without zone: text
	tMAC          // 00:11:22:33:44:55 (also with '-', or 0011.2233.4455): text
	tOp           // punctuation: text
)

type token struct {
	kind    tokKind
	text    string // as written (without a leading backslash)
	val     uint32 // tNum
	pos     int    // byte offset in the expression
	escaped bool   // a tWord written \name: never a keyword
}

// String is the token for messages: quoted, or "the end".
func (t token) String() string {
	if t.kind == tEOF {
		return "the end"
	}
	return fmt.Sprintf("%q", t.text)
}

// constants are tcpdump's named numbers (libpcap's scanner.l).
var constants = map[string]uint32{
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5,
	"icmp-echo": 8, "icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11,
	"icmp-paramprob": 12, "icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
	"icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
	"icmp6type": 0, "icmp6code": 1,
	"icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3,
	"icmp6-parameterproblem": 4, "icmp6-echo": 128, "icmp6-echoreply": 129,
	"icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
	"icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133, "icmp6-routeradvert": 134,
	"icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136, "icmp6-redirect": 137,
	"icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139,
	"icmp6-nodeinformationresponse": 140, "icmp6-ineighbordiscoverysolicit": 141,
	"icmp6-ineighbordiscoveryadvert": 142, "icmp6-multicastlistenerreportv2": 143,
	"icmp6-homeagentdiscoveryrequest": 144, "icmp6-homeagentdiscoveryreply": 145,
	"icmp6-mobileprefixsolicit": 146, "icmp6-mobileprefixadvert": 147,
	"icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149,
	"icmp6-multicastrouteradvert": 151, "icmp6-multicastroutersolicit": 152,
	"icmp6-multicastrouterterm": 153,
	"tcpflags":                  13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}

// ops are the punctuation tokens, two-character ones first.
var ops = []string{"&&", "||", "!=", "==", "<=", ">=", "<<", ">>",
	"+", "-", "*", "/", "%", ":", "[", "]", "!", "<", ">", "(", ")", "&", "|", "^", "="}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lex splits an expression into tokens, ending with tEOF.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '\\':
			j := i + 1
			for j < len(src) && !strings.ContainsRune(" \t\n!()", rune(src[j])) {
				j++
			}
			if j == i+1 {
				return nil, &SyntaxError{Pos: i, Msg: "want a name after '\\'"}
			}
			toks = append(toks, token{kind: tWord, text: src[i+1 : j], pos: i, escaped: true})
			i = j
			continue
		case isAlnum(c) || (c == ':' && i+1 < len(src) && src[i+1] == ':'):
			t, n, err := lexWord(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += n
			continue
		}
		matched := false
		for _, op := range ops {
			if strings.HasPrefix(src[i:], op) {
				toks = append(toks, token{kind: tOp, text: op, pos: i})
				i += len(op)
				matched = true
				break
			}
		}
		if !matched {
			return nil, &SyntaxError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", rune(c))}
		}
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

// lexWord reads the word at src[i:]: an address, a number or a name.
func lexWord(src string, i int) (token, int, error) {
	j := i
	for j < len(src) && isWordByte(src[j]) {
		j++
	}
	w := src[i:j]
	if strings.Contains(w, ":") {
		if isMAC(w) {
			return token{kind: tMAC, text: w, pos: i}, len(w), nil
		}
		if a, err := netip.ParseAddr(w); err == nil && a.Is6() && a.Zone() == "" {
			return token{kind: tIPv6, text: w, pos: i}, len(w), nil
		}
		// Not an address: the word ends at the first colon (tcp[2:2]).
		k := strings.IndexByte(w, ':')
		if k == 0 {
			return token{}, 0, &SyntaxError{Pos: i, Msg: fmt.Sprintf("invalid IPv6 address %q", w)}
		}
		w = w[:k]
	} else if isMAC(w) {
		return token{kind: tMAC, text: w, pos: i}, len(w), nil
	}
	// A name does not end with '-' or '_' (libpcap's ID pattern).
	w = strings.TrimRight(w, "-_")
	if w == "" {
		return token{}, 0, &SyntaxError{Pos: i, Msg: "unexpected character"}
	}
	if v, ok := constants[w]; ok {
		return token{kind: tNum, text: w, val: v, pos: i}, len(w), nil
	}
	if isDigits(w) || (strings.HasPrefix(w, "0x") || strings.HasPrefix(w, "0X")) && len(w) > 2 && isHex(w[2:]) {
		v, err := parseNum(w)
		if err != nil {
			return token{}, 0, &SyntaxError{Pos: i, Msg: err.Error()}
		}
		return token{kind: tNum, text: w, val: v, pos: i}, len(w), nil
	}
	if parts := strings.Split(w, "."); len(parts) >= 2 && len(parts) <= 4 && allDigits(parts) {
		return token{kind: tIPv4, text: w, pos: i}, len(w), nil
	}
	return token{kind: tWord, text: w, pos: i}, len(w), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func allDigits(parts []string) bool {
	for _, p := range parts {
		if !isDigits(p) {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// parseNum reads a number as libpcap does: 0x hexadecimal, a leading 0
// octal, else decimal, at most 32 bits.
func parseNum(w string) (uint32, error) {
	base, digits, what := 10, w, "decimal"
	switch {
	case len(w) > 2 && (w[:2] == "0x" || w[:2] == "0X"):
		base, digits, what = 16, w[2:], "hexadecimal"
	case len(w) > 1 && w[0] == '0':
		base, digits, what = 8, w[1:], "octal"
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("%s number %s overflows 32 bits", what, w)
		}
		return 0, fmt.Errorf("number %s contains non-%s digits", w, what)
	}
	return uint32(v), nil
}

// isMAC reports whether w is a MAC-48 address: six groups of one or two
// hex digits separated by ':', '-' or '.', or three groups of four hex
// digits separated by '.'.
func isMAC(w string) bool {
	_, ok := parseMAC(w)
	return ok
}

func parseMAC(w string) ([6]byte, bool) {
	var m [6]byte
	if p := strings.Split(w, "."); len(p) == 3 {
		for i, g := range p {
			if len(g) != 4 || !isHex(g) {
				return m, false
			}
			v, _ := strconv.ParseUint(g, 16, 16)
			m[2*i], m[2*i+1] = byte(v>>8), byte(v)
		}
		return m, true
	}
	for _, sep := range []string{":", "-", "."} {
		p := strings.Split(w, sep)
		if len(p) != 6 {
			continue
		}
		for i, g := range p {
			if len(g) < 1 || len(g) > 2 || !isHex(g) {
				return m, false
			}
			v, _ := strconv.ParseUint(g, 16, 8)
			m[i] = byte(v)
		}
		return m, true
	}
	return m, false
}
