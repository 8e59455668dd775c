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

if ! command -v wrk >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet
Z=./target/release/zhengyin
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$pid" ] && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

$Z init --home "$tmp/h" >/dev/null
$Z issue --home "$tmp/h" --template business-licence --data fixtures/data/business-licence.json -o "$tmp/l.pdf" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
$Z serve --home "$tmp/h" --listen "127.0.0.1:$port" --rate-limit 0 --refresh-secs 0 >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS --data-binary @"$tmp/l.pdf" "http://127.0.0.1:$port/v1/verify" | grep -q '"indication":"TOTAL-PASSED"'

cat >"$tmp/post.lua" <<LUA
local f = assert(io.open("$tmp/l.pdf", "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/pdf"
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
LUA

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
