//! `zhengyin verify`: the per-signature report, as a table or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use zhengyin::trust::TrustStore;

use super::fail;

#[derive(clap::Args)]
pub struct Args {
    /// The PDF to verify
    file: PathBuf,
    /// Trust this home's region root and CRLs (default when no --trust is given)
    #[arg(long, value_name = "DIR")]
    home: Vec<PathBuf>,
    /// Trust the root certificate(s) in this PEM file
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
    /// Print the JSON report (docs/verification-report.md)
    #[arg(long)]
    json: bool,
    /// Exit 0 for valid signatures even when the document's seal plan is not complete yet
    #[arg(long)]
    allow_incomplete: bool,
}

pub fn run(a: Args) -> ExitCode {
    let mut store = TrustStore::default();
    let mut homes: Vec<zhengyin::config::Home> = a.home.iter().map(|h| zhengyin::config::Home::resolve(Some(h.clone()))).collect();
    if homes.is_empty() && a.trust.is_empty() {
        homes.push(zhengyin::config::Home::resolve(None));
    }
    for h in &homes {
        match TrustStore::from_home(h) {
            Ok(s) => {
                store.anchors.extend(s.anchors);
                store.crls.extend(s.crls);
                // The first home names departments: its region, CA certificates and list of uses.
                if store.region.is_none() {
                    (store.region, store.region_cas, store.uses) = (s.region, s.region_cas, s.uses);
                }
            }
            Err(e) => return fail(e),
        }
    }
    for t in &a.trust {
        if let Err(e) = store.add_pem(t) {
            return fail(e);
        }
    }
    let bytes = match std::fs::read(&a.file) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read {}: {e}", a.file.display())),
    };
    match zhengyin::verify::verify(&bytes, &store, std::time::SystemTime::now()) {
        Ok(report) => {
            if a.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(j) => println!("{j}"),
                    Err(e) => return fail(e),
                }
            } else {
                print!("{}", report.human());
            }
            let ok = if a.allow_incomplete { report.passed() } else { report.complete() };
            if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(e) => fail(format!("{}: {e}", a.file.display())),
    }
}
