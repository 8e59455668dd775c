//! Hardening of the HTTP service against what an outside review found (issue 10): a `zhengyin
//! revoke` is seen by a running server at once, tampered archive bytes are never served, the rate
//! limit cannot be dodged with made-up tokens, and bodies over the limit are refused on every
//! upload route. The real server on 127.0.0.1:0, a real HTTP client.

mod api_support;

use api_support::*;
use serde_json::json;
use zhengyin::api::auth::Role;
use zhengyin::api::ServeConfig;

fn dept(d: &str) -> Role {
    Role::Department { dept: d.into() }
}

fn verify_over_http(url: &str, pdf: &[u8]) -> serde_json::Value {
    let r = call("POST", &format!("{url}/v1/verify"), None, Some(("application/pdf", pdf)), None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// A CLI `zhengyin revoke` on the served home shows in the next HTTP verification, with no refresh and no restart.
#[test]
fn cli_revocation_is_seen_by_a_running_server_without_refresh() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let scjg = token(&home, dept("scjg"));
    // No refresh task at all: what `--refresh-secs 0` runs.
    let s = start(&home, ServeConfig::default(), None);
    let r = post_json(&format!("{}/v1/licences", s.url), Some(&scjg), &business_licence());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let pdf = pdf_of(&r.json());
    assert_eq!(verify_over_http(&s.url, &pdf)["indication"], "TOTAL-PASSED");

    let serial = seal_serial(&home, "scjg");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zhengyin"))
        .args(["revoke", "--home"])
        .arg(&home.dir)
        .args([serial.as_str(), "--reason", "keyCompromise", "--compromised-at", &an_hour_ago()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let rep = verify_over_http(&s.url, &pdf);
    assert_ne!(rep["indication"], "TOTAL-PASSED", "{rep}");
    assert_eq!(check(&rep, "REVOCATION")["status"], "FAILED", "{rep}");
    assert!(check(&rep, "REVOCATION")["detail"].as_str().unwrap().contains("revoked"), "{rep}");
}

/// A record whose pack bytes changed on disk is answered with an archive-fixity-failure problem naming it, never with the bytes.
#[test]
fn tampered_archive_bytes_are_not_served() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let (scjg, archivist) = (token(&home, dept("scjg")), token(&home, Role::Archivist));
    let s = start(&home, ServeConfig::default(), None);
    let r = post_json(&format!("{}/v1/licences", s.url), Some(&scjg), &business_licence());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["archive_id"].as_str().unwrap().to_string();
    let get = format!("{}/v1/archive/{id}", s.url);
    assert_eq!(call("GET", &get, Some(&archivist), None, None).status, 200);

    // Flip one byte in the middle of the record's bytes in its pack file.
    let rec = s.state.archive.get(&id).unwrap();
    let (pack, offset, len) = s.state.archive.blob_location(&rec.sha256).unwrap();
    let mut b = std::fs::read(&pack).unwrap();
    let k = usize::try_from(offset + len / 2).unwrap();
    b[k] ^= 0x01;
    std::fs::write(&pack, b).unwrap();

    for accept in [None, Some("application/pdf")] {
        let r = call("GET", &get, Some(&archivist), None, accept);
        let p = r.problem(500);
        assert_eq!(p["type"], "urn:zhengyin:problem:archive-fixity-failure", "{p}");
        assert!(p["detail"].as_str().unwrap().contains(&id), "{p}");
        assert!(!r.body.windows(5).any(|w| w == b"%PDF-"), "the tampered PDF leaked");
    }
    // Adding a joint seal to it is refused the same way.
    post_json(&format!("{}/v1/licences/{id}/seals", s.url), Some(&scjg), &json!({})).problem(500);
    assert_eq!(call("GET", &format!("{}/healthz", s.url), None, None, None).status, 200);
}

/// Requests with made-up bearer tokens share their IP's rate-limit bucket (429) while a valid token keeps its own.
#[test]
fn bogus_authorization_headers_do_not_dodge_the_rate_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let scjg = token(&home, dept("scjg"));
    let s = start(&home, ServeConfig { rate_per_sec: 0.5, rate_burst: 3.0, ..Default::default() }, None);
    let healthz = format!("{}/healthz", s.url);
    let mut statuses = Vec::new();
    for i in 0..8u32 {
        let bogus = format!("zy_bogus-{i}-{}", std::process::id());
        statuses.push(call("GET", &healthz, Some(&bogus), None, None).status);
    }
    assert!(statuses.contains(&429), "made-up tokens were never rate-limited: {statuses:?}");
    // Anonymous requests from the same IP are in the same (empty) bucket.
    call("GET", &healthz, None, None, None).problem(429);
    // A valid token is its own client.
    assert_eq!(call("GET", &healthz, Some(&scjg), None, None).status, 200);
}

/// POST over a raw connection: the head (with `Content-Length: announce` or chunked), then `body`
/// as one chunk unless announcing. The raw response, or None if the server closed or reset the
/// connection without one (it may, having refused a body it did not read to the end).
fn raw_post(
    url: &str,
    route: &str,
    token: Option<&str>,
    announce: Option<usize>,
    body: &[u8],
) -> Option<String> {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let framing = match announce {
        Some(n) => format!("Content-Length: {n}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".to_string(),
    };
    let mut req = format!("POST {route} HTTP/1.1\r\nHost: zy\r\nContent-Type: application/json\r\n{auth}{framing}Connection: close\r\n\r\n").into_bytes();
    if announce.is_none() {
        req.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        req.extend_from_slice(body);
        req.extend_from_slice(b"\r\n0\r\n\r\n");
    }
    let _ = c.write_all(&req);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    (!out.is_empty()).then(|| String::from_utf8_lossy(&out).into_owned())
}

/// A body over `--body-limit` is a 413 problem on every route that takes a body: announced, before it is sent; streamed (chunked), while it is read.
#[test]
fn bodies_over_the_limit_are_413_on_every_upload_route() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let (scjg, archivist, op) = (
        token(&home, dept("scjg")),
        token(&home, Role::Archivist),
        token(&home, Role::CaOperator { ca: "city".into() }),
    );
    let limit = 64 * 1024;
    let s = start(&home, ServeConfig { body_limit: limit, rate_per_sec: 0.0, ..Default::default() }, None);
    let serial = seal_serial(&home, "scjg");
    let routes: Vec<(String, Option<&str>)> = vec![
        ("/v1/verify".into(), None),
        ("/v1/proofs/verify".into(), None),
        ("/v1/share/verify?purpose=370900-XK-0012".into(), Some(&scjg)),
        ("/v1/licences".into(), Some(&scjg)),
        ("/v1/licences/ZY00/seals".into(), Some(&scjg)),
        (format!("/v1/certificates/{serial}/revoke"), Some(&op)),
        ("/v1/audit".into(), Some(&archivist)),
        ("/v1/proofs".into(), Some(&scjg)),
        ("/v1/uses".into(), Some(&archivist)),
        ("/v1/uses/query".into(), Some(&archivist)),
        ("/v1/commitments".into(), Some(&scjg)),
        ("/v1/commitments/check".into(), Some(&archivist)),
        ("/v1/share/query".into(), Some(&scjg)),
        ("/v1/share/links".into(), Some(&scjg)),
    ];
    let over = vec![b' '; limit + 1];
    let mut streamed_413 = 0;
    for (route, tok) in &routes {
        // Announced with Content-Length: answered from the head alone (the body is never sent).
        let r = raw_post(&s.url, route, *tok, Some(limit * 4), b"")
            .unwrap_or_else(|| panic!("{route}: no answer"));
        assert!(r.starts_with("HTTP/1.1 413"), "{route}: {r}");
        assert!(
            r.contains("application/problem+json") && r.contains("urn:zhengyin:problem:too-large"),
            "{route}: {r}"
        );
        // Streamed without a length: refused while reading. The server may reset the connection
        // when it closes with the rest of the body unread; anything else must be a 413 problem.
        if let Some(r) = raw_post(&s.url, route, *tok, None, &over) {
            assert!(r.starts_with("HTTP/1.1 413"), "{route} accepted a streamed body over the limit: {r}");
            assert!(r.contains("urn:zhengyin:problem:too-large"), "{route}: {r}");
            streamed_413 += 1;
        }
    }
    eprintln!("streamed bodies answered 413: {streamed_413} of {}", routes.len());
    // Nothing was recorded or revoked; the server is fine.
    assert_eq!(call("GET", &format!("{}/healthz", s.url), None, None, None).status, 200);
    assert_eq!(s.state.archive.size(), 0);
}

/// A JSON refusal names what went wrong in a short detail and never echoes a long unknown field name back.
#[test]
fn json_refusals_are_short_and_do_not_echo_the_body() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let (scjg, archivist) = (token(&home, dept("scjg")), token(&home, Role::Archivist));
    let s = start(&home, ServeConfig { rate_per_sec: 0.0, ..Default::default() }, None);
    let key = "unknownfield".repeat(10_000);
    let body = format!("{{\"{key}\": 1}}");
    for (route, tok) in [
        ("/v1/licences", &scjg),
        ("/v1/licences/ZY00/seals", &scjg),
        ("/v1/audit", &archivist),
        ("/v1/proofs", &scjg),
    ] {
        let r = call(
            "POST",
            &format!("{}{route}", s.url),
            Some(tok),
            Some(("application/json", body.as_bytes())),
            None,
        );
        let p = r.problem(400);
        assert!(r.body.len() < 1024, "{route}: a {}-byte problem", r.body.len());
        assert!(!p["detail"].as_str().unwrap().contains("unknownfieldunknownfield"), "{route}: {p}");
    }
}
