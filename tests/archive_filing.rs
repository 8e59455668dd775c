//! Filing from the CLI (issue 10 points 11 and 15): every verb that files writes its output only
//! after the record is filed, opens the archive once (so its receipt never goes missing), and the
//! archive — sled's files, the packs — is private (directories 0700, files 0600), an existing
//! home's loose modes included.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;
use zhengyin::archive::Archive;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Every path under `dir` with its mode.
fn modes(dir: &Path) -> Vec<(String, u32, bool)> {
    let mut out = vec![(dir.display().to_string(), mode(dir), true)];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(modes(&p));
        } else {
            out.push((p.display().to_string(), mode(&p), false));
        }
    }
    out
}

/// With the archive held by another process, `issue`, `seal add`, `proof request`, `licence use`
/// and `commit` exit 2 with a clear message and leave no output behind (no valid, unarchived
/// document).
#[test]
fn held_archive_leaves_no_unarchived_output() {
    let r = Region::init();
    let (a1, _) = r.issue("joint-approval", None, "a1.pdf");
    let held = Archive::open(&r.home.join("archive")).unwrap();
    let (out, run) = r.try_issue("business-licence", None, "l.pdf");
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("in use by another process"), "{}", run.both());
    assert!(!out.exists() && !r.path("l.receipt.json").exists(), "issue left output behind\n{}", run.both());

    let a2 = r.path("a2.pdf");
    let run = r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "scjg", s(&a1), "-o", s(&a2)]);
    run.assert_one_line_error(2);
    assert!(
        !a2.exists() && !r.path("a2.receipt.json").exists(),
        "seal add left output behind\n{}",
        run.both()
    );

    // The other verbs that file: proof request, licence use, commit.
    let holders = repo().join("fixtures/holders/rs-social-insurance.csv");
    let statement = r.path("statement.txt");
    std::fs::write(&statement, "本人承诺所填信息真实有效。").unwrap();
    let (p, u, c) = (r.path("p.pdf"), r.path("u.pdf"), r.path("c.pdf"));
    let verbs: [(&[&str], &Path); 3] = [
        (
            &[
                "proof",
                "request",
                "--by",
                "xzsp",
                "--kind",
                "social-insurance",
                "--subject",
                "370902199001011235",
                "--purpose",
                "370900-XK-0001",
                "-o",
                s(&p),
            ],
            &p,
        ),
        (&["licence", "use", s(&a1), "--by", "xzsp", "--purpose", "370900-XK-0012", "-o", s(&u)], &u),
        (
            &[
                "commit",
                "--by",
                "xzsp",
                "--subject",
                "370902199001011235",
                "--matter",
                "370900-XK-0001",
                "--statement",
                s(&statement),
                "-o",
                s(&c),
            ],
            &c,
        ),
    ];
    r.zy(&["data", "load", "--home", s(&r.home), "--dept", "rs", s(&holders)]).assert_code(0);
    for (args, out) in verbs {
        let mut a = args.to_vec();
        a.extend(["--home", s(&r.home)]);
        let run = r.zy(&a);
        run.assert_one_line_error(2);
        assert!(run.stderr.contains("in use by another process"), "{}", run.both());
        assert!(
            !out.exists() && !out.with_extension("jws").exists(),
            "{args:?} left output behind\n{}",
            run.both()
        );
    }
    drop(held);
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "scjg", s(&a1), "-o", s(&a2)]).assert_code(0);
    assert!(a2.is_file() && r.path("a2.receipt.json").is_file());
}

/// Thirty issues in a row each exit 0 with their receipt written (one archive handle per command:
/// no second open racing sled's lock).
#[test]
fn thirty_issues_in_a_row_all_have_receipts() {
    let r = Region::init();
    for i in 0..30 {
        let (pdf, run) = r.issue("business-licence", None, &format!("l{i:02}.pdf"));
        let receipt = pdf.with_extension("receipt.json");
        assert!(receipt.is_file(), "issue {i}: no receipt\n{}", run.both());
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&receipt).unwrap()).unwrap();
        assert_eq!(v["tree_size"].as_u64(), Some(i + 1), "issue {i}");
        assert!(!run.stderr.contains("warning"), "issue {i}\n{}", run.both());
    }
}

/// After init and issue the archive is 0700 (every directory) and 0600 (every file, sled's own
/// included), as is the log key's state; an archive made world-readable is tightened on open.
#[test]
fn archive_is_private() {
    let r = Region::init();
    r.issue("business-licence", None, "l.pdf");
    let dir = r.home.join("archive");
    let check = |when: &str| {
        for (p, m, is_dir) in modes(&dir) {
            assert_eq!(m, if is_dir { 0o700 } else { 0o600 }, "{when}: {p} is {m:o}");
        }
    };
    check("after issue");
    assert_eq!(mode(&r.home.join("pki/private/log.state")), 0o600);
    for (p, _, is_dir) in modes(&dir) {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(if is_dir { 0o755 } else { 0o644 }))
            .unwrap();
    }
    r.zy(&["archive", "list", "--home", s(&r.home)]).assert_code(0);
    check("after opening a loose home");
}
