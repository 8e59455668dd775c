//! `zhengyin commit` / `zhengyin commit check`: notification-and-commitment (告知承诺), recorded
//! as a PDF sealed by the handling department and checked later against the holders' data
//! (docs/proofs.md). The library side is `zhengyin::proofs::commitment`.

use std::path::PathBuf;
use std::process::ExitCode;

use zhengyin::proofs::commitment::{self, CheckReport, CommitOutcome, CommitRequest};

use super::{fail, HomeArg};

/// `commit` records a commitment; `commit check` checks the open ones.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    #[command(flatten)]
    record: RecordArgs,
}

#[derive(clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    home: HomeArg,
    /// The handling department: takes the commitment and seals it (must be listed for the matter)
    #[arg(long, value_name = "DEPT", required = true)]
    by: Option<String>,
    /// The applicant's ID number or USCC (never stored; turned into a holder code, shown masked)
    #[arg(long, value_name = "ID", required = true)]
    subject: Option<String>,
    /// The matter (事项 code) the commitment replaces a proof for, e.g. 370900-XK-0001
    #[arg(long, value_name = "MATTER", required = true)]
    matter: Option<String>,
    /// UTF-8 text file with the commitment statement (at most 200 characters)
    #[arg(long, value_name = "FILE", required = true)]
    statement: Option<PathBuf>,
    /// Days until the check against the holders' data is due
    #[arg(long, value_name = "N", default_value_t = 90)]
    check_days: u32,
    /// Also write the sealed commitment PDF here (it is always filed in the archive)
    #[arg(short = 'o', long = "output", value_name = "OUT.pdf")]
    output: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Check open commitments against the holders' data: kept, broken or unverifiable (exit 0 none broken, 1 some broken, 2 error)
    Check {
        #[command(flatten)]
        home: HomeArg,
        /// Check only this commitment (its number, CN…)
        #[arg(long, value_name = "ID")]
        id: Option<String>,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(a: Args) -> ExitCode {
    match a.command {
        Some(Sub::Check { home, id, json }) => check(&home, id.as_deref(), json),
        None => record(a.record),
    }
}

fn record(a: RecordArgs) -> ExitCode {
    let (Some(by), Some(subject), Some(matter), Some(statement)) = (a.by, a.subject, a.matter, a.statement)
    else {
        return fail("commit needs --by, --subject, --matter and --statement (or the `check` subcommand)");
    };
    let text = match std::fs::read(&statement) {
        Ok(b) => match String::from_utf8(b) {
            Ok(t) => t,
            Err(_) => return fail(format!("statement file {} is not UTF-8 text", statement.display())),
        },
        Err(e) => return fail(format!("cannot read statement file {}: {e}", statement.display())),
    };
    let home = a.home.home();
    let req = CommitRequest {
        by: &by,
        subject: &subject,
        matter: &matter,
        statement: &text,
        check_days: a.check_days,
    };
    match commitment::commit(&home, &req) {
        Ok(CommitOutcome::Refused { reason, record_id }) => {
            eprintln!("zhengyin: refused: {reason} (recorded as {record_id})");
            ExitCode::from(super::EXIT_ERROR)
        }
        Ok(CommitOutcome::Recorded(r)) => {
            if let Some(out) = &a.output {
                if let Err(e) = zhengyin::licence::write_output(out, &r.pdf) {
                    return fail(e);
                }
            }
            println!("recorded commitment {} by {by} for matter {matter}", r.id);
            println!("  subject    {}", r.subject_code);
            println!("  checks     {}", r.kinds.join(", "));
            println!("  check due  {}", r.check_due);
            println!("  archived   {} (terms {})", r.record, r.terms_record);
            if let Some(out) = &a.output {
                println!("  pdf        {}", out.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn check(home: &HomeArg, only: Option<&str>, json: bool) -> ExitCode {
    let home = home.home();
    let report = match commitment::check(&home, only) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print!("{}", table(&report));
    }
    if report.broken > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The readable report: one line per commitment checked, then the totals.
fn table(r: &CheckReport) -> String {
    let mut out = format!(
        "{:<18}  {:<16}  {:<8}  {:<18}  {:<12}  FINDING\n",
        "COMMITMENT", "MATTER", "BY", "SUBJECT", "RESULT"
    );
    for c in &r.commitments {
        let finding = c
            .findings
            .iter()
            .filter(|f| f.outcome != "match" || c.status == "kept")
            .map(|f| {
                format!(
                    "{} {} expected {}, found {}",
                    f.kind,
                    f.field,
                    f.expect,
                    f.found.as_deref().unwrap_or("no record")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        out.push_str(&format!(
            "{:<18}  {:<16}  {:<8}  {:<18}  {:<12}  {finding}\n",
            c.id,
            c.matter,
            c.by,
            c.subject_masked,
            c.status.to_uppercase()
        ));
    }
    for n in &r.not_due {
        out.push_str(&format!(
            "{:<18}  {:<16}  {:<8}  {:<18}  {:<12}  check due {}\n",
            n.id, n.matter, "", "", "NOT DUE", n.check_due
        ));
    }
    out.push_str(&format!(
        "checked {} at {}: {} kept, {} broken, {} unverifiable; {} decided earlier (not re-checked); {} not yet due\n",
        r.commitments.len(),
        r.checked_at,
        r.kept,
        r.broken,
        r.unverifiable,
        r.already_decided,
        r.not_due.len()
    ));
    out
}
