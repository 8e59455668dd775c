//! `zhengyin seal add`: add one more department's seal (joint seals), following the seal plan.
//! `seal prepare|complete`: the same in two steps, for a key outside zhengyin (`external`).

use std::path::PathBuf;
use std::process::ExitCode;

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add DEPT's seal as a new incremental update; earlier seals stay valid
    Add {
        #[command(flatten)]
        home: HomeArg,
        /// The department that seals (must be next in the document's seal plan)
        #[arg(long, value_name = "DEPT")]
        dept: String,
        /// The sealed PDF
        input: PathBuf,
        /// Output PDF
        #[arg(short = 'o', long = "output", value_name = "OUT.pdf")]
        output: PathBuf,
    },
    /// Two-step seal, step 1: print the digest DEPT's key must sign and a handle
    Prepare(super::seal_external::Prepare),
    /// Two-step seal, step 2: assemble the seal from the signature value, verify it, file it
    Complete(super::seal_external::Complete),
}

pub fn run(c: Command) -> ExitCode {
    let (home, dept, input, output) = match c {
        Command::Add { home, dept, input, output } => (home, dept, input, output),
        Command::Prepare(p) => return super::seal_external::prepare(p),
        Command::Complete(c) => return super::seal_external::complete(c),
    };
    let home = home.home();
    let bytes = match std::fs::read(&input) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read {}: {e}", input.display())),
    };
    file_and_write(&home, &output, &dept, || zhengyin::licence::add_seal(&home, &bytes, &dept))
}

/// File the sealed document `make` gives, then write it (the archived form) to `output` with its
/// receipt; print what happened. Nothing is written unless it was filed.
pub fn file_and_write(
    home: &zhengyin::config::Home,
    output: &std::path::Path,
    dept: &str,
    make: impl FnOnce() -> zhengyin::error::Result<zhengyin::licence::Added>,
) -> ExitCode {
    // One archive handle for filing and the receipt; the output is written only once filed.
    let archive = match zhengyin::filing::open_archive(home) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let receipt = super::issue::receipt_path(output);
    let result = make().and_then(|a| {
        let filed = zhengyin::filing::file_batch_in(
            home,
            &archive,
            &[(output.display().to_string(), a.pdf.clone())],
            "licence",
            &mut |_, _| {},
        )?;
        let receipts = super::issue::receipts(home, &archive, &filed)?;
        // The archived form (B-LTA: with its document timestamp) is the one handed out.
        let out = filed.first().and_then(|f| f.archived.as_deref()).unwrap_or(&a.pdf);
        zhengyin::licence::write_output(output, out)?;
        super::issue::write_receipts(&receipt, &receipts)?;
        Ok((a, filed))
    });
    match result {
        Ok((a, filed)) => {
            for f in filed {
                println!("archived {} (log leaf {})", f.record.id, f.record.leaf_index);
            }
            println!(
                "sealed by {dept}: {} ({} of {} seals{})",
                output.display(),
                a.present,
                a.required,
                if a.locked { ", document locked" } else { "" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
