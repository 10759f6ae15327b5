// Command ledger-sync is the leaking service of testdata/cases/go-two-services.
// Every second it fetches a batch of journal lines from the journal service
// (TAIL 5: the service answers and closes) and hands each line to the
// applier over an unbuffered channel. The applier waits for the ledger lock,
// which the compactor took and never gives back (it waits for a snapshot
// acknowledgement that never comes), so every fetchBatch goroutine blocks
// sending its first line while holding its connection: the deferred Close
// never runs and the connection, closed by the journal, stays in
// CLOSE_WAIT with the unread lines in its receive queue. A WATCH connection
// to the same service stays healthy (ESTABLISHED, heartbeats read).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"sync"
	"time"
)

type syncer struct {
	journal string
	entries chan string
	ledger  sync.Mutex
	applied int
	acks    chan struct{}
}

// fetchBatch reads one batch and hands it over line by line.
func (s *syncer) fetchBatch(n int) error {
	conn, err := net.DialTimeout("tcp", s.journal, 2*time.Second)
	if err != nil {
		return fmt.Errorf("dialing the journal: %w", err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "TAIL %d\n", n)
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		s.entries <- sc.Text() // blocks while the applier is stuck
	}
	return sc.Err()
}

func (s *syncer) applier() {
	for e := range s.entries {
		s.ledger.Lock()
		s.applied++
		_ = e
		s.ledger.Unlock()
	}
}

// compact holds the ledger lock while it waits for the snapshot store to
// acknowledge, without a timeout.
func (s *syncer) compact() {
	s.ledger.Lock()
	defer s.ledger.Unlock()
	log.Printf("compaction: waiting for the snapshot store")
	<-s.acks
}

func (s *syncer) watch() {
	conn, err := net.Dial("tcp", s.journal)
	if err != nil {
		log.Printf("watch: %v", err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(conn, "WATCH\n")
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
	}
}

func main() {
	journal := flag.String("journal", "127.0.0.1:18111", "journal service")
	debug := flag.String("debug", "127.0.0.1:16112", "pprof listen address")
	batches := flag.Int("batches", 9, "batches to fetch, one a second")
	flag.Parse()
	log.SetFlags(log.Ldate | log.Ltime | log.Lmicroseconds | log.LUTC)
	log.SetPrefix("ledger-sync ")
	go func() { log.Print(http.ListenAndServe(*debug, nil)) }()
	s := &syncer{journal: *journal, entries: make(chan string), acks: make(chan struct{})}
	go s.watch()
	go s.applier()
	go s.compact()
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < *batches; i++ {
		go func() {
			if err := s.fetchBatch(5); err != nil {
				log.Printf("batch %d: %v", i, err)
			}
		}()
		log.Printf("batch %d started", i)
		time.Sleep(time.Second)
	}
	log.Printf("pid %d: %d batches started", os.Getpid(), *batches)
	select {}
}
