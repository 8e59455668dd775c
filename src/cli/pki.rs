//! `zhengyin pki …`: certificate lifecycle of the region PKI (rollover).

use std::process::ExitCode;

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Renew a department's seal certificate with a new key; the old certificate and key are
    /// retired (kept, never overwritten): documents sealed before still verify, new seals use the
    /// new key
    RenewSeal {
        #[command(flatten)]
        home: HomeArg,
        /// Department id (region.toml)
        dept: String,
    },
}

pub fn run(c: Command) -> ExitCode {
    match c {
        Command::RenewSeal { home, dept } => match zhengyin::pki::rollover::renew_seal(&home.home(), &dept) {
            Ok(r) => {
                println!(
                    "renewed the seal certificate of {}: serial {} → {}",
                    r.dept, r.old_serial, r.new_serial
                );
                println!("  retired certificate {}", r.retired_cert.display());
                println!("  retired key         {}", r.retired_key.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
    }
}
