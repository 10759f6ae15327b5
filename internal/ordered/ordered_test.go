package ordered

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestEncode: chunks encoded on several goroutines are written in order,
// whatever the number of workers and items, and the first error in item
// order ends the writing (the chunks after it are not written).
func TestEncode(t *testing.T) {
	encode := func(failAt int) func([]byte, int, int) ([]byte, error) {
		return func(buf []byte, from, to int) ([]byte, error) {
			for i := from; i < to; i++ {
				if i == failAt {
					return buf, fmt.Errorf("item %d", i)
				}
				buf = strconv.AppendInt(append(buf, ' '), int64(i), 10)
			}
			return buf, nil
		}
	}
	for _, workers := range []int{1, 2, 3, 8} {
		for _, n := range []int{1, 7, 64, 1000} {
			for _, failAt := range []int{-1, 0, n / 2, n - 1} {
				var got []byte
				err := Encode(n, 10, workers, encode(failAt), func(b []byte) error { got = append(got, b...); return nil })
				var want []byte
				stop := n
				if failAt >= 0 {
					stop = failAt / 10 * 10 // the failing chunk is not written
				}
				for i := range stop {
					want = strconv.AppendInt(append(want, ' '), int64(i), 10)
				}
				if string(got) != string(want) {
					t.Errorf("%d workers, %d items, failing at %d: wrote %q, want %q", workers, n, failAt, got, want)
				}
				if (err != nil) != (failAt >= 0) || err != nil && err.Error() != fmt.Sprintf("item %d", failAt) {
					t.Errorf("%d workers, %d items, failing at %d: error %v", workers, n, failAt, err)
				}
			}
		}
	}
	// A failing write stops the rest.
	writes := 0
	err := Encode(1000, 10, 4, encode(-1), func([]byte) error {
		if writes++; writes == 3 {
			return errors.New("disk full")
		}
		return nil
	})
	if err == nil || writes != 3 {
		t.Errorf("failing write: %d writes, error %v; want 3 and the error", writes, err)
	}
}

// TestEncodeBounded: however many workers are asked for, at most
// 2 x MaxWorkers chunks are encoded ahead of the writing, so that Encode's
// memory does not grow with the host's cores. The first chunk is slow, so
// that every chunk Encode lets ahead is encoded before it is written.
func TestEncodeBounded(t *testing.T) {
	var mu sync.Mutex
	encoded, written, most := 0, 0, 0
	encode := func(buf []byte, from, to int) ([]byte, error) {
		if from == 0 {
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		encoded++
		most = max(most, encoded-written)
		mu.Unlock()
		return append(buf, 'x'), nil
	}
	write := func([]byte) error {
		mu.Lock()
		written++
		mu.Unlock()
		return nil
	}
	if err := Encode(10000, 10, 64, encode, write); err != nil {
		t.Fatal(err)
	}
	if most > 2*MaxWorkers {
		t.Errorf("%d chunks encoded ahead of the writing with 64 workers asked for, want at most %d", most, 2*MaxWorkers)
	}
}
