#!/usr/bin/env bash
# Bulk issuance speed (issue 16, docs/BENCHMARKS.md "Bulk issuance"): `zhengyin issue --template
# business-licence --batch records.jsonl --out-dir DIR` over N synthetic records with varied holder
# names (six characters from a 40-character pool), CPU time (user + sys) per licence and licences
# per CPU second, with the load average. pyHanko is not run here: its figure (sign ≈ 50/s) is the
# one in BENCHMARKS.md's sealing section.
#
# The home (archive) and the output folder go to a new folder under $WORK (default: $TMPDIR or
# /tmp). The kernel's share depends on that file system: on an ext4 without a journal (this
# project's build machine) creating a file scans past every inode deleted in the last minutes, so
# a run right after another (which deleted its 2,000 files) pays up to 0.6 ms more per licence in
# system time; WORK=/dev/shm (tmpfs) measures the process's own work.
#
#   bash benches/bulk.sh                      # N=1000, -j 2, target/release/zhengyin
#   N=2000 J=1 BIN=/tmp/zy-o3 WORK=/dev/shm bash benches/bulk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-1000}"
J="${J:-2}"
BIN="${BIN:-$PWD/target/release/zhengyin}"
WORK="${WORK:-${TMPDIR:-/tmp}}"
W="$(mktemp -d -p "$WORK")"
trap 'rm -rf "$W"' EXIT
"$BIN" init --home "$W/home" >/dev/null
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
echo "== $N lines, -j $J, $("$BIN" --version), in $WORK ($(stat -f -c %T "$W")), load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f '%e %U %S %M' -o "$W/time" "$BIN" issue --home "$W/home" --template business-licence \
    --batch "$W/records.jsonl" --out-dir "$W/out" -j "$J" >"$W/out.txt"
tail -1 "$W/out.txt"
read -r wall user sys rss <"$W/time"
awk -v n="$N" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" 'BEGIN {
    c = u + s
    printf "   wall %.2f s, CPU %.2f s (user %.2f, sys %.2f), peak RSS %d MB\n", w, c, u, s, m / 1024
    printf "   %.2f ms CPU per licence = %.0f licences/s per core (target 1000); %.0f licences/s wall\n", 1000 * c / n, n / c, n / w
}'
echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg); files: $(ls "$W/out" | grep -c pdf), $(du -sh "$W/out" | cut -f1)"
