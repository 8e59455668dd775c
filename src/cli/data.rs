//! `zhengyin data load`: load a department's holder records (CSV or JSON) under pseudonymous codes.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Load DEPT's records (columns: id, name, kind, then the kind's fields) into <home>/holders
    Load {
        #[command(flatten)]
        home: HomeArg,
        /// The holding department (must hold every record's kind in the list of uses)
        #[arg(long, value_name = "DEPT")]
        dept: String,
        /// Data file: CSV with a header row, or a JSON array of objects
        file: PathBuf,
    },
}

pub fn run(c: Command) -> ExitCode {
    let Command::Load { home, dept, file } = c;
    let home = home.home();
    let result = zhengyin::proofs::holders::read_rows(&file).and_then(|rows| {
        zhengyin::proofs::holders::Holders::open(&home).and_then(|h| h.load(&home, &dept, &rows))
    });
    match result {
        Ok(n) => {
            println!("loaded {n} records for {dept} (stored by holder code; raw ID numbers not kept)");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
