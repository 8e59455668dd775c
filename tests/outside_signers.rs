//! Seals made by other standard tools (issue 14, point 5): pyHanko's `sign addsig` and poppler's
//! `pdfsig -sign` add the middle seal of a joint licence with the department's own key and
//! certificate. zhengyin accepts what a standard signer legitimately changes (XMP metadata,
//! /Info's /Producer, the field's /V, /AP, /AS), reads NSS's BER-encoded CMS, and agrees with
//! pyHanko's verdict signature by signature; a seal that also changes page content is refused.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn sig(report: &Value, index: usize) -> &Value {
    report["signatures"].get(index).unwrap_or_else(|| panic!("no signature {index}:\n{report:#}"))
}

/// A joint approval sealed by its first department (dy-xzsp).
fn first_seal(r: &Region) -> PathBuf {
    r.issue("joint-approval", None, "joint-1.pdf").0
}

/// `pyhanko sign addsig` of scjg's seal into its reserved field, with scjg's key from the home.
fn pyhanko_addsig(r: &Region, input: &Path, out: &str) -> PathBuf {
    let out = r.path(out);
    let key = r.home.join("pki/private/seal-scjg.key.pem");
    let cert = r.home.join("seals/scjg.crt.pem");
    let chain = r.home.join("pki/city.crt.pem");
    let run = run_in(
        r.dir.path(),
        "pyhanko",
        &[
            "sign",
            "addsig",
            "--field",
            "Seal2_scjg",
            "pemder",
            "--key",
            s(&key),
            "--cert",
            s(&cert),
            "--chain",
            s(&chain),
            "--no-pass",
            s(input),
            s(&out),
        ],
    );
    assert_eq!(run.code, 0, "pyhanko addsig\n{}", run.both());
    out
}

/// pyHanko's per-signature verdict lines (field name → line) for `pdf`, with the region's root.
fn pyhanko_lines(r: &Region, pdf: &Path) -> Vec<(String, String)> {
    let root = r.export_root("root.pem");
    let o = run_in(
        r.dir.path(),
        "pyhanko",
        &["sign", "validate", "--no-revocation-check", "--trust", s(&root), s(pdf)],
    );
    o.stdout
        .lines()
        .filter_map(|l| l.split_once(':').map(|(f, _)| (f.to_string(), l.to_string())))
        .filter(|(f, _)| f.starts_with("Seal"))
        .collect()
}

/// pyHanko accepts a signature: intact, trusted, and no illegal modification after it.
fn pyhanko_accepts(line: &str) -> bool {
    line.contains("INTACT:TRUSTED")
        && (line.contains("UNTOUCHED") || line.contains("ACCEPTABLE_MODIFICATIONS"))
}

/// Each signature's verdict in zhengyin's report agrees with pyHanko's on the same file.
fn assert_agrees_with_pyhanko(r: &Region, pdf: &Path, report: &Value) {
    let lines = pyhanko_lines(r, pdf);
    let sigs = report["signatures"].as_array().expect("signatures");
    assert_eq!(lines.len(), sigs.len(), "pyHanko saw {lines:?}\n{report:#}");
    for (i, (field, line)) in lines.iter().enumerate() {
        let ours = sig(report, i);
        assert_eq!(ours["field"].as_str(), Some(field.as_str()), "signature order differs");
        let passed = ours["indication"] == "TOTAL-PASSED";
        assert_eq!(
            passed,
            pyhanko_accepts(line),
            "zhengyin and pyHanko disagree on {field}: {line}\n{ours:#}"
        );
    }
}

/// A joint licence whose middle seal pyHanko's `addsig` added (XMP and /Info refreshed) verifies:
/// every seal TOTAL-PASSED, zhengyin seals the third, and the plan is complete.
#[test]
fn pyhanko_middle_seal_keeps_every_seal_valid() {
    if !have_tool("pyhanko") {
        return;
    }
    let r = Region::init();
    let first = first_seal(&r);
    let second = pyhanko_addsig(&r, &first, "joint-2.pdf");
    let run = r.zy(&["verify", s(&second), "--home", s(&r.home), "--json", "--allow-incomplete"]);
    let rep = run.json();
    for i in 0..2 {
        assert_eq!(sig(&rep, i)["indication"], "TOTAL-PASSED", "{:#}", sig(&rep, i));
    }
    run.assert_code(0);
    assert_agrees_with_pyhanko(&r, &second, &rep);

    let third = r.path("joint-3.pdf");
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "xzsp", s(&second), "-o", s(&third)])
        .assert_code(0);
    let run = r.verify_json(&third);
    let rep = run.json();
    for i in 0..3 {
        assert_eq!(sig(&rep, i)["indication"], "TOTAL-PASSED", "{:#}", sig(&rep, i));
    }
    assert_eq!(rep["seal_plan"]["complete"], true, "{rep:#}");
    assert_eq!(rep["indication"], "TOTAL-PASSED", "{rep:#}");
    run.assert_code(0);
    assert_outside_validators(&r, &third, 3);
}

