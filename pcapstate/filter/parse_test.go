package filter

import (
	"errors"
	"strings"
	"testing"
)

func TestLex(t *testing.T) {
	tests := []struct {
		in   string
		want string // kind:text, space separated
	}{
		{"tcp port 80", "w:tcp w:port n:80"},
		{"tcp[tcpflags] & (tcp-fin|tcp-rst) != 0", "w:tcp o:[ n:13 o:] o:& o:( n:1 o:| n:4 o:) o:!= n:0"},
		{"tcp[2:2]", "w:tcp o:[ n:2 o:: n:2 o:]"},
		{"host ::1 or fe80::1", "w:host 6:::1 w:or 6:fe80::1"},
		{"net 10.1/16", "w:net 4:10.1 o:/ n:16"},
		{"ether host 00:11:22:33:44:55", "w:ether w:host m:00:11:22:33:44:55"},
		{"ether host 0011.2233.4455", "w:ether w:host m:0011.2233.4455"},
		{"0x1F 010 7", "n:31 n:8 n:7"},
		{"a&&b||!c", "w:a o:&& w:b o:|| o:! w:c"},
		{"x<<2>=y>>1<=z==w", "w:x o:<< n:2 o:>= w:y o:>> n:1 o:<= w:z o:== w:w"},
		{"portrange 1000-2000", "w:portrange w:1000-2000"},
		{"ip proto \\tcp", "w:ip w:proto w:tcp"},
		{"len-1", "w:len-1"},
		{"icmp[icmptype] = icmp-echo", "w:icmp o:[ n:0 o:] o:= n:8"},
	}
	for _, tt := range tests {
		toks, err := lex(tt.in)
		if err != nil {
			t.Errorf("lex(%q): %v", tt.in, err)
			continue
		}
		var got []string
		for _, tok := range toks[:len(toks)-1] {
			k := map[tokKind]string{tNum: "n", tWord: "w", tIPv4: "4", tIPv6: "6", tMAC: "m", tOp: "o"}[tok.kind]
			if tok.kind == tNum {
				got = append(got, k+":"+itoa(tok.val))
			} else {
				got = append(got, k+":"+tok.text)
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("lex(%q) = %s, want %s", tt.in, g, tt.want)
		}
	}
}

func itoa(v uint32) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

// parseTests pair expressions with their fully parenthesized reading.
// FuzzFilter starts from them.
var parseTests = []struct{ in, want string }{
	{"tcp", "tcp"},
	{"tcp port 80", "tcp port 80"},
	{"port 80 or 443", "(port 80 or port 443)"},
	{"tcp port 80 or 443 and host 1.2.3.4", "((tcp port 80 or tcp port 443) and host 1.2.3.4)"},
	{"a or b", ""}, // error, see parseErrors
	{"host 10.0.0.1 and not 10.0.0.2", "(host 10.0.0.1 and not host 10.0.0.2)"},
	{"src host 10.0.0.1", "src host 10.0.0.1"},
	{"dst net 10.0.0.0/8", "dst net 10.0.0.0/8"},
	{"src or dst host 10.0.0.1", "host 10.0.0.1"},
	{"src and dst port 53", "src and dst port 53"},
	{"net 10.0.0.0 mask 255.0.0.0", "net 10.0.0.0/8"},
	{"net 10.0.0.0 mask 255.0.255.0", "net 10.0.0.0 mask 255.0.255.0"},
	{"net 10", "net 10.0.0.0/8"},
	{"net 172.16", "net 172.16.0.0/16"},
	{"host 10.1", "host 10.1"},
	{"host ::1", "host ::1"},
	{"ip6 net 2001:db8::/32", "ip6 net 2001:db8::/32"},
	{"portrange 1000-2000", "portrange 1000-2000"},
	{"tcp portrange 2000-1000", "tcp portrange 1000-2000"},
	{"udp src portrange 53", "udp src port 53"},
	{"vlan", "vlan"},
	{"vlan 100 and tcp", "(vlan 100 and tcp)"},
	{"less 64 or greater 1500", "(less 64 or greater 1500)"},
	{"ether host 00:11:22:33:44:55", "ether host 00:11:22:33:44:55"},
	{"ether src aa-bb-cc-dd-ee-ff", "ether src host aa:bb:cc:dd:ee:ff"},
	{"ip proto 17", "ip proto 17"},
	{"proto \\tcp", "proto 6"},
	{"ip6 proto 58", "ip6 proto 58"},
	{"tcp[tcpflags] & (tcp-fin|tcp-rst) != 0", "(tcp[13:1] & (1 | 4)) != 0"},
	{"tcp[13] & 2 != 0", "(tcp[13:1] & 2) != 0"},
	{"ip[0] & 0xf != 5", "(ip[0:1] & 15) != 5"},
	{"ip[2:2] - ((ip[0]&0xf)<<2) > 40", "(ip[2:2] - ((ip[0:1] & 15) << 2)) > 40"},
	{"1 + 2 * 3 = 7", "(1 + (2 * 3)) = 7"},
	{"1 | 2 & 3 == 3", "(1 | (2 & 3)) = 3"},
	{"8 >> 1 + 1 = 2", "(8 >> (1 + 1)) = 2"},
	{"-1 = 0xffffffff", "-1 = 4294967295"},
	{"len >= 100", "len >= 100"},
	{"(tcp[0:2] + 1) = 81", "(tcp[0:2] + 1) = 81"},
	{"not tcp and not udp", "(not tcp and not udp)"},
	{"! (tcp || udp) && ip", "(not (tcp or udp) and ip)"},
	{"tcp or udp and icmp", "((tcp or udp) and icmp)"},
	{"tcp port (80 or 443)", "(tcp port 80 or tcp port 443)"},
	{"host 1.1.1.1 and (tcp) or 2.2.2.2", "((host 1.1.1.1 and tcp) or host 2.2.2.2)"},
	{"icmp6[icmp6type] = icmp6-echo", "icmp6[0:1] = 128"},
	{"tcp[tcpflags] & tcp-fin != 0 and src port 18083", "((tcp[13:1] & 1) != 0 and src port 18083)"},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		if tt.want == "" {
			continue
		}
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := e.Root().String(); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
		// The printed form reads back the same.
		e2, err := Parse(e.Root().String())
		if err != nil || e2.Root().String() != tt.want {
			t.Errorf("Parse(%q) does not read back: %v", e.Root(), err)
		}
	}
	if e, err := Parse("  "); err != nil || e.Root() != nil {
		t.Errorf("blank expression: %v, %v", e, err)
	}
}

