//! Bad input: every failure is an exit code (2 could not run, 1 not valid), one stderr line
//! starting `zhengyin: error:`, never a panic; a failed issue leaves no output file.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// Verify `file` with the region's home; returns the run.
fn verify(r: &Region, file: &Path) -> Run {
    r.zy(&["verify", s(file), "--home", s(&r.home)])
}

/// Issue with `data` (a path) and optional extra args to `<dir>/out.pdf`; asserts a one-line
/// exit-2 error, that no out.pdf exists and that no temporary file was left in the directory.
fn issue_fails(r: &Region, template: &str, data: &Path, extra: &[&str]) -> Run {
    let out_dir = r.path("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("out.pdf");
    let mut args =
        vec!["issue", "--home", s(&r.home), "--template", template, "--data", s(data), "-o", s(&out)];
    args.extend_from_slice(extra);
    let run = r.zy(&args);
    run.assert_one_line_error(2);
    assert!(!out.exists(), "a failed issue left {} behind\n{}", out.display(), run.both());
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "a failed issue left files in the output directory: {left:?}");
    run
}

/// Write the sample data for `template`, changed by `edit`, to `<dir>/<name>`.
fn edited_data(
    r: &Region,
    template: &str,
    name: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> PathBuf {
    let mut d = sample_data(template);
    edit(&mut d);
    let p = r.path(name);
    std::fs::write(&p, serde_json::to_string_pretty(&Value::Object(d)).unwrap()).unwrap();
    p
}

/// An empty file is unreadable as a PDF: exit 2, one error line.
#[test]
fn verify_empty_file() {
    let r = Region::init();
    let p = r.path("empty.pdf");
    std::fs::write(&p, b"").unwrap();
    verify(&r, &p).assert_one_line_error(2);
}

/// A text file is not a PDF: exit 2, one error line.
#[test]
fn verify_text_file() {
    let r = Region::init();
    let p = r.path("notes.txt");
    std::fs::write(&p, "这不是PDF文件\njust some text\n").unwrap();
    let v = verify(&r, &p);
    v.assert_one_line_error(2);
    // And with --json, still no JSON verdict on stdout.
    let j = r.zy(&["verify", s(&p), "--home", s(&r.home), "--json"]);
    j.assert_one_line_error(2);
    assert!(j.stdout.trim().is_empty(), "no report should be printed for a non-PDF\n{}", j.both());
}

/// A missing file and a directory are unreadable: exit 2, one error line.
#[test]
fn verify_missing_file_and_directory() {
    let r = Region::init();
    verify(&r, &r.path("does-not-exist.pdf")).assert_one_line_error(2);
    verify(&r, r.dir.path()).assert_one_line_error(2);
}

/// The first half of a signed licence is unreadable: exit 2, one error line, no panic.
#[test]
fn verify_truncated_pdf() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "whole.pdf");
    let bytes = std::fs::read(pdf).unwrap();
    for (name, len) in
        [("half.pdf", bytes.len() / 2), ("header-only.pdf", 9), ("minus-eof.pdf", bytes.len() - 7)]
    {
        let p = r.path(name);
        std::fs::write(&p, &bytes[..len]).unwrap();
        let v = verify(&r, &p);
        if name == "minus-eof.pdf" {
            // Losing the final %%EOF may or may not be parseable, but is never valid.
            assert!(v.code == 1 || v.code == 2, "{}", v.both());
            assert!(!v.stderr.contains("panicked"), "{}", v.both());
            continue;
        }
        v.assert_one_line_error(2);
    }
}

