//! The no-certificate workflows over HTTP (docs/api.md, docs/proofs.md): proof requests by the
//! token's department only, listed and unlisted purposes (refusals recorded and visible in
//! /v1/uses/query), signed "no record" answers, token and PDF checks (and pyHanko), the /v1/share
//! verbs with mandatory purposes and single-use links, commitments, and no raw ID number in the
//! server's log or in any problem.

mod api_support;

use std::process::{Command, Stdio};

use api_support::*;
use serde_json::{json, Value};
use zhengyin::api::auth::Role;
use zhengyin::api::ServeConfig;
use zhengyin::config::Home;

const ALICE: &str = "370902199001011235"; // 测试员甲: social insurance 正常, real estate 无
const NOBODY: &str = "370902197809094564"; // valid check digit, in no data file
const BAD_ID: &str = "370902199001011236"; // wrong check digit
const LICENCE_HOLDER: &str = "91370900MA3C00001T"; // fixtures/data/business-licence.json
const OTHER_USCC: &str = "91370900MB2857901Q"; // fixtures/holders/scjg-compliance.csv
const SI_MATTER: &str = "370900-XK-0001"; // social-insurance, asked by xzsp, dy-xzsp
const FOOD_MATTER: &str = "370900-XK-0012"; // enterprise-compliance, asked by xzsp, dy-xzsp

fn dept(d: &str) -> Role {
    Role::Department { dept: d.into() }
}

/// A home with the three departments' holder data loaded (before any server opens the database).
fn home_with_data(dir: &std::path::Path) -> Home {
    let home = init_home(dir, "taian");
    for (d, f) in
        [("rs", "rs-social-insurance.csv"), ("bdc", "bdc-real-estate.json"), ("scjg", "scjg-compliance.csv")]
    {
        let out = Command::new(env!("CARGO_BIN_EXE_zhengyin"))
            .args(["data", "load", "--home"])
            .arg(&home.dir)
            .args(["--dept", d])
            .arg(repo().join("fixtures/holders").join(f))
            .output()
            .unwrap();
        assert!(out.status.success(), "data load {d}: {}", String::from_utf8_lossy(&out.stderr));
    }
    home
}

fn text(r: &Resp) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

fn ask(url: &str, token: &str, subject: &str, purpose: &str) -> Resp {
    post_json(
        &format!("{url}/v1/proofs"),
        Some(token),
        &json!({"kind": "social-insurance", "subject": subject, "purpose": purpose}),
    )
}

fn uses(url: &str, archivist: &str, subject: &str) -> Vec<Value> {
    let r = post_json(&format!("{url}/v1/uses/query"), Some(archivist), &json!({"subject": subject}));
    assert_eq!(r.status, 200, "{}", text(&r));
    r.json().as_array().cloned().unwrap_or_default()
}

