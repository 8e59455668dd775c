//! Cross-region verification (跨区域互认) on loopback: region A (泰安) and region B (济南) each
//! run the real server on their own 127.0.0.1 port. B cannot verify A's licence until it imports
//! A's signed trust list (pinned to A's root fingerprint); after A revokes the seal certificate,
//! B reports the revocation, and since when, after its next refresh.

mod api_support;

use std::time::{Duration, Instant};

use api_support::*;
use serde_json::{json, Value};
use zhengyin::api::auth::Role;
use zhengyin::api::ServeConfig;
use zhengyin::config::Home;

fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_zhengyin")).args(args).output().unwrap()
}

fn verify_at(url: &str, pdf: &[u8]) -> Value {
    let r = call("POST", &format!("{url}/v1/verify"), None, Some(("application/pdf", pdf)), None);
    assert_eq!(r.status, 200);
    r.json()
}

fn wait_for(what: &str, mut f: impl FnMut() -> Option<Value>) -> Value {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Tai'an (A, no refresh) and Jinan (B, refreshing every second) serving on loopback, with A's
/// scjg and city CA-operator tokens. Servers drop before the homes' directory.
struct TwoRegions {
    sa: Server,
    sb: Server,
    a: Home,
    b: Home,
    scjg_a: String,
    op_a: String,
    _tmp: tempfile::TempDir,
}

fn two_regions() -> TwoRegions {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_home(&tmp.path().join("taian"), "taian");
    let b = init_home(&tmp.path().join("jinan"), "jinan");
    let (scjg_a, op_a) = (
        token(&a, Role::Department { dept: "scjg".into() }),
        token(&a, Role::CaOperator { ca: "city".into() }),
    );
    let sa = start(&a, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, None);
    let sb = start(&b, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, Some(Duration::from_secs(1)));
    TwoRegions { sa, sb, a, b, scjg_a, op_a, _tmp: tmp }
}

#[test]
fn region_b_trusts_region_a_after_import_and_sees_its_revocation() {
    // Bound first, dropped last: the homes outlive the servers.
    let TwoRegions { _tmp, a, b, scjg_a, op_a, sa, sb } = two_regions();
    assert_ne!(sa.url, sb.url);

    let pdf =
        pdf_of(&post_json(&format!("{}/v1/licences", sa.url), Some(&scjg_a), &business_licence()).json());
    assert_eq!(verify_at(&sa.url, &pdf)["indication"], "TOTAL-PASSED");

    // Before import: B does not know A's root.
    let rep = verify_at(&sb.url, &pdf);
    assert_eq!(rep["indication"], "INDETERMINATE", "{rep}");
    assert_eq!(rep["sub_indication"], "NO_CERTIFICATE_CHAIN_FOUND", "{rep}");

    // A's trust list is signed by A's root; a wrong pin is refused.
    let list_url = format!("{}/v1/trust-list", sa.url);
    let list = call("GET", &list_url, None, None, None).json();
    assert_eq!(list["region"], "taian");
    assert_eq!(list["crl_urls"]["city"], format!("{}/v1/crl/city", sa.url));
    let fp = String::from_utf8(cli(&["trust", "fingerprint", "--home", a.dir.to_str().unwrap()]).stdout)
        .unwrap()
        .trim()
        .to_string();
    let fp_b = String::from_utf8(cli(&["trust", "fingerprint", "--home", b.dir.to_str().unwrap()]).stdout)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(fp.len(), 64);
    let bad = cli(&["trust", "add", "--home", b.dir.to_str().unwrap(), "--from", &list_url, "--pin", &fp_b]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("does not match the pinned"));

    // Import with the right pin: B verifies A's licence (after its refresh reloads the store).
    let ok = cli(&["trust", "add", "--home", b.dir.to_str().unwrap(), "--from", &list_url, "--pin", &fp]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(b.dir.join("trust/taian.json").exists() && b.dir.join("trust/taian-crl/city.crl").exists());
    let rep = wait_for("B to trust A", || {
        Some(verify_at(&sb.url, &pdf)).filter(|r| r["indication"] == "TOTAL-PASSED")
    });
    assert_eq!(check(&rep, "REVOCATION")["status"], "PASSED", "{rep}");

    // A revokes the seal certificate; after B's next refresh, B reports it revoked, since when.
    let r = post_json(
        &format!("{}/v1/certificates/{}/revoke", sa.url, seal_serial(&a, "scjg")),
        Some(&op_a),
        &json!({"reason": "keyCompromise", "compromised_at": an_hour_ago()}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let since = r.json()["revoked_at"].as_str().unwrap().to_string();
    let rep = wait_for("B to see the revocation", || {
        Some(verify_at(&sb.url, &pdf)).filter(|r| check(r, "REVOCATION")["status"] == "FAILED")
    });
    assert_ne!(rep["indication"], "TOTAL-PASSED");
    let detail = check(&rep, "REVOCATION")["detail"].as_str().unwrap().to_string();
    assert!(detail.contains(&since), "{detail}");
    // Named by A's CA (its issuer name), not by a file path of B's server.
    assert!(
        detail.contains("the CRL of")
            && detail.contains("泰安市市级电子印章CA")
            && !detail.contains("taian-crl"),
        "{detail}"
    );
}

#[test]
fn tampered_or_foreign_trust_lists_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_home(&tmp.path().join("taian"), "taian");
    let b = init_home(&tmp.path().join("jinan"), "jinan");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let list = zhengyin::trust::list::build(&a, Some("http://127.0.0.1:9"), now).unwrap();
    let root = zhengyin::pki::keys::read_certs_der(&a.ca_cert("root")).unwrap().remove(0);
    let pin = zhengyin::trust::list::fingerprint(&root);
    let bytes = serde_json::to_vec(&list).unwrap();
    assert!(zhengyin::trust::list::verify(&bytes, &pin, now).is_ok());
    // Changing any field breaks the signature.
    let mut t = list.clone();
    t.crl_urls.insert("city".into(), "http://evil.example/city.crl".into());
    assert!(zhengyin::trust::list::verify(&serde_json::to_vec(&t).unwrap(), &pin, now).is_err());
    // Expired lists are refused.
    assert!(zhengyin::trust::list::verify(&bytes, &pin, now + 30 * 86400).is_err());
    // Garbage is refused, not a panic.
    assert!(zhengyin::trust::list::verify(b"{]", &pin, now).is_err());
    // A region cannot import its own list; a file import works and fetches nothing it cannot.
    let f = tmp.path().join("taian.json");
    std::fs::write(&f, &bytes).unwrap();
    assert!(zhengyin::api::refresh::import(&a, f.to_str().unwrap(), &pin).is_err());
    let (l, crls) = zhengyin::api::refresh::import(&b, f.to_str().unwrap(), &pin).unwrap();
    assert_eq!((l.region.as_str(), crls), ("taian", 0));
    // A CRL from another CA does not pass as this list's.
    let crl_b = std::fs::read(b.crl("city")).unwrap();
    assert!(zhengyin::trust::list::check_crl(&list, &crl_b).is_err());
    assert!(zhengyin::trust::list::check_crl(&list, &std::fs::read(a.crl("city")).unwrap()).is_ok());
}

/// B follows A's CA key rollover through A's trust list: after `pki roll-ca city` at A, B verifies
/// A's new-key licences (it fetched the new key's CRL under its new name), and a revocation of a
/// seal certificate A's retired key issued reaches B through the retired key's CRL.
#[test]
fn region_b_follows_a_ca_key_rollover_of_region_a() {
    // Bound first, dropped last: the homes outlive the servers.
    let TwoRegions { _tmp, a, b, scjg_a, op_a, sa, sb } = two_regions();
    let issue =
        || pdf_of(&post_json(&format!("{}/v1/licences", sa.url), Some(&scjg_a), &business_licence()).json());
    let before = issue();
    let old_serial = seal_serial(&a, "scjg");
    let list_url = format!("{}/v1/trust-list", sa.url);
    let fp =
        String::from_utf8(cli(&["trust", "fingerprint", "--home", a.dir.to_str().unwrap()]).stdout).unwrap();
    let ok =
        cli(&["trust", "add", "--home", b.dir.to_str().unwrap(), "--from", &list_url, "--pin", fp.trim()]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));

    let rolled = cli(&["pki", "roll-ca", "--home", a.dir.to_str().unwrap(), "city"]);
    assert!(rolled.status.success(), "{}", String::from_utf8_lossy(&rolled.stderr));
    let list = call("GET", &list_url, None, None, None).json();
    let names: Vec<String> = list["crl_urls"].as_object().unwrap().keys().cloned().collect();
    assert!(names.contains(&"city".to_string()), "the retired key's CRL stays published: {names:?}");
    let new_name =
        names.iter().find(|n| n.starts_with("city-")).expect("the new key's CRL is published").clone();
    assert!(
        call("GET", &format!("{}/crl/{new_name}.crl", sa.url), None, None, None).status == 200,
        "the new key's CRL is served where its certificates say"
    );

    let after = issue();
    assert_ne!(seal_serial(&a, "scjg"), old_serial, "new seals use a new seal certificate");
    // A's running server saw the roll on disk (its trust store reloads when crl/ changes).
    assert_eq!(verify_at(&sa.url, &after)["indication"], "TOTAL-PASSED");
    assert_eq!(verify_at(&sa.url, &before)["indication"], "TOTAL-PASSED");
    let rep = wait_for("B to verify a new-key licence with revocation checked", || {
        Some(verify_at(&sb.url, &after))
            .filter(|r| r["indication"] == "TOTAL-PASSED" && check(r, "REVOCATION")["status"] == "PASSED")
    });
    assert!(b.dir.join(format!("trust/taian-crl/{new_name}.crl")).exists(), "{rep}");
    let rep = verify_at(&sb.url, &before);
    assert_eq!(rep["indication"], "TOTAL-PASSED", "{rep}");

    // The old seal certificate's key is compromised: only the retired CA key's CRL can say so.
    let r = post_json(
        &format!("{}/v1/certificates/{old_serial}/revoke", sa.url),
        Some(&op_a),
        &json!({"reason": "keyCompromise", "compromised_at": an_hour_ago()}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    wait_for("B to see the revocation by the retired key", || {
        Some(verify_at(&sb.url, &before)).filter(|r| check(r, "REVOCATION")["status"] == "FAILED")
    });
    assert_eq!(verify_at(&sb.url, &after)["indication"], "TOTAL-PASSED", "the new seal is not touched");
}
