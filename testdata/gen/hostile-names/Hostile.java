import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A leaky server whose thread names are hostile to report renderers, for the
 * hostile-names fixture: each accepted connection gets a handler thread named
 * with HTML, Markdown, control characters, a newline or non-ASCII text. The
 * handler reads one line and then waits forever on a monitor without closing
 * the socket, so once the client closes, the socket sits in CLOSE_WAIT with a
 * thread of that name in Object.wait holding it. run.sh starts the JVM through
 * a symlink whose name is hostile too, so that is the process name (comm).
 */
public class Hostile {
    static final String[] NAMES = {
        "<script>alert(\"cw\")</script>",
        "| col | **bold** _em_ [link](http://127.0.0.1/) `code`",
        "esc\u001b[31mred\u001b[0m bell\u0007 tab\there",
        "two\nlines \"Thread.State: RUNNABLE\"",
        "&amp; &lt;b&gt; 'single' \"double\" </td></tr>",
        "Ünïcødé-线程-\uD83D\uDE42",
    };
    static final Object NEVER = new Object();

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        ServerSocket ss = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        for (int i = 0;; i++) {
            Socket s = ss.accept();
            Thread t = new Thread(() -> handle(s), NAMES[i % NAMES.length]);
            t.start();
        }
    }

    static void handle(Socket s) {
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            r.readLine();
            synchronized (NEVER) {
                NEVER.wait(); // never notified; s is never closed
            }
        } catch (Exception e) {
            System.out.println(e);
        }
    }
}
