//! Licence status end to end: `zhengyin verify` reports it beside the signature checks (a
//! superseded or cancelled licence is "not valid", exit 1, while its ETSI indication stays
//! TOTAL-PASSED); the document verdict names its rule (an incomplete seal plan is "incomplete");
//! the signed answer of GET /v1/status/{id} is refused after its nextUpdate and when signed by a
//! department seal key; department tokens change status over HTTP and an unauthorised one
//! archives nothing; a second region sees a cancellation after one refresh of the trust list.

mod api_support;
mod common;

use api_support::{call, init_home, pdf_of, post_json, start, token};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::*;
use serde_json::{json, Value};
use zhengyin::api::auth::Role;
use zhengyin::api::ServeConfig;

/// A superseded licence: TOTAL-PASSED signatures, verdict "not valid" by rule LICENCE_STATUS,
/// exit 1; the new version is valid; `--status off` ignores status.
#[test]
fn verify_reports_superseded_and_cancelled_licences() {
    let r = Region::init();
    let (v1, run) = r.issue("business-licence", None, "v1.pdf");
    let old = run.line_value("identifier");
    let rep = r.verify_json(&v1);
    rep.assert_code(0);
    let j = rep.json();
    assert_eq!(
        (j["verdict"]["result"].as_str(), j["verdict"]["rule"].as_str()),
        (Some("valid"), Some("ALL_CHECKS"))
    );
    assert_eq!(j["licence_status"]["status"], "valid");

    let mut d = sample_data("business-licence");
    d.insert("address".into(), Value::String("山东省泰安市泰山区示例路1号".into()));
    let data = r.path("changed.json");
    std::fs::write(&data, serde_json::to_vec(&Value::Object(d)).unwrap()).unwrap();
    let v2 = r.path("v2.pdf");
    r.zy(&["licence", "change", &old, "--home", s(&r.home), "--data", s(&data), "-o", s(&v2)]).assert_code(0);

    let rep = r.verify_json(&v1);
    rep.assert_code(1);
    let j = rep.json();
    assert_eq!(j["indication"], "TOTAL-PASSED", "the ETSI indication stays separate");
    assert_eq!(
        (j["verdict"]["result"].as_str(), j["verdict"]["rule"].as_str()),
        (Some("not valid"), Some("LICENCE_STATUS"))
    );
    assert_eq!(j["licence_status"]["status"], "superseded");
    let text = r.zy(&["verify", s(&v1), "--home", s(&r.home)]);
    text.assert_code(1);
    assert!(
        text.stdout.contains("verdict: NOT VALID (rule LICENCE_STATUS)")
            && text.stdout.contains("superseded"),
        "{}",
        text.both()
    );
    r.zy(&["verify", s(&v1), "--home", s(&r.home), "--status", "off"]).assert_code(0);
    r.verify_json(&v2).assert_code(0);
    // A batch applies the same rule, file by file.
    let batch = r.zy(&["verify", s(&v1), s(&v2), "--home", s(&r.home)]);
    batch.assert_code(1);
    let lines: Vec<&str> = batch.stdout.lines().collect();
    assert!(lines[0].starts_with("FAIL") && lines[0].contains("rule LICENCE_STATUS"), "{}", batch.both());
    assert!(lines[1].starts_with("ok"), "{}", batch.both());

    let new = r.verify_json(&v2).json()["licence"]["zzbs"].as_str().unwrap().to_string();
    r.zy(&["licence", "cancel", &new, "--home", s(&r.home), "--reason", "申请注销"]).assert_code(0);
    let text = r.zy(&["verify", s(&v2), "--home", s(&r.home)]);
    text.assert_code(1);
    assert!(text.stdout.contains("cancelled") && text.stdout.contains("申请注销"), "{}", text.both());
}

