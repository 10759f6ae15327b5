package sockets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
)

// TestSniffSocketsLeavesOtherEvidence: no thread dump, goroutine dump,
// profile or capture of the conformance set looks like a socket listing to
// the socket matchers (the dump matchers run first, but must not depend on
// it), and every jc fixture is recognised as the tool that made it.
func TestSniffSocketsLeavesOtherEvidence(t *testing.T) {
	for _, dir := range []string{"jstack", "goroutines", "zeek"} {
		err := filepath.Walk(filepath.Join("../../testdata/conformance", dir), func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if len(data) > sniffLen {
				data = data[:sniffLen]
			}
			if k := sniffSocket(data); k != dumps.KindUnknown {
				t.Errorf("%s sniffed as %s", p, k)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	jc, _ := filepath.Glob("../../testdata/conformance/sockets/jc/*")
	for _, p := range jc {
		if strings.HasSuffix(p, ".json") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]dumps.Kind{"ss": dumps.KindSS, "netstat": dumps.KindNetstat, "lsof": dumps.KindLsof, "proc_net": dumps.KindProcNetTCP}
		var wk dumps.Kind
		for k, v := range want {
			if strings.Contains(filepath.Base(p), k) {
				wk = v
			}
		}
		if got, err := testChain().Sniff(data); got != wk || err != nil {
			t.Errorf("%s: Sniff = %s, %v; want %s", p, got, err, wk)
		}
	}
}

// TestSniffSocketSnippets: each format recognised from a few lines with the
// junk a ticket adds around them.
func TestSniffSocketSnippets(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want dumps.Kind
	}{
		{"ss with prompt", "$ ss -tanp\nState Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nCLOSE-WAIT 1 0 10.0.0.1:80 10.0.0.2:5000\n", dumps.KindSS},
		{"ss headerless rows", "me@h:~$ ss -Htn\nESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\nCLOSE-WAIT 1 0 10.0.0.1:80 10.0.0.2:5001\n", dumps.KindSS},
		{"ss state filter without header", "0 0 10.0.0.1:80 10.0.0.2:5000\n0 0 10.0.0.1:80 10.0.0.2:5001\n", dumps.KindSS},
		{"ss -s grep'd in watch", "Every 1.0s: ss -s | grep -i wait   h: Mon Nov 23 07:01:07 2026\n\nTCP:   580 (estab 100, closed 20, orphaned 0, timewait 10)\n", dumps.KindSSSummary},
		{"ss -s and listing", "Total: 1\nTCP:   1 (estab 1, closed 0, orphaned 0, timewait 0)\n$ ss -tan\nState Recv-Q Send-Q Local Address:Port Peer Address:Port\n", dumps.KindSS},
		{"netstat grep'd", "# netstat -antp | grep CLOSE_WAIT\ntcp 1 0 10.0.0.1:80 10.0.0.2:5000 CLOSE_WAIT 42/java\n", dumps.KindNetstat},
		{"netstat windows grep'd", "C:\\>netstat -ano | findstr CLOSE_WAIT\n  TCP    10.0.0.5:49670  10.0.0.9:443  CLOSE_WAIT  27568\n", dumps.KindNetstat},
		{"lsof grep'd", "$ lsof -i | grep CLOSE\njava 42 app 45u IPv4 12345 0t0 TCP 10.0.0.1:80->10.0.0.2:5000 (CLOSE_WAIT)\n", dumps.KindLsof},
		{"lsof -F", "p42\ncjava\nf45\nn10.0.0.1:80->10.0.0.2:5000\n", dumps.KindLsofFields},
		{"proc net tcp rows", "   1: 0100007F:0050 0100007F:1388 08 00000000:00000001 00:00000000 00000000  1000 0 555 1 0 20 4 0 10 -1\n", dumps.KindProcNetTCP},
		{"proc fd", "$ ls -l /proc/42/fd\nlrwx------ 1 app app 64 Nov 23 07:00 45 -> socket:[555]\n", dumps.KindProcFD},
		{"proc limits", "Max open files            1024                 4096                 files\n", dumps.KindProcLimits},
		{"ulimit", "$ ulimit -n\n1024\n", dumps.KindUlimit},
		{"bare number", "1024\n", dumps.KindUlimit},
		{"prose", "The server had many CLOSE_WAIT sockets.\nWe restarted it at 07:00.\n", dumps.KindUnknown},
		{"date only", "Mon Nov 23 07:01:07 UTC 2026\n", dumps.KindUnknown},
		{"empty", "", dumps.KindUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniffSocket([]byte(tt.in)); got != tt.want {
				t.Errorf("sniffSocket = %s, want %s", got, tt.want)
			}
		})
	}
}
