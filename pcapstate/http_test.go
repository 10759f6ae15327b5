package pcapstate

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestHTTPStartOf(t *testing.T) {
	tests := []struct {
		in         string
		method     Method
		status     uint16
		whyNothing string
	}{
		{in: "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", method: MethodGET},
		{in: "POST /api/v1/orders HTTP/1.0\r\n", method: MethodPOST},
		{in: "PUT /x HTTP/1.1\r\n", method: MethodPUT},
		{in: "PATCH /x HTTP/1.1\r\n", method: MethodPATCH},
		{in: "DELETE /x HTTP/1.1\r\n", method: MethodDELETE},
		{in: "HEAD / HTTP/1.1\r\n", method: MethodHEAD},
		{in: "OPTIONS * HTTP/1.1\r\n", method: MethodOPTIONS},
		{in: "TRACE / HTTP/1.1\n", method: MethodTRACE},
		{in: "CONNECT example.org:443 HTTP/1.1\r\n", method: MethodCONNECT},
		{in: "GET http://example.org/ HTTP/1.1\r\n", method: MethodGET},
		{in: "GET /a-long-path-cut-by-the-snaplen", method: MethodGET},
		{in: "GET /", method: MethodGET},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200},
		{in: "HTTP/1.0 500 Internal Server Error\r\n", status: 500},
		{in: "HTTP/1.1 404 Not Found\r\n", status: 404},
		{in: "HTTP/1.1 101\r\n", status: 101},
		{in: "HTTP/1.1 204", status: 204},
		{in: "HTTP/1.1 20", whyNothing: "status line cut before its code ends"},
		{in: "HTTP/2.0 200 OK\r\n", whyNothing: "not HTTP/1.x"},
		{in: "HTTP/1.1 099 x\r\n", whyNothing: "no status below 100"},
		{in: "HTTP/1.1 2000 x\r\n", whyNothing: "four digits"},
		{in: "HTTP/1.1 20x OK\r\n", whyNothing: "not digits"},
		{in: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", whyNothing: "the HTTP/2 preface"},
		{in: "GET /x HTTP/2.0\r\n", whyNothing: "a request line of another version"},
		{in: "GET /x\r\n", whyNothing: "HTTP/0.9"},
		{in: "GET key\r\n", whyNothing: "a Redis inline command: no target"},
		{in: "get /x HTTP/1.1\r\n", whyNothing: "methods are case-sensitive"},
		{in: "GETS /x HTTP/1.1\r\n", whyNothing: "another token"},
		{in: "OPTIONS\t* HTTP/1.1\r\n", whyNothing: "no space after the method"},
		{in: "GET * HTTP/1.1\r\n", whyNothing: "* is OPTIONS' only"},
		{in: "CONNECT  x HTTP/1.1\r\n", whyNothing: "two spaces"},
		{in: "POS", whyNothing: "too short"},
		{in: "", whyNothing: "empty"},
		{in: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", whyNothing: "a TLS ClientHello"},
		{in: "SSH-2.0-OpenSSH_9.2\r\n", whyNothing: "SSH"},
		{in: "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", whyNothing: "zeros"},
	}
	for _, tt := range tests {
		in := []byte(tt.in)
		h := httpStartOf(in)
		if h.Method() != tt.method || h.Status() != tt.status {
			t.Errorf("httpStartOf(%q) = %v %d, want %v %d (%s)", tt.in, h.Method(), h.Status(), tt.method, tt.status, tt.whyNothing)
		}
		if allocs := testing.AllocsPerRun(10, func() { httpStartOf(in) }); allocs != 0 {
			t.Errorf("httpStartOf(%q) allocates %v times", tt.in, allocs)
		}
	}
}

// FuzzHTTPStart checks that the recognizer never panics and that what it
// recognises is what the bytes say: a status line's code, or a method
// followed by a space.
func FuzzHTTPStart(f *testing.F) {
	for _, s := range []string{"GET / HTTP/1.1\r\n", "HTTP/1.1 503 Busy\r\n", "CONNECT a:1 HTTP/1.1\r\n", "OPTIONS * HTTP/1.0\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		h := httpStartOf(p)
		switch {
		case h == 0:
		case h.Status() != 0:
			if h.Status() < 100 || h.Status() > 999 || string(p[:7]) != "HTTP/1." {
				t.Fatalf("%q: status %d", p, h.Status())
			}
		default:
			m := h.Method().String()
			if len(p) <= len(m) || string(p[:len(m)]) != m || p[len(m)] != ' ' {
				t.Fatalf("%q: method %v", p, h.Method())
			}
		}
	})
}

