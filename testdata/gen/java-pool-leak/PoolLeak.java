import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;

/**
 * A client with a connection-pool leak, for the java-pool-leak fixture.
 *
 * InventoryClient.fetchStock executes a request through Apache HttpClient 4's
 * PoolingHttpClientConnectionManager (at most 4 connections) and returns the
 * status code without consuming or closing the response, so the pooled
 * connection is never released. The server closes idle keep-alive connections
 * after 2 s, which leaves the 4 leased sockets in CLOSE_WAIT, and every later
 * request parks forever in AbstractConnPool.getPoolEntryBlocking (no
 * connection-request timeout is configured).
 */
public class PoolLeak {
    static final class InventoryClient {
        private final CloseableHttpClient http;
        private final String base;

        InventoryClient(CloseableHttpClient http, String base) {
            this.http = http;
            this.base = base;
        }

        int fetchStock(String sku) throws IOException {
            CloseableHttpResponse resp = http.execute(new HttpGet(base + "/stock/" + sku));
            int code = resp.getStatusLine().getStatusCode();
            // BUG: neither EntityUtils.consume(resp.getEntity()) nor resp.close():
            // the connection stays leased from the pool forever.
            return code;
        }
    }

    public static void main(String[] args) throws Exception {
        String base = args.length > 0 ? args[0] : "http://127.0.0.1:18082";
        PoolingHttpClientConnectionManager cm = new PoolingHttpClientConnectionManager();
        cm.setMaxTotal(4);
        cm.setDefaultMaxPerRoute(4);
        CloseableHttpClient http = HttpClients.custom().setConnectionManager(cm).build();
        InventoryClient inv = new InventoryClient(http, base);

        AtomicInteger n = new AtomicInteger();
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "inventory-worker-" + n.incrementAndGet());
            t.setDaemon(false);
            return t;
        };
        ExecutorService workers = Executors.newFixedThreadPool(6, tf);

        Thread stats = new Thread(() -> {
            while (true) {
                System.out.println("pool " + cm.getTotalStats());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "pool-stats");
        stats.setDaemon(true);
        stats.start();

        for (int i = 0; i < 4; i++) {
            String sku = "sku-" + i;
            workers.submit(() -> {
                int code = inv.fetchStock(sku);
                System.out.println(Thread.currentThread().getName() + " " + sku + " -> " + code);
                return code;
            });
        }
        // Later requests, after the server has closed the idle connections.
        Thread.sleep(3000);
        for (int i = 4; i < 12; i++) {
            String sku = "sku-" + i;
            workers.submit(() -> {
                System.out.println(Thread.currentThread().getName() + " borrowing for " + sku);
                int code = inv.fetchStock(sku);
                System.out.println(Thread.currentThread().getName() + " " + sku + " -> " + code);
                return code;
            });
        }
        workers.shutdown();
        workers.awaitTermination(1, TimeUnit.DAYS);
    }
}
