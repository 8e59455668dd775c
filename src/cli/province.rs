//! `zhengyin province init | add-region | publish`: run a province home that signs the list of
//! its regions' trust lists, with their pins (list of lists, after ETSI TS 119 612's LOTL).
//! Importers pin the province root (`zhengyin trust fingerprint`) and `trust add --from` its list.
//!
//! Thin shell over `zhengyin::trust::province`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Make an initialised home a province home (its root key signs the list of lists)
    Init {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Add or update a region: its trust list must verify under the pin now
    AddRegion {
        #[command(flatten)]
        home: HomeArg,
        /// URL (http://…/v1/trust-list) or file of the region's trust list
        #[arg(long, value_name = "URL_OR_FILE")]
        from: String,
        /// SHA-256 of the region's root certificate
        #[arg(long, value_name = "SHA256")]
        pin: String,
    },
    /// Write the signed list of lists (also served at GET /v1/province-list)
    Publish {
        #[command(flatten)]
        home: HomeArg,
        /// Output file
        #[arg(short = 'o', long = "output", value_name = "FILE.json")]
        output: PathBuf,
    },
}

fn now() -> i64 {
    ::time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn run(c: Command) -> ExitCode {
    match c {
        Command::Init { home } => match zhengyin::trust::province::init(&home.home()) {
            Ok(p) => {
                println!("province home ready: regions in {}", p.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::AddRegion { home, from, pin } => {
            let home = home.home();
            match zhengyin::api::refresh::fetch(&from)
                .and_then(|b| zhengyin::trust::province::add_region(&home, &from, &pin, &b, now()))
            {
                Ok(r) => {
                    println!(
                        "added region {} ({}) at {} pinned {}",
                        r.region,
                        r.name,
                        r.url,
                        r.pins.join(",")
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Publish { home, output } => {
            super::write_json("province list", zhengyin::trust::province::build(&home.home(), now()), &output)
        }
    }
}
