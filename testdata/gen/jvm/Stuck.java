import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

import org.apache.commons.pool2.BasePooledObjectFactory;
import org.apache.commons.pool2.PooledObject;
import org.apache.commons.pool2.impl.DefaultPooledObject;
import org.apache.commons.pool2.impl.GenericObjectPool;

/**
 * A JVM whose threads are stuck in every way that keeps sockets open, for the
 * testdata/real/jvm thread dumps (see testdata/gen/jvm/run.sh):
 *
 * - socket-reader-1..3 read without a timeout from a local server that never
 *   writes (blocked in the socket read, ESTABLISHED);
 * - report-uploader holds 3 sockets whose peer has closed them (CLOSE_WAIT)
 *   and is BLOCKED waiting for a monitor that cache-refresher holds forever;
 * - deadlock-A/deadlock-B deadlock on two monitors, lock-deadlock-1/2 on two
 *   ReentrantLocks, so the JVM reports Java-level deadlocks;
 * - pool-borrower-1..2 park in commons-pool2 GenericObjectPool.borrowObject
 *   on a pool of 2 sockets that pool-leaker took and never returned;
 * - config-waiter waits in Object.wait, the blackhole acceptor in accept;
 * - on a JDK with virtual threads, 2 virtual threads read from the blackhole
 *   and one sleeps (visible in jcmd Thread.dump_to_file).
 *
 * A heartbeat thread logs a line every second, so a SIGQUIT dump on stdout
 * lands in the middle of an application log.
 */
public class Stuck {
    static final Object CACHE_LOCK = new Object();
    static final Object LEFT = new Object();
    static final Object RIGHT = new Object();
    static final ReentrantLock ACCOUNTS = new ReentrantLock();
    static final ReentrantLock LEDGER = new ReentrantLock();
    static final Object CONFIG = new Object();
    static final List<Socket> KEEP = new ArrayList<>();

    static void start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.start();
    }

    static void log(String msg) {
        System.out.println(LocalTime.now() + " INFO [" + Thread.currentThread().getName() + "] " + msg);
    }

    static void sleepForever() {
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    static final class SocketFactory extends BasePooledObjectFactory<Socket> {
        final int port;

        SocketFactory(int port) {
            this.port = port;
        }

        @Override
        public Socket create() throws Exception {
            return new Socket(InetAddress.getLoopbackAddress(), port);
        }

        @Override
        public PooledObject<Socket> wrap(Socket s) {
            return new DefaultPooledObject<>(s);
        }
    }

    static int readForever(Socket s) throws Exception {
        InputStream in = s.getInputStream();
        return in.read(); // no SO_TIMEOUT: blocks until the peer writes or closes
    }

    public static void main(String[] args) throws Exception {
        int blackholePort = Integer.parseInt(args[0]);
        int closingPort = Integer.parseInt(args[1]);
        InetAddress lo = InetAddress.getLoopbackAddress();

        ServerSocket blackhole = new ServerSocket(blackholePort, 50, lo);
        start("blackhole-acceptor", () -> {
            try {
                while (true) {
                    Socket s = blackhole.accept();
                    synchronized (KEEP) {
                        KEEP.add(s); // accepted, never written to
                    }
                }
            } catch (Exception e) {
                log("acceptor: " + e);
            }
        });
        ServerSocket closing = new ServerSocket(closingPort, 50, lo);
        start("closing-acceptor", () -> {
            try {
                while (true) {
                    closing.accept().close(); // the peer that hangs up at once
                }
            } catch (Exception e) {
                log("closing acceptor: " + e);
            }
        });

        start("heartbeat", () -> {
            for (int i = 0;; i++) {
                log("heartbeat " + i);
                pause(1000);
            }
        });

        for (int i = 1; i <= 3; i++) {
            start("socket-reader-" + i, () -> {
                try {
                    Socket s = new Socket(lo, blackholePort);
                    log("connected " + s.getLocalPort() + " -> " + blackholePort);
                    readForever(s);
                } catch (Exception e) {
                    log("reader: " + e);
                }
            });
        }

        start("cache-refresher", () -> {
            synchronized (CACHE_LOCK) {
                log("refreshing cache, holding the cache lock");
                sleepForever();
            }
        });
        pause(200);
        start("report-uploader", () -> {
            try {
                List<Socket> conns = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    conns.add(new Socket(lo, closingPort));
                }
                log("opened " + conns.size() + " upload connections");
                synchronized (CACHE_LOCK) { // blocks forever, sockets never closed
                    for (Socket s : conns) {
                        s.close();
                    }
                }
            } catch (Exception e) {
                log("uploader: " + e);
            }
        });

        start("deadlock-A", () -> {
            synchronized (LEFT) {
                pause(300);
                synchronized (RIGHT) {
                    log("never");
                }
            }
        });
        start("deadlock-B", () -> {
            synchronized (RIGHT) {
                pause(300);
                synchronized (LEFT) {
                    log("never");
                }
            }
        });
        start("lock-deadlock-1", () -> {
            ACCOUNTS.lock();
            pause(300);
            LEDGER.lock();
        });
        start("lock-deadlock-2", () -> {
            LEDGER.lock();
            pause(300);
            ACCOUNTS.lock();
        });

        GenericObjectPool<Socket> pool = new GenericObjectPool<>(new SocketFactory(blackholePort));
        pool.setMaxTotal(2);
        start("pool-leaker", () -> {
            try {
                Socket a = pool.borrowObject();
                Socket b = pool.borrowObject();
                log("borrowed " + a.getLocalPort() + " and " + b.getLocalPort() + ", never returned");
            } catch (Exception e) {
                log("leaker: " + e);
            }
        });
        pause(300);
        for (int i = 1; i <= 2; i++) {
            start("pool-borrower-" + i, () -> {
                try {
                    Socket s = pool.borrowObject(); // maxWait -1: waits forever
                    pool.returnObject(s);
                } catch (Exception e) {
                    log("borrower: " + e);
                }
            });
        }

        start("config-waiter", () -> {
            synchronized (CONFIG) {
                try {
                    CONFIG.wait();
                } catch (InterruptedException e) {
                    return;
                }
            }
        });

        try {
            Method vt = Thread.class.getMethod("startVirtualThread", Runnable.class);
            for (int i = 0; i < 2; i++) {
                vt.invoke(null, (Runnable) () -> {
                    try {
                        readForever(new Socket(lo, blackholePort));
                    } catch (Exception e) {
                        log("virtual reader: " + e);
                    }
                });
            }
            vt.invoke(null, (Runnable) Stuck::sleepForever);
            log("started 3 virtual threads");
        } catch (NoSuchMethodException e) {
            log("no virtual threads on this JDK");
        }
        log("all stuck");
        sleepForever();
    }
}
