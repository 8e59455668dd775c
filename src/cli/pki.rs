//! `zhengyin pki …`: certificate lifecycle of the region PKI (seal renewal, CA key rollover).

use std::process::ExitCode;

use super::{fail, HomeArg};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Renew a department's seal certificate with a new key; the old certificate and key are
    /// retired (kept, never overwritten): documents sealed before still verify, new seals use the
    /// new key
    RenewSeal {
        #[command(flatten)]
        home: HomeArg,
        /// Department id (region.toml)
        dept: String,
    },
    /// Roll a level CA (city, county) over to a new key: the parent certifies the new key under
    /// the same name; the old key is retired (kept) and keeps signing the CRL its certificates
    /// name; CAs below are re-certified and the CA's departments get new seal keys
    RollCa {
        #[command(flatten)]
        home: HomeArg,
        /// CA id (region.toml), not the region root (see `trust rotate-root`)
        ca: String,
    },
}

pub fn run(c: Command) -> ExitCode {
    match c {
        Command::RenewSeal { home, dept } => match zhengyin::pki::rollover::renew_seal(&home.home(), &dept) {
            Ok(r) => {
                println!(
                    "renewed the seal certificate of {}: serial {} → {}",
                    r.dept, r.old_serial, r.new_serial
                );
                println!("  retired certificate {}", r.retired_cert.display());
                println!("  retired key         {}", r.retired_key.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::RollCa { home, ca } => match zhengyin::pki::rollover::roll_ca(&home.home(), &ca) {
            Ok(r) => {
                println!("rolled CA {} over to a new key: serial {} → {}", r.ca, r.old_serial, r.new_serial);
                println!("  new key's CRL      /crl/{}.crl", r.new_crl);
                println!(
                    "  retired key's CRL  /crl/{}.crl (still signed: it covers what that key issued)",
                    r.old_crl
                );
                println!("  retired certificate {}", r.retired_cert.display());
                println!("  retired key         {}", r.retired_key.display());
                for c in &r.recertified {
                    println!("  re-certified CA {c} under the new key");
                }
                for s in &r.seals {
                    println!(
                        "  renewed the seal certificate of {}: serial {} → {}",
                        s.dept, s.old_serial, s.new_serial
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
    }
}
