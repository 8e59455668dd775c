#!/usr/bin/env bash
# Issue 12 speed targets, in one run against pyHanko on this machine (docs/BENCHMARKS.md, "Trust
# over time"). Each side runs as a user would run it: one CLI process per operation.
#
#   1. B-T + LT sealing: `zhengyin seal add` (signature timestamp from the home's TSA, DSS with the
#      chain and CRLs issued after it, archive filing) against `pyhanko sign addsig --use-pades
#      --timestamp-url <zhengyin serve>/v1/tsa --with-validation-info` (its CRLs fetched from the
#      same server over loopback), both adding the second seal of the same joint licence.
#   2. Verifying a B-LTA licence: `zhengyin verify --home` against `pyhanko sign adesverify`
#      (revocation checking on, only the region root trusted).
#   3. `zhengyin archive renew --before 0` over an archive of RECORDS licences (bulk-issued),
#      records per second.
#
#   bash benches/lta.sh                 # N=10 per process loop, RECORDS=10000
#   N=20 RECORDS=2000 bash benches/lta.sh
#
# Prints `uptime` before each part: other engineers compile on the same two cores.
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x

cd "$(dirname "$0")/.."
N="${N:-10}"
RECORDS="${RECORDS:-10000}"
BIN="${BIN:-$PWD/target/release/zhengyin}"
PORT="${PORT:-$((20000 + RANDOM % 20000))}"
URL="http://127.0.0.1:$PORT"
W="$(mktemp -d)"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$W"' EXIT
H="$W/home"
TIMEFORMAT='%3R %3U %3S'   # wall, then user and system CPU of the children

echo "== machine: $(nproc) cores, $(python3 --version 2>&1), pyHanko $(python3 -c 'import importlib.metadata as m; print(m.version("pyhanko"))'), commit $(git rev-parse --short HEAD)"
"$BIN" init --home "$H" --public-url "$URL" >/dev/null
# `serve` holds its home's archive, so it runs on a copy: the same TSA key and certificate, the same
# CAs and CRLs (what pyHanko asks for over loopback), while the CLI seals with the original.
cp -a "$H" "$W/served"
"$BIN" serve --home "$W/served" --listen "127.0.0.1:$PORT" --rate-limit 0 >"$W/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fs "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
"$BIN" trust export --home "$H" -o "$W/root.pem" >/dev/null
cat "$H/pki/city.crt.pem" "$H/pki/root.crt.pem" >"$W/chain.pem"
"$BIN" issue --home "$H" --template joint-approval --data fixtures/data/joint-approval.json -o "$W/a1.pdf" >/dev/null

per_op() { # label, "wall user sys" seconds for N runs
    echo "$2" | awk -v n="$N" -v l="$1" '{ printf "%-58s %9.1f ms wall, %8.1f ms CPU per operation (n=%d)\n", l, 1000 * $1 / n, 1000 * ($2 + $3) / n, n }'
}
ratio() { # zhengyin times, pyHanko times, target
    printf '%s\n%s\n' "$1" "$2" | awk -v t="$3" 'NR == 1 { zw = $1; zc = $2 + $3 } NR == 2 { printf "   ratio: zhengyin %.1fx faster wall, %.1fx CPU (target >= %sx)\n", $1 / zw, ($2 + $3) / zc, t }'
}

echo "== 1. B-T + LT sealing (second seal of a joint licence); uptime: $(uptime)"
ZY_SEAL=$( { time (for i in $(seq 1 "$N"); do
    "$BIN" seal add --home "$H" --dept scjg "$W/a1.pdf" -o "$W/zy-$i.pdf" >/dev/null
done); } 2>&1 )
per_op "zhengyin seal add (B-T + LT, filed)" "$ZY_SEAL"
PY_SEAL=$( { time (for i in $(seq 1 "$N"); do
    pyhanko sign addsig --field "Py$i" --use-pades --timestamp-url "$URL/v1/tsa" --with-validation-info \
        --trust "$W/root.pem" --trust-replace \
        pemder --key "$H/pki/private/seal-scjg.key.pem" --cert "$H/seals/scjg.crt.pem" --chain "$W/chain.pem" \
        --no-pass "$W/a1.pdf" "$W/py-$i.pdf" >/dev/null 2>&1
done); } 2>&1 )
per_op "pyhanko sign addsig --timestamp-url --with-validation-info" "$PY_SEAL"
pyhanko sign adesverify --trust-replace --trust "$W/root.pem" "$W/py-1.pdf" 2>/dev/null | grep -q ':INTACT:TRUSTED' \
    || echo "   (note: pyHanko's own output did not pass its adesverify)"
ratio "$ZY_SEAL" "$PY_SEAL" 20

echo "== 2. verify a B-LTA licence; uptime: $(uptime)"
OLD=$("$BIN" issue --home "$H" --template business-licence --data fixtures/data/business-licence.json -o "$W/l.pdf" \
    | awk '$1 == "archived" { print $2 }')
NEW=$("$BIN" archive renew --home "$H" --before 0 | sed -n "s/^renewed $OLD -> //p")
"$BIN" archive get --home "$H" "$NEW" -o "$W/lta.pdf" >/dev/null
"$BIN" verify --home "$H" "$W/lta.pdf" >/dev/null
pyhanko sign adesverify --trust-replace --trust "$W/root.pem" "$W/lta.pdf" 2>/dev/null | grep -q ':INTACT:TRUSTED'
ZY_V=$( { time (for i in $(seq 1 "$N"); do "$BIN" verify --home "$H" "$W/lta.pdf" >/dev/null; done); } 2>&1 )
per_op "zhengyin verify (B-LTA licence)" "$ZY_V"
PY_V=$( { time (for i in $(seq 1 "$N"); do
    pyhanko sign adesverify --trust-replace --trust "$W/root.pem" "$W/lta.pdf" >/dev/null 2>&1
done); } 2>&1 )
per_op "pyhanko sign adesverify" "$PY_V"
ratio "$ZY_V" "$PY_V" 15

echo "== 3. archive renew over $RECORDS records; uptime: $(uptime)"
R="$W/renew-home"
"$BIN" init --home "$R" >/dev/null
python3 - "$RECORDS" >"$W/records.jsonl" <<'EOF'
import json, sys
base = json.load(open("fixtures/data/business-licence.json"))
for i in range(int(sys.argv[1])):
    print(json.dumps(base, ensure_ascii=False))
EOF
BULK=$( { time "$BIN" issue --home "$R" --template business-licence --batch "$W/records.jsonl" --out-dir "$W/bulk" >/dev/null; } 2>&1 )
echo "   (setup: bulk issue of $RECORDS licences: $BULK s wall user sys)"
rm -rf "$W/bulk"
RENEW=$( { time "$BIN" archive renew --home "$R" --before 0 >"$W/renew.out"; } 2>&1 )
tail -1 "$W/renew.out"
echo "$RENEW" | awk -v n="$RECORDS" '{ printf "   archive renew: %.2f s wall (%.2f s CPU) for %d records = %.0f records/s wall, %.0f per CPU second (target >= 2000)\n", $1, $2 + $3, n, n / $1, n / ($2 + $3) }'
echo "== done; uptime: $(uptime)"
