// Package ordered encodes a long list of items in chunks on several
// goroutines and writes the chunks in the list's order, with memory bounded
// by the chunks in flight: the JSON report's sockets and conns' rows.
package ordered

import "sync"

// MaxWorkers bounds the goroutines Encode uses, whatever the workers asked
// for: the chunks in flight, 2 x workers, are Encode's memory, and on a
// host of 64 cores they would be 128 (60 MB of conns' JSON rows, 2 KB each
// in chunks of 256), where the one writer gains little from more than a few
// formatting ahead of it (conns' 50,000 TSV rows take 0.16 s on one core).
const MaxWorkers = 4

// Encode encodes items [0, n) in chunks of size on up to workers
// goroutines (at most MaxWorkers) and writes the chunks in order, at most
// 2 x workers chunks ahead of the writing, so that memory stays bounded.
// It returns the first error in item order.
func Encode(n, size, workers int, encode func(buf []byte, from, to int) ([]byte, error), write func([]byte) error) error {
	chunks := (n + size - 1) / size
	workers = min(workers, chunks, MaxWorkers)
	if workers <= 1 {
		var buf []byte
		for from := 0; from < n; from += size {
			var err error
			if buf, err = encode(buf[:0], from, min(from+size, n)); err != nil {
				return err
			}
			if err := write(buf); err != nil {
				return err
			}
		}
		return nil
	}
	type result struct {
		buf []byte
		err error
	}
	type job struct {
		i   int
		buf []byte
	}
	// Chunk i is handed out only once chunk i-ahead is written and its
	// buffer back in free, so ahead slots, chunk i in slot i%ahead, hold
	// every chunk in flight: a channel per chunk would be memory that
	// grows with n (40,000 channels for ten million rows).
	ahead := min(2*workers, chunks)
	results := make([]chan result, ahead)
	for i := range results {
		results[i] = make(chan result, 1)
	}
	free := make(chan []byte, ahead)
	for range ahead {
		free <- nil
	}
	jobs := make(chan job)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for i := range chunks {
			select {
			case buf := <-free:
				select {
				case jobs <- job{i, buf}:
				case <-stop:
					return
				}
			case <-stop:
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				from := j.i * size
				buf, err := encode(j.buf[:0], from, min(from+size, n))
				results[j.i%ahead] <- result{buf, err}
			}
		}()
	}
	var err error
	for i := range chunks {
		r := <-results[i%ahead]
		if err = r.err; err == nil {
			err = write(r.buf)
		}
		if err != nil {
			break
		}
		free <- r.buf
	}
	close(stop)
	wg.Wait()
	return err
}
