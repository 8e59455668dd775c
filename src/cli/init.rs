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
    /// Create the department seal keys in a PKCS#11 token through this module (shared library,
    /// e.g. /usr/lib/softhsm/libsofthsm2.so): EC P-256, sensitive, never extractable; region.toml
    /// records each as key = "pkcs11:…". The user PIN comes from ZHENGYIN_PKCS11_PIN or --pin-file
    #[arg(long, value_name = "MODULE", requires = "token")]
    pkcs11: Option<PathBuf>,
    /// With --pkcs11: the label of the token to create the keys in
    #[arg(long, value_name = "LABEL", requires = "pkcs11")]
    token: Option<String>,
    /// With --pkcs11: a file holding the token's user PIN, recorded in the key URIs as
    /// pin-source (without it, ZHENGYIN_PKCS11_PIN is read now and whenever a key signs)
    #[arg(long, value_name = "FILE", requires = "pkcs11")]
    pin_file: Option<PathBuf>,
    /// With --pkcs11: only these departments' keys go into the token (the others stay files)
    /// [default: every department]
    #[arg(long = "pkcs11-dept", value_name = "ID", requires = "pkcs11", value_delimiter = ',')]
    pkcs11_depts: Vec<String>,
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
    let token = a.pkcs11.map(|module| zhengyin::pki::TokenInit {
        module,
        token: a.token.unwrap_or_default(),
        pin_file: a.pin_file,
        departments: a.pkcs11_depts,
    });
    match zhengyin::pki::init_full(&home, &text, &path, a.force, a.public_url.as_deref(), token.as_ref()) {
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
