#!/usr/bin/env bash
# Load benchmark of proofs over HTTP (not a test): wrk POSTs a listed proof request to
# /v1/proofs (answer: JSON with the ES256 token; the sealed PDF is made and archived too) and a
# token to /v1/proofs/verify, on a loopback `zhengyin serve` (fresh temporary home, synthetic
# holder data, rate limit off), at 4 and 16 connections, DUR seconds each (default 15).
# Usage: benches/proofs_load.sh [--append docs/BENCHMARKS.md]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-15}
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
$Z data load --home "$tmp/h" --dept rs fixtures/holders/rs-social-insurance.csv >/dev/null
tok=$($Z token create --home "$tmp/h" --role department --dept xzsp 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
$Z serve --home "$tmp/h" --listen "127.0.0.1:$port" --rate-limit 0 --refresh-secs 0 >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
body='{"kind":"social-insurance","subject":"370902199001011235","purpose":"370900-XK-0001"}'
curl -fsS -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port/v1/proofs" >"$tmp/answer.json"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"], end="")' "$tmp/answer.json" >"$tmp/token.txt"

lua() { # $1 body file, $2 content type, $3 auth header or ""
  cat <<LUA
local f = assert(io.open("$1", "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "$2"
$( [ -n "$3" ] && echo "wrk.headers[\"Authorization\"] = \"$3\"" )
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
LUA
}
printf '%s' "$body" >"$tmp/req.json"
lua "$tmp/req.json" application/json "Bearer $tok" >"$tmp/proof.lua"
lua "$tmp/token.txt" text/plain "" >"$tmp/verify.lua"

rows=""
for route in proofs proofs/verify; do
  script=$tmp/proof.lua; [ "$route" = proofs/verify ] && script=$tmp/verify.lua
  for c in 4 16; do
    line=$(timeout $((DUR + 30)) wrk -t2 -c"$c" -d"${DUR}s" --timeout 10s -s "$script" "http://127.0.0.1:$port/v1/$route" | grep '^RESULT')
    echo "POST /v1/$route c=$c $line"
    rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line"); p50=$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$line")
    p99=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line"); err=$(sed -E 's/.*errors=([0-9]+) non2xx=([0-9]+).*/\1+\2/' <<<"$line")
    rows+="| \`POST /v1/$route\` | $c | $rps | $p50 | $p99 | $err |"$'\n'
  done
done
report=$(cat <<MD

### Proofs over HTTP (benches/proofs_load.sh), $(date -u +%Y-%m-%d), $(nproc) cores

\`wrk -t2 -c{4,16} -d${DUR}s\`, loopback, release build, rate limit off. Each \`/v1/proofs\` request
makes the sealed PDF and the token, archives both and the use record (one fsync group) and
re-signs the tree head; \`/v1/proofs/verify\` checks one token (signature, chain, CRLs, expiry).

| route | connections | requests/s | p50 ms | p99 ms | errors+non-2xx |
|---|---|---|---|---|---|
${rows}
MD
)
echo "$report"
[ -n "$APPEND" ] && printf '%s\n' "$report" >>"$APPEND"
exit 0
