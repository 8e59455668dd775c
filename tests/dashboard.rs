//! The 数字驾驶舱 after a scripted day on the real server: licences issued by two departments (one
//! joint approval left at 1 of 3 seals), verifications passed and failed, a 亮证 scan, a proof, a
//! refusal, a commitment and an audit. The page, opened in headless Chromium with the archivist's
//! token typed into its form, shows exactly those numbers; the token never reaches a URL.

mod api_support;
mod common;

use std::collections::BTreeMap;

use api_support::{call, pdf_of, post_json, start, token, Resp};
use serde_json::{json, Value};
use zhengyin::api::auth::Role;
use zhengyin::api::ServeConfig;
use zhengyin::config::Home;

/// Licences the scripted day issues as scjg (plus one joint approval by dy-xzsp).
const N: usize = 3;
const ALICE: &str = "370902199001011235"; // synthetic: social insurance 正常 in rs's data
const SI_MATTER: &str = "370900-XK-0001"; // social-insurance, asked by xzsp

fn text(r: &Resp) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

fn dept(d: &str) -> Role {
    Role::Department { dept: d.into() }
}

/// What the day did, as the page must show it: data-metric → text.
struct Day {
    url: String,
    archivist: String,
    want: BTreeMap<String, String>,
    _server: api_support::Server,
    _dir: tempfile::TempDir,
}

