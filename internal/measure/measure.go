// Package measure measures what a test or benchmark uses: the peak Go heap
// and what the runtime holds, sampled every millisecond, the process's peak
// resident memory where the OS tells it, and its CPU time. Tests guard
// memory budgets with it; benchmarks report rates per CPU-second, which a
// loaded machine disturbs less than wall time.
package measure

import (
	"runtime/metrics"
	"sync"
	"time"
)

// Peak samples the Go heap (live objects plus unswept garbage) and the
// memory the runtime holds from the OS, every millisecond until End, and
// keeps the highest values.
type Peak struct {
	stop chan struct{}
	done sync.WaitGroup
	// Heap is the peak of the heap's objects, Held of what the runtime held
	// from the OS (less what it released), in bytes; read them after End.
	Heap, Held uint64
}

// Start starts sampling.
func Start() *Peak {
	p := &Peak{stop: make(chan struct{})}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			p.Heap = max(p.Heap, s[0].Value.Uint64())
			p.Held = max(p.Held, s[1].Value.Uint64()-s[2].Value.Uint64())
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// End stops sampling.
func (p *Peak) End() { close(p.stop); p.done.Wait() }
