package dumps

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestExploreTmp(t *testing.T) {
	files, _ := filepath.Glob(os.Getenv("GLOB"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		ev, err := Read(bytes.NewReader(data), filepath.Base(f))
		if err != nil {
			fmt.Println(f, "ERR", err)
			continue
		}
		fmt.Printf("%s kind=%s socks=%d sum=%d fds=%d lim=%d skipped=%d warns=%d snaps=%d\n", filepath.Base(f), ev.Kind, len(ev.Sockets), len(ev.SocketSummaries), len(ev.FDs), len(ev.Limits), ev.SkippedLines, len(ev.Warnings), len(ev.SocketSnapshots))
		for i, w := range ev.Warnings {
			if i < 5 {
				fmt.Println("   ", w)
			}
		}
		if os.Getenv("DUMP") != "" {
			var b bytes.Buffer
			dumpSocketEvidence(&b, ev)
			fmt.Print(b.String())
		}
	}
}
