// Command quote-cache is the healthy service of testdata/cases/go-two-services.
// It refreshes its cache from the journal service every second (TAIL 3,
// read to EOF, close) and keeps one WATCH connection open for heartbeats.
// It closes every connection it opens.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"sync"
	"time"
)

type cache struct {
	journal string
	mu      sync.Mutex
	lines   []string
}

func (c *cache) refresh() error {
	conn, err := net.DialTimeout("tcp", c.journal, 2*time.Second)
	if err != nil {
		return fmt.Errorf("dialing the journal: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "TAIL 3\n")
	sc := bufio.NewScanner(conn)
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	c.mu.Lock()
	c.lines = got
	c.mu.Unlock()
	return sc.Err()
}

func (c *cache) watch() {
	for {
		conn, err := net.Dial("tcp", c.journal)
		if err != nil {
			log.Printf("watch: %v", err)
			time.Sleep(time.Second)
			continue
		}
		fmt.Fprintf(conn, "WATCH\n")
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
		}
		conn.Close()
	}
}

func main() {
	journal := flag.String("journal", "127.0.0.1:18111", "journal service")
	debug := flag.String("debug", "127.0.0.1:16111", "pprof listen address")
	flag.Parse()
	log.SetFlags(log.Ldate | log.Ltime | log.Lmicroseconds | log.LUTC)
	log.SetPrefix("quote-cache ")
	go func() { log.Print(http.ListenAndServe(*debug, nil)) }()
	c := &cache{journal: *journal}
	go c.watch()
	go c.watch()
	t := time.NewTicker(time.Second)
	for range t.C {
		if err := c.refresh(); err != nil {
			log.Printf("refresh: %v", err)
		}
	}
}
