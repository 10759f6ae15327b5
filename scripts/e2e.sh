#!/usr/bin/env bash
# e2e: render an HTML report, open it in headless Chromium (Debian's), take a
# screenshot a person can look at, and check from the rendered DOM that the
# page shows its verdict and references nothing outside itself.
#
#   scripts/e2e.sh                    # analyze testdata/cases/java-pool-leak
#   scripts/e2e.sh path/to/report.html
#   E2E_CASE=go-server-noclose scripts/e2e.sh
#
# Then it renders synthetic incidents of every size (report/internal/sample
# Stuck: 1, 50 and 45,000 stuck sockets, in one process and in several),
# screenshots each to out/e2e/shape-N-P.png and checks that the page stays
# under 8 MiB, lists at most 200 sockets and says how many it leaves out.
# Then the service (cwforensics serve) in Chromium driven from Go with
# chromedp: TestServeInChromium in cmd/cwforensics (build tag e2e).
#
# Output: out/e2e/report.html, report.png, report.dom.html, hostile.dom.html,
# shape-*.html, shape-*.png, chromium.log; serve-upload.png,
# serve-analysis.png, serve-report.png, serve-list.png.
set -euo pipefail
cd "$(dirname "$0")/.."

out=out/e2e
mkdir -p "$out"
html=$out/report.html
tags=(-tags "${E2E_TAGS:-}")
if [ $# -gt 0 ]; then
  cp "$1" "$html"
else
  go run "${tags[@]}" ./cmd/cwforensics analyze -o "$html" "testdata/cases/${E2E_CASE:-java-pool-leak}"
fi

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "e2e: installing chromium (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  chromium=$(command -v chromium)
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# Every host resolves to nothing, so any fetch the page attempted would fail
# and show in the log; the DOM check below also refuses any external reference.
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --disable-default-apps --disable-extensions --hide-scrollbars --disable-dev-shm-usage
  --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$profile")
url="file://$PWD/$html"
: >"$out/chromium.log"

# browse runs chromium with a time limit, once more if it hangs (headless
# Chromium without a GPU or D-Bus now and then never exits).
browse() {
  local try
  for try in 1 2; do
    if timeout -k 5 90 "$chromium" "${flags[@]}" "$@" 2>>"$out/chromium.log"; then
      return 0
    fi
    echo "e2e: chromium attempt $try failed or timed out" >&2
  done
  return 1
}

browse --window-size=${E2E_WINDOW:-1280,2400} --screenshot="$PWD/$out/report.png" "$url" >/dev/null
browse --virtual-time-budget=2000 --dump-dom "$url" >"$out/report.dom.html"

fail() { echo "e2e: FAIL: $*" >&2; exit 1; }
[ -s "$out/report.png" ] || fail "no screenshot"
head -c 8 "$out/report.png" | od -An -c | grep -q 'P   N   G' || fail "screenshot is not a PNG"
grep -q 'id="verdict"' "$out/report.dom.html" || fail "rendered DOM has no verdict"
grep -q '<h1>' "$out/report.dom.html" || fail "rendered DOM has no title"
grep -q '<figure' "$out/report.dom.html" || fail "rendered DOM has no chart section"
# The page's one script is its own (id cwf-script, no "<" inside): it pages
# the socket table. Anything else that could run or fetch fails.
own='<script id="cwf-script">[^<]*</script>'
strip_own() { perl -0pe "s{$own}{}" "$1"; }
if strip_own "$out/report.dom.html" | grep -Eio '<script|(src|href|action|formaction|poster|data|xlink:href)="?(https?:|//|ftp:|file:|data:|javascript:)|url\(|@import' \
    | head -5 | grep .; then
  fail "rendered DOM references something outside the page"
fi
if grep -Eio 'https?://[^" <]+' "$out/report.dom.html" | head -5 | grep .; then
  fail "rendered DOM contains a URL"
fi
if grep -Ei 'ERR_NAME_NOT_RESOLVED|net::ERR_' "$out/chromium.log"; then
  fail "chromium tried the network"
fi
# Hostile evidence (HTML, Markdown, control characters in every string)
# must come out of the browser as text: no element or attribute it injected.
# First a model with hostile text in every field, then the real case whose
# JVM threads and process were given such names.
go run ./report/internal/e2ehtml -case hostile -o "$out/hostile.html"
go run "${tags[@]}" ./cmd/cwforensics analyze -o "$out/hostile-case.html" testdata/cases/hostile-names
for page in hostile hostile-case; do
  browse --virtual-time-budget=2000 --dump-dom "file://$PWD/$out/$page.html" >"$out/$page.dom.html"
  if strip_own "$out/$page.dom.html" | grep -Eio '<(script|img|iframe|textarea)[ >]|<b>api|<[^>]*\son[a-z]+=|href="javascript' | head -5 | grep .; then
    fail "hostile evidence injected markup into $page.html"
  fi
done
grep -q 'alert(1)' "$out/hostile.dom.html" || fail "hostile page lost its text"
grep -q 'alert(&quot;cw&quot;)\|alert("cw")' "$out/hostile-case.dom.html" || fail "hostile case lost its thread name"

# Report shapes: every size reads the same way and stays bounded.
for shape in 1:1 50:1 50:3 45000:1 45000:4; do
  n=${shape%:*} procs=${shape#*:} page=shape-$n-$procs
  go run ./report/internal/e2ehtml -case stuck -sockets "$n" -procs "$procs" -o "$out/$page.html"
  size=$(wc -c <"$out/$page.html")
  [ "$size" -lt $((8 << 20)) ] || fail "$page.html is $size bytes"
  browse --window-size=${E2E_WINDOW:-1280,2400} --screenshot="$PWD/$out/$page.png" "file://$PWD/$out/$page.html" >/dev/null
  [ -s "$out/$page.png" ] || fail "no screenshot of $page"
  browse --virtual-time-budget=2000 --dump-dom "file://$PWD/$out/$page.html" >"$out/$page.dom.html"
  rows=$(grep -o '<tr id="sock-[0-9]*"' "$out/$page.dom.html" | wc -l)
  [ "$rows" -le 200 ] || fail "$page lists $rows sockets"
  # The script ran: the filter shows, and pages of 50 rows hide the rest.
  grep -q 'id="sock-ctl"[^>]*hidden' "$out/$page.dom.html" && fail "$page: the table script did not run"
  grep -q 'class="pageinfo">rows 1' "$out/$page.dom.html" || fail "$page: no page information"
  if [ "$n" -gt 200 ]; then
    grep -q 'more sockets not shown' "$out/$page.dom.html" || fail "$page does not say what it leaves out"
  fi
  echo "e2e: $page: $size bytes, $rows rows listed, $out/$page.png"
done

# The service: upload a case through its form in Chromium driven by
# chromedp, watch the progress page become the report, find it in the
# list, delete it; no CSP violation or script error on any page.
E2E_CHROMIUM="$chromium" go test -tags "e2e ${E2E_TAGS:-}" -count=1 -run TestServeInChromium ./cmd/cwforensics

echo "e2e: ok: $out/report.png ($(wc -c <"$out/report.png") bytes), DOM $(wc -c <"$out/report.dom.html") bytes, no external reference"
