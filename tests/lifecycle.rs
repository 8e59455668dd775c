//! The licence lifecycle through the CLI: change (变更) seals a new version with the same
//! identifier stem and the next version number, the old one becomes superseded; cancel (注销)
//! and revoke (吊销) end a licence; only the issuing (or an authorised) department may act, and a
//! refusal files nothing; every transition is in the archive log and the audit checks each one
//! has its sealed version.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;
use zhengyin::document::identifier::LicenceId;

/// The sample business licence data with a changed address (变更).
fn changed_data(r: &Region) -> PathBuf {
    let mut d = sample_data("business-licence");
    d.insert("address".into(), Value::String("山东省泰安市泰山区示例路99号测试大厦3层".into()));
    let p = r.path("changed.json");
    std::fs::write(&p, serde_json::to_vec(&Value::Object(d)).unwrap()).unwrap();
    p
}

fn status_json(r: &Region, id: &str) -> (Value, i32) {
    let run = r.zy(&["licence", "status", id, "--home", s(&r.home), "--json"]);
    (run.json(), run.code)
}

fn archive_size(r: &Region) -> usize {
    r.zy(&["archive", "list", "--home", s(&r.home)]).stdout.lines().count()
}

fn change(r: &Region, id: &str, out: &Path) -> Run {
    let data = changed_data(r);
    r.zy(&[
        "licence",
        "change",
        id,
        "--home",
        s(&r.home),
        "--data",
        s(&data),
        "--reason",
        "住所变更",
        "-o",
        s(out),
    ])
}

/// Change seals version .002 of the same stem with a recomputed check character; the old
/// version reads superseded (naming the new one as current), the new one valid.
#[test]
fn change_supersedes_the_old_version() {
    let r = Region::init();
    let (_pdf, run) = r.issue("business-licence", None, "v1.pdf");
    let old = run.line_value("identifier");
    let v2 = r.path("v2.pdf");
    let c = change(&r, &old, &v2);
    c.assert_code(0);
    let new = c.line_value("new version");
    let (o, n): (LicenceId, LicenceId) = (old.parse().unwrap(), new.parse().unwrap());
    assert_eq!((&o.type_code, &o.issuer_code, &o.serial), (&n.type_code, &n.issuer_code, &n.serial));
    assert_eq!((o.version.as_str(), n.version.as_str()), ("001", "002"));
    assert!(v2.is_file());

    let (v, code) = status_json(&r, &old);
    assert_eq!((v["status"].as_str(), code), (Some("superseded"), 1), "{v}");
    assert_eq!(v["current_version"], new.as_str());
    assert_eq!(v["successor"], new.as_str());
    assert_eq!(v["reason"], "住所变更");
    let (v, code) = status_json(&r, &new);
    assert_eq!((v["status"].as_str(), code), (Some("valid"), 0), "{v}");

    // The new version verifies and carries its own identifier.
    let rep = r.verify_json(&v2);
    rep.assert_code(0);
    assert_eq!(rep.json()["licence"]["zzbs"], new.as_str());
    // A second change of the old (superseded) version is refused: act on the current one.
    change(&r, &old, &r.path("v3.pdf")).assert_one_line_error(2);
    // The audit finds every transition's sealed version.
    r.zy(&["audit", "--home", s(&r.home)]).assert_code(0);
}

/// Cancel (注销) and revoke (吊销) end a licence with time and reason; a cancelled licence cannot
/// be revoked or changed afterwards, and neither gets an annotated copy (加注件).
#[test]
fn cancel_and_revoke_end_a_licence() {
    let r = Region::init();
    let (_, run) = r.issue("business-licence", None, "a.pdf");
    let a = run.line_value("identifier");
    let c = r.zy(&["licence", "cancel", &a, "--home", s(&r.home), "--reason", "申请人申请注销"]);
    c.assert_code(0);
    assert!(c.stdout.contains("now cancelled"), "{}", c.both());
    let (v, code) = status_json(&r, &a);
    assert_eq!((v["status"].as_str(), v["status_zh"].as_str(), code), (Some("cancelled"), Some("已注销"), 1));
    assert_eq!(v["reason_code"], "cancelled");
    assert!(v["time"].as_str().is_some_and(|t| t.len() >= 20));
    r.zy(&["licence", "revoke", &a, "--home", s(&r.home), "--reason", "x", "--by", "scjg"])
        .assert_one_line_error(2);

    let (_, run) = r.issue("business-licence", None, "b.pdf");
    let b = run.line_value("identifier");
    r.zy(&["licence", "revoke", &b, "--home", s(&r.home), "--reason", "以欺骗手段取得许可", "--by", "scjg"])
        .assert_code(0);
    let (v, _) = status_json(&r, &b);
    assert_eq!(v["status"], "revoked");
    // No annotated copy (加注件) of a licence that is no longer in force, and nothing filed.
    let size = archive_size(&r);
    for (id, state) in [(&a, "is cancelled"), (&b, "is revoked")] {
        let copy = r.path("copy.pdf");
        let u = r.zy(&[
            "licence",
            "use",
            id,
            "--home",
            s(&r.home),
            "--by",
            "xzsp",
            "--purpose",
            "370900-XK-0001",
            "-o",
            s(&copy),
        ]);
        u.assert_one_line_error(2);
        assert!(u.stderr.contains(state) && u.stderr.contains("not in force"), "{}", u.both());
        assert!(!copy.exists());
    }
    assert_eq!(archive_size(&r), size, "a refused copy filed something");
    r.zy(&["audit", "--home", s(&r.home)]).assert_code(0);
}

