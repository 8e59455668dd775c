//! Two-step (external) sealing over HTTP: POST /v1/licences/{id}/seals/prepare and …/complete on
//! the real server. The test plays the clerk's UKey with the department's key (moved out of the
//! home, so the server cannot sign for it): openssl over the digest, ring over the attributes.
//! Other departments, wrong signatures, expired and reused handles are refused, nothing archived.

mod api_support;

use api_support::*;
use base64::Engine;
use serde_json::{json, Value};
use zhengyin::api::auth::Role;
use zhengyin::api::ServeConfig;

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn unb64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(v.as_str().expect("base64 string")).expect("base64")
}

fn tree_size(url: &str) -> u64 {
    call("GET", &format!("{url}/v1/archive/tree-head"), None, None, None).json()["size"]
        .as_u64()
        .expect("size")
}

/// The whole two-step flow and its refusals, through the HTTP server.
#[test]
fn prepare_and_complete_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let dept = |d: &str| token(&home, Role::Department { dept: d.into() });
    let (dy, scjg, xzsp) = (dept("dy-xzsp"), dept("scjg"), dept("xzsp"));
    // The scjg key lives in the clerk's UKey, not in the home.
    let ukey = tmp.path().join("ukey-scjg.pem");
    std::fs::rename(home.seal_key("scjg"), &ukey).unwrap();
    let s = start(&home, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, None);

    let data: Value =
        serde_json::from_slice(&std::fs::read(repo().join("fixtures/data/joint-approval.json")).unwrap())
            .unwrap();
    let r = post_json(
        &format!("{}/v1/licences", s.url),
        Some(&dy),
        &json!({"template": "joint-approval", "data": data}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["archive_id"].as_str().unwrap().to_string();
    let prep_url = format!("{}/v1/licences/{id}/seals/prepare", s.url);
    let done_url = format!("{}/v1/licences/{id}/seals/complete", s.url);
    let prepare = |body: Value| {
        let r = post_json(&prep_url, Some(&scjg), &body);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json()
    };

    // Out of the plan's order (xzsp is last), and without a token: refused before any handle.
    post_json(&prep_url, Some(&xzsp), &json!({})).problem(409);
    post_json(&prep_url, None, &json!({})).problem(401);

    // The digest is SHA-256 of the signed attributes, and the UKey signs it (openssl: DER).
    let p = prepare(json!({}));
    let attrs = unb64(&p["signed_attributes"]);
    let digest = unb64(&p["digest_to_sign"]);
    assert_eq!(digest, ring::digest::digest(&ring::digest::SHA256, &attrs).as_ref());
    let digest_file = tmp.path().join("digest.bin");
    std::fs::write(&digest_file, &digest).unwrap();
    let sig_file = tmp.path().join("sig.der");
    let o = std::process::Command::new("openssl")
        .args(["pkeyutl", "-sign", "-inkey"])
        .arg(&ukey)
        .arg("-in")
        .arg(&digest_file)
        .arg("-out")
        .arg(&sig_file)
        .status()
        .unwrap();
    assert!(o.success());
    let sig = std::fs::read(&sig_file).unwrap();
    let handle = p["handle"].as_str().unwrap().to_string();
    let size = tree_size(&s.url);

    // Another department may not spend scjg's handle (and does not spend it by trying).
    post_json(&done_url, Some(&xzsp), &json!({"handle": handle, "signature": b64(&sig)})).problem(403);
    // Malformed requests: a handle that is no handle, both or neither of the two values.
    post_json(&done_url, Some(&scjg), &json!({"handle": "../x", "signature": b64(&sig)})).problem(400);
    post_json(&done_url, Some(&scjg), &json!({"handle": handle})).problem(400);
    post_json(
        &done_url,
        Some(&scjg),
        &json!({"handle": "0123456789abcdef0123456789abcdef", "signature": b64(&sig)}),
    )
    .problem(404);

    let r = post_json(&done_url, Some(&scjg), &json!({"handle": handle, "signature": b64(&sig)}));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let sealed = r.json();
    assert_eq!(sealed["sealed_by"], "scjg");
    assert_eq!(sealed["present"], 2);
    let pdf = pdf_of(&sealed);
    let rep =
        call("POST", &format!("{}/v1/verify", s.url), None, Some(("application/pdf", &pdf)), None).json();
    assert_eq!(rep["indication"], "TOTAL-PASSED", "{rep:#}");
    assert_eq!(rep["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(tree_size(&s.url), size + 1);
    // Single use.
    post_json(&done_url, Some(&scjg), &json!({"handle": handle, "signature": b64(&sig)})).problem(409);
    assert_eq!(tree_size(&s.url), size + 1);

    // The last seal (xzsp) on the new record, sent back as a CMS SignerInfo.
    let id2 = sealed["archive_id"].as_str().unwrap();
    let r = post_json(&format!("{}/v1/licences/{id2}/seals/prepare", s.url), Some(&xzsp), &json!({}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let p = r.json();
    let si = signer_info(&unb64(&p["certificate"]), &unb64(&p["signed_attributes"]), &home.seal_key("xzsp"));
    let done2 = format!("{}/v1/licences/{id2}/seals/complete", s.url);
    let r = post_json(&done2, Some(&xzsp), &json!({"handle": p["handle"], "signer_info": b64(&si)}));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["locked"], true);
}

/// A DER CMS SignerInfo over `attrs` by the PKCS#8 key at `key` for certificate `cert`.
fn signer_info(cert: &[u8], attrs: &[u8], key: &std::path::Path) -> Vec<u8> {
    use cms::signed_data::{SignerIdentifier, SignerInfo};
    use der::{Decode, Encode};
    let c = x509_cert::Certificate::from_der(cert).unwrap();
    let der = zhengyin::pki::keys::read_key_der(key).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let k = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &der,
        &rng,
    )
    .unwrap();
    let sig = k.sign(&rng, attrs).unwrap();
    let alg = |oid| spki::AlgorithmIdentifierOwned { oid, parameters: None };
    SignerInfo {
        version: cms::content_info::CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(cms::cert::IssuerAndSerialNumber {
            issuer: c.tbs_certificate.issuer.clone(),
            serial_number: c.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: alg(const_oid::db::rfc5912::ID_SHA_256),
        signed_attrs: Some(der::asn1::SetOfVec::from_der(attrs).unwrap()),
        signature_algorithm: alg(const_oid::db::rfc5912::ECDSA_WITH_SHA_256),
        signature: der::asn1::OctetString::new(sig.as_ref()).unwrap(),
        unsigned_attrs: None,
    }
    .to_der()
    .unwrap()
}

/// A wrong signature (another key's, over the right digest) and an expired handle are refused,
/// and nothing is archived; a raw r‖s signature over the attributes is accepted.
#[test]
fn wrong_signature_and_expired_handle_file_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let dept = |d: &str| token(&home, Role::Department { dept: d.into() });
    let (dy, scjg) = (dept("dy-xzsp"), dept("scjg"));
    let key = |d: &str| {
        let der = zhengyin::pki::keys::read_key_der(&home.seal_key(d)).unwrap();
        let rng = ring::rand::SystemRandom::new();
        ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
            &rng,
        )
        .unwrap()
    };
    let (right, wrong) = (key("scjg"), key("xzsp"));
    std::fs::remove_file(home.seal_key("scjg")).unwrap();
    let s = start(&home, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, None);
    let data: Value =
        serde_json::from_slice(&std::fs::read(repo().join("fixtures/data/joint-approval.json")).unwrap())
            .unwrap();
    let r = post_json(
        &format!("{}/v1/licences", s.url),
        Some(&dy),
        &json!({"template": "joint-approval", "data": data}),
    );
    let id = r.json()["archive_id"].as_str().unwrap().to_string();
    let prep_url = format!("{}/v1/licences/{id}/seals/prepare", s.url);
    let done_url = format!("{}/v1/licences/{id}/seals/complete", s.url);
    let prepare = |body: Value| {
        let r = post_json(&prep_url, Some(&scjg), &body);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        (v["handle"].as_str().unwrap().to_string(), unb64(&v["signed_attributes"]))
    };
    let sign = |k: &ring::signature::EcdsaKeyPair, m: &[u8]| {
        k.sign(&ring::rand::SystemRandom::new(), m).unwrap().as_ref().to_vec()
    };
    let size = tree_size(&s.url);

    let (h, attrs) = prepare(json!({}));
    let p = post_json(&done_url, Some(&scjg), &json!({"handle": h, "signature": b64(&sign(&wrong, &attrs))}))
        .problem(422);
    assert!(p["detail"].as_str().unwrap().contains("nothing was filed"), "{p}");
    post_json(&done_url, Some(&scjg), &json!({"handle": h, "signature": b64(&[7u8; 10])})).problem(409);

    post_json(&prep_url, Some(&scjg), &json!({"ttl_seconds": 0})).problem(400);
    post_json(&prep_url, Some(&scjg), &json!({"ttl_seconds": 100000})).problem(400);
    let (h, attrs) = prepare(json!({"ttl_seconds": 1}));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    post_json(&done_url, Some(&scjg), &json!({"handle": h, "signature": b64(&sign(&right, &attrs))}))
        .problem(410);
    assert_eq!(tree_size(&s.url), size);

    // Raw r‖s (64 bytes, as PKCS#11 and many UKey drivers give it) over the attributes.
    let (h, attrs) = prepare(json!({"ttl_seconds": 300}));
    let raw = sign(&right, &attrs);
    assert_eq!(raw.len(), 64);
    let r = post_json(&done_url, Some(&scjg), &json!({"handle": h, "signature": b64(&raw)}));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(tree_size(&s.url), size + 1);
}
