package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/applog"
	"github.com/cwforensics/cwforensics/dumps/python"
)

func TestProgramOf(t *testing.T) {
	for _, tt := range []struct {
		cmd  string
		want program
	}{
		{"python3 quote_client.py --port 18151", program{progScript, "quote_client.py"}},
		{"/usr/bin/python3.11 -u -X dev /srv/app/main.py", program{progScript, "/srv/app/main.py"}},
		{"python3 -m http.server 8000", program{progModule, "http.server"}},
		{"python3 -W ignore -m worker.run", program{progModule, "worker.run"}},
		{"python3 -c import time", program{}},
		{"python3", program{}},
		{"node --max-old-space-size=512 -r dotenv/config server.js", program{progScript, "server.js"}},
		{"/usr/local/bin/node ./bin/www", program{progScript, "./bin/www"}},
		{"node -e console.log(1)", program{}},
		{"java -Xmx1g -jar /opt/quote-client-1.4.2.jar --port 8080", program{progJar, "/opt/quote-client-1.4.2.jar"}},
		{"java -cp lib/*:app.jar com.example.ledger.Main", program{progClass, "com.example.ledger.Main"}},
		{"java -p mods -m ledger/com.example.ledger.Main", program{progClass, "com.example.ledger.Main"}},
		{"./server/repository -listen :8080", program{}},
	} {
		if got := programOf(tt.cmd); got != tt.want {
			t.Errorf("programOf(%q) = %+v, want %+v", tt.cmd, got, tt.want)
		}
	}
}

// interpProcs is an ss listing of two processes of one interpreter (the
// same command name, the same count of stuck sockets, to one peer) and a
// ps listing of their command lines, a and b: nothing but the program
// each runs tells them apart.
func interpProcs(t *testing.T, comm, a, b string) []*dumps.Evidence {
	t.Helper()
	ss := "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	for i := range 2 {
		ss += fmt.Sprintf("CLOSE-WAIT 1 0 10.0.0.5:%d 10.0.0.9:8080 users:((%q,pid=101,fd=%d))\n", 40000+i, comm, 10+i)
		ss += fmt.Sprintf("CLOSE-WAIT 1 0 10.0.0.5:%d 10.0.0.9:8080 users:((%q,pid=202,fd=%d))\n", 41000+i, comm, 10+i)
	}
	ps := "    PID    PPID COMMAND\n    101       1 " + a + "\n    202       1 " + b + "\n"
	return []*dumps.Evidence{readEv(t, "ss.txt", ss), readEv(t, "ps.txt", ps)}
}

