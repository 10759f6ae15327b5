package dumps

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSeriesStatus(t *testing.T) {
	for _, c := range []struct {
		counts []int
		want   SeriesStatus
	}{
		{[]int{1, 2, 3}, SeriesGrowing},
		{[]int{2, 2, 3}, SeriesGrowing},
		{[]int{3, 2, 3}, SeriesPersistent},
		{[]int{2, 2}, SeriesPersistent},
		{[]int{0, 0, 1}, SeriesNew},
		{[]int{1, 0}, SeriesGone},
		{[]int{1, 0, 1}, SeriesIntermittent},
		{[]int{0, 1, 0}, SeriesIntermittent},
	} {
		if got := seriesStatus(c.counts); got != c.want {
			t.Errorf("seriesStatus(%v) = %s, want %s", c.counts, got, c.want)
		}
	}
	if CompareSeries([]Snapshot{{Label: "one"}}) != nil {
		t.Error("one snapshot is not a series")
	}
}

func TestClassify(t *testing.T) {
	fr := func(fns ...string) []Frame {
		var fs []Frame
		for _, f := range fns {
			fs = append(fs, Frame{Func: f})
		}
		return fs
	}
	for _, c := range []struct {
		name  string
		th    Thread
		act   Activity
		pool  string
		frame int
	}{
		{"hikari", Thread{State: "TIMED_WAITING", Frames: fr("jdk.internal.misc.Unsafe.park", "java.util.concurrent.locks.LockSupport.parkNanos",
			"java.util.concurrent.SynchronousQueue.poll", "com.zaxxer.hikari.util.ConcurrentBag.borrow", "com.zaxxer.hikari.pool.HikariPool.getConnection"),
			Locks: []Lock{{Op: LockParked, Class: "java.util.concurrent.SynchronousQueue$TransferStack", Frame: 0}}}, ActPoolBorrow, "HikariCP", 3},
		{"httpclient4", Thread{State: "WAITING", Frames: fr("sun.misc.Unsafe.park", "java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject.await",
			"org.apache.http.pool.AbstractConnPool.getPoolEntryBlocking")}, ActPoolBorrow, "Apache HttpClient 4", 2},
		{"httpclient5", Thread{State: "WAITING", Frames: fr("jdk.internal.misc.Unsafe.park", "org.apache.hc.core5.pool.StrictConnPool.lease")}, ActPoolBorrow, "Apache HttpClient 5", 1},
		{"dbcp", Thread{State: "WAITING", Frames: fr("jdk.internal.misc.Unsafe.park", "org.apache.commons.pool2.impl.LinkedBlockingDeque.takeFirst",
			"org.apache.commons.pool2.impl.GenericObjectPool.borrowObject")}, ActPoolBorrow, "DBCP", 2},
		{"c3p0", Thread{State: "TIMED_WAITING", Frames: fr("java.lang.Object.wait", "com.mchange.v2.resourcepool.BasicResourcePool.awaitAvailable")}, ActPoolBorrow, "c3p0", 1},
		{"okhttp", Thread{State: "RUNNABLE", Frames: fr("okhttp3.internal.connection.RealConnectionPool.callAcquirePooledConnection")}, ActPoolBorrow, "OkHttp", 0},
		{"socketRead0", Thread{State: "RUNNABLE", Frames: fr("java.net.SocketInputStream.socketRead0", "java.net.SocketInputStream.socketRead",
			"java.net.SocketInputStream.read", "org.apache.http.impl.io.SessionInputBufferImpl.fillBuffer")}, ActSocketRead, "Apache HttpClient 4", 0},
		{"nio poll", Thread{State: "RUNNABLE", Frames: fr("sun.nio.ch.Net.poll", "sun.nio.ch.NioSocketImpl.park", "sun.nio.ch.NioSocketImpl.timedRead",
			"sun.nio.ch.NioSocketImpl.implRead")}, ActSocketRead, "", 2},
		{"epoll", Thread{State: "RUNNABLE", Frames: fr("sun.nio.ch.EPoll.wait", "sun.nio.ch.EPollSelectorImpl.doSelect")}, ActSelect, "", 0},
		{"monitor", Thread{State: "BLOCKED", Frames: fr("demo.Pool.get", "demo.Main.run"), Locks: []Lock{{Op: LockWaitEnter, Addr: "0x1", Frame: 0}}}, ActLockWait, "", 0},
		{"reentrant", Thread{State: "WAITING", Frames: fr("jdk.internal.misc.Unsafe.park", "java.util.concurrent.locks.ReentrantLock.lock"),
			Locks: []Lock{{Op: LockParked, Class: "java.util.concurrent.locks.ReentrantLock$NonfairSync", Frame: 0}}}, ActLockWait, "", 0},
		{"idle worker", Thread{State: "WAITING", Frames: fr("jdk.internal.misc.Unsafe.park", "java.util.concurrent.LinkedBlockingQueue.take",
			"java.util.concurrent.ThreadPoolExecutor.getTask"),
			Locks: []Lock{{Op: LockParked, Class: "java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject", Frame: 0}}}, ActIdle, "", 0},
		{"object wait", Thread{State: "WAITING", Frames: fr("java.lang.Object.wait"), Locks: []Lock{{Op: LockWaitOn, Addr: "0x1", Frame: 0}}}, ActCondWait, "", 0},
		{"sleep", Thread{State: "TIMED_WAITING", StateDetail: "sleeping", Frames: fr("java.lang.Thread.sleep")}, ActSleep, "", 0},
		{"vm thread", Thread{VM: true, Status: "runnable"}, ActRunning, "", -1},
	} {
		got := classifyThread(&c.th)
		if got.Activity != c.act || got.Pool != c.pool || got.Frame != c.frame {
			t.Errorf("%s: classifyThread = %+v, want %s %q frame %d", c.name, got, c.act, c.pool, c.frame)
		}
	}
	for _, c := range []struct {
		name, state string
		frames      []Frame
		act         Activity
		pool        string
	}{
		{"conn read", "IO wait", fr("internal/poll.runtime_pollWait", "internal/poll.(*pollDesc).wait", "internal/poll.(*FD).Read", "net.(*netFD).Read", "net.(*conn).Read",
			"net/http.(*persistConn).Read", "bufio.(*Reader).fill", "net/http.(*persistConn).readLoop"), ActSocketRead, "net/http persistConn"},
		{"database/sql", "select", fr("database/sql.(*DB).conn", "database/sql.(*DB).query"), ActPoolBorrow, "database/sql"},
		{"getConn", "select", fr("net/http.(*Transport).getConn", "net/http.(*Transport).roundTrip"), ActPoolBorrow, "net/http Transport"},
		{"chan", "chan receive", fr("main.worker"), ActChanWait, ""},
		{"mutex", "sync.Mutex.Lock", fr("sync.runtime_SemacquireMutex", "sync.(*Mutex).lockSlow"), ActLockWait, ""},
		{"pipe", "IO wait", fr("internal/poll.runtime_pollWait", "os.(*File).Read"), ActUnknown, ""},
		{"profile chan", "", fr("runtime.gopark", "runtime.chanrecv", "main.worker"), ActChanWait, ""},
	} {
		got := ClassifyGo(c.state, c.frames)
		if got.Activity != c.act || got.Pool != c.pool {
			t.Errorf("%s: ClassifyGo = %+v, want %s %q", c.name, got, c.act, c.pool)
		}
	}
}

