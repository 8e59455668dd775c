//! Changed and extended licences: a changed signed byte is a hash failure for every verifier;
//! data appended after signing never yields TOTAL-PASSED.

mod common;

use std::path::PathBuf;

use common::*;

/// Issue a business licence and return the region, its PDF bytes and the exported root.
fn setup() -> (Region, Vec<u8>, PathBuf) {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "orig.pdf");
    let root = r.export_root("root.pem");
    let bytes = std::fs::read(pdf).unwrap();
    (r, bytes, root)
}

/// Write `bytes` as `<dir>/<name>` and verify it with the region's home.
fn verify_bytes(r: &Region, name: &str, bytes: &[u8]) -> (PathBuf, Run) {
    let p = r.path(name);
    std::fs::write(&p, bytes).unwrap();
    let v = r.verify_json(&p);
    (p, v)
}

/// Assert a HASH_FAILURE verdict (exit 1, TOTAL-FAILED) from zhengyin.
fn assert_hash_failure(v: &Run) {
    v.assert_code(1);
    let j = v.json();
    assert_eq!(j["indication"], "TOTAL-FAILED", "{}", v.both());
    assert_eq!(j["sub_indication"], "HASH_FAILURE", "{}", v.both());
    let sig = first_sig(&j);
    assert_eq!(sig["sub_indication"], "HASH_FAILURE", "{}", v.both());
    assert_eq!(check_status(sig, "INTEGRITY"), "FAILED", "{}", v.both());
}

/// Assert that an appended/extended file is not accepted as a valid licence.
fn assert_not_passed(v: &Run) {
    v.assert_code(1);
    let j = v.json();
    assert_ne!(j["indication"], "TOTAL-PASSED", "{}", v.both());
    assert_ne!(first_sig(&j)["indication"], "TOTAL-PASSED", "{}", v.both());
}

/// One changed digit of the Info dictionary's /CreationDate (inside the signed range) breaks the
/// signature for pdfsig, pyHanko and zhengyin (HASH_FAILURE), while the file still parses.
#[test]
fn changed_info_byte_is_hash_failure_everywhere() {
    let (r, orig, root) = setup();
    let mut bytes = orig.clone();
    let at = creation_date_digit(&bytes);
    bytes[at] = if bytes[at] == b'7' { b'8' } else { b'7' };
    assert_ne!(bytes, orig);
    let (p, v) = verify_bytes(&r, "tampered.pdf", &bytes);
    assert_hash_failure(&v);

    if have_tool("qpdf") {
        // Still a well-formed PDF: the failure is the signature's, not the parser's.
        let q = run_in(r.dir.path(), "qpdf", &["--check", s(&p)]);
        assert_eq!(q.code, 0, "the tampered file should still parse\n{}", q.both());
    }
    if have_tool("pdfsig") {
        let o = run_in(r.dir.path(), "pdfsig", &[s(&p)]);
        assert!(!o.stdout.contains("Signature is Valid"), "pdfsig still calls it valid\n{}", o.both());
        assert!(
            o.stdout.contains("Digest Mismatch") || o.stdout.contains("Signature is Invalid"),
            "pdfsig\n{}",
            o.both()
        );
    }
    if have_tool("pyhanko") {
        let o = run_in(
            r.dir.path(),
            "pyhanko",
            &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&p)],
        );
        assert!(!o.stdout.contains("INTACT") || o.code != 0, "pyHanko still calls it intact\n{}", o.both());
    }
}

/// One changed byte inside the compressed page content stream is a HASH_FAILURE (exit 1, not 2).
#[test]
fn changed_content_stream_byte_is_hash_failure() {
    let (r, orig, _) = setup();
    let mut bytes = orig.clone();
    let at = content_stream_byte(&bytes);
    bytes[at] ^= 0x01;
    let (p, v) = verify_bytes(&r, "tampered-content.pdf", &bytes);
    assert_hash_failure(&v);
    if have_tool("pdfsig") {
        let o = run_in(r.dir.path(), "pdfsig", &[s(&p)]);
        assert!(!o.stdout.contains("Signature is Valid"), "pdfsig still calls it valid\n{}", o.both());
    }
}

