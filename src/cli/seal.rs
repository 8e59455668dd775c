//! `zhengyin seal add`: add one more department's seal (joint seals), following the seal plan.

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
}

pub fn run(c: Command) -> ExitCode {
    let Command::Add { home, dept, input, output } = c;
    let home = home.home();
    let bytes = match std::fs::read(&input) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read {}: {e}", input.display())),
    };
    // One archive handle for filing and the receipt; the output is written only once filed.
    let archive = match zhengyin::filing::open_archive(&home) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let receipt = super::issue::receipt_path(&output);
    let result = zhengyin::licence::add_seal(&home, &bytes, &dept).and_then(|a| {
        let filed = zhengyin::filing::file_batch_in(
            &home,
            &archive,
            &[(output.display().to_string(), a.pdf.clone())],
            "licence",
            &mut |_, _| {},
        )?;
        let receipts = super::issue::receipts(&home, &archive, &filed)?;
        // The archived form (B-LTA: with its document timestamp) is the one handed out.
        let out = filed.first().and_then(|f| f.archived.as_deref()).unwrap_or(&a.pdf);
        zhengyin::licence::write_output(&output, out)?;
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
