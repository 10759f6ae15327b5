package dumps

import "strings"

// Activity is what a thread or goroutine is doing at the time of the dump,
// as far as its stack and state tell. The zero value means unknown.
type Activity uint8

// Activities, from the most specific to the least.
const (
	ActUnknown     Activity = iota // unknown
	ActDeadlocked                  // deadlocked
	ActPoolBorrow                  // pool-borrow
	ActLockWait                    // lock-wait
	ActSocketRead                  // socket-read
	ActSocketWrite                 // socket-write
	ActAccept                      // socket-accept
	ActConnect                     // socket-connect
	ActSelect                      // selector-wait
	ActChanWait                    // chan-wait
	ActCondWait                    // cond-wait
	ActSleep                       // sleep
	ActRunning                     // running
	ActIdle                        // idle
)

var activityNames = [...]string{"unknown", "deadlocked", "pool-borrow", "lock-wait", "socket-read", "socket-write", "socket-accept", "socket-connect", "selector-wait", "chan-wait", "cond-wait", "sleep", "running", "idle"}

func (a Activity) String() string {
	if int(a) < len(activityNames) {
		return activityNames[a]
	}
	return "Activity(" + itoa(int(a)) + ")"
}

// MarshalText makes an Activity appear by name in JSON.
func (a Activity) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// Blocked reports whether the activity waits on something outside the
// thread: a lock, a channel, a pool, the network.
func (a Activity) Blocked() bool {
	switch a {
	case ActDeadlocked, ActPoolBorrow, ActLockWait, ActSocketRead, ActSocketWrite, ActAccept, ActConnect, ActChanWait, ActCondWait:
		return true
	}
	return false
}

// Class is the classification of one stack: what it does, the connection
// pool or client library involved if any ("HikariCP", "net/http
// persistConn"), and the frame that decided (-1 when the state alone did).
type Class struct {
	Activity Activity `json:"activity"`
	Pool     string   `json:"pool,omitempty"`
	Frame    int      `json:"frame"`
	Func     string   `json:"func,omitempty"`
}

// A frameRule maps frames whose function starts with prefix to an activity.
type frameRule struct {
	prefix string
	act    Activity
	pool   string
}

// poolRules are connection pools; they are looked for anywhere on the stack,
// since the borrow sits under the park or the channel wait.
var poolRules = []frameRule{
	{"com.zaxxer.hikari.util.ConcurrentBag.borrow", ActPoolBorrow, "HikariCP"},
	{"com.zaxxer.hikari.pool.HikariPool.getConnection", ActPoolBorrow, "HikariCP"},
	{"org.apache.http.pool.AbstractConnPool.getPoolEntryBlocking", ActPoolBorrow, "Apache HttpClient 4"},
	{"org.apache.http.impl.conn.PoolingHttpClientConnectionManager.leaseConnection", ActPoolBorrow, "Apache HttpClient 4"},
	{"org.apache.http.impl.conn.tsccm.ConnPoolByRoute.getEntryBlocking", ActPoolBorrow, "Apache HttpClient 4"},
	{"org.apache.hc.core5.pool.StrictConnPool.lease", ActPoolBorrow, "Apache HttpClient 5"},
	{"org.apache.hc.core5.pool.StrictConnPool$", ActPoolBorrow, "Apache HttpClient 5"},
	{"org.apache.hc.core5.pool.LaxConnPool", ActPoolBorrow, "Apache HttpClient 5"},
	{"org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager$", ActPoolBorrow, "Apache HttpClient 5"},
	{"org.apache.commons.pool2.impl.GenericObjectPool.borrowObject", ActPoolBorrow, "DBCP"},
	{"org.apache.commons.pool.impl.GenericObjectPool.borrowObject", ActPoolBorrow, "DBCP"},
	{"org.apache.commons.dbcp2.PoolingDataSource.getConnection", ActPoolBorrow, "DBCP"},
	{"org.apache.commons.dbcp.PoolingDataSource.getConnection", ActPoolBorrow, "DBCP"},
	{"org.apache.tomcat.dbcp.pool2.impl.GenericObjectPool.borrowObject", ActPoolBorrow, "DBCP"},
	{"org.apache.tomcat.jdbc.pool.ConnectionPool.borrowConnection", ActPoolBorrow, "Tomcat JDBC"},
	{"com.mchange.v2.resourcepool.BasicResourcePool.awaitAvailable", ActPoolBorrow, "c3p0"},
	{"com.mchange.v2.resourcepool.BasicResourcePool.checkoutResource", ActPoolBorrow, "c3p0"},
	{"com.mchange.v2.c3p0.impl.C3P0PooledConnectionPool.checkoutPooledConnection", ActPoolBorrow, "c3p0"},
	{"okhttp3.internal.connection.RealConnectionPool", ActPoolBorrow, "OkHttp"},
	{"okhttp3.internal.connection.ExchangeFinder.findConnection", ActPoolBorrow, "OkHttp"},
	{"okhttp3.internal.connection.RealRoutePlanner", ActPoolBorrow, "OkHttp"},
	{"database/sql.(*DB).conn", ActPoolBorrow, "database/sql"},
	{"net/http.(*Transport).getConn", ActPoolBorrow, "net/http Transport"},
	{"net/http.(*Transport).queueForIdleConn", ActPoolBorrow, "net/http Transport"},
	// Python frames are module.function (dumps/python names them so).
	{"urllib3.connectionpool._get_conn", ActPoolBorrow, "urllib3"},
	{"sqlalchemy.pool.impl._do_get", ActPoolBorrow, "SQLAlchemy"},
	{"psycopg_pool.pool.getconn", ActPoolBorrow, "psycopg_pool"},
	{"aiohttp.connector._wait_for_available_connection", ActPoolBorrow, "aiohttp"},
}

