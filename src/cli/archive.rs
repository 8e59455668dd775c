//! `zhengyin archive …` and `zhengyin audit`: the single-track archive for archivists.

use std::path::PathBuf;
use std::process::ExitCode;

use zhengyin::archive::Archive;
use zhengyin::filing;

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Verify and ingest a signed PDF, or every *.pdf in a directory (all verified first; filed in
    /// durable groups, each acknowledged on stdout as it reaches the disk)
    Ingest {
        #[command(flatten)]
        home: HomeArg,
        path: PathBuf,
    },
    /// Re-timestamp every current record whose newest document timestamp's root CRL or TSA key
    /// ends within DAYS days (PAdES B-LTA renewal): each becomes a new record that names the old one
    /// (`renews`); the old bytes stay and the log grows
    Renew {
        #[command(flatten)]
        home: HomeArg,
        /// Renew what ends within this many days
        #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(i64).range(0..=36500))]
        before: i64,
        /// Records per durable group (one TSA-ledger sync, one archive commit and flush each;
        /// its `renewed` lines are printed once it is on disk)
        #[arg(long, value_name = "N", default_value_t = zhengyin::lta::BATCH, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u64).range(1..=1_000_000), |n| usize::try_from(n).unwrap_or(zhengyin::lta::BATCH)))]
        batch: usize,
    },
    /// List records (id, leaf, date, licence status, identifier, title)
    List {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Show one record's metadata (JSON), with its licence status for a licence
    Show {
        #[command(flatten)]
        home: HomeArg,
        id: String,
    },
    /// Write a record's exact bytes to a file
    Get {
        #[command(flatten)]
        home: HomeArg,
        id: String,
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// Print the latest signed tree head (C2SP checkpoint) and its verifier key
    TreeHead {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Inclusion proof for a record against the latest signed tree head (JSON)
    Proof {
        #[command(flatten)]
        home: HomeArg,
        id: String,
    },
    /// Evidence record for a record (JSON, RFC 4998-style): its inclusion path and the earliest
    /// signed checkpoint with the log key's clock cosignature; proof of existence for `verify --evidence`
    Evidence {
        #[command(flatten)]
        home: HomeArg,
        id: String,
        /// Write the JSON here instead of standard output
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Consistency proof to the latest signed tree head (JSON): from OLD_SIZE, or from your own
    /// checkpoint (--from RECEIPT_OR_CHECKPOINT; exit 1 naming both roots when the log forked)
    Consistency {
        #[command(flatten)]
        home: HomeArg,
        #[arg(required_unless_present = "from", conflicts_with = "from")]
        old_size: Option<u64>,
        /// A receipt, proof JSON or signed checkpoint you kept: checked against the archive
        #[arg(long, value_name = "RECEIPT_OR_CHECKPOINT")]
        from: Option<PathBuf>,
    },
    /// Check a proof JSON file offline (checkpoint signature and Merkle path)
    CheckProof {
        file: PathBuf,
        /// The archive's verifier key (`name+hash+base64`, from `archive tree-head`); without it
        /// the key inside the file is used, which proves consistency but not who signed
        #[arg(long, value_name = "VKEY")]
        key: Option<String>,
    },
}

fn open(home: &HomeArg) -> Result<(zhengyin::config::Home, Archive), zhengyin::Error> {
    let h = home.home();
    let a = filing::open_archive(&h)?;
    Ok((h, a))
}

fn print_json(v: &impl serde::Serialize) -> ExitCode {
    match serde_json::to_string_pretty(v) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn run(c: Command) -> ExitCode {
    match c {
        Command::Ingest { home, path } => {
            let h = home.home();
            let files: Vec<PathBuf> = if path.is_dir() {
                let mut v: Vec<PathBuf> = match std::fs::read_dir(&path) {
                    Ok(d) => d
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().map(|x| x == "pdf").unwrap_or(false))
                        .collect(),
                    Err(e) => return fail(format!("cannot read {}: {e}", path.display())),
                };
                v.sort();
                v
            } else {
                vec![path.clone()]
            };
            let mut docs = Vec::new();
            for f in &files {
                match std::fs::read(f) {
                    Ok(b) => docs.push((f.display().to_string(), b)),
                    Err(e) => return fail(format!("cannot read {}: {e}", f.display())),
                }
            }
            let bar = super::progress::bar("ingest", docs.len());
            // Each durable group is acknowledged on stdout as soon as it is on disk.
            let mut ack = |filed: &[filing::Filed]| {
                use std::io::Write;
                bar.suspend(|| {
                    let mut out = std::io::stdout().lock();
                    for f in filed {
                        let _ = writeln!(
                            out,
                            "{} {} leaf {}{}",
                            f.record.id,
                            f.record.metadata.title,
                            f.record.leaf_index,
                            if f.new { "" } else { " (already archived)" }
                        );
                    }
                    let _ = out.flush();
                })
            };
            match filing::file_batch(
                &h,
                &docs,
                "external",
                &mut |done, total| super::progress::drive(&bar, done, total),
                &mut ack,
            ) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Command::Renew { home, before, batch } => match open(&home).and_then(|(h, a)| {
            let mut progress = super::progress::callback("renew");
            let mut filed = |pairs: &[(String, String)]| {
                for (old, new) in pairs {
                    println!("renewed {old} -> {new}");
                }
            };
            zhengyin::lta::renew(&h, &a, before, batch, &mut progress, &mut filed)
        }) {
            Ok(r) => {
                println!(
                    "{} of {} current records renewed; new timestamps valid until {}",
                    r.renewed.len(),
                    r.examined,
                    r.until
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::List { home } => match open(&home) {
            Ok((_, a)) => {
                let mut corrupt = 0;
                for r in a.list() {
                    match r {
                        Ok(r) => println!(
                            "{}  leaf {:>6}  {}  {:<10}  {}  {}",
                            r.id,
                            r.leaf_index,
                            r.metadata.issue_date,
                            zhengyin::licence::status::of_record(&a, &r).map_or("-", |v| v.word()),
                            r.metadata.identifier,
                            r.metadata.title
                        ),
                        Err(e) => {
                            corrupt += 1;
                            println!("(corrupt) {e}");
                        }
                    }
                }
                if corrupt > 0 {
                    eprintln!("zhengyin: {corrupt} corrupt record(s); run `zhengyin audit` for details");
                    return ExitCode::from(1);
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::Show { home, id } => match open(&home).and_then(|(_, a)| {
            let r = a.get(&id)?;
            let status = zhengyin::licence::status::of_record(&a, &r);
            Ok((r, status))
        }) {
            // The record as filed, and for a licence its version's status now.
            Ok((r, status)) => match serde_json::to_value(&r) {
                Ok(mut v) => {
                    if let (Some(st), Some(o)) = (status, v.as_object_mut()) {
                        o.insert("licence_status".into(), serde_json::to_value(st).unwrap_or_default());
                    }
                    print_json(&v)
                }
                Err(e) => fail(e),
            },
            Err(e) => fail(e),
        },
        Command::Get { home, id, output } => match open(&home)
            .and_then(|(_, a)| a.get(&id).and_then(|r| a.verified_bytes(&r)))
            .and_then(|b| zhengyin::licence::write_output(&output, &b))
        {
            Ok(()) => {
                println!("wrote {}", output.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::TreeHead { home } => match open(&home).and_then(|(h, a)| filing::tree_head(&h, &a)) {
            Ok((note, vkey)) => {
                print!("{note}");
                println!("\nverifier key: {vkey}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::Proof { home, id } => match open(&home).and_then(|(h, a)| filing::proof(&h, &a, &id)) {
            Ok(v) => print_json(&v),
            Err(e) => fail(e),
        },
        Command::Evidence { home, id, output } => {
            match open(&home).and_then(|(h, a)| filing::evidence(&h, &a, &id)) {
                Ok(ev) => match output {
                    Some(path) => match serde_json::to_string_pretty(&ev)
                        .map_err(|e| {
                            zhengyin::Error::from(zhengyin::error::ArchiveError::Store(e.to_string()))
                        })
                        .and_then(|j| zhengyin::licence::write_output(&path, j.as_bytes()))
                    {
                        Ok(()) => {
                            println!(
                                "wrote evidence record for {id} (existed at {}) to {}",
                                ev.time,
                                path.display()
                            );
                            ExitCode::SUCCESS
                        }
                        Err(e) => fail(e),
                    },
                    None => print_json(&ev),
                },
                Err(e) => fail(e),
            }
        }
        Command::Consistency { home, old_size: Some(old_size), from: None } => {
            match open(&home).and_then(|(h, a)| filing::consistency(&h, &a, old_size)) {
                Ok(v) => print_json(&v),
                Err(e) => fail(e),
            }
        }
        Command::Consistency { home, from, .. } => {
            let Some(file) = from else { return fail("give OLD_SIZE or --from RECEIPT_OR_CHECKPOINT") };
            let text = match std::fs::metadata(&file).map_err(|e| e.to_string()).and_then(|m| {
                if m.len() > zhengyin::consistency::MAX_INPUT as u64 {
                    Err(format!("over {} bytes", zhengyin::consistency::MAX_INPUT))
                } else {
                    std::fs::read_to_string(&file).map_err(|e| e.to_string())
                }
            }) {
                Ok(t) => t,
                Err(e) => return fail(format!("{}: {e}", file.display())),
            };
            match open(&home).and_then(|(h, a)| zhengyin::consistency::check_from(&h, &a, &text)) {
                Ok(v) => print_json(&v),
                Err(e @ zhengyin::Error::Archive(zhengyin::error::ArchiveError::Fork { .. })) => {
                    eprintln!("zhengyin: {e}");
                    ExitCode::from(1)
                }
                Err(e) => fail(e),
            }
        }
        Command::CheckProof { file, key } => {
            let v: serde_json::Value = match std::fs::read_to_string(&file)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            {
                Ok(v) => v,
                Err(e) => return fail(format!("{}: {e}", file.display())),
            };
            match filing::check_proof(&v, key.as_deref()) {
                Ok(msg) => {
                    println!("{msg}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("zhengyin: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

#[derive(clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    home: HomeArg,
    /// Print the JSON report
    #[arg(long)]
    json: bool,
    /// Re-verify the documents of about N records (fixity and the log are always checked in full)
    #[arg(long, value_name = "N")]
    sample: Option<usize>,
    /// Also write the DA/T 70 检测报告 as a PDF sealed by the archive's keeper, and file it in the archive
    #[arg(long, value_name = "OUT.pdf")]
    report: Option<PathBuf>,
}

pub fn audit(a: AuditArgs) -> ExitCode {
    let h = a.home.home();
    // One pass over the archive: a small page cache keeps the audit's memory flat as it grows.
    zhengyin::archive::set_cache_bytes(zhengyin::archive::ONE_PASS_CACHE_BYTES);
    if let Some(out) = &a.report {
        let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        if !dir.is_dir() {
            return fail(format!(
                "cannot write the report {}: no directory {}",
                out.display(),
                dir.display()
            ));
        }
    }
    let result = match &a.report {
        None => filing::run_audit(&h, a.sample, &mut super::progress::callback("audit")),
        Some(out) => filing::open_archive(&h).and_then(|archive| {
            let r = filing::run_audit_in(&h, &archive, a.sample, &mut super::progress::callback("audit"))?;
            let w = zhengyin::audit_report::write(&h, &archive, &r)?;
            zhengyin::licence::write_output(out, &w.pdf)?;
            eprintln!(
                "report {} {} (sealed by {}, archived {})",
                w.report_no,
                out.display(),
                zhengyin::audit_report::KEEPER,
                w.record
            );
            Ok(r)
        }),
    };
    match result {
        Ok(r) => {
            if a.json {
                let _ = print_json(&r);
            } else {
                println!(
                    "audited {} records ({} documents re-verified, {} bytes), log size {}",
                    r.records, r.checked, r.bytes_checked, r.log_size
                );
                for p in &r.problems {
                    println!("  PROBLEM {:<9} {:<24} {}", p.property, p.record, p.reason);
                }
                println!(
                    "{}",
                    if r.clean { "clean: authentic, intact, usable, secure" } else { "problems found" }
                );
            }
            if r.clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(e),
    }
}
