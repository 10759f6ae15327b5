#!/usr/bin/env bash
# Makes testdata/real/gotest/gotest-timeout.txt and gotest-timeout.json: the
# output of `go test -v` and `go test -json` on leak_test.go, whose test
# blocks in a socket read without a deadline until -timeout 3s makes the
# test binary panic and print every goroutine (on 127.0.0.1 only). The
# goroutine dump sits inside test output, and inside JSON test events.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

OUT=$REPO/testdata/real/gotest
rm -rf "$OUT" && mkdir -p "$OUT"
cd "$REPO"
"$GO" test -count=1 -v -timeout 3s ./testdata/gen/gotest >"$OUT/gotest-timeout.txt" 2>&1 || true
"$GO" test -count=1 -json -timeout 3s ./testdata/gen/gotest >"$OUT/gotest-timeout.json" 2>&1 || true
grep -q 'panic: test timed out' "$OUT/gotest-timeout.txt"
{
	echo "go test -count=1 -v -timeout 3s ./testdata/gen/gotest > gotest-timeout.txt"
	echo "go test -count=1 -json -timeout 3s ./testdata/gen/gotest > gotest-timeout.json"
} >"$OUT/COMMANDS.txt"
versions "$OUT/VERSIONS.txt"
log "done"
