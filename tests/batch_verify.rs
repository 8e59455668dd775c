//! `zhengyin verify FILE...` and `verify DIR/` through the CLI: one process, results in input
//! order, one line or JSON line per file, a summary, and an exit code that is 0 only when every
//! file is valid (1 when one is not valid, 2 when one could not be read).

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

/// A region with two genuine licences, a tampered copy, a file that is not a PDF and a missing
/// path, all under `<dir>/in`.
struct Batch {
    r: Region,
    good_a: PathBuf,
    good_b: PathBuf,
    tampered: PathBuf,
    garbage: PathBuf,
    missing: PathBuf,
}

fn batch() -> Batch {
    let r = Region::init();
    let dir = r.path("in");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let (good_a, _) = r.issue("business-licence", None, "in/a.pdf");
    let (good_b, _) = r.issue("food-business-licence", None, "in/sub/b.pdf");
    let mut bytes = std::fs::read(&good_a).unwrap();
    let at = creation_date_digit(&bytes);
    bytes[at] = if bytes[at] == b'7' { b'8' } else { b'7' };
    let tampered = dir.join("c-tampered.pdf");
    std::fs::write(&tampered, bytes).unwrap();
    let garbage = dir.join("d-garbage.pdf");
    std::fs::write(&garbage, b"this is not a PDF").unwrap();
    std::fs::write(dir.join("notes.txt"), b"not a PDF name: skipped in a directory").unwrap();
    let missing = dir.join("e-missing.pdf");
    Batch { r, good_a, good_b, tampered, garbage, missing }
}

/// The JSON lines of a `--json` batch run.
fn lines(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{}", run.both()))
        })
        .collect()
}

/// Mixed files given in a non-sorted order come back in that order, each with its verdict, the
/// summary counts them, and an unreadable file makes the exit code 2.
#[test]
fn mixed_files_in_input_order_text_and_json() {
    let b = batch();
    let home = s(&b.r.home);
    let order = [&b.tampered, &b.good_b, &b.missing, &b.good_a, &b.garbage];
    let mut args = vec!["verify", "--home", home, "-j", "2"];
    args.extend(order.iter().map(|p| s(p)));
    let run = b.r.zy(&args);
    run.assert_code(2);
    let out: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(out.len(), 6, "five files and a summary\n{}", run.both());
    let marks = ["FAIL ", "ok   ", "ERROR", "ok   ", "ERROR"];
    for ((line, path), mark) in out.iter().zip(order).zip(marks) {
        assert!(line.starts_with(mark), "expected {mark:?} for {}\n{}", path.display(), run.both());
        assert!(line.contains(s(path)), "line for {} out of order\n{}", path.display(), run.both());
    }
    assert!(out[0].contains("HASH_FAILURE"), "{}", run.both());
    assert_eq!(out[5], "5 files: 2 valid, 1 not valid, 2 unreadable", "{}", run.both());

    args.push("--json");
    let run = b.r.zy(&args);
    run.assert_code(2);
    let j = lines(&run);
    assert_eq!(j.len(), 6, "{}", run.both());
    for (line, path) in j.iter().zip(order) {
        assert_eq!(line["file"], s(path), "{}", run.both());
    }
    let valid: Vec<bool> = j[..5].iter().map(|l| l["valid"] == true).collect();
    assert_eq!(valid, [false, true, false, true, false], "{}", run.both());
    assert_eq!(j[0]["report"]["sub_indication"], "HASH_FAILURE", "{}", run.both());
    assert_eq!(j[1]["report"]["indication"], "TOTAL-PASSED", "{}", run.both());
    assert!(j[2]["error"].as_str().is_some_and(|e| e.contains("e-missing.pdf")), "{}", run.both());
    assert!(j[4]["error"].is_string(), "{}", run.both());
    assert_eq!(
        j[5]["summary"],
        serde_json::json!({"files": 5, "valid": 2, "not_valid": 1, "unreadable": 2}),
        "{}",
        run.both()
    );
}

/// Exit 0 only when every file is valid; a tampered file among valid ones makes it 1.
#[test]
fn exit_code_is_zero_only_when_all_valid() {
    let b = batch();
    let home = s(&b.r.home);
    let all_good = b.r.zy(&["verify", "--home", home, s(&b.good_a), s(&b.good_b)]);
    all_good.assert_code(0);
    assert!(
        all_good.stdout.ends_with("2 files: 2 valid, 0 not valid, 0 unreadable\n"),
        "{}",
        all_good.both()
    );
    b.r.zy(&["verify", "--home", home, s(&b.good_a), s(&b.tampered), s(&b.good_b)]).assert_code(1);
}

/// `verify DIR/` takes every *.pdf under the directory (subdirectories too) in path order, and
/// nothing else.
#[test]
fn directory_in_path_order() {
    let b = batch();
    let dir = b.r.path("in");
    let run = b.r.zy(&["verify", "--home", s(&b.r.home), "--json", &format!("{}/", s(&dir))]);
    run.assert_code(2);
    let j = lines(&run);
    let files: Vec<&str> = j.iter().filter_map(|l| l["file"].as_str()).collect();
    let want: Vec<String> = [&b.good_a, &b.tampered, &b.garbage, &b.good_b]
        .iter()
        .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
        .collect();
    assert_eq!(files.len(), 4, "{}", run.both());
    for (got, want) in files.iter().zip(&want) {
        assert!(got.ends_with(want.as_str()), "{got} is not {want}\n{}", run.both());
    }
    assert_eq!(j[4]["summary"]["files"], 4, "{}", run.both());
}

/// One file keeps the single-file output: the full report, not a batch line.
#[test]
fn single_file_output_unchanged() {
    let b = batch();
    let run = b.r.verify_json(&b.good_a);
    run.assert_code(0);
    let j = run.json();
    assert_eq!(j["indication"], "TOTAL-PASSED", "{}", run.both());
    assert!(j.get("summary").is_some_and(Value::is_string), "{}", run.both());
    let text = b.r.zy(&["verify", "--home", s(&b.r.home), s(&b.good_a)]);
    text.assert_code(0);
    assert!(text.stdout.contains("result: TOTAL-PASSED"), "{}", text.both());
    assert!(!text.stdout.contains("1 files"), "{}", text.both());
}