/// A pyHanko seal whose revision also draws over the page is refused for the earlier seal, by
/// zhengyin (MODIFICATIONS failed, exit 1) and by pyHanko.
#[test]
fn pyhanko_seal_that_changes_page_content_is_refused() {
    if !have_tool("pyhanko") {
        return;
    }
    let r = Region::init();
    let first = first_seal(&r);
    let out = r.path("joint-2-drawn.pdf");
    let script = repo().join("tests/support/pyhanko_seal_and_draw.py");
    let key = r.home.join("pki/private/seal-scjg.key.pem");
    let cert = r.home.join("seals/scjg.crt.pem");
    let chain = r.home.join("pki/city.crt.pem");
    let run = run_in(
        r.dir.path(),
        "python3",
        &[s(&script), s(&key), s(&cert), s(&chain), "Seal2_scjg", s(&first), s(&out)],
    );
    assert_eq!(run.code, 0, "pyHanko seal and draw\n{}", run.both());
    let run = r.zy(&["verify", s(&out), "--home", s(&r.home), "--json", "--allow-incomplete"]);
    run.assert_code(1);
    let rep = run.json();
    assert_eq!(sig(&rep, 0)["indication"], "TOTAL-FAILED", "{rep:#}");
    assert_eq!(check_status(sig(&rep, 0), "MODIFICATIONS"), "FAILED", "{rep:#}");
    assert!(sig(&rep, 0).to_string().contains("Page"), "the report should name the page:\n{rep:#}");
    let lines = pyhanko_lines(&r, &out);
    assert!(!pyhanko_accepts(&lines[0].1), "pyHanko should refuse the first seal too: {lines:?}");
    assert_agrees_with_pyhanko(&r, &out, &rep);
}

/// An NSS database in `<dir>/nss` holding scjg's key and certificate (with its CA) as `scjg`.
fn nss_db(r: &Region) -> PathBuf {
    let db = r.path("nss");
    std::fs::create_dir_all(&db).expect("mkdir nss");
    let dbs = format!("sql:{}", s(&db));
    let p12 = r.path("scjg.p12");
    let home = &r.home;
    let steps: [(&str, Vec<String>); 3] = [
        ("certutil", vec!["-N".into(), "-d".into(), dbs.clone(), "--empty-password".into()]),
        (
            "openssl",
            [
                "pkcs12",
                "-export",
                "-inkey",
                s(&home.join("pki/private/seal-scjg.key.pem")),
                "-in",
                s(&home.join("seals/scjg.crt.pem")),
                "-certfile",
                s(&home.join("pki/city.crt.pem")),
                "-name",
                "scjg",
                "-passout",
                "pass:",
                "-out",
                s(&p12),
            ]
            .map(String::from)
            .to_vec(),
        ),
        ("pk12util", vec!["-i".into(), s(&p12).into(), "-d".into(), dbs.clone(), "-W".into(), String::new()]),
    ];
    for (tool, args) in steps {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run_in(r.dir.path(), tool, &args);
        assert_eq!(run.code, 0, "{tool}\n{}", run.both());
    }
    db
}

/// `pdfsig -sign Seal2_scjg -etsi` with the NSS database. Poppler 22.x reserves room for one
/// signature length and fails ("unable update signature") when ECDSA's DER value comes out a byte
/// longer, so it is retried; None when poppler or NSS tools are missing.
fn pdfsig_sign(r: &Region, input: &Path) -> Option<PathBuf> {
    if !(have_tool("pdfsig") && have_tool("certutil") && have_tool("pk12util")) {
        return None;
    }
    let db = nss_db(r);
    let out = r.path("joint-2-pdfsig.pdf");
    let dbs = format!("sql:{}", s(&db));
    let mut last = None;
    for _ in 0..40 {
        let _ = std::fs::remove_file(&out);
        let run = run_in(
            r.dir.path(),
            "pdfsig",
            &["-sign", "Seal2_scjg", "-etsi", "-nssdir", &dbs, "-nick", "scjg", s(input), s(&out)],
        );
        if run.code == 0 {
            return Some(out);
        }
        last = Some(run);
    }
    panic!("pdfsig -sign never succeeded\n{}", last.map(|r| r.both()).unwrap_or_default());
}

