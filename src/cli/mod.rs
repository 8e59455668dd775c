//! Command-line verbs, one file each; every verb is an args struct and a `run` that calls one
//! library function and maps the result to output and an exit code.

mod archive;
mod commit;
mod crl;
mod data;
mod demo;
mod foreign;
mod init;
mod issue;
mod issue_batch;
mod licence_use;
mod lifecycle;
mod pki;
mod progress;
mod proof;
mod province;
mod seal;
mod seal_external;
mod serve;
mod trust;
mod tsa;
mod verify;
mod verify_batch;
mod verify_status;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// zhengyin (证印): electronic licences and electronic seals for a city region.
#[derive(Parser)]
#[command(name = "zhengyin", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The home directory flag shared by every verb.
#[derive(clap::Args, Clone)]
pub struct HomeArg {
    /// Home directory (keys, certificates, templates) [default: $ZHENGYIN_HOME or ./zhengyin-home]
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
}

impl HomeArg {
    pub fn home(&self) -> zhengyin::config::Home {
        zhengyin::config::Home::resolve(self.home.clone())
    }
}

#[derive(Subcommand)]
enum Command {
    /// Create the region's CAs and department seal keys in a home directory
    Init(init::Args),
    /// Render a licence from a template and data, sealed by its department
    Issue(issue::Args),
    /// Verify the signatures of a PDF, or of many (exit 0 valid, 1 not valid, 2 unreadable)
    Verify(verify::Args),
    /// Joint seals: add the next department's seal to a sealed document
    #[command(subcommand)]
    Seal(seal::Command),
    /// The single-track archive: ingest, list, show, get, proofs
    #[command(subcommand)]
    Archive(archive::Command),
    /// DA/T 70 audit of the archive: authentic, intact, usable, secure (exit 0 clean, 1 problems)
    Audit(archive::AuditArgs),
    /// Export or manage trust anchors
    #[command(subcommand)]
    Trust(trust::Command),
    /// A province home: the signed list of its regions' trust lists (list of lists)
    #[command(subcommand)]
    Province(province::Command),
    /// Run the whole slice on a fresh temporary home: init, issue two sample licences, verify
    Demo(demo::Args),
    /// The HTTP service: issue, seal, verify, revoke, trust lists, archive (docs/api.md)
    Serve(serve::Args),
    /// API tokens for the HTTP service
    #[command(subcommand)]
    Token(serve::TokenCommand),
    /// Revoke a certificate by serial and re-sign its CA's CRL
    Revoke(serve::RevokeArgs),
    /// This region's CRLs: re-sign those due (`crl refresh`, for cron), show them
    #[command(subcommand)]
    Crl(crl::Command),
    /// Certificate lifecycle: renew a seal certificate, roll a CA over to a new key
    #[command(subcommand)]
    Pki(pki::Command),
    /// Departments' holder data for proofs on demand (docs/proofs.md)
    #[command(subcommand)]
    Data(data::Command),
    /// Proofs on demand: request (listed uses only), verify, list a subject's uses
    #[command(subcommand)]
    Proof(proof::Command),
    /// A sealed licence: annotated copies (加注件); change, renew, reissue, cancel, revoke, suspend, resume; status
    #[command(subcommand)]
    Licence(licence_use::Command),
    /// Licence status: publish the signed status list, check a status answer or list
    #[command(subcommand)]
    Status(lifecycle::StatusCommand),
    /// Notification-and-commitment (告知承诺): record a sealed commitment, or `commit check` them
    Commit(commit::Args),
    /// The time-stamping authority (RFC 3161): its ledger of issued tokens, offline replies, checks
    #[command(subcommand)]
    Tsa(tsa::Command),
}

/// Exit code for "could not run".
pub const EXIT_ERROR: u8 = 2;

/// Print an error on one line and return exit code 2.
pub fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("zhengyin: error: {e}");
    ExitCode::from(EXIT_ERROR)
}

/// Write a signed list (`trust list`, `province publish`) as pretty JSON to `output` and say so.
pub fn write_json<T: serde::Serialize>(
    what: &str,
    list: zhengyin::Result<T>,
    output: &std::path::Path,
) -> ExitCode {
    match list
        .and_then(|l| {
            serde_json::to_vec_pretty(&l)
                .map_err(|e| zhengyin::error::PkiError::TrustList(e.to_string()).into())
        })
        .and_then(|b| zhengyin::licence::write_output(output, &b))
    {
        Ok(()) => {
            println!("wrote {what} to {}", output.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Init(a) => init::run(a),
        Command::Issue(a) => issue::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Trust(c) => trust::run(c),
        Command::Province(c) => province::run(c),
        Command::Seal(c) => seal::run(c),
        Command::Archive(c) => archive::run(c),
        Command::Audit(a) => archive::audit(a),
        Command::Demo(a) => demo::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Token(c) => serve::token(c),
        Command::Revoke(a) => serve::revoke(a),
        Command::Crl(c) => crl::run(c),
        Command::Pki(c) => pki::run(c),
        Command::Data(c) => data::run(c),
        Command::Proof(c) => proof::run(c),
        Command::Licence(c) => licence_use::run(c),
        Command::Status(c) => lifecycle::status(c),
        Command::Commit(a) => commit::run(a),
        Command::Tsa(c) => tsa::run(c),
    }
}
