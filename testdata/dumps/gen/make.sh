#!/bin/sh
# make.sh regenerates the dump fixtures in testdata/dumps/ from Leak.java and
# leak.go, run on this machine over loopback only. Run it from anywhere:
#   sh testdata/dumps/gen/make.sh
# It needs a JDK (java, jstack, jcmd), Go and curl. The dumps hold the time
# and pids of the run, so rerunning changes the fixtures: update the goldens
# (go test ./dumps/jvm ./dumps/golang -update) and review the diff.
set -eu
cd "$(dirname "$0")"
out=..
tmp=$(mktemp -d)
trap 'kill $jpid $gpid 2>/dev/null || true; rm -rf "$tmp"' EXIT
jpid= gpid=

waitready() { # file
	i=0
	until grep -q '^ready' "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 300 ] || { echo "no ready line in $1" >&2; exit 1; }
		sleep 0.1
	done
}

# JVM: jstack, jstack -l, jcmd Thread.print, and a series of three jstack
# dumps two seconds apart inside an application log.
java Leak.java >"$tmp/java.out" 2>&1 &
jpid=$!
waitready "$tmp/java.out"
sleep 2
jstack "$jpid" >"$out/jstack-jdk17.txt"
jstack -l "$jpid" >"$out/jstack-l-jdk17.txt"
jcmd "$jpid" Thread.print -l >"$out/jcmd-thread-print-jdk17.txt"
{
	echo "INFO  [main] app: started, pool size 10"
	for i in 1 2 3; do
		echo "WARN  [monitor] app: pool exhausted, taking thread dump $i"
		jstack "$jpid"
		sleep 2
	done
	echo "INFO  [main] app: shutting down"
} >"$out/jstack-series-in-log.txt"
kill "$jpid"

# Go: the three pprof forms, a series of debug=2 dumps, and the SIGQUIT
# traceback (GOTRACEBACK=system: Go 1.22+ gp=/m= headers) in the program log.
go build -trimpath -o "$tmp/leakgo" leak.go
addr=127.0.0.1:16061
GOTRACEBACK=system "$tmp/leakgo" "$addr" >"$tmp/go.log" 2>&1 &
gpid=$!
waitready "$tmp/go.log"
sleep 2
url="http://$addr/debug/pprof/goroutine"
for i in 1 2 3; do
	echo "level=WARN msg=\"goroutine dump $i\""
	curl -fsS "$url?debug=2"
	sleep 2
done >"$out/go-debug2-series.txt"
# The program stops leaking 12 s after it starts: the three forms taken
# after that must agree on the goroutine total.
sleep 8
curl -fsS "$url?debug=0" >"$out/go-goroutine-debug0.pb.gz"
curl -fsS "$url?debug=1" >"$out/go-goroutine-debug1.txt"
curl -fsS "$url?debug=2" >"$out/go-goroutine-debug2.txt"
kill -QUIT "$gpid" || { tail "$tmp/go.log" >&2; exit 1; }
wait "$gpid" || true
cp "$tmp/go.log" "$out/go-sigquit.log"
