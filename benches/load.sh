#!/usr/bin/env bash
# Load benchmark of the HTTP service (not a test): wrk POSTs one sealed licence to /v1/verify on
# a loopback `zhengyin serve` (fresh temporary home, rate limit off) at 16 and 64 connections,
# DUR seconds each (default 20), and prints requests/s and p99 latency beside the in-process
# verify rate (criterion's verify/business_licence from benches/seal.rs, unless SKIP_CRITERION=1).
# Usage: benches/load.sh [--append docs/BENCHMARKS.md]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-20}
APPEND=""
[ "${1-}" = "--append" ] && APPEND=${2:?file}

source benches/wrk.sh
$Z init --home "$tmp/h" >/dev/null
$Z issue --home "$tmp/h" --template business-licence --data fixtures/data/business-licence.json -o "$tmp/l.pdf" >/dev/null
serve_home
curl -fsS --data-binary @"$tmp/l.pdf" "http://127.0.0.1:$port/v1/verify" | grep -q '"indication":"TOTAL-PASSED"'
post_lua "$tmp/l.pdf" application/pdf >"$tmp/post.lua"

declare -A RPS P50 P99 ERR
for c in 16 64; do
  line=$(timeout $((DUR + 30)) wrk -t2 -c"$c" -d"${DUR}s" --timeout 10s -s "$tmp/post.lua" "http://127.0.0.1:$port/v1/verify" | grep '^RESULT')
  echo "c=$c $line"
  RPS[$c]=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line")
  P50[$c]=$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$line")
  P99[$c]=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line")
  ERR[$c]=$(sed -E 's/.*errors=([0-9]+) non2xx=([0-9]+).*/\1+\2/' <<<"$line")
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

inproc="n/a"
if [ "${SKIP_CRITERION:-0}" != 1 ]; then
  t=$(cargo bench --quiet --bench seal -- '^verify/' 2>/dev/null | grep -A1 '^verify/' | grep -oE 'time: +\[[^]]+\]' | head -1 | awk '{print $4, $5}')
  # t is "<median> <unit>"
  if [ -n "$t" ]; then
    inproc=$(awk -v v="${t% *}" -v u="${t#* }" 'BEGIN { s = (u=="ms") ? v/1e3 : (u=="µs"||u=="us") ? v/1e6 : v; printf "%.1f", 1/s }')
    echo "in-process verify: ${t} per call = ${inproc} verifies/s on one thread"
  fi
fi
cores=$(nproc)
report=$(cat <<MD

## HTTP verify under load (benches/load.sh)

\`wrk -t2 -c{16,64} -d${DUR}s\` POSTing one sealed business licence ($(stat -c %s "$tmp/l.pdf" 2>/dev/null || echo "~62000") bytes) to
\`/v1/verify\` on \`zhengyin serve\` over loopback (release build, rate limit off), ${cores} cores,
$(date -u +%Y-%m-%d). In-process: criterion \`verify/business_licence\` (benches/seal.rs), one thread.

| connections | requests/s | p50 ms | p99 ms | errors+non-2xx |
|---|---|---|---|---|
| 16 | ${RPS[16]} | ${P50[16]} | ${P99[16]} | ${ERR[16]} |
| 64 | ${RPS[64]} | ${P50[64]} | ${P99[64]} | ${ERR[64]} |
| in-process, 1 thread | ${inproc} | | | |
MD
)
echo "$report"
[ -n "$APPEND" ] && printf '%s\n' "$report" >>"$APPEND"
exit 0
