package dumps

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestSniffTmp(t *testing.T) {
	var files []string
	filepath.Walk("../testdata/conformance", func(p string, info os.FileInfo, err error) error {
		if info != nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if len(data) > sniffLen {
			data = data[:sniffLen]
		}
		if k := sniffSocket(data); k != KindUnknown {
			fmt.Println(f, k)
		}
	}
}