fn pyhanko_accepts(home: &Home, pdf: &[u8]) -> Option<String> {
    let ok = Command::new("pyhanko")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("p.pdf");
    std::fs::write(&f, pdf).unwrap();
    let out = Command::new("pyhanko")
        .args(["sign", "validate", "--soft-revocation-check", "--trust"])
        .arg(home.dir.join("pki/root.crt.pem"))
        .arg(&f)
        .output()
        .unwrap();
    Some(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn proof_request_answers_with_token_and_pdf_that_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with_data(&tmp.path().join("h"));
    let (xzsp, archivist) = (token(&home, dept("xzsp")), token(&home, Role::Archivist));
    let s = start(&home, ServeConfig::default(), None);

    let r = ask(&s.url, &xzsp, ALICE, SI_MATTER);
    assert_eq!(r.status, 200, "{}", text(&r));
    let a = r.json();
    assert_eq!(a["found"], true);
    assert_eq!(a["holder"], "rs");
    assert!(a["answer"].as_str().unwrap().contains("参保状态：正常；参保起始：2019-03"), "{a}");
    assert!(a["subject_code"].as_str().unwrap().starts_with("HC"));
    assert!(!text(&r).contains(ALICE));

    // The token verifies (as text and as JSON); a tampered one does not.
    let tok = a["token"].as_str().unwrap().to_string();
    let verify = format!("{}/v1/proofs/verify", s.url);
    let c = call("POST", &verify, None, Some(("text/plain", tok.as_bytes())), None).json();
    assert_eq!(c["valid"], true, "{c}");
    assert_eq!(
        (c["claims"]["iss"].as_str(), c["claims"]["aud"].as_str(), c["claims"]["purpose"].as_str()),
        (Some("rs"), Some("xzsp"), Some(SI_MATTER))
    );
    assert_eq!(c["revocation"]["status"], "GOOD");
    assert_eq!(post_json(&verify, None, &json!({"token": tok})).json()["valid"], true);
    let mut bad = tok.clone();
    let cut = bad.rfind('.').unwrap() + 10;
    let ch = if &bad[cut..cut + 1] == "A" { "B" } else { "A" };
    bad.replace_range(cut..cut + 1, ch);
    assert_eq!(
        call("POST", &verify, None, Some(("text/plain", bad.as_bytes())), None).json()["valid"],
        false
    );
    call("POST", &verify, None, Some(("text/plain", b"not.a-token")), None).problem(400);
    call("POST", &verify, None, None, None).problem(400);

    // The archived proof PDF (pdf_url) verifies, here and in pyHanko; Accept: application/pdf too.
    let got = call(
        "GET",
        &format!("{}{}", s.url, a["pdf_url"].as_str().unwrap()),
        Some(&archivist),
        None,
        Some("application/pdf"),
    );
    assert_eq!(got.status, 200);
    let rep = call("POST", &verify, None, Some(("application/pdf", &got.body)), None).json();
    assert_eq!(rep["indication"], "TOTAL-PASSED", "{rep}");
    let r = call(
        "POST",
        &format!("{}/v1/proofs", s.url),
        Some(&xzsp),
        Some((
            "application/json",
            json!({"kind": "real-estate", "subject": ALICE, "purpose": "370900-GG-0021"})
                .to_string()
                .as_bytes(),
        )),
        Some("application/pdf"),
    );
    assert_eq!(r.status, 200, "{}", text(&r));
    assert!(r.content_type.starts_with("application/pdf") && r.body.starts_with(b"%PDF-"));
    for pdf in [&got.body, &r.body] {
        if let Some(out) = pyhanko_accepts(&home, pdf) {
            assert!(
                out.replace("TIMESTAMP_TOKEN<INTACT:TRUSTED>,", "")
                    .contains("INTACT:TRUSTED,EXTENDED_WITH_LTA_UPDATES,ACCEPTABLE_MODIFICATIONS"),
                "pyHanko does not accept the proof\n{out}"
            );
        }
    }

    // Both uses are listed for the subject (archivists only), by the asking department.
    let list = uses(&s.url, &archivist, ALICE);
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list.iter().all(|u| u["type"] == "use-record" && u["by"] == "xzsp"), "{list:?}");
    post_json(&format!("{}/v1/uses/query", s.url), Some(&xzsp), &json!({"subject": ALICE})).problem(403);
    // POST /v1/uses is the same query.
    let same = post_json(&format!("{}/v1/uses", s.url), Some(&archivist), &json!({"subject": ALICE}));
    assert_eq!(same.status, 200);
    assert_eq!(
        same.json(),
        post_json(&format!("{}/v1/uses/query", s.url), Some(&archivist), &json!({"subject": ALICE})).json()
    );
    post_json(&format!("{}/v1/uses/query", s.url), None, &json!({"subject": ALICE})).problem(401);
    let p = post_json(&format!("{}/v1/uses/query", s.url), Some(&archivist), &json!({"subject": BAD_ID}))
        .problem(422);
    assert!(!p.to_string().contains(BAD_ID));
    // The archive still audits clean with tokens and use records in it.
    assert_eq!(post_json(&format!("{}/v1/audit", s.url), Some(&archivist), &json!({})).json()["clean"], true);
}

