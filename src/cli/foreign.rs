//! `zhengyin proof request --from-region URL …` and `zhengyin proof credential add|list`: the
//! asking side of cross-region proofs (跨区域核验, docs/proofs.md). The work is
//! `zhengyin::proofs::foreign`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zhengyin::config::Home;
use zhengyin::proofs::foreign::{self, Credential, RemoteOutcome, RemoteRequest};

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum CredentialCommand {
    /// Store the credential region REGION (at URL) issued to DEPT (file 0600)
    Add {
        #[command(flatten)]
        home: HomeArg,
        /// The other region's id (as in its trust list)
        #[arg(long)]
        region: String,
        /// The other region's server, e.g. https://zhengyin.taian.example
        #[arg(long, value_name = "URL")]
        url: String,
        /// This region's department the credential was issued to
        #[arg(long, value_name = "DEPT")]
        dept: String,
        /// File holding the token (`-` for standard input); never given on the command line
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
    },
}

pub fn credential(c: CredentialCommand) -> ExitCode {
    match c {
        CredentialCommand::Add { home, region, url, dept, token_file } => {
            let mut token = String::new();
            let read = if token_file.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut token).map(|_| ())
            } else {
                std::fs::read_to_string(&token_file).map(|t| token = t)
            };
            if let Err(e) = read {
                return fail(format!("cannot read {}: {e}", token_file.display()));
            }
            let token = token.trim().to_string();
            if token.is_empty() || token.contains(char::is_whitespace) {
                return fail(format!("{} does not hold one token", token_file.display()));
            }
            let cred = Credential { region: region.clone(), url: url.clone(), dept: dept.clone(), token };
            match foreign::add_credential(&home.home(), cred) {
                Ok(()) => {
                    println!("stored the credential of {dept} for region {region} ({url})");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

/// Ask the region at `url` for a proof for department `by`; write OUT.pdf and OUT.jws.
pub fn request(home: &Home, url: &str, by: &str, req: &RemoteRequest<'_>, output: &Path) -> ExitCode {
    let run = || -> zhengyin::error::Result<RemoteOutcome> {
        let cred = foreign::credential_for(home, url, by)?;
        let trust = zhengyin::trust::TrustStore::from_home(home)?;
        let archive = zhengyin::proofs::open_archive(home)?;
        foreign::request_remote(home, &archive, &trust, &cred, req)
    };
    match run() {
        Ok(RemoteOutcome::Refused { reason, record_id, remote_record }) => {
            eprintln!(
                "zhengyin: refused by the other region: {reason} (recorded as {record_id}; there as {remote_record})"
            );
            ExitCode::from(super::EXIT_ERROR)
        }
        Ok(RemoteOutcome::Answered(a)) => {
            let jws = super::proof::token_path(output);
            let r = zhengyin::licence::write_output(output, &a.pdf)
                .and_then(|_| zhengyin::licence::write_output(&jws, a.jws.as_bytes()));
            if let Err(e) = r {
                return fail(e);
            }
            println!("proof {} by {} of region {}: {}", a.jti, a.holder, a.region, a.answer);
            println!(
                "pdf {} (archived {}), token {} (archived {}), use record {} (there {})",
                output.display(),
                a.pdf_record,
                jws.display(),
                a.token_record,
                a.use_record,
                a.remote_use_record
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
