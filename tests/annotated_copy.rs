//! Annotated copies (加注件) end to end through the CLI: `licence use` on a locked three-seal
//! licence keeps every seal valid for zhengyin, pyHanko, pdfsig and qpdf; the watermark is visible
//! on the page; the signed items are in the report; tampering with them, reuse of a copy, and bad
//! requests are refused with one line.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A complete joint licence (dy-xzsp → scjg → xzsp, locked) and its identifier.
fn joint(r: &Region) -> (PathBuf, String) {
    let (a1, run) = r.issue("joint-approval", None, "a1.pdf");
    let id = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("identifier"))
        .map(|s| s.trim().to_string())
        .expect("identifier line");
    let (a2, a3) = (r.path("a2.pdf"), r.path("a3.pdf"));
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "scjg", s(&a1), "-o", s(&a2)]).assert_code(0);
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "xzsp", s(&a2), "-o", s(&a3)]).assert_code(0);
    (a3, id)
}

fn use_licence(r: &Region, licence: &str, by: &str, purpose: &str, extra: &[&str], out: &Path) -> Run {
    let mut args =
        vec!["licence", "use", "--home", s(&r.home), licence, "--by", by, "--purpose", purpose, "-o", s(out)];
    args.extend_from_slice(extra);
    r.zy(&args)
}

#[test]
fn annotated_copy_of_a_locked_joint_licence_passes_every_validator() {
    let r = Region::init();
    let (_, id) = joint(&r);
    let out = r.path("copy.pdf");
    // By identifier: the licence comes from the archive.
    use_licence(&r, &id, "xzsp", "370900-XK-0001", &["--valid-until", "2099-12-31"], &out).assert_code(0);
    let v = r.verify_json(&out);
    v.assert_code(0);
    let j = v.json();
    let sigs = j["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 4, "{}", v.both());
    assert!(sigs.iter().all(|s| s["indication"] == "TOTAL-PASSED"), "{}", v.both());
    assert_eq!(sigs[3]["field"], "Annotation_dsjzx");
    assert_eq!(j["seal_plan"]["complete"], true, "the annotation is not a planned seal: {}", v.both());
    let a = &j["annotated_copy"];
    assert_eq!(a["purpose"], "370900-XK-0001", "{}", v.both());
    assert_eq!(a["purpose_name"], "人力资源服务许可");
    assert_eq!(a["user"], "泰安市行政审批服务局");
    assert_eq!(a["maker"], "泰安市大数据中心");
    assert_eq!(a["valid_until"], "2099-12-31");
    assert_eq!(a["expired"], false);
    assert_outside_validators(&r, &out, 4);
}

/// Grey levels of page 1 at 18 dpi (PGM), or None without pdftoppm.
fn pixels(dir: &Path, pdf: &Path, name: &str) -> Option<Vec<u8>> {
    if !have_tool("pdftoppm") {
        assert!(!in_ci(), "pdftoppm is required in CI");
        return None;
    }
    let prefix = dir.join(name);
    run_in(dir, "pdftoppm", &["-r", "18", "-gray", "-singlefile", s(pdf), s(&prefix)]).assert_code(0);
    let pgm = std::fs::read(prefix.with_extension("pgm")).expect("pgm");
    Some(pgm) // P5 header, then the pixels: two renders of one page size compare byte by byte
}

#[test]
fn the_watermark_is_visible_on_the_page() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "bl.pdf");
    let out = r.path("bl-copy.pdf");
    use_licence(&r, s(&pdf), "xzsp", "370900-XK-0012", &[], &out).assert_code(0);
    assert_outside_validators(&r, &out, 2);
    let (Some(before), Some(after)) =
        (pixels(r.dir.path(), &pdf, "before"), pixels(r.dir.path(), &out, "after"))
    else {
        eprintln!("note: pdftoppm not installed; skipping");
        return;
    };
    assert_eq!(before.len(), after.len());
    let changed = before.iter().zip(&after).filter(|(a, b)| a.abs_diff(**b) > 12).count();
    // At 18 dpi the page is 149×211 pixels; the diagonal lines and the platform seal change
    // well over a thousand of them, an invisible annotation none.
    assert!(changed > 1000, "only {changed} pixels differ: the watermark is not drawn");
}

