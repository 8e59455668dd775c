//! Seal keys in a PKCS#11 token (SoftHSM2 standing in for a cipher machine or HSM), end to end
//! through the CLI: `init --pkcs11` makes the department keys inside the token and certifies them,
//! issue / seal add / proofs sign through C_Sign, the results verify here and in the outside
//! validators, the keys cannot be read out, and a wrong PIN or a missing token, module or key is a
//! one-line error with nothing archived. `serve` seals with the token's keys over HTTP, and a
//! server whose token refuses its PIN answers 503 problem+json, files nothing and stays up.

mod api_support;
mod common;

use api_support::{call, post_json, token as api_token};
use common::softhsm::{zy_pin, Token, PIN};
use common::*;
use serde_json::json;
use zhengyin::api::auth::Role;
use zhengyin::config::Home;

/// The home's archive record count (`archive list`).
fn archived(r: &Region) -> usize {
    let l = r.zy(&["archive", "list", "--home", s(&r.home)]);
    l.assert_code(0);
    l.stdout.lines().filter(|x| !x.trim().is_empty()).count()
}

/// Issue and joint seals with token keys verify here and in pyHanko, pdfsig and qpdf; a proof's
/// JWS (ES256, raw r‖s from the token) verifies too; no department key file exists.
#[test]
fn token_keys_issue_seal_and_verify() {
    let Some(t) = Token::new("zy-hsm-issue") else { return };
    let r = t.init_region(&[]);
    let region = std::fs::read_to_string(r.home.join("region.toml")).unwrap();
    assert_eq!(region.matches("key = \"pkcs11:token=zy-hsm-issue;object=seal-").count(), 6, "{region}");
    assert!(!region.contains(PIN), "the PIN must never be written in region.toml");
    for (dept, _) in DEPARTMENTS {
        assert!(!r.home.join(format!("pki/private/seal-{dept}.key.pem")).exists(), "{dept} has a key file");
    }
    let keys: Vec<String> = r.private_files().into_keys().collect();
    assert!(keys.iter().all(|k| !k.starts_with("seal-")), "seal key files in the home: {keys:?}");

    let (j1, _) = r.issue("joint-approval", None, "j1.pdf");
    let j2 = r.path("j2.pdf");
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "scjg", s(&j1), "-o", s(&j2)]).assert_code(0);
    let j3 = r.path("j3.pdf");
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "xzsp", s(&j2), "-o", s(&j3)]).assert_code(0);
    r.zy(&["verify", "--home", s(&r.home), s(&j3)]).assert_code(0);
    assert_outside_validators(&r, &j3, 3);

    let (_, jws) = r.request_proof("proof.pdf", &[]);
    r.zy(&["proof", "verify", "--home", s(&r.home), s(&jws)]).assert_code(0);
}