// ioRules are socket operations, looked for from the top of the stack.
var ioRules = []frameRule{
	// JDK: classic socket (up to 12), NIO socket (13+), channels, selectors.
	{"java.net.SocketInputStream.socketRead0", ActSocketRead, ""},
	{"java.net.SocketInputStream.socketRead", ActSocketRead, ""},
	{"java.net.SocketInputStream.read", ActSocketRead, ""},
	{"java.net.SocketOutputStream.socketWrite0", ActSocketWrite, ""},
	{"java.net.SocketOutputStream.socketWrite", ActSocketWrite, ""},
	{"sun.nio.ch.NioSocketImpl.timedRead", ActSocketRead, ""},
	{"sun.nio.ch.NioSocketImpl.read", ActSocketRead, ""},
	{"sun.nio.ch.NioSocketImpl.implRead", ActSocketRead, ""},
	{"sun.nio.ch.NioSocketImpl.write", ActSocketWrite, ""},
	{"sun.nio.ch.NioSocketImpl.implWrite", ActSocketWrite, ""},
	{"sun.nio.ch.NioSocketImpl.accept", ActAccept, ""},
	{"sun.nio.ch.NioSocketImpl.timedAccept", ActAccept, ""},
	{"sun.nio.ch.NioSocketImpl.connect", ActConnect, ""},
	{"sun.nio.ch.NioSocketImpl.timedFinishConnect", ActConnect, ""},
	{"sun.nio.ch.SocketDispatcher.read", ActSocketRead, ""},
	{"sun.nio.ch.SocketDispatcher.write", ActSocketWrite, ""},
	{"sun.nio.ch.SocketChannelImpl.read", ActSocketRead, ""},
	{"sun.nio.ch.SocketChannelImpl.write", ActSocketWrite, ""},
	{"sun.nio.ch.SocketChannelImpl.connect", ActConnect, ""},
	{"sun.nio.ch.ServerSocketChannelImpl.accept", ActAccept, ""},
	{"sun.nio.ch.Net.accept", ActAccept, ""},
	{"sun.nio.ch.Net.connect", ActConnect, ""},
	{"java.net.PlainSocketImpl.socketAccept", ActAccept, ""},
	{"java.net.PlainSocketImpl.accept", ActAccept, ""},
	{"java.net.DualStackPlainSocketImpl.accept0", ActAccept, ""},
	{"java.net.PlainSocketImpl.socketConnect", ActConnect, ""},
	{"java.net.ServerSocket.accept", ActAccept, ""},
	{"sun.nio.ch.EPoll.wait", ActSelect, ""},
	{"sun.nio.ch.EPollArrayWrapper.epollWait", ActSelect, ""},
	{"sun.nio.ch.EPollSelectorImpl.doSelect", ActSelect, ""},
	{"sun.nio.ch.KQueue.poll", ActSelect, ""},
	{"sun.nio.ch.KQueueArrayWrapper.kevent0", ActSelect, ""},
	{"sun.nio.ch.KQueueSelectorImpl.doSelect", ActSelect, ""},
	{"sun.nio.ch.WindowsSelectorImpl", ActSelect, ""},
	{"sun.nio.ch.SelectorImpl.select", ActSelect, ""},
	{"io.netty.channel.epoll.Native.epollWait", ActSelect, ""},
	// JRockit's own socket natives, under the java.net frames.
	{"jrockit.net.SocketNativeIO.readBytesPinned", ActSocketRead, ""},
	{"jrockit.net.SocketNativeIO.socketRead", ActSocketRead, ""},
	{"jrockit.net.SocketNativeIO.writeBytesPinned", ActSocketWrite, ""},
	{"jrockit.net.SocketNativeIO.socketWrite", ActSocketWrite, ""},
	{"jrockit.net.SocketNativeIO.accept", ActAccept, ""},
	// Go: the netpoller and the net package.
	{"net.(*conn).Read", ActSocketRead, ""},
	{"net.(*conn).Write", ActSocketWrite, ""},
	{"net.(*netFD).Read", ActSocketRead, ""},
	{"net.(*netFD).Write", ActSocketWrite, ""},
	{"net.(*netFD).accept", ActAccept, ""},
	{"net.(*netFD).connect", ActConnect, ""},
	{"internal/poll.(*FD).Read", ActSocketRead, ""},
	{"internal/poll.(*FD).Write", ActSocketWrite, ""},
	{"internal/poll.(*FD).Accept", ActAccept, ""},
	{"crypto/tls.(*Conn).Read", ActSocketRead, ""},
	{"crypto/tls.(*Conn).Write", ActSocketWrite, ""},
	// Python: the standard library's socket, ssl, selectors and http.client
	// (socket.recv and sendall are C functions no frame shows: the top
	// frame's source line tells them, see sourceRules).
	{"socket.readinto", ActSocketRead, ""},
	{"socket.accept", ActAccept, ""},
	{"socket.create_connection", ActConnect, ""},
	{"ssl.read", ActSocketRead, ""},
	{"ssl.recv", ActSocketRead, ""},
	{"ssl.recv_into", ActSocketRead, ""},
	{"ssl.write", ActSocketWrite, ""},
	{"ssl.send", ActSocketWrite, ""},
	{"ssl.sendall", ActSocketWrite, ""},
	{"http.client._read_status", ActSocketRead, ""},
	{"http.client._safe_read", ActSocketRead, ""},
	{"http.client._read_next_chunk_size", ActSocketRead, ""},
	{"http.client.readinto", ActSocketRead, ""},
	{"http.client.send", ActSocketWrite, ""},
	{"selectors.select", ActSelect, ""},
	{"asyncio.selector_events.sock_recv", ActSocketRead, ""},
	{"asyncio.streams.read", ActSocketRead, ""},
	// Node.js: the libuv stream callbacks V8 names after their wraps
	// (node:internal/stream_base_commons, node:net). A JavaScript stack is
	// code the event loop is running, and these frames say in which
	// callback: TCP.onStreamRead runs when data has arrived (a 'data'
	// handler runs under it), TCPConnectWrap.afterConnect when a connect
	// has finished or failed, TCP.onconnection when a connection was
	// accepted. None of them waits on the socket, so they are running.
	{"TCP.onStreamRead", ActRunning, ""},
	{"TCPConnectWrap.afterConnect", ActRunning, ""},
	{"TCPWrap.onconnection", ActRunning, ""},
	{"TCP.onconnection", ActRunning, ""},
}

