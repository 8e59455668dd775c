//! Two-step (external) sealing with the CLI: `seal prepare` hands out the digest, the "UKey" (the
//! department's key, moved out of the home and used with `openssl pkeyutl`) signs it, and
//! `seal complete` assembles, verifies and files the seal. Expired, reused and wrong signatures
//! are refused with nothing archived; outside validators accept the result.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A joint-approval licence (plan: dy-xzsp → scjg → xzsp) whose scjg key sits outside the home,
/// as in a UKey: returns the region, the first-sealed PDF and the key's path.
fn setup() -> (Region, PathBuf, PathBuf) {
    let r = Region::init();
    let (pdf, _) = r.issue("joint-approval", None, "j1.pdf");
    let ukey = r.path("ukey-scjg.pem");
    std::fs::rename(r.home.join("pki/private/seal-scjg.key.pem"), &ukey).unwrap();
    (r, pdf, ukey)
}

/// `seal prepare`: returns the handle and the file holding the digest to sign.
fn prepare(r: &Region, pdf: &Path, extra: &[&str]) -> (String, PathBuf) {
    let digest = r.path("digest.bin");
    let mut args =
        vec!["seal", "prepare", "--home", s(&r.home), "--dept", "scjg", s(pdf), "--digest-out", s(&digest)];
    args.extend_from_slice(extra);
    let run = r.zy(&args);
    run.assert_code(0);
    let hex = run.line_value("digest");
    assert_eq!(std::fs::read(&digest).unwrap().iter().map(|b| format!("{b:02x}")).collect::<String>(), hex);
    (run.line_value("handle"), digest)
}

/// The UKey: ECDSA over the digest with `key`, outside zhengyin.
fn ukey_sign(r: &Region, key: &Path, digest: &Path) -> PathBuf {
    let sig = r.path("sig.der");
    let o = run_in(
        r.dir.path(),
        "openssl",
        &["pkeyutl", "-sign", "-inkey", s(key), "-in", s(digest), "-out", s(&sig)],
    );
    assert_eq!(o.code, 0, "{}", o.both());
    sig
}

fn archived(r: &Region) -> usize {
    r.zy(&["archive", "list", "--home", s(&r.home)]).stdout.lines().count()
}

fn complete(r: &Region, handle: &str, sig: &Path, out: &Path) -> Run {
    r.zy(&["seal", "complete", "--home", s(&r.home), "--handle", handle, "--signature", s(sig), "-o", s(out)])
}

/// A seal signed outside zhengyin verifies, is archived, outside validators accept it, and the
/// handle cannot be used twice.
#[test]
fn two_step_seal_verifies_and_handle_is_single_use() {
    let (r, pdf, ukey) = setup();
    let (handle, digest) = prepare(&r, &pdf, &[]);
    let sig = ukey_sign(&r, &ukey, &digest);
    let before = archived(&r);
    let out = r.path("j2.pdf");
    let run = complete(&r, &handle, &sig, &out);
    run.assert_code(0);
    assert!(run.stdout.contains("sealed by scjg"), "{}", run.both());
    assert_eq!(archived(&r), before + 1);
    let report = r.verify_json(&out).json();
    assert_eq!(report["indication"], "TOTAL-PASSED", "{report:#}");
    assert_eq!(report["signatures"].as_array().unwrap().len(), 2);
    assert_outside_validators(&r, &out, 2);

    // Single use: the same handle and signature again are refused, nothing more is archived.
    let again = r.path("j2-again.pdf");
    let run = complete(&r, &handle, &sig, &again);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("already used"), "{}", run.both());
    assert!(!again.exists());
    assert_eq!(archived(&r), before + 1);
}

/// A signature by another key, or bytes that are no signature, are refused: exit 2, one line,
/// no output and nothing archived.
#[test]
fn wrong_signature_is_refused_and_nothing_archived() {
    let (r, pdf, _ukey) = setup();
    let before = archived(&r);
    let out = r.path("j2.pdf");
    let (handle, digest) = prepare(&r, &pdf, &[]);
    let wrong = ukey_sign(&r, &r.home.join("pki/private/seal-xzsp.key.pem"), &digest);
    let run = complete(&r, &handle, &wrong, &out);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("signature is refused"), "{}", run.both());

    let (handle, _) = prepare(&r, &pdf, &[]);
    let junk = r.path("junk.bin");
    std::fs::write(&junk, b"not a signature at all").unwrap();
    complete(&r, &handle, &junk, &out).assert_one_line_error(2);

    let bad_handle = complete(&r, "../../etc/passwd", &junk, &out);
    bad_handle.assert_one_line_error(2);
    assert!(bad_handle.stderr.contains("not a signing handle"), "{}", bad_handle.both());
    assert!(!out.exists() && !r.path("j2.receipt.json").exists());
    assert_eq!(archived(&r), before);
}

/// A handle past its lifetime is refused (the clock moved with faketime), nothing archived.
#[test]
fn expired_handle_is_refused() {
    if !have_tool("faketime") {
        return;
    }
    let (r, pdf, ukey) = setup();
    let (handle, digest) = prepare(&r, &pdf, &["--ttl", "60"]);
    let sig = ukey_sign(&r, &ukey, &digest);
    let before = archived(&r);
    let out = r.path("j2.pdf");
    let run = r.zy_at(
        "+1h",
        &[
            "seal",
            "complete",
            "--home",
            s(&r.home),
            "--handle",
            &handle,
            "--signature",
            s(&sig),
            "-o",
            s(&out),
        ],
    );
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("expired"), "{}", run.both());
    assert!(!out.exists());
    assert_eq!(archived(&r), before);
    r.zy(&["seal", "prepare", "--home", s(&r.home), "--dept", "scjg", s(&pdf), "--ttl", "0"])
        .assert_one_line_error(2);
}
