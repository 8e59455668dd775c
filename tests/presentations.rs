//! 亮证 (统一亮码) end to end: a holder-app token made with the CLI asks the real server for a
//! presentation of chosen fields; its QR code (PNG, decoded with zbarimg) opens the scan page in
//! headless Chromium, which shows those fields only and the current status; a second scan and an
//! expired code are refused with clear pages; every presentation and scan is a use record.

mod api_support;
mod common;

use api_support::{call, post_json, start, Resp};
use base64::Engine;
use common::{s, Region};
use serde_json::{json, Value};
use zhengyin::api::ServeConfig;
use zhengyin::config::Home;

/// The shipped business licence's holder (synthetic).
const USCC: &str = "91370900MA3C00001T";

/// A region with one business licence and holder-app, archivist and department tokens made by
/// the CLI: (region, identifier, holder-app token, archivist token, department token).
fn setup() -> (Region, String, String, String, String) {
    let r = Region::init();
    let (_, run) = r.issue("business-licence", None, "licence.pdf");
    let id = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("identifier").map(|x| x.trim().to_string()))
        .expect("issue prints the identifier");
    let token = |args: &[&str]| {
        let mut a = vec!["token", "create", "--home", s(&r.home)];
        a.extend_from_slice(args);
        let run = r.zy(&a);
        run.assert_code(0);
        run.stdout.trim().to_string()
    };
    let app = token(&["--role", "holder-app"]);
    let archivist = token(&["--role", "archivist"]);
    let dept = token(&["--role", "department", "--dept", "scjg"]);
    (r, id, app, archivist, dept)
}

fn present(url: &str, id: &str, token: &str, body: &Value) -> Resp {
    post_json(&format!("{url}/v1/licences/{id}/presentations"), Some(token), body)
}

fn text(r: &Resp) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The claims and header of a compact JWS.
fn decode(jws: &str) -> (Value, Value) {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3, "{jws}");
    let h = serde_json::from_slice(&b64.decode(parts[0]).expect("header")).expect("header json");
    let p = serde_json::from_slice(&b64.decode(parts[1]).expect("payload")).expect("payload json");
    (h, p)
}

/// The use records of the shipped holder, as an archivist lists them.
fn uses(url: &str, archivist: &str) -> Vec<Value> {
    let r = post_json(&format!("{url}/v1/uses/query"), Some(archivist), &json!({ "subject": USCC }));
    assert_eq!(r.status, 200, "{}", text(&r));
    r.json().as_array().cloned().unwrap_or_default()
}

/// The presentation is a JWS by the status key (kid) with exactly the chosen fields, exp ≤ 300 s
/// and a nonce; its PNG QR code decodes (zbarimg) to the scan URL, which opens in Chromium with
/// those fields and 有效; a second scan is refused as replayed (409 page); the presentation and
/// both scans are use records of the holder. Screenshots: target/test-artifacts/presentations/.
#[test]
fn presentation_qr_shows_chosen_fields_once_in_chromium() {
    let (r, id, app, archivist, _) = setup();
    let srv = start(&Home { dir: r.home.clone() }, ServeConfig::default(), None);
    let resp = present(&srv.url, &id, &app, &json!({ "fields": ["licence_type", "holder", "valid_until"] }));
    assert_eq!(resp.status, 201, "{}", text(&resp));
    let v = resp.json();
    let jws = v["presentation"].as_str().expect("presentation");
    let (h, c) = decode(jws);
    assert_eq!(h["alg"], "ES256");
    assert_eq!(h["typ"], "zhengyin-presentation+jwt");
    assert!(h["kid"].as_str().is_some_and(|k| k.len() == 43), "{h}");
    assert!(h.get("x5c").is_none(), "the QR code would not need the certificate: {h}");
    assert_eq!(c["sub"], id.as_str());
    assert_eq!(c["ver"], "001");
    let fields = c["fields"].as_object().expect("fields");
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["holder", "licence_type", "valid_until"]);
    assert_eq!(fields["holder"], "泰安市示例云岭科技有限公司");
    let life = c["exp"].as_i64().expect("exp") - c["iat"].as_i64().expect("iat");
    assert!((1..=300).contains(&life), "life {life}");
    assert!(c["nonce"].as_str().is_some_and(|n| n.len() == 32), "{c}");
    assert!(!jws.contains(USCC), "unchosen fields leak");
    let svg = v["qr_svg"].as_str().expect("svg");
    assert!(svg.starts_with("<svg") && svg.contains("<path"), "{svg}");

    let png = base64::engine::general_purpose::STANDARD
        .decode(v["qr_png_base64"].as_str().expect("png"))
        .expect("b64");
    std::fs::write(r.path("qr.png"), &png).expect("write");
    let shots = common::browser::artifacts("presentations");
    std::fs::write(shots.join("qr.png"), &png).expect("write");
    if !common::browser::ready() {
        return;
    }
    let o = common::run_in(r.dir.path(), "zbarimg", &["--raw", "-q", s(&r.path("qr.png"))]);
    assert_eq!(o.code, 0, "zbarimg found no code: {}", o.both());
    let url = o.stdout.trim().to_string();
    assert_eq!(url, v["url"].as_str().expect("url"));
    assert_eq!(url, format!("{}/verify?p={jws}", srv.url));

    let b = common::browser::browse(r.dir.path(), "presentations", &url, "scan", &[]);
    let p = &b["page"];
    assert_eq!(p["status_text"], "有效", "{b:#}");
    assert_eq!(p["identifier"], id.as_str());
    let shown = p["fields"].as_object().expect("fields");
    assert_eq!(shown.len(), 3, "only the chosen fields: {b:#}");
    assert_eq!(shown["licence_type"], "营业执照");
    assert_eq!(shown["holder"], "泰安市示例云岭科技有限公司");
    assert_eq!(shown["valid_until"], fields["valid_until"]);
    assert_eq!(p["phone_overflow"], false, "{b:#}");
    assert_eq!(b["console"], json!([]), "browser console: {b:#}");

    // The same code again (a screenshot, a second scan): refused.
    let b = common::browser::browse(r.dir.path(), "presentations", &url, "replayed", &[]);
    assert_eq!(b["page"]["error"], "亮证码已被使用", "{b:#}");
    assert!(b["page"]["fields"].as_object().is_some_and(|f| f.is_empty()), "{b:#}");
    let again = call("GET", &url, None, None, None);
    assert_eq!(again.status, 409);
    assert!(again.content_type.starts_with("text/html"));

    let recs = uses(&srv.url, &archivist);
    let kinds: Vec<(&str, &str)> =
        recs.iter().map(|u| (u["kind"].as_str().unwrap_or(""), u["result"].as_str().unwrap_or(""))).collect();
    assert_eq!(
        kinds,
        [
            ("presentation", ""),
            ("presentation-scan", "shown"),
            ("presentation-scan", "replayed"),
            ("presentation-scan", "replayed")
        ],
        "{recs:#?}"
    );
    assert!(recs
        .iter()
        .all(|u| u["licence"] == id.as_str()
            && u["subject_code"].as_str().is_some_and(|c| c.starts_with("HC"))));
}

