//! Proof tokens bind their claims to their signer (issue 11 point 1, docs/proofs.md "Token
//! profile"): tokens forged with real keys of the region — another department's seal, a seal of
//! another trusted region named like ours, a genuine holder claiming an unlisted use — and tokens
//! breaking the JWS profile (crit, nbf, typ, alg, a malformed x5c entry) are each refused by
//! `zhengyin proof verify` (exit 1, a problem naming the rule) and by POST /v1/proofs/verify,
//! while a genuine token stays VALID.

mod api_support;

use std::path::Path;
use std::process::Command;

use api_support::*;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use zhengyin::api::ServeConfig;
use zhengyin::config::Home;

const ALICE: &str = "370902199001011235"; // synthetic, fixtures/holders/rs-social-insurance.csv

fn zy(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zhengyin")).args(args).output().expect("run zhengyin")
}

/// Sign `claims` with `dept`'s real seal key from `home`; `header` gets x5c (seal cert + CAs)
/// unless it already has one.
fn forge(home: &Home, dept: &str, mut header: Value, claims: &Value) -> String {
    let signer = zhengyin::pki::SealSigner::load(home, dept).expect("signer");
    if header.get("x5c").is_none() {
        let x5c: Vec<String> =
            std::iter::once(&signer.cert).chain(signer.chain.iter()).map(|c| STANDARD.encode(c)).collect();
        header["x5c"] = json!(x5c);
    }
    let der = zhengyin::pki::keys::read_key_der(&home.seal_key(dept)).expect("key");
    let rng = ring::rand::SystemRandom::new();
    let key = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &der,
        &rng,
    )
    .expect("p256 key");
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign(&rng, input.as_bytes()).expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

fn header() -> Value {
    json!({"alg": "ES256", "typ": "zhengyin-proof+jwt"})
}

/// A social-insurance answer for xzsp, as rs would sign it.
fn claims() -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({"iss": "rs", "iss_name": "泰安市人力资源和社会保障局", "sub": "HC00000000000000000000000000000000", "kind": "social-insurance",
           "purpose": "370900-XK-0001", "aud": "xzsp", "answer": "参保状态：正常；参保起始：2019-03", "found": true,
           "iat": now, "exp": now + 86_400, "jti": "ZM0000000000000001", "licence": "x"})
}

fn with(mut v: Value, k: &str, x: Value) -> Value {
    v[k] = x;
    v
}

/// A second region whose CA issued a seal certificate naming taian's `rs` exactly (OU and O),
/// imported into `taian`'s trust: its chain is trusted, its department is not ours.
fn foreign_rs(dir: &Path, taian: &Home) -> Home {
    let text = std::fs::read_to_string(repo().join("fixtures/region/jinan.toml")).unwrap()
        + "\n[[department]]\nid = \"rs\"\nname = \"泰安市人力资源和社会保障局\"\nuscc = \"11370900MB2857005A\"\nlevel = \"city\"\nca = \"city\"\nseal_text = \"证明专用章\"\n";
    let path = dir.join("jinan-rs.toml");
    std::fs::write(&path, &text).unwrap();
    let home = Home { dir: dir.join("jinan") };
    zhengyin::pki::init(&home, &text, &path, false).expect("init the other region");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let list = zhengyin::trust::list::build(&home, Some("http://127.0.0.1:9"), now).unwrap();
    let pin = zhengyin::trust::list::fingerprint(
        &zhengyin::pki::keys::read_certs_der(&home.ca_cert("root")).unwrap().remove(0),
    );
    let f = dir.join("jinan-list.json");
    std::fs::write(&f, serde_json::to_vec(&list).unwrap()).unwrap();
    zhengyin::api::refresh::import(taian, f.to_str().unwrap(), &pin)
        .expect("import the other region's trust list");
    home
}

fn cli_check(home: &Home, dir: &Path, name: &str, token: &str) -> (i32, Value) {
    let f = dir.join(format!("{name}.jws"));
    std::fs::write(&f, token).unwrap();
    let out = zy(&["proof", "verify", "--home", home.dir.to_str().unwrap(), "--json", f.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{name}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), v)
}

