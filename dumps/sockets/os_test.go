package sockets

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
)

// TestOSSamples: the system every TCP row of a real listing is told to
// come from (dumps.Socket.OS), on the samples of each system: this
// machine's ss, net-tools and busybox netstat and lsof (testdata/real),
// and jc's Linux, macOS, FreeBSD and Windows outputs (testdata/conformance,
// testdata/sockets/jc). v6 names the files that must hold tcp6 rows (or
// IPv6 addresses under Linux busybox's tcp): the notation of ::1:22 and
// :::* is Linux's, of ::1.22 and *.* the BSDs'.
func TestOSSamples(t *testing.T) {
	const (
		real = "../../testdata/real/"
		conf = "../../testdata/conformance/sockets/jc/"
		jc   = "../../testdata/sockets/jc/"
	)
	tests := []struct {
		file string
		want dumps.OS
		v6   bool
	}{
		{real + "recvq/netstat-tanp.txt", dumps.OSLinux, true},
		{real + "recvq/netstat-grep-close-wait.txt", dumps.OSLinux, true}, // rows without their header
		{real + "recvq/busybox-netstat-tan.txt", dumps.OSLinux, true},     // tcp for IPv6 too
		{real + "recvq/ss-tanp.txt", dumps.OSLinux, true},
		{real + "recvq/lsof-Tqs.txt", dumps.OSLinux, true},
		{real + "recvq/lsof-F-Tqs.txt", dumps.OSLinux, true},
		{real + "recvq/lsof-F-no-device.txt", dumps.OSUnknown, true}, // -F without d: nothing tells
		{real + "sockets/netstat-antp.txt", dumps.OSLinux, true},
		{real + "sockets/netstat-aeep.txt", dumps.OSLinux, true},
		{real + "sockets/proc-net-tcp6.txt", dumps.OSLinux, true},
		{real + "sockets/lsof-close-wait.txt", dumps.OSLinux, true},
		{conf + "centos-7.7_netstat.out", dumps.OSLinux, false},
		{conf + "fedora32_netstat.out", dumps.OSLinux, false},
		{conf + "ubuntu-18.04_netstat-sudo-aeep.out", dumps.OSLinux, true},
		{conf + "ubuntu-18.04_netstat-sudo-lnp.out", dumps.OSLinux, true},
		{conf + "generic_netstat-old.out", dumps.OSLinux, false},
		{conf + "ubuntu-18.04_lsof-sudo.out", dumps.OSLinux, false},
		{conf + "linux-proc_net_tcp", dumps.OSLinux, false},
		{conf + "osx-10.14.6_netstat.out", dumps.OSBSD, true},
		{conf + "osx-10.14.6_netstat-An.out", dumps.OSBSD, true},
		{jc + "osx-10.14.6_netstat-Abn.out", dumps.OSBSD, true},
		{conf + "freebsd12_netstat-an.out", dumps.OSBSD, true},
		{jc + "freebsd12_netstat-Aa.out", dumps.OSBSD, false},
		{jc + "freebsd12_netstat-aT.out", dumps.OSBSD, false},
		{jc + "freebsd12_netstat-AanP.out", dumps.OSBSD, false},
		{jc + "freebsd12_netstat-Aax.out", dumps.OSBSD, false},
		{conf + "windows-10_netstat-an.out", dumps.OSWindows, true},
		{conf + "windows-10_netstat-aonb.out", dumps.OSWindows, true},
		{jc + "windows-10_netstat-aon.out", dumps.OSWindows, true},
		{jc + "windows-10_netstat.out", dumps.OSWindows, false},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := testChain().Read(bytes.NewReader(data), filepath.Base(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			rows, v6 := 0, 0
			for _, s := range ev.Sockets {
				if s.Proto != dumps.ProtoTCP {
					continue
				}
				rows++
				if s.Local.Addr.Is6() && !s.Local.Addr.Is4In6() || strings.HasSuffix(s.ProtoRaw, "6") {
					v6++
				}
				if s.OS != tt.want {
					t.Errorf("%s: %s row: OS %q, want %q", s.Src, s.ProtoRaw, s.OS, tt.want)
				}
			}
			if rows == 0 {
				t.Fatal("no TCP rows")
			}
			if tt.v6 && v6 == 0 {
				t.Errorf("no IPv6 rows among %d", rows)
			}
		})
	}
}

