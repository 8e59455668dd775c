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
    #[arg(long, value_name = "FILE.json")]
    data: PathBuf,
    /// Department that applies the first seal (default: the first of the template's seal plan);
    /// further seals are added with `zhengyin seal add`
    #[arg(long, value_name = "DEPT")]
    seal: Vec<String>,
    /// Output PDF
    #[arg(short = 'o', long = "output", value_name = "OUT.pdf")]
    output: PathBuf,
}

pub fn run(a: Args) -> ExitCode {
    let home = a.home.home();
    if a.seal.len() > 1 {
        return fail("more than one --seal: issue applies the first seal; add the others one at a time with `zhengyin seal add --dept DEPT`");
    }
    let result = zhengyin::licence::read_data(&a.data)
        .and_then(|data| zhengyin::licence::issue(&home, &a.template, &data, a.seal.first().map(String::as_str)))
        .and_then(|issued| zhengyin::licence::write_output(&a.output, &issued.pdf).map(|_| issued))
        .and_then(|issued| {
            let filed = zhengyin::filing::file_batch(&home, &[(a.output.display().to_string(), issued.pdf.clone())], "licence", &mut |_, _| {})?;
            Ok((issued, filed))
        });
    match result {
        Ok((i, filed)) => {
            println!("issued {} {}", i.template, a.output.display());
            println!("  identifier {}", i.identifier);
            println!("  sealed by  {}", i.sealed_by);
            println!("  verify at  {}", i.verify_url);
            for f in filed {
                println!("  archived   {} (log leaf {})", f.record.id, f.record.leaf_index);
                let receipt = receipt_path(&a.output);
                match write_receipt(&home, &f.record.id, &receipt) {
                    Ok(()) => println!("  receipt    {}", receipt.display()),
                    Err(e) => eprintln!("zhengyin: warning: archived, but the receipt could not be written: {e}"),
                }
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

/// The archive receipt: record id, leaf index, signed checkpoint and inclusion proof.
pub fn write_receipt(home: &zhengyin::config::Home, id: &str, path: &std::path::Path) -> zhengyin::Result<()> {
    let archive = zhengyin::archive::Archive::open(&zhengyin::filing::archive_dir(home))?;
    let proof = zhengyin::filing::proof(home, &archive, id)?;
    let text = serde_json::to_string_pretty(&proof).unwrap_or_default();
    zhengyin::licence::write_output(path, text.as_bytes())
}
