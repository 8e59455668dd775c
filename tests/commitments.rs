//! Notification-and-commitment (告知承诺) end to end through the CLI (docs/proofs.md): a commitment
//! recorded as a sealed PDF that verifies (zhengyin and pyHanko), kept / broken / unverifiable
//! checks against the holders' data, refusals recorded, input errors on one line, and no raw ID
//! number anywhere in the home.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const ALICE: &str = "370902199001011235"; // 测试员甲: social insurance 正常
const BOB: &str = "370902198503152340"; // 测试员乙: social insurance 暂停缴费
const NOBODY: &str = "370902197809094564"; // valid check digit, in no data file
const ALL_IDS: [&str; 4] =
    ["370902199001011235", "370902198503152340", "370902199207203451", "370902197809094564"];
/// 人力资源服务许可: checked against social-insurance `status = 正常`; xzsp and dy-xzsp may take it.
const MATTER: &str = "370900-XK-0001";
const STATEMENT: &str =
    "本人承诺：申请人力资源服务许可时，\n本人社会保险参保状态正常，如有不实，愿承担相应法律责任。\n";

fn load(r: &Region) {
    for (dept, f) in
        [("rs", "rs-social-insurance.csv"), ("bdc", "bdc-real-estate.json"), ("scjg", "scjg-compliance.csv")]
    {
        let file = repo().join("fixtures/holders").join(f);
        r.zy(&["data", "load", "--home", s(&r.home), "--dept", dept, s(&file)]).assert_code(0);
    }
}

fn write(r: &Region, name: &str, text: &str) -> PathBuf {
    let p = r.path(name);
    std::fs::write(&p, text).expect("write test file");
    p
}

fn commit(r: &Region, by: &str, subject: &str, matter: &str, statement: &Path, out: &str) -> Run {
    let o = r.path(out);
    r.zy(&[
        "commit",
        "--home",
        s(&r.home),
        "--by",
        by,
        "--subject",
        subject,
        "--matter",
        matter,
        "--statement",
        s(statement),
        "-o",
        s(&o),
    ])
}

/// The commitment number printed by `commit`.
fn commitment_id(run: &Run) -> String {
    run.stdout
        .split_whitespace()
        .find(|w| w.starts_with("CN") && w.len() == 18)
        .unwrap_or_else(|| panic!("no commitment number in\n{}", run.both()))
        .to_string()
}

/// When the default 90-day check period has passed.
const AFTER_DUE: &str = "+100d";

fn check_json(r: &Region, extra: &[&str]) -> Run {
    let mut args = vec!["commit", "check", "--home", s(&r.home), "--json"];
    args.extend(extra);
    r.zy_at(AFTER_DUE, &args)
}

#[test]
fn commitment_for_a_listed_matter_is_sealed_verifies_and_is_kept() {
    let r = Region::init();
    load(&r);
    let st = write(&r, "statement.txt", STATEMENT);
    let run = commit(&r, "xzsp", ALICE, MATTER, &st, "c.pdf");
    run.assert_code(0);
    let id = commitment_id(&run);
    assert!(run.stdout.contains("social-insurance"), "{}", run.both());
    let pdf = r.path("c.pdf");
    // The PDF is sealed by the handling department and verifies.
    let v = r.verify_json(&pdf);
    v.assert_code(0);
    let j = v.json();
    assert_eq!(j["indication"], "TOTAL-PASSED", "{}", v.both());
    assert_eq!(first_sig(&j)["department"]["id"], "xzsp", "{}", v.both());
    assert_eq!(j["licence"]["zzbh"], id.as_str());
    assert_eq!(j["licence"]["zzmc"], "告知承诺书");
    assert!(j["licence"]["czztdm"].as_str().is_some_and(|c| c.starts_with("HC")), "{}", v.both());
    assert_eq!(j["licence"]["czzt"], "3709**********1235");
    assert_outside_validators(&r, &pdf, 1);
    if have_tool("pyhanko") {
        let root = r.home.join("pki/root.crt.pem");
        let p = run_in(
            r.dir.path(),
            "pyhanko",
            &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&pdf)],
        );
        assert!(
            p.stdout
                .replace("TIMESTAMP_TOKEN<INTACT:TRUSTED>,", "")
                .contains("INTACT:TRUSTED,EXTENDED_WITH_LTA_UPDATES,ACCEPTABLE_MODIFICATIONS"),
            "pyHanko does not accept the commitment\n{}",
            p.both()
        );
    }
    // The archive holds it and audits clean.
    let list = r.zy(&["archive", "list", "--home", s(&r.home)]);
    assert!(list.stdout.contains("commitment"), "{}", list.both());
    // The holder data matches: kept.
    let c = check_json(&r, &[]);
    c.assert_code(0);
    let rep = c.json();
    assert_eq!(rep["kept"], 1, "{}", c.both());
    assert_eq!(rep["broken"], 0);
    let one = &rep["commitments"][0];
    assert_eq!(one["id"], id.as_str());
    assert_eq!(one["status"], "kept");
    assert_eq!(one["matter"], MATTER);
    assert_eq!(one["by"], "xzsp");
    assert_eq!(one["findings"][0]["kind"], "social-insurance");
    assert_eq!(one["findings"][0]["found"], "正常");
    assert!(one["record"].as_str().is_some_and(|x| !x.is_empty()));
    r.zy(&["audit", "--home", s(&r.home)]).assert_code(0);
}