// TestRecvQExpected: on this machine's listings of sockets in CLOSE_WAIT
// whose queues fin_pairs.py knows (testdata/gen/recvq: the peer's FIN
// unread, alone or behind 6 bytes, or read to the end), net-tools netstat,
// busybox netstat and lsof -T q print the queue ss does, as Linux counts
// it: the FIN is one byte until a read takes it.
func TestRecvQExpected(t *testing.T) {
	const dir = "../../testdata/real/recvq/"
	want := map[string]uint64{} // "addr port" of the remote end -> Recv-Q
	f, err := os.Open(dir + "EXPECTED.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) < 4 || strings.HasPrefix(w[0], "#") {
			continue
		}
		q, err := strconv.ParseUint(w[3], 10, 64)
		if err != nil {
			t.Fatalf("EXPECTED.txt: %q: %v", sc.Text(), err)
		}
		want[w[0]+" "+w[2]] = q
	}
	if len(want) != 7 {
		t.Fatalf("EXPECTED.txt: %d sockets, want 7", len(want))
	}
	for _, name := range []string{"ss-tanp.txt", "netstat-tanp.txt", "netstat-grep-close-wait.txt", "busybox-netstat-tan.txt", "lsof-Tqs.txt", "lsof-F-Tqs.txt", "lsof-F-no-device.txt"} {
		data, err := os.ReadFile(dir + name)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := testChain().Read(bytes.NewReader(data), name)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, s := range ev.Sockets {
			if s.State != dumps.StateCloseWait {
				continue
			}
			k := s.Local.AddrString() + " " + s.Remote.PortString()
			w, ok := want[k]
			switch {
			case !ok:
				t.Errorf("%s: %s not in EXPECTED.txt", s.Src, k)
			case s.RecvQ == nil || *s.RecvQ != w:
				t.Errorf("%s: Recv-Q %s, want %d", s.Src, fmtOptU64(s.RecvQ), w)
			}
			seen++
		}
		if seen != len(want) {
			t.Errorf("%s: %d sockets in CLOSE_WAIT, want %d", name, seen, len(want))
		}
	}
}

