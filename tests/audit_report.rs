//! The DA/T 70 audit report (`zhengyin audit --report`): a PDF with the four-property results,
//! sealed by the archive's keeper, accepted by pyHanko, pdfsig and qpdf, filed in the archive it
//! audited, and saying the same numbers as `audit --json`.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// The report's text, whitespace removed (pdftotext over every page).
fn text(r: &Region, pdf: &Path) -> Option<String> {
    if !have_tool("pdftotext") {
        assert!(!in_ci(), "pdftotext is required in CI");
        return None;
    }
    let o = run_in(r.dir.path(), "pdftotext", &[s(pdf), "-"]);
    o.assert_code(0);
    Some(o.stdout.replace(char::is_whitespace, ""))
}

fn audit_with_report(r: &Region, out: &str) -> (Run, Value) {
    let pdf = r.path(out);
    let run = r.zy(&["audit", "--home", s(&r.home), "--json", "--report", s(&pdf)]);
    let json = run.json();
    assert!(pdf.is_file(), "no report written\n{}", run.both());
    (run, json)
}

/// A clean audit: the report is sealed by 大数据中心, passes every outside validator and
/// `zhengyin verify`, says what `audit --json` says, and is itself filed in the archive.
#[test]
fn a_clean_audit_report_is_sealed_filed_and_matches_the_json() {
    let r = Region::init();
    r.issue("business-licence", None, "bl.pdf");
    r.issue("food-business-licence", None, "fl.pdf");
    let (run, j) = audit_with_report(&r, "audit.pdf");
    run.assert_code(0);
    let pdf = r.path("audit.pdf");
    assert_outside_validators(&r, &pdf, 1);
    let v = r.verify_json(&pdf);
    v.assert_code(0);
    let report = v.json();
    assert_eq!(first_sig(&report)["department"]["id"], "dsjzx", "{}", v.both());
    assert!(run.stderr.contains("archived") || run.stderr.contains("report"), "{}", run.both());
    if let Some(t) = text(&r, &pdf) {
        let n = |k: &str| j[k].as_u64().unwrap_or_else(|| panic!("{k} in {j}"));
        for want in [
            format!("档案记录{}条", n("records")),
            format!("复核文件{}份", n("checked")),
            format!("（{}字节）", n("bytes_checked")),
            format!("日志大小{}", n("log_size")),
            "发现问题0个".to_string(),
            "四性检测全部通过".to_string(),
            "未发现问题".to_string(),
        ] {
            assert!(t.contains(&want), "the report does not say {want}:\n{t}");
        }
        for p in ["真实性检测", "完整性检测", "可用性检测", "安全性检测"] {
            assert!(t.contains(p), "no table for {p}:\n{t}");
        }
    }
    // The audit left evidence: the report is one more record, and the archive is still clean.
    let again = r.zy(&["audit", "--home", s(&r.home), "--json"]);
    again.assert_code(0);
    let after = again.json();
    assert_eq!(after["records"].as_u64(), j["records"].as_u64().map(|n| n + 1), "{}", again.both());
    let list = r.zy(&["archive", "list", "--home", s(&r.home)]);
    assert!(list.stdout.contains("电子档案检测报告"), "{}", list.both());
}

/// With problems (after `init --force` the archived licences no longer chain to the home's new
/// root, so they fail authenticity), the report lists every problem with its record, counts them
/// per property as `audit --json` does, and exits 1; it is sealed with the new keys.
#[test]
fn problems_are_listed_with_their_records() {
    let r = Region::init();
    r.issue("business-licence", None, "bl.pdf");
    r.issue("food-business-licence", None, "fl.pdf");
    r.zy(&["init", "--home", s(&r.home), "--force"]).assert_code(0);
    let (run, j) = audit_with_report(&r, "audit.pdf");
    run.assert_code(1);
    let problems = j["problems"].as_array().expect("problems");
    assert!(problems.len() >= 2, "{}", run.both());
    let pdf = r.path("audit.pdf");
    assert_outside_validators(&r, &pdf, 1);
    if let Some(t) = text(&r, &pdf) {
        let authentic = problems.iter().filter(|p| p["property"] == "authentic").count();
        assert!(t.contains(&format!("真实性未通过（{authentic}个问题）")), "{t}");
        assert!(t.contains(&format!("发现问题{}个", problems.len())), "{t}");
        for p in problems {
            let record = p["record"].as_str().unwrap();
            assert!(t.contains(record), "problem record {record} is not in the report:\n{t}");
        }
    }
    if have_tool("pdfinfo") {
        let info = run_in(r.dir.path(), "pdfinfo", &[s(&pdf)]);
        let pages: u32 = info
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("pages");
        assert!(pages >= 2, "summary, then the tables: {pages} pages");
    }
}

/// A report path that cannot be written is a one-line error (exit 2), and nothing is filed.
#[test]
fn an_unwritable_report_path_is_a_one_line_error() {
    let r = Region::init();
    r.issue("business-licence", None, "bl.pdf");
    let run = r.zy(&["audit", "--home", s(&r.home), "--report", "/nonexistent-dir/audit.pdf"]);
    run.assert_one_line_error(2);
}
