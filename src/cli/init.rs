//! `zhengyin init`: create the region PKI in a home directory.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{fail, HomeArg};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    home: HomeArg,
    /// Region configuration (TOML) [default: the shipped fixtures/region/taian.toml]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Replace existing keys (every certificate is re-issued; with --add-tsa: the TSA's only)
    #[arg(long)]
    force: bool,
    /// Only add the licence status key (status answers and lists) to an existing home made before
    /// it existed; with --force, replace it
    #[arg(long)]
    add_status_key: bool,
    /// Base URL `zhengyin serve` will be reached at; stored in region.toml, and every
    /// certificate's CRL distribution point is <URL>/crl/<issuer>.crl [default: the region
    /// file's public_url, else http://127.0.0.1:8080]
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Add a time-stamping authority (RFC 3161) to an existing home, signed by its region root;
    /// no other key or certificate changes
    #[arg(long, conflicts_with = "config")]
    add_tsa: bool,
}

pub fn run(a: Args) -> ExitCode {
    let home = a.home.home();
    if a.add_status_key {
        return match zhengyin::pki::status_key::create(&home, a.force) {
            Ok(p) => {
                println!("added the licence status key to {}", home.dir.display());
                println!("  certificate: {}", p.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        };
    }
    if a.add_tsa {
        return match zhengyin::pki::tsa::add(&home, a.force) {
            Ok(cert) => {
                println!("added a time-stamping authority to {}", home.dir.display());
                println!("  tsa: {}", cert.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        };
    }
    let (text, path) = match &a.config {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => (t, p.clone()),
            Err(e) => return fail(format!("cannot read {}: {e}", p.display())),
        },
        None => (zhengyin::config::DEFAULT_REGION.to_string(), PathBuf::from("fixtures/region/taian.toml")),
    };
    match zhengyin::pki::init_with(&home, &text, &path, a.force, a.public_url.as_deref()) {
        Ok(s) => {
            println!("initialised {}", home.dir.display());
            println!("  region root: {}", s.root.display());
            println!("  CRLs at     {}/crl/<ca>.crl (zhengyin serve)", s.public_url);
            for ca in &s.cas {
                println!("  CA   {ca}");
            }
            for d in &s.departments {
                println!("  seal {d}");
            }
            println!("  status {}", zhengyin::pki::status_key::cert_path(&home).display());
            println!("  tsa  {}", s.tsa.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
