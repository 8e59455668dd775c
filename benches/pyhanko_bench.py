#!/usr/bin/env python3
"""pyHanko baseline for benches/compare.sh: sign the same unsigned licence zhengyin seals, and
validate the licence zhengyin sealed, N times each, in-process.

Inputs come from `cargo bench --bench seal`, which leaves in DIR (default target/bench-data):
  home/                 an initialised zhengyin home (keys, certificates, CRLs)
  unsigned.pdf          the rendered, unsigned business licence
  sealed.pdf            one business licence sealed by zhengyin

Signing mirrors zhengyin's first seal as closely as pyHanko's API allows: PAdES subfilter
(ETSI.CAdES.detached), ECDSA P-256 / SHA-256, the department key + certificate + intermediate,
certification signature with DocMDP P=2, filling the empty signature field zhengyin's renderer
pre-created for the first seal (or, for older renders without one, a new field at the same slot).
pyHanko draws its default text stamp there; zhengyin draws a red round seal with its own CJK font
subset, which is more work.
Validation: the zhengyin-sealed file, trust root = region root, the home's CRLs supplied offline,
allow_fetching=False, revocation_mode='soft-fail'.

Prints one JSON object on the last line (times in seconds per operation).
"""

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

# zhengyin::document::seal_slot(0, 1): centre (440, 172), 119 points across.
SEAL_BOX = (380.5, 112.5, 499.5, 231.5)


def timed(fn, n, warmup):
    """Wall time (perf_counter) and process CPU time (process_time, all threads) per call."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(n):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {
        "n": n,
        "mean": statistics.fmean(wall),
        "median": statistics.median(wall),
        "min": min(wall),
        "cpu_mean": statistics.fmean(cpu),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="target/bench-data")
    ap.add_argument("--dept", default="scjg")
    ap.add_argument("--ca", default="city", help="the department's issuing (intermediate) CA")
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--timestamp-url", help="also time signing with a signature timestamp from this RFC 3161 URL "
                    "(zhengyin serve's /v1/tsa: PAdES B-T, as zhengyin seals)")
    args = ap.parse_args()

    d = Path(args.dir)
    home = d / "home"
    unsigned = (d / "unsigned.pdf").read_bytes()
    sealed = (d / "sealed.pdf").read_bytes()

    signer = signers.SimpleSigner.load(
        key_file=str(home / "pki/private" / f"seal-{args.dept}.key.pem"),
        cert_file=str(home / "seals" / f"{args.dept}.crt.pem"),
        ca_chain_files=(str(home / "pki" / f"{args.ca}.crt.pem"),),
    )
    if signer is None:
        sys.exit("pyHanko could not load the seal key/certificate")

    field_name = "Seal1_" + args.dept
    existing = {name for name, _value, _ref in fields.enumerate_sig_fields(PdfFileReader(io.BytesIO(unsigned)))}
    new_field = None if field_name in existing else fields.SigFieldSpec(sig_field_name=field_name, box=SEAL_BOX)
    print(f"pyHanko signs {'the existing empty field' if new_field is None else 'a new field'} {field_name}")

    def sign_once(timestamper=None):
        w = IncrementalPdfFileWriter(io.BytesIO(unsigned))
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            certify=True,
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            reason="bench",
            location="bench",
        )
        pdf_signer = signers.PdfSigner(meta, signer=signer, new_field_spec=new_field, timestamper=timestamper)
        out = io.BytesIO()
        pdf_signer.sign_pdf(w, output=out)
        return out.getvalue()

    root = load_cert_from_pemder(str(home / "pki" / "root.crt.pem"))
    crls = [p.read_bytes() for p in sorted((home / "crl").glob("*.crl"))]

    def validate_once(data=sealed):
        # A fresh context per document, as a verifier handling independent requests would.
        vc = ValidationContext(trust_roots=[root], crls=crls, allow_fetching=False, revocation_mode="soft-fail")
        r = PdfFileReader(io.BytesIO(data))
        status = validate_pdf_signature(r.embedded_signatures[0], signer_validation_context=vc)
        return status

    # Sanity: pyHanko's own signature and zhengyin's seal both validate.
    own = sign_once()
    (d / "pyhanko-signed.pdf").write_bytes(own)
    st_z = validate_once(sealed)
    st_p = validate_once(own)
    print(f"pyHanko on zhengyin's seal: intact={st_z.intact} valid={st_z.valid} trusted={st_z.trusted} "
          f"bottom_line={st_z.bottom_line} coverage={st_z.coverage.name} modification={st_z.modification_level.name if st_z.modification_level else None}")
    print(f"pyHanko on its own signature: intact={st_p.intact} valid={st_p.valid} trusted={st_p.trusted} "
          f"bottom_line={st_p.bottom_line}")

    sign = timed(sign_once, args.n, args.warmup)
    sign_ts = None
    if args.timestamp_url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        ts = HTTPTimeStamper(args.timestamp_url)
        sign_ts = timed(lambda: sign_once(ts), args.n, args.warmup)
        print(f"pyHanko sign_b_t : wall {sign_ts['mean']*1e3:8.3f} ms mean, {sign_ts['median']*1e3:8.3f} ms median; "
              f"CPU {sign_ts['cpu_mean']*1e3:8.3f} ms mean  (n={sign_ts['n']}, TSA {args.timestamp_url})")
    val = timed(validate_once, args.n, args.warmup)

    # Joint seals (issue 3): every signature of the three-seal licence, with difference analysis.
    joint_path = d / "joint-a3.pdf"
    if joint_path.exists():
        joint = joint_path.read_bytes()

        def validate_joint():
            vc = ValidationContext(trust_roots=[root], crls=crls, allow_fetching=False, revocation_mode="soft-fail")
            r = PdfFileReader(io.BytesIO(joint))
            return [validate_pdf_signature(s, signer_validation_context=vc) for s in r.embedded_signatures]

        ok = all(s.bottom_line for s in validate_joint())
        jt = timed(validate_joint, max(5, args.n // 5), 1)
        print(f"pyHanko validate_3_seals: bottom_line={ok} wall {jt['mean']*1e3:8.3f} ms mean; CPU {jt['cpu_mean']*1e3:8.3f} ms mean  (n={jt['n']})")
    import pyhanko
    version = getattr(pyhanko, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as v

            version = v("pyhanko")
        except Exception:  # noqa: BLE001
            version = "?"
    print(f"pyHanko {version}, Python {sys.version.split()[0]}")
    for label, t in (("sign", sign), ("validate", val)):
        print(f"pyHanko {label:<9}: wall {t['mean']*1e3:8.3f} ms mean, {t['median']*1e3:8.3f} ms median, "
              f"{t['min']*1e3:8.3f} ms min; CPU {t['cpu_mean']*1e3:8.3f} ms mean  (n={t['n']})")
    print(json.dumps({
        "pyhanko_version": version,
        "python": sys.version.split()[0],
        "sign": sign,
        "sign_b_t": sign_ts,
        "validate": val,
        "validates_zhengyin": bool(st_z.bottom_line),
        "unsigned_bytes": len(unsigned),
        "sealed_bytes": len(sealed),
        "pyhanko_signed_bytes": len(own),
    }))


if __name__ == "__main__":
    main()
