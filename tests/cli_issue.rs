//! `zhengyin issue` end to end: the PDFs it writes pass qpdf, poppler and pyHanko, and our own
//! verifier; their text and metadata carry the licence.

mod common;

use common::*;

/// Each built-in template issues a PDF that qpdf, pdfsig, pyHanko (trusting the exported root)
/// and `zhengyin verify` all accept, whose text shows the holder and labels and whose metadata
/// carries the title and the licence identifier.
#[test]
fn issued_licences_pass_every_verifier() {
    let r = Region::init();
    let root = r.export_root("root.pem");
    let (qpdf, pdfsig, pyhanko, pdftotext, pdfinfo) = (
        have_tool("qpdf"),
        have_tool("pdfsig"),
        have_tool("pyhanko"),
        have_tool("pdftotext"),
        have_tool("pdfinfo"),
    );
    for (template, holder_key, title, label) in TEMPLATES {
        let (pdf, issued) = r.issue(template, None, &format!("{template}.pdf"));
        let p = s(&pdf);
        let holder = sample_data(template)[holder_key].as_str().expect("holder is a string").to_string();

        // Our verifier.
        let v = r.verify_json(&pdf);
        v.assert_code(0);
        let j = v.json();
        assert_eq!(j["indication"], "TOTAL-PASSED", "{template}: {}", v.both());
        assert!(j["sub_indication"].is_null(), "{template}: {}", v.both());
        let sig = first_sig(&j);
        assert_eq!(j["signatures"].as_array().map(Vec::len), Some(1), "{template}: one seal expected");
        assert_eq!(sig["indication"], "TOTAL-PASSED", "{template}");
        assert_eq!(sig["department"]["id"], "scjg", "{template}: default seal is scjg");
        assert_eq!(sig["department"]["level"], "city", "{template}");
        assert_eq!(
            sig["coverage"], "ENTIRE_REVISION",
            "{template}: the B-LT validation data follows the seal"
        );
        assert_eq!(sig["changes_after"], serde_json::json!([]), "{template}");
        for c in sig["checks"].as_array().expect("checks") {
            assert_eq!(
                c["status"], "PASSED",
                "{template}: check {} did not pass: {}",
                c["name"], c["detail"]
            );
            assert!(
                c["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{template}: check {} has no detail",
                c["name"]
            );
        }
        let zzbs =
            j["licence"]["zzbs"].as_str().unwrap_or_else(|| panic!("{template}: no licence.zzbs in {j:#}"));
        assert!(zzbs.starts_with("1.2.156.3005.2."), "{template}: zzbs {zzbs}");
        assert!(
            issued.stdout.contains(zzbs),
            "{template}: issue printed another identifier than the PDF carries\n{}",
            issued.both()
        );
        assert_eq!(j["licence"]["czzt"], holder.as_str(), "{template}: licence holder");
        assert_eq!(j["licence"]["zzmc"], title, "{template}: licence name");

        if qpdf {
            let q = run_in(r.dir.path(), "qpdf", &["--check", p]);
            assert_eq!(q.code, 0, "{template}: qpdf --check failed\n{}", q.both());
        }
        if pdfsig {
            let o = run_in(r.dir.path(), "pdfsig", &[p]);
            assert!(o.stdout.contains("Signature is Valid"), "{template}: pdfsig\n{}", o.both());
            // The seal covers its revision; the B-LT validation data (DSS) follows it.
            assert!(o.stdout.contains("Not total document signed"), "{template}: pdfsig\n{}", o.both());
        }
        if pyhanko {
            let o = run_in(
                r.dir.path(),
                "pyhanko",
                &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), p],
            );
            assert!(
                o.stdout
                    .replace("TIMESTAMP_TOKEN<INTACT:TRUSTED>,", "")
                    .contains("INTACT:TRUSTED,EXTENDED_WITH_LTA_UPDATES,ACCEPTABLE_MODIFICATIONS"),
                "{template}: pyHanko\n{}",
                o.both()
            );
        }
        if pdftotext {
            let o = run_in(r.dir.path(), "pdftotext", &[p, "-"]);
            assert_eq!(o.code, 0, "{template}: pdftotext\n{}", o.both());
            // Titles may be letter-spaced: compare without whitespace.
            let text: String = o.stdout.chars().filter(|c| !c.is_whitespace()).collect();
            for want in [holder.as_str(), title, label] {
                assert!(text.contains(want), "{template}: page text lacks {want}\n{}", o.stdout);
            }
        }
        if pdfinfo {
            let o = run_in(r.dir.path(), "pdfinfo", &[p]);
            assert_eq!(o.code, 0, "{template}: pdfinfo\n{}", o.both());
            let field = |name: &str| {
                o.stdout
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(str::trim)
                    .unwrap_or_default()
                    .to_string()
            };
            let t = field("Title:");
            assert!(
                t.contains(title) && t.contains(&holder),
                "{template}: pdfinfo Title is {t:?}\n{}",
                o.stdout
            );
            assert_eq!(field("Keywords:"), zzbs, "{template}: pdfinfo Keywords should carry the identifier");
        }
    }
}