/// The private keys `init --pkcs11` made are sensitive and never extractable: CKA_VALUE cannot be
/// read from the token.
#[test]
fn token_keys_cannot_be_extracted() {
    use cryptoki::object::{Attribute, AttributeInfo, AttributeType, ObjectClass};
    let Some(t) = Token::new("zy-hsm-extract") else { return };
    let _r = t.init_region(&["--pkcs11-dept", "scjg"]);
    let session = t.session();
    let found = session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Label(b"seal-scjg".to_vec())])
        .unwrap();
    assert_eq!(found.len(), 1, "one private key seal-scjg in the token");
    let key = found[0];
    let attrs = session
        .get_attributes(key, &[AttributeType::Extractable, AttributeType::Sensitive, AttributeType::Token])
        .unwrap();
    for a in &attrs {
        match a {
            Attribute::Extractable(v) => assert!(!v, "CKA_EXTRACTABLE must be false"),
            Attribute::Sensitive(v) => assert!(v, "CKA_SENSITIVE must be true"),
            Attribute::Token(v) => assert!(v, "CKA_TOKEN must be true"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(attrs.len(), 3, "{attrs:?}");
    let info = session.get_attribute_info(key, &[AttributeType::Value]).unwrap();
    assert!(
        matches!(info[..], [AttributeInfo::Sensitive | AttributeInfo::Unavailable]),
        "CKA_VALUE: {info:?}"
    );
    let value = session.get_attributes(key, &[AttributeType::Value]);
    assert!(
        value.map(|v| v.iter().all(|a| !matches!(a, Attribute::Value(_)))).unwrap_or(true),
        "CKA_VALUE was returned"
    );
    // Only scjg went into the token; the other departments kept key files.
    let files = _r.private_files();
    assert!(!files.contains_key("seal-scjg.key.pem") && files.contains_key("seal-xzsp.key.pem"), "{files:?}");
}

/// A wrong PIN (from ZHENGYIN_PKCS11_PIN) is one clear line, exit 2, and nothing is issued or
/// archived.
#[test]
fn wrong_pin_is_refused_and_nothing_archived() {
    let Some(t) = Token::new("zy-hsm-pin") else { return };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let init = ["init", "--home", s(&home), "--pkcs11", s(&t.module), "--token", "zy-hsm-pin"];
    zy_pin(dir.path(), "000000", &init).assert_one_line_error(2);
    zy_pin(dir.path(), PIN, &init).assert_code(0);
    let r = Region { dir, home };
    let data = data_file("business-licence");
    let issue = |pin: &str, out: &str| {
        let pdf = r.path(out);
        let args = [
            "issue",
            "--home",
            s(&r.home),
            "--template",
            "business-licence",
            "--data",
            s(&data),
            "-o",
            s(&pdf),
        ];
        (zy_pin(r.dir.path(), pin, &args), pdf)
    };
    let (ok, _) = issue(PIN, "ok.pdf");
    ok.assert_code(0);
    let before = archived(&r);
    let (run, pdf) = issue("111111", "bad.pdf");
    run.assert_one_line_error(2);
    assert!(
        run.stderr.contains("PKCS#11 login to token zy-hsm-pin failed: wrong PIN (CKR_PIN_INCORRECT)"),
        "{}",
        run.both()
    );
    assert!(!pdf.exists(), "a PDF was written");
    assert_eq!(archived(&r), before, "the archive gained a record");
    // Without any PIN: told where a PIN comes from (never an argument).
    let (_, run) = r.try_issue("business-licence", None, "none.pdf");
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("ZHENGYIN_PKCS11_PIN"), "{}", run.both());
}

/// A key URI naming a missing module, token or key object is a one-line error, exit 2.
#[test]
fn missing_module_token_or_key_is_a_clear_error() {
    let Some(t) = Token::new("zy-hsm-missing") else { return };
    let r = t.init_region(&["--pkcs11-dept", "scjg"]);
    let path = r.home.join("region.toml");
    let good = std::fs::read_to_string(&path).unwrap();
    let module = s(&t.module).to_string();
    for (from, to, says) in [
        (
            module.as_str(),
            "/nonexistent/libpkcs11.so",
            "cannot load the PKCS#11 module /nonexistent/libpkcs11.so",
        ),
        ("token=zy-hsm-missing", "token=zy-no-such", "no PKCS#11 token labelled `zy-no-such`"),
        ("object=seal-scjg", "object=seal-gone", "holds no private key `seal-gone`"),
    ] {
        std::fs::write(&path, good.replace(from, to)).unwrap();
        let pdf = r.path("l.pdf");
        let data = data_file("business-licence");
        let args = [
            "issue",
            "--home",
            s(&r.home),
            "--template",
            "business-licence",
            "--data",
            s(&data),
            "-o",
            s(&pdf),
        ];
        let run = r.zy(&args);
        run.assert_one_line_error(2);
        assert!(run.stderr.contains(says), "expected `{says}`\n{}", run.both());
    }
}

/// `init` never overwrites key objects already in the token: refused without --force, replaced
/// with it (and the new keys seal).
#[test]
fn init_refuses_existing_token_objects_without_force() {
    let Some(t) = Token::new("zy-hsm-force") else { return };
    let _first = t.init_region(&["--pkcs11-dept", "scjg"]);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let pin = dir.path().join("pin");
    std::fs::write(&pin, PIN).unwrap();
    let mut args = vec!["init", "--home", s(&home), "--pkcs11", s(&t.module), "--token", &t.label];
    args.extend(["--pin-file", s(&pin), "--pkcs11-dept", "scjg"]);
    let run = zy(dir.path(), &args);
    run.assert_one_line_error(2);
    assert!(
        run.stderr.contains("already holds `seal-scjg`") && run.stderr.contains("--force"),
        "{}",
        run.both()
    );
    args.push("--force");
    zy(dir.path(), &args).assert_code(0);
    let r = Region { dir, home };
    let (pdf, _) = r.issue("business-licence", None, "l.pdf");
    r.zy(&["verify", "--home", s(&r.home), s(&pdf)]).assert_code(0);
}

/// `zhengyin serve` seals with token keys: a licence issued over HTTP and a joint licence sealed by
/// three departments in turn verify over HTTP and in the outside validators; a second server whose
/// PIN file holds a wrong PIN answers 503 problem+json (no token name in it), files nothing and
/// still answers /healthz.
#[test]
fn serve_seals_with_token_keys_and_a_wrong_pin_is_a_503() {
    let Some(t) = Token::new("zy-hsm-serve") else { return };
    let r = t.init_region(&[]);
    let home = Home { dir: r.home.clone() };
    let dept = |d: &str| api_token(&home, Role::Department { dept: d.into() });
    let (scjg, xzsp, dy) = (dept("scjg"), dept("xzsp"), dept("dy-xzsp"));
    let (mut child, url) = api_support::spawn_binary_with_log(&home, &r.path("serve.log"));
    let tree_size = |url: &str| {
        call("GET", &format!("{url}/v1/archive/tree-head"), None, None, None).json()["size"].clone()
    };

    let issued = post_json(&format!("{url}/v1/licences"), Some(&scjg), &api_support::business_licence());
    assert_eq!(issued.status, 201, "{}", String::from_utf8_lossy(&issued.body));
    let pdf = api_support::pdf_of(&issued.json());
    let rep = call("POST", &format!("{url}/v1/verify"), None, Some(("application/pdf", &pdf)), None);
    assert_eq!(rep.json()["indication"], "TOTAL-PASSED", "{}", String::from_utf8_lossy(&rep.body));

    let data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data_file("joint-approval")).unwrap()).unwrap();
    let r1 = post_json(
        &format!("{url}/v1/licences"),
        Some(&dy),
        &json!({"template": "joint-approval", "data": data}),
    );
    assert_eq!(r1.status, 201, "{}", String::from_utf8_lossy(&r1.body));
    let mut id = r1.json()["archive_id"].as_str().unwrap().to_string();
    let mut last = serde_json::Value::Null;
    for tok in [&scjg, &xzsp] {
        let r = post_json(&format!("{url}/v1/licences/{id}/seals"), Some(tok), &json!({}));
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        last = r.json();
        id = last["archive_id"].as_str().unwrap().to_string();
    }
    assert_eq!(last["locked"], true, "{last}");
    let joint = r.path("joint.pdf");
    std::fs::write(&joint, api_support::pdf_of(&last)).unwrap();
    assert_outside_validators(&r, &joint, 3);
    let filed = tree_size(&url);
    let _ = child.kill();
    let _ = child.wait();

    // The same home, its PIN file now wrong: the token refuses the login on the first seal.
    std::fs::write(r.dir.path().join("pin"), "999999\n").unwrap();
    let (mut child, url) = api_support::spawn_binary_args(&home, &r.path("serve2.log"), &[]);
    let refused = post_json(&format!("{url}/v1/licences"), Some(&scjg), &api_support::business_licence());
    let problem = refused.problem(503);
    assert_eq!(problem["type"].as_str().map(|t| t.ends_with("key-unavailable")), Some(true), "{problem}");
    assert!(!String::from_utf8_lossy(&refused.body).contains("zy-hsm-serve"), "token name leaked: {problem}");
    assert_eq!(call("GET", &format!("{url}/healthz"), None, None, None).status, 200);
    assert_eq!(tree_size(&url), filed, "a record was filed without a seal");
    let log = std::fs::read_to_string(r.path("serve2.log")).unwrap_or_default();
    assert!(log.contains("wrong PIN"), "the server log names the cause: {log}");
    let _ = child.kill();
    let _ = child.wait();
}