/// Run the scripted day; returns the server and the expected metrics.
fn scripted_day() -> Day {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = api_support::init_home(dir.path(), "taian");
    let load = common::zy(
        dir.path(),
        &[
            "data",
            "load",
            "--home",
            common::s(&home.dir),
            "--dept",
            "rs",
            common::s(&common::repo().join("fixtures/holders/rs-social-insurance.csv")),
        ],
    );
    load.assert_code(0);
    let (scjg, joint, xzsp) =
        (token(&home, dept("scjg")), token(&home, dept("dy-xzsp")), token(&home, dept("xzsp")));
    let (archivist, app) = (token(&home, Role::Archivist), token(&home, Role::HolderApp));
    let srv = start(&Home { dir: home.dir.clone() }, ServeConfig::default(), None);
    let url = srv.url.clone();
    let region = home.region().expect("region");
    let name = |d: &str| region.department(d).expect("dept").name.clone();
    let today = zhengyin::document::china_date(time::OffsetDateTime::now_utc().unix_timestamp());
    let mut want = BTreeMap::new();

    let mut pdfs = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..N {
        let r = post_json(&format!("{url}/v1/licences"), Some(&scjg), &api_support::business_licence());
        assert_eq!(r.status, 201, "{}", text(&r));
        pdfs.push(pdf_of(&r.json()));
        ids.push(r.json()["identifier"].as_str().expect("identifier").to_string());
    }
    let data: Value = serde_json::from_slice(
        &std::fs::read(common::repo().join("fixtures/data/joint-approval.json")).expect("data"),
    )
    .expect("json");
    let r = post_json(
        &format!("{url}/v1/licences"),
        Some(&joint),
        &json!({"template": "joint-approval", "data": data}),
    );
    assert_eq!(r.status, 201, "{}", text(&r));
    want.insert(format!("issued:{}:{today}", name("scjg")), N.to_string());
    want.insert(format!("issued:{}:{today}", name("dy-xzsp")), "1".into());
    want.insert(format!("issued-day:{today}"), (N + 1).to_string());
    want.insert("issued-total".into(), (N + 1).to_string());
    want.insert("stalled-count".into(), "1".into());

    // Two genuine verifications and one of a tampered copy.
    let mut tampered = pdfs[0].clone();
    let at = common::creation_date_digit(&tampered);
    tampered[at] ^= 1;
    let mut regions: BTreeMap<String, u64> = BTreeMap::new();
    for pdf in [&pdfs[0], &pdfs[1], &tampered] {
        let r = call("POST", &format!("{url}/v1/verify"), None, Some(("application/pdf", pdf)), None);
        assert_eq!(r.status, 200, "{}", text(&r));
        let rep = r.json();
        *regions
            .entry(rep["signatures"][0]["chain_region"].as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    want.insert("verify:TOTAL-PASSED".into(), "2".into());
    want.insert("verify:TOTAL-FAILED".into(), "1".into());
    want.insert("verify-total".into(), "3".into());
    for (region, n) in regions {
        want.insert(format!("verify-region:{region}"), n.to_string());
    }

    // A 亮证 presentation scanned once.
    let r = post_json(
        &format!("{url}/v1/licences/{}/presentations", ids[2]),
        Some(&app),
        &json!({"fields": ["holder"]}),
    );
    assert_eq!(r.status, 201, "{}", text(&r));
    let scan = call("GET", r.json()["url"].as_str().expect("url"), None, None, None);
    assert_eq!(scan.status, 200, "{}", text(&scan));
    want.insert("scan:shown".into(), "1".into());

    // A proof answered, one refused (scjg is not listed for the matter), a commitment taken.
    let ask = |t: &str| {
        post_json(
            &format!("{url}/v1/proofs"),
            Some(t),
            &json!({"kind": "social-insurance", "subject": ALICE, "purpose": SI_MATTER}),
        )
    };
    assert_eq!(ask(&xzsp).status, 200, "proof");
    assert!(ask(&scjg).status >= 400, "scjg may not ask");
    want.insert(format!("proof:social-insurance:{SI_MATTER}"), "1".into());
    want.insert(format!("refusal:social-insurance:{SI_MATTER}"), "1".into());
    want.insert("refusals-total".into(), "1".into());
    let c = post_json(
        &format!("{url}/v1/commitments"),
        Some(&xzsp),
        &json!({"subject": ALICE, "matter": SI_MATTER, "statement": "本人承诺：本人社会保险参保状态正常。", "check_days": 90}),
    );
    assert_eq!(c.status, 201, "{}", text(&c));
    for (k, n) in [("kept", 0), ("broken", 0), ("due", 0), ("open", 1)] {
        want.insert(format!("commitments:{k}"), n.to_string());
    }

    let audit = post_json(&format!("{url}/v1/audit"), Some(&archivist), &json!({}));
    assert_eq!(audit.status, 200, "{}", text(&audit));
    assert_eq!(audit.json()["clean"], true, "{}", text(&audit));
    let size = srv.state.archive.size();
    want.insert("log-size".into(), size.to_string());
    want.insert("archive-records".into(), size.to_string());
    Day { url, archivist, want, _server: srv, _dir: dir }
}

/// GET /v1/dashboard answers archivists only (401 without a token, 403 for a department), with the
/// day's numbers in JSON and a fragment holding SVG charts and no script.
#[test]
fn dashboard_data_is_for_archivists_and_counts_the_day() {
    let day = scripted_day();
    let u = format!("{}/v1/dashboard?stall_days=0", day.url);
    call("GET", &u, None, None, None).problem(401);
    let home_dept = {
        let home = Home { dir: day._dir.path().to_path_buf() };
        token(&home, dept("scjg"))
    };
    call("GET", &u, Some(&home_dept), None, None).problem(403);
    let r = call("GET", &u, Some(&day.archivist), None, None);
    assert_eq!(r.status, 200, "{}", text(&r));
    let v = r.json();
    assert_eq!(v["issued_total"], N as u64 + 1);
    assert_eq!(v["stalled"].as_array().map(Vec::len), Some(1), "{v:#}");
    assert_eq!(v["stalled"][0]["seals"], 1);
    assert_eq!(v["stalled"][0]["plan"], 3);
    let html = v["html"].as_str().expect("html");
    assert!(html.contains("<svg") && !html.contains("<script"), "{html}");
    // With the default N (3 days) nothing of today is overdue.
    let r = call("GET", &format!("{}/v1/dashboard", day.url), Some(&day.archivist), None, None);
    assert_eq!(r.json()["stalled"], json!([]));
    // The page itself holds no data and lets the script fetch from this origin only.
    let page = call("GET", &format!("{}/dashboard", day.url), None, None, None);
    assert_eq!(page.status, 200);
    assert!(text(&page).contains("数字驾驶舱") && !text(&page).contains("data-metric"));
}

/// In headless Chromium: the archivist types the token into the page's form; the board then
/// shows every number the scripted day produced (issued per department per day, the stalled joint
/// approval, verifications by result and region, the scan, the proof and refusal, the commitment,
/// archive and log size, the clean audit), the URL never holds the token, nothing is wider than a
/// phone. Screenshots at 1280 and 375 px: target/test-artifacts/dashboard/.
#[test]
fn dashboard_page_shows_the_day_in_chromium() {
    if !common::browser::ready() {
        return;
    }
    let day = scripted_day();
    let page = format!("{}/dashboard?stall_days=0", day.url);
    let b = common::browser::browse(
        day._dir.path(),
        "dashboard",
        &page,
        "dashboard",
        &["--login", &day.archivist],
    );
    assert!(!b["url_after_login"].as_str().unwrap_or("").contains(&day.archivist), "token in the URL: {b:#}");
    let shown = b["page"]["metrics"].as_object().cloned().unwrap_or_default();
    for (k, v) in &day.want {
        assert_eq!(shown.get(k).and_then(Value::as_str), Some(v.as_str()), "{k}: page shows {shown:#?}");
    }
    assert!(
        shown.get("last-audit").and_then(Value::as_str).is_some_and(|t| t.contains("四性检测通过")),
        "{shown:#?}"
    );
    assert_eq!(b["page"]["phone_overflow"], false, "{b:#}");
    assert_eq!(b["console"], json!([]), "browser console: {b:#}");
    for f in ["dashboard-desktop.png", "dashboard-phone.png"] {
        assert!(common::browser::artifacts("dashboard").join(f).is_file(), "no screenshot {f}");
    }
}
