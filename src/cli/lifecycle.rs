//! `zhengyin licence change|renew|reissue|cancel|revoke|suspend|resume|status`: the licence
//! lifecycle (licence/lifecycle.rs) and its status (licence/status.rs), and `zhengyin status
//! publish|answer|check` for the signed status list and answers.

use std::path::PathBuf;
use std::process::ExitCode;

use zhengyin::licence::status::Action;

use super::{fail, HomeArg};

/// The lifecycle verbs, flattened into `zhengyin licence`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// 变更: seal a new version with changed data (same identifier stem, next version); the old one becomes superseded
    Change(NewVersion),
    /// 延续: seal a new version with a new validity; the old one becomes superseded
    Renew(NewVersion),
    /// 补发/换发: seal the licence again as a new version; the old one becomes superseded
    Reissue(NewVersion),
    /// 注销: cancel the licence (no new version)
    Cancel(Ended),
    /// 吊销: revoke the licence (no new version); --by names the revoking department
    Revoke(Revoked),
    /// Suspend the licence (templates with `suspendable = true` only)
    Suspend(Ended),
    /// Resume a suspended licence
    Resume(Resumed),
    /// Show a licence's status from the archive (exit 0 in force, 1 not in force, 2 unknown)
    Status {
        #[command(flatten)]
        home: HomeArg,
        identifier: String,
        /// JSON output
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct NewVersion {
    #[command(flatten)]
    home: HomeArg,
    /// The licence's current identifier
    identifier: String,
    /// The new version's licence data (JSON object of field: value)
    #[arg(long, value_name = "FILE.json")]
    data: PathBuf,
    /// Acting department [default: the department that issued the licence]
    #[arg(long, value_name = "DEPT")]
    by: Option<String>,
    /// Why (kept in the log and in status answers)
    #[arg(long)]
    reason: Option<String>,
    /// Output PDF of the new version
    #[arg(short = 'o', long = "output", value_name = "OUT.pdf")]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct Ended {
    #[command(flatten)]
    home: HomeArg,
    identifier: String,
    /// Why (required; kept in the log and in status answers)
    #[arg(long)]
    reason: String,
    /// Acting department [default: the department that issued the licence]
    #[arg(long, value_name = "DEPT")]
    by: Option<String>,
}

#[derive(clap::Args)]
pub struct Revoked {
    #[command(flatten)]
    home: HomeArg,
    identifier: String,
    /// Why (required)
    #[arg(long)]
    reason: String,
    /// The revoking department (must be the issuing one, or one the authority table names)
    #[arg(long, value_name = "DEPT")]
    by: String,
}

#[derive(clap::Args)]
pub struct Resumed {
    #[command(flatten)]
    home: HomeArg,
    identifier: String,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long, value_name = "DEPT")]
    by: Option<String>,
}

