package report

import (
	"fmt"
	"strings"
)

// keepaliveStopgap is the advice every leak gets last: the kernel knobs
// people reach for first, and why they are not a fix.
var keepaliveStopgap = Advice{
	Text: "Shorten TCP keep-alive so the kernel notices dead peers sooner.",
	Config: "sysctl -w net.ipv4.tcp_keepalive_time=60 net.ipv4.tcp_keepalive_intvl=10 " +
		"net.ipv4.tcp_keepalive_probes=6",
	Stopgap: true,
	Why: "Keep-alive applies only to sockets opened with SO_KEEPALIVE, and a probe answered with a reset " +
		"frees the kernel's TCP state but not the file descriptor: the application still holds it until it " +
		"calls close(), so the count of open files keeps growing and the bug stays. Restarting the process " +
		"also only buys time.",
}

// readToEnd is a missing close's advice when the runtime is not known:
// the path that reads to the end of the stream. A group whose sockets all
// hold the peer's FIN unread is advised otherwise (unreadAdvice).
var readToEnd = Advice{Text: "Find the code path that reads until end-of-stream (or hits an error) and returns without closing the socket; close it on every path."}

// advice lists, per root cause and runtime, what to change. RuntimeUnknown
// entries apply when nothing more specific is known.
var advice = map[Category]map[Runtime][]Advice{
	CategoryMissingClose: {
		RuntimeGo: {
			{Text: "Close every accepted or dialled connection on every path: `defer conn.Close()` right after Accept or Dial succeeds, before any early return."},
			{Text: "For HTTP clients, always `defer resp.Body.Close()` once err is nil, and drain the body (`io.Copy(io.Discard, resp.Body)`) so the connection can be reused."},
			{Text: "Give servers deadlines so a peer that went away cannot pin a goroutine: `http.Server{ReadTimeout, IdleTimeout}` or `conn.SetReadDeadline`."},
		},
		RuntimeJava: {
			{Text: "Open sockets, streams and JDBC connections in try-with-resources (`try (Socket s = server.accept()) { ... }`) so close() runs on every path, exceptions included."},
			{Text: "Where try-with-resources does not fit, close in `finally`, never only at the end of the happy path."},
		},
		RuntimePython: {
			{Text: "Use the socket as a context manager (`with conn:` or `with socket.create_connection((host, port)) as conn:`) so it is closed when the block exits, by return or by exception."},
			{Text: "When a context manager does not fit, close in `finally:`; an `except` block that logs and returns leaks the socket."},
			{Text: "With asyncio streams, a handler must `writer.close()` and `await writer.wait_closed()` (in `finally:`) once `reader.read()` returns `b''` or `reader.at_eof()`: returning without it leaves the socket in CLOSE_WAIT, the event loop never closes it for you."},
		},
		RuntimeNode: {
			{Text: "Call `socket.end()` or `socket.destroy()` on 'end', 'error' and 'timeout'; with `allowHalfOpen: true` the socket stays in CLOSE_WAIT until you do."},
		},
		RuntimeUnknown: {readToEnd},
	},
	CategoryPoolLeak: {
		RuntimeGo: {
			{Text: "Return connections to the pool: close every `resp.Body` (and drain it) and every `sql.Rows`; an unclosed body keeps its connection out of the pool."},
			{Text: "Make the pool drop connections before the server does: set `http.Transport.IdleConnTimeout` (or `sql.DB.SetConnMaxIdleTime` / `SetConnMaxLifetime`) shorter than the server's idle timeout."},
			{Text: "Bound waiting for a connection with a context deadline (`http.NewRequestWithContext`, `db.QueryContext`)."},
		},
		RuntimeJava: {
			{Text: "Give every borrowed connection back: try-with-resources on `Connection`, `Statement`, `ResultSet`, and on HTTP responses (`EntityUtils.consume(response.getEntity())`)."},
			{Text: "Validate and evict idle connections so the pool notices the server closed them: HikariCP `maxLifetime` and `idleTimeout` below the server's idle timeout, `keepaliveTime`; Apache HttpClient `evictIdleConnections`, `evictExpiredConnections`, `setValidateAfterInactivity`."},
			{Text: "Turn on leak detection to find the borrower that never returns (HikariCP `leakDetectionThreshold`), and bound borrowing (`connectionTimeout`)."},
		},
		RuntimePython: {
			{Text: "Use sessions and pooled connections in `with` blocks (`with requests.Session() as s:`, `with pool.connect() as conn:`) so they go back to the pool; for SQLAlchemy set `pool_recycle` below the server's idle timeout and `pool_pre_ping=True`."},
		},
		RuntimeNode: {
			{Text: "Consume or destroy every response body so the agent can reuse the socket, and set the agent's `freeSocketTimeout`/`timeout` below the server's keep-alive timeout."},
		},
		RuntimeUnknown: {
			{Text: "Make the pool validate connections before use and evict idle ones sooner than the server closes them, and make sure every borrow is returned."},
		},
	},
	CategoryBlockedHoldingSocket: {
		RuntimeGo: {
			{Text: "Put a deadline on every blocking call: `context.WithTimeout`, `http.Client{Timeout}`, `conn.SetReadDeadline`; a read without one waits forever on a half-closed peer."},
			{Text: "Do not hold a mutex across network I/O; look at the goroutines blocked in `sync.(*Mutex).Lock` for the one holding it."},
		},
		RuntimeJava: {
			{Text: "Set read and connect timeouts on every socket and client (`Socket.setSoTimeout`, `HttpClient.Builder.connectTimeout`, `HttpRequest.timeout`, JDBC `socketTimeout`)."},
			{Text: "Do not hold a monitor or lock across I/O; the thread dump's 'waiting to lock' lines name the holder, and `jstack -l` reports deadlocks."},
		},
		RuntimePython: {
			{Text: "Set timeouts (`sock.settimeout(...)`, `requests.get(..., timeout=...)`) so a blocked read raises instead of holding the socket forever."},
		},
		RuntimeNode: {
			{Text: "Set `socket.setTimeout()` and destroy the socket on 'timeout'; set `server.requestTimeout` and `server.keepAliveTimeout`."},
		},
		RuntimeUnknown: {
			{Text: "Give every blocking read a timeout and avoid holding locks across network I/O."},
		},
	},
	CategoryErrorHandling: {
		RuntimeGo: {
			{Text: "Close the connection in every error branch (a `defer` right after it is opened does that), including on `io.EOF` and `ECONNRESET` from Read."},
		},
		RuntimeJava: {
			{Text: "Close the socket in `finally` or with try-with-resources; an IOException handler that logs and returns leaks it."},
		},
		RuntimePython: {
			{Text: "Close in `finally:` or use `with`; an `except Exception` that prints the error and returns leaks the socket."},
		},
		RuntimeNode: {
			{Text: "Handle 'error' on every socket and destroy it there; an unhandled ECONNRESET leaves the socket open."},
		},
		RuntimeUnknown: {
			{Text: "Audit error paths after resets and failed reads: each must close the socket."},
		},
	},
	CategoryRemotePeerLeak: {
		RuntimeUnknown: {
			{Text: "The peer, not this process, is leaking: our side sent its FIN and sits in FIN_WAIT2 because the peer application never closes. Report it to the peer's owners with these sockets."},
			{Text: "Locally, orphaned FIN_WAIT2 sockets are freed after `net.ipv4.tcp_fin_timeout`; sockets we still hold need a read timeout so we close them.", Stopgap: true,
				Why: "tcp_fin_timeout only applies to sockets the application has already closed; the leak itself is in the peer."},
		},
	},
	CategoryNormalChurn: {
		RuntimeUnknown: {
			{Text: "No action needed: CLOSE_WAIT here is short-lived and below every threshold. Keep watching the count (`watch -n 1 'ss -s'`, `ss -tan state close-wait | wc -l`); act if it keeps growing or sockets stay for minutes."},
		},
	},
}