#[test]
fn refusals_are_problems_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with_data(&tmp.path().join("h"));
    let (xzsp, scjg, archivist) =
        (token(&home, dept("xzsp")), token(&home, dept("scjg")), token(&home, Role::Archivist));
    let s = start(&home, ServeConfig::default(), None);
    let url = format!("{}/v1/proofs", s.url);

    // Unlisted purpose, and a department not on the list: 403 problem with the recorded refusal.
    let p = ask(&s.url, &xzsp, ALICE, "370900-XX-9999").problem(403);
    assert!(p["detail"].as_str().unwrap().contains("370900-XX-9999"), "{p}");
    let rid = p["record_id"].as_str().unwrap().to_string();
    ask(&s.url, &scjg, ALICE, SI_MATTER).problem(403);
    let list = uses(&s.url, &archivist, ALICE);
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list.iter().all(|u| u["type"] == "use-refusal"), "{list:?}");
    assert_eq!(list[0]["archive_record"], rid.as_str());
    assert_eq!(list[1]["by"], "scjg");

    // A token cannot ask on behalf of another department; other roles cannot ask at all.
    let on_behalf =
        json!({"kind": "social-insurance", "subject": ALICE, "purpose": SI_MATTER, "by": "dy-xzsp"});
    post_json(&url, Some(&xzsp), &on_behalf).problem(403);
    post_json(&url, Some(&scjg), &on_behalf).problem(403);
    post_json(
        &url,
        Some(&archivist),
        &json!({"kind": "social-insurance", "subject": ALICE, "purpose": SI_MATTER}),
    )
    .problem(403);
    post_json(&url, None, &json!({"kind": "social-insurance", "subject": ALICE, "purpose": SI_MATTER}))
        .problem(401);
    assert_eq!(uses(&s.url, &archivist, ALICE).len(), 2, "refused roles asked nothing");

    // Bad input: 400 / 422 problems that never echo the ID.
    let p = post_json(&url, Some(&xzsp), &json!({"kind": "social-insurance", "subject": ALICE})).problem(400);
    assert!(p["detail"].as_str().unwrap().contains("purpose") && !p.to_string().contains(ALICE), "{p}");
    let p = ask(&s.url, &xzsp, BAD_ID, SI_MATTER).problem(422);
    assert!(!p.to_string().contains(BAD_ID), "{p}");
    let p = post_json(
        &url,
        Some(&xzsp),
        &json!({"kind": "social-insurance", "subject": 370902199001011235u64, "purpose": SI_MATTER}),
    )
    .problem(400);
    assert!(!p.to_string().contains(ALICE), "{p}");
    let p = post_json(
        &url,
        Some(&xzsp),
        &json!({"kind": "social-insurance", "subject": ALICE, "purpose": SI_MATTER, "valid_days": ALICE}),
    )
    .problem(400);
    assert!(!p.to_string().contains(ALICE), "{p}");
    call("POST", &url, Some(&xzsp), Some(("application/json", b"{not json")), None).problem(400);
}

#[test]
fn unknown_subject_gets_a_signed_no_record_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with_data(&tmp.path().join("h"));
    let xzsp = token(&home, dept("xzsp"));
    let s = start(&home, ServeConfig::default(), None);
    let r = ask(&s.url, &xzsp, NOBODY, SI_MATTER);
    assert_eq!(r.status, 200, "{}", text(&r));
    let a = r.json();
    assert_eq!(a["found"], false);
    assert!(a["answer"].as_str().unwrap().contains("无此记录"), "{a}");
    let c = call(
        "POST",
        &format!("{}/v1/proofs/verify", s.url),
        None,
        Some(("text/plain", a["token"].as_str().unwrap().as_bytes())),
        None,
    )
    .json();
    assert_eq!(c["valid"], true, "{c}");
    assert_eq!(c["claims"]["found"], false);
}

