//! Documents whose use period has ended are not valid, though their seals are intact (issue 16
//! §3): a proof PDF past its 有效期至 and an annotated copy (加注件) past its validity end exit 1
//! with the document verdict "not valid" under rule `VALIDITY`, while the ETSI indication stays
//! TOTAL-PASSED. The clock is moved with Debian's `faketime`, as a user would meet the day.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Three days on: after a one-day proof and an annotated copy valid until tomorrow, while the
/// home's CRLs (seven days) are still current.
const LATER: &str = "+3d";

/// Tomorrow's date in China Standard Time (YYYY-MM-DD).
fn tomorrow_in_china() -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::hours(8) + time::Duration::days(1);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// The JSON report's verdict is `result` under `rule`, and the signatures are intact.
fn assert_verdict(run: &Run, result: &str, rule: &str) {
    let j = run.json();
    assert_eq!(j["verdict"]["result"], result, "{}", run.both());
    assert_eq!(j["verdict"]["rule"], rule, "{}", run.both());
    assert_eq!(j["indication"], "TOTAL-PASSED", "the seals themselves stay valid: {}", run.both());
}

/// An annotated copy of a freshly issued business licence, valid until `until`.
fn annotated_copy(r: &Region, until: &str) -> PathBuf {
    let (_, run) = r.issue("business-licence", None, "licence.pdf");
    let id = run.line_value("identifier");
    let out = r.path("copy.pdf");
    r.zy(&[
        "licence",
        "use",
        "--home",
        s(&r.home),
        &id,
        "--by",
        "xzsp",
        "--purpose",
        "370900-XK-0001",
        "--valid-until",
        until,
        "-o",
        s(&out),
    ])
    .assert_code(0);
    out
}

fn verify_later(r: &Region, pdf: &Path, json: bool) -> Run {
    let mut args = vec!["verify", s(pdf), "--home", s(&r.home)];
    if json {
        args.push("--json");
    }
    r.zy_at(LATER, &args)
}

/// `proof verify` of a one-day proof PDF: valid today; three days later exit 1, NOT VALID under
/// rule VALIDITY naming its 有效期至, in JSON and in text (and `verify` agrees).
#[test]
fn an_expired_proof_pdf_is_not_valid() {
    let r = Region::init();
    let (pdf, _) = r.request_proof("p.pdf", &["--valid-days", "1"]);
    let now = r.zy(&["proof", "verify", "--home", s(&r.home), "--json", s(&pdf)]);
    now.assert_code(0);
    assert_verdict(&now, "valid", "ALL_CHECKS");
    assert_eq!(now.json()["validity"]["document"], "proof", "{}", now.both());
    assert_eq!(now.json()["validity"]["expired"], false, "{}", now.both());
    let until = now.json()["validity"]["valid_until"].as_str().unwrap_or_default().to_string();
    assert_eq!(until.len(), 10, "{}", now.both());

    let later = r.zy_at(LATER, &["proof", "verify", "--home", s(&r.home), "--json", s(&pdf)]);
    later.assert_code(1);
    assert_verdict(&later, "not valid", "VALIDITY");
    assert_eq!(later.json()["validity"]["expired"], true, "{}", later.both());
    assert!(later.json()["verdict"]["detail"].as_str().unwrap_or("").contains(&until), "{}", later.both());

    let text = r.zy_at(LATER, &["proof", "verify", "--home", s(&r.home), s(&pdf)]);
    text.assert_code(1);
    assert!(text.stdout.contains("verdict: NOT VALID (rule VALIDITY)"), "{}", text.both());
    assert!(text.stdout.contains("EXPIRED: the proof may no longer be used"), "{}", text.both());
    verify_later(&r, &pdf, false).assert_code(1);
}

/// `verify` of an annotated copy valid until tomorrow: valid today; three days later exit 1, NOT
/// VALID under rule VALIDITY, the copy named expired — alone and in a batch.
#[test]
fn an_expired_annotated_copy_is_not_valid() {
    let r = Region::init();
    let until = tomorrow_in_china();
    let copy = annotated_copy(&r, &until);
    let now = r.verify_json(&copy);
    now.assert_code(0);
    assert_verdict(&now, "valid", "ALL_CHECKS");

    let later = verify_later(&r, &copy, true);
    later.assert_code(1);
    assert_verdict(&later, "not valid", "VALIDITY");
    let j = later.json();
    assert_eq!(j["annotated_copy"]["expired"], true, "{}", later.both());
    assert_eq!(j["validity"]["document"], "annotated copy", "{}", later.both());
    assert!(j["verdict"]["detail"].as_str().unwrap_or("").contains(&until), "{}", later.both());

    let text = verify_later(&r, &copy, false);
    text.assert_code(1);
    assert!(text.stdout.contains("verdict: NOT VALID (rule VALIDITY)"), "{}", text.both());
    assert!(text.stdout.contains("EXPIRED: the copy may no longer be used"), "{}", text.both());
    // The batch mode applies the same verdict: one expired file fails the run.
    let dir = r.path("received");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::copy(&copy, dir.join("copy.pdf")).expect("copy");
    r.zy_at(LATER, &["verify", &format!("{}/", s(&dir)), "--home", s(&r.home)]).assert_code(1);
}
