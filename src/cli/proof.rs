//! `zhengyin proof request|verify|uses`: proofs on demand from the holders' data (docs/proofs.md).

use std::path::PathBuf;
use std::process::ExitCode;

use zhengyin::proofs::proof::{self, Outcome, Request};

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Ask the holding department for a proof, for a listed matter (exit 2 when refused)
    Request {
        #[command(flatten)]
        home: HomeArg,
        /// The asking department
        #[arg(long, value_name = "DEPT")]
        by: String,
        /// Proof kind (fixtures/region/uses.toml), e.g. social-insurance
        #[arg(long)]
        kind: String,
        /// The subject's ID number or USCC (never stored; turned into a holder code)
        #[arg(long, value_name = "ID")]
        subject: String,
        /// The matter (事项 code) the proof is for
        #[arg(long, value_name = "MATTER")]
        purpose: String,
        /// Days the answer stays valid
        #[arg(long, default_value_t = 30)]
        valid_days: u32,
        /// Output PDF; the token is written next to it as OUT.jws
        #[arg(short = 'o', long = "output", value_name = "OUT.pdf")]
        output: PathBuf,
        /// Ask another region's server (跨区域核验) with the credential DEPT holds for it
        /// (`proof credential add`); the answer is checked against its imported trust list
        #[arg(long, value_name = "URL")]
        from_region: Option<String>,
    },
    /// Credentials other regions issued to this region's departments (跨区域核验)
    #[command(subcommand)]
    Credential(super::foreign::CredentialCommand),
    /// Verify a proof PDF or a JWS token file (exit 0 valid, 1 not valid, 2 unreadable)
    Verify {
        #[command(flatten)]
        home: HomeArg,
        /// A proof PDF, a file holding a JWS, or the JWS itself
        token_or_pdf: String,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
        /// Check as of this time instead of now (RFC 3339, or YYYY-MM-DD for midnight UTC)
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<std::time::SystemTime>,
    },
    /// List every use of a subject's data, from the archive log
    Uses {
        #[command(flatten)]
        home: HomeArg,
        /// The subject's ID number or USCC (turned into its holder code; never stored)
        #[arg(long, value_name = "ID")]
        subject: String,
        /// Print the list as JSON
        #[arg(long)]
        json: bool,
    },
}

/// The token file written next to a proof PDF.
pub fn token_path(pdf: &std::path::Path) -> PathBuf {
    pdf.with_extension("jws")
}

pub fn run(c: Command) -> ExitCode {
    match c {
        Command::Credential(c) => super::foreign::credential(c),
        Command::Request { home, by, kind, subject, purpose, valid_days, output, from_region: Some(url) } => {
            let req = zhengyin::proofs::foreign::RemoteRequest {
                kind: &kind,
                subject: &subject,
                purpose: &purpose,
                valid_days,
            };
            super::foreign::request(&home.home(), &url, &by, &req, &output)
        }
        Command::Request { home, by, kind, subject, purpose, valid_days, output, from_region: None } => {
            let home = home.home();
            let req = Request { by: &by, kind: &kind, subject: &subject, purpose: &purpose, valid_days };
            match proof::request(&home, &req) {
                Ok(Outcome::Refused { reason, record_id }) => {
                    eprintln!("zhengyin: refused: {reason} (recorded as {record_id})");
                    ExitCode::from(super::EXIT_ERROR)
                }
                Ok(Outcome::Answered(a)) => {
                    let r = zhengyin::licence::write_output(&output, &a.pdf).and_then(|_| {
                        zhengyin::licence::write_output(&token_path(&output), a.jws.as_bytes())
                    });
                    if let Err(e) = r {
                        return fail(e);
                    }
                    println!("proof {} by {}: {}", a.jti, a.holder, a.answer);
                    println!(
                        "pdf {} (archived {}), token {} (archived {}), use record {}",
                        output.display(),
                        a.pdf_record,
                        token_path(&output).display(),
                        a.token_record,
                        a.use_record
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Verify { home, token_or_pdf, json, at } => {
            let at = at.unwrap_or_else(std::time::SystemTime::now);
            let home = home.home();
            let trust = match zhengyin::trust::TrustStore::from_home(&home) {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            let path = PathBuf::from(&token_or_pdf);
            let bytes = if path.exists() {
                match std::fs::read(&path) {
                    Ok(b) => b,
                    Err(e) => return fail(format!("cannot read {}: {e}", path.display())),
                }
            } else {
                token_or_pdf.clone().into_bytes()
            };
            if bytes.starts_with(b"%PDF") {
                return match zhengyin::verify::verify(&bytes, &trust, at) {
                    Ok(report) => {
                        if json {
                            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
                        } else {
                            print!("{}", report.human());
                        }
                        // The document verdict, not the signature indication alone: a proof
                        // past its 有效期至 is intact but not valid (rule VALIDITY).
                        if report.verdict.result == zhengyin::verify::verdict::Outcome::Valid {
                            ExitCode::SUCCESS
                        } else {
                            ExitCode::from(1)
                        }
                    }
                    Err(e) => fail(e),
                };
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            match proof::verify_jws(&text, &trust, at) {
                Ok(c) => {
                    if json {
                        println!("{}", serde_json::to_string_pretty(&c).unwrap_or_default());
                    } else {
                        println!("{}: {}", if c.valid { "VALID" } else { "NOT VALID" }, c.signer);
                        for p in &c.problems {
                            println!("  problem: {p}");
                        }
                        println!("  chain: {}", c.chain.join(" → "));
                        println!(
                            "  revocation: {}",
                            serde_json::to_string(&c.revocation).unwrap_or_default()
                        );
                        println!("  claims: {}", c.claims);
                    }
                    if c.valid {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => fail(e),
            }
        }
        Command::Uses { home, subject, json } => {
            let home = home.home();
            let r = zhengyin::proofs::open_archive(&home).and_then(|a| proof::uses_of(&home, &a, &subject));
            match r {
                Ok(list) => {
                    if json {
                        println!("{}", serde_json::to_string_pretty(&list).unwrap_or_default());
                    } else {
                        println!("{} uses recorded", list.len());
                        for u in &list {
                            let g = |k: &str| u.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                            println!(
                                "{}  {:<12} by {:<8} kind {:<22} matter {:<16} {}",
                                g("at"),
                                g("type"),
                                g("by"),
                                g("kind"),
                                g("purpose"),
                                if g("type") == "use-refusal" {
                                    format!("refused: {}", g("reason"))
                                } else {
                                    format!("answer {}", g("answer_id"))
                                }
                            );
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

/// `--at`: RFC 3339, or a plain date (midnight UTC).
pub(super) fn parse_time(s: &str) -> Result<std::time::SystemTime, String> {
    let fmt = time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(s, &fmt)
        .or_else(|_| {
            time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                .map(|d| d.midnight().assume_utc())
        })
        .map_err(|_| format!("`{s}` is not a time (RFC 3339, e.g. 2026-12-31T08:00:00Z, or YYYY-MM-DD)"))?;
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| format!("`{s}` is before 1970"))?;
    Ok(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}