// netPoll is the JDK 13+ poll a socket read or write waits in; what it
// waits for comes from the frames below it.
const netPoll = "sun.nio.ch.Net.poll"

// connRules name the client library that owns a connection a stack is doing
// I/O on, so the report can say "an idle pooled connection".
var connRules = []frameRule{
	{"net/http.(*persistConn).readLoop", 0, "net/http persistConn"},
	{"net/http.(*persistConn).writeLoop", 0, "net/http persistConn"},
	{"net/http.(*persistConn).roundTrip", 0, "net/http persistConn"},
	{"database/sql.", 0, "database/sql"},
	{"com.zaxxer.hikari.", 0, "HikariCP"},
	{"org.apache.http.", 0, "Apache HttpClient 4"},
	{"org.apache.hc.client5.", 0, "Apache HttpClient 5"},
	{"org.apache.hc.core5.", 0, "Apache HttpClient 5"},
	{"okhttp3.", 0, "OkHttp"},
	{"com.mchange.v2.", 0, "c3p0"},
	{"org.apache.commons.dbcp", 0, "DBCP"},
	{"urllib3.", 0, "urllib3"},
	{"requests.", 0, "requests"},
	{"httpcore.", 0, "httpcore"},
	{"aiohttp.", 0, "aiohttp"},
	{"sqlalchemy.", 0, "SQLAlchemy"},
}

