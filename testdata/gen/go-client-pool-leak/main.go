// Command pricefeed is a Go HTTP client with a connection leak, used to make
// the go-client-pool-leak fixture: fetchPrice checks the status code and
// returns without reading or closing resp.Body. The transport cannot reuse a
// connection whose body is unread, so every request dials a new one, and each
// keeps a persistConn readLoop and writeLoop goroutine. When the server closes
// its idle connections, the client's sockets sit in CLOSE_WAIT.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	_ "net/http/pprof"
	"runtime"
	"time"
)

// fetchPrice leaks: resp.Body is never read or closed.
func fetchPrice(client *http.Client, base, symbol string) (int, error) {
	resp, err := client.Get(base + "/price/" + symbol)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("price %s: %s", symbol, resp.Status)
	}
	return resp.StatusCode, nil // BUG: no defer resp.Body.Close()
}

func main() {
	upstream := flag.String("upstream", "http://127.0.0.1:18084", "price service")
	debug := flag.String("debug", "127.0.0.1:16064", "pprof address")
	n := flag.Int("n", 12, "requests to make")
	flag.Parse()
	go func() { log.Fatal(http.ListenAndServe(*debug, nil)) }()
	go func() {
		for range time.Tick(2 * time.Second) {
			runtime.GC()
		}
	}()
	client := &http.Client{Timeout: 0}
	for i := 0; i < *n; i++ {
		code, err := fetchPrice(client, *upstream, fmt.Sprintf("SYM%d", i))
		log.Printf("SYM%d: %d %v", i, code, err)
		time.Sleep(200 * time.Millisecond)
	}
	log.Printf("done")
	select {}
}