// Advise returns the advice for a root cause in a runtime: the runtime's
// own advice (or the general advice when there is none) and, for leaks, the
// keep-alive stopgap with why it is not a fix. The result is a fresh slice.
func Advise(c Category, rt Runtime) []Advice {
	byRuntime := advice[c]
	list, ok := byRuntime[rt]
	if !ok {
		rt = RuntimeUnknown
		list = byRuntime[RuntimeUnknown]
	}
	out := make([]Advice, 0, len(list)+1)
	for _, a := range list {
		a.Runtime = rt
		out = append(out, a)
	}
	switch c {
	case CategoryMissingClose, CategoryPoolLeak, CategoryBlockedHoldingSocket, CategoryErrorHandling:
		out = append(out, keepaliveStopgap)
	}
	return out
}

// adviseExhaustion is what to do about a process out of descriptors, before
// the advice for what leaks them.
func adviseExhaustion() []Advice {
	return []Advice{
		{Text: "Fix what holds the descriptors (the other findings of the process, or its groups of stuck sockets): once it stops leaking, accept() succeeds again and the listen queue drains."},
		{Text: "Raise the open-files limit so the process survives until the fix ships.", Stopgap: true,
			Config: "LimitNOFILE=65536 (systemd unit), or ulimit -n 65536 before starting it",
			Why:    "a higher limit only delays exhaustion: leaked sockets keep piling up until the code closes them"},
	}
}

