// Package leak holds a test that hangs on a socket read without a deadline,
// run by run.sh with a short -timeout so that `go test` panics with
// "test timed out" and prints every goroutine, in plain and -json output.
// It lives under testdata so that `go test ./...` never runs it.
package leak

import (
	"bufio"
	"net"
	"testing"
)

func TestUpstreamReply(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		select {} // the upstream accepts and never answers
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Log("waiting for the upstream's reply (no read deadline)")
	line, err := bufio.NewReader(c).ReadString('\n')
	t.Log(line, err)
}