// TestLineSourceJSON checks that test output split across JSON events is
// joined into lines positioned at the event where each line began.
func TestLineSourceJSON(t *testing.T) {
	in := `{"Action":"run","Test":"T"}` + "\n" +
		`{"Action":"output","Output":"goroutine 1 [run"}` + "\n" +
		`{"Action":"output","Output":"ning]:\nmain.main()\n"}` + "\n" +
		"plain line\r\n" +
		`{"Action":"output","Output":"tail"}` + "\n"
	src := newLineSource(strings.NewReader(in))
	var got []textLine
	for {
		l, ok := src.next()
		if !ok {
			break
		}
		got = append(got, l)
	}
	want := []textLine{{"goroutine 1 [running]:", 2}, {"main.main()", 3}, {"plain line", 4}, {"tail", 5}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(textLine{})); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestAppFrame(t *testing.T) {
	for _, c := range []struct {
		fns  []string
		want int
	}{
		{[]string{"internal/poll.runtime_pollWait", "net.(*conn).Read", "main.handle"}, 2},
		{[]string{"sun.nio.ch.SocketDispatcher.read0", "java.net.Socket$SocketInputStream.read", "com.example.Client.call"}, 2},
		{[]string{"com.zaxxer.hikari.util.ConcurrentBag.borrow"}, 0},
		{[]string{"runtime.gopark", "runtime.goexit"}, -1},
		{nil, -1},
	} {
		var fs []Frame
		for _, f := range c.fns {
			fs = append(fs, Frame{Func: f})
		}
		if got := AppFrame(fs); got != c.want {
			t.Errorf("AppFrame(%v) = %d, want %d", c.fns, got, c.want)
		}
	}
}
