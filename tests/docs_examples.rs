//! The command examples of README.md and docs/cli.md, run against the binary (trycmd), so the
//! documents cannot drift from what `zhengyin` prints.
//!
//! Every ```console block is a step: `$ zhengyin …` (continued by `> …` lines), an optional
//! `? failed` / `? 1` for the exit code, then the expected output (stdout and stderr together;
//! `[..]` stands for part of a line, `...` for lines). Each document's blocks run in order in
//! one scratch directory of their own, which holds the sample data (`fixtures/data/*.json`
//! beside a link to `fixtures/`, and a
//! `statement.txt`), so one example may use what an earlier one made. Blocks marked
//! ```text are not run (servers, placeholders such as IDENTIFIER, outputs of another home).
//! `TRYCMD=overwrite cargo test --release --test docs_examples` writes what the binary prints
//! back into the documents, keeping the `[..]` / `...` that still match.

mod common;

use std::path::Path;

use common::*;

/// The documents whose examples are run.
const DOCUMENTS: [&str; 2] = ["README.md", "docs/cli.md"];

/// Outside tools that some examples call: run when installed, skipped otherwise.
const OUTSIDE_TOOLS: [&str; 3] = ["pyhanko", "pdfsig", "qpdf"];

/// Every console example in README.md and docs/cli.md prints what the binary prints today.
#[test]
fn readme_and_cli_examples_match_the_binary() {
    // The examples find their home in the current directory (./zhengyin-home).
    std::env::remove_var("ZHENGYIN_HOME");
    std::env::remove_var("ZHENGYIN_LOG");
    let work = tempfile::tempdir().expect("tempdir");
    let cases = trycmd::TestCases::new();
    cases.default_bin_path(BIN).timeout(std::time::Duration::from_secs(120));
    cases.register_bin("zhengyin", trycmd::schema::Bin::Path(BIN.into()));
    for tool in OUTSIDE_TOOLS {
        let bin = match on_path(tool) {
            Some(path) if have_tool(tool) => trycmd::schema::Bin::Path(path),
            _ => trycmd::schema::Bin::Ignore,
        };
        cases.register_bin(tool, bin);
    }
    let mut copies = Vec::new();
    for doc in DOCUMENTS {
        let name = Path::new(doc).file_name().expect("a file name");
        let copy = work.path().join(name);
        std::fs::copy(repo().join(doc), &copy).expect("copy the document");
        populate_sandbox(&copy.with_extension("in"));
        cases.case(&copy);
        copies.push((doc, copy));
    }
    cases.run();
    if std::env::var("TRYCMD").is_ok_and(|m| m == "overwrite") {
        for (doc, copy) in copies {
            std::fs::copy(copy, repo().join(doc)).expect("write the document back");
        }
    }
}

/// Where `tool` is on $PATH.
fn on_path(tool: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(tool)).find(|p| p.is_file())
}

/// The directory a document's examples run in: the sample data files, `fixtures/`, and the
/// `statement.txt` of the commitment examples.
fn populate_sandbox(dir: &Path) {
    std::fs::create_dir_all(dir).expect("sandbox");
    std::fs::write(dir.join("statement.txt"), "本人承诺：本人社会保险参保状态正常。").expect("statement");
    std::os::unix::fs::symlink(repo().join("fixtures"), dir.join("fixtures")).expect("link fixtures");
    for entry in std::fs::read_dir(repo().join("fixtures/data")).expect("fixtures/data") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy data");
        }
    }
}
