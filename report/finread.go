package report

import (
	"fmt"
	"math"

	"github.com/cwforensics/cwforensics/dumps"
)

// linuxRecvQ is a listed socket's receive queue when the tool printed it
// as the Linux kernel counts it: rcv_nxt - copied_seq, where the peer's
// FIN takes one sequence number, so that a socket in CLOSE_WAIT shows 1 or
// more until a read takes the FIN, and 0 after. A read takes it with the
// last bytes before it when they share a buffer (a segment carrying data
// and the FIN, or a FIN the kernel merged into the data queued before
// it), then returns those bytes; the next read returns the end of the
// stream. So 0 says the program read everything the peer sent, not that
// it saw the end (tcp_recvmsg's found_fin_ok). ss, /proc/net/tcp and, on
// Linux, netstat (net-tools, busybox) and lsof -T q all print that count
// (the last three read /proc/net/tcp's rx_queue); on other kernels netstat
// and lsof count the bytes buffered, without the FIN. So a queue is taken
// only from a row the parser tells is Linux's (dumps.Socket.OS: ss,
// /proc, netstat's tcp/tcp6 rows in addr:port notation, lsof's with a
// decimal DEVICE); a row whose system its file does not tell is not. -1
// when not known.
func linuxRecvQ(s *dumps.Socket) int64 {
	if s.RecvQ == nil || *s.RecvQ > math.MaxInt64 || s.OS != dumps.OSLinux {
		return -1
	}
	return int64(*s.RecvQ)
}

// finReading is what the kernel's receive queues say of some sockets in
// CLOSE_WAIT: how many were read to the peer's FIN (queue 0), how many
// still hold it unread (1 or more), and of those how many have data
// before it; the listings they come from.
type finReading struct {
	read, unread, withData int
	evidence               []Pos
}

// finRead reads, for each of keys, the receive queue of its latest CLOSE_WAIT
// listing that shows one (linuxRecvQ).
func (b *builder) finRead(keys []key) finReading {
	var r finReading
	for _, k := range keys {
		var best listing
		found := false
		for _, l := range b.kernel[k] {
			if l.state == dumps.StateCloseWait && l.recvQ >= 0 && (!found || l.after(&best)) {
				best, found = l, true
			}
		}
		if !found {
			continue
		}
		switch {
		case best.recvQ == 0:
			r.read++
		case best.recvQ == 1:
			r.unread++
		default:
			r.unread++
			r.withData++
		}
		if len(r.evidence) < maxClaimEvidence {
			r.evidence = append(r.evidence, best.pos)
		}
	}
	return r
}

// claim says what the kernel's receive queues show of a group's n
// sockets (r, their finRead): read to the peer's FIN, the program having
// read all the peer sent and kept the socket; or the FIN still unread,
// nothing having read the socket to its end since the peer closed. false
// when no listing shows a queue as Linux counts it.
func (r finReading) claim(n int) (Claim, bool) {
	listed := r.read + r.unread
	if listed == 0 {
		return Claim{}, false
	}
	const how = "the FIN counts as one byte of Recv-Q until a read takes it, the read that returns the end of the stream or the one that returns the last data before it"
	var text string
	switch {
	case r.unread == 0:
		text = fmt.Sprintf("the kernel shows %s read to the peer's FIN (Recv-Q 0 in CLOSE_WAIT; %s): the program read all the peer sent, up to its FIN, and kept the socket open", allOf(listed, "socket"), how)
	case r.read == 0:
		queue := fmt.Sprintf("Recv-Q 1 or more in CLOSE_WAIT, %d with data before the FIN", count(r.withData))
		switch r.withData {
		case 0:
			queue = "Recv-Q 1 in CLOSE_WAIT: the FIN alone"
		case r.unread:
			queue = "Recv-Q above 1 in CLOSE_WAIT: data, then the FIN"
		}
		text = fmt.Sprintf("the kernel shows the peer's FIN unread on %s (%s; %s): nothing has read these sockets to the end since the peer closed", allOf(listed, "socket"), queue, how)
	default:
		data := ""
		if r.withData > 0 {
			data = fmt.Sprintf(", %d of them with data before it", count(r.withData))
		}
		text = fmt.Sprintf("of %d listed sockets, the kernel shows %d read to the peer's FIN (Recv-Q 0 in CLOSE_WAIT) and %d with the FIN still unread (Recv-Q 1 or more)%s; %s", count(listed), count(r.read), count(r.unread), data, how)
	}
	if listed < n {
		text += fmt.Sprintf("; %d of the %d sockets are not in a listing that shows the queue", count(n-listed), count(n))
	}
	return Claim{Text: text, Evidence: r.evidence}, true
}

// allOf is "the socket", "both sockets" or "all 3 sockets".
func allOf(n int, noun string) string {
	switch n {
	case 1:
		return "the " + noun
	case 2:
		return "both " + plural(noun, n)
	}
	return fmt.Sprintf("all %d %s", count(n), plural(noun, n))
}

// allUnread reports whether the listings show the peer's FIN unread on
// every one of n sockets.
func (r finReading) allUnread(n int) bool { return n > 0 && r.unread == n }

// unreadNoDump is the claim against a group no dump shows, whose sockets
// all hold the peer's FIN unread: the code that holds them does not read
// them, as a thread blocked before its next read would not.
func unreadNoDump(n int) string {
	return fmt.Sprintf("no thread or goroutine dump of this process, and the kernel shows the peer's FIN unread on %s: whatever holds them has not read them since the peer closed, as a thread blocked before its next read would not; a dump shows whether one is", allOf(n, "socket"))
}

// unreadAdvice leads the advice of such a group: where to look, since the
// path that reads to the end of the stream and returns without closing is
// not what the kernel shows.
func unreadAdvice(rt Runtime) Advice {
	return Advice{Runtime: rt, Text: "Nothing has read these sockets since the peer closed (their Recv-Q holds the FIN): look for the code that keeps them without reading, a thread or goroutine blocked before its next read (a dump taken during the incident shows it), a connection set aside and forgotten, or a paused stream, and close them there."}
}
