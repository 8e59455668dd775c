//! `zhengyin licence use`: an annotated copy (加注件) of a sealed licence for a listed matter.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Make an annotated copy sealed by dsjzx for DEPT and MATTER; the original seal stays valid
    Use {
        #[command(flatten)]
        home: HomeArg,
        /// Licence identifier (looked up in the archive) or a PDF file
        licence: String,
        /// The using department (must be listed for MATTER in the list of uses)
        #[arg(long, value_name = "DEPT")]
        by: String,
        /// The matter (事项 code) the copy is for; printed in the watermark
        #[arg(long, value_name = "MATTER")]
        purpose: String,
        /// Last day the copy may be used (YYYY-MM-DD) [default: 30 days from today]
        #[arg(long, value_name = "DATE")]
        valid_until: Option<String>,
        /// Output PDF (the annotated copy)
        #[arg(short = 'o', long = "output", value_name = "OUT.pdf")]
        output: PathBuf,
    },
    #[command(flatten)]
    Lifecycle(super::lifecycle::Command),
}

pub fn run(c: Command) -> ExitCode {
    let (home, licence, by, purpose, valid_until, output) = match c {
        Command::Use { home, licence, by, purpose, valid_until, output } => {
            (home, licence, by, purpose, valid_until, output)
        }
        Command::Lifecycle(l) => return super::lifecycle::run(l),
    };
    let home = home.home();
    let valid_until = valid_until.unwrap_or_else(zhengyin::proofs::annotate::default_valid_until);
    let checked = zhengyin::proofs::fields::ident("by", &by)
        .and_then(|_| zhengyin::proofs::fields::matter("purpose", &purpose));
    if let Err(e) = checked {
        return fail(e);
    }
    // The copy and its use record are filed before the file is written: refuse an unwritable
    // output first.
    if let Err(e) = zhengyin::licence::check_output(&output) {
        return fail(e);
    }
    let r = zhengyin::proofs::open_archive(&home).and_then(|archive| {
        let path = PathBuf::from(&licence);
        let bytes = if path.is_file() {
            std::fs::read(&path).map_err(zhengyin::error::io_at(&path))?
        } else {
            zhengyin::proofs::annotate::find_licence(&archive, &licence)?.ok_or_else(|| {
                zhengyin::error::ProofError::Other(format!(
                    "no archived licence with identifier `{licence}` and no such file"
                ))
            })?
        };
        let a = zhengyin::proofs::annotate::annotate(&home, &archive, &bytes, &by, &purpose, &valid_until)?;
        zhengyin::licence::write_output(&output, &a.pdf)?;
        Ok(a)
    });
    match r {
        Ok(a) => {
            println!(
                "annotated copy of {}: {} (archived {}, use record {})\n{}",
                a.identifier,
                output.display(),
                a.record,
                a.use_record,
                a.note
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
