// Command stuckgo is a Go program whose goroutines are stuck in the ways that
// keep sockets open, for the testdata/real/go goroutine dumps (see run.sh):
//
//   - 3 readers block in conn.Read on a local server that never writes (IO
//     wait), under pprof labels, and the server's 3 handlers block reading too;
//   - a holder keeps 2 connections whose peer closed them (CLOSE_WAIT) while
//     it waits on a channel;
//   - goroutines in chan receive, chan send, select, sync.Mutex.Lock,
//     sync.WaitGroup.Wait, sync.Cond.Wait, time.Sleep, one locked to its
//     OS thread, and (built with cgo, see cgo.go) one in a blocking C call;
//   - a net/http client keeps 2 idle and 2 leaked (unread body) keep-alive
//     connections, so persistConn readLoop/writeLoop goroutines exist.
//
// Dumps: net/http/pprof on -debug; /stack writes runtime.Stack(buf, true).
// With -panic-after D the program panics after D (use GOTRACEBACK=all).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// startNative starts a goroutine blocked in a cgo call; set by cgo.go when
// the program is built with cgo.
var startNative func()

var (
	blackholeConns []net.Conn
	mu             sync.Mutex
)

func serveBlackhole(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		mu.Lock()
		blackholeConns = append(blackholeConns, c)
		mu.Unlock()
		go func() {
			buf := make([]byte, 1)
			c.Read(buf) // the client never writes
		}()
	}
}

func serveClosing(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// readResponse reads from the upstream with no deadline.
//
//go:noinline
func readResponse(c net.Conn) (int, error) {
	buf := make([]byte, 512)
	return c.Read(buf)
}

// holdUntilDone keeps conns open until done is closed, which never happens.
//
//go:noinline
func holdUntilDone(conns []net.Conn, done chan struct{}) {
	<-done
	for _, c := range conns {
		c.Close()
	}
}

// getParallel makes 2 concurrent GETs; with consume it reads and closes the
// bodies, otherwise it returns the responses untouched.
func getParallel(client *http.Client, url string, consume bool) []*http.Response {
	var wg sync.WaitGroup
	resps := make([]*http.Response, 2)
	for i := range resps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(fmt.Sprintf("%s-%d", url, i))
			if err != nil {
				log.Fatal(err)
			}
			if consume {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			resps[i] = resp
		}()
	}
	wg.Wait()
	return resps
}

func main() {
	blackhole := flag.String("blackhole", "127.0.0.1:18060", "server that never writes")
	closing := flag.String("closing", "127.0.0.1:18061", "server that closes at once")
	httpAddr := flag.String("http", "127.0.0.1:18062", "keep-alive HTTP server")
	debug := flag.String("debug", "127.0.0.1:16060", "pprof address")
	panicAfter := flag.Duration("panic-after", 0, "panic after this long (0: never)")
	flag.Parse()

	http.HandleFunc("/stack", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		w.Write(buf[:n])
	})
	go func() { log.Fatal(http.ListenAndServe(*debug, nil)) }()
	// The runtime stamps a goroutine's wait start during GC; periodic GC
	// lets the dumps show "[IO wait, N minutes]".
	go func() {
		for range time.Tick(2 * time.Second) {
			runtime.GC()
		}
	}()

	bl, err := net.Listen("tcp", *blackhole)
	if err != nil {
		log.Fatal(err)
	}
	go serveBlackhole(bl)
	cl, err := net.Listen("tcp", *closing)
	if err != nil {
		log.Fatal(err)
	}
	go serveClosing(cl)

	upstream := http.NewServeMux()
	upstream.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s\n", r.URL.Path, make([]byte, 64<<10))
	})
	hl, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(hl, upstream)

	for i := 0; i < 3; i++ {
		go pprof.Do(context.Background(), pprof.Labels("role", "upstream-reader", "upstream", *blackhole), func(context.Context) {
			c, err := net.Dial("tcp", *blackhole)
			if err != nil {
				log.Fatal(err)
			}
			readResponse(c)
		})
	}

	done := make(chan struct{})
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", *closing)
		if err != nil {
			log.Fatal(err)
		}
		held = append(held, c)
	}
	go holdUntilDone(held, done)

	never := make(chan int)
	go func() { <-never }()
	go func() { never <- 1 }()
	go func() {
		select {
		case <-never:
		case <-done:
		}
	}()
	go func() {
		runtime.LockOSThread()
		<-done
	}()
	var stuck sync.Mutex
	stuck.Lock()
	go func() { stuck.Lock() }()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { wg.Wait() }()
	cond := sync.NewCond(&sync.Mutex{})
	go func() {
		cond.L.Lock()
		cond.Wait()
	}()
	go func() { time.Sleep(time.Hour) }()
	if startNative != nil {
		startNative()
	}

	client := &http.Client{}
	base := "http://" + *httpAddr
	// Two requests in parallel whose bodies are never read or closed (their
	// connections stay busy), then two whose bodies are read and closed
	// (their connections go idle in the pool).
	leaked := getParallel(client, base+"/leak", false)
	getParallel(client, base+"/idle", true)
	log.Printf("ready: %d leaked responses", len(leaked))

	if *panicAfter > 0 {
		time.Sleep(*panicAfter)
		go func() {
			var m map[string]int
			m["upstream"]++ // assignment to entry in nil map
		}()
	}
	<-done
}
