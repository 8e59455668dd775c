//! `zhengyin issue`: render and seal a licence.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{fail, HomeArg};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    home: HomeArg,
    /// Template name (e.g. business-licence, food-business-licence)
    #[arg(long)]
    template: String,
    /// Licence data as a JSON object of field: value
    #[arg(long, value_name = "FILE.json", required_unless_present = "batch", conflicts_with = "batch")]
    data: Option<PathBuf>,
    /// Department that applies the first seal (default: the first of the template's seal plan);
    /// further seals are added with `zhengyin seal add`
    #[arg(long, value_name = "DEPT")]
    seal: Vec<String>,
    /// Output PDF
    #[arg(
        short = 'o',
        long = "output",
        value_name = "OUT.pdf",
        required_unless_present = "batch",
        conflicts_with = "batch"
    )]
    output: Option<PathBuf>,
    /// Bulk issuance: one licence per line of this JSON-lines file (each line a data object),
    /// written to --out-dir as NNNNNN.pdf (the line number); resumable after a crash
    #[arg(long, value_name = "RECORDS.jsonl", requires = "out_dir")]
    pub(super) batch: Option<PathBuf>,
    /// With --batch: the directory for the licences, the journal and rejected.jsonl
    #[arg(long, value_name = "DIR", requires = "batch")]
    pub(super) out_dir: Option<PathBuf>,
    /// With --batch: worker threads [default: every core]
    #[arg(long, short = 'j', value_name = "N", requires = "batch", value_parser = clap::value_parser!(u16).range(1..))]
    pub(super) jobs: Option<u16>,
    /// With --batch: verify every licence in full before filing it (default: the first of
    /// every 32 in full, each one's seal against the department's certificate)
    #[arg(long, requires = "batch")]
    pub(super) verify_all: bool,
    /// With --batch: licences per durable group (one archive flush and signed tree head each; a
    /// kill loses at most the group in flight, which the next run issues again)
    #[arg(long, value_name = "N", requires = "batch", default_value_t = 128, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub(super) group: u16,
}

pub fn run(a: Args) -> ExitCode {
    let home = a.home.home();
    if a.seal.len() > 1 {
        return fail("more than one --seal: issue applies the first seal; add the others one at a time with `zhengyin seal add --dept DEPT`");
    }
    let (Some(data), Some(output)) = (a.data.clone(), a.output.clone()) else {
        return super::issue_batch::run(&home, &a.template, a.seal.first().map(String::as_str), &a);
    };
    // The licence is written only after it is filed: an output that cannot be written is refused
    // before anything is issued or filed.
    if let Err(e) = zhengyin::licence::check_output(&output) {
        return fail(e);
    }
    // One archive handle for the whole command (filing and receipt), opened before anything is
    // issued: a held archive refuses the command, and no unarchived licence is left behind.
    let archive = match zhengyin::filing::open_archive(&home) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let receipt = receipt_path(&output);
    let result = zhengyin::licence::read_data(&data)
        .and_then(|data| {
            zhengyin::licence::issue(&home, &a.template, &data, a.seal.first().map(String::as_str))
        })
        .and_then(|issued| {
            // File first; write the licence and its receipt only once the record is durable.
            let filed = zhengyin::filing::file_batch_in(
                &home,
                &archive,
                &[(output.display().to_string(), issued.pdf.clone())],
                "licence",
                &mut |_, _| {},
            )?;
            let receipts = receipts(&home, &archive, &filed)?;
            // The archived form (B-LTA: with its document timestamp) is the one handed out.
            let out = filed.first().and_then(|f| f.archived.as_deref()).unwrap_or(&issued.pdf);
            zhengyin::licence::write_output(&output, out)?;
            write_receipts(&receipt, &receipts)?;
            Ok((issued, filed))
        });
    match result {
        Ok((i, filed)) => {
            println!("issued {} {}", i.template, output.display());
            println!("  identifier {}", i.identifier);
            println!("  sealed by  {}", i.sealed_by);
            println!("  verify at  {}", i.verify_url);
            for f in filed {
                println!("  archived   {} (log leaf {})", f.record.id, f.record.leaf_index);
                println!("  receipt    {}", receipt.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `OUT.pdf` → `OUT.receipt.json`.
pub fn receipt_path(out: &std::path::Path) -> PathBuf {
    out.with_extension("receipt.json")
}

/// The archive receipts (record id, leaf index, signed checkpoint, inclusion proof) of filed
/// records, built on the caller's open archive before anything is written.
pub fn receipts(
    home: &zhengyin::config::Home,
    archive: &zhengyin::archive::Archive,
    filed: &[zhengyin::filing::Filed],
) -> zhengyin::Result<Vec<String>> {
    filed
        .iter()
        .map(|f| {
            zhengyin::filing::proof(home, archive, &f.record.id)
                .map(|p| serde_json::to_string_pretty(&p).unwrap_or_default())
        })
        .collect()
}

/// Write the receipt (one record is filed per command; the last one wins if ever more).
pub fn write_receipts(path: &std::path::Path, receipts: &[String]) -> zhengyin::Result<()> {
    match receipts.last() {
        Some(text) => zhengyin::licence::write_output(path, text.as_bytes()),
        None => Ok(()),
    }
}
