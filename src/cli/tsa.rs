//! `zhengyin tsa`: the home's time-stamping authority without a server — answer an RFC 3161
//! request file, verify a reply or token, and list (and check) the ledger of issued tokens.

use std::path::PathBuf;
use std::process::ExitCode;

use der::Encode;
use zhengyin::pki::tsa::{self, Tsa};
use zhengyin::trust::timestamp::{verify_token, Imprint};
use zhengyin::trust::TrustStore;

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Every token the TSA issued (serial, genTime, imprint, requester); checks the ledger's
    /// hash chain (exit 0 intact, 1 damaged)
    Log {
        #[command(flatten)]
        home: HomeArg,
        /// One JSON object per token instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Answer an RFC 3161 request file (`openssl ts -query` output) like POST /v1/tsa does
    Reply {
        #[command(flatten)]
        home: HomeArg,
        /// The TimeStampReq (DER)
        #[arg(long, value_name = "REQ.tsq")]
        query: PathBuf,
        /// Where to write the TimeStampResp (DER)
        #[arg(short = 'o', long = "output", value_name = "REPLY.tsr")]
        output: PathBuf,
    },
    /// Verify a reply or token over a file: signature, ESSCertIDv2, EKU, chain, imprint
    /// (exit 0 valid, 1 not valid)
    Verify {
        #[command(flatten)]
        home: HomeArg,
        /// The time-stamped file
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// Trust the root(s) in this PEM file instead of the home's
        #[arg(long, value_name = "ROOT.pem")]
        trust: Option<PathBuf>,
        /// A TimeStampResp or a bare TimeStampToken (DER)
        reply: PathBuf,
    },
}

pub fn run(c: Command) -> ExitCode {
    match c {
        Command::Log { home, json } => log(&home.home(), json),
        Command::Reply { home, query, output } => {
            let tsa = match Tsa::load(&home.home()) {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            let q = match read_small(&query) {
                Ok(q) => q,
                Err(e) => return fail(e),
            };
            let reply = tsa.respond(&q, "cli");
            if let Err(e) = std::fs::write(&output, &reply.der) {
                return fail(format!("cannot write {}: {e}", output.display()));
            }
            match reply.refusal {
                None => {
                    println!("granted: {}", output.display());
                    ExitCode::SUCCESS
                }
                Some(why) => {
                    println!("rejected ({why}): {}", output.display());
                    ExitCode::from(1)
                }
            }
        }
        Command::Verify { home, data, trust, reply } => verify(&home.home(), &data, trust, &reply),
    }
}

fn read_small(p: &PathBuf) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    if meta.len() > zhengyin::trust::timestamp::MAX_TOKEN as u64 {
        return Err(format!("{} is over {} bytes", p.display(), zhengyin::trust::timestamp::MAX_TOKEN));
    }
    std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
}

fn log(home: &zhengyin::config::Home, json: bool) -> ExitCode {
    let path = home.tsa_ledger();
    let entries = match tsa::ledger::read(&path) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("zhengyin: {e}");
            return ExitCode::from(1);
        }
    };
    for e in &entries {
        if json {
            match serde_json::to_string(e) {
                Ok(s) => println!("{s}"),
                Err(e) => return fail(e),
            }
        } else {
            println!("{:>16}  {}  {} {}  {}", e.serial, e.gen_time, e.hash, e.imprint, e.requester);
        }
    }
    if !json {
        println!("ledger intact: {} tokens ({})", entries.len(), path.display());
    }
    ExitCode::SUCCESS
}

fn verify(
    home: &zhengyin::config::Home,
    data: &PathBuf,
    trust: Option<PathBuf>,
    reply: &PathBuf,
) -> ExitCode {
    let store = match &trust {
        Some(p) => {
            let mut s = TrustStore::default();
            match s.add_pem(p) {
                Ok(()) => s,
                Err(e) => return fail(e),
            }
        }
        None => match TrustStore::from_home(home) {
            Ok(s) => s,
            Err(e) => return fail(e),
        },
    };
    let bytes = match read_small(reply) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    // A TimeStampResp carries the token; anything else is taken as the token itself.
    let token = match tsa::reply::decode(&bytes) {
        Ok(r) => match r.time_stamp_token.map(|t| t.to_der()) {
            Some(Ok(t)) => t,
            _ => {
                println!("not valid: the reply grants no token (status {:?})", r.status.status);
                return ExitCode::from(1);
            }
        },
        Err(_) => bytes,
    };
    let content = match std::fs::read(data) {
        Ok(c) => c,
        Err(e) => return fail(format!("cannot read {}: {e}", data.display())),
    };
    match verify_token(&token, Imprint::Data(&[&content]), &store, std::time::SystemTime::now()) {
        Ok(info) => {
            println!("valid: time-stamped {} by {}", info.gen_time_rfc3339, info.tsa_subject);
            println!("  serial {}  policy {}  {}", info.serial, info.policy, info.hash);
            println!("  chain  {}", info.chain.join(" → "));
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("not valid: {e}");
            ExitCode::from(1)
        }
    }
}
