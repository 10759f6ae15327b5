package dumps

import (
	"errors"
	"strings"
	"testing"
)

func TestReadUnknown(t *testing.T) {
	_, err := testChain().Read(strings.NewReader("hello\nworld\n"), "x.txt")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("testChain().Read(junk) = %v, want ErrUnknownFormat", err)
	}
}