/// A joint licence between seals: TOTAL-PASSED, verdict "incomplete" by rule SEAL_PLAN, exit 1
/// (0 with --allow-incomplete).
#[test]
fn incomplete_seal_plan_is_an_incomplete_verdict() {
    let r = Region::init();
    let (pdf, _) = r.issue("joint-approval", None, "joint-1.pdf");
    let rep = r.verify_json(&pdf);
    rep.assert_code(1);
    let j = rep.json();
    assert_eq!(j["indication"], "TOTAL-PASSED");
    assert_eq!(
        (j["verdict"]["result"].as_str(), j["verdict"]["rule"].as_str()),
        (Some("incomplete"), Some("SEAL_PLAN"))
    );
    let text = r.zy(&["verify", s(&pdf), "--home", s(&r.home)]);
    assert!(text.stdout.contains("verdict: INCOMPLETE (rule SEAL_PLAN)"), "{}", text.both());
    r.zy(&["verify", s(&pdf), "--home", s(&r.home), "--allow-incomplete"]).assert_code(0);
}

/// A licence verified with only the region root (no home): status unknown is a warning, and a
/// genuine licence still exits 0.
#[test]
fn unknown_status_is_a_warning() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "a.pdf");
    let root = r.export_root("root.pem");
    let run = r.zy(&["verify", s(&pdf), "--trust", s(&root), "--json"]);
    run.assert_code(0);
    let j = run.json();
    assert_eq!(j["verdict"]["result"], "valid");
    assert_eq!(j["licence_status"]["status"], "unknown");
    assert!(j["verdict"]["warnings"][0].as_str().unwrap().starts_with("LICENCE_STATUS"), "{j}");
}