/// The watermark says, in words a clerk reads, who may use the copy, for which matter, until when,
/// and who annotated it (pdftotext of the rotated bands, whitespace removed).
#[test]
fn the_watermark_names_department_matter_validity_and_maker() {
    if !have_tool("pdftotext") {
        return;
    }
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "bl.pdf");
    let out = r.path("bl-copy.pdf");
    use_licence(&r, s(&pdf), "xzsp", "370900-XK-0012", &["--valid-until", "2099-12-31"], &out).assert_code(0);
    let text: String = run_in(r.dir.path(), "pdftotext", &["-q", "-raw", s(&out), "-"])
        .stdout
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for words in [
        "仅供泰安市行政审批服务局办理食品经营许可使用",
        "370900-XK-0012",
        "有效期至2099-12-31",
        "泰安市大数据中心加注",
    ] {
        assert!(text.contains(words), "the watermark lacks {words}:\n{text}");
    }
    let bands = text.matches("有效期至2099-12-31").count();
    assert!(bands >= 2, "the wording repeats across the page in bands ({bands})");
}

#[test]
fn a_changed_annotation_item_breaks_the_copy() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "bl.pdf");
    let out = r.path("bl-copy.pdf");
    use_licence(&r, s(&pdf), "xzsp", "370900-XK-0012", &["--valid-until", "2099-12-31"], &out).assert_code(0);
    let mut bytes = std::fs::read(&out).expect("copy");
    let at = find(&bytes, b"(2099-12-31)", 0).expect("the validity end in the signature dictionary");
    bytes[at + 2] = b'8'; // 2099 → 2899: a longer use period
    let forged = r.path("forged.pdf");
    std::fs::write(&forged, &bytes).expect("write");
    let v = r.verify_json(&forged);
    v.assert_code(1);
    let sigs = v.json()["signatures"].as_array().cloned().expect("signatures");
    assert_eq!(sigs[1]["indication"], "TOTAL-FAILED", "{}", v.both());
    if have_tool("pyhanko") {
        let root = r.export_root("root.pem");
        let o = run_in(
            r.dir.path(),
            "pyhanko",
            &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&forged)],
        );
        assert_ne!(o.code, 0, "pyHanko accepted a changed annotation item\n{}", o.both());
    } else {
        assert!(!in_ci(), "pyhanko is required in CI");
    }
}

#[test]
fn bad_annotation_requests_are_refused_with_one_line() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "bl.pdf");
    let out = r.path("copy.pdf");
    // Not a listed use for this department.
    use_licence(&r, s(&pdf), "scjg", "370900-XK-0012", &[], &out).assert_one_line_error(2);
    // A validity end in the past, or not a date.
    use_licence(&r, s(&pdf), "xzsp", "370900-XK-0012", &["--valid-until", "2020-01-01"], &out)
        .assert_one_line_error(2);
    use_licence(&r, s(&pdf), "xzsp", "370900-XK-0012", &["--valid-until", "next week"], &out)
        .assert_one_line_error(2);
    // An unknown identifier.
    use_licence(&r, "1.2.156.3005.2.NOPE", "xzsp", "370900-XK-0012", &[], &out).assert_one_line_error(2);
    assert!(!out.exists(), "nothing written on refusal");
    // A copy of a copy.
    use_licence(&r, s(&pdf), "xzsp", "370900-XK-0012", &[], &out).assert_code(0);
    let again = use_licence(&r, s(&out), "xzsp", "370900-XK-0012", &[], &r.path("copy2.pdf"));
    again.assert_one_line_error(2);
    assert!(again.stderr.contains("already an annotated copy"), "{}", again.both());
    // A joint licence with one of its three seals is not ready for use.
    let (a1, _) = r.issue("joint-approval", None, "a1.pdf");
    let partial = use_licence(&r, s(&a1), "xzsp", "370900-XK-0012", &[], &r.path("partial.pdf"));
    partial.assert_one_line_error(2);
    assert!(partial.stderr.contains("1 of 3 planned seals"), "{}", partial.both());
    // The original is still the one the archive hands out for its identifier.
    let j = r.verify_json(&pdf).json();
    let id = j["licence"]["zzbs"].as_str().expect("identifier").to_string();
    use_licence(&r, &id, "xzsp", "370900-XK-0012", &[], &r.path("copy3.pdf")).assert_code(0);
}
