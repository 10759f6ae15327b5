// Command metrics-shipper is "our" service in testdata/cases/netns-remote-leak.
// Every second it sends a batch of metric lines to the collector on the
// remote host, reads the acknowledgement and closes the connection; every
// 3 s it fetches its configuration from the same host (the server answers
// and closes). It closes everything it opens: its ends of the collector
// connections go to FIN_WAIT2 and, orphaned, wait there for a FIN the
// collector never sends.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"time"
)

func ship(addr string, batch int) error {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("dialing the collector: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	w := bufio.NewWriter(conn)
	for i := 0; i < 8; i++ {
		fmt.Fprintf(w, "shipper.batch%d.metric%d %d %d\n", batch, i, batch*i, time.Now().Unix())
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("sending batch %d: %w", batch, err)
	}
	ack, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the ack of batch %d: %w", batch, err)
	}
	log.Printf("batch %d: %s", batch, ack[:len(ack)-1])
	return nil
}

func fetchConfig(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("dialing config: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(conn, "GET config\n")
	_, err = io.ReadAll(conn)
	return err
}

func main() {
	collector := flag.String("collector", "10.88.0.2:18114", "collector address")
	config := flag.String("config", "10.88.0.2:18115", "config service address")
	batches := flag.Int("batches", 10, "batches to send, one a second")
	flag.Parse()
	log.SetFlags(log.Ldate | log.Ltime | log.Lmicroseconds | log.LUTC)
	tick := time.NewTicker(time.Second)
	for n := 0; ; n++ {
		if n < *batches {
			if err := ship(*collector, n); err != nil {
				log.Print(err)
			}
		}
		if n%3 == 0 {
			if err := fetchConfig(*config); err != nil {
				log.Printf("config: %v", err)
			}
		}
		<-tick.C
	}
}
