//! `zhengyin verify`: the per-signature report, as a table or JSON; with several files or a
//! directory, the batch run of `verify_batch`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zhengyin::trust::TrustStore;

use super::fail;
use super::verify_status::{Sources, StatusMode};

#[derive(clap::Args)]
pub struct Args {
    /// The PDF(s) to verify (`-`: standard input); a directory stands for every *.pdf under it.
    /// More than one file, or a directory: one line (or JSON line) per file and a summary
    #[arg(value_name = "FILE", required = true)]
    pub(super) files: Vec<PathBuf>,
    /// Worker threads for several files [default: every core]
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(super) jobs: Option<u16>,
    /// Trust this home's region root and CRLs (default when no --trust is given)
    #[arg(long, value_name = "DIR")]
    home: Vec<PathBuf>,
    /// Trust the root certificate(s) in this PEM file
    #[arg(long, value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
    /// Print the JSON report (docs/verification-report.md)
    #[arg(long)]
    pub(super) json: bool,
    /// Exit 0 for valid signatures even when the document's seal plan is not complete yet (the
    /// seals present must still follow the plan in order)
    #[arg(long)]
    pub(super) allow_incomplete: bool,
    /// Validate at this time instead of now (RFC 3339, or YYYY-MM-DD for midnight UTC)
    #[arg(long, value_name = "TIME", value_parser = super::proof::parse_time)]
    at: Option<std::time::SystemTime>,
    /// An archive evidence record (`zhengyin archive evidence ID -o FILE`): proof of existence
    /// for the file or one of its revisions (repeatable)
    #[arg(long, value_name = "EVIDENCE.json")]
    evidence: Vec<PathBuf>,
    /// The archive verifier key that must have signed the evidence records (`archive tree-head`)
    /// [default: the first home's log key]
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// strict: no current CRL for a certificate on the path is INDETERMINATE / TRY_LATER;
    /// soft-fail: only a warning
    #[arg(long, value_name = "POLICY", default_value = "strict", value_parser = ["strict", "soft-fail"])]
    revocation: String,
    /// Licence status: `offline` (this home's archive for its own licences, else the status lists
    /// the home holds), `online` (ask --status-url, then as offline), or `off`
    #[arg(long, value_enum, default_value = "offline")]
    status: StatusMode,
    /// Base URL of the issuing region's service for `--status online` (GET /v1/status/{id})
    #[arg(long, value_name = "URL")]
    status_url: Option<String>,
}

pub fn run(a: Args) -> ExitCode {
    let (store, evidence, home) = match setup(&a) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let status = match Sources::open(a.status, a.status_url.as_deref(), &store, home.as_ref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let options = zhengyin::verify::Options { evidence };
    let at = a.at.unwrap_or_else(std::time::SystemTime::now);
    match a.files.as_slice() {
        [one] if !one.is_dir() => single(&a, one, &store, at, &options, &status),
        _ => super::verify_batch::run(&a, &store, at, &options, &status),
    }
}

/// Whether a report passes: its document verdict is valid (every signature valid, the licence
/// in force or its status unknown, the seal plan complete), or incomplete with
/// `--allow-incomplete`. The one rule for a single file and a batch.
pub(super) fn accepted(a: &Args, report: &zhengyin::verify::report::Report) -> bool {
    use zhengyin::verify::verdict::Outcome;
    match report.verdict.result {
        Outcome::Valid => true,
        Outcome::Incomplete => a.allow_incomplete,
        Outcome::NotValid => false,
    }
}

/// The trust store from `--home`/`--trust`, the checked `--evidence` records, and the first home.
#[allow(clippy::type_complexity)]
fn setup(
    a: &Args,
) -> Result<(TrustStore, Vec<zhengyin::archive::evidence::Proven>, Option<zhengyin::config::Home>), String> {
    let mut store =
        TrustStore { revocation_policy: a.revocation.parse().unwrap_or_default(), ..Default::default() };
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
            Err(e) => return Err(e.to_string()),
        }
    }
    for t in &a.trust {
        store.add_pem(t).map_err(|e| e.to_string())?;
    }
    let evidence = evidence(a, homes.first())?;
    Ok((store, evidence, homes.into_iter().next()))
}

/// One file: the full report, as before batches existed.
fn single(
    a: &Args,
    file: &Path,
    store: &TrustStore,
    at: std::time::SystemTime,
    options: &zhengyin::verify::Options,
    status: &Sources<'_>,
) -> ExitCode {
    let bytes = match read_limited(file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    match zhengyin::verify::verify_opts(&bytes, store, at, options) {
        Ok(mut report) => {
            status.apply(&mut report);
            if a.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(j) => println!("{j}"),
                    Err(e) => return fail(e),
                }
            } else {
                print!("{}", report.human());
            }
            if accepted(a, &report) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(format!("{}: {e}", file.display())),
    }
}

/// The evidence records given with `--evidence`, each checked against the trusted archive key
/// (`--log-key`, else the home's log key). A record that does not check is an error, not ignored.
fn evidence(
    a: &Args,
    home: Option<&zhengyin::config::Home>,
) -> Result<Vec<zhengyin::archive::evidence::Proven>, String> {
    if a.evidence.is_empty() {
        return Ok(Vec::new());
    }
    let key = match (&a.log_key, home) {
        (Some(k), _) => k.clone(),
        (None, Some(h)) => zhengyin::filing::log_verifier_key(h).map_err(|e| e.to_string())?,
        (None, None) => {
            return Err("--evidence needs --log-key VKEY (or --home) to know whose log to trust".into())
        }
    };
    a.evidence
        .iter()
        .map(|p| {
            let text = std::fs::metadata(p)
                .map_err(|e| e.to_string())
                .and_then(|m| {
                    if m.len() > 1 << 20 {
                        Err("over 1 MiB".to_string())
                    } else {
                        std::fs::read_to_string(p).map_err(|e| e.to_string())
                    }
                })
                .map_err(|e| format!("{}: {e}", p.display()))?;
            let ev: zhengyin::archive::evidence::Evidence = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not an evidence record: {e}", p.display()))?;
            zhengyin::archive::evidence::check(&ev, &key).map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

/// The file's bytes, refused without reading them when its size is over `MAX_PDF_SIZE` (a 3 GB
/// file must not cost 3 GB of memory first); standard input is read up to one byte past the limit.
pub(super) fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
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
        // Room for the whole file and one byte more: one read() fills it and a second sees the end
        // (`Take` hides the size from read_to_end, which would otherwise grow the buffer by
        // doubling from a few bytes, one system call per step).
        bytes.reserve_exact(usize::try_from(size).unwrap_or(0).saturating_add(1));
        file.take(cap).read_to_end(&mut bytes).map_err(|e| format!("cannot read {}: {e}", path.display()))?
    };
    if read > limit {
        return Err(format!("{}: the PDF is over the limit of {limit} bytes", path.display()));
    }
    Ok(bytes)
}
