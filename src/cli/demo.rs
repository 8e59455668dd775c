//! `zhengyin demo`: the whole slice on a fresh home, for a first look.

use std::path::PathBuf;
use std::process::ExitCode;

use zhengyin::config::Home;
use zhengyin::document::template::BUILTIN;
use zhengyin::trust::TrustStore;

use super::fail;

/// Sample data shipped for each built-in template (synthetic).
const SAMPLES: &[(&str, &str)] = &[
    ("business-licence", include_str!("../../fixtures/data/business-licence.json")),
    ("food-business-licence", include_str!("../../fixtures/data/food-business-licence.json")),
];

#[derive(clap::Args)]
pub struct Args {
    /// Where to put the demo home and PDFs [default: a new directory under the system temp dir]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(a: Args) -> ExitCode {
    let dir = match a.out {
        Some(d) => d,
        None => match tempfile::Builder::new().prefix("zhengyin-demo-").tempdir() {
            Ok(t) => t.keep(),
            Err(e) => return fail(format!("cannot create a temporary directory: {e}")),
        },
    };
    let home = Home { dir: dir.join("home") };
    println!("demo directory: {}", dir.display());
    // Never replace a real home's keys: the demo only initialises a home that holds none.
    if zhengyin::pki::has_keys(&home) {
        return fail(format!(
            "{} already holds keys; the demo never replaces keys — choose a new --out directory",
            home.dir.display()
        ));
    }
    if let Err(e) = zhengyin::pki::init(
        &home,
        zhengyin::config::DEFAULT_REGION,
        std::path::Path::new("fixtures/region/taian.toml"),
        false,
    ) {
        return fail(e);
    }
    let seals = zhengyin::config::RegionConfig::parse(
        zhengyin::config::DEFAULT_REGION,
        std::path::Path::new("taian.toml"),
    )
    .map(|r| r.departments.len())
    .unwrap_or(0);
    println!("1. initialised the 泰安市 test region (root → city → 岱岳区 CAs, {seals} department seals)");
    let store = match TrustStore::from_home(&home) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let mut all_ok = true;
    for (i, (name, _)) in BUILTIN.iter().enumerate() {
        let Some((_, sample)) = SAMPLES.iter().find(|(n, _)| n == name) else { continue };
        let data: serde_json::Value = match serde_json::from_str(sample) {
            Ok(d) => d,
            Err(e) => return fail(e),
        };
        let out = dir.join(format!("{name}.pdf"));
        let issued = match zhengyin::licence::issue(&home, name, &data, None)
            .and_then(|i| zhengyin::licence::write_output(&out, &i.pdf).map(|_| i))
        {
            Ok(i) => i,
            Err(e) => return fail(e),
        };
        println!("{}. issued {name}: {}\n   identifier {}", i + 2, out.display(), issued.identifier);
        match zhengyin::verify::verify(&issued.pdf, &store, std::time::SystemTime::now()) {
            Ok(report) => {
                all_ok &= report.passed();
                for line in report.human().lines() {
                    println!("   {line}");
                }
            }
            Err(e) => return fail(e),
        }
    }
    match no_proof_city(&home, &dir) {
        Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
        Err(e) => return fail(e),
    }
    println!("\nregion root (for pyHanko/pdfsig): {}", home.ca_cert("root").display());
    println!(
        "verify again: zhengyin verify --home {} {}",
        home.dir.display(),
        dir.join("business-licence.pdf").display()
    );
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The no-proof-city steps (docs/proofs.md) on the demo home: synthetic holder data, one proof
/// asked for a listed matter, one refused, and an annotated copy of the business licence.
fn no_proof_city(home: &Home, dir: &std::path::Path) -> zhengyin::Result<Vec<String>> {
    use zhengyin::proofs::{annotate, holders, proof};
    const SUBJECT: &str = "370902199001011235"; // synthetic (fixtures/holders)
    let csv = dir.join("rs-social-insurance.csv");
    std::fs::write(&csv, include_str!("../../fixtures/holders/rs-social-insurance.csv"))
        .map_err(zhengyin::error::io_at(&csv))?;
    let rows = holders::read_rows(&csv);
    let _ = std::fs::remove_file(&csv); // raw IDs stay only in the holders' own data
    let holders_db = holders::Holders::open(home)?;
    let n = holders_db.load(home, "rs", &rows?)?;
    let mut out = vec![format!(
        "\nno-proof city (无证明城市): loaded {n} synthetic social-insurance records for rs (by holder code)"
    )];
    let ask = |purpose| proof::Request {
        by: "xzsp",
        kind: "social-insurance",
        subject: SUBJECT,
        purpose,
        valid_days: 30,
    };
    // One archive handle for every step (sled allows one opener; reopening races its lock).
    let archive = zhengyin::proofs::open_archive(home)?;
    match proof::request_in(home, &archive, &holders_db, &ask("370900-XK-0001"))? {
        proof::Outcome::Answered(a) => {
            let pdf = dir.join("proof.pdf");
            zhengyin::licence::write_output(&pdf, &a.pdf)?;
            out.push(format!("   proof {} sealed by {}: {} → {}", a.jti, a.holder, a.answer, pdf.display()));
        }
        proof::Outcome::Refused { reason, .. } => out.push(format!("   unexpected refusal: {reason}")),
    }
    if let proof::Outcome::Refused { reason, record_id } =
        proof::request_in(home, &archive, &holders_db, &ask("370900-XX-9999"))?
    {
        out.push(format!("   refused and recorded ({record_id}): {reason}"));
    }
    let licence = dir.join("business-licence.pdf");
    let bytes = std::fs::read(&licence).map_err(zhengyin::error::io_at(&licence))?;
    let until = annotate::default_valid_until();
    let copy = annotate::annotate(home, &archive, &bytes, "xzsp", "370900-XK-0012", &until)?;
    let path = dir.join("business-licence-annotated.pdf");
    zhengyin::licence::write_output(&path, &copy.pdf)?;
    out.push(format!("   annotated copy (加注件) → {}\n   {}", path.display(), copy.note));
    Ok(out)
}