/// Sign `claims` as a compact ES256 JWS with the PKCS#8 key at `key`, carrying `cert` as x5c.
fn forge(key: &std::path::Path, cert: &std::path::Path, claims: &Value) -> String {
    use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let pem = std::fs::read_to_string(key).unwrap();
    let der = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap().1.contents;
    let rng = ring::rand::SystemRandom::new();
    let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng).unwrap();
    let cert_der = zhengyin::pki::keys::read_certs_der(cert).unwrap().remove(0);
    let header = json!({"alg": "ES256", "typ": "zhengyin-status+jwt", "x5c": [STANDARD.encode(cert_der)]});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = kp.sign(&rng, input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// Over HTTP: a department changes status (an unauthorised one is refused and archives nothing);
/// GET /v1/status answers a signed status that checks; the same answer replayed after its
/// nextUpdate is refused; the same claims signed by a department seal key are refused.
#[test]
fn http_lifecycle_and_signed_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_home(&tmp.path().join("taian"), "taian");
    let scjg = token(&a, Role::Department { dept: "scjg".into() });
    let xzsp = token(&a, Role::Department { dept: "xzsp".into() });
    let sa = start(&a, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, None);
    let issued =
        post_json(&format!("{}/v1/licences", sa.url), Some(&scjg), &api_support::business_licence()).json();
    let id = issued["identifier"].as_str().unwrap().to_string();

    // Unauthorised department: 403 naming who may, nothing archived.
    let size = sa.state.archive.size();
    let r = post_json(
        &format!("{}/v1/licences/{id}/status", sa.url),
        Some(&xzsp),
        &json!({"action": "cancel", "reason": "x"}),
    );
    let p = r.problem(403);
    assert!(p["detail"].as_str().unwrap().contains("may not change the status"), "{p}");
    assert_eq!(sa.state.archive.size(), size, "a refused transition archived something");
    // No token: 401; a bad action: 400.
    assert_eq!(
        post_json(&format!("{}/v1/licences/{id}/status", sa.url), None, &json!({"action": "cancel"})).status,
        401
    );
    post_json(&format!("{}/v1/licences/{id}/status", sa.url), Some(&scjg), &json!({"action": "explode"}))
        .problem(400);

    // Change over HTTP: a new sealed version; the old one answers superseded.
    let mut data = api_support::business_licence()["data"].clone();
    data["address"] = json!("山东省泰安市泰山区示例路2号");
    let r = post_json(
        &format!("{}/v1/licences/{id}/status", sa.url),
        Some(&scjg),
        &json!({"action": "change", "reason": "住所变更", "data": data}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let ch = r.json();
    let new = ch["new_identifier"].as_str().unwrap().to_string();
    assert!(new.contains(".002."), "{new}");
    assert!(!pdf_of(&ch).is_empty());
    let ans = call("GET", &format!("{}/v1/status/{id}", sa.url), None, None, None).json();
    assert_eq!(ans["status"], "superseded");
    let jws = ans["answer"].as_str().unwrap().to_string();
    let trust = zhengyin::trust::TrustStore::from_home(&a).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let c = zhengyin::licence::answer::verify_answer(&jws, &trust, now).unwrap();
    assert_eq!((c.status.as_str(), c.current_version.as_deref()), ("superseded", Some(new.as_str())));
    assert!(c.exp > c.iat);

    // Replayed after nextUpdate: refused (in the library, and through the CLI under faketime).
    let e = zhengyin::licence::answer::verify_answer(&jws, &trust, c.exp + 1).unwrap_err().to_string();
    assert!(e.contains("past its nextUpdate"), "{e}");
    let file = tmp.path().join("answer.jws");
    std::fs::write(&file, &jws).unwrap();
    zy(tmp.path(), &["status", "check", s(&file), "--home", s(&a.dir)]).assert_code(0);
    if have_tool("faketime") {
        let run = run_in(
            tmp.path(),
            "faketime",
            &["+15 minutes", BIN, "status", "check", s(&file), "--home", s(&a.dir)],
        );
        run.assert_one_line_error(2);
        assert!(run.stderr.contains("past its nextUpdate"), "{}", run.both());
    }

    // The same claims signed by a department seal key (EKU documentSigning): refused.
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jws.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let forged =
        forge(&a.dir.join("pki/private/seal-scjg.key.pem"), &a.dir.join("seals/scjg.crt.pem"), &claims);
    let e = zhengyin::licence::answer::verify_answer(&forged, &trust, now).unwrap_err().to_string();
    assert!(e.contains("not a licence status key"), "{e}");
    std::fs::write(&file, &forged).unwrap();
    let run = zy(tmp.path(), &["status", "check", s(&file), "--home", s(&a.dir)]);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("lacks the licence status EKU"), "{}", run.both());

    // Unknown and malformed identifiers: problems, not 500s.
    call("GET", &format!("{}/v1/status/not-an-id", sa.url), None, None, None).problem(400);
    let plain = call("GET", &format!("{}/v1/licences/{new}/status", sa.url), None, None, None).json();
    assert_eq!(plain["status"], "valid");
    // The audit finds the change's sealed version.
    let audit = zhengyin::filing::run_audit_in(&a, &sa.state.archive, None, &mut |_, _| {}).unwrap();
    assert!(audit.clean, "{:?}", audit.problems);
}

/// Region B (its own `serve`) imported A's trust list, which names where A's status list is
/// published; after A cancels a licence, one `trust refresh` of B fetches A's signed status list
/// from there and B's offline verification (CLI and HTTP) says "not valid", exit 1.
#[test]
fn second_region_sees_a_cancellation_after_one_refresh() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_home(&tmp.path().join("taian"), "taian");
    let b = init_home(&tmp.path().join("jinan"), "jinan");
    let scjg = token(&a, Role::Department { dept: "scjg".into() });
    let sa = start(&a, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, None);
    let sb = start(&b, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, None);
    let issued =
        post_json(&format!("{}/v1/licences", sa.url), Some(&scjg), &api_support::business_licence()).json();
    let id = issued["identifier"].as_str().unwrap().to_string();
    let pdf = pdf_of(&issued);
    let pdf_path = tmp.path().join("a.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();

    // A's trust list says where its status list is and which certificate signs it.
    let list = call("GET", &format!("{}/v1/trust-list", sa.url), None, None, None).json();
    assert_eq!(list["status_list"]["url"], format!("{}/v1/status-list", sa.url), "{list}");
    assert_eq!(list["status_service"].as_array().map(Vec::len), Some(1), "{list}");

    let fp =
        String::from_utf8(zy(tmp.path(), &["trust", "fingerprint", "--home", s(&a.dir)]).stdout.into_bytes())
            .unwrap();
    let from = format!("{}/v1/trust-list", sa.url);
    zy(tmp.path(), &["trust", "add", "--home", s(&b.dir), "--from", &from, "--pin", fp.trim()])
        .assert_code(0);
    assert!(b.dir.join("trust/taian-status.zsl").exists(), "the status list comes with the trust list");
    sb.state.reload_trust().unwrap();
    let verify_b_cli =
        || zy(tmp.path(), &["verify", s(&pdf_path), "--home", s(&b.dir), "--status", "offline", "--json"]);
    let verify_b_http = || {
        let r = call("POST", &format!("{}/v1/verify", sb.url), None, Some(("application/pdf", &pdf)), None);
        assert_eq!(r.status, 200);
        r.json()
    };
    let v = verify_b_http();
    assert_eq!(v["indication"], "TOTAL-PASSED", "{v}");
    // (B's verdict is "incomplete" here: B cannot name A's departments in the seal plan.)
    assert_eq!(v["licence_status"]["status"], "valid", "{v}");
    assert_eq!(v["licence_status"]["in_force"], true, "{v}");
    assert_eq!(verify_b_cli().json()["licence_status"]["status"], "valid");

    let r = post_json(
        &format!("{}/v1/licences/{id}/status", sa.url),
        Some(&scjg),
        &json!({"action": "cancel", "reason": "申请注销"}),
    );
    assert_eq!(r.status, 201);
    // Before B refreshes, B's list is the old one: still in force there.
    assert_eq!(verify_b_cli().json()["licence_status"]["status"], "valid");

    let run = zy(tmp.path(), &["trust", "refresh", "--home", s(&b.dir)]);
    run.assert_code(0);
    assert!(run.stdout.contains("taian"), "{}", run.both());
    let run = verify_b_cli();
    run.assert_code(1);
    let j = run.json();
    assert_eq!(j["indication"], "TOTAL-PASSED");
    assert_eq!(
        (j["verdict"]["result"].as_str(), j["verdict"]["rule"].as_str()),
        (Some("not valid"), Some("LICENCE_STATUS"))
    );
    assert_eq!(j["licence_status"]["status"], "not-in-force", "{j}");
    assert!(j["licence_status"]["source"].as_str().unwrap().contains("status list of taian"), "{j}");
    let v = verify_b_http();
    assert_eq!(
        (v["verdict"]["result"].as_str(), v["verdict"]["rule"].as_str()),
        (Some("not valid"), Some("LICENCE_STATUS"))
    );
    let text = zy(tmp.path(), &["verify", s(&pdf_path), "--home", s(&b.dir)]);
    text.assert_code(1);
    assert!(text.stdout.contains("LICENCE_STATUS"), "{}", text.both());
    // Online, B's CLI names the exact status from A's signed answer.
    let run = zy(
        tmp.path(),
        &[
            "verify",
            s(&pdf_path),
            "--home",
            s(&b.dir),
            "--status",
            "online",
            "--status-url",
            &sa.url,
            "--json",
        ],
    );
    run.assert_code(1);
    assert_eq!(run.json()["licence_status"]["status"], "cancelled");
}

/// A licence cancelled over HTTP while `serve` holds the archive: POST /v1/share/verify (a
/// department checking it for a matter) says not valid by LICENCE_STATUS, and `zhengyin verify
/// --home` on the same home (which then reads the home's published status list) exits 1 — the
/// list on disk follows HTTP transitions as it follows CLI ones.
#[test]
fn http_cancellation_reaches_the_homes_published_list() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_home(&tmp.path().join("taian"), "taian");
    let scjg = token(&a, Role::Department { dept: "scjg".into() });
    let sa = start(&a, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, None);
    let issued =
        post_json(&format!("{}/v1/licences", sa.url), Some(&scjg), &api_support::business_licence()).json();
    let id = issued["identifier"].as_str().unwrap().to_string();
    let pdf = tmp.path().join("licence.pdf");
    std::fs::write(&pdf, pdf_of(&issued)).unwrap();
    let r = post_json(
        &format!("{}/v1/licences/{id}/status", sa.url),
        Some(&scjg),
        &json!({"action": "cancel", "reason": "申请人申请注销"}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    // A department checking the file for a matter (POST /v1/share/verify) is told the same.
    let xzsp = token(&a, Role::Department { dept: "xzsp".into() });
    let shared = call(
        "POST",
        &format!("{}/v1/share/verify?purpose=370900-XK-0001", sa.url),
        Some(&xzsp),
        Some(("application/pdf", &std::fs::read(&pdf).unwrap())),
        None,
    );
    assert_eq!(shared.status, 200, "{}", String::from_utf8_lossy(&shared.body));
    let j = shared.json();
    assert_eq!(
        (j["indication"].as_str(), j["verdict"]["rule"].as_str()),
        (Some("TOTAL-PASSED"), Some("LICENCE_STATUS")),
        "{j}"
    );
    assert_eq!(j["licence_status"]["status"], "cancelled", "{j}");
    let run = zy(tmp.path(), &["verify", s(&pdf), "--home", s(&a.dir), "--json"]);
    run.assert_code(1);
    let j = run.json();
    assert_eq!(j["indication"], "TOTAL-PASSED", "{}", run.both());
    assert_eq!(j["verdict"]["rule"], "LICENCE_STATUS", "{}", run.both());
    assert_eq!(j["licence_status"]["in_force"], false, "{}", run.both());
    let source = j["licence_status"]["source"].as_str().unwrap_or_default();
    assert!(source.starts_with("status list of taian"), "the server holds the archive: {}", run.both());
}

/// `--status online` whose service cannot be reached still consults the home: a cancelled
/// licence is not valid (exit 1, from this region's archive), and the unreachable service is
/// named only when nothing offline knows the licence.
#[test]
fn unreachable_online_status_falls_back_to_the_home() {
    let r = Region::init();
    let (pdf, run) = r.issue("business-licence", None, "a.pdf");
    let id = run.line_value("identifier");
    r.zy(&["licence", "cancel", &id, "--home", s(&r.home), "--reason", "申请人申请注销"]).assert_code(0);
    // A port nothing listens on (bound, then closed).
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let online = |pdf: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["verify", s(pdf), "--status", "online", "--status-url", &dead, "--json"];
        args.extend_from_slice(extra);
        r.zy(&args)
    };
    let v = online(&pdf, &["--home", s(&r.home)]);
    v.assert_code(1);
    let j = v.json();
    assert_eq!(
        (j["verdict"]["rule"].as_str(), j["licence_status"]["status"].as_str()),
        (Some("LICENCE_STATUS"), Some("cancelled")),
        "{}",
        v.both()
    );
    assert_eq!(j["licence_status"]["source"], "this region's archive", "{}", v.both());
    // With only the root trusted nothing offline knows it: unknown, naming the online failure.
    let root = r.export_root("root.pem");
    let v = online(&pdf, &["--trust", s(&root)]);
    v.assert_code(0);
    let j = v.json();
    assert_eq!(j["licence_status"]["status"], "unknown", "{}", v.both());
    assert!(
        j["licence_status"]["detail"].as_str().unwrap_or("").contains("no acceptable online answer"),
        "{}",
        v.both()
    );
}
