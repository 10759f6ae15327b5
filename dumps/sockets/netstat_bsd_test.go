package sockets

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseNetstatHeader(t *testing.T) {
	tests := []struct {
		in   string
		want netstatLayout
		ok   bool
	}{
		{"Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)     rhiwat shiwat    pid   epid  state    options",
			netstatLayout{post: []string{"rhiwat", "shiwat", "pid", "epid", "state", "options"}}, true},
		{"Tcpcb            Proto Rexmit OOORcv 0-win  Local Address      Foreign Address",
			netstatLayout{pre: []string{"Rexmit", "OOORcv", "0-win"}, post: []string{}}, true},
		{"Proto Rexmit OOORcv 0-win  Local Address          Foreign Address",
			netstatLayout{pre: []string{"Rexmit", "OOORcv", "0-win"}, post: []string{}}, true},
		{"Tcpcb            Proto Recv-Q Send-Q Local Address      Foreign Address    (state)     Log ID",
			netstatLayout{post: []string{"Log-ID"}}, true},
		{"Socket           Flowhash Proto Recv-Q Send-Q  Local Address      Foreign Address    (state)        rxbytes    txbytes",
			netstatLayout{post: []string{"rxbytes", "txbytes"}}, true},
		{"Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)", netstatLayout{post: []string{}}, true},
		{"Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name", netstatLayout{}, false},
		{"  Proto  Local Address          Foreign Address        State           PID", netstatLayout{}, false},
		{"Proto RefCnt Flags       Type       State         I-Node   Path", netstatLayout{}, false},
	}
	for _, tt := range tests {
		got, ok := parseNetstatHeader(tt.in)
		if ok != tt.ok || ok && !cmp.Equal(got, tt.want, cmp.AllowUnexported(netstatLayout{})) {
			t.Errorf("parseNetstatHeader(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestReadNetstatBSDColumns reads the BSD layouts whose extra columns sit
// before the addresses (FreeBSD -T) or after them (-x, -P, macOS -v with
// a UDP row that has no state): each value lands under its header's name.
func TestReadNetstatBSDColumns(t *testing.T) {
	in := `Active Internet connections (including servers)
Proto Rexmit OOORcv 0-win  Local Address          Foreign Address
tcp4       3      0      0 192.168.71.163.22      192.168.71.1.64330
udp4                       *.514                  *.*
Active Internet connections (including servers)
Tcpcb            Proto Recv-Q Send-Q Local Address      Foreign Address    (state)     Log ID
fffff80003df43d0 tcp4       0      0 192.168.71.163.22  192.168.71.1.64330 CLOSE_WAIT  -
Active Internet connections (including servers)
Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)     rhiwat shiwat    pid   epid  state    options
tcp4       5      0  10.55.1.235.6379       10.55.1.235.5001       CLOSE_WAIT  407682 146988    872      0 0x0122 0x00000008
udp4       0      0  *.5353                 *.*                                786896   9216    410      0 0x0000 0x00000000
tcp6       0      0  fe80::1%lo0.631        *.*                    LISTEN      131072 131072    210      0 0x0100 0x00000006
`
	ev, warns, err := ReadNetstat(strings.NewReader(in), "bsd.txt")
	if err != nil || len(warns) != 0 {
		t.Fatalf("warnings %v, err %v", warns, err)
	}
	type row struct {
		line      int
		local, st string
		recvq     string
		pid       string
		extra     string
	}
	var got []row
	for _, s := range ev.Sockets {
		q := "-"
		if s.RecvQ != nil {
			q = strconv.Itoa(int(*s.RecvQ))
		}
		got = append(got, row{s.Src.Line, s.Local.AddrString() + "." + s.Local.PortString(), s.State.String(), q, fmtOptInt(s.Owner0().PID), s.Extra})
	}
	want := []row{
		{3, "192.168.71.163.22", "", "-", "-", "Rexmit=3 OOORcv=0 0-win=0"},
		{4, "*.514", "", "-", "-", ""},
		{7, "192.168.71.163.22", "CLOSE_WAIT", "0", "-", "Log-ID=-"},
		{10, "10.55.1.235.6379", "CLOSE_WAIT", "5", "872", "rhiwat=407682 shiwat=146988 epid=0 state=0x0122 options=0x00000008"},
		{11, "*.5353", "", "0", "410", "rhiwat=786896 shiwat=9216 epid=0 state=0x0000 options=0x00000000"},
		{12, "fe80::1%lo0.631", "LISTEN", "0", "210", "rhiwat=131072 shiwat=131072 epid=0 state=0x0100 options=0x00000006"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(row{})); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