// TestLastExchange runs an HTTP keep-alive connection through the engine:
// two requests, a 200 and a 500, then the server's FIN; data after the FIN
// is not part of the last exchange.
func TestLastExchange(t *testing.T) {
	type step struct {
		from  byte
		flags Flags
		seq   uint32
		ack   uint32
		n     uint32
		http  HTTPStart
	}
	run := func(steps []step) Conn {
		var out []Conn
		ex := exporter{names: []string{"test.pcap"}}
		tr := newTracker(func(c *conn) { out = append(out, ex.export(c, c.last)) })
		defer tr.release()
		ex.tr = tr
		base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
		var ts int64
		for i, p := range append([]step{{'c', SYN, 1000, 0, 0, 0}, {'s', SYN | ACK, 5000, 1001, 0, 0}, {'c', ACK, 1001, 5001, 0, 0}}, steps...) {
			seg := Segment{Seq: p.seq, Ack: p.ack, Flags: p.flags, Payload: p.n, Window: 65535, HTTP: p.http}
			src, dst := cli, srv
			if p.from == 's' {
				src, dst = srv, cli
			}
			seg.Src, seg.SrcPort, seg.Dst, seg.DstPort = src.Addr(), src.Port(), dst.Addr(), dst.Port()
			ts = base + int64(i)*int64(time.Millisecond)
			tr.add(&seg, ts, ref{file: 1, n: uint32(i + 1)})
		}
		for _, ch := range tr.chunks {
			for i := range ch.conns {
				if c := &ch.conns[i]; c.live {
					out = append(out, ex.export(c, ts))
				}
			}
		}
		if len(out) != 1 {
			t.Fatalf("%d connections", len(out))
		}
		return out[0]
	}
	exchange := []step{
		{'c', PSH | ACK, 1001, 5001, 100, HTTPStart(MethodGET)},
		{'s', PSH | ACK, 5001, 1101, 200, 200},
		{'c', PSH | ACK, 1101, 5201, 100, HTTPStart(MethodPOST)},
		{'s', PSH | ACK, 5201, 1201, 300, 500},
		{'s', ACK, 5501, 1201, 1000, 0}, // the rest of the error's body
		{'c', ACK, 1201, 6501, 0, 0},
	}
	tests := []struct {
		name     string
		tail     []step
		last     Sender
		local    Side // LastRequest, LastStatus and Upgrade only
		remote   Side
		localCW  bool
		wantPeer State
	}{
		{
			name: "error status, then the server's FIN",
			tail: []step{{'s', FIN | ACK, 6501, 1201, 0, 0}, {'c', ACK, 1201, 6502, 0, 0}},
			// The client is in CLOSE_WAIT: local.
			last: SenderRemote, local: Side{LastRequest: MethodPOST}, remote: Side{LastStatus: 500}, localCW: true,
		},
		{
			name: "a request the server never answered",
			tail: []step{{'c', PSH | ACK, 1201, 6501, 80, HTTPStart(MethodDELETE)}, {'s', FIN | ACK, 6501, 1281, 0, 0}, {'c', ACK, 1281, 6502, 0, 0}},
			last: SenderLocal, local: Side{LastRequest: MethodDELETE}, remote: Side{LastStatus: 500}, localCW: true,
		},
		{
			name: "a request after the server's FIN is not part of the exchange",
			tail: []step{{'s', FIN | ACK, 6501, 1201, 0, 0}, {'c', PSH | ACK, 1201, 6502, 80, HTTPStart(MethodGET)}},
			last: SenderRemote, local: Side{LastRequest: MethodPOST}, remote: Side{LastStatus: 500}, localCW: true,
		},
		{
			// Frames after a 101 whose bytes begin as a request or a
			// status line are not HTTP/1.x.
			name: "nothing after a 101 is HTTP",
			tail: []step{
				{'c', PSH | ACK, 1201, 6501, 50, HTTPStart(MethodGET)}, {'s', PSH | ACK, 6501, 1251, 40, 101},
				{'c', PSH | ACK, 1251, 6541, 30, HTTPStart(MethodPOST)}, {'s', PSH | ACK, 6541, 1281, 20, 200},
				{'s', FIN | ACK, 6561, 1281, 0, 0}, {'c', ACK, 1281, 6562, 0, 0},
			},
			last: SenderRemote, local: Side{LastRequest: MethodGET}, remote: Side{LastStatus: 101, Upgrade: UpgradeSwitching}, localCW: true,
		},
		{
			// A proxy's 200 to CONNECT opens a tunnel: the client's
			// request and the origin's response relayed through it are
			// not the proxy's exchange.
			name: "nothing after a 2xx to CONNECT is HTTP",
			tail: []step{
				{'c', PSH | ACK, 1201, 6501, 50, HTTPStart(MethodCONNECT)}, {'s', PSH | ACK, 6501, 1251, 40, 200},
				{'c', PSH | ACK, 1251, 6541, 30, HTTPStart(MethodGET)}, {'s', PSH | ACK, 6541, 1281, 20, 404},
				{'s', FIN | ACK, 6561, 1281, 0, 0}, {'c', ACK, 1281, 6562, 0, 0},
			},
			last: SenderRemote, local: Side{LastRequest: MethodCONNECT}, remote: Side{LastStatus: 200, Upgrade: UpgradeConnect}, localCW: true,
		},
		{
			name: "a CONNECT answered 407 opens no tunnel",
			tail: []step{
				{'c', PSH | ACK, 1201, 6501, 50, HTTPStart(MethodCONNECT)}, {'s', PSH | ACK, 6501, 1251, 40, 407},
				{'c', PSH | ACK, 1251, 6541, 30, HTTPStart(MethodGET)}, {'s', PSH | ACK, 6541, 1281, 20, 404},
				{'s', FIN | ACK, 6561, 1281, 0, 0}, {'c', ACK, 1281, 6562, 0, 0},
			},
			last: SenderRemote, local: Side{LastRequest: MethodGET}, remote: Side{LastStatus: 404}, localCW: true,
		},
		{
			// The 200 answered the GET before the CONNECT, not the
			// CONNECT, which the proxy refused.
			name: "a CONNECT after an answered request, refused",
			tail: []step{
				{'c', PSH | ACK, 1201, 6501, 50, HTTPStart(MethodGET)}, {'s', PSH | ACK, 6501, 1251, 40, 200},
				{'c', PSH | ACK, 1251, 6541, 30, HTTPStart(MethodCONNECT)}, {'s', PSH | ACK, 6541, 1281, 20, 403},
				{'c', PSH | ACK, 1281, 6561, 30, HTTPStart(MethodGET)}, {'s', PSH | ACK, 6561, 1311, 20, 200},
				{'s', FIN | ACK, 6581, 1311, 0, 0}, {'c', ACK, 1311, 6582, 0, 0},
			},
			last: SenderRemote, local: Side{LastRequest: MethodGET}, remote: Side{LastStatus: 200}, localCW: true,
		},
		{
			// Only the answer to CONNECT counts: a 200 that the client
			// sends is not one.
			name: "a 2xx from the end that sent CONNECT opens nothing",
			tail: []step{
				{'c', PSH | ACK, 1201, 6501, 50, HTTPStart(MethodCONNECT)}, {'c', PSH | ACK, 1251, 6501, 40, 200},
				{'s', PSH | ACK, 6501, 1291, 20, 502},
				{'s', FIN | ACK, 6521, 1291, 0, 0}, {'c', ACK, 1291, 6522, 0, 0},
			},
			last: SenderRemote, local: Side{LastRequest: MethodCONNECT, LastStatus: 200}, remote: Side{LastStatus: 502}, localCW: true,
		},
		{
			name: "a retransmitted request is not new data",
			tail: []step{{'c', PSH | ACK, 1101, 6501, 100, HTTPStart(MethodPOST)}, {'s', FIN | ACK, 6501, 1201, 0, 0}, {'c', ACK, 1201, 6502, 0, 0}},
			last: SenderRemote, local: Side{LastRequest: MethodPOST}, remote: Side{LastStatus: 500}, localCW: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := run(append(append([]step{}, exchange...), tt.tail...))
			if tt.localCW && (c.Local.State != CloseWait || c.Local.Addr != cli) {
				t.Fatalf("local %v in %v, want the client in CLOSE_WAIT", c.Local.Addr, c.Local.State)
			}
			if c.LastDataFrom != tt.last || c.Local.LastRequest != tt.local.LastRequest || c.Local.LastStatus != tt.local.LastStatus ||
				c.Remote.LastRequest != tt.remote.LastRequest || c.Remote.LastStatus != tt.remote.LastStatus ||
				c.Local.Upgrade != tt.local.Upgrade || c.Remote.Upgrade != tt.remote.Upgrade {
				t.Errorf("last data from %v, local %v %d %v, remote %v %d %v; want %v, %v %d %v, %v %d %v", c.LastDataFrom,
					c.Local.LastRequest, c.Local.LastStatus, c.Local.Upgrade, c.Remote.LastRequest, c.Remote.LastStatus, c.Remote.Upgrade,
					tt.last, tt.local.LastRequest, tt.local.LastStatus, tt.local.Upgrade, tt.remote.LastRequest, tt.remote.LastStatus, tt.remote.Upgrade)
			}
		})
	}
}

// TestLastExchangeZeek reads Zeek's real http_get trace: one GET answered
// 200, then the client's FIN.
func TestLastExchangeZeek(t *testing.T) {
	path := filepath.Join(decZeekTraces, "http_get.pcap")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Read([]Input{{Name: "http_get.pcap", R: f}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Conns) != 1 {
		t.Fatalf("%d connections", len(res.Conns))
	}
	c := res.Conns[0]
	client, server := c.Remote, c.Local
	last := SenderLocal
	if c.LocalOpened {
		client, server, last = c.Local, c.Remote, SenderRemote
	}
	if client.LastRequest != MethodGET || server.LastStatus != 200 || client.LastStatus != 0 || server.LastRequest != MethodNone || c.LastDataFrom != last {
		t.Errorf("client %v %d, server %v %d, last data from %v", client.LastRequest, client.LastStatus, server.LastRequest, server.LastStatus, c.LastDataFrom)
	}
}