/// The shipped region with every department authorised to issue business licences (its
/// `[authority]` entry widened): the tests below exercise the seals, not the authority.
fn region_where_every_department_issues() -> Region {
    let all = "business-licence = [\"xzsp\", \"scjg\", \"dsjzx\", \"dy-xzsp\", \"rs\", \"bdc\"]";
    let text = zhengyin::config::DEFAULT_REGION.replace("business-licence = [\"scjg\"]", all);
    assert!(text.contains(all), "the shipped region has no business-licence authority entry");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("region.toml");
    std::fs::write(&config, text).expect("write region");
    Region::init_with_config(&config)
}

/// Every department can seal when the region authorises it: the report names the department and
/// its level (city or county).
#[test]
fn every_department_can_seal() {
    let r = region_where_every_department_issues();
    for (dept, level) in DEPARTMENTS {
        let (pdf, issued) = r.issue("business-licence", Some(dept), &format!("{dept}.pdf"));
        assert!(issued.stdout.contains(dept), "issue output should say who sealed\n{}", issued.both());
        let v = r.verify_json(&pdf);
        v.assert_code(0);
        let j = v.json();
        assert_eq!(j["indication"], "TOTAL-PASSED", "{dept}: {}", v.both());
        assert_eq!(first_sig(&j)["department"]["id"], dept, "{dept}");
        assert_eq!(first_sig(&j)["department"]["level"], level, "{dept}");
    }
}

/// Two issues of the same data give distinct identifiers (the identifier is per licence copy).
#[test]
fn identifiers_are_unique() {
    let r = Region::init();
    let (a, _) = r.issue("business-licence", None, "a.pdf");
    let (b, _) = r.issue("business-licence", None, "b.pdf");
    let za = r.verify_json(&a).json()["licence"]["zzbs"].clone();
    let zb = r.verify_json(&b).json()["licence"]["zzbs"].clone();
    assert!(za.is_string() && zb.is_string());
    assert_ne!(za, zb, "two licences got the same identifier");
}

/// The human-readable verify output ends in a verdict line and exits 0 for a good licence.
#[test]
fn verify_human_output() {
    let r = Region::init();
    let (pdf, _) = r.issue("food-business-licence", None, "f.pdf");
    let v = r.zy(&["verify", s(&pdf), "--home", s(&r.home)]);
    v.assert_code(0);
    assert!(v.stdout.contains("TOTAL-PASSED"), "{}", v.both());
    assert!(v.stdout.contains("岱岳区示例汶河餐饮店"), "human output should name the holder\n{}", v.both());
}

/// Every department's seal certificate is DER that pyHanko (asn1crypto) reads back byte for byte:
/// a non-DER basicConstraints (explicit cA FALSE) once made pyHanko reject the `rs` seal only.
#[test]
fn every_department_seal_passes_pyhanko() {
    if !have_tool("pyhanko") {
        assert!(!in_ci(), "pyhanko is required in CI");
        eprintln!("note: pyhanko not installed; skipping");
        return;
    }
    let r = region_where_every_department_issues();
    let root = r.export_root("root.pem");
    for dept in ["xzsp", "scjg", "dsjzx", "dy-xzsp", "rs", "bdc"] {
        let (pdf, _) = r.issue("business-licence", Some(dept), &format!("{dept}.pdf"));
        let o = run_in(
            r.dir.path(),
            "pyhanko",
            &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&pdf)],
        );
        assert!(
            o.stdout
                .replace("TIMESTAMP_TOKEN<INTACT:TRUSTED>,", "")
                .contains("INTACT:TRUSTED,EXTENDED_WITH_LTA_UPDATES,ACCEPTABLE_MODIFICATIONS"),
            "{dept}: pyHanko\n{}",
            o.both()
        );
    }
}

/// A three-department licence made by issue + 2× seal add passes every outside validator:
/// qpdf --check, pdfsig (three valid signatures) and pyHanko (every signature intact and trusted).
#[test]
fn joint_licence_passes_every_validator() {
    let r = Region::init();
    let (a1, _) = r.issue("joint-approval", None, "a1.pdf");
    let (a2, a3) = (r.path("a2.pdf"), r.path("a3.pdf"));
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "scjg", s(&a1), "-o", s(&a2)]).assert_code(0);
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "xzsp", s(&a2), "-o", s(&a3)]).assert_code(0);
    let v = r.verify_json(&a3);
    v.assert_code(0);
    assert_eq!(v.json()["seal_plan"]["complete"], true, "{}", v.both());
    assert_outside_validators(&r, &a3, 3);
}
