//! `zhengyin trust`: export the region root for other verifiers.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write the region root certificate (PEM) for verifiers such as pyHanko
    Export {
        #[command(flatten)]
        home: HomeArg,
        /// Output PEM file
        #[arg(short = 'o', long = "output", value_name = "FILE.pem")]
        output: PathBuf,
    },
}

pub fn run(c: Command) -> ExitCode {
    match c {
        Command::Export { home, output } => {
            let home = home.home();
            let src = home.ca_cert("root");
            if !home.region_file().exists() {
                return fail(zhengyin::error::ConfigError::NotInitialised { home: home.dir.clone() });
            }
            match std::fs::read(&src).map_err(zhengyin::error::io_at(&src)).and_then(|pem| zhengyin::licence::write_output(&output, &pem)) {
                Ok(()) => {
                    println!("wrote region root to {}", output.display());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}
