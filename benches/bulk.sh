#!/usr/bin/env bash
# Bulk issuance speed (issue 16, docs/BENCHMARKS.md "Bulk issuance"): `zhengyin issue --template
# business-licence --batch records.jsonl --out-dir DIR` over N synthetic records with varied holder
# names (six characters from a 40-character pool), CPU time (user + sys) per licence and licences
# per CPU second, with the load average. pyHanko is not run here: its figure (sign ≈ 50/s) is the
# one in BENCHMARKS.md's sealing section.
#
# Each of ROUNDS runs (default 3) issues into a new home and output folder under $WORK; the median
# is the figure (a shared 2-core VM varies ±20 % from run to run). WORK defaults to /dev/shm
# (tmpfs) when there is one: it measures the process's own work. On a disk the kernel's share
# depends on the file system: on an ext4 without a journal (this project's build machine) creating
# a file scans past every inode deleted in the last minutes, so each run after another (which
# deleted its files) pays up to 0.6 ms more per licence in system time; WORK=/tmp shows it.
#
#   bash benches/bulk.sh                      # N=1000, -j 2, 3 rounds, target/release/zhengyin
#   N=2000 J=1 ROUNDS=5 BIN=/tmp/zy-o3 WORK=/tmp bash benches/bulk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-1000}"
J="${J:-2}"
ROUNDS="${ROUNDS:-3}"
BIN="${BIN:-$PWD/target/release/zhengyin}"
if [ -z "${WORK:-}" ]; then
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then WORK=/dev/shm; else WORK="${TMPDIR:-/tmp}"; fi
fi
W="$(mktemp -d -p "$WORK")"
trap 'rm -rf "$W"' EXIT
python3 - "$N" >"$W/records.jsonl" <<'PY'
import json, random, sys
base = json.load(open("fixtures/data/business-licence.json"))
pool = "岱宗云帆汶河星火商贸鹿鸣物流泰山东岳明珠华夏长城金石松柏青峰白鹤红日蓝天绿水春秋"
rng = random.Random(16)
for i in range(int(sys.argv[1])):
    d = dict(base)
    d["name"] = "泰安市" + "".join(rng.choice(pool) for _ in range(6)) + "有限公司"
    print(json.dumps(d, ensure_ascii=False))
PY
echo "== $N lines, -j $J, $ROUNDS rounds, $("$BIN" --version), in $WORK ($(stat -f -c %T "$W")), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
    rm -rf "$W/home" "$W/out"
    "$BIN" init --home "$W/home" >/dev/null
    /usr/bin/time -f '%e %U %S %M' -o "$W/time" "$BIN" issue --home "$W/home" --template business-licence \
        --batch "$W/records.jsonl" --out-dir "$W/out" -j "$J" >"$W/out.txt"
    [ "$r" = 1 ] && tail -1 "$W/out.txt"
    read -r wall user sys rss <"$W/time"
    echo "$wall $user $sys $rss" >>"$W/rounds"
    awk -v r="$r" -v n="$N" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" 'BEGIN {
        c = u + s
        printf "   round %d: wall %.2f s, CPU %.2f s (user %.2f, sys %.2f), peak RSS %d MB: %.2f ms CPU per licence\n", r, w, c, u, s, m / 1024, 1000 * c / n
    }'
done
sort -n -k5 <(awk '{print $0, $2 + $3}' "$W/rounds") | awk -v n="$N" '{ c[NR] = $5; w[NR] = $1 } END {
    m = int((NR + 1) / 2)
    printf "   median of %d: CPU %.2f s, wall %.2f s\n", NR, c[m], w[m]
    printf "   %.2f ms CPU per licence = %.0f licences/s per core (target 1000); %.0f licences/s wall\n", 1000 * c[m] / n, n / c[m], n / w[m]
}'
echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg); files: $(ls "$W/out" | grep -c pdf), $(du -sh "$W/out" | cut -f1)"
