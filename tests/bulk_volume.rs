//! Bulk issuance at volume (`zhengyin issue --batch`): licences of one batch share one font
//! subset, byte for byte, and still render their own text and pass every outside validator; a
//! licence with a character the shared subset lacks gets its own subset; the licences filed
//! after a self-check only (between full verifications) and those made with `--verify-all`
//! verify and leave a clean audit.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Records: the business licence's sample data with `names` as the holder's name, one per line
/// (a name may be written with JSON `\u` escapes, given raw here).
fn records(r: &Region, file: &str, names: &[&str]) -> PathBuf {
    let data = sample_data("business-licence");
    let mut text = String::new();
    for name in names {
        let mut d = data.clone();
        d.insert("name".into(), serde_json::Value::String("NAME".into()));
        text += &serde_json::to_string(&d).unwrap().replace("NAME", name);
        text.push('\n');
    }
    let path = r.path(file);
    std::fs::write(&path, text).unwrap();
    path
}

/// The embedded font program (the stream whose dictionary has /Length1), as stored.
fn font_program(pdf: &[u8]) -> Vec<u8> {
    let at = find(pdf, b"/Length1", 0).expect("a FontFile2 stream");
    let start = find(pdf, b"stream\n", at).expect("stream") + b"stream\n".len();
    let end = find(pdf, b"\nendstream", start).expect("endstream");
    pdf[start..end].to_vec()
}

fn text_of(pdf: &Path) -> String {
    let o = run_in(pdf.parent().unwrap(), "pdftotext", &[s(pdf), "-"]);
    assert_eq!(o.code, 0, "pdftotext\n{}", o.both());
    o.stdout
}

/// Licences of one batch embed the same font program bytes, each page still shows its own
/// holder's name (pdftotext) and renders (pdftoppm), and each passes qpdf, pdfsig and pyHanko;
/// a name written as a JSON escape, missing from the shared subset, is drawn with its own.
#[test]
fn shared_subset_renders_every_licence() {
    let r = Region::init();
    let names =
        ["泰安市岱宗云帆科技有限公司", "泰安市汶河星火商贸有限公司", "泰安市\\u9e7f\\u9e23物流有限公司"];
    let recs = records(&r, "records.jsonl", &names);
    let out = r.path("out");
    r.issue_batch(&recs, &out, &["-j", "2"]).assert_code(0);
    let files: Vec<PathBuf> = (1..=3).map(|l| out.join(format!("{l:06}.pdf"))).collect();
    let bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(font_program(&bytes[0]), font_program(&bytes[1]), "one subset for the batch");
    assert_ne!(font_program(&bytes[0]), font_program(&bytes[2]), "鹿鸣 is not in the shared subset");
    for (file, name) in files.iter().zip([
        "泰安市岱宗云帆科技有限公司",
        "泰安市汶河星火商贸有限公司",
        "泰安市鹿鸣物流有限公司",
    ]) {
        assert!(text_of(file).contains(name), "{name} in {}", file.display());
        if have_tool("pdftoppm") {
            let png = r.path("page");
            let o = run_in(r.dir.path(), "pdftoppm", &["-r", "40", "-png", "-singlefile", s(file), s(&png)]);
            assert_eq!(o.code, 0, "pdftoppm\n{}", o.both());
            assert!(std::fs::metadata(png.with_extension("png")).unwrap().len() > 1000);
        }
        assert_outside_validators(&r, file, 1);
    }
}

/// A batch longer than one full-verification interval (self-checked licences between the
/// verified ones) and a batch with `--verify-all` both file licences that `verify` accepts,
/// with the same archive description, and the audit is clean.
#[test]
fn self_checked_and_fully_verified_licences_file_alike() {
    let r = Region::init();
    let names: Vec<String> =
        (0..40).map(|i| format!("泰安市示例{}科技有限公司", ["甲", "乙", "丙", "丁"][i % 4])).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let recs = records(&r, "records.jsonl", &names);
    let (sampled, all) = (r.path("sampled"), r.path("all"));
    let first = r.issue_batch(&recs, &sampled, &["-j", "2"]);
    first.assert_code(0);
    let second = r.issue_batch(&recs, &all, &["-j", "2", "--verify-all"]);
    second.assert_code(0);
    for dir in [&sampled, &all] {
        let v = r.zy(&["verify", "--home", s(&r.home), s(dir)]);
        v.assert_code(0);
        assert!(v.stdout.ends_with("40 files: 40 valid, 0 not valid, 0 unreadable\n"), "{}", v.both());
    }
    let audit = r.zy(&["audit", "--home", s(&r.home)]);
    assert_eq!(audit.code, 0, "audit\n{}", audit.both());
    // Line 2 was self-checked in the first run and verified in full in the second: the archive
    // describes both alike (format level, signers, verification, items), identifier aside.
    let described = |run: &Run| {
        let record =
            run.stdout.lines().find_map(|l| l.strip_prefix("line 2 ")).unwrap().split(' ').next().unwrap();
        let show = r.zy(&["archive", "show", "--home", s(&r.home), record]);
        show.assert_code(0);
        let mut m = show.json()["metadata"].clone();
        let m = m.as_object_mut().unwrap();
        m.remove("identifier");
        m.clone()
    };
    let (a, b) = (described(&first), described(&second));
    assert_eq!(a, b);
    assert_eq!(a["verification"], "TOTAL-PASSED");
    assert!(a["format_version"].as_str().unwrap().ends_with("B-LT"), "{a:?}");
}