#[test]
fn share_query_link_download_once_and_verify_need_a_listed_purpose() {
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with_data(&tmp.path().join("h"));
    let (scjg, xzsp, dy, archivist) = (
        token(&home, dept("scjg")),
        token(&home, dept("xzsp")),
        token(&home, dept("dy-xzsp")),
        token(&home, Role::Archivist),
    );
    let s = start(&home, ServeConfig::default(), None);
    let r = post_json(&format!("{}/v1/licences", s.url), Some(&scjg), &business_licence());
    assert_eq!(r.status, 201, "{}", text(&r));
    let ident = r.json()["identifier"].as_str().unwrap().to_string();
    let original = pdf_of(&r.json());

    // Query by holder: finds the licence (USCC in any case); another holder has none.
    let q = format!("{}/v1/share/query", s.url);
    let r =
        post_json(&q, Some(&xzsp), &json!({"holder": LICENCE_HOLDER.to_lowercase(), "purpose": FOOD_MATTER}));
    assert_eq!(r.status, 200, "{}", text(&r));
    let found = r.json();
    let lics = found["licences"].as_array().unwrap();
    assert_eq!(lics.len(), 1, "{found}");
    assert_eq!(lics[0]["identifier"], ident.as_str());
    assert_eq!(lics[0]["issuer"], "泰安市市场监督管理局");
    assert!(found["holder_code"].as_str().unwrap().starts_with("HC") && !text(&r).contains(LICENCE_HOLDER));
    let r = post_json(&q, Some(&xzsp), &json!({"holder": OTHER_USCC, "purpose": FOOD_MATTER}));
    assert_eq!(r.json()["licences"].as_array().map(Vec::len), Some(0));
    // Purpose missing → 400, unlisted → 403 (both recorded); bad holder → 422; not a department → 403.
    post_json(&q, Some(&xzsp), &json!({"holder": LICENCE_HOLDER})).problem(400);
    let p = post_json(&q, Some(&xzsp), &json!({"holder": LICENCE_HOLDER, "purpose": "370900-XX-9999"}))
        .problem(403);
    assert!(p["record_id"].as_str().is_some_and(|x| x.starts_with("ZY")), "{p}");
    post_json(&q, Some(&scjg), &json!({"holder": LICENCE_HOLDER, "purpose": FOOD_MATTER})).problem(403);
    let p = post_json(&q, Some(&xzsp), &json!({"holder": BAD_ID, "purpose": FOOD_MATTER})).problem(422);
    assert!(!p.to_string().contains(BAD_ID));
    post_json(&q, Some(&archivist), &json!({"holder": LICENCE_HOLDER, "purpose": FOOD_MATTER})).problem(403);

    // A link downloads once, for its department only: the sealed licence plus the dsjzx annotation.
    let links = format!("{}/v1/share/links", s.url);
    post_json(&links, Some(&xzsp), &json!({"identifier": ident})).problem(400);
    post_json(&links, Some(&xzsp), &json!({"identifier": ident, "purpose": "370900-XX-9999"})).problem(403);
    post_json(&links, Some(&xzsp), &json!({"identifier": "1.2.156.nope", "purpose": FOOD_MATTER}))
        .problem(404);
    let r = post_json(&links, Some(&xzsp), &json!({"identifier": ident, "purpose": FOOD_MATTER}));
    assert_eq!(r.status, 201, "{}", text(&r));
    let link = format!("{}{}", s.url, r.json()["url"].as_str().unwrap());
    assert!(r.json()["expires_at"].as_str().is_some());
    call("GET", &link, None, None, None).problem(401);
    call("GET", &link, Some(&dy), None, None).problem(403);
    let got = call("GET", &link, Some(&xzsp), None, None);
    assert_eq!(got.status, 200, "{}", text(&got));
    assert!(got.content_type.starts_with("application/pdf"));
    assert!(got.body.starts_with(&original), "the annotated copy keeps the licence bytes unchanged");
    let rep = call("POST", &format!("{}/v1/verify", s.url), None, Some(("application/pdf", &got.body)), None)
        .json();
    let sigs = rep["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{rep}");
    assert!(sigs.iter().all(|x| x["indication"] == "TOTAL-PASSED"), "{rep}");
    assert_eq!(sigs[1]["department"]["id"], "dsjzx");
    call("GET", &link, Some(&xzsp), None, None).problem(410);
    call("GET", &format!("{}/v1/share/download/00ff", s.url), Some(&xzsp), None, None).problem(404);
    // An expired link is gone too.
    let r =
        post_json(&links, Some(&dy), &json!({"identifier": ident, "purpose": FOOD_MATTER, "ttl_secs": 1}));
    assert_eq!(r.status, 201, "{}", text(&r));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    call("GET", &format!("{}{}", s.url, r.json()["url"].as_str().unwrap()), Some(&dy), None, None)
        .problem(410);

    // Verify for a purpose (PDF body, purpose in the query string).
    let v = format!("{}/v1/share/verify", s.url);
    let r = call(
        "POST",
        &format!("{v}?purpose={FOOD_MATTER}"),
        Some(&xzsp),
        Some(("application/pdf", &original)),
        None,
    );
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(r.json()["indication"], "TOTAL-PASSED");
    call("POST", &v, Some(&xzsp), Some(("application/pdf", &original)), None).problem(400);
    call(
        "POST",
        &format!("{v}?purpose=370900-XX-9999"),
        Some(&xzsp),
        Some(("application/pdf", &original)),
        None,
    )
    .problem(403);
    call(
        "POST",
        &format!("{v}?purpose={FOOD_MATTER}"),
        Some(&xzsp),
        Some(("application/pdf", b"not a pdf")),
        None,
    )
    .problem(400);

    // The holder's use list: every share call and refusal about it, by code, never the USCC.
    let list = uses(&s.url, &archivist, LICENCE_HOLDER);
    let kinds: Vec<String> = list
        .iter()
        .map(|u| {
            format!(
                "{}:{}",
                u["type"].as_str().unwrap_or(""),
                u["kind"].as_str().or(u["action"].as_str()).unwrap_or("")
            )
        })
        .collect();
    for want in [
        "use-record:share-query",
        "use-refusal:share-query",
        "use-refusal:share-link",
        "use-record:share-link",
        "use-record:licence",
        "use-record:share-verify",
    ] {
        assert!(kinds.iter().any(|k| k == want), "{want} missing from {kinds:?}");
    }
    assert!(list.iter().all(|u| !u.to_string().contains(LICENCE_HOLDER)), "{list:?}");
    assert_eq!(post_json(&format!("{}/v1/audit", s.url), Some(&archivist), &json!({})).json()["clean"], true);
}