// adviseGroup is Advise for one group of sockets, led by what to change in
// the code the evidence names: the frame that borrowed or holds the
// socket, and the path that skipped the release, for the runtime.
func adviseGroup(c Category, rt Runtime, sus []Suspect) []Advice {
	general := Advise(c, rt)
	if len(sus) == 0 || sus[0].Culprit == "" {
		return general
	}
	s := sus[0]
	code := "`" + strings.ReplaceAll(s.Culprit, "`", "'") + "`"
	var a Advice
	switch {
	case c == CategoryPoolLeak && s.Role == RoleHolder && rt == RuntimeGo:
		a.Text = fmt.Sprintf("Each of the %d goroutines in %s belongs to a pooled connection whose response was never finished: in the code that calls `http.Client.Do` (or `Get`, `Post`), add `defer resp.Body.Close()` right after the error check and drain the body (`io.Copy(io.Discard, resp.Body)`) on every path, error statuses included, so the connection goes back to the pool.", count(s.Count), code)
	case c == CategoryPoolLeak && s.Role == RoleWaiter && rt == RuntimeJava:
		a.Text = fmt.Sprintf("%s borrows the pooled connections (%d %s wait there for one): release the lease on every path, `try (CloseableHttpResponse r = client.execute(req)) { ... EntityUtils.consume(r.getEntity()); }` or `try (Connection c = ds.getConnection())`, the error and early-return paths included.", code, count(s.Count), plural("thread", s.Count))
	case c == CategoryPoolLeak && s.Role == RoleWaiter:
		a.Text = fmt.Sprintf("%s borrows the pooled connections (%d wait there for one): give each back on every path (a context manager, `finally`, `defer`), the error and early-return paths included.", code, count(s.Count))
	case c == CategoryBlockedHoldingSocket && rt == RuntimeJava:
		a.Text = fmt.Sprintf("%s holds its socket while it waits (%s): put a timeout on the wait (`Socket.setSoTimeout`, `wait(ms)`, `tryLock(timeout)`), and close the socket in `finally` or try-with-resources so the timeout path releases it.", code, s.State)
	case c == CategoryBlockedHoldingSocket && rt == RuntimeGo:
		a.Text = fmt.Sprintf("%s holds its connection while it waits (%s): wait with a deadline (`select` on `ctx.Done()` or `time.After`, `conn.SetReadDeadline`), and `defer conn.Close()` where the connection is accepted so every return releases it.", code, s.State)
	case c == CategoryBlockedHoldingSocket && rt == RuntimePython:
		a.Text = fmt.Sprintf("%s holds its socket while it waits (%s): wait with a timeout, and serve the connection inside `with conn:` so every exit closes it.", code, s.State)
	case c == CategoryBlockedHoldingSocket:
		a.Text = fmt.Sprintf("%s holds its socket while it waits (%s): bound the wait with a timeout and close the socket on the timeout path.", code, s.State)
	default:
		return general
	}
	a.Runtime = rt
	return append([]Advice{a}, general...)
}
