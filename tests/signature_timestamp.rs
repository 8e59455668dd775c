//! PAdES B-T by default: every kind of PDF zhengyin seals (licence, joint seals, proof, annotated
//! copy, commitment) carries a signature-time-stamp-token from the region's TSA that `zhengyin
//! verify` reports (TIMESTAMP check, `timestamp.gen_time`) and pyHanko validates; a broken or
//! transplanted token makes the signature fail (docs/verification-report.md, TIMESTAMP).

mod common;

use std::path::{Path, PathBuf};

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use common::*;
use der::{Decode, Encode, Reader};
use serde_json::Value;

const ALICE: &str = "370902199001011235"; // 测试员甲: social insurance 正常
const MATTER: &str = "370900-XK-0001"; // 人力资源服务许可

fn load_holders(r: &Region) {
    for (dept, f) in
        [("rs", "rs-social-insurance.csv"), ("bdc", "bdc-real-estate.json"), ("scjg", "scjg-compliance.csv")]
    {
        let file = repo().join("fixtures/holders").join(f);
        r.zy(&["data", "load", "--home", s(&r.home), "--dept", dept, s(&file)]).assert_code(0);
    }
}

/// Every signature of the report has a passed TIMESTAMP check and a genTime.
fn assert_b_t(what: &str, report: &Value, sigs: usize) {
    let list = report["signatures"].as_array().expect("signatures");
    assert_eq!(list.len(), sigs, "{what}: {report:#}");
    for sig in list {
        assert_eq!(sig["indication"], "TOTAL-PASSED", "{what}: {sig:#}");
        assert!(sig["timestamp"]["gen_time"].as_str().is_some_and(|t| t.ends_with('Z')), "{what}: {sig:#}");
        assert!(
            sig["timestamp"]["tsa"].as_str().is_some_and(|t| t.contains("时间戳服务")),
            "{what}: {sig:#}"
        );
        let ts = sig["checks"].as_array().and_then(|c| c.iter().find(|c| c["name"] == "TIMESTAMP"));
        assert_eq!(ts.map(|c| &c["status"]), Some(&Value::from("PASSED")), "{what}: {sig:#}");
    }
}

/// pyHanko's pretty print shows a sound, trusted TSA token for each of `sigs` signatures.
fn assert_pyhanko_timestamps(r: &Region, pdf: &Path, sigs: usize) {
    if !have_tool("pyhanko") {
        assert!(!in_ci(), "pyhanko is required in CI");
        return;
    }
    let root = r.export_root("root.pem");
    let v = run_in(
        r.dir.path(),
        "pyhanko",
        &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), "--pretty-print", s(pdf)],
    );
    assert_eq!(v.code, 0, "{}", v.both());
    for needle in [
        "The timestamp token is cryptographically sound.",
        "The TSA certificate is trusted.",
        "The signature is judged VALID.",
    ] {
        assert_eq!(v.stdout.matches(needle).count(), sigs, "`{needle}`\n{}", v.both());
    }
}

/// A licence, a three-seal joint licence, a proof, an annotated copy and a commitment are all
/// PAdES B-T: each signature's timestamp verifies for zhengyin and for pyHanko.
#[test]
fn every_kind_of_sealed_pdf_is_b_t_for_zhengyin_and_pyhanko() {
    let r = Region::init();
    load_holders(&r);
    let (licence, _) = r.issue("business-licence", None, "licence.pdf");
    let (a1, run) = r.issue("joint-approval", None, "a1.pdf");
    let id = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("identifier"))
        .map(|s| s.trim().to_string())
        .expect("identifier line");
    let (a2, joint) = (r.path("a2.pdf"), r.path("a3.pdf"));
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "scjg", s(&a1), "-o", s(&a2)]).assert_code(0);
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "xzsp", s(&a2), "-o", s(&joint)]).assert_code(0);
    let (proof, _) = r.request_proof("proof.pdf", &[]);
    let copy = r.path("copy.pdf");
    r.zy(&[
        "licence",
        "use",
        "--home",
        s(&r.home),
        &id,
        "--by",
        "xzsp",
        "--purpose",
        MATTER,
        "--valid-until",
        "2099-12-31",
        "-o",
        s(&copy),
    ])
    .assert_code(0);
    let statement = r.path("statement.txt");
    std::fs::write(&statement, "本人承诺：本人社会保险参保状态正常。\n").expect("statement");
    let commitment = r.path("commitment.pdf");
    r.zy(&[
        "commit",
        "--home",
        s(&r.home),
        "--by",
        "xzsp",
        "--subject",
        ALICE,
        "--matter",
        MATTER,
        "--statement",
        s(&statement),
        "-o",
        s(&commitment),
    ])
    .assert_code(0);

    let kinds: [(&str, &PathBuf, usize); 5] = [
        ("licence", &licence, 1),
        ("joint licence", &joint, 3),
        ("proof", &proof, 1),
        ("annotated copy", &copy, 4),
        ("commitment", &commitment, 1),
    ];
    for (what, pdf, sigs) in kinds {
        let v = r.verify_json(pdf);
        v.assert_code(0);
        assert_b_t(what, &v.json(), sigs);
        assert_pyhanko_timestamps(&r, pdf, sigs);
        if what == "annotated copy" {
            assert_outside_validators(&r, pdf, sigs); // qpdf and pdfsig too, on the largest one
        }
    }
    // One ledger line per signature made (licence 1, joint 3, proof 1, copy 1, commitment 1).
    let log = r.zy(&["tsa", "log", "--json", "--home", s(&r.home)]);
    log.assert_code(0);
    assert_eq!(log.stdout.lines().count(), 7, "{}", log.both());
}

