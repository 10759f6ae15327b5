// Command wsrelay is the leaky service of testdata/cases/fd-exhaustion: an
// HTTP server whose /relay endpoint upgrades the connection (Upgrade: relay,
// as WebSocket servers do), registers the session and pumps its frames. When
// the client goes away (EOF), pump logs it and returns without unregistering
// or closing the connection: the session table keeps the net.Conn alive (so
// no finalizer closes it) and no goroutine refers to it any more. Under a
// low `ulimit -n` the leak fills the descriptor table until accept fails
// with EMFILE ("too many open files"); new connections then wait in the
// listen queue. /healthz is ordinary traffic that closes cleanly.
//
// SIGUSR1 writes the goroutine profile with debug=2 to stderr, SIGUSR2 with
// debug=1: with no descriptor left, an HTTP pprof endpoint could not accept.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
)

type session struct {
	id     int
	conn   net.Conn
	frames int
	bytes  int
}

type relay struct {
	mu       sync.Mutex
	next     int
	sessions map[int]*session
}

func (r *relay) register(c net.Conn) *session {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	s := &session{id: r.next, conn: c}
	r.sessions[s.id] = s
	return s
}

func (r *relay) drop(s *session) {
	r.mu.Lock()
	delete(r.sessions, s.id)
	r.mu.Unlock()
	s.conn.Close()
}

func (r *relay) upgrade(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get("Upgrade") != "relay" {
		http.Error(w, "expected Upgrade: relay", http.StatusBadRequest)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no hijack", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		log.Printf("hijack: %v", err)
		return
	}
	s := r.register(conn)
	buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: relay\r\nConnection: Upgrade\r\n\r\n")
	if err := buf.Flush(); err != nil {
		r.drop(s)
		return
	}
	go r.pump(s, buf.Reader)
}

// pump relays the session's frames. The bug: on a clean EOF it returns
// without r.drop(s), so the connection stays registered and open.
func (r *relay) pump(s *session, rd *bufio.Reader) {
	for {
		line, err := rd.ReadString('\n')
		if errors.Is(err, io.EOF) {
			log.Printf("session %d from %s: client went away after %d frames (%d bytes)", s.id, s.conn.RemoteAddr(), s.frames, s.bytes)
			return
		}
		if err != nil {
			log.Printf("session %d: %v", s.id, err)
			r.drop(s)
			return
		}
		s.frames++
		s.bytes += len(line)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18105", "listen address")
	flag.Parse()
	log.SetFlags(log.Ldate | log.Ltime | log.Lmicroseconds | log.LUTC)
	r := &relay{sessions: map[int]*session{}}

	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for s := range sig {
			debug := 2
			if s == syscall.SIGUSR2 {
				debug = 1
			}
			pprof.Lookup("goroutine").WriteTo(os.Stderr, debug)
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("/relay", r.upgrade)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock()
		n := len(r.sessions)
		r.mu.Unlock()
		fmt.Fprintf(w, "ok sessions=%d\n", n)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ErrorLog: log.Default()}
	log.Printf("wsrelay listening on %s (pid %d)", *addr, os.Getpid())
	log.Fatal(srv.ListenAndServe())
}