// TestLinkByProgram: two processes of one interpreter, told apart only
// by the script, module, jar or main class their command lines run,
// which the dump's frames run too; a dump whose frames run the program
// of both stays ambiguous, with both candidates and their scores.
func TestLinkByProgram(t *testing.T) {
	faulthandler := "Current thread 0x00007ff58a65d040 (most recent call first):\n" +
		"  File \"/srv/quotes/client.py\", line 98 in main\n" +
		"  File \"/srv/quotes/client.py\", line 102 in <module>\n"
	pyThread := "Thread 0x00007ff58a65d040 (most recent call first):\n" +
		"  File \"/srv/quotes/pool.py\", line 12 in borrow\n" +
		"  File \"/usr/lib/python3.11/threading.py\", line 975 in run\n"
	flaskThread := "Thread 0x00007ff58a65d040 (most recent call first):\n" +
		"  File \"/usr/lib/python3/dist-packages/flask/app.py\", line 1498 in wsgi_app\n" +
		"  File \"/usr/lib/python3.11/threading.py\", line 975 in run\n"
	faulthandlerPool := faulthandler + "\nThread 0x00007ff58a65e040 (most recent call first):\n" +
		"  File \"/srv/quotes/pool.py\", line 12 in borrow\n"
	jsLog := "2026-12-03T07:41:30.000Z WARN fetch failed\n" +
		"Error: socket hang up\n" +
		"    at poll (/srv/feeds/poller.js:17:18)\n" +
		"    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
	jstack := "2026-12-03 07:41:30\nFull thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode, sharing):\n\n" +
		"\"main\" #1 prio=5 os_prio=0 cpu=1.00ms elapsed=60.00s tid=0x00007f0000001000 nid=0x10 waiting on condition\n" +
		"   java.lang.Thread.State: TIMED_WAITING (sleeping)\n" +
		"\tat java.lang.Thread.sleep(java.base@17.0.15/Native Method)\n" +
		"\tat com.example.quoteclient.Poller.run(Poller.java:40)\n" +
		"\tat com.example.quoteclient.Main.main(Main.java:12)\n\n"
	for _, tt := range []struct {
		name  string
		comm  string
		a, b  string // command lines of pids 101 and 202
		dump  string
		file  string
		pid   int     // the link; 0: unlinked
		score float64 // the winner's score, or both candidates' when unlinked
		why   string  // in the winner's (or each candidate's) why
	}{
		{"python faulthandler, main module", "python3", "python3 /srv/quotes/client.py --port 8080", "python3 /srv/quotes/server.py", faulthandler, "stderr.txt", 101, 0.5,
			"the dump's main module is /srv/quotes/client.py, which pid 101's command line runs (ps.txt:2)"},
		{"python, relative script", "python3", "/usr/bin/python3 server.py", "/usr/bin/python3 client.py --port 8080", faulthandler, "stderr.txt", 202, 0.5,
			"which pid 202's command line runs (ps.txt:3)"},
		{"python thread beside the script", "python3", "python3 /srv/other/server.py", "python3 /srv/quotes/client.py", pyThread, "stderr.txt", 0, 0.2,
			"in the directory of /srv/quotes/client.py"},
		{"python -m module", "python3", "python3 -m quotes.client", "python3 -m quotes.server", faulthandler, "stderr.txt", 101, 0.5,
			"of the module quotes.client that pid 101's command line runs (ps.txt:2)"},
		{"node js stacks", "node", "node --enable-source-maps /srv/api/server.js", "node /srv/feeds/poller", jsLog, "app.log", 202, 0.4,
			"the frames run /srv/feeds/poller.js, which pid 202's command line runs (ps.txt:3)"},
		{"jvm -jar", "java", "java -Xmx1g -jar /opt/ledger-sync-2.0.jar", "java -jar /opt/quote-client-1.4.2.jar", jstack, "jstack.txt", 202, 0.5,
			"the dump's main module is com.example.quoteclient.Main.main, of the jar /opt/quote-client-1.4.2.jar that pid 202's command line runs (ps.txt:3)"},
		{"jvm main class", "java", "java -cp app.jar com.example.quoteclient.Main", "java -cp app.jar com.example.ledger.Main", jstack, "jstack.txt", 101, 0.5,
			"of the main class com.example.quoteclient.Main that pid 101's command line runs (ps.txt:2)"},
		{"a library's file of the same name", "python3", "python3 app.py", "python3 /srv/web/server.py", flaskThread, "stderr.txt", 0, 0.0,
			""},
		{"another program's main module", "python3", "python3 /srv/quotes/pool.py", "python3 /srv/other/server.py", faulthandlerPool, "stderr.txt", 0, 0.0,
			""},
		{"the same script twice", "python3", "python3 /srv/quotes/client.py", "python3 /srv/quotes/client.py", faulthandler, "stderr.txt", 0, 0.5,
			"the dump's main module is /srv/quotes/client.py"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			read := map[string]func(io.Reader, string) (*dumps.Evidence, error){"stderr.txt": python.Read, "app.log": applog.Read, "jstack.txt": readDumps}[tt.file]
			dump, err := read(strings.NewReader(tt.dump), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			evs := append(interpProcs(t, tt.comm, tt.a, tt.b), dump)
			m, err := Build(BuildInput{Evidence: evs})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.DumpLinks) != 1 {
				t.Fatalf("dump links %+v, want one", m.DumpLinks)
			}
			d := m.DumpLinks[0]
			if d.PID != tt.pid {
				t.Fatalf("linked to pid %d (%+v), want %d", d.PID, d, tt.pid)
			}
			if tt.pid != 0 {
				if d.Method != "content" || d.Score != tt.score || !slices.ContainsFunc(d.Why, func(w string) bool { return strings.Contains(w, tt.why) }) {
					t.Errorf("link %+v: want content at %.2f saying %q", d, tt.score, tt.why)
				}
				if o := d.Candidates[1]; o.Score != 0 {
					t.Errorf("the other candidate %+v scores, want 0", o)
				}
				return
			}
			if d.Method != "unlinked" || len(d.Candidates) != 2 {
				t.Fatalf("link %+v: want unlinked with 2 candidates", d)
			}
			// Each candidate at tt.score saying tt.why; when tt.score is
			// 0, neither scores anything.
			want := 1
			if tt.score == 0 || tt.name == "the same script twice" {
				want = 2
			}
			scored := 0
			for _, c := range d.Candidates {
				says := len(c.Why) == 0
				if tt.why != "" {
					says = slices.ContainsFunc(c.Why, func(w string) bool { return strings.Contains(w, tt.why) })
				}
				if c.Score == tt.score && says {
					scored++
				}
			}
			if scored != want {
				t.Errorf("candidates %+v: want %d at %.2f saying %q", d.Candidates, want, tt.score, tt.why)
			}
			if !slices.ContainsFunc(m.Warnings, func(w Warning) bool {
				return w.Pos == FilePos(tt.file) && !slices.ContainsFunc(d.Candidates, func(c Candidate) bool {
					return !strings.Contains(w.Msg, fmt.Sprintf("%s (pid %d) %.2f", tt.comm, c.PID, c.Score))
				})
			}) {
				t.Errorf("warnings %+v: want one listing the candidates with their scores", m.Warnings)
			}
		})
	}
}
