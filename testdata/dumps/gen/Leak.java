// Leak is a small JVM that leaks sockets in CLOSE_WAIT the ways real
// services do, so that make.sh can dump it with jstack and jcmd.
//
//   - "closer" is a loopback server that accepts and closes at once: its
//     clients receive a FIN and sit in CLOSE_WAIT until they close.
//   - "holder" takes the pool lock and never gives it back (it sleeps).
//   - "worker-N" (one more every 400 ms) connects to closer, then blocks
//     on the pool monitor before it would close: a growing CLOSE_WAIT leak.
//   - "parked-N" waits on a ReentrantLock held by "holder".
//   - "reader-N" reads from "silent", a server that never writes nor closes.
//   - "dead-A" and "dead-B" deadlock on two monitors.
//   - "jucdead-A" and "jucdead-B" deadlock on two ReentrantLocks (their
//     owners show only in jstack -l / jcmd Thread.print -l).
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

public class Leak {
    static final Object pool = new Object();
    static final ReentrantLock poolLock = new ReentrantLock();
    static final Object left = new Object(), right = new Object();
    static final ReentrantLock lockA = new ReentrantLock(), lockB = new ReentrantLock();
    static final List<Socket> kept = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        ServerSocket closer = new ServerSocket(0, 50, lo);
        ServerSocket silent = new ServerSocket(0, 50, lo);
        start("closer", () -> { while (true) closer.accept().close(); });
        start("silent", () -> { while (true) synchronized (kept) { kept.add(silent.accept()); } });
        start("holder", () -> {
            poolLock.lock();
            synchronized (pool) { Thread.sleep(Long.MAX_VALUE); }
        });
        Thread.sleep(200);
        for (int i = 1; i <= 2; i++) {
            start("parked-" + i, () -> { poolLock.lock(); poolLock.unlock(); });
            start("reader-" + i, () -> {
                Socket s = new Socket(lo, silent.getLocalPort());
                InputStream in = s.getInputStream();
                in.read();
            });
        }
        start("dead-A", () -> { synchronized (left) { Thread.sleep(100); synchronized (right) { } } });
        start("dead-B", () -> { synchronized (right) { Thread.sleep(100); synchronized (left) { } } });
        start("jucdead-A", () -> { lockA.lock(); Thread.sleep(100); lockB.lock(); });
        start("jucdead-B", () -> { lockB.lock(); Thread.sleep(100); lockA.lock(); });
        System.out.println("ready " + ProcessHandle.current().pid());
        for (int i = 1; ; i++) {
            final int port = closer.getLocalPort();
            start("worker-" + i, () -> {
                Socket s = new Socket(lo, port); // the server's FIN arrives: CLOSE_WAIT
                synchronized (pool) { s.close(); }
            });
            Thread.sleep(400);
        }
    }

    interface Body { void run() throws Exception; }

    static void start(String name, Body b) {
        Thread t = new Thread(() -> {
            try { b.run(); } catch (Exception e) { throw new RuntimeException(e); }
        }, name);
        t.setDaemon(true);
        t.start();
    }
}
