import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.LocalTime;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Runs the Stuck scenario in this JVM and logs its threads the way many
 * applications and watchdogs do: ThreadMXBean.dumpAllThreads(true, true) with
 * each ThreadInfo's toString() (the JMX form: `"name" Id=12 WAITING on ...`,
 * at most 8 frames then `...`), between ordinary log lines, twice, 2 s apart.
 * An idle fixed thread pool adds workers parked in ThreadPoolExecutor.getTask.
 * See testdata/gen/jvm/run-threadinfo.sh.
 */
public class ThreadInfoLog {
    static void log(String msg) {
        System.out.println(LocalTime.now() + " INFO [" + Thread.currentThread().getName() + "] " + msg);
    }

    public static void main(String[] args) throws Exception {
        Thread stuck = new Thread(() -> {
            try {
                Stuck.main(args);
            } catch (Exception e) {
                log("stuck: " + e);
            }
        }, "stuck-main");
        stuck.setDaemon(true);
        stuck.start();
        ExecutorService workers = Executors.newFixedThreadPool(2);
        for (int i = 0; i < 2; i++) {
            workers.submit(() -> log("job done"));
        }
        Thread.sleep(Long.parseLong(args[2]));
        for (int i = 1; i <= 2; i++) {
            log("watchdog: requests stalled, dumping threads (" + i + "/2)");
            StringBuilder sb = new StringBuilder();
            for (ThreadInfo ti : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
                sb.append(ti.toString());
            }
            System.out.print(sb);
            log("watchdog: dump done");
            Thread.sleep(2000);
        }
        System.out.flush();
        System.exit(0);
    }
}
