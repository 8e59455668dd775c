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

source benches/wrk.sh
$Z init --home "$tmp/h" >/dev/null
$Z data load --home "$tmp/h" --dept rs fixtures/holders/rs-social-insurance.csv >/dev/null
tok=$($Z token create --home "$tmp/h" --role department --dept xzsp 2>/dev/null)
serve_home
body='{"kind":"social-insurance","subject":"370902199001011235","purpose":"370900-XK-0001"}'
curl -fsS -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port/v1/proofs" >"$tmp/answer.json"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"], end="")' "$tmp/answer.json" >"$tmp/token.txt"

printf '%s' "$body" >"$tmp/req.json"
post_lua "$tmp/req.json" application/json "Bearer $tok" >"$tmp/proof.lua"
post_lua "$tmp/token.txt" text/plain >"$tmp/verify.lua"

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
