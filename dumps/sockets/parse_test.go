package sockets

import (
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/google/go-cmp/cmp"
)

func TestParseState(t *testing.T) {
	tests := []struct {
		in   string
		want dumps.State
		ok   bool
	}{
		{"CLOSE-WAIT", dumps.StateCloseWait, true},
		{"CLOSE_WAIT", dumps.StateCloseWait, true},
		{"close-wait", dumps.StateCloseWait, true},
		{"08", dumps.StateCloseWait, true},
		{"0A", dumps.StateListen, true},
		{"0a", dumps.StateListen, true},
		{"LISTENING", dumps.StateListen, true},
		{"ESTAB", dumps.StateEstablished, true},
		{"SYN_RCVD", dumps.StateSynRecv, true},
		{"FIN_WAIT_1", dumps.StateFinWait1, true},
		{"FIN-WAIT-2", dumps.StateFinWait2, true},
		{"UNCONN", dumps.StateClose, true},
		{"CLOSED", dumps.StateClose, true},
		{"0C", dumps.StateUnknown, false},
		{"00", dumps.StateUnknown, false},
		{"BOUND", dumps.StateUnknown, false},
		{"", dumps.StateUnknown, false},
		{"CLOSE_WAIT_CLOSE_WAIT_CLOSE_WAIT", dumps.StateUnknown, false},
	}
	for _, tt := range tests {
		got, ok := dumps.ParseState(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseState(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	for s := dumps.StateEstablished; s <= dumps.StateClosing; s++ {
		if got, ok := dumps.ParseState(s.String()); got != s || !ok {
			t.Errorf("ParseState(%s.String()) = %v", s, got)
		}
	}
}

func TestParseSSUsers(t *testing.T) {
	tests := []struct {
		in      string
		want    []dumps.Owner
		rest    string
		wantErr bool
	}{
		{`("java",pid=1,fd=3)) x`, []dumps.Owner{{PID: dumps.IntPtr(1), Process: "java", FD: dumps.IntPtr(3)}}, " x", false},
		{`("a",pid=1,fd=3),("b",pid=2,fd=4))`, []dumps.Owner{{PID: dumps.IntPtr(1), Process: "a", FD: dumps.IntPtr(3)}, {PID: dumps.IntPtr(2), Process: "b", FD: dumps.IntPtr(4)}}, "", false},
		{`("Web Content",pid=,fd=9))`, []dumps.Owner{{Process: "Web Content", FD: dumps.IntPtr(9)}}, "", false},
		{`("x",y"",pid=5,fd=6))`, []dumps.Owner{{PID: dumps.IntPtr(5), Process: `x",y"`, FD: dumps.IntPtr(6)}}, "", false},
		{`("sshd",1215,3))`, []dumps.Owner{{PID: dumps.IntPtr(1215), Process: "sshd", FD: dumps.IntPtr(3)}}, "", false},
		{`("java",pid=42x,fd=1))`, nil, "", true},
		{`("java",pid=4,fd=1`, nil, "", true},
		{`("java`, nil, "", true},
		{`java`, nil, "", true},
	}
	for _, tt := range tests {
		got, rest, err := parseSSUsers(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseSSUsers(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" || rest != tt.rest {
			t.Errorf("parseSSUsers(%q): rest %q, diff:\n%s", tt.in, rest, diff)
		}
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		in, proto string
		addr      string
		port      string
		bad       bool
	}{
		{"10.0.0.1:80", "tcp", "10.0.0.1", "80", false},
		{"[::ffff:10.0.0.1]:80", "tcp", "::ffff:10.0.0.1", "80", false},
		{"::ffff:10.0.0.1:80", "tcp6", "::ffff:10.0.0.1", "80", false},
		{":::22", "tcp6", "::", "22", false},
		{"[fe80::1%eth0]:22", "tcp", "fe80::1%eth0", "22", false},
		{"[fe80::1]%eth0:22", "tcp", "fe80::1%eth0", "22", false},
		{"*:*", "tcp", "*", "*", false},
		{"localhost:ssh", "tcp", "localhost", "ssh", false},
		{"192.168.1.2.443", "tcp4", "192.168.1.2", "443", false},
		{"*.*", "tcp46", "*", "*", false},
		{"fe80::1%lo0.123", "tcp6", "fe80::1%lo0", "123", false},
		{"2600:1700:bab0:d.5", "tcp6", "2600:1700:bab0:d", "5", false},
		{"10.0.0.1", "tcp", "", "", true},
		{"10.0.0.1:70000", "tcp", "", "", true},
		{"[::1", "tcp", "", "", true},
	}
	for _, tt := range tests {
		e, _, err := netstatEndpoint(tt.in, tt.proto)
		if (err != nil) != tt.bad {
			t.Errorf("netstatEndpoint(%q, %s) error %v", tt.in, tt.proto, err)
			continue
		}
		if !tt.bad && (e.AddrString() != tt.addr || e.PortString() != tt.port) {
			t.Errorf("netstatEndpoint(%q, %s) = %s port %s; want %s port %s", tt.in, tt.proto, e.AddrString(), e.PortString(), tt.addr, tt.port)
		}
	}
	// /proc/net/tcp: little-endian words, big-endian port.
	for in, want := range map[string]string{
		"0100007F:0050":                         "127.0.0.1:80",
		"802AA8C0:D450":                         "192.168.42.128:54352",
		"00000000000000000000000001000000:B813": "[::1]:47123",
		"0000000000000000FFFF00000100007F:0050": "[::ffff:127.0.0.1]:80",
	} {
		e, err := procEndpoint(in)
		if err != nil {
			t.Errorf("procEndpoint(%q): %v", in, err)
			continue
		}
		got := e.Addr.String() + ":" + e.PortString()
		if e.Addr.Is6() {
			got = "[" + e.Addr.String() + "]:" + e.PortString()
		}
		if got != want {
			t.Errorf("procEndpoint(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMarkers(t *testing.T) {
	utc := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	tests := []struct {
		in   string
		is   bool
		time time.Time
		cmd  string
	}{
		{"Mon Nov 23 07:01:07 UTC 2026", true, utc("2026-11-23T07:01:07Z"), ""},
		{"Mon Nov  3 07:01:07 UTC 2026", true, utc("2026-11-03T07:01:07Z"), ""},
		{"=== 2026-11-23T07:00:00Z ===", true, utc("2026-11-23T07:00:00Z"), ""},
		{"2026-11-23 07:10:00 +0000", true, utc("2026-11-23T07:10:00Z"), ""},
		{"date: 2026-11-23T07:10:00+00:00", true, utc("2026-11-23T07:10:00Z"), ""},
		{"Every 2.0s: ss -s      host1: Mon Nov 23 07:01:07 2026", true, utc("2026-11-23T07:01:07Z"), "ss -s"},
		{"$ ss -tanp", true, time.Time{}, "ss -tanp"},
		{"root@app-3:~# lsof -i", true, time.Time{}, "lsof -i"},
		{"[root@db-2 ~]# netstat -antp", true, time.Time{}, "netstat -antp"},
		{`C:\Users\me>netstat -ano`, true, time.Time{}, "netstat -ano"},
		{"COMMAND: ss -tan state close-wait", true, time.Time{}, "ss -tan state close-wait"},
		{"# cmd = ss -tn state close-wait '( sport = :8080 )'", true, time.Time{}, "ss -tn state close-wait '( sport = :8080 )'"},
		{"Commands: ss -Htan state close-wait", true, time.Time{}, "ss -Htan state close-wait"},
		{"COMMAND     PID   USER   FD   TYPE DEVICE SIZE/OFF NODE NAME", false, time.Time{}, ""},
		{"tcp 0 0 10.0.0.1:80 10.0.0.2:5000 CLOSE_WAIT", false, time.Time{}, ""},
		{"State Recv-Q Send-Q", false, time.Time{}, ""},
		{"=== Mon   Nov  23   07:01:07 UTC 2026 ===", true, utc("2026-11-23T07:01:07Z"), ""},
		{"14573 14570 Thu Dec  3 07:22:57 2026       3 ./server/repository-sync", false, time.Time{}, ""},
	}
	for _, tt := range tests {
		m := parseListingMarker(tt.in)
		if m.is != tt.is || !m.time.Equal(tt.time) || m.cmd != tt.cmd {
			t.Errorf("parseListingMarker(%q) = %+v; want is=%v time=%v cmd=%q", tt.in, m, tt.is, tt.time, tt.cmd)
		}
	}
}

// TestMarkerRowAllocs: a listing's row, the usual line, is no marker and
// costs no allocation to tell (parseStampLine normalised its spaces first).
func TestMarkerRowAllocs(t *testing.T) {
	for _, row := range []string{
		"14573 14570 Thu Dec  3 07:22:57 2026       3 ./server/repository-sync -c import",
		"tcp        0      0 10.0.0.1:80        10.0.0.2:5000      CLOSE_WAIT  4002/java",
		"CLOSE-WAIT 1      0      10.0.0.1:80      10.0.0.2:5000   users:((\"java\",pid=4002,fd=12))",
	} {
		if n := testing.AllocsPerRun(100, func() { parseListingMarker(row) }); n != 0 {
			t.Errorf("parseListingMarker(%q): %v allocations", row, n)
		}
	}
}

func TestParseSSCommand(t *testing.T) {
	tests := []struct {
		in   string
		want ssHint
		ok   bool
	}{
		{"ss -tan state close-wait", ssHint{dumps.ProtoTCP, dumps.StateCloseWait}, true},
		{"sudo ss -Hun", ssHint{dumps.ProtoUDP, dumps.StateUnknown}, true},
		{"ss -tan state established state close-wait", ssHint{dumps.ProtoTCP, dumps.StateUnknown}, true},
		{"ss -tan state connected", ssHint{dumps.ProtoTCP, dumps.StateUnknown}, true},
		{"ss -tun", ssHint{}, true},
		{"ss -s | grep -i wait", ssHint{}, true},
		{"watch -n 1 'ss -tn state close-wait'", ssHint{dumps.ProtoTCP, dumps.StateCloseWait}, true},
		{"lsof -i", ssHint{}, false},
	}
	for _, tt := range tests {
		got, ok := parseSSCommand(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseSSCommand(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