/// A changed byte inside the /Contents hex (the signature value itself) is never TOTAL-PASSED.
#[test]
fn changed_signature_value_fails() {
    let (r, orig, _) = setup();
    let mut bytes = orig.clone();
    let [_, a1, _, _] = byte_range(&bytes);
    // a1 is '<'; the DER starts right after it. Change a byte well inside the signer's data.
    let at = a1 + 1 + 200;
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    let (_, v) = verify_bytes(&r, "tampered-sig.pdf", &bytes);
    assert_not_passed(&v);
}

/// An incremental update that rewrites the Info dictionary (an object of the signed revision) is
/// reported as a modification: exit 1, not TOTAL-PASSED.
#[test]
fn incremental_update_changing_signed_object_fails() {
    let (r, orig, root) = setup();
    let info = info_object_number(&orig);
    let bytes = incremental_update(&orig, &[(info, "<</Title(Forged)/Producer(evil)>>".to_string())], None);
    let (p, v) = verify_bytes(&r, "update-info.pdf", &bytes);
    assert_not_passed(&v);
    let j = v.json();
    assert_eq!(check_status(first_sig(&j), "MODIFICATIONS"), "FAILED", "{}", v.both());
    assert_eq!(
        check_status(first_sig(&j), "INTEGRITY"),
        "PASSED",
        "the original signed bytes are intact\n{}",
        v.both()
    );
    if have_tool("qpdf") {
        let q = run_in(r.dir.path(), "qpdf", &["--check", s(&p)]);
        assert_eq!(q.code, 0, "the crafted update should be a well-formed PDF\n{}", q.both());
    }
    let _ = root;
}

/// An incremental update that points the page at other content is reported as a modification.
#[test]
fn incremental_update_replacing_page_fails() {
    let (r, orig, _) = setup();
    let page_at =
        find(&orig, b"/Type/Page/", 0).or_else(|| find(&orig, b"/Type /Page ", 0)).expect("page object");
    let obj_kw = rfind(&orig[..page_at], b" 0 obj").expect("page object header");
    let line_start = rfind(&orig[..obj_kw], b"\n").map(|n| n + 1).unwrap_or(0);
    let page: usize =
        std::str::from_utf8(&orig[line_start..obj_kw]).unwrap().trim().parse().expect("page object number");
    let n = next_object_number(&orig);
    let bytes = incremental_update(
        &orig,
        &[
            (n, "<</Length 30>>\nstream\nBT /F1 24 Tf 100 700 Td ET\n\nendstream".to_string()),
            (page, format!("<</Type/Page/MediaBox[0 0 595.28 841.89]/Contents {n} 0 R>>")),
        ],
        None,
    );
    let (_, v) = verify_bytes(&r, "update-page.pdf", &bytes);
    assert_not_passed(&v);
    assert_eq!(check_status(first_sig(&v.json()), "MODIFICATIONS"), "FAILED", "{}", v.both());
}

/// Garbage bytes appended after the final %%EOF are not accepted as an intact licence.
#[test]
fn appended_garbage_is_not_total_passed() {
    let (r, orig, _) = setup();
    let mut bytes = orig.clone();
    bytes.extend_from_slice(b"garbage appended after the signature\n");
    let (_, v) = verify_bytes(&r, "garbage.pdf", &bytes);
    assert_not_passed(&v);
}

/// An incremental update that swaps the trailer's /Info for a new dictionary (forged licence
/// metadata) is not accepted, and the forged identifier is not reported as valid.
#[test]
fn incremental_update_swapping_info_is_not_total_passed() {
    let (r, orig, _) = setup();
    let n = next_object_number(&orig);
    let forged = "<</Title(Forged)/ZZBS(1.2.156.3005.2.FORGED)/ZZBH(000000)>>".to_string();
    let bytes = incremental_update(&orig, &[(n, forged)], Some(n));
    let (_, v) = verify_bytes(&r, "update-new-info.pdf", &bytes);
    assert_not_passed(&v);
}

/// Sanity: the untouched original passes, so the failures above come from the edits.
#[test]
fn untouched_copy_still_passes() {
    let (r, orig, _) = setup();
    let (_, v) = verify_bytes(&r, "copy.pdf", &orig);
    v.assert_code(0);
    assert_eq!(v.json()["indication"], "TOTAL-PASSED", "{}", v.both());
    // And the helpers find their targets inside the first signed range.
    let [_, a1, _, _] = byte_range(&orig);
    assert!(creation_date_digit(&orig) < a1 && content_stream_byte(&orig) < a1);
}