// parseErrors pair bad expressions with their error: the offset, the
// message, and whether it is unsupported rather than invalid.
var parseErrors = []struct {
	in          string
	want        string
	unsupported bool
}{
	{"tcp port eighty", `filter "tcp port eighty": at offset 9: want a port number, not "eighty"`, true},
	{"tcp port", `at offset 8: want a port number, not the end`, false},
	{"port 70000", `at offset 5: port number 70000 greater than maximum 65535`, false},
	{"a or b", `at offset 0: want a qualifier (host, net...) before "a"`, false},
	{"host example.com", `at offset 5: host name "example.com" (it needs a DNS lookup; write the address) is not supported by the pure-Go filter; a build with libpcap (make build TAGS=pcap)`, true},
	{"mpls and tcp", `at offset 0: "mpls" is not supported by the pure-Go filter; a build with libpcap (make build TAGS=pcap) has tcpdump's whole language`, true},
	{"tcp and pppoes", `at offset 8: "pppoes" is not supported`, true},
	{"ether broadcast", `at offset 6: "broadcast" is not supported`, true},
	{"tcp and 80", `at offset 8: want a qualifier (host, net, port...) before "80"`, false},
	{"net 10.0.0.1/8", `at offset 4: non-network bits set in "10.0.0.1/8"`, false},
	{"host 10.0.0.0/8", `at offset 5: "10.0.0.0/8" needs net, not host`, false},
	{"tcp host 1.2.3.4", `at offset 9: tcp host takes no IPv4 address`, false},
	{"ip6 host 1.2.3.4", `at offset 9: ip6 host takes no IPv4 address`, false},
	{"ip host ::1", `at offset 8: ip host takes no IPv6 address`, false},
	{"ip port 80", `at offset 8: ip port: only tcp, udp and sctp have ports`, false},
	{"tcp[1:3] = 1", `at offset 6: data size must be 1, 2, or 4, not "3"`, false},
	{"tcp[0] / 0 = 1", `at offset 7: division by zero`, false},
	{"tcp[0] << 32 = 1", `at offset 7: shift by more than 31 bits`, false},
	{"(tcp", `at offset 4: want ')', not the end`, false},
	{"tcp)", `at offset 3: want and, or or the end, not ")"`, false},
	{"tcp[0] 1", `at offset 7: want a comparison`, false},
	{"vlan 5000", `at offset 5: VLAN tag 5000 greater than maximum 4095`, false},
	{"tcp $ 1", `at offset 4: unexpected character '$'`, false},
	{"0x1ffffffff = 1", `at offset 0: hexadecimal number 0x1ffffffff overflows 32 bits`, false},
	{"09 = 1", `at offset 0: number 09 contains non-octal digits`, false},
	{"ether", `at offset 0: "ether" cannot be used alone`, false},
	{"ah[0] = 1", `at offset 0: "ah" does not support the index operation`, false},
	{"host 00:11:22:33:44:55", `at offset 5: a MAC address needs ether host`, false},
	{"port http", `at offset 5: want a port number, not "http"`, true},
	{"", "", false},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrors {
		if tt.want == "" {
			continue
		}
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q): no error, want %s", tt.in, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error:\n  %v\nwant it to contain\n  %s", tt.in, err, tt.want)
		}
		if errors.Is(err, ErrUnsupported) != tt.unsupported {
			t.Errorf("Parse(%q): unsupported %v, want %v", tt.in, errors.Is(err, ErrUnsupported), tt.unsupported)
		}
		var fe *Error
		if !errors.As(err, &fe) || fe.Pos < 0 || fe.Pos > len(tt.in) {
			t.Errorf("Parse(%q): %v is not an *Error with an offset in the expression", tt.in, err)
		}
	}
}