// TestNetstatRowOS: the system one netstat row tells by itself, and under
// a title or header that tells one too.
func TestNetstatRowOS(t *testing.T) {
	const (
		linuxHead = "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name\n"
		bsdHead   = "Active Internet connections\nProto Recv-Q Send-Q  Local Address          Foreign Address        (state)\n"
		winHead   = "Active Connections\n\n  Proto  Local Address          Foreign Address        State\n"
	)
	tests := []struct {
		name, in string
		want     dumps.OS
	}{
		{"linux tcp", "tcp        1      0 10.0.0.5:8080           10.0.0.9:40001          CLOSE_WAIT  42/srv", dumps.OSLinux},
		{"linux tcp6", "tcp6       1      0 :::8080                 :::*                    LISTEN      42/srv", dumps.OSLinux},
		{"linux tcp6 v4-mapped", "tcp6       1      0 ::ffff:10.0.0.5:8080    ::ffff:10.0.0.9:40001   CLOSE_WAIT  42/srv", dumps.OSLinux},
		{"linux resolved", "tcp        1      0 web01:http-alt          db.example.com:40001    CLOSE_WAIT", dumps.OSLinux},
		{"busybox tcp for v6", "tcp        1      0 ::1:8080                ::1:40001               CLOSE_WAIT", dumps.OSLinux},
		{"linux under its header", linuxHead + "tcp        1      0 10.0.0.5:8080           10.0.0.9:40001          CLOSE_WAIT  42/srv", dumps.OSLinux},
		{"macos tcp4", "tcp4       1      0  10.0.0.5.8080          10.0.0.9.40001         CLOSE_WAIT", dumps.OSBSD},
		{"macos tcp6", "tcp6       1      0  ::1.8080               ::1.40001              CLOSE_WAIT", dumps.OSBSD},
		{"macos tcp46", "tcp46      0      0  *.8080                 *.*                    LISTEN", dumps.OSBSD},
		{"macos -A", "7fb03cb94d505aed tcp4       1      0  10.0.0.5.8080          10.0.0.9.40001         CLOSE_WAIT", dumps.OSBSD},
		{"bsd under its header", bsdHead + "tcp6       1      0  fe80::1%lo0.8080       fe80::1%lo0.40001      CLOSE_WAIT", dumps.OSBSD},
		{"windows", "  TCP    10.0.0.5:8080          10.0.0.9:40001         CLOSE_WAIT      42", dumps.OSWindows},
		{"windows under its title", winHead + "  TCP    [::1]:8080             [::1]:40001            CLOSE_WAIT", dumps.OSWindows},
		{"two notations", "tcp6       1      0 ::1.8080                ::1:40001               CLOSE_WAIT", dumps.OSUnknown},
		{"linux row under a bsd header", bsdHead + "tcp        1      0 10.0.0.5:8080           10.0.0.9:40001          CLOSE_WAIT", dumps.OSUnknown},
		{"bsd row under a linux header", linuxHead + "tcp4       1      0  10.0.0.5.8080          10.0.0.9.40001         CLOSE_WAIT", dumps.OSUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, warns, err := ReadNetstat(strings.NewReader(tt.in+"\n"), "netstat.txt")
			if err != nil || len(warns) > 0 {
				t.Fatalf("err %v, warnings %v", err, warns)
			}
			if len(ev.Sockets) != 1 {
				t.Fatalf("%d sockets, want 1", len(ev.Sockets))
			}
			if got := ev.Sockets[0].OS; got != tt.want {
				t.Errorf("OS %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLsofOS: lsof's DEVICE column (d with -F) of an Internet socket is
// its inode on Linux, a kernel address (0x...) on the others.
func TestLsofOS(t *testing.T) {
	tests := []struct {
		name, in string
		fields   bool
		want     dumps.OS
	}{
		{"linux", "java    42 app    7u  IPv4 555001      0t0  TCP 10.0.0.5:8080->10.0.0.9:40001 (CLOSE_WAIT QR=1 QS=0)", false, dumps.OSLinux},
		{"linux v6", "java    42 app    7u  IPv6 555001      0t0  TCP [::1]:8080->[::1]:40001 (CLOSE_WAIT QR=1 QS=0)", false, dumps.OSLinux},
		{"macos", "java    42 app    7u  IPv4 0x1f2e3d4c5b6a7980      0t0  TCP 10.0.0.5:8080->10.0.0.9:40001 (CLOSE_WAIT QR=1 QS=0)", false, dumps.OSUnknown},
		{"-F linux", "p42\ncjava\nf7\ntIPv4\nd555001\nn10.0.0.5:8080->10.0.0.9:40001\nTST=CLOSE_WAIT\nTQR=1\nTQS=0", true, dumps.OSLinux},
		{"-F macos", "p42\ncjava\nf7\ntIPv4\nd0x1f2e3d4c5b6a7980\nn10.0.0.5:8080->10.0.0.9:40001\nTST=CLOSE_WAIT\nTQR=1\nTQS=0", true, dumps.OSUnknown},
		{"-F no d", "p42\ncjava\nf7\ntIPv4\nn10.0.0.5:8080->10.0.0.9:40001\nTST=CLOSE_WAIT\nTQR=1\nTQS=0", true, dumps.OSUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := ReadLsof
			if tt.fields {
				read = ReadLsofFields
			}
			ev, warns, err := read(strings.NewReader(tt.in+"\n"), "lsof.txt")
			if err != nil || len(warns) > 0 {
				t.Fatalf("err %v, warnings %v", err, warns)
			}
			if len(ev.Sockets) != 1 {
				t.Fatalf("%d sockets, want 1", len(ev.Sockets))
			}
			if s := ev.Sockets[0]; s.OS != tt.want || s.RecvQ == nil || *s.RecvQ != 1 {
				t.Errorf("OS %q, Recv-Q %s; want %q, 1", s.OS, fmtOptU64(s.RecvQ), tt.want)
			}
		})
	}
}
