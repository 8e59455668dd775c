//! End-to-end tests of the HTTP service: the real server on 127.0.0.1:0, a real HTTP client.
//! Issue, joint seals by the right and the wrong department, 401/403, verify, archive and audit,
//! revoke (then verify says revoked — over HTTP and with the CLI), limits (413, 400, 404, 405,
//! 429), metrics, and the OpenAPI description against the router.

mod api_support;

use api_support::*;
use serde_json::json;
use zhengyin::api::auth::Role;
use zhengyin::api::ServeConfig;

fn dept(d: &str) -> Role {
    Role::Department { dept: d.into() }
}

#[test]
fn issue_seal_verify_archive_and_roles() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let (scjg, xzsp, dy, archivist) = (
        token(&home, dept("scjg")),
        token(&home, dept("xzsp")),
        token(&home, dept("dy-xzsp")),
        token(&home, Role::Archivist),
    );
    let s = start(&home, ServeConfig::default(), None);
    let lic = format!("{}/v1/licences", s.url);

    // No credential: 401; a wrong token: 401.
    post_json(&lic, None, &business_licence()).problem(401);
    post_json(&lic, Some("zy_not-a-real-token"), &business_licence()).problem(401);

    // The template's department issues; the licence verifies.
    let r = post_json(&lic, Some(&scjg), &business_licence());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let issued = r.json();
    let id = issued["archive_id"].as_str().unwrap().to_string();
    assert!(issued["identifier"].as_str().unwrap().starts_with("1.2.156.3005.2."));
    let pdf = pdf_of(&issued);
    let rep = call("POST", &format!("{}/v1/verify", s.url), None, Some(("application/pdf", &pdf)), None);
    assert_eq!(rep.status, 200);
    assert_eq!(rep.json()["indication"], "TOTAL-PASSED");

    // Another department cannot issue a template that scjg seals first, nor use scjg's seal.
    post_json(&lic, Some(&xzsp), &business_licence()).problem(403);
    let mut with_seal = business_licence();
    with_seal["seal"] = json!("xzsp");
    post_json(&lic, Some(&scjg), &with_seal).problem(403);
    post_json(&lic, Some(&archivist), &business_licence()).problem(403);
    // Unknown template: 404 problem; bad data: 422 problem.
    post_json(&lic, Some(&scjg), &json!({"template": "nope", "data": {}})).problem(404);
    post_json(&lic, Some(&scjg), &json!({"template": "business-licence", "data": {"name": "x"}}))
        .problem(422);

    // Accept: application/pdf gives the PDF itself.
    let r = call(
        "POST",
        &lic,
        Some(&scjg),
        Some(("application/json", &serde_json::to_vec(&business_licence()).unwrap())),
        Some("application/pdf"),
    );
    assert_eq!(r.status, 201);
    assert!(r.content_type.starts_with("application/pdf") && r.body.starts_with(b"%PDF-"));

    // Joint seals: dy-xzsp issues, xzsp is out of order (409), scjg may not use xzsp's seal (403).
    let data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo().join("fixtures/data/joint-approval.json")).unwrap())
            .unwrap();
    let r = post_json(&lic, Some(&dy), &json!({"template": "joint-approval", "data": data}));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let joint = r.json()["archive_id"].as_str().unwrap().to_string();
    let seals = format!("{}/v1/licences/{joint}/seals", s.url);
    post_json(&seals, Some(&xzsp), &json!({})).problem(409);
    post_json(&seals, Some(&scjg), &json!({"seal": "xzsp"})).problem(403);
    post_json(&seals, None, &json!({})).problem(401);
    post_json(&seals, Some(&archivist), &json!({})).problem(403);
    let r = call("POST", &seals, Some(&scjg), None, None);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let second = r.json();
    assert_eq!(second["present"], 2);
    let id2 = second["archive_id"].as_str().unwrap().to_string();
    let r = post_json(&format!("{}/v1/licences/{id2}/seals", s.url), Some(&xzsp), &json!({}));
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["locked"], true);
    post_json(&format!("{}/v1/licences/NOPE/seals", s.url), Some(&xzsp), &json!({})).problem(404);

    // Archive: tokens read, the tree head is public, archivists audit, departments do not.
    call("GET", &format!("{}/v1/archive/{id}", s.url), None, None, None).problem(401);
    let r = call("GET", &format!("{}/v1/archive/{id}", s.url), Some(&archivist), None, None);
    assert_eq!(r.status, 200);
    assert_eq!(pdf_of(&r.json()), pdf);
    let r = call("GET", &format!("{}/v1/archive/{id}/proof", s.url), Some(&archivist), None, None);
    assert_eq!(r.status, 200);
    assert!(zhengyin::filing::check_proof(&r.json(), None).is_ok());
    call("GET", &format!("{}/v1/archive/ZY00/proof", s.url), Some(&archivist), None, None).problem(404);
    let th = call("GET", &format!("{}/v1/archive/tree-head", s.url), None, None, None);
    assert_eq!(th.status, 200);
    assert_eq!(th.json()["size"], 5);
    post_json(&format!("{}/v1/audit", s.url), Some(&scjg), &json!({})).problem(403);
    let r = post_json(&format!("{}/v1/audit", s.url), Some(&archivist), &json!({}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["clean"], true, "{}", r.json());

    // Metrics count what happened.
    let m = String::from_utf8(call("GET", &format!("{}/metrics", s.url), None, None, None).body).unwrap();
    for needle in [
        "zhengyin_licences_issued_total 3",
        "zhengyin_seals_added_total 2",
        "zhengyin_verifications_total{verdict=\"TOTAL-PASSED\"} 1",
        "zhengyin_archive_records 5",
        "zhengyin_http_request_duration_seconds_bucket{route=\"/v1/licences\"",
    ] {
        assert!(m.contains(needle), "metrics lack {needle}:\n{m}");
    }
    assert_eq!(call("GET", &format!("{}/healthz", s.url), None, None, None).status, 200);
}

