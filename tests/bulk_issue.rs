//! Bulk issuance through the CLI: `zhengyin issue --template T --batch RECORDS.jsonl --out-dir DIR`
//! issues one verified, archived licence per good line, reports rejected lines with their line
//! number and reason (nothing issued for them), and after a SIGKILL the next run finishes the
//! batch with no duplicates and no gaps.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;

/// `n` lines of the business licence's sample data, with the lines in `bad` replaced by bad input
/// (odd: not JSON; even: a required field missing); returns the file and the good line numbers.
fn records(r: &Region, n: usize, bad: &[usize]) -> (PathBuf, BTreeSet<usize>) {
    let data = sample_data("business-licence");
    let good = serde_json::to_string(&data).unwrap();
    let mut missing = data.clone();
    let first = missing.keys().next().cloned().unwrap();
    missing.remove(&first);
    let missing = serde_json::to_string(&missing).unwrap();
    let mut text = String::new();
    for line in 1..=n {
        text += match (bad.contains(&line), line % 2) {
            (false, _) => &good,
            (true, 1) => "{not json",
            (true, _) => &missing,
        };
        text.push('\n');
    }
    let path = r.path("records.jsonl");
    std::fs::write(&path, text).unwrap();
    (path, (1..=n).filter(|l| !bad.contains(l)).collect())
}

fn bulk(r: &Region, home: &Path, recs: &Path, out: &Path) -> Run {
    r.zy(&[
        "issue",
        "--home",
        s(home),
        "--template",
        "business-licence",
        "--batch",
        s(recs),
        "--out-dir",
        s(out),
        "-j",
        "2",
    ])
}

/// The PDF files in `dir`, as line numbers.
fn pdf_lines(dir: &Path) -> BTreeSet<usize> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".pdf")?.parse().ok())
        .collect()
}

/// Record ids in the home's archive listing.
fn archived(r: &Region, home: &Path) -> Vec<String> {
    let run = r.zy(&["archive", "list", "--home", s(home)]);
    run.assert_code(0);
    run.stdout.lines().filter_map(|l| l.split_whitespace().next().map(String::from)).collect()
}

