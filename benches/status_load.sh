#!/usr/bin/env bash
# GET /v1/status/{identifier} under load (docs/BENCHMARKS.md): wrk, 16 connections, 2 threads,
# 10 s, against `zhengyin serve` on loopback (rate limit off), for a licence whose old version was
# changed (the answer is a fresh ES256 JWS per request). Then the size of GET /v1/status-list.
# Usage: bash benches/status_load.sh   (prints RESULT rps=… p50_ms=… p99_ms=…)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/wrk.sh
$Z init --home "$tmp/h" >/dev/null
$Z issue --home "$tmp/h" --template business-licence --data fixtures/data/business-licence.json -o "$tmp/a.pdf" >"$tmp/issue.txt"
id=$(awk '/identifier/ {print $2}' "$tmp/issue.txt")
$Z licence change "$id" --home "$tmp/h" --data fixtures/data/business-licence.json -o "$tmp/b.pdf" >/dev/null
serve_home
cat >"$tmp/get.lua" <<LUA
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
LUA
curl -fsS "http://127.0.0.1:$port/v1/status/$id" | head -c 300; echo
wrk -t2 -c16 -d10s --latency -s "$tmp/get.lua" "http://127.0.0.1:$port/v1/status/$id" | grep -E "RESULT|Latency|Requests/sec"
curl -fsS "http://127.0.0.1:$port/v1/status-list" -o "$tmp/list.zsl"
echo "status list for this home: $(stat -c %s "$tmp/list.zsl") bytes"