/// A well-formed PDF with no signatures: exit 1, INDETERMINATE, "no signatures" (not exit 2).
#[test]
fn verify_unsigned_pdf() {
    let r = Region::init();
    let p = r.path("unsigned.pdf");
    if have_tool("qpdf") {
        run_in(r.dir.path(), "qpdf", &["--empty", s(&p)]).assert_code(0);
    } else {
        std::fs::write(&p, minimal_pdf()).unwrap();
    }
    let v = r.verify_json(&p);
    v.assert_code(1);
    let j = v.json();
    assert_eq!(j["indication"], "INDETERMINATE", "{}", v.both());
    assert_eq!(j["sub_indication"], "SIGNED_DATA_NOT_FOUND", "{}", v.both());
    assert_eq!(j["signatures"].as_array().map(Vec::len), Some(0), "{}", v.both());
    // The hand-written minimal PDF, too.
    let q = r.path("minimal.pdf");
    std::fs::write(&q, minimal_pdf()).unwrap();
    let v = verify(&r, &q);
    v.assert_code(1);
    assert!(v.stdout.contains("no signatures"), "{}", v.both());
}

/// A one-page PDF with a correct cross-reference table.
fn minimal_pdf() -> Vec<u8> {
    let objs = [
        "<</Type/Catalog/Pages 2 0 R>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>",
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offs {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<</Size {}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n", objs.len() + 1).as_bytes(),
    );
    out
}

/// A data file without a required field: exit 2 naming the field, no output.
#[test]
fn issue_missing_field() {
    let r = Region::init();
    let data = edited_data(&r, "business-licence", "missing.json", |d| {
        d.remove("name");
    });
    let run = issue_fails(&r, "business-licence", &data, &[]);
    assert!(run.stderr.contains("name"), "the error should name the missing field\n{}", run.both());
}

/// A data file with a field the template does not know: exit 2 naming it, no output.
#[test]
fn issue_unknown_field() {
    let r = Region::init();
    let data = edited_data(&r, "food-business-licence", "unknown.json", |d| {
        d.insert("colour".into(), Value::String("red".into()));
    });
    let run = issue_fails(&r, "food-business-licence", &data, &[]);
    assert!(run.stderr.contains("colour"), "the error should name the unknown field\n{}", run.both());
}

/// A unified social credit code with a wrong check character: exit 2 naming the field, no output.
#[test]
fn issue_invalid_uscc_check_character() {
    let r = Region::init();
    for template in ["business-licence", "food-business-licence"] {
        let data = edited_data(&r, template, &format!("{template}-uscc.json"), |d| {
            let good = d["uscc"].as_str().unwrap().to_string();
            let last = good.chars().last().unwrap();
            let bad = format!("{}{}", &good[..good.len() - 1], if last == 'U' { 'T' } else { 'U' });
            d.insert("uscc".into(), Value::String(bad));
        });
        let run = issue_fails(&r, template, &data, &[]);
        assert!(run.stderr.contains("uscc"), "the error should name the field\n{}", run.both());
    }
}

/// Invalid dates, non-string values, blank, over-long and control-character values, a JSON
/// array, broken JSON, an empty and a missing data file: exit 2, no output.
#[test]
fn issue_bad_data_files() {
    let r = Region::init();
    let bad_date = edited_data(&r, "business-licence", "date.json", |d| {
        d.insert("established".into(), Value::String("2021-02-30".into()));
    });
    let boolean = edited_data(&r, "business-licence", "bool.json", |d| {
        d.insert("name".into(), Value::Bool(true));
    });
    let list = edited_data(&r, "business-licence", "list.json", |d| {
        d.insert("name".into(), serde_json::json!(["a", "b"]));
    });
    let blank = edited_data(&r, "business-licence", "blank.json", |d| {
        d.insert("name".into(), Value::String("   ".into()));
    });
    let long = edited_data(&r, "business-licence", "long.json", |d| {
        d.insert("scope".into(), Value::String("经营".repeat(200)));
    });
    let control = edited_data(&r, "business-licence", "control.json", |d| {
        d.insert("name".into(), Value::String("泰安市\u{7}公司".into()));
    });
    let array = r.path("array.json");
    std::fs::write(&array, "[1, 2]").unwrap();
    let broken = r.path("broken.json");
    std::fs::write(&broken, "{\"name\": ").unwrap();
    let empty = r.path("empty.json");
    std::fs::write(&empty, "").unwrap();
    for data in [bad_date, boolean, list, blank, long, control, array, broken, empty, r.path("no-such.json")]
    {
        issue_fails(&r, "business-licence", &data, &[]);
    }
}

/// An unknown template: exit 2 naming it, no output.
#[test]
fn issue_unknown_template() {
    let r = Region::init();
    let run = issue_fails(&r, "driving-licence", &data_file("business-licence"), &[]);
    assert!(run.stderr.contains("driving-licence"), "{}", run.both());
}

/// An unknown department (--seal nope): exit 2 naming it, no output.
#[test]
fn issue_unknown_department() {
    let r = Region::init();
    let run = issue_fails(&r, "business-licence", &data_file("business-licence"), &["--seal", "nope"]);
    assert!(run.stderr.contains("nope"), "{}", run.both());
}

/// Issuing from a home that was never initialised: exit 2, no output, and no home created.
#[test]
fn issue_uninitialised_home() {
    let r = Region::init();
    let other = r.path("never-initialised");
    let out = r.path("x.pdf");
    let run = r.zy(&[
        "issue",
        "--home",
        s(&other),
        "--template",
        "business-licence",
        "--data",
        s(&data_file("business-licence")),
        "-o",
        s(&out),
    ]);
    run.assert_one_line_error(2);
    assert!(!out.exists());
    assert!(!other.join("pki/private").exists(), "issue must not create keys");
}

/// Writing into a directory that does not exist: exit 2, one line.
#[test]
fn issue_unwritable_output() {
    let r = Region::init();
    let (out, run) = r.try_issue("business-licence", None, "no/such/dir/x.pdf");
    run.assert_one_line_error(2);
    assert!(!out.exists());
}

/// verify with a --trust file that holds no certificate, or an uninitialised --home: exit 2.
#[test]
fn verify_bad_trust_arguments() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "ok.pdf");
    let junk = r.path("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    r.zy(&["verify", s(&pdf), "--trust", s(&junk)]).assert_one_line_error(2);
    r.zy(&["verify", s(&pdf), "--trust", s(&r.path("missing.pem"))]).assert_one_line_error(2);
    r.zy(&["verify", s(&pdf), "--home", s(&r.path("nohome"))]).assert_one_line_error(2);
}

