import java.io.IOException;
import java.time.Instant;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.client.IdleConnectionEvictor;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;
import org.apache.http.util.EntityUtils;

/**
 * The client of testdata/cases/pool-idle-evict: fetches 8 exchange rates at
 * once through an Apache HttpClient 4.5 connection pool, consumes every
 * response (so each connection goes back to the pool, kept alive), and
 * then has nothing to do. The rate service closes idle keep-alive
 * connections after 2 s, leaving the 8 pooled connections in CLOSE_WAIT;
 * HttpClient's IdleConnectionEvictor, waking every 15 s, closes them. Not a
 * leak: CLOSE_WAIT for about 10 s, then gone.
 */
public class RateSync {
    static void log(String msg) {
        System.out.println(Instant.now() + " [" + Thread.currentThread().getName() + "] " + msg);
    }

    public static void main(String[] args) throws Exception {
        String base = args[0];
        int n = Integer.parseInt(args[1]);
        PoolingHttpClientConnectionManager cm = new PoolingHttpClientConnectionManager();
        cm.setMaxTotal(10);
        cm.setDefaultMaxPerRoute(10);
        IdleConnectionEvictor evictor = new IdleConnectionEvictor(cm, 15, TimeUnit.SECONDS, 1, TimeUnit.SECONDS);
        CloseableHttpClient client = HttpClients.custom().setConnectionManager(cm).build();
        evictor.start();
        log("evictor started: every 15 s, closes connections idle for more than 1 s");

        Thread stats = new Thread(() -> {
            while (true) {
                log("pool " + cm.getTotalStats());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "pool-stats");
        stats.setDaemon(true);
        stats.start();

        AtomicInteger ids = new AtomicInteger();
        CyclicBarrier together = new CyclicBarrier(n); // one sync asks for every rate at once
        ExecutorService fetchers = Executors.newFixedThreadPool(n, r -> new Thread(r, "rate-fetcher-" + ids.incrementAndGet()));
        for (int i = 0; i < n; i++) {
            String currency = "CUR" + i;
            fetchers.submit(() -> {
                together.await();
                try (CloseableHttpResponse resp = client.execute(new HttpGet(base + "/rates/" + currency))) {
                    EntityUtils.consume(resp.getEntity());
                    log(currency + ": " + resp.getStatusLine().getStatusCode());
                } catch (IOException e) {
                    log(currency + ": " + e);
                }
                return null;
            });
        }
        fetchers.shutdown();
        fetchers.awaitTermination(10, TimeUnit.SECONDS);
        log("all rates fetched; idle until the next sync");
        Thread.sleep(Long.MAX_VALUE);
    }
}