#[test]
fn a_broken_commitment_detected() {
    let r = Region::init();
    load(&r);
    let st = write(&r, "statement.txt", STATEMENT);
    let run = commit(&r, "dy-xzsp", ALICE, MATTER, &st, "a.pdf");
    run.assert_code(0);
    let alice_id = commitment_id(&run);
    // Later the holder's data changes: ALICE's social insurance is suspended (a reload replaces it).
    let changed = write(
        &r,
        "rs-changed.csv",
        &format!("id,name,kind,status,since\n{ALICE},测试员甲,social-insurance,暂停缴费,2019-03\n"),
    );
    r.zy(&["data", "load", "--home", s(&r.home), "--dept", "rs", s(&changed)]).assert_code(0);
    let c = check_json(&r, &[]);
    c.assert_code(1);
    let rep = c.json();
    assert_eq!(rep["broken"], 1, "{}", c.both());
    assert_eq!(rep["kept"], 0);
    let one = &rep["commitments"][0];
    assert_eq!(one["id"], alice_id.as_str());
    assert_eq!(one["status"], "broken");
    let f = &one["findings"][0];
    assert_eq!(f["field"], "status");
    assert_eq!(f["expect"], "正常");
    assert_eq!(f["found"], "暂停缴费");
    assert_eq!(f["outcome"], "mismatch");
    // The check is in the subject's use list.
    let u = r.zy(&["proof", "uses", "--home", s(&r.home), "--subject", ALICE, "--json"]);
    let uses = u.json();
    assert!(
        uses.as_array()
            .is_some_and(|a| a.iter().any(|x| x["type"] == "commitment-check" && x["status"] == "broken")),
        "{}",
        u.both()
    );
    // A second check does not re-decide it.
    let again = check_json(&r, &[]);
    again.assert_code(0);
    let rep = again.json();
    assert_eq!(rep["commitments"].as_array().map(Vec::len), Some(0), "{}", again.both());
    assert_eq!(rep["already_decided"], 1);
    // The table: BOB's data never matched; his commitment is BROKEN on the readable report.
    let run = commit(&r, "xzsp", BOB, MATTER, &st, "b.pdf");
    run.assert_code(0);
    let bob_id = commitment_id(&run);
    let t = r.zy_at(AFTER_DUE, &["commit", "check", "--home", s(&r.home), "--id", &bob_id]);
    t.assert_code(1);
    let line = t
        .stdout
        .lines()
        .find(|l| l.starts_with(&bob_id))
        .unwrap_or_else(|| panic!("no line for {bob_id}\n{}", t.both()));
    assert!(
        line.contains("BROKEN") && line.contains("暂停缴费") && line.contains("3709**********2340"),
        "{}",
        t.both()
    );
    r.zy(&["audit", "--home", s(&r.home)]).assert_code(0);
}