/// trust export from an uninitialised home: exit 2, one line, no file written.
#[test]
fn trust_export_uninitialised() {
    let r = Region::init();
    let out = r.path("root.pem");
    r.zy(&["trust", "export", "--home", s(&r.path("nohome")), "-o", s(&out)]).assert_one_line_error(2);
    assert!(!out.exists());
}

/// Unknown verbs and missing required arguments are usage errors: exit 2, never a panic.
#[test]
fn usage_errors_exit_2() {
    let r = Region::init();
    for args in [
        vec!["frobnicate"],
        vec!["issue"],
        vec!["verify"],
        vec!["issue", "--home", s(&r.home), "--template", "business-licence"],
    ] {
        let run = r.zy(&args);
        run.assert_code(2);
    }
    r.zy(&["--help"]).assert_code(0);
    r.zy(&["--version"]).assert_code(0);
}

/// `issue` and `licence use` with an output that cannot be written (a missing directory) exit 2
/// with one line, and file nothing: no licence in the archive without its PDF.
#[test]
fn unwritable_output_files_nothing() {
    let r = Region::init();
    let size = |r: &Region| {
        let th = r.zy(&["archive", "tree-head", "--home", s(&r.home)]);
        th.stdout.lines().nth(1).unwrap_or("0").to_string()
    };
    let before = size(&r);
    let (_, run) = r.try_issue("business-licence", None, "no-such-dir/licence.pdf");
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("does not exist"), "{}", run.both());
    assert_eq!(size(&r), before, "a refused issue files nothing");

    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    let filed = size(&r);
    let run = r.zy(&[
        "licence",
        "use",
        "--home",
        s(&r.home),
        s(&pdf),
        "--by",
        "xzsp",
        "--purpose",
        "370900-XK-0012",
        "-o",
        s(&r.path("no-such-dir/copy.pdf")),
    ]);
    run.assert_one_line_error(2);
    assert_eq!(size(&r), filed, "a refused annotated copy files nothing");
}
