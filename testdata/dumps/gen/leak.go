//go:build ignore

// leak is a small Go program that leaks sockets in CLOSE_WAIT the ways real
// services do, so that make.sh can dump it through net/http/pprof and
// SIGQUIT. It serves pprof on the address given as its argument.
//
//   - a loopback server that answers and then closes every connection;
//   - "fetch" goroutines (one more every 400 ms for the first 12 seconds,
//     then the program is still) that get a response and never close its
//     body, blocked on a mutex held forever: the persistConn readLoop and
//     writeLoop of each stay, with the socket in CLOSE_WAIT;
//   - "reader" goroutines blocked reading a server that never writes;
//   - goroutines waiting on a channel nobody sends on;
//   - a database/sql-like pool: goroutines waiting for a connection slot.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"sync"
	"time"
)

var held sync.Mutex

func main() {
	closer, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go http.Serve(closer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "partial body")
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close() // FIN: the client is left in CLOSE_WAIT
	}))
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	var kept []net.Conn
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			kept = append(kept, c)
		}
	}()
	held.Lock() // never unlocked
	for i := 0; i < 2; i++ {
		go reader(silent.Addr().String())
		go waitForever(make(chan int))
	}
	slots := make(chan struct{}) // a pool with no free connection
	for i := 0; i < 3; i++ {
		go borrow(slots)
	}
	fmt.Println("ready", os.Getpid())
	go func() {
		for i := 0; i < 30; i++ {
			go fetch("http://" + closer.Addr().String() + "/")
			time.Sleep(400 * time.Millisecond)
		}
	}()
	panic(http.ListenAndServe(os.Args[1], nil))
}

func fetch(url string) {
	resp, err := http.Get(url)
	if err != nil {
		return
	}
	_ = resp // the body is never read nor closed
	held.Lock()
}

func reader(addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	buf := make([]byte, 1)
	c.Read(buf)
}

func waitForever(c chan int) { <-c }

func borrow(slots chan struct{}) { <-slots }