func findRule(rules []frameRule, frames []Frame) (int, frameRule) {
	for i, f := range frames {
		for _, r := range rules {
			if strings.HasPrefix(f.Func, r.prefix) {
				return i, r
			}
		}
	}
	return -1, frameRule{}
}

// classifyFrames decides from the stack alone; ok is false when no frame
// says anything.
func classifyFrames(frames []Frame) (Class, bool) {
	if i, r := findRule(poolRules, frames); i >= 0 {
		return Class{Activity: ActPoolBorrow, Pool: r.pool, Frame: i, Func: frames[i].Func}, true
	}
	i, r := findRule(ioRules, frames)
	if i < 0 {
		// A JDK 13+ poll: the read or write is a few frames below.
		for j, f := range frames {
			if strings.HasPrefix(f.Func, netPoll) {
				i, r = j, frameRule{act: ActSocketRead}
				if k, below := findRule(ioRules, frames[j:]); k >= 0 {
					r.act = below.act
				}
				break
			}
		}
	}
	if i < 0 {
		return Class{Frame: -1}, false
	}
	c := Class{Activity: r.act, Frame: i, Func: frames[i].Func}
	if _, cr := findRule(connRules, frames[i:]); cr.pool != "" {
		c.Pool = cr.pool
	}
	return c, true
}

// classifyThread classifies a JVM thread from its stack, its locks and its
// Thread.State. Deadlocks are marked later, by the lock graph.
func classifyThread(t *Thread) Class {
	if c, ok := classifyFrames(t.Frames); ok && (c.Activity == ActPoolBorrow || len(t.Frames) == 0 || c.Frame <= lockFrame(t)) {
		return c
	}
	for _, l := range t.Locks {
		c := Class{Activity: ActLockWait, Frame: l.Frame, Func: frameFunc(t.Frames, l.Frame)}
		switch l.Op {
		case LockWaitEnter, LockRelock:
			return c
		case LockParked:
			// A parked thread waits for a lock (ReentrantLock$NonfairSync,
			// ReentrantReadWriteLock$FairSync) or for a condition: an idle
			// executor worker parks on a ConditionObject.
			switch {
			case strings.Contains(l.Class, "Lock") && !strings.Contains(l.Class, "ConditionObject"):
			case hasFunc(t.Frames, "java.util.concurrent.ThreadPoolExecutor.getTask"), hasFunc(t.Frames, "java.util.concurrent.ForkJoinPool"),
				hasFunc(t.Frames, "java.util.concurrent.ScheduledThreadPoolExecutor$DelayedWorkQueue.take"):
				c.Activity = ActIdle
			default:
				c.Activity = ActCondWait
			}
			return c
		}
	}
	top := Class{Frame: -1}
	if len(t.Frames) > 0 {
		top.Frame, top.Func = 0, t.Frames[0].Func
	}
	state := threadState(t)
	switch {
	case state == "BLOCKED":
		top.Activity = ActLockWait
	case t.StateDetail == "sleeping" || strings.HasPrefix(top.Func, "java.lang.Thread.sleep"):
		top.Activity = ActSleep
	case state == "WAITING" || state == "TIMED_WAITING":
		if hasLock(t.Locks, LockWaitOn) {
			top.Activity = ActCondWait
		} else {
			top.Activity = ActIdle
		}
	case state == "RUNNABLE":
		top.Activity = ActRunning
	case t.Carrying != 0:
		top.Activity = ActRunning // a carrier running a virtual thread
	case t.VM && strings.HasPrefix(t.Status, "waiting"):
		top.Activity = ActIdle // a GC or VM thread waiting for work
	default:
		top.Activity = ActUnknown
	}
	return top
}

