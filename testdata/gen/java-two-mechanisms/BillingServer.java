import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The leaky service of testdata/cases/java-two-mechanisms: a line-protocol
 * billing server with two bugs at once.
 *
 * <p>INVOICE requests with a malformed amount take the error path, which
 * answers ERR and returns without closing the socket; the connection
 * registry (kept for graceful shutdown) still refers to it, so it is never
 * collected or closed, and no thread refers to it: when the client closes,
 * it stays in CLOSE_WAIT.
 *
 * <p>EXPORT requests write to the export journal under its monitor, which
 * the export-flusher thread holds while it waits for the archive (forever,
 * parked): every EXPORT worker blocks on the monitor with its socket, and
 * the client, given no answer, gives up and closes.
 *
 * <p>PING and well-formed INVOICEs are answered and closed.
 */
public class BillingServer {
    static final Map<Integer, Socket> OPEN = new ConcurrentHashMap<>();
    static final AtomicInteger IDS = new AtomicInteger();
    static final Object EXPORT_JOURNAL = new Object();

    static void log(String msg) {
        System.out.println(Instant.now() + " [" + Thread.currentThread().getName() + "] " + msg);
    }

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        Thread flusher = new Thread(BillingServer::flushExports, "export-flusher");
        flusher.setDaemon(true);
        flusher.start();
        AtomicInteger n = new AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(24, r -> {
            Thread t = new Thread(r, "billing-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try (ServerSocket ss = new ServerSocket(port, 128, InetAddress.getByName("127.0.0.1"))) {
            log("billing server listening on " + ss.getLocalSocketAddress());
            while (true) {
                Socket s = ss.accept();
                int id = IDS.incrementAndGet();
                OPEN.put(id, s);
                workers.submit(() -> handle(id, s));
            }
        }
    }

    /** Holds the export journal while it waits for the archive to answer. */
    static void flushExports() {
        synchronized (EXPORT_JOURNAL) {
            log("flushing exports to the archive");
            while (true) {
                LockSupport.park(EXPORT_JOURNAL); // the archive never answers
            }
        }
    }

    static void handle(int id, Socket s) {
        try {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = s.getOutputStream();
            String line = in.readLine();
            if (line == null) {
                close(id, s);
                return;
            }
            String[] f = line.trim().split(" ");
            switch (f[0]) {
                case "PING":
                    out.write("PONG\n".getBytes(StandardCharsets.UTF_8));
                    break;
                case "INVOICE":
                    long cents = parseAmount(f[2]);
                    out.write(("OK " + f[1] + " " + cents + "\n").getBytes(StandardCharsets.UTF_8));
                    break;
                case "EXPORT":
                    writeExport(f[1], out);
                    break;
                default:
                    out.write("ERR unknown\n".getBytes(StandardCharsets.UTF_8));
            }
            close(id, s);
        } catch (NumberFormatException e) {
            // The bug: the error path answers and returns; close(id, s) is
            // only on the path above.
            log("rejecting invoice on connection " + id + ": " + e);
            try {
                s.getOutputStream().write(("ERR " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException io) {
                log("connection " + id + ": " + io);
            }
        } catch (IOException e) {
            log("connection " + id + ": " + e);
            close(id, s);
        }
    }

    static long parseAmount(String amount) {
        String[] p = amount.split("\\.");
        return Long.parseLong(p[0]) * 100 + (p.length > 1 ? Long.parseLong(p[1]) : 0);
    }

    static void writeExport(String what, OutputStream out) throws IOException {
        synchronized (EXPORT_JOURNAL) {
            out.write(("EXPORTED " + what + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    static void close(int id, Socket s) {
        OPEN.remove(id);
        try {
            s.close();
        } catch (IOException e) {
            log("closing " + id + ": " + e);
        }
    }
}