#[test]
fn no_holder_record_is_unverifiable_and_stays_open() {
    let r = Region::init();
    load(&r);
    let st = write(&r, "statement.txt", STATEMENT);
    commit(&r, "xzsp", NOBODY, MATTER, &st, "n.pdf").assert_code(0);
    for _ in 0..2 {
        let c = check_json(&r, &[]);
        c.assert_code(0);
        let rep = c.json();
        assert_eq!(rep["unverifiable"], 1, "{}", c.both());
        assert_eq!(rep["commitments"][0]["status"], "unverifiable");
        assert_eq!(rep["commitments"][0]["findings"][0]["found"], serde_json::Value::Null);
        assert_eq!(rep["already_decided"], 0);
    }
    // Unknown commitment number: one-line error.
    r.zy_at(AFTER_DUE, &["commit", "check", "--home", s(&r.home), "--id", "CN0000000000000000"])
        .assert_one_line_error(2);
}

#[test]
fn department_not_allowed_for_the_matter_is_refused_and_recorded() {
    let r = Region::init();
    load(&r);
    let st = write(&r, "statement.txt", STATEMENT);
    // scjg is not listed for 370900-XK-0001.
    let run = commit(&r, "scjg", ALICE, MATTER, &st, "no.pdf");
    run.assert_code(2);
    assert!(
        run.stderr.contains("refused") && run.stderr.contains("scjg") && run.stderr.lines().count() == 1,
        "{}",
        run.both()
    );
    assert!(!r.path("no.pdf").exists());
    // A matter no commitment rule lists.
    let run = commit(&r, "xzsp", ALICE, "370900-XX-9999", &st, "no2.pdf");
    run.assert_code(2);
    assert!(run.stderr.contains("refused") && run.stderr.lines().count() == 1, "{}", run.both());
    let u = r.zy(&["proof", "uses", "--home", s(&r.home), "--subject", ALICE, "--json"]);
    u.assert_code(0);
    let list = u.json();
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 2, "{}", u.both());
    assert!(list.iter().all(|x| x["type"] == "use-refusal" && x["kind"] == "commitment"), "{}", u.both());
    assert_eq!(list[0]["by"], "scjg");
    assert_eq!(list[0]["purpose"], MATTER);
    // Nothing was recorded to check.
    let c = check_json(&r, &[]);
    c.assert_code(0);
    assert_eq!(c.json()["commitments"].as_array().map(Vec::len), Some(0), "{}", c.both());
    r.zy(&["audit", "--home", s(&r.home)]).assert_code(0);
}

#[test]
fn bad_statement_or_subject_is_a_one_line_error() {
    let r = Region::init();
    load(&r);
    let empty = write(&r, "empty.txt", " \n\n  \n");
    let e = commit(&r, "xzsp", ALICE, MATTER, &empty, "x.pdf");
    e.assert_one_line_error(2);
    assert!(e.stderr.contains("statement is empty"), "{}", e.both());
    let m = commit(&r, "xzsp", ALICE, MATTER, &r.path("missing.txt"), "x.pdf");
    m.assert_one_line_error(2);
    assert!(m.stderr.contains("missing.txt"), "{}", m.both());
    let long = write(&r, "long.txt", &"承".repeat(201));
    let l = commit(&r, "xzsp", ALICE, MATTER, &long, "x.pdf");
    l.assert_one_line_error(2);
    assert!(l.stderr.contains("201 characters"), "{}", l.both());
    let with_id = write(&r, "id.txt", &format!("本人（身份证号{ALICE}）承诺参保正常。"));
    let w = commit(&r, "xzsp", ALICE, MATTER, &with_id, "x.pdf");
    w.assert_one_line_error(2);
    assert!(!w.stderr.contains(ALICE), "{}", w.both());
    let bad_id = "370902199001011236";
    let b = commit(&r, "xzsp", bad_id, MATTER, &write(&r, "ok.txt", STATEMENT), "x.pdf");
    b.assert_one_line_error(2);
    assert!(!b.stderr.contains(bad_id), "{}", b.both());
    std::fs::write(r.path("bin.txt"), [0xffu8, 0xfe, 0x00]).expect("write");
    commit(&r, "xzsp", ALICE, MATTER, &r.path("bin.txt"), "x.pdf").assert_one_line_error(2);
    assert!(!r.path("x.pdf").exists());
    // Missing required argument: clap usage error, exit 2.
    r.zy(&["commit", "--home", s(&r.home), "--subject", ALICE, "--matter", MATTER]).assert_code(2);
    // The longest statement accepted (200 CJK characters) still fits the one sealed page.
    let max = write(&r, "max.txt", &"承诺".repeat(100));
    commit(&r, "xzsp", ALICE, MATTER, &max, "max.pdf").assert_code(0);
    r.verify_json(&r.path("max.pdf")).assert_code(0);
}