// threadState is the thread's java.lang.Thread.State, or for a dump that
// prints none (JDK 5, HP-UX and other pre-JDK 6 dumps, JRockit) the state its
// header's status implies: "waiting for monitor entry" and JRockit's
// "blocked" are BLOCKED, "in Object.wait()", "waiting on condition",
// "waiting" and "parked" WAITING, "sleeping" TIMED_WAITING, "runnable" and
// a JRockit "alive" thread with no wait RUNNABLE; "" when nothing says.
func threadState(t *Thread) string {
	if t.State != "" {
		return t.State
	}
	s := t.Status
	switch {
	case s == "runnable":
		return "RUNNABLE"
	case strings.HasPrefix(s, "waiting for monitor entry"):
		return "BLOCKED"
	case strings.HasPrefix(s, "in Object.wait()"), strings.HasPrefix(s, "waiting on condition"), s == "parking":
		return "WAITING"
	}
	// JRockit: "alive, in native, waiting" (R24: "active, native_waiting").
	state := ""
	for _, w := range strings.Split(s, ",") {
		switch w = strings.TrimSpace(w); {
		case strings.HasPrefix(w, "blocked"):
			return "BLOCKED"
		case w == "waiting", w == "parked":
			state = "WAITING"
		case w == "sleeping":
			state = "TIMED_WAITING"
		case (w == "alive" || w == "active") && state == "":
			state = "RUNNABLE"
		}
	}
	return state
}

// lockFrame is the frame of the first lock the thread waits for, or the
// bottom of the stack when it waits for none.
func lockFrame(t *Thread) int {
	for _, l := range t.Locks {
		if l.Op == LockWaitEnter || l.Op == LockParked || l.Op == LockRelock {
			return l.Frame
		}
	}
	return len(t.Frames)
}

func hasFunc(fs []Frame, prefix string) bool {
	for _, f := range fs {
		if strings.HasPrefix(f.Func, prefix) {
			return true
		}
	}
	return false
}

func hasLock(ls []Lock, op LockOp) bool {
	for _, l := range ls {
		if l.Op == op {
			return true
		}
	}
	return false
}

func frameFunc(fs []Frame, i int) string {
	if i >= 0 && i < len(fs) {
		return fs[i].Func
	}
	return ""
}

// goStateActivity maps a goroutine wait reason to an activity.
var goStateActivity = map[string]Activity{
	"running":                 ActRunning,
	"runnable":                ActRunning,
	"syscall":                 ActRunning,
	"sleep":                   ActSleep,
	"chan receive":            ActChanWait,
	"chan send":               ActChanWait,
	"chan receive (nil chan)": ActChanWait,
	"chan send (nil chan)":    ActChanWait,
	"select":                  ActChanWait,
	"select (no cases)":       ActChanWait,
	"semacquire":              ActLockWait,
	"sync.Mutex.Lock":         ActLockWait,
	"sync.RWMutex.Lock":       ActLockWait,
	"sync.RWMutex.RLock":      ActLockWait,
	"sync.Cond.Wait":          ActCondWait,
	"sync.WaitGroup.Wait":     ActCondWait,
	"IO wait":                 ActSocketRead,
	"GC worker (idle)":        ActIdle,
	"GC sweep wait":           ActIdle,
	"GC scavenge wait":        ActIdle,
	"finalizer wait":          ActIdle,
	"force gc (idle)":         ActIdle,
	"timer goroutine (idle)":  ActIdle,
	"trace reader (blocked)":  ActIdle,
	"wait for GC cycle":       ActIdle,
	"debug call":              ActRunning,
	"preempted":               ActRunning,
	"dead":                    ActIdle,
	"idle":                    ActIdle,
	"copystack":               ActRunning,
	"stopping the world":      ActRunning,
}

// ClassifyGo classifies a goroutine (or a profile group, state "") from its
// frames and wait reason.
func ClassifyGo(state string, frames []Frame) Class {
	if c, ok := classifyFrames(frames); ok {
		return c
	}
	c := Class{Frame: -1}
	if len(frames) > 0 {
		c.Frame, c.Func = 0, frames[0].Func
	}
	if _, cr := findRule(connRules, frames); cr.pool != "" {
		c.Pool = cr.pool // e.g. a persistConn writeLoop waiting in select
	}
	if a, ok := goStateActivity[state]; ok {
		if a == ActSocketRead {
			a = ActUnknown // IO wait on a file or pipe, not a socket we know
		}
		c.Activity = a
		return c
	}
	// Profiles have no state: the top frame tells what the goroutine parks in.
	for _, f := range frames {
		switch {
		case strings.HasPrefix(f.Func, "runtime.chanrecv"), strings.HasPrefix(f.Func, "runtime.chansend"), strings.HasPrefix(f.Func, "runtime.selectgo"), f.Func == "runtime.block":
			c.Activity = ActChanWait
		case strings.HasPrefix(f.Func, "sync.(*Mutex).Lock"), strings.HasPrefix(f.Func, "sync.(*RWMutex)"), strings.HasPrefix(f.Func, "internal/sync.(*Mutex).Lock"):
			c.Activity = ActLockWait
		case strings.HasPrefix(f.Func, "sync.(*Cond).Wait"), strings.HasPrefix(f.Func, "sync.(*WaitGroup).Wait"):
			c.Activity = ActCondWait
		case f.Func == "time.Sleep":
			c.Activity = ActSleep
		case strings.HasPrefix(f.Func, "runtime/pprof."):
			c.Activity = ActRunning // the goroutine writing the profile
		default:
			continue
		}
		return c
	}
	return c
}

