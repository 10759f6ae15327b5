// Command noclose-server is a line-protocol TCP server with a connection
// leak, used to make the go-server-noclose fixture: after answering a request
// its handler waits for an acknowledgement from the audit worker that is
// never sent, so it never reaches conn.Close. When a client closes its end,
// the server's socket stays in CLOSE_WAIT with the handler goroutine blocked
// in a channel receive.
//
// Flags: -addr for the service, -debug for net/http/pprof (localhost only).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"runtime"
	"strings"
	"time"
)

type auditRecord struct {
	remote string
	line   string
	done   chan struct{}
}

type server struct {
	audit chan auditRecord
}

// handle serves one connection: read a request line, answer it, then wait
// for the audit record to be written before closing. The audit worker never
// signals done, so the wait (and the open socket) lasts forever.
func (s *server) handle(conn net.Conn) {
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		log.Printf("read %s: %v", conn.RemoteAddr(), err)
		return // bug too: no conn.Close on this path either
	}
	fmt.Fprintf(conn, "OK %s\n", strings.ToUpper(strings.TrimSpace(line)))
	rec := auditRecord{remote: conn.RemoteAddr().String(), line: line, done: make(chan struct{})}
	s.audit <- rec
	s.waitAudit(rec)
	conn.Close() // never reached
}

//go:noinline
func (s *server) waitAudit(rec auditRecord) {
	<-rec.done
}

// auditWorker records requests but forgets to close rec.done.
func (s *server) auditWorker() {
	for rec := range s.audit {
		log.Printf("audit %s %q", rec.remote, strings.TrimSpace(rec.line))
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "service address")
	debug := flag.String("debug", "127.0.0.1:16061", "pprof address")
	flag.Parse()

	go func() { log.Fatal(http.ListenAndServe(*debug, nil)) }()
	// The runtime stamps a goroutine's wait start during GC; a periodic GC
	// lets the dumps show "[chan receive, N minutes]" as a busy server would.
	go func() {
		for range time.Tick(2 * time.Second) {
			runtime.GC()
		}
	}()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	s := &server{audit: make(chan auditRecord, 1024)}
	go s.auditWorker()
	log.Printf("listening on %s", ln.Addr())
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go s.handle(conn)
	}
}