#[test]
fn raw_id_numbers_never_reach_the_home_after_commit_and_check() {
    let r = Region::init();
    load(&r);
    let st = write(&r, "statement.txt", STATEMENT);
    commit(&r, "xzsp", ALICE, MATTER, &st, "a.pdf").assert_code(0);
    commit(&r, "xzsp", BOB, MATTER, &st, "b.pdf").assert_code(0);
    commit(&r, "xzsp", NOBODY, MATTER, &st, "c.pdf").assert_code(0);
    commit(&r, "scjg", ALICE, MATTER, &st, "d.pdf").assert_code(2);
    check_json(&r, &[]).assert_code(1);
    let t = r.zy_at(AFTER_DUE, &["commit", "check", "--home", s(&r.home)]);
    t.assert_code(0);
    for out in [&t.stdout, &t.stderr] {
        assert!(ALL_IDS.iter().all(|id| !out.contains(id)), "{}", t.both());
    }
    assert_no_raw_ids(&r.home, &ALL_IDS);
    for out in ["a.pdf", "b.pdf", "c.pdf"] {
        let bytes = std::fs::read(r.path(out)).expect("read");
        assert!(ALL_IDS.iter().all(|id| find(&bytes, id.as_bytes(), 0).is_none()), "{out}");
    }
}

/// A check before the check-due date decides and records nothing (the holder has until then); the
/// same commitment is decided once the date has come.
#[test]
fn a_commitment_is_not_decided_before_its_check_is_due() {
    let r = Region::init();
    load(&r);
    let st = write(&r, "statement.txt", STATEMENT);
    let run = commit(&r, "xzsp", ALICE, MATTER, &st, "a.pdf");
    run.assert_code(0);
    let id = commitment_id(&run);
    let early = r.zy(&["commit", "check", "--home", s(&r.home), "--json"]);
    early.assert_code(0);
    let rep = early.json();
    assert_eq!(rep["commitments"].as_array().map(Vec::len), Some(0), "{}", early.both());
    assert_eq!(rep["kept"], 0);
    assert_eq!(rep["not_due"][0]["id"], id.as_str(), "{}", early.both());
    // Asked for by its number, too: not yet due, nothing decided.
    let one = r.zy(&["commit", "check", "--home", s(&r.home), "--id", &id, "--json"]);
    one.assert_code(0);
    assert_eq!(
        (one.json()["kept"].as_u64(), one.json()["not_due"][0]["id"].as_str()),
        (Some(0), Some(id.as_str()))
    );
    let table = r.zy(&["commit", "check", "--home", s(&r.home)]);
    assert!(table.stdout.contains("NOT DUE") && table.stdout.contains("1 not yet due"), "{}", table.both());
    // Nothing was recorded: the subject's uses hold no commitment-check.
    let uses = r.zy(&["proof", "uses", "--home", s(&r.home), "--subject", ALICE, "--json"]);
    assert!(!uses.stdout.contains("commitment-check"), "{}", uses.both());
    // After the period the same commitment is decided.
    let late = check_json(&r, &[]);
    late.assert_code(0);
    assert_eq!(late.json()["kept"], 1, "{}", late.both());
    assert_eq!(late.json()["not_due"].as_array().map(Vec::len), Some(0));
}
