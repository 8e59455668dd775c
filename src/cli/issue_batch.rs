//! `zhengyin issue --template T --batch RECORDS.jsonl --out-dir DIR`: bulk issuance through
//! `zhengyin::licence::batch`, with a progress bar (rate, ETA) on stderr when it is a terminal.
//! stdout: `line N <record id> <identifier> <file>` for each line once it is durable, then
//! `rejected line N: reason` for each line not issued, then a summary. Exit 0 when every line is
//! issued, 1 when some were rejected, 2 when the batch could not run.
//!
//! Knows the CLI's output only.

use std::io::Write;
use std::process::ExitCode;

use zhengyin::licence::batch::{issue_batch, Batch};

use super::fail;
use super::issue::Args;

pub fn run(home: &zhengyin::config::Home, template: &str, seal: Option<&str>, a: &Args) -> ExitCode {
    let (Some(records), Some(out_dir)) = (a.batch.as_deref(), a.out_dir.as_deref()) else {
        return fail("--data and -o, or --batch and --out-dir, are needed");
    };
    let threads = a.jobs.map(usize::from).unwrap_or_else(zhengyin::parallel::default_threads);
    let batch = Batch {
        template,
        seal,
        records,
        out_dir,
        threads,
        verify_all: a.verify_all,
        group: usize::from(a.group),
    };
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut progress = |done: usize, total: usize| {
        let b = bar.get_or_insert_with(|| super::progress::bar("issue", total));
        super::progress::drive(b, done, total);
    };
    let stdout = std::io::stdout();
    let mut ack = |d: &zhengyin::licence::Done| {
        let mut out = stdout.lock();
        let _ = writeln!(out, "line {} {} {} {}", d.line, d.record, d.identifier, d.file);
        let _ = out.flush();
    };
    match issue_batch(home, &batch, &mut progress, &mut ack) {
        Ok(o) => {
            let mut out = stdout.lock();
            for r in &o.rejected {
                let _ = writeln!(out, "rejected line {}: {}", r.line, r.reason);
            }
            let _ = writeln!(
                out,
                "issued {}, recovered {}, done before {}, rejected {} (report: {})",
                o.issued,
                o.recovered,
                o.already,
                o.rejected.len(),
                out_dir.join("rejected.jsonl").display()
            );
            if o.rejected.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(e),
    }
}