// platformPrefixes are the function prefixes of the Go runtime and standard
// library and of the JDK: frames a reader skips to find the program's code.
var platformPrefixes = []string{
	"runtime.", "runtime/", "internal/", "sync.", "sync/", "syscall.", "time.", "net.", "net/", "os.", "io.", "bufio.", "crypto/", "context.",
	"java.", "javax.", "jdk.", "sun.", "com.sun.",
}

// AppFrame is the index of the first frame of the program's own code (or of
// a library it uses): the first frame outside the Go standard library and
// the JDK. It is -1 when every frame is theirs.
func AppFrame(frames []Frame) int {
	for i, f := range frames {
		platform := false
		for _, p := range platformPrefixes {
			if strings.HasPrefix(f.Func, p) {
				platform = true
				break
			}
		}
		if !platform && f.Func != "non-Go function" && !pythonStdlib(f) && !nodeInternal(f) {
			return i
		}
	}
	return -1
}

// pythonStdlibModules are the top-level modules of Python's standard
// library a stack goes through on its way to the network, for frames whose
// file has no directory (py-spy prints some so).
var pythonStdlibModules = map[string]bool{
	"socket": true, "ssl": true, "selectors": true, "select": true, "threading": true, "queue": true, "http": true,
	"socketserver": true, "asyncio": true, "concurrent": true, "urllib": true, "email": true, "json": true,
	"logging": true, "traceback": true, "runpy": true, "importlib": true, "contextlib": true, "functools": true,
	"time": true, "subprocess": true, "multiprocessing": true, "xmlrpc": true, "wsgiref": true, "ftplib": true, "smtplib": true,
}

// pythonStdlib reports whether f is a frame of Python's standard library:
// a file under lib/pythonX.Y outside site-packages, a frozen module, or a
// bare file name of a standard module.
func pythonStdlib(f Frame) bool {
	file := f.File
	switch {
	case !strings.HasSuffix(file, ".py") && !strings.HasPrefix(file, "<frozen"):
		return false
	case strings.HasPrefix(file, "<frozen"):
		return true
	case strings.Contains(file, "-packages/"):
		return false
	case strings.Contains(file, "/lib/python") || strings.Contains(file, "/Lib/") || strings.Contains(file, `\Lib\`):
		return true
	case !strings.ContainsAny(file, `/\`):
		mod, _, _ := strings.Cut(f.Func, ".")
		return pythonStdlibModules[mod]
	}
	return false
}

// nodeCoreFiles are the files of Node.js's own JavaScript as stacks name
// them before Node 16 prefixed them with "node:" (net.js, _http_client.js;
// internal/... has its own prefix).
var nodeCoreFiles = map[string]bool{
	"net.js": true, "events.js": true, "timers.js": true, "stream.js": true, "http.js": true, "https.js": true, "tls.js": true,
	"_http_client.js": true, "_http_agent.js": true, "_http_common.js": true, "_http_incoming.js": true, "_http_outgoing.js": true,
	"_http_server.js": true, "_stream_readable.js": true, "_stream_writable.js": true, "_tls_wrap.js": true, "dns.js": true,
	"fs.js": true, "child_process.js": true, "module.js": true, "domain.js": true, "util.js": true, "buffer.js": true,
}

// nodeInternal reports whether f is a frame of Node.js itself: a file
// node:internal/..., node:net, node:_http_client (Node 16+), internal/...
// or a bare core file (net.js, _http_client.js) before Node 16, or a V8
// builtin without a file ("at new Promise (<anonymous>)", "(native)").
// User code and libraries from node_modules are everything else.
func nodeInternal(f Frame) bool {
	switch {
	case strings.HasPrefix(f.File, "node:") || strings.HasPrefix(f.File, "internal/"):
		return true
	case f.File == "<anonymous>" || f.File == "native" || strings.HasPrefix(f.File, "index "):
		return true
	}
	return nodeCoreFiles[f.File]
}
