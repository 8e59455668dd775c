//! `zhengyin verify`: the per-signature report, as a table or JSON.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zhengyin::trust::TrustStore;

use super::fail;

#[derive(clap::Args)]
pub struct Args {
    /// The PDF to verify (`-`: standard input)
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
    let mut homes: Vec<zhengyin::config::Home> =
        a.home.iter().map(|h| zhengyin::config::Home::resolve(Some(h.clone()))).collect();
    if homes.is_empty() && a.trust.is_empty() {
        homes.push(zhengyin::config::Home::resolve(None));
    }
    for h in &homes {
        match TrustStore::from_home(h) {
            Ok(mut s) => {
                // A further home is trusted explicitly, like --trust: its own region's anchors and
                // CRLs are its own (never the first home's departments, even with the same id).
                if store.region.is_some() {
                    let own = s.region.as_ref().map(|r| r.region.id.clone()).unwrap_or_default();
                    let tag = format!("--home {}", h.dir.display());
                    for a in s.anchors.iter_mut().filter(|a| a.region == own) {
                        a.region = tag.clone();
                    }
                    for c in s.crls.iter_mut().filter(|c| c.region == own) {
                        c.region = tag.clone();
                    }
                }
                store.anchors.extend(s.anchors);
                store.crls.extend(s.crls);
                store.regions.extend(s.regions);
                // The first home names departments: its region, CA certificates, list of uses and authority.
                if store.region.is_none() {
                    (store.region, store.region_cas, store.uses, store.authority) =
                        (s.region, s.region_cas, s.uses, s.authority);
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
    let bytes = match read_limited(&a.file) {
        Ok(b) => b,
        Err(e) => return fail(e),
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
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(format!("{}: {e}", a.file.display())),
    }
}

/// The file's bytes, refused without reading them when its size is over `MAX_PDF_SIZE` (a 3 GB
/// file must not cost 3 GB of memory first); standard input is read up to one byte past the limit.
fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let limit = zhengyin::pades::MAX_PDF_SIZE;
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(cap)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?
    } else {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let size = file.metadata().map_err(|e| format!("cannot read {}: {e}", path.display()))?.len();
        if size > cap - 1 {
            return Err(format!(
                "{}: the PDF is {size} bytes, over the limit of {limit} bytes",
                path.display()
            ));
        }
        file.take(cap).read_to_end(&mut bytes).map_err(|e| format!("cannot read {}: {e}", path.display()))?
    };
    if read > limit {
        return Err(format!("{}: the PDF is over the limit of {limit} bytes", path.display()));
    }
    Ok(bytes)
}