/// Every forged token is NOT VALID (CLI exit 1 and HTTP), each for the rule it breaks; the
/// genuine token and one re-signed by its true holder for its listed use are VALID.
#[test]
fn forged_proof_tokens_are_refused_by_the_rule_they_break() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("taian"), "taian");
    let out = zy(&[
        "data",
        "load",
        "--home",
        home.dir.to_str().unwrap(),
        "--dept",
        "rs",
        repo().join("fixtures/holders/rs-social-insurance.csv").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pdf = tmp.path().join("p.pdf");
    let out = zy(&[
        "proof",
        "request",
        "--home",
        home.dir.to_str().unwrap(),
        "--by",
        "xzsp",
        "--kind",
        "social-insurance",
        "--subject",
        ALICE,
        "--purpose",
        "370900-XK-0001",
        "-o",
        pdf.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let genuine = std::fs::read_to_string(pdf.with_extension("jws")).unwrap();
    let other = foreign_rs(tmp.path(), &home);

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let rs_chain: Vec<String> = {
        let s = zhengyin::pki::SealSigner::load(&home, "rs").unwrap();
        std::iter::once(&s.cert).chain(s.chain.iter()).map(|c| STANDARD.encode(c)).collect()
    };
    let mut bad_first = vec![STANDARD.encode(b"not a certificate")];
    bad_first.extend(rs_chain.iter().cloned());
    let forged: Vec<(&str, String, &str)> = vec![
        ("scjg-claims-rs", forge(&home, "scjg", header(), &claims()), "iss:"),
        // Signed by another region's `rs`: read as that region's answer (never Tai'an's rs), and
        // refused because no department of Tai'an asked that region for it.
        ("other-region-rs", forge(&other, "rs", header(), &claims()), "aud:"),
        (
            "unlisted-use",
            forge(
                &home,
                "rs",
                header(),
                &with(with(claims(), "aud", json!("scjg")), "purpose", json!("370900-XX-9999")),
            ),
            "aud/purpose:",
        ),
        (
            "kind-of-another-holder",
            forge(&home, "rs", header(), &with(claims(), "kind", json!("enterprise-compliance"))),
            "kind:",
        ),
        (
            "unknown-crit",
            forge(&home, "rs", with(with(header(), "crit", json!(["exp2"])), "exp2", json!(1)), &claims()),
            "crit:",
        ),
        ("future-nbf", forge(&home, "rs", header(), &with(claims(), "nbf", json!(now + 7 * 86_400))), "nbf:"),
        ("bad-first-x5c", forge(&home, "rs", with(header(), "x5c", json!(bad_first)), &claims()), "x5c:"),
        ("plain-jwt", forge(&home, "rs", with(header(), "typ", json!("JWT")), &claims()), "typ:"),
        ("other-alg", forge(&home, "rs", with(header(), "alg", json!("ES384")), &claims()), "alg:"),
        ("raw-id-subject", forge(&home, "rs", header(), &with(claims(), "sub", json!(ALICE))), "sub:"),
    ];
    let server = start(&home, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, None);
    let verify = format!("{}/v1/proofs/verify", server.url);
    for (name, token, rule) in &forged {
        let (code, v) = cli_check(&home, tmp.path(), name, token);
        assert_eq!((code, &v["valid"]), (1, &json!(false)), "{name}: {v}");
        let problems: Vec<String> =
            v["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
        assert!(
            problems.iter().any(|p| p.starts_with(rule)),
            "{name}: expected a `{rule}` problem, got {problems:?}"
        );
        let h = post_json(&verify, None, &json!({"token": token}));
        assert_eq!(h.status, 200, "{name}");
        assert_eq!(h.json()["valid"], false, "{name}: {}", String::from_utf8_lossy(&h.body));
        assert!(h.json()["problems"].to_string().contains(rule), "{name}");
    }
    // The genuine token, and rs signing its own answer for a listed use, are VALID.
    let honest = forge(&home, "rs", header(), &claims());
    for (name, token) in [("genuine", genuine.as_str()), ("honest", honest.as_str())] {
        let (code, v) = cli_check(&home, tmp.path(), name, token);
        assert_eq!(code, 0, "{name}: {v}");
        assert_eq!(v["department"], "rs", "{name}: {v}");
        assert_eq!(post_json(&verify, None, &json!({"token": token})).json()["valid"], true, "{name}");
    }
    let head: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(genuine.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(head["typ"], "zhengyin-proof+jwt");
}

/// The forged token shapes kept in fuzz/seeds/jws (a throwaway key posing as `rs`, crit, a bad
/// first x5c, typ JWT, alg none, a future nbf, an unlisted use …) are each refused, never a panic.
#[test]
fn kept_forged_token_shapes_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("taian"), "taian");
    let trust = zhengyin::trust::TrustStore::from_home(&home).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(repo().join("fuzz/seeds/jws")).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        if let Ok(c) = zhengyin::proofs::token::verify_jws(&text, &trust, std::time::SystemTime::now()) {
            assert!(!c.valid && !c.problems.is_empty(), "{}: {:?}", e.path().display(), c.problems);
        }
        n += 1;
    }
    assert!(n >= 10, "fuzz/seeds/jws holds the forged shapes");
}