#[test]
fn revocation_over_http_shows_in_verify_and_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let (scjg, city_op, county_op) = (
        token(&home, dept("scjg")),
        token(&home, Role::CaOperator { ca: "city".into() }),
        token(&home, Role::CaOperator { ca: "daiyue".into() }),
    );
    let s = start(&home, ServeConfig::default(), None);
    let pdf = pdf_of(&post_json(&format!("{}/v1/licences", s.url), Some(&scjg), &business_licence()).json());
    let serial = seal_serial(&home, "scjg");
    let rev = format!("{}/v1/certificates/{serial}/revoke", s.url);
    post_json(&rev, None, &json!({})).problem(401);
    post_json(&rev, Some(&scjg), &json!({})).problem(403);
    post_json(&rev, Some(&county_op), &json!({})).problem(403);
    post_json(&format!("{}/v1/certificates/zz/revoke", s.url), Some(&city_op), &json!({})).problem(400);
    post_json(&format!("{}/v1/certificates/0badc0de/revoke", s.url), Some(&city_op), &json!({})).problem(404);
    post_json(&rev, Some(&city_op), &json!({"reason": "nonsense"})).problem(400);
    post_json(&rev, Some(&city_op), &json!({"reason": "superseded", "compromised_at": an_hour_ago()}))
        .problem(400);
    // A compromise time in the future (schemathesis sent year 3737) is the client's error, not a 500.
    let p = post_json(
        &rev,
        Some(&city_op),
        &json!({"reason": "keyCompromise", "compromised_at": "3737-07-01T11:25:44+02:47"}),
    )
    .problem(400);
    assert_eq!(p["type"], "urn:zhengyin:problem:revocation-refused", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("future"), "{p}");
    let p = post_json(
        &rev,
        Some(&city_op),
        &json!({"reason": "keyCompromise", "compromised_at": "0001-01-01T00:00:00Z"}),
    )
    .problem(400);
    assert!(p["detail"].as_str().unwrap().contains("1970"), "{p}");
    let r =
        post_json(&rev, Some(&city_op), &json!({"reason": "keyCompromise", "compromised_at": an_hour_ago()}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let since = r.json()["revoked_at"].as_str().unwrap().to_string();

    // The CRL is published; verify over HTTP reports the revocation and since when.
    let crl = call("GET", &format!("{}/v1/crl/city", s.url), None, None, None);
    assert_eq!((crl.status, crl.content_type.as_str()), (200, "application/pkix-crl"));
    call("GET", &format!("{}/v1/crl/nope", s.url), None, None, None).problem(404);
    let rep =
        call("POST", &format!("{}/v1/verify", s.url), None, Some(("application/pdf", &pdf)), None).json();
    assert_ne!(rep["indication"], "TOTAL-PASSED");
    let c = check(&rep, "REVOCATION");
    assert_eq!(c["status"], "FAILED", "{rep}");
    assert!(c["detail"].as_str().unwrap().contains(&since), "{c}");

    // And so does `zhengyin verify --home` (it reads the re-signed CRL from the home).
    let f = tmp.path().join("l.pdf");
    std::fs::write(&f, &pdf).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zhengyin"))
        .args(["verify", "--json", "--home"])
        .arg(&home.dir)
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rep: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(check(&rep, "REVOCATION")["status"], "FAILED");
    assert!(check(&rep, "REVOCATION")["detail"].as_str().unwrap().contains(&since));
    // Sealing with a revoked certificate is refused: the new licence would not verify.
    let r = post_json(&format!("{}/v1/licences", s.url), Some(&scjg), &business_licence());
    assert_eq!(r.status, 409, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn limits_and_bad_input_are_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let scjg = token(&home, dept("scjg"));
    let s = start(&home, ServeConfig { body_limit: 4096, rate_per_sec: 0.0, ..Default::default() }, None);
    let verify = format!("{}/v1/verify", s.url);
    call("POST", &verify, None, Some(("application/pdf", &vec![b'%'; 8192])), None).problem(413);
    call("POST", &verify, None, Some(("application/pdf", b"this is not a pdf")), None).problem(400);
    call("POST", &verify, None, Some(("application/pdf", b"%PDF-1.7\n1 0 obj <<<<<<< garbage")), None)
        .problem(400);
    call("POST", &verify, None, None, None).problem(400);
    call(
        "POST",
        &format!("{}/v1/licences", s.url),
        Some(&scjg),
        Some(("application/json", b"{not json")),
        None,
    )
    .problem(400);
    call(
        "POST",
        &format!("{}/v1/licences", s.url),
        Some(&scjg),
        Some(("application/json", b"{\"template\": 5}")),
        None,
    )
    .problem(400);
    call("GET", &format!("{}/no/such/route", s.url), None, None, None).problem(404);
    call("GET", &verify, None, None, None).problem(405);
    call("DELETE", &format!("{}/v1/trust-list", s.url), None, None, None).problem(405);
    // The server is still fine.
    assert_eq!(call("GET", &format!("{}/healthz", s.url), None, None, None).status, 200);

    // A tight per-client rate limit answers 429 with Retry-After.
    let tmp2 = tempfile::tempdir().unwrap();
    let home2 = init_home(&tmp2.path().join("h"), "taian");
    let s2 = start(&home2, ServeConfig { rate_per_sec: 1.0, rate_burst: 3.0, ..Default::default() }, None);
    let statuses: Vec<u16> =
        (0..8).map(|_| call("GET", &format!("{}/healthz", s2.url), None, None, None).status).collect();
    assert!(statuses.iter().take(3).all(|s| *s == 200), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    call("GET", &format!("{}/healthz", s2.url), None, None, None).problem(429);
}

/// /openapi.json is the description the router was built from, and each described operation is
/// routed (never 405, never the no-route 404, never 5xx).
#[test]
fn openapi_describes_exactly_the_routes() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let s = start(&home, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, None);
    let spec = call("GET", &format!("{}/openapi.json", s.url), None, None, None).json();
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(
        &spec,
        zhengyin::api::openapi::spec(),
        "served /openapi.json differs from the router's description"
    );
    let mut n = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            n += 1;
            assert!(op["description"].as_str().unwrap_or_default().starts_with("Who: "), "{method} {path}");
            assert!(op.get("parameters").is_none_or(|p| p.is_array()), "{method} {path}: parameters");
            let filled = path
                .replace("{id}", "ZY00")
                .replace("{serial}", "0a")
                .replace("{ca}", "city")
                .replace("{name}", "city");
            let r = call(&method.to_uppercase(), &format!("{}{filled}", s.url), None, None, None);
            assert!(r.status != 405 && r.status < 500, "{method} {path}: {}", r.status);
            if r.status == 404 {
                assert_ne!(
                    r.json()["type"],
                    "urn:zhengyin:problem:no-route",
                    "{method} {path} is described but not routed"
                );
            }
        }
    }
    // A closed set of query values is an enum, so clients (and schemathesis) send only those.
    let params = spec["paths"]["/v1/verify"]["post"]["parameters"].as_array().unwrap();
    let revocation = params.iter().find(|p| p["name"] == "revocation").unwrap();
    assert_eq!(revocation["schema"]["enum"], serde_json::json!(["strict", "soft-fail"]));
    // The router serves exactly what api_routes() registers with its description.
    assert_eq!(n, zhengyin::api::openapi::operations().len());
    assert!(n >= 40, "only {n} operations described");
    let bad = call("GET", &format!("{}/v1/no-such-route", s.url), None, None, None);
    assert_eq!(bad.json()["type"], "urn:zhengyin:problem:no-route");
}
