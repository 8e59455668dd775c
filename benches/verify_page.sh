#!/usr/bin/env bash
# Speed of the QR verification page (not a test): time to first byte of GET /verify?id=… on a
# loopback `zhengyin serve` (fresh temporary home with N licences, default 100), measured one request at a time with curl
# (time_starttransfer, REQS requests, default 300: median, p90, p99, max), then wrk at 16
# connections for DUR seconds (default 10), and the upload form (POST /verify with the PDF) for
# comparison. Target (issue 13): first byte < 50 ms.
# Usage: benches/verify_page.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
REQS=${REQS:-300}
DUR=${DUR:-10}
source benches/wrk.sh
$Z init --home "$tmp/h" >/dev/null
for i in $(seq 1 "$N"); do
  $Z issue --home "$tmp/h" --template business-licence --data fixtures/data/business-licence.json -o "$tmp/l$i.pdf" >"$tmp/issue.out"
done
id=$(awk '/identifier/ {print $2}' "$tmp/issue.out")
serve_home
url="http://127.0.0.1:$port/verify?id=$id"
curl -fsS "$url" | grep -q 'id="status-text">有效<'

# One request at a time: the first byte as a scanning phone sees it (connection set-up included).
for _ in $(seq 1 "$REQS"); do
  curl -s -o /dev/null -w '%{time_starttransfer}\n' "$url"
done | sort -n | awk '{ a[NR] = $1 * 1000 } END {
  printf "GET /verify first byte over %d requests: median %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    NR, a[int(NR * 0.5)], a[int(NR * 0.9)], a[int(NR * 0.99)], a[NR] }'

cat >"$tmp/get.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
LUA
echo "GET /verify, wrk -t2 -c16 -d${DUR}s: $(timeout $((DUR + 30)) wrk -t2 -c16 -d"${DUR}s" -s "$tmp/get.lua" "$url" | grep '^RESULT')"

# The upload form with the genuine PDF (the full verification), one at a time.
for _ in $(seq 1 50); do
  curl -s -o /dev/null -w '%{time_starttransfer}\n' -F "pdf=@$tmp/l$N.pdf;type=application/pdf" "$url"
done | sort -n | awk -v size="$(stat -c %s "$tmp/l$N.pdf")" '{ a[NR] = $1 * 1000 } END {
  printf "POST /verify (upload, %d bytes) first byte over %d requests: median %.2f ms, p99 %.2f ms\n",
    size, NR, a[int(NR * 0.5)], a[int(NR * 0.99)] }'