/// The real binary with `ZHENGYIN_LOG=debug`: its log never contains an ID number it was sent.
#[test]
fn the_server_log_never_contains_raw_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with_data(&tmp.path().join("h"));
    let (xzsp, scjg, archivist) =
        (token(&home, dept("xzsp")), token(&home, dept("scjg")), token(&home, Role::Archivist));
    let log = tmp.path().join("serve.log");
    let (mut child, url) = api_support::spawn_binary_with_log(&home, &log);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let run = std::panic::catch_unwind(|| {
        assert_eq!(ask(&url, &xzsp, ALICE, SI_MATTER).status, 200);
        assert_eq!(ask(&url, &xzsp, NOBODY, SI_MATTER).status, 200);
        ask(&url, &xzsp, ALICE, "370900-XX-9999").problem(403);
        ask(&url, &scjg, ALICE, SI_MATTER).problem(403);
        ask(&url, &xzsp, BAD_ID, SI_MATTER).problem(422);
        post_json(
            &format!("{url}/v1/proofs"),
            Some(&xzsp),
            &json!({"kind": "social-insurance", "subject": ALICE, "purpose": SI_MATTER, "valid_days": ALICE}),
        )
        .problem(400);
        assert_eq!(uses(&url, &archivist, ALICE).len(), 3);
        post_json(
            &format!("{url}/v1/share/query"),
            Some(&xzsp),
            &json!({"holder": ALICE, "purpose": FOOD_MATTER}),
        );
        post_json(&format!("{url}/v1/share/query"), Some(&xzsp), &json!({"holder": NOBODY}));
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(e) = run {
        std::panic::resume_unwind(e);
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("proof answered") && text.contains("refused"),
        "the log shows the requests:\n{text}"
    );
    for id in [ALICE, NOBODY, BAD_ID] {
        assert!(!text.contains(id), "raw ID {id} in the server log:\n{text}");
    }
}

#[test]
fn commitments_are_recorded_sealed_and_checked_over_http() {
    const BOB: &str = "370902198503152340"; // 测试员乙: social insurance 暂停缴费
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with_data(&tmp.path().join("h"));
    let (xzsp, dy, scjg, archivist) = (
        token(&home, dept("xzsp")),
        token(&home, dept("dy-xzsp")),
        token(&home, dept("scjg")),
        token(&home, Role::Archivist),
    );
    let s = start(&home, ServeConfig::default(), None);
    let url = format!("{}/v1/commitments", s.url);
    let body = |subject: &str| json!({"subject": subject, "matter": SI_MATTER, "statement": "本人承诺：本人社会保险参保状态正常。"});

    let r = post_json(&url, Some(&xzsp), &body(ALICE));
    assert_eq!(r.status, 201, "{}", text(&r));
    let alice = r.json();
    let id = alice["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("CN") && !text(&r).contains(ALICE), "{alice}");
    assert_eq!(alice["kinds"], json!(["social-insurance"]));
    let pdf = call(
        "GET",
        &format!("{}{}", s.url, alice["pdf_url"].as_str().unwrap()),
        Some(&archivist),
        None,
        Some("application/pdf"),
    );
    let rep = call("POST", &format!("{}/v1/verify", s.url), None, Some(("application/pdf", &pdf.body)), None)
        .json();
    assert_eq!(rep["indication"], "TOTAL-PASSED", "{rep}");
    assert_eq!(rep["signatures"][0]["department"]["id"], "xzsp");
    assert_eq!(post_json(&url, Some(&xzsp), &body(BOB)).status, 201);

    // Refused (recorded), on behalf of another department, bad statements, other roles.
    let p = post_json(&url, Some(&scjg), &body(ALICE)).problem(403);
    assert!(p["record_id"].as_str().is_some(), "{p}");
    let mut other = body(ALICE);
    other["by"] = json!("dy-xzsp");
    post_json(&url, Some(&xzsp), &other).problem(403);
    post_json(&url, Some(&archivist), &body(ALICE)).problem(403);
    let p = post_json(
        &url,
        Some(&xzsp),
        &json!({"subject": ALICE, "matter": SI_MATTER, "statement": format!("本人{ALICE}承诺")}),
    )
    .problem(422);
    assert!(!p.to_string().contains(ALICE), "{p}");
    post_json(&url, Some(&xzsp), &json!({"subject": ALICE, "matter": SI_MATTER, "statement": "  "}))
        .problem(422);
    post_json(
        &url,
        Some(&xzsp),
        &json!({"subject": ALICE, "matter": SI_MATTER, "statement": "x", "check_days": 0}),
    )
    .problem(422);
    post_json(&url, Some(&xzsp), &json!({"subject": ALICE, "matter": SI_MATTER})).problem(400);

    // Checks: a department only its own, by id; archivists all open ones.
    let check = format!("{}/v1/commitments/check", s.url);
    post_json(&check, Some(&dy), &json!({"id": id})).problem(403);
    post_json(&check, Some(&xzsp), &json!({})).problem(403);
    post_json(&check, Some(&xzsp), &json!({"id": "CN0000000000000000"})).problem(404);
    post_json(&check, Some(&archivist), &json!({"id": "CN0000000000000000"})).problem(404);
    // On day 0 nothing is due: nothing is decided.
    let r = post_json(&check, Some(&xzsp), &json!({"id": id}));
    assert_eq!(r.status, 200, "{}", text(&r));
    let c = r.json();
    assert_eq!((c["kept"].as_u64(), c["not_due"][0]["id"].as_str()), (Some(0), Some(id.as_str())), "{c}");
    // 100 days later (the real server under faketime) the checks decide.
    drop(s);
    let (mut later, base) = spawn_faketime_server(&home, "+100d");
    let check = format!("{base}/v1/commitments/check");
    let decided = std::panic::catch_unwind(|| {
        let r = post_json(&check, Some(&xzsp), &json!({"id": id}));
        assert_eq!(r.status, 200, "{}", text(&r));
        let c = r.json();
        assert_eq!((c["kept"].as_u64(), c["broken"].as_u64()), (Some(1), Some(0)), "{c}");
        let r = call("POST", &check, Some(&archivist), None, None);
        assert_eq!(r.status, 200, "{}", text(&r));
        let c = r.json();
        assert_eq!(
            (c["kept"].as_u64(), c["broken"].as_u64(), c["already_decided"].as_u64()),
            (Some(0), Some(1), Some(1)),
            "{c}"
        );
        assert!(!text(&r).contains(BOB));
        uses(&base, &archivist, ALICE)
    });
    let _ = later.kill();
    let _ = later.wait();
    let alice_uses = decided.unwrap_or_else(|e| std::panic::resume_unwind(e));
    // The subject's use list shows the check.
    assert!(alice_uses.iter().any(|u| u["type"] == "commitment-check" && u["status"] == "kept"));
    assert!(alice_uses.iter().any(|u| u["type"] == "use-refusal" && u["by"] == "scjg"));
}

/// `zhengyin serve` for `home` under `faketime -f offset` on a free loopback port.
fn spawn_faketime_server(home: &zhengyin::config::Home, offset: &str) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new("faketime")
        .args(["-f", offset, env!("CARGO_BIN_EXE_zhengyin"), "serve", "--listen", "127.0.0.1:0"])
        .args(["--refresh-secs", "0", "--home"])
        .arg(&home.dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn faketime zhengyin serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
    (child, line.split_whitespace().last().unwrap_or_default().to_string())
}