/// A department that neither issued the licence nor is named for its type may not change its
/// status: a one-line error naming who may, exit 2, and nothing is archived.
#[test]
fn unauthorised_department_is_refused_and_nothing_is_archived() {
    let r = Region::init();
    let (_, run) = r.issue("business-licence", None, "a.pdf");
    let a = run.line_value("identifier");
    let before = archive_size(&r);
    let run = r.zy(&["licence", "cancel", &a, "--home", s(&r.home), "--reason", "x", "--by", "dy-xzsp"]);
    run.assert_one_line_error(2);
    assert!(
        run.stderr.contains("may not change the status") && run.stderr.contains("scjg"),
        "{}",
        run.both()
    );
    let run = r.zy(&["licence", "revoke", &a, "--home", s(&r.home), "--reason", "x", "--by", "xzsp"]);
    run.assert_one_line_error(2);
    let data = changed_data(&r);
    let out = r.path("no.pdf");
    let run = r.zy(&[
        "licence",
        "change",
        &a,
        "--home",
        s(&r.home),
        "--data",
        s(&data),
        "--by",
        "xzsp",
        "-o",
        s(&out),
    ]);
    run.assert_one_line_error(2);
    assert!(!out.exists());
    assert_eq!(archive_size(&r), before, "a refused transition archived something");
    assert_eq!(status_json(&r, &a).0["status"], "valid");
}

/// Suspend and resume work only for templates that allow them (food business licence).
#[test]
fn suspend_and_resume_follow_the_template() {
    let r = Region::init();
    let (_, run) = r.issue("business-licence", None, "a.pdf");
    let a = run.line_value("identifier");
    let run = r.zy(&["licence", "suspend", &a, "--home", s(&r.home), "--reason", "停业整顿"]);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("does not allow suspension"), "{}", run.both());
    let (_, run) = r.issue("food-business-licence", None, "f.pdf");
    let f = run.line_value("identifier");
    r.zy(&["licence", "suspend", &f, "--home", s(&r.home), "--reason", "停业整顿"]).assert_code(0);
    assert_eq!(status_json(&r, &f).0["status"], "suspended");
    r.zy(&["licence", "resume", &f, "--home", s(&r.home)]).assert_code(0);
    assert_eq!(status_json(&r, &f).0["status"], "valid");
}

/// Bad input: a malformed identifier, an unknown one, an unknown department: exit 2, one line.
#[test]
fn bad_input_is_one_line_exit_2() {
    let r = Region::init();
    r.zy(&["licence", "cancel", "not-an-id", "--home", s(&r.home), "--reason", "x", "--by", "scjg"])
        .assert_one_line_error(2);
    let (_, run) = r.issue("business-licence", None, "a.pdf");
    let a = run.line_value("identifier");
    let mut unknown: LicenceId = a.parse().unwrap();
    unknown = LicenceId::new(&unknown.type_code, &unknown.issuer_code, "20200101ZZZZZZZZZZ", 1).unwrap();
    r.zy(&["licence", "cancel", &unknown.to_string(), "--home", s(&r.home), "--reason", "x"])
        .assert_one_line_error(2);
    r.zy(&["licence", "cancel", &a, "--home", s(&r.home), "--reason", "x", "--by", "nosuch"])
        .assert_one_line_error(2);
    r.zy(&["licence", "status", "1.2.3", "--home", s(&r.home)]).assert_one_line_error(2);
    // An output the new version cannot be written to is refused before anything is filed: the
    // licence stays valid and a corrected retry works.
    let size = archive_size(&r);
    change(&r, &a, &r.path("no-such-dir/v2.pdf")).assert_one_line_error(2);
    change(&r, &a, r.dir.path()).assert_one_line_error(2);
    assert_eq!(archive_size(&r), size, "a refused change filed something");
    assert_eq!(status_json(&r, &a).0["status"], "valid");
    change(&r, &a, &r.path("v2.pdf")).assert_code(0);
}
