#!/usr/bin/env bash
# Batch verify against pyHanko, one run (issue 16): `zhengyin verify DIR/` over N copies of a
# freshly issued business licence and of a three-seal joint approval, and pyHanko's in-process
# `validate_pdf_signature` of the same two files (every signature, a fresh ValidationContext per
# document with the home's CRLs offline, revocation soft-fail), then the ratio per CPU second.
#
#   bash benches/batch_verify.sh                       # target/release/zhengyin, N=300, -j 2
#   BIN=/tmp/zy-o3 N=500 J=1 bash benches/batch_verify.sh
#
# CPU = user + sys of the zhengyin process (/usr/bin/time) and process_time() in pyHanko.
# Needs pyHanko (`pip install pyhanko`); writes only under $WORK (default a new temp directory).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN="${BIN:-target/release/zhengyin}"
N="${N:-300}"
J="${J:-2}"
PY_N="${PY_N:-30}"
WORK="${WORK:-$(mktemp -d)}"
FIX="$PWD/fixtures/data"
BIN="$(realpath "$BIN")"

echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), bin $BIN, N=$N, -j $J"
echo "load avg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$WORK"
rm -rf h licence.pdf joint-*.pdf copies-*
"$BIN" init --home h >/dev/null
"$BIN" issue --home h --template business-licence --data "$FIX/business-licence.json" -o licence.pdf >/dev/null
"$BIN" issue --home h --template joint-approval --data "$FIX/joint-approval.json" -o joint-1.pdf >/dev/null
"$BIN" seal add --home h --dept scjg joint-1.pdf -o joint-2.pdf >/dev/null
"$BIN" seal add --home h --dept xzsp joint-2.pdf -o joint-3.pdf >/dev/null

declare -A ZCPU
for f in licence joint-3; do
    mkdir "copies-$f"
    for i in $(seq "$N"); do cp "$f.pdf" "copies-$f/$i.pdf"; done
    # One warm-up pass (page cache), then the measured one.
    "$BIN" verify --home h "copies-$f/" -j "$J" >/dev/null
    /usr/bin/time -f '%e %U %S' -o "time-$f" "$BIN" verify --home h "copies-$f/" -j "$J" >"out-$f"
    tail -1 "out-$f"
    read -r wall user sys <"time-$f"
    cpu=$(python3 -c "print(($user + $sys) / $N * 1e3)")
    ZCPU[$f]=$cpu
    printf 'zhengyin verify %-8s: %s files, wall %s s, CPU %.2f s = %.3f ms per file (load %s)\n' \
        "$f" "$N" "$wall" "$(python3 -c "print($user + $sys)")" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)"
done

python3 - "$PY_N" licence.pdf joint-3.pdf "${ZCPU[licence]}" "${ZCPU[joint-3]}" <<'EOF'
import io, sys, time
from pathlib import Path
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

n = int(sys.argv[1])
root = load_cert_from_pemder("h/pki/root.crt.pem")
crls = [p.read_bytes() for p in sorted(Path("h/crl").glob("*.crl"))]

def validate(data):
    vc = ValidationContext(trust_roots=[root], crls=crls, allow_fetching=False, revocation_mode="soft-fail")
    r = PdfFileReader(io.BytesIO(data))
    sigs = [s for s in r.embedded_signatures if s.sig_object_type == "/Sig"]
    return [validate_pdf_signature(s, signer_validation_context=vc) for s in sigs]

for path, zcpu in ((sys.argv[2], float(sys.argv[4])), (sys.argv[3], float(sys.argv[5]))):
    data = Path(path).read_bytes()
    st = validate(data)
    ok = all(s.bottom_line for s in st)
    c0 = time.process_time()
    for _ in range(n):
        validate(data)
    cpu = (time.process_time() - c0) / n * 1e3
    print(f"pyHanko validate {path:<12}: {len(st)} signature(s), bottom_line={ok}, CPU {cpu:.2f} ms per file (n={n})")
    print(f"ratio {path:<12}: zhengyin {zcpu:.3f} ms vs pyHanko {cpu:.2f} ms per file = {cpu / zcpu:.1f}x per CPU second")
EOF
echo "load avg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