pub fn run(c: Command) -> ExitCode {
    let (home, identifier, action, by, reason, data, output) = match c {
        Command::Status { home, identifier, json } => return show(&home.home(), &identifier, json),
        Command::Change(a) => {
            (a.home, a.identifier, Action::Change, a.by, a.reason, Some(a.data), Some(a.output))
        }
        Command::Renew(a) => {
            (a.home, a.identifier, Action::Renew, a.by, a.reason, Some(a.data), Some(a.output))
        }
        Command::Reissue(a) => {
            (a.home, a.identifier, Action::Reissue, a.by, a.reason, Some(a.data), Some(a.output))
        }
        Command::Cancel(a) => (a.home, a.identifier, Action::Cancel, a.by, Some(a.reason), None, None),
        Command::Suspend(a) => (a.home, a.identifier, Action::Suspend, a.by, Some(a.reason), None, None),
        Command::Revoke(a) => (a.home, a.identifier, Action::Revoke, Some(a.by), Some(a.reason), None, None),
        Command::Resume(a) => (a.home, a.identifier, Action::Resume, a.by, a.reason, None, None),
    };
    let home = home.home();
    // The new version is written only after the transition is filed: refuse an output that cannot
    // be written before anything is filed, or the user is left with a transition and no PDF.
    if let Some(Err(e)) = output.as_deref().map(zhengyin::licence::check_output) {
        return fail(e);
    }
    let data = match data.map(|p| zhengyin::licence::read_data(&p)).transpose() {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let archive = match zhengyin::filing::open_archive(&home) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let by = match by {
        Some(b) => b,
        None => match zhengyin::licence::status::entry(&archive, identifier.trim()) {
            Ok(Some(e)) => e.issuer_dept,
            Ok(None) => {
                return fail(zhengyin::error::StatusError::Unknown(identifier.chars().take(100).collect()))
            }
            Err(e) => return fail(e),
        },
    };
    let req = zhengyin::licence::lifecycle::Request {
        identifier: &identifier,
        action,
        by: &by,
        reason: reason.as_deref(),
        data: data.as_ref(),
    };
    let out = zhengyin::licence::lifecycle::transition(&home, &archive, &req).and_then(|o| {
        if let (Some(pdf), Some(path)) = (&o.new_pdf, &output) {
            zhengyin::licence::write_output(path, pdf)?;
        }
        // The home's published status list follows every transition.
        zhengyin::licence::status_list::publish(&home, &archive)?;
        Ok(o)
    });
    match out {
        Ok(o) => {
            let t = &o.transition;
            println!("{} {}: now {}", action.as_str(), t.identifier, t.state.as_str());
            if let (Some(n), Some(path)) = (&t.new_identifier, &output) {
                println!("  new version {n}");
                println!("  written     {}", path.display());
                if let Some(r) = &o.new_record {
                    println!("  archived    {r}");
                }
            }
            println!("  by          {}", t.by);
            if let Some(r) = &t.reason {
                println!("  reason      {r}");
            }
            println!("  logged      {} (log size {})", o.record, o.log_size);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn show(home: &zhengyin::config::Home, identifier: &str, json: bool) -> ExitCode {
    let r =
        zhengyin::filing::open_archive(home).and_then(|a| zhengyin::licence::status::current(&a, identifier));
    match r {
        Ok(Some(v)) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                println!("{} {} ({})", v.identifier, v.status.as_str(), v.status_zh);
                println!("  since    {}", v.time);
                if let Some(r) = &v.reason {
                    println!("  reason   {r}");
                }
                if v.current_version != v.identifier {
                    println!("  current  {} ({})", v.current_version, v.current_status.as_str());
                }
                if v.expired {
                    println!("  expired  validity ended {}", v.valid_until);
                }
            }
            ExitCode::from(if v.in_force { 0 } else { 1 })
        }
        Ok(None) => fail(zhengyin::error::StatusError::Unknown(identifier.chars().take(100).collect())),
        Err(e) => fail(e),
    }
}

/// `zhengyin status`: the signed status list and answers.
#[derive(clap::Subcommand)]
pub enum StatusCommand {
    /// Build and sign the home's status list (status/list.zsl), as GET /v1/status-list serves it
    Publish {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Check a signed status answer (JWS) or status list file against the home's trust anchors
    Check {
        #[command(flatten)]
        home: HomeArg,
        /// The answer (as GET /v1/status/{id} returns it) or a status list file
        file: PathBuf,
    },
}

pub fn status(c: StatusCommand) -> ExitCode {
    match c {
        StatusCommand::Publish { home } => {
            let home = home.home();
            match zhengyin::filing::open_archive(&home)
                .and_then(|a| zhengyin::licence::status_list::publish(&home, &a))
            {
                Ok((p, n)) => {
                    println!("published the status list {} ({n} bytes)", p.display());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        StatusCommand::Check { home, file } => {
            let home = home.home();
            let bytes = match std::fs::read(&file) {
                Ok(b) => b,
                Err(e) => return fail(format!("{}: {e}", file.display())),
            };
            let trust = match zhengyin::trust::TrustStore::from_home(&home) {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            if bytes.trim_ascii_end().contains(&b'\n') {
                return match zhengyin::licence::status_list::verify(&bytes, &trust, now) {
                    Ok(l) => {
                        println!(
                            "status list of {} OK: {} versions ({} not in force), covers until {}, next update {}",
                            l.claims.iss, l.claims.count, l.claims.not_in_force, l.claims.covers_until, l.claims.next_update
                        );
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(e),
                };
            }
            let text = String::from_utf8_lossy(&bytes);
            let token = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("answer").and_then(|a| a.as_str()).map(str::to_string))
                .unwrap_or_else(|| text.trim().to_string());
            match zhengyin::licence::answer::verify_answer(&token, &trust, now) {
                Ok(c) => {
                    println!(
                        "status answer OK: {} is {} (current version {}), produced {}, next update {}",
                        c.sub,
                        c.status,
                        c.current_version.as_deref().unwrap_or("-"),
                        c.produced_at,
                        c.next_update
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}
