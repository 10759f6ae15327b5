package jvm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
)

// TestNewJVMRecognisersClaimOnlyTheirs runs the JRockit and JMX recognisers
// on every dump and listing of testdata: each claims its own files and no
// other (jstack dumps, Go dumps, captures, socket listings, the other's).
func TestNewJVMRecognisersClaimOnlyTheirs(t *testing.T) {
	var files []string
	for _, pat := range []string{"../../testdata/dumps/*", "../../testdata/conformance/*/*", "../../testdata/conformance/goroutines/*/*",
		"../../testdata/real/*/*", "../../testdata/real/jvm/*/*", "../../testdata/sockets/*", "../../testdata/sockets/jc/*", "../../testdata/cases/*/*"} {
		ps, _ := filepath.Glob(pat)
		files = append(files, ps...)
	}
	claimed := map[string]int{}
	for _, p := range files {
		if st, err := os.Stat(p); err != nil || st.IsDir() || strings.HasSuffix(p, ".golden") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > sniffLen {
			data = data[:sniffLen]
		}
		base := filepath.Base(p)
		jr, ti := matchJRockit(data), matchThreadInfo(data)
		if want := strings.HasPrefix(base, "threadlogic-jrockit-"); jr != want {
			t.Errorf("%s: matchJRockit = %v", p, jr)
		}
		if want := strings.HasPrefix(base, "jmx-threadinfo-") || strings.HasPrefix(base, "tda-jmx-"); ti != want {
			t.Errorf("%s: matchThreadInfo = %v", p, ti)
		}
		if jr || ti {
			claimed[base]++
		}
	}
	if len(claimed) != 4 {
		t.Errorf("claimed %v, want the 4 JRockit and JMX fixtures", claimed)
	}
	// A FreeBSD -T listing cut to its header and rows is still netstat.
	if k, err := chain().Sniff([]byte("Proto Rexmit OOORcv 0-win  Local Address          Foreign Address\ntcp4       3      0      0 192.168.71.163.22      192.168.71.1.64330\n")); k != dumps.KindNetstat {
		t.Errorf("netstat -T without its title: %s, %v", k, err)
	}
}