/// Good lines become verified, archived PDFs named by line; bad lines are reported on stdout and
/// in rejected.jsonl with line number and reason, with nothing issued; a rerun issues nothing new.
#[test]
fn rejected_lines_reported_and_rerun_issues_nothing() {
    let r = Region::init();
    let (recs, good) = records(&r, 7, &[3, 6]);
    let out = r.path("out");
    let before = archived(&r, &r.home).len();
    let run = bulk(&r, &r.home, &recs, &out);
    run.assert_code(1);
    assert!(run.stdout.contains("rejected line 3: not JSON"), "{}", run.both());
    assert!(run.stdout.contains("rejected line 6: "), "{}", run.both());
    assert!(run.stdout.contains("issued 5, recovered 0, done before 0, rejected 2"), "{}", run.both());
    let report: Vec<serde_json::Value> = std::fs::read_to_string(out.join("rejected.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(report.iter().map(|v| v["line"].as_u64().unwrap()).collect::<Vec<_>>(), [3, 6]);
    assert!(report.iter().all(|v| v["reason"].as_str().is_some_and(|s| !s.is_empty())));
    assert_eq!(pdf_lines(&out), good);
    assert_eq!(archived(&r, &r.home).len(), before + 5, "one record per good line");
    let v = r.zy(&["verify", "--home", s(&r.home), s(&out)]);
    v.assert_code(0);
    assert!(v.stdout.ends_with("5 files: 5 valid, 0 not valid, 0 unreadable\n"), "{}", v.both());

    let again = bulk(&r, &r.home, &recs, &out);
    again.assert_code(1);
    assert!(again.stdout.contains("issued 0, recovered 0, done before 5, rejected 2"), "{}", again.both());
    assert_eq!(archived(&r, &r.home).len(), before + 5, "a rerun issues nothing twice");

    let mut other = std::fs::read_to_string(&recs).unwrap();
    other.push_str(&std::fs::read_to_string(&recs).unwrap());
    std::fs::write(&recs, other).unwrap();
    bulk(&r, &r.home, &recs, &out).assert_one_line_error(2);
}

/// SIGKILL during a bulk run (after the first acknowledged group, or part-way through a whole
/// run), then a rerun: every acknowledged line keeps its record, every good line ends with
/// exactly one PDF and one archive record (no duplicates, no gaps), the audit is clean, and at
/// least one kill landed mid-batch.
#[test]
fn resumes_after_sigkill_without_duplicates_or_gaps() {
    const N: usize = 80;
    let r = Region::init();
    let (recs, good) = records(&r, N, &[17]);
    // A whole run, to spread the timed kills over (not asserted).
    let t0 = std::time::Instant::now();
    bulk(&r, &r.home, &recs, &r.path("whole")).assert_code(1);
    let whole_ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(1000).max(20);
    let mut mid_batch = 0;
    for iter in 0..4u64 {
        let home = r.path(&format!("home-{iter}"));
        copy_dir(&r.home, &home);
        let before: BTreeSet<String> = archived(&r, &home).into_iter().collect();
        let out = r.path(&format!("out-{iter}"));
        let (mut child, mut stdout) = r.spawn_reading(&[
            "issue",
            "--home",
            s(&home),
            "--template",
            "business-licence",
            "--batch",
            s(&recs),
            "--out-dir",
            s(&out),
            "-j",
            "2",
            "--group",
            "8",
        ]);
        let mut acked = String::new();
        if iter % 2 == 0 {
            let _ = std::io::BufRead::read_line(&mut stdout, &mut acked);
        } else {
            std::thread::sleep(std::time::Duration::from_millis(whole_ms * (2 + iter) / 8));
        }
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut acked);
        let acked: Vec<(usize, String)> = acked
            .lines()
            .filter_map(|l| {
                let mut w = l.strip_prefix("line ")?.split_whitespace();
                Some((w.next()?.parse().ok()?, w.next()?.to_string()))
            })
            .collect();
        let written = archived(&r, &home).len() - before.len();
        eprintln!("kill {iter}: exit {:?}, {written} archived, {} acknowledged", status.code(), acked.len());
        if status.code().is_none() && written > 0 && written < good.len() {
            mid_batch += 1;
        }

        let run = bulk(&r, &home, &recs, &out);
        run.assert_code(1);
        assert!(run.stdout.contains("rejected line 17: not JSON"), "{}", run.both());
        let new: Vec<String> = archived(&r, &home).into_iter().filter(|id| !before.contains(id)).collect();
        assert_eq!(new.len(), good.len(), "one record per good line, no duplicates (kill {iter})");
        assert_eq!(pdf_lines(&out), good, "one PDF per good line, no gaps (kill {iter})");
        for (line, record) in &acked {
            assert!(new.contains(record), "acknowledged line {line} lost its record {record}");
            let pdf = std::fs::read(out.join(format!("{line:06}.pdf"))).unwrap();
            let listed = r.zy(&["archive", "show", "--home", s(&home), record]);
            assert!(listed.stdout.contains(&sha256_hex(&pdf)), "line {line}: PDF is not record {record}");
        }
        let audit = r.zy(&["audit", "--home", s(&home)]);
        assert_eq!(audit.code, 0, "audit after recovery from kill {iter}\n{}", audit.both());
        r.zy(&["verify", "--home", s(&home), s(&out)]).assert_code(0);
    }
    assert!(mid_batch >= 1, "no kill landed mid-batch (whole run {whole_ms} ms)");
}

fn sha256_hex(b: &[u8]) -> String {
    zhengyin::hex::encode(&zhengyin::pades::cms::sha256(b))
}

/// A symbolic link planted under a licence's name in the out-dir is refused, not written through
/// (the file it points to keeps its bytes); the line stays pending, and once the link is gone the
/// next run recovers its licence from the archive, with no second record.
#[test]
fn planted_symlink_is_refused_and_the_line_recovered() {
    let r = Region::init();
    let (recs, good) = records(&r, 3, &[]);
    let out = r.path("out");
    std::fs::create_dir_all(&out).unwrap();
    let victim = r.path("victim.txt");
    std::fs::write(&victim, "not a licence").unwrap();
    std::os::unix::fs::symlink(&victim, out.join("000002.pdf")).unwrap();
    let before = archived(&r, &r.home).len();
    bulk(&r, &r.home, &recs, &out).assert_one_line_error(2);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not a licence", "written through the link");
    std::fs::remove_file(out.join("000002.pdf")).unwrap();
    let run = bulk(&r, &r.home, &recs, &out);
    run.assert_code(0);
    assert!(run.stdout.contains("issued 0, recovered 3, done before 0"), "{}", run.both());
    assert_eq!(pdf_lines(&out), good);
    assert_eq!(archived(&r, &r.home).len(), before + 3, "one record per line, none twice");
    r.zy(&["verify", "--home", s(&r.home), s(&out)]).assert_code(0);
}