/// Replace the signature timestamp of the PDF's last signature with `token` (None: flip one
/// byte of the existing token), re-encoding the CMS into the same /Contents gap.
fn with_token(pdf: &[u8], token: Option<Vec<u8>>) -> Vec<u8> {
    let [_, a1, b0, _] = byte_range(pdf);
    let hex = &pdf[a1 + 1..b0 - 1];
    let der: Vec<u8> = hex
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("hex"), 16).expect("hex"))
        .collect();
    let mut reader = der::SliceReader::new(&der).expect("reader");
    let ci = ContentInfo::decode(&mut reader).expect("ContentInfo");
    let used = u32::from(reader.position()) as usize;
    let mut sd: SignedData = ci.content.decode_as().expect("SignedData");
    let mut infos: Vec<cms::signed_data::SignerInfo> = sd.signer_infos.0.iter().cloned().collect();
    let attrs = infos[0].unsigned_attrs.as_ref().expect("a B-T signature has unsigned attributes");
    let old =
        attrs.iter().next().expect("attribute").values.iter().next().expect("token").to_der().expect("der");
    let new = match token {
        Some(t) => t,
        None => {
            // Flip one byte of the message imprint (SHA-256 of the signature value) in the TSTInfo.
            let imprint = zhengyin::pades::cms::sha256(infos[0].signature.as_bytes());
            let mut t = old.clone();
            let at = t.windows(32).position(|w| w == imprint).expect("imprint in the token");
            t[at] ^= 0x01;
            t
        }
    };
    let attr = x509_cert::attr::Attribute {
        oid: zhengyin::pki::tsa::ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
        values: der::asn1::SetOfVec::try_from(vec![der::Any::from_der(&new).expect("token")]).expect("set"),
    };
    infos[0].unsigned_attrs = Some(der::asn1::SetOfVec::try_from(vec![attr]).expect("set"));
    sd.signer_infos = cms::signed_data::SignerInfos(der::asn1::SetOfVec::try_from(infos).expect("set"));
    let ci = ContentInfo { content_type: ci.content_type, content: der::Any::encode_from(&sd).expect("sd") };
    let bytes = ci.to_der().expect("encode");
    assert!(bytes.len() * 2 <= hex.len(), "re-encoded CMS does not fit ({} > {used})", bytes.len());
    let mut out = pdf.to_vec();
    let mut h: Vec<u8> = bytes.iter().flat_map(|b| format!("{b:02X}").into_bytes()).collect();
    h.resize(hex.len(), b'0');
    out[a1 + 1..b0 - 1].copy_from_slice(&h);
    out
}

/// A signature whose timestamp token was altered, or replaced by a genuine token of the same TSA
/// over other data, is TOTAL-FAILED with the TIMESTAMP check naming why; pyHanko does not call
/// its timestamp intact either.
#[test]
fn a_broken_or_transplanted_signature_timestamp_fails() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    let bytes = std::fs::read(&pdf).expect("pdf");
    let home = zhengyin::config::Home { dir: r.home.clone() };
    let tsa = zhengyin::pki::tsa::Tsa::load(&home).expect("tsa");
    let other = tsa
        .stamp(&zhengyin::pki::tsa::StampRequest {
            hash: const_oid::db::rfc5912::ID_SHA_256,
            digest: &zhengyin::pades::cms::sha256(b"another signature value"),
            nonce: None,
            cert_req: true,
            requester: "test",
        })
        .expect("stamp")
        .token;
    for (name, token, needle) in [
        ("altered.pdf", None, "HASH_FAILURE"),
        ("transplanted.pdf", Some(other), "message imprint does not match"),
    ] {
        let bad = r.path(name);
        std::fs::write(&bad, with_token(&bytes, token)).expect("write");
        let v = r.verify_json(&bad);
        v.assert_code(1);
        let j = v.json();
        let sig = first_sig(&j);
        assert_eq!(sig["indication"], "TOTAL-FAILED", "{name}: {sig:#}");
        assert_eq!(check_status(sig, "SIGNATURE"), "PASSED", "{name}: the seal itself is intact");
        assert_eq!(check_status(sig, "TIMESTAMP"), "FAILED", "{name}: {sig:#}");
        assert!(v.stdout.contains(needle), "{name}: no `{needle}`\n{}", v.both());
        assert!(sig["timestamp"].is_null(), "{name}: a failed timestamp was reported as proof");
        if have_tool("pyhanko") {
            let root = r.export_root("root.pem");
            let o = run_in(
                r.dir.path(),
                "pyhanko",
                &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&bad)],
            );
            assert!(
                !o.stdout.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>") || o.code != 0,
                "{name}: pyHanko still calls the timestamp intact\n{}",
                o.both()
            );
        }
    }
}