/// A code past its exp (a 1 s code, scanned after 2.5 s) is a 410 page 亮证码已过期 and never
/// shows the fields, first scan or not; a tampered code is a 400 page; both are recorded or
/// counted, never a 500.
#[test]
fn expired_and_tampered_codes_are_refused() {
    let (r, id, app, archivist, _) = setup();
    let srv = start(&Home { dir: r.home.clone() }, ServeConfig::default(), None);
    let resp = present(&srv.url, &id, &app, &json!({ "fields": ["holder"], "ttl_secs": 1 }));
    assert_eq!(resp.status, 201, "{}", text(&resp));
    let v = resp.json();
    let url = v["url"].as_str().expect("url").replace("http://127.0.0.1:8080", &srv.url);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let page = call("GET", &url, None, None, None);
    assert_eq!(page.status, 410, "{}", text(&page));
    assert!(text(&page).contains("亮证码已过期"), "{}", text(&page));
    assert!(!text(&page).contains("data-field"), "an expired code shows fields");

    // One changed character in the signed claims.
    let jws = v["presentation"].as_str().expect("jws");
    let mut parts: Vec<String> = jws.split('.').map(String::from).collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = String::from_utf8(b64.decode(&parts[1]).expect("b64")).expect("utf8");
    parts[1] = b64.encode(claims.replace("\"exp\":", "\"exp\":9"));
    let forged = call("GET", &format!("{}/verify?p={}", srv.url, parts.join(".")), None, None, None);
    assert_eq!(forged.status, 400, "{}", text(&forged));
    assert!(text(&forged).contains("亮证码无法识别"));
    for junk in ["x", "a.b.c", "%FF", &"A".repeat(5000)] {
        let resp = call("GET", &format!("{}/verify?p={junk}", srv.url), None, None, None);
        assert_eq!(resp.status, 400, "{junk}: {}", text(&resp));
    }
    let recs = uses(&srv.url, &archivist);
    let last = recs.last().expect("records");
    assert_eq!(
        (last["kind"].as_str(), last["result"].as_str()),
        (Some("presentation-scan"), Some("expired"))
    );
    let metrics = text(&call("GET", &format!("{}/metrics", srv.url), None, None, None));
    assert!(metrics.contains("zhengyin_presentation_scans_total{result=\"expired\"} 1"), "{metrics}");
    assert!(metrics.contains("zhengyin_presentation_scans_total{result=\"malformed\"} 5"), "{metrics}");
}

/// Only a holder-app token may present (department 403, none 401); unknown fields, no field and
/// a life over 300 s are 422; an unknown licence 404; a cancelled licence cannot be shown (409).
#[test]
fn presentations_refuse_other_roles_and_bad_requests() {
    let (r, id, app, _, dept) = setup();
    r.zy(&["licence", "cancel", &id, "--home", s(&r.home), "--reason", "申请人申请注销"]).assert_code(0);
    let (_, run) = r.issue("business-licence", None, "second.pdf");
    let live = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("identifier").map(|x| x.trim().to_string()))
        .expect("identifier");
    let srv = start(&Home { dir: r.home.clone() }, ServeConfig::default(), None);
    let ok = json!({ "fields": ["holder"] });
    present(&srv.url, &live, &dept, &ok).problem(403);
    post_json(&format!("{}/v1/licences/{live}/presentations", srv.url), None, &ok).problem(401);
    for bad in [
        json!({ "fields": ["password"] }),
        json!({ "fields": [] }),
        json!({ "fields": ["holder"], "ttl_secs": 301 }),
    ] {
        present(&srv.url, &live, &app, &bad).problem(422);
    }
    present(&srv.url, &live, &app, &json!({ "fields": "holder" })).problem(400);
    let parsed: zhengyin::document::LicenceId = live.parse().expect("id");
    let unknown =
        zhengyin::document::LicenceId::new(&parsed.type_code, &parsed.issuer_code, "20261130ZZZZZZZZZZ", 1)
            .expect("id");
    present(&srv.url, &unknown.to_string(), &app, &ok).problem(404);
    present(&srv.url, &id, &app, &ok).problem(409);
    assert_eq!(present(&srv.url, &live, &app, &ok).status, 201);
}
