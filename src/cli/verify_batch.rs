//! `zhengyin verify FILE... | DIR/`: many files in one process, on every core, reported in the
//! order given (a directory's *.pdf files in path order): one line or one JSON line per file, then
//! a summary, with a progress bar on stderr when it is a terminal. Exit 0 only if every file is valid; otherwise 1, or 2 when a file could not be read
//! or parsed at all (the worst file decides, as for a single file).
//!
//! Knows the CLI's arguments and output only; verification is `zhengyin::verify`, the thread pool
//! `zhengyin::parallel`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use serde_json::json;
use zhengyin::trust::TrustStore;
use zhengyin::verify::report::Report;

use super::fail;
use super::verify::{accepted, read_limited, Args};

/// How deep `verify DIR/` descends into subdirectories.
const MAX_DEPTH: usize = 32;
/// Files one batch accepts (a directory walk stops with an error past it).
const MAX_FILES: usize = 1_000_000;

/// One file's outcome.
enum Outcome {
    Checked(Box<Report>),
    Unreadable(String),
}

pub fn run(
    a: &Args,
    store: &TrustStore,
    at: SystemTime,
    options: &zhengyin::verify::Options,
    status: &super::verify_status::Sources<'_>,
) -> ExitCode {
    let files = match expand(&a.files) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let threads = a.jobs.map(usize::from).unwrap_or_else(zhengyin::parallel::default_threads);
    let (mut valid, mut invalid, mut unreadable) = (0usize, 0usize, 0usize);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut broken_pipe = false;
    let bar = super::progress::bar("verify", files.len());
    let items: Vec<PathBuf> = files.clone();
    zhengyin::parallel::ordered(
        items,
        threads,
        |_, path| match read_limited(&path) {
            Err(e) => Outcome::Unreadable(e),
            Ok(bytes) => match zhengyin::verify::verify_opts(&bytes, store, at, options) {
                Ok(mut r) => {
                    status.apply(&mut r);
                    Outcome::Checked(Box::new(r))
                }
                Err(e) => Outcome::Unreadable(format!("{}: {e}", path.display())),
            },
        },
        |i, outcome| {
            let path = files.get(i).map(|p| p.display().to_string()).unwrap_or_default();
            let line = match &outcome {
                Outcome::Checked(r) => {
                    let ok = accepted(a, r);
                    if ok {
                        valid += 1;
                    } else {
                        invalid += 1;
                    }
                    if a.json {
                        json!({ "file": path, "valid": ok, "report": r }).to_string()
                    } else {
                        format!(
                            "{}  {path}  {}{} — {}{}",
                            if ok { "ok   " } else { "FAIL " },
                            r.indication.as_str(),
                            r.sub_indication.map(|x| format!(" / {x}")).unwrap_or_default(),
                            r.summary,
                            // A licence no longer in force, or an incomplete seal plan, is named.
                            Some(&r.verdict)
                                .filter(|v| v.rule != "ALL_CHECKS" && v.rule != "SIGNATURES")
                                .map(|v| format!(
                                    " — verdict {} (rule {}): {}",
                                    v.result.as_str(),
                                    v.rule,
                                    v.detail
                                ))
                                .unwrap_or_default()
                        )
                    }
                }
                Outcome::Unreadable(e) => {
                    unreadable += 1;
                    if a.json {
                        json!({ "file": path, "valid": false, "error": e }).to_string()
                    } else {
                        format!("ERROR  {path}  {e}")
                    }
                }
            };
            // A closed pipe (`| head`) stops the batch quietly.
            broken_pipe = bar.suspend(|| writeln!(out, "{line}").is_err());
            super::progress::drive(&bar, i + 1, files.len());
            !broken_pipe
        },
    );
    let total = valid + invalid + unreadable;
    let summary = if a.json {
        json!({ "summary": { "files": total, "valid": valid, "not_valid": invalid, "unreadable": unreadable } })
            .to_string()
    } else {
        format!("{total} files: {valid} valid, {invalid} not valid, {unreadable} unreadable")
    };
    if !broken_pipe {
        let _ = writeln!(out, "{summary}");
    }
    if unreadable > 0 {
        ExitCode::from(super::EXIT_ERROR)
    } else if invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The files named, each directory replaced by the *.pdf files under it in path order.
fn expand(args: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in args {
        if p == Path::new("-") {
            return Err("standard input (-) can only be verified on its own".into());
        }
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, 0, &mut found)?;
            if found.is_empty() {
                return Err(format!("{} holds no PDF files to verify", p.display()));
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
        if files.len() > MAX_FILES {
            return Err(format!("more than {MAX_FILES} files in one batch"));
        }
    }
    Ok(files)
}

/// *.pdf files under `dir` (symbolic links to directories are not followed).
fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("{}: directories nested deeper than {MAX_DEPTH}", dir.display()));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if kind.is_dir() {
            walk(&path, depth + 1, found)?;
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")) {
            found.push(path);
            if found.len() > MAX_FILES {
                return Err(format!("more than {MAX_FILES} files in one batch"));
            }
        }
    }
    Ok(())
}
