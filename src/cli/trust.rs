//! `zhengyin trust`: export the region root for other verifiers; import other regions' signed
//! trust lists (跨区域互认) against a pinned root fingerprint; show this region's own list.
//!
//! Thin shell over `zhengyin::trust::list` and `zhengyin::api::refresh`.

use std::path::PathBuf;
use std::process::ExitCode;

use zhengyin::api::refresh::Imported;

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
    /// Import another region's signed trust list (and its CRLs), or a province list of lists
    /// (every region it lists), checked against a pinned root
    Add {
        #[command(flatten)]
        home: HomeArg,
        /// URL (http://…/v1/trust-list or …/v1/province-list) or file of the list
        #[arg(long, value_name = "URL_OR_FILE")]
        from: String,
        /// SHA-256 of the other region's (or the province's) root certificate (hex; from
        /// `zhengyin trust fingerprint`)
        #[arg(long, value_name = "SHA256")]
        pin: String,
    },
    /// Refresh every imported trust list, province list, CRL and licence status list now (what
    /// `serve` does every --refresh-secs); failures keep what was stored and are printed as warnings
    Refresh {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Replace this region's root: new root key, level CAs re-certified under it, and a pivot
    /// signed by the old root so importers follow without a new pin
    RotateRoot {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Print the SHA-256 fingerprint of this region's root certificate (what others pin)
    Fingerprint {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Write this region's signed trust list (JSON)
    List {
        #[command(flatten)]
        home: HomeArg,
        /// Base URL of this region's service (CRL URLs become <URL>/v1/crl/<ca>)
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// Output file
        #[arg(short = 'o', long = "output", value_name = "FILE.json")]
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
            match std::fs::read(&src)
                .map_err(zhengyin::error::io_at(&src))
                .and_then(|pem| zhengyin::licence::write_output(&output, &pem))
            {
                Ok(()) => {
                    println!("wrote region root to {}", output.display());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Add { home, from, pin } => {
            match zhengyin::api::refresh::import_any(&home.home(), &from, &pin) {
                Ok(Imported::Region(list, crls)) => {
                    println!(
                    "imported trust list of {} ({}) number {}: {} root(s), {} CA(s), {} department(s), {crls} CRL(s), valid until {}",
                    list.region,
                    list.name,
                    list.list_number,
                    list.roots.len(),
                    list.cas.len(),
                    list.departments.as_ref().map_or(0, Vec::len),
                    list.next_update
                );
                    if !from.starts_with("http://") && !from.starts_with("https://") {
                        let published = list.url.as_deref().map_or(String::new(), |u| {
                            format!("; to follow the list the region publishes, import it from {u}")
                        });
                        println!("  refresh reads {from} again{published}");
                    }
                    ExitCode::SUCCESS
                }
                Ok(Imported::Province(out, crls)) => {
                    println!(
                        "imported province list of {}: {} region(s) ({}), {crls} CRL(s)",
                        out.province,
                        out.imported.len(),
                        out.imported.join(", ")
                    );
                    for (region, why) in &out.refused {
                        eprintln!("zhengyin: warning: region {region} not imported: {why}");
                    }
                    if out.imported.is_empty() && !out.refused.is_empty() {
                        return ExitCode::from(super::EXIT_ERROR);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Refresh { home } => {
            let home = home.home();
            if let Err(e) = home.region() {
                return fail(e);
            }
            let regions = zhengyin::api::refresh::refresh_once(&home);
            println!("refreshed {} imported region(s): {}", regions.len(), regions.join(", "));
            ExitCode::SUCCESS
        }
        Command::RotateRoot { home } => match zhengyin::pki::rotate::rotate_root(&home.home()) {
            Ok(r) => {
                println!(
                    "rotated the region root (rotation {}): {} → {}\n  the pivot signed by the old root is published in the trust list",
                    r.number, r.old_fingerprint, r.new_fingerprint
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::Fingerprint { home } => {
            let home = home.home();
            match zhengyin::pki::keys::read_certs_der(&home.ca_cert("root")) {
                Ok(ders) => {
                    for d in ders {
                        println!("{}", zhengyin::trust::list::fingerprint(&d));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::List { home, public_url, output } => {
            let now = ::time::OffsetDateTime::now_utc().unix_timestamp();
            let list = zhengyin::trust::list::build(&home.home(), public_url.as_deref(), now);
            super::write_json("trust list", list, &output)
        }
    }
}
