//! `zhengyin crl refresh`: re-sign this region's CRLs that have less than half of their validity
//! left (every one with `--force`), for cron where no `zhengyin serve` runs; `zhengyin crl show`
//! lists each CA's current CRL.
//!
//! Thin shell over `zhengyin::pki::crl`.

use std::process::ExitCode;

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Re-sign every CA's CRL that is due (less than half of its 7-day validity left)
    Refresh {
        #[command(flatten)]
        home: HomeArg,
        /// Re-sign every CRL now, due or not
        #[arg(long)]
        force: bool,
    },
    /// Show each CA's current CRL (number, thisUpdate, nextUpdate)
    Show {
        #[command(flatten)]
        home: HomeArg,
    },
}

pub fn run(c: Command) -> ExitCode {
    let (home, force, write) = match c {
        Command::Refresh { home, force } => (home, force, true),
        Command::Show { home } => (home, false, false),
    };
    let home = home.home();
    let states =
        if write { zhengyin::pki::crl::refresh(&home, force) } else { zhengyin::pki::crl::show(&home) };
    match states {
        Ok(states) => {
            for s in states {
                let what = if s.refreshed { "re-signed" } else { "current  " };
                println!(
                    "{what} {:<10} number {}  thisUpdate {}  nextUpdate {}",
                    s.ca, s.crl_number, s.this_update, s.next_update
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