/// A seal added by poppler's pdfsig (NSS, BER-encoded CMS): its own signature is valid, and the
/// verdict on the earlier seal (pdfsig rewrites the widget's /M) matches pyHanko's.
#[test]
fn pdfsig_seal_is_read_and_judged_like_pyhanko() {
    let r = Region::init();
    let first = first_seal(&r);
    let Some(second) = pdfsig_sign(&r, &first) else { return };
    let run = r.zy(&["verify", s(&second), "--home", s(&r.home), "--json", "--allow-incomplete"]);
    let rep = run.json();
    let own = sig(&rep, 1);
    for check in ["FORMAT", "INTEGRITY", "SIGNATURE", "SIGNING_CERTIFICATE", "CHAIN", "DEPARTMENT"] {
        assert_eq!(check_status(own, check), "PASSED", "{check} of pdfsig's seal:\n{own:#}");
    }
    assert_eq!(own["indication"], "TOTAL-PASSED", "{own:#}");
    assert!(own.to_string().contains("BER"), "FORMAT should say the CMS was BER:\n{own:#}");
    if have_tool("pyhanko") {
        assert_agrees_with_pyhanko(&r, &second, &rep);
    }
    // pdfsig's widget update adds /M to the signed field: not something a signer may change.
    let earlier = sig(&rep, 0);
    assert_eq!(check_status(earlier, "MODIFICATIONS"), "FAILED", "{earlier:#}");
    assert!(earlier.to_string().contains("/M changed"), "{earlier:#}");
}

/// Re-encode the DER element at the start of `der` with every constructed element for which
/// `indefinite(depth, tag)` holds written with an indefinite length (BER, X.690 §8.1.3.6).
fn to_ber(der: &[u8], depth: usize, indefinite: &dyn Fn(usize, u8) -> bool) -> (Vec<u8>, usize) {
    let tag = der[0];
    let (len, hl) = match der[1] {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 => (usize::from(der[2]), 3),
        0x82 => (usize::from(der[2]) << 8 | usize::from(der[3]), 4),
        other => panic!("unexpected length byte {other:#x}"),
    };
    let body = &der[hl..hl + len];
    if tag & 0x20 == 0 {
        return (der[..hl + len].to_vec(), hl + len);
    }
    let mut inner = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let (child, used) = to_ber(&body[at..], depth + 1, indefinite);
        inner.extend(child);
        at += used;
    }
    let mut out = vec![tag];
    if indefinite(depth, tag) {
        out.push(0x80);
        out.extend(inner);
        out.extend([0, 0]);
    } else {
        match inner.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend(inner);
    }
    (out, hl + len)
}

/// `pdf` with the last signature's CMS rewritten by `to_ber` (the /Contents gap is not signed).
fn rewrite_cms(pdf: &[u8], indefinite: &dyn Fn(usize, u8) -> bool) -> Vec<u8> {
    let [_, a1, b0, _] = byte_range(pdf);
    let hex = std::str::from_utf8(&pdf[a1 + 1..b0 - 1]).expect("hex");
    let bytes: Vec<u8> =
        (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex")).collect();
    let (ber, _) = to_ber(&bytes, 0, indefinite);
    let mut new_hex: String = ber.iter().map(|b| format!("{b:02x}")).collect();
    assert!(new_hex.len() <= hex.len(), "the BER form does not fit the reserved /Contents");
    new_hex.extend(std::iter::repeat_n('0', hex.len() - new_hex.len()));
    let mut out = pdf.to_vec();
    out[a1 + 1..b0 - 1].copy_from_slice(new_hex.as_bytes());
    out
}

/// zhengyin's own seal with its CMS re-encoded in BER (indefinite lengths everywhere but the
/// signed attributes) still verifies; with the signed attributes in BER too it is refused.
#[test]
fn ber_outer_structure_is_read_but_signed_attributes_must_be_der() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    let orig = std::fs::read(&pdf).expect("read");
    // Indefinite down to depth 4 (ContentInfo > [0] > SignedData > SignerInfos > SignerInfo, and
    // each certificate); the signed attributes, at depth 5, stay DER.
    let outer = rewrite_cms(&orig, &|depth, _| depth < 5);
    let p = r.path("ber-outer.pdf");
    std::fs::write(&p, &outer).expect("write");
    let run = r.verify_json(&p);
    let rep = run.json();
    assert_eq!(sig(&rep, 0)["indication"], "TOTAL-PASSED", "{rep:#}");
    assert!(sig(&rep, 0).to_string().contains("BER"), "{rep:#}");
    run.assert_code(0);

    let all = rewrite_cms(&orig, &|_, _| true);
    let p = r.path("ber-all.pdf");
    std::fs::write(&p, &all).expect("write");
    let run = r.verify_json(&p);
    run.assert_code(1);
    let rep = run.json();
    assert_eq!(check_status(sig(&rep, 0), "FORMAT"), "FAILED", "{rep:#}");
    assert!(sig(&rep, 0).to_string().contains("signed attributes are not DER"), "{rep:#}");
}
