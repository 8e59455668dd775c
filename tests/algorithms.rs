//! The signature algorithm policy, end to end: seals made outside zhengyin (pyHanko, with
//! department certificates of other key types issued under the home's CA by python
//! `cryptography`) verify by the curve of the signer's key and the SignerInfo's digest; algorithms
//! outside the policy are INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE, never TOTAL-FAILED.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

/// Issue a joint approval (first seal dy-xzsp), then have pyHanko apply scjg's seal in its
/// reserved field (pyHanko finds it) with a fresh `key` certificate and digest `md`. None when the tools are missing.
fn outside_sealed(r: &Region, key: &str, md: &str) -> Option<PathBuf> {
    if !have_tool("pyhanko") {
        return None;
    }
    let (first, _) = r.issue("joint-approval", None, "joint-1.pdf");
    let out = r.path(&format!("joint-2-{key}-{md}.pdf"));
    let script = repo().join("tests/support/outside_seal.py");
    let run = run_in(
        r.dir.path(),
        "python3",
        &[s(&script), s(&r.home), "city", "scjg", key, md, s(&first), s(&out)],
    );
    assert_eq!(run.code, 0, "outside seal\n{}", run.both());
    Some(out)
}

/// Complete the seal plan with zhengyin's own xzsp seal; returns the final PDF.
fn complete(r: &Region, pdf: &std::path::Path) -> PathBuf {
    let out = r.path("joint-3.pdf");
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "xzsp", s(pdf), "-o", s(&out)]).assert_code(0);
    out
}

fn sig(report: &Value, index: usize) -> &Value {
    report["signatures"].get(index).unwrap_or_else(|| panic!("no signature {index}:\n{report:#}"))
}

fn assert_passes(key: &str, md: &str, suite: &str) {
    let r = Region::init();
    let Some(second) = outside_sealed(&r, key, md) else { return };
    let last = complete(&r, &second);
    let run = r.verify_json(&last);
    let rep = run.json();
    let scjg = sig(&rep, 1);
    assert_eq!(scjg["indication"], "TOTAL-PASSED", "{scjg:#}");
    let detail = scjg["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "SIGNATURE"))
        .map(|c| c["detail"].to_string())
        .unwrap_or_default();
    assert!(detail.contains(suite), "SIGNATURE should name {suite}: {detail}");
    assert_eq!(rep["indication"], "TOTAL-PASSED", "{rep:#}");
    run.assert_code(0);
    assert_outside_validators(&r, &last, 3);
}

fn assert_outside_policy(key: &str, md: &str, word: &str) {
    let r = Region::init();
    let Some(second) = outside_sealed(&r, key, md) else { return };
    let run = r.verify_json(&second);
    run.assert_code(1);
    let rep = run.json();
    let scjg = sig(&rep, 1);
    assert_eq!(scjg["indication"], "INDETERMINATE", "{scjg:#}");
    assert_eq!(scjg["sub_indication"], "CRYPTO_CONSTRAINTS_FAILURE", "{scjg:#}");
    assert!(scjg.to_string().contains(word), "the report should name {word}:\n{scjg:#}");
    assert_eq!(rep["indication"], "INDETERMINATE", "{rep:#}");
}

/// A P-256 key with SHA-384 is verified on P-256 (the key's curve), not on P-384.
#[test]
fn p256_with_sha384_passes() {
    assert_passes("p256", "sha384", "ECDSA P-256 with SHA-384");
}

/// A P-384 department key with SHA-384 passes in zhengyin and in pyHanko.
#[test]
fn p384_with_sha384_passes() {
    assert_passes("p384", "sha384", "ECDSA P-384 with SHA-384");
}

/// A P-384 key with SHA-256 (the digest does not pick the curve either).
#[test]
fn p384_with_sha256_passes() {
    assert_passes("p384", "sha256", "ECDSA P-384 with SHA-256");
}

/// A P-521 department key with SHA-512 passes (RustCrypto p521: ring has no P-521).
#[test]
fn p521_with_sha512_passes() {
    assert_passes("p521", "sha512", "ECDSA P-521 with SHA-512");
}

/// An RSA-2048 key (PKCS#1 v1.5, SHA-256) is in the policy and passes.
#[test]
fn rsa2048_passes() {
    assert_passes("rsa2048", "sha256", "RSA PKCS#1 v1.5 with SHA-256");
}

/// A SHA-1 digest is outside the policy: INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE, exit 1.
#[test]
fn sha1_is_outside_the_policy() {
    assert_outside_policy("p256", "sha1", "SHA-1");
}

/// An RSA-1024 key is outside the policy: INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE, exit 1.
#[test]
fn rsa1024_is_outside_the_policy() {
    assert_outside_policy("rsa1024", "sha256", "1024-bit");
}
